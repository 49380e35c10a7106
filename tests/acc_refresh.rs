//! Real Terraform against the emulator with its built-in request limits (CVM: 10 requests/s for
//! every key-pair action, 40 for DescribeInstances): every call stays within them, and refresh
//! reads key pairs in batches instead of one call per key.
//!
//! `make bench` runs the same scenarios at N = 1000; here N is as small as still proves the
//! point: pages instead of one call per key, a handful of calls among thousands of other keys,
//! (almost) no throttled answer, and a plan that stays exact under faults and concurrent
//! changes.
//!
//! Throttling: the provider spaces calls with 80 ms to spare at 10/s, and `make bench`, on a
//! quiet machine, asserts 0 throttled answers. Here two tests share 2 cores with their
//! Terraform runs, and a request delayed by more than the margin behind its neighbours is
//! counted in the wrong second; `assert_paced` allows one throttled answer in 50 calls, and
//! the callers always assert that every resource was created once and none failed.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use support::clouds::{Cloud, CVM, ECS};
use support::{provider_block, Emulator, Output, Tf, Workspace, REQUIRED_PROVIDERS};

const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7 ws@host";

/// Emulator latency: a round trip to a cloud region, so the limits bite as they would.
const LATENCY: &[&str] = &["--latency-ms", "20"];

/// How a workspace names its keys.
#[derive(Clone, Copy)]
enum Names {
    /// `ws_0000`, `ws_0001`, ...: one shared prefix, as `count` and `for_each` users write.
    Prefixed,
    /// Names that share no prefix at all.
    Scattered,
}

impl Names {
    fn hcl(self) -> &'static str {
        match self {
            Names::Prefixed => "format(\"ws_%04d\", count.index)",
            // A different first letter for every key, then its index.
            Names::Scattered => {
                "format(\"%s%04d\", substr(\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\", count.index % 52, 1), count.index)"
            }
        }
    }
}

fn keys_config(emu: &Emulator, cloud: &Cloud, n: usize, names: Names, extra: &str) -> String {
    format!(
        "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  count      = {n}\n  name       = {}\n  public_key = \"{PUBLIC_KEY}\"\n}}\n",
        provider_block(emu, cloud.name(), cloud.region, extra),
        names.hcl()
    )
}

/// DescribeKeyPairs calls, and answers throttled for any action, since the last reset.
fn describe_calls(emu: &Emulator) -> usize {
    emu.calls_of("DescribeKeyPairs").len()
}

fn throttled(emu: &Emulator) -> Vec<Value> {
    emu.calls()
        .into_iter()
        .filter(|c| {
            matches!(
                c["error_code"].as_str(),
                Some("RequestLimitExceeded" | "Throttling.User")
            )
        })
        .collect()
}

/// The keys of one cloud's region in the emulator's snapshot format, for seeding keys made
/// outside the workspace without thousands of API calls.
fn foreign_key(cloud: &Cloud, i: usize) -> Value {
    let (id, name) = match cloud.name() {
        "cvm" => (format!("skey-f{i:07}"), format!("other_{i:05}")),
        _ => (format!("other-{i:05}"), format!("other-{i:05}")),
    };
    json!({
        "cloud": cloud.name(),
        "region": cloud.region,
        "id": id,
        "name": name,
        "fingerprint": "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff",
        "public_key": PUBLIC_KEY,
        "creation_time": "2026-01-01T00:00:00Z",
    })
}

/// Puts `before` foreign keys ahead of everything in the listing and `after` behind it, and
/// drops the workspace keys named in `delete` (deleted behind Terraform's back). Restoring
/// also clears the call log and the rate windows.
fn reseed(emu: &Emulator, cloud: &Cloud, before: usize, after: usize, delete: &[String]) {
    let mut snap = emu.snapshot();
    let keys = snap["keys"].as_array_mut().expect("snapshot keys");
    keys.retain(|k| !delete.iter().any(|d| k["name"] == d.as_str()));
    let mut all: Vec<Value> = (0..before).map(|i| foreign_key(cloud, i)).collect();
    all.append(keys);
    all.extend((before..before + after).map(|i| foreign_key(cloud, i)));
    snap["keys"] = Value::Array(all);
    emu.restore(&snap);
}

