"""Writes the emulator_request seeds: valid signed HTTP/1.1 requests (ACS3, V2, TC3) for the
emulator's default credentials at the harness's fixed clock, 2024-01-01T00:00:00Z. Each file is
the mode byte 0 followed by the raw request. Run from fuzz/: python3 seeds/gen_http_seeds.py"""
import base64, hashlib, hmac, json

ID, SECRET, HOST = "sshkey-emulator-id", "sshkey-emulator-secret", "127.0.0.1:8080"
DATE, TS = "2024-01-01T00:00:00Z", 1704067200
PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl fuzz"

def pe(s):
    return "".join(c if (c.isascii() and (c.isalnum() or c in "-_.~")) else "".join(f"%{b:02X}" for b in c.encode()) for c in s)

def cq(pairs):
    return "&".join(f"{k}={v}" for k, v in sorted((pe(k), pe(v)) for k, v in pairs))

def sha(b):
    return hashlib.sha256(b).hexdigest()

def http(method, target, headers, body=b""):
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    if body:
        head += f"content-length: {len(body)}\r\n"
    return b"\x00" + head.encode() + b"\r\n" + body

def acs3(action, version, params, nonce):
    body = b""
    h = {"host": HOST, "x-acs-action": action, "x-acs-content-sha256": sha(body),
         "x-acs-date": DATE, "x-acs-signature-nonce": nonce, "x-acs-version": version}
    names = sorted(h)
    canonical = "\n".join(["POST", "/", cq(params), "".join(f"{n}:{h[n]}\n" for n in names), ";".join(names), sha(body)])
    sts = "ACS3-HMAC-SHA256\n" + sha(canonical.encode())
    sig = hmac.new(SECRET.encode(), sts.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = f"ACS3-HMAC-SHA256 Credential={ID},SignedHeaders={';'.join(names)},Signature={sig}"
    query = "&".join(f"{pe(k)}={pe(v)}" for k, v in params)
    return http("POST", f"/?{query}", list(h.items()), body)

def v2(action, params, nonce):
    p = params + [("Action", action), ("Version", "2014-05-26"), ("AccessKeyId", ID), ("Format", "JSON"),
                  ("SignatureMethod", "HMAC-SHA1"), ("SignatureVersion", "1.0"),
                  ("SignatureNonce", nonce), ("Timestamp", DATE)]
    sts = "POST&%2F&" + pe(cq(p))
    sig = base64.b64encode(hmac.new((SECRET + "&").encode(), sts.encode(), hashlib.sha1).digest()).decode()
    p.append(("Signature", sig))
    body = "&".join(f"{pe(k)}={pe(v)}" for k, v in p).encode()
    return http("POST", "/", [("host", HOST), ("content-type", "application/x-www-form-urlencoded")], body)

def tc3(action, payload):
    body = json.dumps(payload, separators=(",", ":")).encode()
    ct = "application/json; charset=utf-8"
    canonical = "\n".join(["POST", "/", "", f"content-type:{ct}\nhost:{HOST}\n", "content-type;host", sha(body)])
    date = "2024-01-01"
    sts = f"TC3-HMAC-SHA256\n{TS}\n{date}/cvm/tc3_request\n{sha(canonical.encode())}"
    k = hmac.new(("TC3" + SECRET).encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, b"cvm", hashlib.sha256).digest()
    k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    auth = f"TC3-HMAC-SHA256 Credential={ID}/{date}/cvm/tc3_request, SignedHeaders=content-type;host, Signature={sig}"
    return http("POST", "/", [("authorization", auth), ("content-type", ct), ("host", HOST),
                              ("x-tc-action", action), ("x-tc-version", "2017-03-12"),
                              ("x-tc-timestamp", str(TS)), ("x-tc-region", "ap-guangzhou")], body)

seeds = {
    "acs3_ecs_create": acs3("CreateKeyPair", "2014-05-26", [("RegionId", "cn-hangzhou"), ("KeyPairName", "k1")], "n1"),
    "acs3_ecs_import": acs3("ImportKeyPair", "2014-05-26", [("RegionId", "cn-hangzhou"), ("KeyPairName", "k2"), ("PublicKeyBody", PUB)], "n2"),
    "acs3_ecs_delete": acs3("DeleteKeyPairs", "2014-05-26", [("RegionId", "cn-hangzhou"), ("KeyPairNames", '["k1","k2"]')], "n3"),
    "acs3_ens_describe": acs3("DescribeKeyPairs", "2017-11-10", [("KeyPairName", "k*"), ("PageNumber", "1"), ("PageSize", "50")], "n4"),
    "acs3_ecs_attach": acs3("AttachKeyPair", "2014-05-26", [("RegionId", "cn-hangzhou"), ("KeyPairName", "k1"), ("InstanceIds", '["i-linux"]')], "n5"),
    "v2_ecs_describe": v2("DescribeKeyPairs", [("RegionId", "cn-hangzhou"), ("KeyPairName", "k1")], "n6"),
    "v2_ecs_detach": v2("DetachKeyPair", [("RegionId", "cn-hangzhou"), ("KeyPairName", "k1"), ("InstanceIds.1", "i-linux")], "n7"),
    "tc3_cvm_create": tc3("CreateKeyPair", {"KeyName": "k1", "ProjectId": 0}),
    "tc3_cvm_associate": tc3("AssociateInstancesKeyPairs", {"InstanceIds": ["ins-00000001"], "KeyIds": ["skey-00000001"], "ForceStop": True}),
    "tc3_cvm_describe": tc3("DescribeKeyPairs", {"Filters": [{"Name": "key-name", "Values": ["k1"]}], "Limit": 100}),
}
for name, data in seeds.items():
    open(f"seeds/emulator_request/{name}", "wb").write(data)
