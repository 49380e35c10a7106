//! Request limits through the HTTP API with signed requests: CVM's documented per-second limits
//! by default, ECS and ENS unlimited unless configured, `--rate [CLOUD:]ACTION=N` and
//! `--no-builtin-rates`, throttled calls in the call log and without effects.

mod support;

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sshkey::emulator::{Cloud, EmulatorConfig, RateLimit};
use support::api::*;
use support::clouds::{CVM, ECS};
use support::Emulator;

const CVM_R: &str = CVM.region;
const ECS_R: &str = ECS.region;

const PK: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7 me@host";

/// Every CVM action the emulator serves with its documented limit (the CVM API's "Frequency
/// Limit" table).
const CVM_LIMITS: [(&str, usize); 7] = [
    ("DescribeKeyPairs", 10),
    ("CreateKeyPair", 10),
    ("ImportKeyPair", 10),
    ("DeleteKeyPairs", 10),
    ("AssociateInstancesKeyPairs", 10),
    ("DisassociateInstancesKeyPairs", 10),
    ("DescribeInstances", 40),
];

/// A body for call `i` of `action`. Unknown ids make the admitted calls fail cheaply after the
/// rate check; names are unique so every admitted create really creates a key.
fn cvm_body(action: &str, i: usize) -> Value {
    match action {
        "CreateKeyPair" => json!({"KeyName": format!("burst_{i}"), "ProjectId": 0}),
        "ImportKeyPair" => json!({"KeyName": format!("imp_{i}"), "ProjectId": 0, "PublicKey": PK}),
        "DeleteKeyPairs" => json!({"KeyIds": ["skey-zzzzzzzz"]}),
        "AssociateInstancesKeyPairs" | "DisassociateInstancesKeyPairs" => {
            json!({"InstanceIds": ["ins-zzzzzzzz"], "KeyIds": ["skey-zzzzzzzz"]})
        }
        _ => json!({}),
    }
}

/// A burst of `n` calls of `action` on CVM.
async fn cvm_burst(emu: &impl Target, action: &'static str, n: usize) -> Vec<Answer> {
    burst(n, |i| cvm(emu, action, CVM_R, cvm_body(action, i))).await
}

/// Parameters of a cheap call of `action` on ECS or ENS.
fn alibaba_params(cloud: Cloud, action: &str) -> Vec<(&'static str, &'static str)> {
    let mut params = Vec::new();
    if cloud == Cloud::Ecs {
        params.push(("RegionId", ECS_R));
    }
    match (cloud, action) {
        (Cloud::Ecs, "DeleteKeyPairs") => params.push(("KeyPairNames", "[\"nope\"]")),
        (Cloud::Ens, "DeleteKeyPairs") => params.push(("KeyPairName", "nope")),
        _ => {}
    }
    params
}

/// A burst of `n` calls of `action` on ECS or ENS.
async fn alibaba_burst(
    emu: &impl Target,
    cloud: Cloud,
    action: &'static str,
    n: usize,
) -> Vec<Answer> {
    let version = cloud.profile().version;
    let params = alibaba_params(cloud, action);
    burst(n, |_| acs3_call(emu, version, action, &params)).await
}

/// The throttling codes `/_emulator/calls` recorded for the last `n` calls of `action`.
async fn logged_throttles(emu: &impl Target, cloud: Cloud, action: &str, n: usize) -> usize {
    let code = cloud.profile().codes.throttled;
    last_calls(emu, cloud.as_str(), action, n)
        .await
        .iter()
        .filter(|c| c["error_code"] == code)
        .count()
}