/// `plan -detailed-exitcode`'s exit code (0 no changes, 2 changes), failing on errors.
fn plan_code(ws: &Workspace) -> i32 {
    let out = ws.plan(&["-detailed-exitcode"]);
    match out.code {
        Some(c @ (0 | 2)) => c,
        _ => panic!("plan failed: {out}"),
    }
}

fn assert_no_changes(ws: &Workspace) {
    let out = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(out.code, Some(0), "the plan is not empty: {out}");
}

fn created_addresses(ws: &Workspace) -> Vec<String> {
    let out = ws.run(&["plan", "-out=tfplan", "-input=false"]);
    out.assert_success();
    let show = ws.run(&["show", "-json", "tfplan"]);
    show.assert_success();
    let plan: Value = serde_json::from_str(&show.stdout).expect("plan JSON");
    let mut created = Vec::new();
    for rc in plan["resource_changes"].as_array().into_iter().flatten() {
        let actions = &rc["change"]["actions"];
        if *actions == json!(["create"]) {
            created.push(rc["address"].as_str().unwrap_or_default().to_string());
        } else {
            assert_eq!(*actions, json!(["no-op"]), "unexpected change: {rc}");
        }
    }
    created.sort();
    created
}

fn apply(ws: &Workspace, extra: &[&str]) -> Output {
    let out = ws.apply(extra);
    out.assert_success();
    out
}

/// At most one answer in 50 throttled (see the module doc), across every action.
fn assert_paced(emu: &Emulator, what: &str) {
    let calls = emu.calls().len();
    let refused = throttled(emu);
    assert!(
        refused.len() <= calls / 50,
        "{what}: {} of {calls} answers throttled: {refused:?}",
        refused.len()
    );
}

/// A workspace of `n` imported keys, applied under the built-in limits, and checked: paced,
/// one successful ImportKeyPair per key, and an empty plan after.
fn applied(emu: &Emulator, tf: Tf, cloud: &Cloud, n: usize, names: Names) -> Workspace {
    emu.reset();
    let ws = Workspace::with_main(tf, &keys_config(emu, cloud, n, names, ""));
    apply(&ws, &[]);
    let imported = emu
        .calls_of("ImportKeyPair")
        .iter()
        .filter(|c| c["error_code"].is_null())
        .count();
    assert_eq!(imported, n, "{}: each key imported once", cloud.name());
    assert_paced(emu, &format!("{} apply of {n}", cloud.name()));
    assert_no_changes(&ws);
    ws
}

