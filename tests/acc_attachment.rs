//! Issue 5 acceptance: `sshkey_key_pair_attachment` under real Terraform against the emulator.
//! Changing `instance_ids` must be an in-place update that detaches and attaches only the
//! difference, in calls chunked to each cloud's limit, with per-instance failures kept exact.

mod support;

use serde_json::{json, Value};
use support::clouds::{Cloud, CVM, ECS, ENS};
use support::{hcl_list, provider_block, Emulator, Tf, Workspace, REQUIRED_PROVIDERS};

fn config(emu: &Emulator, c: &Cloud, ids: &[String], extra: &str) -> String {
    let list = hcl_list(ids);
    format!(
        "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"team\" {{\n  name = \"team_key\"\n}}\n\nresource \"sshkey_key_pair_attachment\" \"team\" {{\n  {}\n  instance_ids = {list}\n{extra}}}\n",
        provider_block(emu, c.name(), c.region, ""),
        c.key_ref("team")
    )
}

fn seed(emu: &Emulator, c: &Cloud, n: usize, windows: &[usize]) -> Vec<String> {
    emu.seed_instances(c, n, windows)
}

/// Instance-id list sizes of each call of `action`.
fn call_sizes(emu: &Emulator, action: &str) -> Vec<usize> {
    emu.calls_of(action)
        .iter()
        .map(|c| {
            let p = &c["params"]["InstanceIds"];
            match p {
                Value::String(s) => serde_json::from_str::<Vec<String>>(s).map_or(0, |v| v.len()),
                Value::Array(a) => a.len(),
                _ => 0,
            }
        })
        .collect()
}

/// The instances the emulator shows holding a key pair: what the cloud did, not what
/// Terraform's state claims.
fn bound_in_cloud(emu: &Emulator, c: &Cloud) -> Vec<String> {
    emu.bound_instances(c)
}

