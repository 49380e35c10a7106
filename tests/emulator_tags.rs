//! The tagging calls through the HTTP API with signed requests: ECS TagResources,
//! UntagResources and JoinResourceGroup, Tencent's Tag API on the same port (TC3 scope `tag`)
//! with its documented 20 requests/s; and the provider's clients on top of them, chunking by the
//! per-call limits and pacing below the Tag API's rate.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sshkey::cloud::{CloudKind, KeyPairApi, KeySpec};
use sshkey::emulator::RunningEmulator;
use support::api::*;
use support::clouds::{CVM, ECS};

const ECS_R: &str = ECS.region;
const CVM_R: &str = CVM.region;

fn tag_api() -> (&'static str, &'static str) {
    ("tag", "2018-08-13")
}

async fn tag_call(emu: &RunningEmulator, action: &str, body: Value) -> Answer {
    tc3_call(
        emu,
        tag_api(),
        action,
        CVM_R,
        body,
        &creds(),
        now().unix_timestamp(),
    )
    .await
}

async fn ecs_key_tags(emu: &RunningEmulator, name: &str) -> (Value, Value) {
    let a = ecs(
        emu,
        "DescribeKeyPairs",
        &[("RegionId", ECS_R), ("KeyPairName", name)],
    )
    .await;
    let key = a.body["KeyPairs"]["KeyPair"][0].clone();
    (key["Tags"]["Tag"].clone(), key["ResourceGroupId"].clone())
}

#[tokio::test]
async fn ecs_tags_and_resource_groups_on_the_wire() {
    let emu = start().await;
    let created = ecs(
        &emu,
        "CreateKeyPair",
        &[("RegionId", ECS_R), ("KeyPairName", "web")],
    )
    .await;
    assert_eq!(created.status, 200, "{created:?}");
    let (tags, group) = ecs_key_tags(&emu, "web").await;
    assert_eq!(tags, json!([]));
    assert!(
        group.as_str().is_some_and(|g| g.starts_with("rg-")),
        "a key pair created without a group is in the default one: {group}"
    );

    let target = [
        ("RegionId", ECS_R),
        ("ResourceType", "keypair"),
        ("ResourceId.1", "web"),
    ];
    let mut params = target.to_vec();
    params.extend([
        ("Tag.1.Key", "team"),
        ("Tag.1.Value", "a"),
        ("Tag.2.Key", "env"),
        ("Tag.2.Value", "dev"),
    ]);
    let a = ecs(&emu, "TagResources", &params).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.body["RequestId"].is_string());
    let (tags, _) = ecs_key_tags(&emu, "web").await;
    assert_eq!(
        tags,
        json!([{"TagKey": "team", "TagValue": "a"}, {"TagKey": "env", "TagValue": "dev"}])
    );

    let mut params = target.to_vec();
    params.push(("TagKey.1", "env"));
    assert_eq!(ecs(&emu, "UntagResources", &params).await.status, 200);
    let (tags, _) = ecs_key_tags(&emu, "web").await;
    assert_eq!(tags, json!([{"TagKey": "team", "TagValue": "a"}]));

    // A missing key pair fails the whole call; other resource types are not key pairs.
    let missing = ecs(
        &emu,
        "TagResources",
        &[
            ("RegionId", ECS_R),
            ("ResourceType", "keypair"),
            ("ResourceId.1", "nope"),
            ("Tag.1.Key", "a"),
        ],
    )
    .await;
    assert_eq!(
        (missing.status, missing.code()),
        (404, Some("InvalidResourceId.NotFound"))
    );
    let other = ecs(
        &emu,
        "TagResources",
        &[
            ("RegionId", ECS_R),
            ("ResourceType", "instance"),
            ("ResourceId.1", "web"),
            ("Tag.1.Key", "a"),
        ],
    )
    .await;
    assert_eq!(other.status, 400, "{other:?}");
    let reserved = ecs(
        &emu,
        "TagResources",
        &[
            ("RegionId", ECS_R),
            ("ResourceType", "keypair"),
            ("ResourceId.1", "web"),
            ("Tag.1.Key", "acs:x"),
        ],
    )
    .await;
    assert_eq!(reserved.code(), Some("InvalidTagKey.Malformed"));

    let joined = ecs(
        &emu,
        "JoinResourceGroup",
        &[
            ("RegionId", ECS_R),
            ("ResourceType", "keypair"),
            ("ResourceId", "web"),
            ("ResourceGroupId", "rg-acfmteam000000001"),
        ],
    )
    .await;
    assert_eq!(joined.status, 200, "{joined:?}");
    let (_, group) = ecs_key_tags(&emu, "web").await;
    assert_eq!(group, "rg-acfmteam000000001");

    // ENS key pairs have no tags.
    let ens_tag = ens(&emu, "TagResources", &[("ResourceType", "keypair")]).await;
    assert_eq!(ens_tag.code(), Some("InvalidAction.NotFound"));
    emu.shutdown().await;
}

