//! ENS (2017-11-10) and CVM (2017-03-12) through our signers: operations, limits, error codes.

mod support;

use serde_json::{json, Value};
use support::api::*;
use support::clouds::CVM;

#[tokio::test]
async fn ens_lifecycle_limits_and_errors() {
    let emu = start().await;
    seed(
        &emu,
        "ens",
        "cn-beijing-telecom",
        json!([
            {"id": "i-s", "status": "Stopped"},
            {"id": "i-r", "status": "Running"},
            {"id": "i-w", "os": "windows", "status": "Stopped"}
        ]),
    )
    .await;
    let a = ens(&emu, "CreateKeyPair", &[("KeyPairName", "ens-a")]).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let id = a.body["KeyPairId"].as_str().unwrap().to_string();
    assert!(id.starts_with("ssh-"));
    let dup = ens(&emu, "CreateKeyPair", &[("KeyPairName", "ens-a")]).await;
    assert_eq!((dup.status, dup.code()), (400, Some("PubKeyNameExisted")));
    let bad = ens(&emu, "CreateKeyPair", &[("KeyPairName", "9bad")]).await;
    assert_eq!(bad.code(), Some("InvalidParameter.KeyPairName"));
    let imp = ens(
        &emu,
        "ImportKeyPair",
        &[("KeyPairName", "ens-b"), ("PublicKeyBody", "garbage")],
    )
    .await;
    assert_eq!(imp.code(), Some("InvalidPubKeyBody"));

    let list = ens(&emu, "DescribeKeyPairs", &[("KeyPairId", &id)]).await;
    assert_eq!(list.body["TotalCount"], 1);
    let item = &list.body["KeyPairs"]["KeyPair"][0];
    assert_eq!(item["KeyPairName"], "ens-a");
    assert_eq!(item["KeyPairId"], id.as_str());
    assert!(item["KeyPairFingerPrint"].is_string() && item["CreationTime"].is_string());

    let att = ens(
        &emu,
        "AttachKeyPair",
        &[
            ("KeyPairName", "ens-a"),
            ("InstanceIds", "[\"i-s\",\"i-r\",\"i-w\",\"i-x\"]"),
        ],
    )
    .await;
    assert_eq!(att.status, 200);
    assert_eq!(att.body["TotalCount"], 4);
    assert_eq!(att.body["FailCount"], 3);
    let results = att.body["Results"].as_array().unwrap();
    assert_eq!(results[0]["Success"], true);
    assert_eq!(results[0]["Code"], 200);
    assert_eq!(results[1]["Success"], false);
    assert!(results[1]["Message"]
        .as_str()
        .unwrap()
        .contains("IncorrectInstanceStatus"));

    let ids: Vec<String> = (0..31).map(|i| format!("i-{i}")).collect();
    let over = ens(
        &emu,
        "DetachKeyPair",
        &[("KeyPairId", &id), ("InstanceIds", &json_list(&ids))],
    )
    .await;
    assert_eq!(
        (over.status, over.code()),
        (400, Some("InvalidParameter.InstanceIds"))
    );
    let ok30 = ens(
        &emu,
        "DetachKeyPair",
        &[("KeyPairId", &id), ("InstanceIds", &json_list(&ids[..30]))],
    )
    .await;
    assert_eq!(ok30.status, 200);

    let inst = ens(&emu, "DescribeInstances", &[("InstanceIds", "[\"i-s\"]")]).await;
    assert_eq!(
        inst.body["Instances"]["Instance"][0]["KeyPairName"],
        "ens-a"
    );

    // ENS deletes bound keys; the instance keeps the name.
    let missing = ens(&emu, "DeleteKeyPairs", &[]).await;
    assert_eq!(missing.code(), Some("MissingParameter"));
    let unknown = ens(&emu, "DeleteKeyPairs", &[("KeyPairName", "nope")]).await;
    assert_eq!(unknown.code(), Some("PubKeyNameNotExist"));
    let del = ens(&emu, "DeleteKeyPairs", &[("KeyPairName", "ens-a")]).await;
    assert_eq!(del.status, 200);
    let inst = ens(&emu, "DescribeInstances", &[("InstanceId", "i-s")]).await;
    assert_eq!(
        inst.body["Instances"]["Instance"][0]["KeyPairName"],
        "ens-a"
    );
    assert_eq!(
        ens(&emu, "DescribeKeyPairs", &[]).await.body["TotalCount"],
        0
    );
    let reboot = ens(&emu, "RebootInstance", &[("InstanceId", "i-s")]).await;
    assert_eq!(reboot.code(), Some("InvalidAction.NotFound"));
    emu.shutdown().await;
}

