#!/usr/bin/env python3
"""Drive the sshkey emulator with the official cloud SDKs from PyPI.

Starts the emulator binary named by $SSHKEY_EMULATOR_BIN on 127.0.0.1:0, then for each SDK
(Alibaba ECS and ENS with ACS3 signatures, legacy aliyun-python-sdk-ecs with V2 signatures,
Tencent CVM with TC3) creates, describes, attaches, detaches and deletes key pairs, checks the
results through the SDK and the emulator's admin API, and checks that a wrong secret is
rejected. Exits non-zero on the first failure.
"""

import json
import os
import subprocess
import sys
import urllib.request

AK_ID = "sshkey-emulator-id"
AK_SECRET = "sshkey-emulator-secret"


class Emulator:
    def __init__(self, binary):
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError(f"unexpected first line from emulator: {line!r}")
        self.addr = line[len(prefix):]
        self.host, port = self.addr.rsplit(":", 1)
        self.port = int(port)

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://{self.addr}/_emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok: {what}")


def check_private_key(private_text, public_line, armour, what):
    """The private key a create returns loads in Python `cryptography` (as OpenSSL 3 and
    ssh-keygen would load it), is RSA, and derives the public key the cloud stores."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    check(private_text.startswith(f"-----BEGIN {armour}-----"), f"{what}: {armour} armour")
    data = private_text.encode()
    if armour == "OPENSSH PRIVATE KEY":
        key = serialization.load_ssh_private_key(data, password=None)
    else:
        key = serialization.load_pem_private_key(data, password=None)
    check(isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048, f"{what}: an RSA 2048 key")
    derived = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                            serialization.PublicFormat.OpenSSH).decode()
    check(derived.split()[:2] == public_line.split()[:2], f"{what}: derives the stored public key")


def expect_error(fn, code_part, what):
    """Expects fn to raise an SDK error whose text contains code_part (or one of a tuple)."""
    parts = code_part if isinstance(code_part, tuple) else (code_part,)
    try:
        fn()
    except Exception as e:  # SDKs raise their own exception types
        text = f"{getattr(e, 'code', '')} {getattr(e, 'error_code', '')} {getattr(e, 'message', '')} {e}"
        check(any(p in text for p in parts), f"{what} ({' or '.join(parts)})")
        return
    raise AssertionError(f"{what}: no error raised")


def keys_of(emu, cloud, region):
    state = emu.admin("GET", "state")
    return state.get(cloud, {}).get(region, {"keys": [], "instances": []})


def test_ecs(emu):
    print("ECS (alibabacloud-ecs20140526, ACS3)")
    from alibabacloud_ecs20140526 import models as m
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import models as om

    def client(secret):
        return Client(om.Config(access_key_id=AK_ID, access_key_secret=secret,
                                endpoint=emu.addr, protocol="http", region_id="cn-hangzhou"))

    region = "cn-hangzhou"
    emu.admin("POST", "instances", {"cloud": "ecs", "region": region, "instances": [
        {"id": "i-ecs1", "os": "linux", "status": "Running"},
        {"id": "i-ecs2", "os": "linux", "status": "Running"}]})
    c = client(AK_SECRET)
    created = c.create_key_pair(m.CreateKeyPairRequest(region_id=region, key_pair_name="sdk-ecs-a")).body
    check(created.key_pair_name == "sdk-ecs-a", "create returns the name")
    check(created.private_key_body.startswith("-----BEGIN"), "create returns a private key")
    pub = keys_of(emu, "ecs", region)["keys"][0]["public_key"]
    check_private_key(created.private_key_body, pub, "RSA PRIVATE KEY", "ecs private key")
    imported = c.import_key_pair(m.ImportKeyPairRequest(region_id=region, key_pair_name="sdk-ecs-b",
                                                        public_key_body=pub + " comment")).body
    check(imported.key_pair_finger_print == created.key_pair_finger_print, "import fingerprint matches")
    listed = c.describe_key_pairs(m.DescribeKeyPairsRequest(region_id=region, page_size=50)).body
    names = sorted(k.key_pair_name for k in listed.key_pairs.key_pair)
    check(names == ["sdk-ecs-a", "sdk-ecs-b"] and listed.total_count == 2, "describe lists both")
    att = c.attach_key_pair(m.AttachKeyPairRequest(region_id=region, key_pair_name="sdk-ecs-a",
                                                   instance_ids=json.dumps(["i-ecs1", "i-ecs2"]))).body
    check(att.total_count == "2" and att.fail_count == "0", "attach reports 2 of 2 (strings)")
    check(all(r.success == "true" for r in att.results.result), "attach results succeed")
    inst = c.describe_instances(m.DescribeInstancesRequest(region_id=region,
                                                           instance_ids=json.dumps(["i-ecs1"]))).body
    check(inst.instances.instance[0].key_pair_name == "sdk-ecs-a", "instance shows key name")
    expect_error(lambda: c.delete_key_pairs(m.DeleteKeyPairsRequest(
        region_id=region, key_pair_names=json.dumps(["sdk-ecs-a"]))),
        "KeypairAlreadyAttachedInstance", "bound key delete rejected")
    det = c.detach_key_pair(m.DetachKeyPairRequest(region_id=region, key_pair_name="sdk-ecs-a",
                                                   instance_ids=json.dumps(["i-ecs1", "i-ecs2"]))).body
    check(det.fail_count == "0", "detach succeeds")
    c.reboot_instance(m.RebootInstanceRequest(instance_id="i-ecs1"))
    c.delete_key_pairs(m.DeleteKeyPairsRequest(region_id=region,
                                               key_pair_names=json.dumps(["sdk-ecs-a", "sdk-ecs-b"])))
    check(keys_of(emu, "ecs", region)["keys"] == [], "delete removed both")
    expect_error(lambda: client("wrong").describe_key_pairs(m.DescribeKeyPairsRequest(region_id=region)),
                 "SignatureDoesNotMatch", "wrong secret rejected")


def test_ens(emu):
    print("ENS (alibabacloud-ens20171110, ACS3)")
    from alibabacloud_ens20171110 import models as m
    from alibabacloud_ens20171110.client import Client
    from alibabacloud_tea_openapi import models as om

    def client(secret):
        return Client(om.Config(access_key_id=AK_ID, access_key_secret=secret,
                                endpoint=emu.addr, protocol="http"))

    emu.admin("POST", "instances", {"cloud": "ens", "region": "cn-beijing-telecom", "instances": [
        {"id": "i-ens1", "os": "linux", "status": "Stopped"},
        {"id": "i-ens2", "os": "linux", "status": "Running"}]})
    c = client(AK_SECRET)
    created = c.create_key_pair(m.CreateKeyPairRequest(key_pair_name="sdk-ens-a")).body
    check(created.key_pair_id.startswith("ssh-"), "create returns an ssh- id")
    ens_pub = [k for k in keys_of(emu, "ens", "global")["keys"] if k["name"] == "sdk-ens-a"][0]["public_key"]
    check_private_key(created.private_key_body, ens_pub, "PRIVATE KEY", "ens private key")
    listed = c.describe_key_pairs(m.DescribeKeyPairsRequest(key_pair_name="sdk-ens-a")).body
    check(listed.total_count == 1 and listed.key_pairs.key_pair[0].key_pair_id == created.key_pair_id,
          "describe finds it by name")
    att = c.attach_key_pair(m.AttachKeyPairRequest(key_pair_name="sdk-ens-a",
                                                   instance_ids=["i-ens1", "i-ens2"])).body
    check(att.total_count == 2 and att.fail_count == 1, "attach: stopped ok, running refused (integers)")
    by_id = {r.instance_id: r for r in att.results}
    check(by_id["i-ens1"].success is True and by_id["i-ens2"].success is False, "per-instance results")
    inst = c.describe_instances(m.DescribeInstancesRequest(instance_ids=json.dumps(["i-ens1"]))).body
    check(inst.instances.instance[0].key_pair_name == "sdk-ens-a", "instance shows key name")
    det = c.detach_key_pair(m.DetachKeyPairRequest(key_pair_name="sdk-ens-a", instance_ids=["i-ens1"])).body
    check(det.fail_count == 0, "detach succeeds")
    c.delete_key_pairs(m.DeleteKeyPairsRequest(key_pair_id=created.key_pair_id))
    listed = c.describe_key_pairs(m.DescribeKeyPairsRequest()).body
    check(listed.total_count == 0, "delete removed it")
    expect_error(lambda: client("wrong").describe_key_pairs(m.DescribeKeyPairsRequest()),
                 "SignatureDoesNotMatch", "wrong secret rejected")


def test_ecs_legacy(emu):
    print("ECS (aliyun-python-sdk-ecs, V2 HMAC-SHA1)")
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkecs.request.v20140526 import (AttachKeyPairRequest, CreateKeyPairRequest,
                                                DeleteKeyPairsRequest, DescribeKeyPairsRequest,
                                                DetachKeyPairRequest)

    region = "cn-shanghai"
    emu.admin("POST", "instances", {"cloud": "ecs", "region": region, "instances": [
        {"id": "i-leg1", "os": "linux", "status": "Running"}]})

    def call(client, req):
        req.set_endpoint(emu.addr)
        req.set_protocol_type("http")
        return json.loads(client.do_action_with_exception(req))

    c = AcsClient(AK_ID, AK_SECRET, region)
    r = CreateKeyPairRequest.CreateKeyPairRequest()
    r.set_KeyPairName("sdk-legacy-a")
    check(call(c, r)["KeyPairName"] == "sdk-legacy-a", "create")
    r = DescribeKeyPairsRequest.DescribeKeyPairsRequest()
    r.set_KeyPairName("sdk-legacy-*")
    check(call(c, r)["TotalCount"] == 1, "describe with wildcard")
    r = AttachKeyPairRequest.AttachKeyPairRequest()
    r.set_KeyPairName("sdk-legacy-a")
    r.set_InstanceIds(json.dumps(["i-leg1"]))
    check(call(c, r)["FailCount"] == "0", "attach")
    r = DetachKeyPairRequest.DetachKeyPairRequest()
    r.set_KeyPairName("sdk-legacy-a")
    r.set_InstanceIds(json.dumps(["i-leg1"]))
    check(call(c, r)["FailCount"] == "0", "detach")
    r = DeleteKeyPairsRequest.DeleteKeyPairsRequest()
    r.set_KeyPairNames(json.dumps(["sdk-legacy-a"]))
    call(c, r)
    check(keys_of(emu, "ecs", region)["keys"] == [], "delete")
    bad = AcsClient(AK_ID, "wrong", region)
    # The legacy SDK compares our string to sign with its own and, when equal, reports a wrong
    # secret itself.
    expect_error(lambda: call(bad, DescribeKeyPairsRequest.DescribeKeyPairsRequest()),
                 ("InvalidAccessKeySecret", "SignatureDoesNotMatch"), "wrong secret rejected")


def test_cvm(emu):
    print("CVM (tencentcloud-sdk-python-cvm, TC3)")
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client, models as m

    region = "ap-guangzhou"

    def client(secret):
        hp = HttpProfile(protocol="http", endpoint=emu.addr)
        return cvm_client.CvmClient(credential.Credential(AK_ID, secret), region,
                                    ClientProfile(httpProfile=hp))

    def req(cls, **fields):
        r = cls()
        r.from_json_string(json.dumps(fields))
        return r

    emu.admin("POST", "instances", {"cloud": "cvm", "region": region, "instances": [
        {"id": "ins-sdk00001", "os": "linux", "status": "Running"},
        {"id": "ins-sdk00002", "os": "linux", "status": "Stopped"}]})
    c = client(AK_SECRET)
    a = c.CreateKeyPair(req(m.CreateKeyPairRequest, KeyName="sdk_cvm_a", ProjectId=0)).KeyPair
    check(a.KeyId.startswith("skey-") and a.PrivateKey.startswith("-----BEGIN"), "create")
    check_private_key(a.PrivateKey, a.PublicKey, "OPENSSH PRIVATE KEY", "cvm private key")
    b = c.ImportKeyPair(req(m.ImportKeyPairRequest, KeyName="sdk_cvm_b", ProjectId=0,
                            PublicKey=a.PublicKey)).KeyId
    listed = c.DescribeKeyPairs(req(m.DescribeKeyPairsRequest, KeyIds=[a.KeyId, b]))
    check(listed.TotalCount == 2, "describe by ids")
    c.AssociateInstancesKeyPairs(req(m.AssociateInstancesKeyPairsRequest,
                                     InstanceIds=["ins-sdk00001", "ins-sdk00002"],
                                     KeyIds=[a.KeyId], ForceStop=True))
    inst = c.DescribeInstances(req(m.DescribeInstancesRequest, InstanceIds=["ins-sdk00001"]))
    check(inst.InstanceSet[0].LoginSettings.KeyIds == [a.KeyId], "instance lists key id")
    listed = c.DescribeKeyPairs(req(m.DescribeKeyPairsRequest,
                                    Filters=[{"Name": "key-name", "Values": ["sdk_cvm_a"]}]))
    check(sorted(listed.KeyPairSet[0].AssociatedInstanceIds) == ["ins-sdk00001", "ins-sdk00002"],
          "key lists associated instances")
    # Bound keys are silently kept; the call still succeeds.
    c.DeleteKeyPairs(req(m.DeleteKeyPairsRequest, KeyIds=[a.KeyId, b]))
    remaining = [k["id"] for k in keys_of(emu, "cvm", region)["keys"]]
    check(remaining == [a.KeyId], "bound key kept, unbound deleted")
    c.DisassociateInstancesKeyPairs(req(m.DisassociateInstancesKeyPairsRequest,
                                        InstanceIds=["ins-sdk00001", "ins-sdk00002"],
                                        KeyIds=[a.KeyId], ForceStop=True))
    c.DeleteKeyPairs(req(m.DeleteKeyPairsRequest, KeyIds=[a.KeyId]))
    check(keys_of(emu, "cvm", region)["keys"] == [], "delete after disassociate")
    expect_error(lambda: client("wrong").DescribeKeyPairs(m.DescribeKeyPairsRequest()),
                 "AuthFailure.SignatureFailure", "wrong secret rejected")


def main():
    binary = os.environ.get("SSHKEY_EMULATOR_BIN")
    if not binary:
        print("SSHKEY_EMULATOR_BIN is not set", file=sys.stderr)
        return 2
    emu = Emulator(binary)
    try:
        for test in (test_ecs, test_ens, test_ecs_legacy, test_cvm):
            test(emu)
        calls = emu.admin("GET", "calls")
        clouds = {c["cloud"] for c in calls}
        check(clouds == {"ecs", "ens", "cvm"}, "admin call log saw all three clouds")
    except Exception as e:
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        emu.stop()
    print("all official SDK checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
