//! The cloud clients and the coalescer against the in-process emulator: real wire formats,
//! real signatures, the emulator's call log as the measure of batching.

mod support;

use std::sync::Arc;

use serde_json::{json, Value};
use sshkey::batch::{BatchSettings, DeleteCoalescer, DeleteError, DetachCoalescer};
use sshkey::cloud::{BindOptions, CloudKind, InstanceQuery, KeyPairApi, KeyQuery, KeySpec};
use sshkey::emulator::{self, BoundDelete, EmulatorConfig, RunningEmulator};
use support::clouds;

const PK: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7 me@host";

async fn start(bound: BoundDelete) -> RunningEmulator {
    emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ecs_bound_delete: bound,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

fn client(emu: &RunningEmulator, kind: CloudKind) -> Arc<dyn KeyPairApi> {
    support::api::provider_client(emu, kind)
}

async fn admin(emu: &RunningEmulator, method: &str, path: &str, body: Value) -> Value {
    let http = reqwest::Client::new();
    let url = format!("{}/_emulator/{path}", emu.endpoint());
    let req = if method == "GET" {
        http.get(url)
    } else {
        http.post(url).json(&body)
    };
    req.send().await.unwrap().json().await.unwrap()
}

async fn calls_of(emu: &RunningEmulator, action: &str) -> Vec<Value> {
    admin(emu, "GET", "calls", Value::Null)
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == action)
        .cloned()
        .collect()
}

async fn seed(emu: &RunningEmulator, kind: CloudKind, instances: Value) {
    let body = json!({"cloud": kind.to_string(), "region": clouds::of(kind).region, "instances": instances});
    admin(emu, "POST", "instances", body).await;
}

fn name(kind: CloudKind, i: usize) -> String {
    match kind {
        CloudKind::Cvm => format!("key_{i}"),
        _ => format!("key-{i}"),
    }
}

async fn create_many(api: &Arc<dyn KeyPairApi>, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 0..n {
        let spec = KeySpec {
            name: name(api.kind(), i),
            ..KeySpec::default()
        };
        let k = api.create_key_pair(&spec).await.unwrap();
        out.push((k.id, k.name));
    }
    out
}

#[tokio::test]
async fn create_import_describe_delete_on_every_cloud() {
    let emu = start(BoundDelete::Reject).await;
    for kind in CloudKind::ALL {
        let api = client(&emu, kind);
        let created = api
            .create_key_pair(&KeySpec {
                name: name(kind, 1),
                ..KeySpec::default()
            })
            .await
            .unwrap();
        assert!(
            created
                .private_key
                .as_deref()
                .unwrap_or("")
                .contains("PRIVATE KEY"),
            "{kind}"
        );
        match kind {
            CloudKind::Ecs => assert_eq!(created.id, created.name),
            CloudKind::Ens => assert!(created.id.starts_with("ssh-"), "{}", created.id),
            CloudKind::Cvm => assert!(created.id.starts_with("skey-"), "{}", created.id),
        }
        let imported = api
            .create_key_pair(&KeySpec {
                name: name(kind, 2),
                public_key: Some(PK.into()),
                ..KeySpec::default()
            })
            .await
            .unwrap();
        if kind != CloudKind::Cvm {
            assert_eq!(
                Some(imported.fingerprint.clone()),
                sshkey::cloud::public_key::parse_public_key(PK)
                    .ok()
                    .map(|k| k.md5_fingerprint())
            );
        }
        let all = api.describe_key_pairs(&KeyQuery::All).await.unwrap();
        assert_eq!(all.len(), 2, "{kind}");
        let by_id = api
            .describe_key_pairs(&KeyQuery::Ids(vec![created.id.clone()]))
            .await
            .unwrap();
        assert_eq!(by_id.len(), 1);
        assert_eq!(by_id[0].name, created.name);
        let by_name = api
            .describe_key_pairs(&KeyQuery::Names(vec![imported.name.clone()]))
            .await
            .unwrap();
        assert_eq!(by_name.len(), 1);
        assert_eq!(by_name[0].id, imported.id);
        let prefix = &name(kind, 1)[..4];
        assert_eq!(
            api.describe_key_pairs(&KeyQuery::NamePrefix(prefix.into()))
                .await
                .unwrap()
                .len(),
            2
        );
        for id in [created.id, imported.id] {
            api.delete_key_pairs(&[id]).await.unwrap();
        }
        assert!(api
            .describe_key_pairs(&KeyQuery::All)
            .await
            .unwrap()
            .is_empty());
        let dup = api
            .create_key_pair(&KeySpec {
                name: "1bad name".into(),
                ..KeySpec::default()
            })
            .await
            .unwrap_err();
        assert!(dup.request_id.is_some(), "{dup}");
    }
}