/// Plan of `n` keys among 40 made outside the workspace, with 3 of ours deleted behind
/// Terraform's back: batched reads, no throttling, exactly the 3 planned for creation.
fn plan_reads_in_pages(tf: Tf, cloud: Cloud, n: usize, names: Names, most_calls: usize) {
    let emu = Emulator::start_with(LATENCY);
    let ws = applied(&emu, tf, &cloud, n, names);
    let state = ws.show_json();
    let gone: Vec<String> = state["values"]["root_module"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| [7, 70, n - 1].contains(&(r["index"].as_u64().unwrap_or(0) as usize)))
        .map(|r| r["values"]["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(gone.len(), 3);
    reseed(&emu, &cloud, 20, 20, &gone);

    let created = created_addresses(&ws);
    let expected: Vec<String> = {
        let mut e: Vec<String> = [7, 70, n - 1]
            .iter()
            .map(|i| format!("sshkey_key_pair.k[{i}]"))
            .collect();
        e.sort();
        e
    };
    assert_eq!(
        created,
        expected,
        "{}: exactly the deleted keys are re-created",
        cloud.name()
    );
    let calls = describe_calls(&emu);
    eprintln!(
        "{} on Terraform {}: plan of {n} keys among 40 others took {calls} DescribeKeyPairs calls",
        cloud.name(),
        tf.version()
    );
    assert!(
        calls <= most_calls,
        "{}: {calls} DescribeKeyPairs calls for {n} keys",
        cloud.name()
    );
    let refused = throttled(&emu);
    assert!(
        refused.is_empty(),
        "{}: plan was throttled: {refused:?}",
        cloud.name()
    );

    // The same plan one call per key, for comparison: the reader is what saves the calls.
    reseed(&emu, &cloud, 0, 0, &[]);
    ws.write(
        "main.tf",
        &keys_config(&emu, &cloud, n, names, "  max_read_batch = 1\n"),
    );
    assert_eq!(plan_code(&ws), 2);
    let one_call = describe_calls(&emu);
    assert!(
        one_call >= n - 3,
        "{}: {one_call} calls with max_read_batch = 1",
        cloud.name()
    );
    assert_paced(&emu, "one call per key");
}

#[test]
fn cvm_plan_reads_in_pages() {
    // 237 keys in the region: 3 pages of 100, a lookup before the first page and a lookup
    // each to confirm the 3 deleted keys.
    plan_reads_in_pages(Tf::V1_15_5, CVM, 200, Names::Prefixed, 8);
}

#[test]
fn ecs_plan_reads_in_pages() {
    // The names share "ws_0" or "ws_": 4 pages of 50, lookups for the first read, the 3
    // deleted keys and the reads waiting when a page is late.
    plan_reads_in_pages(Tf::V1_15_5, ECS, 200, Names::Prefixed, 20);
}

#[test]
fn cvm_plan_reads_in_pages_on_terraform_1_0_3_with_names_sharing_no_prefix() {
    plan_reads_in_pages(Tf::V1_0_3, CVM, 120, Names::Scattered, 8);
}

#[test]
fn ecs_plan_reads_in_pages_on_terraform_1_0_3() {
    plan_reads_in_pages(Tf::V1_0_3, ECS, 120, Names::Prefixed, 16);
}

/// 20 keys among 5000 made outside the workspace: never more calls than keys.
fn few_keys_among_thousands(cloud: Cloud, names: Names) {
    let emu = Emulator::start_with(LATENCY);
    let ws = applied(&emu, Tf::V1_15_5, &cloud, 20, names);
    reseed(&emu, &cloud, 5000, 0, &[]);
    assert_no_changes(&ws);
    let calls = describe_calls(&emu);
    eprintln!(
        "{}: plan of 20 keys among 5000 took {calls} DescribeKeyPairs calls",
        cloud.name()
    );
    assert!(calls <= 20, "{}: {calls} calls for 20 keys", cloud.name());
    assert!(throttled(&emu).is_empty());
}

#[test]
fn cvm_20_keys_among_5000() {
    few_keys_among_thousands(CVM, Names::Prefixed);
}

#[test]
fn ecs_20_keys_among_5000() {
    few_keys_among_thousands(ECS, Names::Prefixed);
}

#[test]
fn ecs_20_keys_sharing_no_prefix_among_5000() {
    few_keys_among_thousands(ECS, Names::Scattered);
}

/// Throttling, server errors and dropped answers on DescribeKeyPairs mid-refresh: the plan is
/// still exact and nothing leaves the state.
fn refresh_survives_faults(cloud: Cloud) {
    let emu = Emulator::start_with(LATENCY);
    let ws = applied(&emu, Tf::V1_15_5, &cloud, 150, Names::Prefixed);
    for (kind, count) in [
        ("throttle", 3),
        ("server_error", 2),
        ("drop_after_commit", 2),
    ] {
        emu.reset_calls_keeping_store();
        emu.fault(json!({"action": "DescribeKeyPairs", "kind": kind, "count": count}));
        assert_no_changes(&ws);
        let calls = emu.calls_of("DescribeKeyPairs");
        let fired = if kind == "drop_after_commit" {
            // A dropped answer was served, then retried: the same parameters twice.
            let mut seen = std::collections::HashSet::new();
            calls
                .iter()
                .filter(|c| !seen.insert(c["params"].to_string()))
                .count()
        } else {
            calls.iter().filter(|c| c["error_code"].is_string()).count()
        };
        assert!(
            fired >= count,
            "{} {kind}: the fault fired {fired} times",
            cloud.name()
        );
        assert_eq!(
            ws.state_list().len(),
            150,
            "{} {kind}: state lost keys",
            cloud.name()
        );
    }
}

#[test]
fn cvm_refresh_survives_faults() {
    refresh_survives_faults(CVM);
}

#[test]
fn ecs_refresh_survives_faults() {
    refresh_survives_faults(ECS);
}

/// Another client creates and deletes keys ahead of ours in the listing while the plan runs,
/// so pages shift under the reader: keys a page missed are looked up, none is planned anew.
fn concurrent_changes_keep_the_plan_exact(cloud: Cloud) {
    let emu = Emulator::start_with(LATENCY);
    let ws = applied(&emu, Tf::V1_15_5, &cloud, 150, Names::Prefixed);
    reseed(&emu, &cloud, 300, 0, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        let endpoint = emu.endpoint();
        std::thread::spawn(move || churn_ahead(&cloud, &endpoint, &stop))
    };
    let code = plan_code(&ws);
    stop.store(true, Ordering::SeqCst);
    let changes = churn.join().expect("churn thread");
    assert!(
        changes > 0,
        "{}: the other client changed nothing",
        cloud.name()
    );
    assert_eq!(
        code,
        0,
        "{}: keys planned anew while they exist",
        cloud.name()
    );
    assert_eq!(ws.state_list().len(), 150);
}

/// Deletes the oldest foreign keys and creates new ones until `stop`; returns the changes made.
fn churn_ahead(cloud: &Cloud, endpoint: &str, stop: &AtomicBool) -> usize {
    use sshkey::cloud::{self, ClientConfig, Credentials, KeySpec};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let api = cloud::new_client(ClientConfig {
            kind: cloud.kind,
            region: cloud.region.to_string(),
            credentials: Credentials::long_term(support::ACCESS_KEY, support::SECRET_KEY),
            endpoint: Some(endpoint.parse().expect("endpoint")),
            request_timeout: std::time::Duration::from_secs(10),
            max_retries: 8,
            retry_deadline: std::time::Duration::from_secs(40),
            assume_role: None,
            sts_endpoint: None,
        })
        .expect("client");
        let mut changes = 0;
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) && i < 300 {
            let old = foreign_key(cloud, i);
            let id = old["id"].as_str().unwrap_or_default().to_string();
            api.delete_key_pairs(&[id])
                .await
                .expect("delete a foreign key");
            let name = match cloud.name() {
                "cvm" => format!("new_{i:05}"),
                _ => format!("new-{i:05}"),
            };
            api.create_key_pair(&KeySpec {
                name,
                public_key: Some(PUBLIC_KEY.to_string()),
                ..KeySpec::default()
            })
            .await
            .expect("create a foreign key");
            changes += 2;
            i += 1;
        }
        changes
    })
}