fn state_instances(ws: &Workspace) -> Vec<String> {
    let shown = ws.show_json();
    let resources = shown["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let att = resources
        .iter()
        .find(|r| r["type"] == "sshkey_key_pair_attachment")
        .cloned()
        .unwrap_or(Value::Null);
    let mut ids: Vec<String> = att["values"]["instance_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn in_place_update(c: &Cloud, tf: Tf) {
    let emu = Emulator::start();
    let all = seed(&emu, c, 125, &[]);
    let ws = Workspace::with_main(tf, &config(&emu, c, &all[..120], ""));
    ws.apply(&[]).assert_success();
    assert_eq!(state_instances(&ws).len(), 120);
    assert_eq!(
        bound_in_cloud(&emu, c),
        state_instances(&ws),
        "{}: the cloud agrees",
        c.name()
    );
    let attaches_before = emu.calls_of(c.attach).len();

    // Keep 10, remove 110, add 5.
    ws.write("main.tf", &config(&emu, c, &all[110..125], ""));
    let plan = ws.plan(&[]);
    plan.assert_success();
    let text = plan.combined();
    assert!(
        text.contains("will be updated in-place"),
        "{}: plan must be in-place: {plan}",
        c.name()
    );
    assert!(
        !text.contains("must be replaced"),
        "{}: no replacement: {plan}",
        c.name()
    );
    ws.apply(&[]).assert_success();

    let mut detaches = call_sizes(&emu, c.detach);
    detaches.sort_unstable();
    let expected: Vec<usize> = {
        let mut v = Vec::new();
        let mut left = 110;
        while left > 0 {
            v.push(left.min(c.bind_limit()));
            left -= left.min(c.bind_limit());
        }
        v.sort_unstable();
        v
    };
    eprintln!(
        "{}: detach calls {detaches:?}, attach calls {}",
        c.name(),
        emu.calls_of(c.attach).len() - attaches_before
    );
    assert_eq!(detaches, expected, "{}: detach chunks", c.name());
    assert_eq!(
        emu.calls_of(c.attach).len() - attaches_before,
        1,
        "{}: one attach call for 5 instances",
        c.name()
    );
    let mut want: Vec<String> = all[110..125].to_vec();
    want.sort();
    assert_eq!(state_instances(&ws), want);
    assert_eq!(
        bound_in_cloud(&emu, c),
        want,
        "{}: the cloud agrees",
        c.name()
    );
    // Converged: nothing left to do.
    let again = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(again.code, Some(0), "{}: {again}", c.name());
    // Attachment and key pair destroyed together: detach, then delete.
    ws.destroy(&[]).assert_success();
    assert!(ws.state_list().is_empty());
}

#[test]
fn ecs_update_is_in_place_and_chunked() {
    in_place_update(&ECS, Tf::V1_15_5);
}

#[test]
fn ens_update_is_in_place_and_chunked() {
    in_place_update(&ENS, Tf::V1_15_5);
}

#[test]
fn cvm_update_is_in_place_and_chunked() {
    in_place_update(&CVM, Tf::V1_15_5);
}

#[test]
fn ecs_update_works_on_terraform_1_0_3() {
    in_place_update(&ECS, Tf::V1_0_3);
}

#[test]
fn ens_update_works_on_terraform_1_0_3() {
    in_place_update(&ENS, Tf::V1_0_3);
}

#[test]
fn cvm_update_works_on_terraform_1_0_3() {
    in_place_update(&CVM, Tf::V1_0_3);
}

#[test]
fn windows_instance_fails_alone_when_detaching() {
    let emu = Emulator::start();
    let c = &ECS;
    let ids = seed(&emu, c, 61, &[]);
    let ws = Workspace::with_main(Tf::V1_15_5, &config(&emu, c, &ids[..61], ""));
    ws.apply(&[]).assert_success();
    // The 31st instance turns out to run Windows (re-seeded; the binding stays).
    emu.instances(json!({"cloud": c.name(), "region": c.region, "instances":[{"id": ids[30], "os":"windows","status":"Running"}]}));
    // Detach 60 of them (keep ids[60]).
    ws.write("main.tf", &config(&emu, c, &ids[60..61], ""));
    let out = ws.apply(&[]);
    out.assert_failure();
    assert!(
        out.combined().contains(&ids[30]),
        "error must name the Windows instance: {out}"
    );
    let mut want = vec![ids[30].clone(), ids[60].clone()];
    want.sort();
    assert_eq!(
        state_instances(&ws),
        want,
        "state keeps exactly the Windows instance and the kept one"
    );
    assert_eq!(bound_in_cloud(&emu, &ECS), want, "and so does the cloud");
}

#[test]
fn update_converges_through_faults() {
    let emu = Emulator::start();
    let c = &ECS;
    let ids = seed(&emu, c, 100, &[]);
    let ws = Workspace::with_main(Tf::V1_15_5, &config(&emu, c, &ids[..80], ""));
    ws.apply(&[]).assert_success();
    emu.fault(json!({"action":"DetachKeyPair","kind":"throttle","count":2,"latency_ms":0}));
    emu.fault(
        json!({"action":"AttachKeyPair","kind":"drop_after_commit","count":1,"latency_ms":0}),
    );
    ws.write("main.tf", &config(&emu, c, &ids[40..100], ""));
    // The first apply may report the dropped answer (its outcome is the cloud's to decide);
    // the second converges.
    let first = ws.apply(&[]);
    let detaches = emu.calls_of("DetachKeyPair");
    let throttled = detaches
        .iter()
        .filter(|d| d["error_code"] == "Throttling.User")
        .count();
    assert_eq!(throttled, 2, "both throttles fired: {detaches:?}");
    let attaches = emu.calls_of("AttachKeyPair");
    assert!(
        attaches.len() >= 2,
        "the dropped attach was sent again: {attaches:?} {first}"
    );
    ws.apply(&[]).assert_success();
    let again = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(again.code, Some(0), "{again}");
    let mut want: Vec<String> = ids[40..100].to_vec();
    want.sort();
    assert_eq!(state_instances(&ws), want);
    assert_eq!(bound_in_cloud(&emu, c), want, "the cloud agrees");
}

#[test]
fn instance_in_two_attachments_is_a_plan_error() {
    let emu = Emulator::start();
    let c = &ECS;
    let ids = seed(&emu, c, 3, &[]);
    let main_tf = format!(
        "{}\nresource \"sshkey_key_pair\" \"other\" {{\n  name = \"other_key\"\n}}\n\nresource \"sshkey_key_pair_attachment\" \"other\" {{\n  key_pair_name = sshkey_key_pair.other.name\n  instance_ids  = [\"{}\"]\n}}\n",
        config(&emu, c, &ids[..2], ""),
        ids[1]
    );
    let ws = Workspace::with_main(Tf::V1_15_5, &main_tf);
    let out = ws.plan(&[]);
    out.assert_failure();
    assert!(
        out.combined().contains("Instance in two attachments"),
        "{out}"
    );
    assert!(out.combined().contains(&ids[1]), "{out}");
}

#[test]
fn import_attachment_by_key() {
    let emu = Emulator::start();
    let c = &ECS;
    let ids = seed(&emu, c, 4, &[]);
    let ws = Workspace::with_main(Tf::V1_15_5, &config(&emu, c, &ids, ""));
    ws.apply(&[]).assert_success();
    let other = Workspace::with_main(Tf::V1_15_5, &config(&emu, c, &ids, ""));
    other
        .run(&["import", "-no-color", "sshkey_key_pair.team", "team_key"])
        .assert_success();
    other
        .run(&[
            "import",
            "-no-color",
            "sshkey_key_pair_attachment.team",
            "team_key",
        ])
        .assert_success();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(state_instances(&other), want);
    assert_eq!(bound_in_cloud(&emu, c), want);
    let plan = other.plan(&["-detailed-exitcode"]);
    assert_eq!(plan.code, Some(0), "the plan after import is empty: {plan}");
}

/// Instance ids named by every call of `action`, in call order.
fn call_ids(emu: &Emulator, action: &str) -> Vec<String> {
    emu.calls_of(action)
        .iter()
        .flat_map(|c| match &c["params"]["InstanceIds"] {
            Value::String(s) => serde_json::from_str::<Vec<String>>(s).unwrap_or_default(),
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// Issue 13 #3: a create that fails for one instance leaves the attachment tainted (Terraform
/// taints every create that reports an error), so the next apply replaces it. The replacement
/// must act as the in-place update it stands for: no detach, no second attach of the
/// instances that hold the key, one attach of each instance that does not.
///
/// The failure is one the plan cannot foresee (a missing, Windows or running instance fails the
/// plan, which Terraform makes again at apply): the cloud refusing the first attach call.
fn failed_create_is_replaced_touching_only_what_changed(c: &Cloud, tf: Tf, extra: &str) {
    let emu = Emulator::start();
    let ids = seed(&emu, c, 4, &[]);
    // One instance a call and no retries, so one injected failure fails one instance.
    let config = |ids: &[String]| {
        config(&emu, c, ids, extra).replace(
            "provider \"sshkey\" {\n",
            "provider \"sshkey\" {\n  max_detach_batch = 1\n  max_retries = 0\n",
        )
    };
    let ws = Workspace::with_main(tf, &config(&ids[..3]));
    emu.fault(json!({"action": c.attach, "kind": "server_error", "count": 1}));
    let failed = ws.apply(&[]);
    failed.assert_failure();
    assert_eq!(emu.pending_fault_calls(), 0, "the fault fired: {failed}");
    assert!(failed.combined().contains(&ids[0]), "{failed}");
    let shown = ws.run(&[
        "state",
        "show",
        "-no-color",
        "sshkey_key_pair_attachment.team",
    ]);
    assert!(
        shown.combined().contains("tainted"),
        "{}: Terraform taints the failed create: {shown}",
        c.name()
    );
    let healthy = vec![ids[1].clone(), ids[2].clone()];
    assert_eq!(bound_in_cloud(&emu, c), healthy, "{}", c.name());
    assert_eq!(
        state_instances(&ws),
        healthy,
        "{}: state records what holds the key",
        c.name()
    );

    // The next apply, with one more instance.
    emu.reset_calls_keeping_store();
    ws.write("main.tf", &config(&ids));
    let out = ws.apply(&[]);
    out.assert_success();
    assert_eq!(
        call_ids(&emu, c.detach),
        Vec::<String>::new(),
        "{}: no instance is detached: {out}",
        c.name()
    );
    assert_eq!(
        call_ids(&emu, c.attach),
        vec![ids[0].clone(), ids[3].clone()],
        "{}: only the instances without the key are attached: {out}",
        c.name()
    );
    assert_eq!(bound_in_cloud(&emu, c), ids, "{}", c.name());
    assert_eq!(state_instances(&ws), ids, "{}", c.name());
    let again = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(again.code, Some(0), "{}: {again}", c.name());
}

#[test]
fn ecs_failed_create_is_replaced_touching_only_what_changed() {
    failed_create_is_replaced_touching_only_what_changed(&ECS, Tf::V1_15_5, "");
}

#[test]
fn cvm_failed_create_is_replaced_touching_only_what_changed() {
    failed_create_is_replaced_touching_only_what_changed(&CVM, Tf::V1_15_5, "");
}

#[test]
fn failed_create_is_replaced_touching_only_what_changed_on_1_0_3() {
    failed_create_is_replaced_touching_only_what_changed(&ECS, Tf::V1_0_3, "");
    failed_create_is_replaced_touching_only_what_changed(&CVM, Tf::V1_0_3, "");
}

#[test]
fn failed_create_is_replaced_before_destroy_touching_only_what_changed() {
    let cbd = "  lifecycle {\n    create_before_destroy = true\n  }\n";
    failed_create_is_replaced_touching_only_what_changed(&ECS, Tf::V1_15_5, cbd);
    failed_create_is_replaced_touching_only_what_changed(&CVM, Tf::V1_15_5, cbd);
}