#[tokio::test]
async fn describe_pages_through_everything() {
    let emu = start(BoundDelete::Reject).await;
    for kind in [CloudKind::Ecs, CloudKind::Cvm] {
        let api = client(&emu, kind);
        create_many(&api, 120).await;
        assert_eq!(
            api.describe_key_pairs(&KeyQuery::All).await.unwrap().len(),
            120
        );
    }
}

#[tokio::test]
async fn coalesced_deletes_of_250_keys_take_at_most_three_calls() {
    let emu = start(BoundDelete::Reject).await;
    for kind in [CloudKind::Ecs, CloudKind::Cvm] {
        let api = client(&emu, kind);
        let keys = create_many(&api, 250).await;
        let c = Arc::new(DeleteCoalescer::new(
            api.clone(),
            BatchSettings::for_delete(kind),
        ));
        let tasks: Vec<_> = keys
            .into_iter()
            .map(|(id, name)| {
                let c = Arc::clone(&c);
                tokio::spawn(async move { c.delete(id, name).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let calls: Vec<_> = calls_of(&emu, "DeleteKeyPairs")
            .await
            .into_iter()
            .filter(|c| c["cloud"] == kind.to_string())
            .collect();
        let field = if kind == CloudKind::Cvm {
            "KeyIds"
        } else {
            "KeyPairNames"
        };
        let sizes: Vec<usize> = calls
            .iter()
            .map(|c| match &c["params"][field] {
                Value::Array(a) => a.len(),
                Value::String(s) => serde_json::from_str::<Vec<String>>(s).map_or(0, |v| v.len()),
                _ => 0,
            })
            .collect();
        eprintln!("{kind}: 250 coalesced deletes -> DeleteKeyPairs batch sizes {sizes:?}");
        assert!(calls.len() <= 3, "{kind}: {sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), 250, "{kind}: {sizes:?}");
        assert!(calls.iter().all(|c| c["http_status"] == 200), "{calls:?}");
        assert!(api
            .describe_key_pairs(&KeyQuery::All)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn ecs_reject_mode_fails_exactly_the_bound_keys() {
    let emu = start(BoundDelete::Reject).await;
    let api = client(&emu, CloudKind::Ecs);
    let keys = create_many(&api, 50).await;
    let bound = [3usize, 17, 40];
    let instances: Vec<Value> = bound
        .iter()
        .map(|i| json!({"id": format!("i-holder{i}"), "keys": [keys[*i].1]}))
        .collect();
    seed(&emu, CloudKind::Ecs, json!(instances)).await;
    let c = Arc::new(DeleteCoalescer::new(
        api.clone(),
        BatchSettings::for_delete(CloudKind::Ecs),
    ));
    let tasks: Vec<_> = keys
        .iter()
        .cloned()
        .map(|(id, name)| {
            let c = Arc::clone(&c);
            tokio::spawn(async move { c.delete(id, name).await })
        })
        .collect();
    let mut failed = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        if let Err(e) = t.await.unwrap() {
            assert!(matches!(e, DeleteError::StillBound { .. }), "{e}");
            assert!(e.to_string().contains(&format!("i-holder{i}")), "{e}");
            failed.push(i);
        }
    }
    assert_eq!(failed, bound);
    let deletes = calls_of(&emu, "DeleteKeyPairs").await;
    assert_eq!(deletes.len(), 2, "the rejected batch of 50, then the 47");
    let left = api.describe_key_pairs(&KeyQuery::All).await.unwrap();
    assert_eq!(left.len(), 3);
}

#[tokio::test]
async fn cvm_silent_keep_is_reported() {
    let emu = start(BoundDelete::Reject).await;
    let api = client(&emu, CloudKind::Cvm);
    let keys = create_many(&api, 5).await;
    seed(
        &emu,
        CloudKind::Cvm,
        json!([{"id": "ins-abcd1234", "keys": [keys[2].0]}]),
    )
    .await;
    let c = Arc::new(DeleteCoalescer::new(
        api.clone(),
        BatchSettings::for_delete(CloudKind::Cvm),
    ));
    let tasks: Vec<_> = keys
        .iter()
        .cloned()
        .map(|(id, name)| {
            let c = Arc::clone(&c);
            tokio::spawn(async move { c.delete(id, name).await })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap();
        if i == 2 {
            assert!(r.unwrap_err().to_string().contains("ins-abcd1234"));
        } else {
            r.unwrap();
        }
    }
}

#[tokio::test]
async fn faults_are_retried_and_dropped_commits_count_as_done() {
    let emu = start(BoundDelete::Reject).await;
    for kind in CloudKind::ALL {
        let api = client(&emu, kind);
        let keys = create_many(&api, 3).await;
        for (fault, (id, _)) in ["throttle", "server_error", "drop_after_commit"]
            .iter()
            .zip(&keys)
        {
            admin(
                &emu,
                "POST",
                "faults",
                json!({"action": "DeleteKeyPairs", "kind": fault, "count": 1}),
            )
            .await;
            api.delete_key_pairs(std::slice::from_ref(id))
                .await
                .unwrap_or_else(|e| panic!("{kind} {fault}: {e}"));
        }
        assert!(
            api.describe_key_pairs(&KeyQuery::All)
                .await
                .unwrap()
                .is_empty(),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn import_retried_after_dropped_answer_is_recognised() {
    let emu = start(BoundDelete::Reject).await;
    for kind in [CloudKind::Ecs, CloudKind::Cvm] {
        let api = client(&emu, kind);
        admin(
            &emu,
            "POST",
            "faults",
            json!({"action": "ImportKeyPair", "kind": "drop_after_commit", "count": 1}),
        )
        .await;
        let k = api
            .create_key_pair(&KeySpec {
                name: name(kind, 9),
                public_key: Some(PK.into()),
                ..KeySpec::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(k.name, name(kind, 9));
        assert!(!k.id.is_empty());
    }
}

#[tokio::test]
async fn attach_detach_with_per_instance_results() {
    let emu = start(BoundDelete::Reject).await;
    let api = client(&emu, CloudKind::Ecs);
    let key = create_many(&api, 1).await.remove(0);
    let mut instances: Vec<Value> = (0..119).map(|i| json!({"id": format!("i-n{i}")})).collect();
    instances.push(json!({"id": "i-win", "os": "windows"}));
    seed(&emu, CloudKind::Ecs, json!(instances)).await;
    let ids: Vec<String> = (0..119).map(|i| format!("i-n{i}")).collect();
    for chunk in ids.chunks(50) {
        let out = api
            .attach(&key.0, chunk, &BindOptions::default())
            .await
            .unwrap();
        assert!(out.iter().all(|o| o.result.is_ok()));
    }
    let bound = api
        .describe_instances(&InstanceQuery::BoundTo(key.0.clone()))
        .await
        .unwrap();
    assert_eq!(bound.len(), 119);
    // ECS refuses a whole call for one Windows instance: the client reports the refusal and
    // bind_chunk isolates the Windows instance and binds the rest.
    let mixed = ["i-n0".to_string(), "i-win".to_string(), "i-n1".to_string()];
    let whole = api.attach(&key.0, &mixed, &BindOptions::default()).await;
    assert_eq!(
        whole.map_err(|e| e.code).err().as_deref(),
        Some("DependencyViolation.WindowsInstance")
    );
    let win = sshkey::batch::bind::bind_chunk(
        &*api,
        sshkey::batch::bind::BindOp::Attach,
        &key.0,
        &mixed,
        &BindOptions::default(),
    )
    .await;
    let got: Vec<&str> = win.iter().map(|o| o.instance_id.as_str()).collect();
    assert_eq!(got, ["i-n0", "i-win", "i-n1"]);
    assert!(win[0].result.is_ok() && win[2].result.is_ok());
    let e = win[1].result.as_ref().unwrap_err();
    assert_eq!(e.code, "DependencyViolation.WindowsInstance");

    // Two callers detach overlapping sets of the same key: merged, chunked at 50.
    let before = calls_of(&emu, "DetachKeyPair").await.len();
    let c = Arc::new(DetachCoalescer::new(
        api.clone(),
        BatchSettings::for_detach(CloudKind::Ecs),
    ));
    let (a, b) = (ids[..60].to_vec(), ids[50..110].to_vec());
    let (ra, rb) = tokio::join!(
        c.detach(key.0.clone(), a.clone(), BindOptions::default()),
        c.detach(key.0.clone(), b.clone(), BindOptions::default())
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.len(), 60);
    assert_eq!(rb.len(), 60);
    assert!(ra.iter().chain(&rb).all(|o| o.result.is_ok()));
    let detach_calls = calls_of(&emu, "DetachKeyPair").await.len() - before;
    assert_eq!(detach_calls, 3, "110 distinct instances = 50 + 50 + 10");
    let still = api
        .describe_instances(&InstanceQuery::BoundTo(key.0.clone()))
        .await
        .unwrap();
    assert_eq!(still.len(), 9);
    let by_id = api
        .describe_instances(&InstanceQuery::Ids(vec!["i-n115".into(), "i-win".into()]))
        .await
        .unwrap();
    assert_eq!(by_id.len(), 2);
    api.reboot_instance("i-n115").await.unwrap();
}

#[tokio::test]
async fn cvm_bind_and_rate_limit() {
    let emu = start(BoundDelete::Reject).await;
    let api = client(&emu, CloudKind::Cvm);
    let key = create_many(&api, 1).await.remove(0);
    let ids: Vec<String> = (0..30).map(|i| format!("ins-{i:08}")).collect();
    let seeded: Vec<Value> = ids
        .iter()
        .map(|i| json!({"id": i, "status": "Stopped"}))
        .collect();
    seed(&emu, CloudKind::Cvm, json!(seeded)).await;
    // 15 single-instance associations back to back: the client spaces them under 10/s.
    for id in &ids[..15] {
        let out = api
            .attach(&key.0, std::slice::from_ref(id), &BindOptions::default())
            .await
            .unwrap();
        assert!(out[0].result.is_ok());
    }
    let calls = calls_of(&emu, "AssociateInstancesKeyPairs").await;
    assert_eq!(calls.len(), 15, "no throttled retries: {calls:?}");
    let bound = api
        .describe_instances(&InstanceQuery::BoundTo(key.0.clone()))
        .await
        .unwrap();
    assert_eq!(bound.len(), 15);
    let out = api
        .detach(&key.0, &ids[..15], &BindOptions { force_stop: true })
        .await
        .unwrap();
    assert_eq!(out.len(), 15);
    assert!(api.reboot_instance("ins-00000001").await.is_err());
}

#[tokio::test]
async fn detach_survives_dropped_answers_and_throttling() {
    let emu = start(BoundDelete::Reject).await;
    for (kind, action, ids) in [
        (
            CloudKind::Ecs,
            "DetachKeyPair",
            vec!["i-d1".to_string(), "i-d2".to_string()],
        ),
        (
            CloudKind::Cvm,
            "DisassociateInstancesKeyPairs",
            vec!["ins-dddd0001".to_string(), "ins-dddd0002".to_string()],
        ),
    ] {
        let api = client(&emu, kind);
        let key = create_many(&api, 1).await.remove(0);
        let seeded: Vec<Value> = ids
            .iter()
            .map(|i| json!({"id": i, "status": "Stopped", "keys": [key.0]}))
            .collect();
        seed(&emu, kind, json!(seeded)).await;
        for fault in ["drop_after_commit", "throttle"] {
            admin(
                &emu,
                "POST",
                "faults",
                json!({"action": action, "kind": fault, "count": 1}),
            )
            .await;
        }
        let out = api
            .detach(&key.0, &ids, &BindOptions::default())
            .await
            .unwrap();
        assert!(out.iter().all(|o| o.result.is_ok()), "{kind}: {out:?}");
        let still = api
            .describe_instances(&InstanceQuery::BoundTo(key.0.clone()))
            .await
            .unwrap();
        assert!(still.is_empty(), "{kind}: {still:?}");
    }
}