#[test]
fn cvm_concurrent_changes_keep_the_plan_exact() {
    concurrent_changes_keep_the_plan_exact(CVM);
}

#[test]
fn ecs_concurrent_changes_keep_the_plan_exact() {
    concurrent_changes_keep_the_plan_exact(ECS);
}

/// The run that failed before pacing: 300 imported CVM keys under the real limits, applied,
/// planned and destroyed with no throttled answer.
#[test]
fn cvm_300_keys_apply_plan_and_destroy_within_the_limits() {
    let emu = Emulator::start_with(LATENCY);
    let ws = applied(&emu, Tf::V1_15_5, &CVM, 300, Names::Prefixed);
    emu.reset_calls_keeping_store();
    assert_no_changes(&ws);
    assert_paced(&emu, "plan");
    ws.destroy(&[]).assert_success();
    assert_paced(&emu, "plan and destroy");
    assert!(ws.state_list().is_empty());
}

/// Attachment refreshes describe the attachment's own instances, at most 100 ids a call.
#[test]
fn attachment_refresh_describes_its_instances_in_chunks() {
    for cloud in [CVM, ECS] {
        let emu = Emulator::start_with(LATENCY);
        let ids = cloud.instance_ids(150);
        emu.instances(json!({
            "cloud": cloud.name(),
            "region": cloud.region,
            "instances": ids.iter().map(|id| json!({"id": id, "os": "linux", "status": cloud.bind_status()})).collect::<Vec<_>>(),
        }));
        // Instances of other workspaces, which a refresh must not page through.
        let others: Vec<String> = (1000..1400).map(|i| cloud.instance_id(i)).collect();
        emu.instances(json!({
            "cloud": cloud.name(),
            "region": cloud.region,
            "instances": others.iter().map(|id| json!({"id": id, "os": "linux", "status": cloud.bind_status()})).collect::<Vec<_>>(),
        }));
        let config = format!(
            "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name       = \"att_key\"\n  public_key = \"{PUBLIC_KEY}\"\n}}\nresource \"sshkey_key_pair_attachment\" \"a\" {{\n  {}\n  instance_ids = [for i in range(150) : format(\"{}\", i)]\n}}\n",
            provider_block(&emu, cloud.name(), cloud.region, ""),
            cloud.key_ref("k"),
            cloud.instance_format()
        );
        let ws = Workspace::with_main(Tf::V1_15_5, &config);
        apply(&ws, &[]);
        emu.reset_calls_keeping_store();
        assert_no_changes(&ws);
        let described = emu.calls_of("DescribeInstances");
        assert!(
            (2..=3).contains(&described.len()),
            "{}: {} DescribeInstances calls",
            cloud.name(),
            described.len()
        );
        for call in &described {
            let ids = instance_ids_param(&call["params"]["InstanceIds"]);
            assert!(
                !ids.is_empty() && ids.len() <= 100,
                "{}: a refresh call named {} instances",
                cloud.name(),
                ids.len()
            );
        }
        assert!(throttled(&emu).is_empty());
    }
}