#[tokio::test]
async fn ens_key_pair_name_matches_exactly() {
    let emu = start().await;
    for name in PATTERN_NAMES {
        let a = ens(&emu, "CreateKeyPair", &[("KeyPairName", name)]).await;
        assert_eq!(a.status, 200, "{a:?}");
    }
    // No wildcards: `web-*` would match only a key literally named so, which no name rule allows.
    for (pattern, expected) in [
        ("web-a", &["web-a"][..]),
        ("web-*", &[]),
        ("*-prod", &[]),
        ("*x*", &[]),
        ("*", &[]),
        ("web", &[]),
    ] {
        let names = key_names(&emu, "2017-11-10", &[("KeyPairName", pattern)]).await;
        assert_eq!(names, expected, "{pattern}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn describe_key_pairs_page_limits() {
    let emu = start().await;
    for (version, region) in [
        ("2014-05-26", &[("RegionId", "cn-hangzhou")][..]),
        ("2017-11-10", &[]),
    ] {
        for (size, status, code) in [
            ("50", 200, None),
            ("51", 400, Some("InvalidParameter.PageSize")),
        ] {
            let mut params = region.to_vec();
            params.push(("PageSize", size));
            let a = acs3_call(&emu, version, "DescribeKeyPairs", &params).await;
            assert_eq!(
                (a.status, a.code()),
                (status, code),
                "{version} {size}: {a:?}"
            );
        }
    }
    let ok = cvm(&emu, "DescribeKeyPairs", R, json!({"Limit": 100})).await;
    assert!(ok.body["Response"].get("Error").is_none(), "{:?}", ok.body);
    let over = cvm(&emu, "DescribeKeyPairs", R, json!({"Limit": 101})).await;
    assert_eq!(err(&over), Some("InvalidParameterValue.LimitExceeded"));
    emu.shutdown().await;
}

const R: &str = CVM.region;

async fn cvm_create(emu: &sshkey::emulator::RunningEmulator, name: &str) -> String {
    let a = cvm(
        emu,
        "CreateKeyPair",
        R,
        json!({"KeyName": name, "ProjectId": 0}),
    )
    .await;
    assert_eq!(a.status, 200);
    a.body["Response"]["KeyPair"]["KeyId"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", a.body))
        .to_string()
}

fn err(a: &Answer) -> Option<&str> {
    assert_eq!(a.status, 200, "Tencent errors are HTTP 200");
    a.body["Response"]["Error"]["Code"].as_str()
}

#[tokio::test]
async fn cvm_keys_names_and_describe() {
    let emu = start().await;
    let id = cvm_create(&emu, "cvm_a").await;
    assert!(sshkey::emulator::profile::is_cvm_key_id(&id));
    let dup = cvm(
        &emu,
        "CreateKeyPair",
        R,
        json!({"KeyName": "cvm_a", "ProjectId": 0}),
    )
    .await;
    assert_eq!(err(&dup), Some("InvalidKeyPairName.Duplicate"));
    for (name, code) in [
        ("", "InvalidKeyPairNameEmpty"),
        ("a-b", "InvalidKeyPairNameIncludeIllegalChar"),
        ("abcdefghijklmnopqrstuvwxyz", "InvalidKeyPairNameTooLong"),
    ] {
        let a = cvm(
            &emu,
            "CreateKeyPair",
            R,
            json!({"KeyName": name, "ProjectId": 0}),
        )
        .await;
        let expected = if name.is_empty() {
            "MissingParameter"
        } else {
            code
        };
        assert_eq!(err(&a), Some(expected), "{name:?}");
    }
    let no_project = cvm(&emu, "CreateKeyPair", R, json!({"KeyName": "x"})).await;
    assert_eq!(err(&no_project), Some("MissingParameter"));

    let state = admin_get(&emu, "state").await;
    let public = state["cvm"][R]["keys"][0]["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let imp = cvm(
        &emu,
        "ImportKeyPair",
        R,
        json!({"KeyName": "cvm_b", "ProjectId": 3, "PublicKey": public}),
    )
    .await;
    let imported = imp.body["Response"]["KeyId"].as_str().unwrap().to_string();
    let bad = cvm(
        &emu,
        "ImportKeyPair",
        R,
        json!({"KeyName": "cvm_c", "ProjectId": 0, "PublicKey": "x"}),
    )
    .await;
    assert_eq!(err(&bad), Some("InvalidPublicKey.Malformed"));

    let all = cvm(&emu, "DescribeKeyPairs", R, json!({})).await;
    assert_eq!(all.body["Response"]["TotalCount"], 2);
    let set = all.body["Response"]["KeyPairSet"].as_array().unwrap();
    for field in [
        "KeyId",
        "KeyName",
        "ProjectId",
        "PublicKey",
        "AssociatedInstanceIds",
        "CreatedTime",
        "Description",
    ] {
        assert!(set[0].get(field).is_some(), "{field}");
    }
    let by_filter = cvm(
        &emu,
        "DescribeKeyPairs",
        R,
        json!({"Filters": [{"Name": "project-id", "Values": ["3"]}]}),
    )
    .await;
    assert_eq!(
        by_filter.body["Response"]["KeyPairSet"][0]["KeyId"],
        imported.as_str()
    );
    let both = cvm(
        &emu,
        "DescribeKeyPairs",
        R,
        json!({"KeyIds": [id], "Filters": [{"Name": "key-name", "Values": ["x"]}]}),
    )
    .await;
    assert_eq!(err(&both), Some("InvalidParameter"));
    let limit = cvm(&emu, "DescribeKeyPairs", R, json!({"Limit": 101})).await;
    assert_eq!(err(&limit), Some("InvalidParameterValue.LimitExceeded"));
    let paged = cvm(
        &emu,
        "DescribeKeyPairs",
        R,
        json!({"Offset": 1, "Limit": 1}),
    )
    .await;
    assert_eq!(paged.body["Response"]["KeyPairSet"][0]["KeyName"], "cvm_b");
    let malformed = cvm(
        &emu,
        "DescribeKeyPairs",
        R,
        json!({"KeyIds": ["skey-1122"]}),
    )
    .await;
    assert_eq!(err(&malformed), Some("InvalidKeyPairId.Malformed"));
    let no_region = cvm(&emu, "DescribeKeyPairs", "", json!({})).await;
    assert_eq!(err(&no_region), Some("MissingParameter"));
    emu.shutdown().await;
}

#[tokio::test]
async fn cvm_bindings_delete_and_limits() {
    let emu = start().await;
    seed(
        &emu,
        "cvm",
        R,
        json!([
            {"id": "ins-aaaaaaa1", "status": "Running"},
            {"id": "ins-aaaaaaa2", "status": "Stopped"},
            {"id": "ins-wwwwwww1", "os": "windows", "status": "Stopped"}
        ]),
    )
    .await;
    let a = cvm_create(&emu, "bound_key").await;
    let b = cvm_create(&emu, "free_key").await;
    let running = cvm(
        &emu,
        "AssociateInstancesKeyPairs",
        R,
        json!({"InstanceIds": ["ins-aaaaaaa1"], "KeyIds": [a]}),
    )
    .await;
    assert_eq!(
        err(&running),
        Some("UnsupportedOperation.InstanceStateRunning")
    );
    let win = cvm(
        &emu,
        "AssociateInstancesKeyPairs",
        R,
        json!({"InstanceIds": ["ins-wwwwwww1"], "KeyIds": [a]}),
    )
    .await;
    assert_eq!(err(&win), Some("InvalidParameterValue.KeyPairNotSupported"));
    let bad_inst = cvm(
        &emu,
        "AssociateInstancesKeyPairs",
        R,
        json!({"InstanceIds": ["i-1"], "KeyIds": [a]}),
    )
    .await;
    assert_eq!(err(&bad_inst), Some("InvalidInstanceId.Malformed"));
    let no_inst = cvm(
        &emu,
        "AssociateInstancesKeyPairs",
        R,
        json!({"InstanceIds": ["ins-zzzzzzzz"], "KeyIds": [a]}),
    )
    .await;
    assert_eq!(err(&no_inst), Some("InvalidInstanceId.NotFound"));
    let no_key = cvm(
        &emu,
        "AssociateInstancesKeyPairs",
        R,
        json!({"InstanceIds": ["ins-aaaaaaa2"], "KeyIds": ["skey-zzzzzzzz"]}),
    )
    .await;
    assert_eq!(err(&no_key), Some("InvalidKeyPairId.NotFound"));
    let ids: Vec<String> = (0..101).map(|i| format!("ins-{i:08}")).collect();
    let over = cvm(
        &emu,
        "DisassociateInstancesKeyPairs",
        R,
        json!({"InstanceIds": ids, "KeyIds": [a]}),
    )
    .await;
    assert_eq!(err(&over), Some("InvalidParameterValue.LimitExceeded"));
    let missing = cvm(
        &emu,
        "AssociateInstancesKeyPairs",
        R,
        json!({"InstanceIds": ["ins-aaaaaaa2"]}),
    )
    .await;
    assert_eq!(err(&missing), Some("MissingParameter"));

    let ok = cvm(
        &emu,
        "AssociateInstancesKeyPairs",
        R,
        json!({"InstanceIds": ["ins-aaaaaaa1", "ins-aaaaaaa2"], "KeyIds": [a], "ForceStop": true}),
    )
    .await;
    assert!(ok.body["Response"].get("Error").is_none(), "{:?}", ok.body);
    let inst = cvm(
        &emu,
        "DescribeInstances",
        R,
        json!({"InstanceIds": ["ins-aaaaaaa1"]}),
    )
    .await;
    let item = &inst.body["Response"]["InstanceSet"][0];
    assert_eq!(item["LoginSettings"]["KeyIds"], json!([a]));
    assert_eq!(item["InstanceState"], "RUNNING");
    assert_eq!(inst.body["Response"]["TotalCount"], 1);

    // Bound keys survive silently; the call succeeds.
    let del = cvm(&emu, "DeleteKeyPairs", R, json!({"KeyIds": [a, b]})).await;
    assert!(del.body["Response"].get("Error").is_none());
    let left: Vec<Value> = admin_get(&emu, "state").await["cvm"][R]["keys"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], a.as_str());

    let keys: Vec<String> = (0..101).map(|i| format!("skey-{i:08}")).collect();
    let over = cvm(&emu, "DeleteKeyPairs", R, json!({"KeyIds": keys})).await;
    assert_eq!(err(&over), Some("InvalidKeyPair.LimitExceeded"));
    let malformed = cvm(&emu, "DeleteKeyPairs", R, json!({"KeyIds": ["skey-1122"]})).await;
    assert_eq!(err(&malformed), Some("InvalidKeyPairId.Malformed"));
    let unknown = cvm(
        &emu,
        "DeleteKeyPairs",
        R,
        json!({"KeyIds": ["skey-zzzzzzzz"]}),
    )
    .await;
    assert_eq!(err(&unknown), Some("InvalidKeyPairId.NotFound"));
    let none = cvm(&emu, "DeleteKeyPairs", R, json!({})).await;
    assert_eq!(err(&none), Some("MissingParameter"));

    let dis = cvm(
        &emu,
        "DisassociateInstancesKeyPairs",
        R,
        json!({"InstanceIds": ["ins-aaaaaaa1", "ins-aaaaaaa2"], "KeyIds": [a], "ForceStop": true}),
    )
    .await;
    assert!(dis.body["Response"].get("Error").is_none());
    let del = cvm(&emu, "DeleteKeyPairs", R, json!({"KeyIds": [a]})).await;
    assert!(del.body["Response"].get("Error").is_none());
    assert!(
        admin_get(&emu, "state").await["cvm"].get(R).unwrap()["keys"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn cvm_rate_limit_is_ten_per_second() {
    let emu = start().await;
    let delete = || {
        cvm(
            &emu,
            "DeleteKeyPairs",
            R,
            json!({"KeyIds": ["skey-zzzzzzzz"]}),
        )
    };
    // 20 concurrent calls that all arrive within one second: exactly 10 pass, 10 are refused.
    let answers = burst(20, |_| delete()).await;
    let limited: Vec<&Answer> = answers
        .iter()
        .filter(|a| err(a) == Some("RequestLimitExceeded"))
        .collect();
    assert_eq!(limited.len(), 10, "{answers:?}");
    assert_eq!(throttled_count(&answers), 10);
    let passed = answers
        .iter()
        .filter(|a| err(a) == Some("InvalidKeyPairId.NotFound"))
        .count();
    assert_eq!(passed, 10, "{answers:?}");
    // Each action has its own window: DescribeKeyPairs still has all of its 10.
    for _ in 0..10 {
        let a = cvm(&emu, "DescribeKeyPairs", R, json!({})).await;
        assert!(a.body["Response"].get("Error").is_none(), "{:?}", a.body);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(err(&delete().await), Some("InvalidKeyPairId.NotFound"));
    emu.shutdown().await;
}