#[tokio::test]
async fn cvm_actions_are_limited_at_their_documented_rates_by_default() {
    let emu = start().await;
    for (action, limit) in CVM_LIMITS {
        let answers = cvm_burst(&emu, action, limit + 5).await;
        // Each action has its own window: exactly `limit` of the burst pass.
        assert_eq!(throttled_count(&answers), 5, "{action}: {answers:?}");
        for a in answers.iter().filter(|a| a.throttled()) {
            assert_eq!(a.status, 200, "{action}: Tencent throttles with HTTP 200");
            assert!(a.body["Response"]["RequestId"].is_string(), "{a:?}");
        }
        let log = last_calls(&emu, "cvm", action, limit + 5).await;
        assert!(log.iter().all(|c| c["http_status"] == 200), "{log:?}");
        assert_eq!(
            logged_throttles(&emu, Cloud::Cvm, action, limit + 5).await,
            5,
            "{action}: {log:?}"
        );
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn throttled_creates_create_nothing() {
    let emu = start().await;
    let answers = cvm_burst(&emu, "CreateKeyPair", 20).await;
    assert_eq!(throttled_count(&answers), 10, "{answers:?}");
    let created: Vec<&str> = answers
        .iter()
        .filter(|a| !a.throttled())
        .map(|a| a.body["Response"]["KeyPair"]["KeyName"].as_str().unwrap())
        .collect();
    let mut kept: Vec<String> = admin_get(&emu, "state").await["cvm"][CVM_R]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect();
    kept.sort();
    let mut created: Vec<String> = created.into_iter().map(String::from).collect();
    created.sort();
    assert_eq!(kept, created);
    emu.shutdown().await;
}

#[tokio::test]
async fn throttled_calls_leave_pending_faults_alone() {
    let emu = start_with(EmulatorConfig {
        rates: vec![RateLimit::new(Some(Cloud::Ecs), "CreateKeyPair", 1)],
        ..Default::default()
    })
    .await;
    let create = |name: &'static str| async {
        ecs(
            &emu,
            "CreateKeyPair",
            &[("RegionId", ECS_R), ("KeyPairName", name)],
        )
        .await
    };
    assert_eq!(create("first").await.status, 200);
    let f = admin_post(
        &emu,
        "faults",
        json!({"action": "CreateKeyPair", "kind": "server_error"}),
    )
    .await;
    assert_eq!(f.status, 200);
    let refused = create("second").await;
    assert!(refused.throttled(), "{refused:?}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The fault was still pending: the throttled call never reached it.
    let faulted = create("third").await;
    assert_eq!(
        (faulted.status, faulted.code()),
        (500, Some("InternalError"))
    );
    let state = admin_get(&emu, "state").await;
    let names: Vec<&str> = state["ecs"][ECS_R]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first"]);
    let calls = admin_get(&emu, "calls").await;
    assert_eq!(calls[1]["error_code"], "Throttling.User");
    assert_eq!(calls[1]["http_status"], 400);
    assert_eq!(calls[1]["params"]["KeyPairName"], "second");
    emu.shutdown().await;
}

#[tokio::test]
async fn ecs_and_ens_are_unlimited_by_default() {
    let emu = start().await;
    for cloud in [Cloud::Ecs, Cloud::Ens] {
        for action in ["DescribeKeyPairs", "DeleteKeyPairs"] {
            // 100 at once: any limit under 50/s would show unless they took over 2 s.
            let version = cloud.profile().version;
            let params = alibaba_params(cloud, action);
            let answers = concurrently(0..100, |_| acs3_call(&emu, version, action, &params)).await;
            assert_eq!(throttled_count(&answers), 0, "{cloud:?} {action}");
            assert_eq!(logged_throttles(&emu, cloud, action, 100).await, 0);
        }
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn a_qualified_rate_limits_only_its_cloud() {
    let emu = start_with(EmulatorConfig {
        rates: vec!["ecs:DescribeKeyPairs=5".parse().unwrap()],
        ..Default::default()
    })
    .await;
    let answers = alibaba_burst(&emu, Cloud::Ecs, "DescribeKeyPairs", 10).await;
    assert_eq!(throttled_count(&answers), 5, "{answers:?}");
    for a in answers.iter().filter(|a| a.throttled()) {
        assert_eq!(a.status, 400);
        assert_eq!(
            a.body["Message"],
            "Request was denied due to user flow control."
        );
    }
    assert_eq!(
        answers.iter().filter(|a| a.status == 200).count(),
        5,
        "{answers:?}"
    );
    let log = last_calls(&emu, "ecs", "DescribeKeyPairs", 10).await;
    let logged: Vec<_> = log
        .iter()
        .filter(|c| c["error_code"] == "Throttling.User")
        .collect();
    assert_eq!(logged.len(), 5, "{log:?}");
    assert!(logged.iter().all(|c| c["http_status"] == 400), "{log:?}");
    // Only that action on that cloud.
    let other = alibaba_burst(&emu, Cloud::Ecs, "DeleteKeyPairs", 20).await;
    assert_eq!(throttled_count(&other), 0);
    let ens = alibaba_burst(&emu, Cloud::Ens, "DescribeKeyPairs", 20).await;
    assert_eq!(throttled_count(&ens), 0);
    // CVM keeps its own documented limit, not ECS's.
    let cvm = cvm_burst(&emu, "DescribeKeyPairs", 20).await;
    assert_eq!(throttled_count(&cvm), 10);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_plain_rate_limits_every_cloud() {
    let emu = start_with(EmulatorConfig {
        rates: vec!["DescribeKeyPairs=3".parse().unwrap()],
        ..Default::default()
    })
    .await;
    for cloud in [Cloud::Ecs, Cloud::Ens] {
        let answers = alibaba_burst(&emu, cloud, "DescribeKeyPairs", 6).await;
        assert_eq!(throttled_count(&answers), 3, "{cloud:?}: {answers:?}");
    }
    // Stricter than CVM's documented 10/s, so it wins there too.
    let cvm = cvm_burst(&emu, "DescribeKeyPairs", 6).await;
    assert_eq!(throttled_count(&cvm), 3, "{cvm:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn no_builtin_rates_lifts_the_cvm_limits_but_not_configured_ones() {
    let emu = start_with(EmulatorConfig {
        builtin_rates: false,
        ..Default::default()
    })
    .await;
    for (action, limit) in CVM_LIMITS {
        let answers = cvm_burst(&emu, action, limit + 5).await;
        assert_eq!(throttled_count(&answers), 0, "{action}: {answers:?}");
    }
    emu.shutdown().await;

    let emu = start_with(EmulatorConfig {
        builtin_rates: false,
        rates: vec!["cvm:DeleteKeyPairs=3".parse().unwrap()],
        ..Default::default()
    })
    .await;
    let answers = cvm_burst(&emu, "DeleteKeyPairs", 20).await;
    assert_eq!(throttled_count(&answers), 17, "{answers:?}");
    let described = cvm_burst(&emu, "DescribeKeyPairs", 20).await;
    assert_eq!(throttled_count(&described), 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn the_binary_takes_qualified_rates_and_no_builtin_rates() {
    let emu = Emulator::start_with(&[]);
    let answers = cvm_burst(&emu, "DescribeKeyPairs", 20).await;
    assert_eq!(throttled_count(&answers), 10, "built-in limits by default");
    drop(emu);

    let emu = Emulator::start_with(&[
        "--rate",
        "ecs:DescribeKeyPairs=2",
        "--rate",
        "DeleteKeyPairs=1",
        "--no-builtin-rates",
    ]);
    let ecs = alibaba_burst(&emu, Cloud::Ecs, "DescribeKeyPairs", 4).await;
    assert_eq!(throttled_count(&ecs), 2, "{ecs:?}");
    let ens = alibaba_burst(&emu, Cloud::Ens, "DescribeKeyPairs", 4).await;
    assert_eq!(throttled_count(&ens), 0, "{ens:?}");
    let cvm_described = cvm_burst(&emu, "DescribeKeyPairs", 20).await;
    assert_eq!(throttled_count(&cvm_described), 0, "built-ins are off");
    let cvm_deleted = cvm_burst(&emu, "DeleteKeyPairs", 2).await;
    assert_eq!(
        throttled_count(&cvm_deleted),
        1,
        "the plain rate is for CVM too"
    );
    drop(emu);

    for bad in ["aws:DeleteKeyPairs=1", "ecs:DeleteKeyPairs=0", "ecs:=1"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sshkey-emulator"))
            .args(["--listen", "127.0.0.1:0", "--rate", bad])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(bad), "{bad}: {stderr}");
    }
}

/// Fills the ECS DescribeKeyPairs window (limit 1), runs `clear`, and checks that the next call
/// passes at once: the window was emptied, not merely outlived (attempts that took too long for
/// that to be certain are repeated).
async fn check_window_cleared_by<F, Fut>(emu: &impl Target, mut clear: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let describe = || ecs(emu, "DescribeKeyPairs", &[("RegionId", ECS_R)]);
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let started = Instant::now();
        assert_eq!(describe().await.status, 200);
        assert!(describe().await.throttled());
        clear().await;
        let after = describe().await;
        if started.elapsed() < Duration::from_millis(900) {
            assert_eq!(after.status, 200, "{after:?}");
            return;
        }
    }
    panic!("the machine was too slow to check within one rate window");
}

#[tokio::test]
async fn reset_and_snapshot_restore_clear_the_rate_windows() {
    let emu = start_with(EmulatorConfig {
        rates: vec!["ecs:DescribeKeyPairs=1".parse().unwrap()],
        ..Default::default()
    })
    .await;
    check_window_cleared_by(&emu, || async {
        assert_eq!(admin_post(&emu, "reset", json!({})).await.status, 200);
    })
    .await;
    let snapshot = admin_get(&emu, "snapshot").await;
    check_window_cleared_by(&emu, || async {
        let restored = admin_post(&emu, "snapshot", snapshot.clone()).await;
        assert_eq!(restored.status, 200);
    })
    .await;
    emu.shutdown().await;
}