#[tokio::test]
async fn tencent_tag_api_tags_cvm_key_pairs() {
    let emu = start().await;
    let created = cvm(
        &emu,
        "CreateKeyPair",
        CVM_R,
        json!({"KeyName": "web", "ProjectId": 0}),
    )
    .await;
    let id = created.body["Response"]["KeyPair"]["KeyId"]
        .as_str()
        .expect("a key id")
        .to_string();
    let resource = format!("qcs::cvm:{CVM_R}:uin/:keypair/{id}");
    let a = tag_call(
        &emu,
        "TagResources",
        json!({"ResourceList": [resource], "Tags": [{"TagKey": "team", "TagValue": "a"}]}),
    )
    .await;
    assert_eq!(a.body["Response"]["FailedResources"], json!([]), "{a:?}");
    let listed = cvm(&emu, "DescribeKeyPairs", CVM_R, json!({"KeyIds": [id]})).await;
    assert_eq!(
        listed.body["Response"]["KeyPairSet"][0]["Tags"],
        json!([{"Key": "team", "Value": "a"}])
    );

    // A missing key pair is listed as failed; a six-segment name of another resource fails.
    let missing = format!("qcs::cvm:{CVM_R}:uin/:keypair/skey-zzzzzzzz");
    let partly = tag_call(
        &emu,
        "TagResources",
        json!({"ResourceList": [missing], "Tags": [{"TagKey": "x", "TagValue": "y"}]}),
    )
    .await;
    let failed = &partly.body["Response"]["FailedResources"];
    assert_eq!(failed[0]["Resource"], missing, "{partly:?}");
    assert_eq!(failed[0]["Code"], "ResourceNotFound");
    let instance = format!("qcs::cvm:{CVM_R}:uin/:instance/ins-abcd1234");
    let wrong = tag_call(
        &emu,
        "TagResources",
        json!({"ResourceList": [instance], "Tags": [{"TagKey": "x", "TagValue": "y"}]}),
    )
    .await;
    assert_eq!(
        wrong.code(),
        Some("InvalidParameterValue.ResourceDescriptionError")
    );

    let untagged = tag_call(
        &emu,
        "UnTagResources",
        json!({"ResourceList": [resource], "TagKeys": ["team"]}),
    )
    .await;
    assert_eq!(untagged.body["Response"]["FailedResources"], json!([]));
    let listed = cvm(&emu, "DescribeKeyPairs", CVM_R, json!({"KeyIds": [id]})).await;
    assert_eq!(listed.body["Response"]["KeyPairSet"][0]["Tags"], json!([]));

    let log = last_calls(&emu, "tencent-tag", "UnTagResources", 1).await;
    assert_eq!(log[0]["params"]["TagKeys"], json!(["team"]));

    // The Tag API's documented limit: 20 calls per second per action (after a quiet second,
    // so the calls above are out of the window).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answers = burst(25, |_| {
        tag_call(
            &emu,
            "UnTagResources",
            json!({"ResourceList": [resource], "TagKeys": ["team"]}),
        )
    })
    .await;
    assert_eq!(throttled_count(&answers), 5, "{answers:?}");
    emu.shutdown().await;
}

fn client(emu: &RunningEmulator, kind: CloudKind) -> Arc<dyn KeyPairApi> {
    support::api::provider_client(emu, kind)
}

fn many_tags(n: usize) -> BTreeMap<String, String> {
    (0..n)
        .map(|i| (format!("k{i:02}"), format!("v{i}")))
        .collect()
}

async fn calls(emu: &RunningEmulator, action: &str) -> usize {
    admin_get(emu, "calls")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == action)
        .count()
}

/// More tags than one call takes are split by the cloud's per-call limit (ECS 20, the Tag API
/// 10), and the cloud then holds every one of them; removals likewise.
#[tokio::test]
async fn clients_split_tag_edits_by_the_per_call_limit() {
    let emu = start().await;
    for (kind, per_call, untag) in [
        (CloudKind::Ecs, 20, "UntagResources"),
        (CloudKind::Cvm, 10, "UnTagResources"),
    ] {
        let api = client(&emu, kind);
        let key = api
            .create_key_pair(&KeySpec {
                name: "split_me".into(),
                ..KeySpec::default()
            })
            .await
            .unwrap();
        let before = calls(&emu, "TagResources").await;
        // A key pair holds at most 20 tags on ECS.
        api.tag_key_pair(&key.id, &many_tags(20), &[])
            .await
            .unwrap();
        assert_eq!(
            calls(&emu, "TagResources").await - before,
            20usize.div_ceil(per_call),
            "{kind}"
        );
        let found = api
            .describe_key_pairs(&sshkey::cloud::KeyQuery::Ids(vec![key.id.clone()]))
            .await
            .unwrap();
        assert_eq!(found[0].tags, many_tags(20), "{kind}");
        let remove: Vec<String> = many_tags(15).into_keys().collect();
        let before = calls(&emu, untag).await;
        api.tag_key_pair(&key.id, &BTreeMap::new(), &remove)
            .await
            .unwrap();
        assert_eq!(
            calls(&emu, untag).await - before,
            15usize.div_ceil(per_call),
            "{kind}"
        );
        let found = api
            .describe_key_pairs(&sshkey::cloud::KeyQuery::Ids(vec![key.id.clone()]))
            .await
            .unwrap();
        assert_eq!(found[0].tags.len(), 5, "{kind}");
    }
    emu.shutdown().await;
}

/// 60 concurrent tag edits on CVM stay under the Tag API's 20/s: the pacer spaces them, so the
/// emulator, which enforces the documented limit, throttles none.
#[tokio::test]
async fn cvm_tag_edits_are_paced_below_the_tag_apis_rate() {
    let emu = start().await;
    let api = client(&emu, CloudKind::Cvm);
    let key = api
        .create_key_pair(&KeySpec {
            name: "paced".into(),
            ..KeySpec::default()
        })
        .await
        .unwrap();
    let edits = (0..60).map(|i| {
        let api = api.clone();
        let id = key.id.clone();
        async move {
            let tag = BTreeMap::from([(format!("t{}", i % 5), format!("{i}"))]);
            api.tag_key_pair(&id, &tag, &[]).await
        }
    });
    for r in futures::future::join_all(edits).await {
        r.unwrap();
    }
    let log = admin_get(&emu, "calls").await;
    let throttled = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cloud"] == "tencent-tag" && c["error_code"] == "RequestLimitExceeded")
        .count();
    assert_eq!(throttled, 0, "the pacer keeps under 20/s");
    emu.shutdown().await;
}