/// `InstanceIds` as logged: a JSON array (CVM) or a JSON-array string (Alibaba).
fn instance_ids_param(v: &Value) -> Vec<String> {
    let parsed = match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    parsed
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// An account quota lower than anything documented (ECS publishes none): the provider starts
/// unpaced, is throttled, slows down and finishes every resource.
#[test]
fn ecs_apply_and_plan_survive_an_undocumented_quota() {
    let emu = Emulator::start_with(&[
        "--latency-ms",
        "20",
        "--rate",
        "ImportKeyPair=5",
        "--rate",
        "DescribeKeyPairs=5",
    ]);
    let ws = Workspace::with_main(
        Tf::V1_15_5,
        &keys_config(&emu, &ECS, 40, Names::Scattered, ""),
    );
    let started = std::time::Instant::now();
    apply(&ws, &[]);
    let imports = emu.calls_of("ImportKeyPair");
    let refused = imports
        .iter()
        .filter(|c| c["error_code"] == "Throttling.User")
        .count();
    eprintln!(
        "ecs: 40 imports under a 5/s quota: {} calls, {refused} throttled, {:.1} s",
        imports.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(refused > 0, "the quota never bit");
    assert!(
        refused < 25,
        "the pacer did not slow down: {refused} throttled"
    );
    assert_eq!(imports.len() - refused, 40, "each key imported once");

    emu.reset_calls_keeping_store();
    assert_no_changes(&ws);
    let describes = emu.calls_of("DescribeKeyPairs");
    let refused = describes
        .iter()
        .filter(|c| c["error_code"] == "Throttling.User")
        .count();
    eprintln!(
        "ecs: plan of 40 keys under a 5/s quota: {} calls, {refused} throttled",
        describes.len()
    );
    assert!(refused < 25, "{refused} throttled");
    assert_eq!(ws.state_list().len(), 40);
}

/// A cloud that never stops throttling fails the resource only once the retry deadline is
/// spent, and the error says so and names the settings that bound it.
#[test]
fn endless_throttling_fails_with_the_deadline_and_the_setting() {
    let emu = Emulator::start();
    emu.fault(json!({"action": "ImportKeyPair", "kind": "throttle", "count": 100000}));
    let ws = Workspace::with_main(
        Tf::V1_15_5,
        &keys_config(
            &emu,
            &ECS,
            1,
            Names::Prefixed,
            "  request_timeout = \"1s\"\n  max_retries = 1\n",
        ),
    );
    let started = std::time::Instant::now();
    let out = ws.apply(&[]);
    out.assert_failure();
    let text = support::strip_ansi(&out.combined()).replace('\n', " ");
    for needle in [
        "Throttling.User",
        "kept throttling",
        "retry deadline, 4 s",
        "request_timeout",
        "-parallelism",
    ] {
        assert!(text.contains(needle), "{needle:?} missing: {text}");
    }
    // The slowed pacer's next slot would fall past the 4 s deadline: it gives up before it.
    let took = started.elapsed();
    assert!(took.as_secs_f64() >= 1.0 && took.as_secs() < 40, "{took:?}");
    let attempts = emu.calls_of("ImportKeyPair").len();
    assert!(
        attempts > 2,
        "throttled attempts are not bounded by max_retries = 1: {attempts}"
    );
    assert!(ws.state_list().is_empty());
}
