//! ECS (2014-05-26) through our ACS3 signer: every operation, limit and error code.

mod support;

use serde_json::json;
use sshkey::emulator::{BoundDelete, EmulatorConfig};
use support::api::*;
use support::clouds::ECS;

const R: &str = ECS.region;

async fn create(emu: &sshkey::emulator::RunningEmulator, name: &str) -> Answer {
    ecs(
        emu,
        "CreateKeyPair",
        &[("RegionId", R), ("KeyPairName", name)],
    )
    .await
}

#[tokio::test]
async fn create_import_describe() {
    let emu = start().await;
    let a = create(&emu, "key-a").await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["KeyPairName"], "key-a");
    assert!(a.body["PrivateKeyBody"]
        .as_str()
        .unwrap()
        .contains("PRIVATE KEY"));
    assert!(a.body["RequestId"].is_string());
    let fp = a.body["KeyPairFingerPrint"].as_str().unwrap().to_string();
    assert_eq!(fp.len(), 47);

    let dup = create(&emu, "key-a").await;
    assert_eq!(
        (dup.status, dup.code()),
        (400, Some("KeyPair.AlreadyExist"))
    );

    let state = admin_get(&emu, "state").await;
    let public = state["ecs"][R]["keys"][0]["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let imp = ecs(
        &emu,
        "ImportKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "key-b"),
            ("PublicKeyBody", &public),
        ],
    )
    .await;
    assert_eq!(imp.status, 200);
    assert_eq!(imp.body["KeyPairFingerPrint"], fp.as_str());
    assert!(imp.body.get("PrivateKeyBody").is_none());

    let bad = ecs(
        &emu,
        "ImportKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "key-c"),
            ("PublicKeyBody", "ssh-rsa nope"),
        ],
    )
    .await;
    assert_eq!(bad.code(), Some("InvalidPublicKeyBody.Malformed"));

    let list = ecs(&emu, "DescribeKeyPairs", &[("RegionId", R)]).await;
    assert_eq!(list.body["TotalCount"], 2);
    assert_eq!(list.body["PageNumber"], 1);
    assert_eq!(list.body["PageSize"], 10);
    let first = &list.body["KeyPairs"]["KeyPair"][0];
    assert_eq!(first["KeyPairName"], "key-a");
    assert!(
        first.get("PublicKey").is_none(),
        "the public key is listed only on request: {first}"
    );
    let with_keys = ecs(
        &emu,
        "DescribeKeyPairs",
        &[("RegionId", R), ("IncludePublicKey", "true")],
    )
    .await;
    assert_eq!(
        with_keys.body["KeyPairs"]["KeyPair"][1]["PublicKey"],
        public.as_str()
    );
    let bad_flag = ecs(
        &emu,
        "DescribeKeyPairs",
        &[("RegionId", R), ("IncludePublicKey", "yes")],
    )
    .await;
    assert_eq!(
        (bad_flag.status, bad_flag.code()),
        (400, Some("InvalidParameter"))
    );
    assert!(first["CreationTime"].as_str().unwrap().ends_with('Z'));
    assert!(first["Tags"]["Tag"].is_array());
    assert!(first.get("ResourceGroupId").is_some());

    let filtered = ecs(
        &emu,
        "DescribeKeyPairs",
        &[("RegionId", R), ("KeyPairName", "key-b")],
    )
    .await;
    assert_eq!(filtered.body["TotalCount"], 1);
    let wildcard = ecs(
        &emu,
        "DescribeKeyPairs",
        &[("RegionId", R), ("KeyPairName", "key-*")],
    )
    .await;
    assert_eq!(wildcard.body["TotalCount"], 2);
    let page = ecs(
        &emu,
        "DescribeKeyPairs",
        &[("RegionId", R), ("PageSize", "1"), ("PageNumber", "2")],
    )
    .await;
    assert_eq!(page.body["KeyPairs"]["KeyPair"][0]["KeyPairName"], "key-b");
    let too_big = ecs(
        &emu,
        "DescribeKeyPairs",
        &[("RegionId", R), ("PageSize", "51")],
    )
    .await;
    assert_eq!(too_big.status, 400);
    // Another region sees nothing.
    let other = ecs(&emu, "DescribeKeyPairs", &[("RegionId", "cn-beijing")]).await;
    assert_eq!(other.body["TotalCount"], 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn key_pair_name_takes_wildcards() {
    let emu = start().await;
    for name in PATTERN_NAMES {
        assert_eq!(create(&emu, name).await.status, 200, "{name}");
    }
    for (pattern, expected) in [
        ("web-*", &["web-a", "web-b", "web-prod"][..]),
        ("*-prod", &["api-prod", "web-prod"]),
        ("*x*", &["box-1", "xray"]),
        ("web-a", &["web-a"]),
        ("web", &[]),
    ] {
        let names = key_names(
            &emu,
            "2014-05-26",
            &[("RegionId", R), ("KeyPairName", pattern)],
        )
        .await;
        assert_eq!(names, expected, "{pattern}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn name_rules_and_missing_parameters() {
    let emu = start().await;
    for bad in ["a", "1abc", "has space", "https://x", &"k".repeat(129)] {
        let a = create(&emu, bad).await;
        assert_eq!(
            (a.status, a.code()),
            (400, Some("InvalidKeyPairName.Malformed")),
            "{bad}"
        );
    }
    assert_eq!(create(&emu, "ok:name_with-chars").await.status, 200);
    let no_name = ecs(&emu, "CreateKeyPair", &[("RegionId", R)]).await;
    assert_eq!(no_name.code(), Some("MissingParameter"));
    let no_region = ecs(&emu, "DescribeKeyPairs", &[]).await;
    assert_eq!(
        (no_region.status, no_region.code()),
        (400, Some("MissingParameter"))
    );
    let unknown = ecs(&emu, "StartInstance", &[("RegionId", R)]).await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, Some("InvalidAction.NotFound"))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn delete_limits_and_errors() {
    let emu = start().await;
    for i in 0..3 {
        assert_eq!(create(&emu, &format!("del-{i}")).await.status, 200);
    }
    let missing = ecs(&emu, "DeleteKeyPairs", &[("RegionId", R)]).await;
    assert_eq!(
        (missing.status, missing.code()),
        (400, Some("MissingParameter"))
    );
    let invalid = ecs(
        &emu,
        "DeleteKeyPairs",
        &[("RegionId", R), ("KeyPairNames", "[\"a\",")],
    )
    .await;
    assert_eq!(
        (invalid.status, invalid.code()),
        (400, Some("InvalidKeyPairNames.ValueNotSupported"))
    );
    let names: Vec<String> = (0..101).map(|i| format!("del-{i}")).collect();
    let over = ecs(
        &emu,
        "DeleteKeyPairs",
        &[("RegionId", R), ("KeyPairNames", &json_list(&names))],
    )
    .await;
    assert_eq!(
        (over.status, over.code()),
        (403, Some("InstanceKeyPairLimitExceeded"))
    );
    assert_eq!(
        admin_get(&emu, "state").await["ecs"][R]["keys"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // 100 names (97 unknown) is fine: unknown names are ignored.
    let ok = ecs(
        &emu,
        "DeleteKeyPairs",
        &[("RegionId", R), ("KeyPairNames", &json_list(&names[..100]))],
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert!(admin_get(&emu, "state").await["ecs"].get(R).is_none());
    emu.shutdown().await;
}

#[tokio::test]
async fn bound_delete_reject_is_all_or_nothing() {
    let emu = start().await;
    seed(&emu, "ecs", R, json!([{"id": "i-1"}])).await;
    create(&emu, "bound").await;
    create(&emu, "free").await;
    let att = ecs(
        &emu,
        "AttachKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "bound"),
            ("InstanceIds", "[\"i-1\"]"),
        ],
    )
    .await;
    assert_eq!(att.status, 200);
    let del = ecs(
        &emu,
        "DeleteKeyPairs",
        &[("RegionId", R), ("KeyPairNames", "[\"bound\",\"free\"]")],
    )
    .await;
    assert_eq!(
        (del.status, del.code()),
        (400, Some("InvalidParameter.KeypairAlreadyAttachedInstance"))
    );
    assert_eq!(
        admin_get(&emu, "state").await["ecs"][R]["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn bound_delete_allow_keeps_instance_name() {
    let emu = start_with(EmulatorConfig {
        ecs_bound_delete: BoundDelete::Allow,
        ..Default::default()
    })
    .await;
    seed(&emu, "ecs", R, json!([{"id": "i-1"}])).await;
    create(&emu, "bound").await;
    ecs(
        &emu,
        "AttachKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "bound"),
            ("InstanceIds", "[\"i-1\"]"),
        ],
    )
    .await;
    let del = ecs(
        &emu,
        "DeleteKeyPairs",
        &[("RegionId", R), ("KeyPairNames", "[\"bound\"]")],
    )
    .await;
    assert_eq!(del.status, 200);
    let inst = ecs(
        &emu,
        "DescribeInstances",
        &[("RegionId", R), ("InstanceIds", "[\"i-1\"]")],
    )
    .await;
    assert_eq!(
        inst.body["Instances"]["Instance"][0]["KeyPairName"],
        "bound"
    );
    let keys = ecs(&emu, "DescribeKeyPairs", &[("RegionId", R)]).await;
    assert_eq!(keys.body["TotalCount"], 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn attach_detach_reboot_and_describe_instances() {
    let emu = start().await;
    seed(
        &emu,
        "ecs",
        R,
        json!([
            {"id": "i-1", "os": "linux", "status": "Running"},
            {"id": "i-2", "os": "linux", "status": "Stopped"},
            {"id": "i-w", "os": "windows", "status": "Running"}
        ]),
    )
    .await;
    create(&emu, "k1").await;
    let att = ecs(
        &emu,
        "AttachKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "k1"),
            ("InstanceIds", "[\"i-1\",\"i-2\",\"i-missing\"]"),
        ],
    )
    .await;
    assert_eq!(att.status, 200, "{:?}", att.body);
    assert_eq!(att.body["TotalCount"], "3");
    assert_eq!(att.body["FailCount"], "1");
    let results = att.body["Results"]["Result"].as_array().unwrap();
    assert_eq!(
        results[0],
        json!({"InstanceId": "i-1", "Success": "true", "Code": "200", "Message": "successful"})
    );
    assert_eq!(results[2]["Success"], "false");
    assert_eq!(results[2]["Code"], "InvalidInstanceId.NotFound");

    let win = ecs(
        &emu,
        "AttachKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "k1"),
            ("InstanceIds", "[\"i-w\"]"),
        ],
    )
    .await;
    assert_eq!(
        (win.status, win.code()),
        (403, Some("DependencyViolation.WindowsInstance"))
    );
    let nokey = ecs(
        &emu,
        "DetachKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "nope"),
            ("InstanceIds", "[\"i-1\"]"),
        ],
    )
    .await;
    assert_eq!(
        (nokey.status, nokey.code()),
        (404, Some("InvalidKeyPairName.NotFound"))
    );
    let ids: Vec<String> = (0..51).map(|i| format!("i-{i}")).collect();
    let over = ecs(
        &emu,
        "DetachKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "k1"),
            ("InstanceIds", &json_list(&ids)),
        ],
    )
    .await;
    assert_eq!(
        (over.status, over.code()),
        (403, Some("InstanceKeyPairLimitExceeded"))
    );
    let ok50 = ecs(
        &emu,
        "DetachKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "k1"),
            ("InstanceIds", &json_list(&ids[..50])),
        ],
    )
    .await;
    assert_eq!(ok50.status, 200);

    // Filter instances by key pair name (i-1 was detached by the 50-id call).
    ecs(
        &emu,
        "AttachKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "k1"),
            ("InstanceIds", "[\"i-2\"]"),
        ],
    )
    .await;
    let by_key = ecs(
        &emu,
        "DescribeInstances",
        &[("RegionId", R), ("KeyPairName", "k1")],
    )
    .await;
    assert_eq!(by_key.body["TotalCount"], 1);
    let inst = &by_key.body["Instances"]["Instance"][0];
    assert_eq!(inst["InstanceId"], "i-2");
    assert_eq!(inst["OSType"], "linux");
    assert_eq!(inst["Status"], "Stopped");

    let big_page = ecs(
        &emu,
        "DescribeInstances",
        &[("RegionId", R), ("PageSize", "100")],
    )
    .await;
    assert_eq!(big_page.body["TotalCount"], 3);
    let too_big = ecs(
        &emu,
        "DescribeInstances",
        &[("RegionId", R), ("PageSize", "101")],
    )
    .await;
    assert_eq!(too_big.status, 400);
    let rb = ecs(&emu, "RebootInstance", &[("InstanceId", "i-1")]).await;
    assert_eq!(rb.status, 200);
    let stopped = ecs(&emu, "RebootInstance", &[("InstanceId", "i-2")]).await;
    assert_eq!(
        (stopped.status, stopped.code()),
        (403, Some("IncorrectInstanceStatus"))
    );
    let gone = ecs(&emu, "RebootInstance", &[("InstanceId", "i-x")]).await;
    assert_eq!(
        (gone.status, gone.code()),
        (404, Some("InvalidInstanceId.NotFound"))
    );
    let state = admin_get(&emu, "state").await;
    assert_eq!(state["ecs"][R]["instances"][0]["reboots"], 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn absurd_page_numbers_are_just_empty_pages() {
    let emu = start().await;
    create(&emu, "only").await;
    let a = ecs(
        &emu,
        "DescribeKeyPairs",
        &[("RegionId", R), ("PageNumber", "9223372036854775807")],
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["TotalCount"], 1);
    assert_eq!(a.body["KeyPairs"]["KeyPair"], serde_json::json!([]));
    let b = ecs(
        &emu,
        "DescribeKeyPairs",
        &[("RegionId", R), ("PageNumber", "x")],
    )
    .await;
    assert_eq!(b.code(), Some("InvalidParameter"));
    emu.shutdown().await;
}

/// The fingerprint ECS reports is MD5 of the key blob, checked against a value OpenSSH derived
/// (`ssh-keygen -l -E md5`), not against our own MD5 code.
#[tokio::test]
async fn import_fingerprint_matches_ssh_keygen() {
    let emu = start().await;
    let imp = ecs(
        &emu,
        "ImportKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "key-ssh"),
            (
                "PublicKeyBody",
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7 me@host",
            ),
        ],
    )
    .await;
    assert_eq!(imp.status, 200, "{:?}", imp.body);
    // ssh-keygen -l -E md5: "256 MD5:5d:fd:4b:bb:6f:13:66:17:fd:be:26:e3:99:8d:6b:b7 me@host (ED25519)"
    assert_eq!(
        imp.body["KeyPairFingerPrint"],
        "5d:fd:4b:bb:6f:13:66:17:fd:be:26:e3:99:8d:6b:b7"
    );
}

/// ECS takes lists as a JSON array in a string, and nothing else: a comma-separated list or
/// `KeyPairNames.1` is refused, as the cloud refuses it.
#[tokio::test]
async fn lists_only_in_the_cloud_s_encoding() {
    let emu = start().await;
    create(&emu, "key-a").await;
    create(&emu, "key-b").await;
    for wrong in [
        vec![("RegionId", R), ("KeyPairNames", "key-a,key-b")],
        vec![("RegionId", R), ("KeyPairNames.1", "key-a")],
    ] {
        let r = ecs(&emu, "DeleteKeyPairs", &wrong).await;
        assert_eq!(r.status, 400, "{wrong:?}: {:?}", r.body);
    }
    let ok = ecs(
        &emu,
        "DeleteKeyPairs",
        &[("RegionId", R), ("KeyPairNames", r#"["key-a","key-b"]"#)],
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
}
