//! Issue 15 §2 acceptance: `tags`, `resource_group_id` and the provider's `default_tags` on
//! `sshkey_key_pair`, with real Terraform against the emulator. Tags change in place (ECS
//! TagResources / UntagResources, Tencent's Tag API), never by replacing the key; a refresh
//! reads them back, so a tag changed outside Terraform shows as drift and apply restores it;
//! ECS moves a key pair between resource groups in place; ENS refuses tags at plan time.
//!
//! Every check of the cloud's side reads the emulator's state, not Terraform's.

mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use support::clouds::named;
use support::{provider_block, Emulator, Output, Tf, Workspace, REQUIRED_PROVIDERS};

/// A workspace with one `sshkey_key_pair.k` named `name` and `body` as its extra lines;
/// `provider_extra` goes into the provider block.
fn config(emu: &Emulator, cloud: &str, provider_extra: &str, body: &str) -> String {
    let name = if cloud == "cvm" {
        "tagged_k"
    } else {
        "tagged-k"
    };
    format!(
        "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name = \"{name}\"\n{body}}}\n",
        provider_block(emu, cloud, named(cloud).region, provider_extra)
    )
}

/// The one key pair of `cloud` in the emulator.
fn cloud_key(emu: &Emulator, cloud: &str) -> Value {
    let state = emu.state();
    let keys: Vec<Value> = state[cloud]
        .as_object()
        .into_iter()
        .flat_map(|regions| regions.values())
        .flat_map(|r| r["keys"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(keys.len(), 1, "{cloud}: one key pair in the cloud: {state}");
    keys[0].clone()
}

fn cloud_tags(emu: &Emulator, cloud: &str) -> BTreeMap<String, String> {
    serde_json::from_value(cloud_key(emu, cloud)["tags"].clone()).expect("tags are a map")
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The state's attributes of `sshkey_key_pair.k`.
fn state_of(ws: &Workspace) -> Value {
    let shown = ws.show_json();
    shown["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["address"] == "sshkey_key_pair.k"))
        .map(|r| r["values"].clone())
        .unwrap_or_else(|| panic!("sshkey_key_pair.k not in state: {shown}"))
}

fn assert_empty_plan(ws: &Workspace, why: &str) {
    let plan = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(
        plan.code,
        Some(0),
        "{why}: the next plan must be empty: {plan}"
    );
}

/// A plan that updates `sshkey_key_pair.k` in place and replaces nothing.
fn assert_in_place(plan: &Output) {
    let text = plan.combined();
    assert!(
        text.contains("sshkey_key_pair.k will be updated in-place"),
        "expected an in-place update: {plan}"
    );
    assert!(
        !text.contains("must be replaced") && !text.contains("forces replacement"),
        "nothing may be replaced: {plan}"
    );
}

/// Changes a key pair's tags behind Terraform's back, as a console edit would: the store is
/// rewritten through the admin API (which also clears the call log).
fn edit_tags_outside(emu: &Emulator, cloud: &str, tags: &[(&str, &str)]) {
    let mut snapshot = emu.snapshot();
    let keys = snapshot["keys"].as_array_mut().expect("snapshot keys");
    let key = keys
        .iter_mut()
        .find(|k| k["cloud"] == cloud)
        .expect("the key pair is in the snapshot");
    key["tags"] = json!(tags.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>());
    emu.restore(&snapshot);
}

/// Create with tags, change them: an in-place update through the tagging calls, the same key
/// pair (no delete, no create), the cloud holds the new tags, and the next plan is empty.
fn tags_change_in_place(tf: Tf, cloud: &str) {
    let emu = Emulator::start();
    let first = "  tags = {\n    team = \"a\"\n    env  = \"dev\"\n  }\n";
    let ws = Workspace::with_main(tf, &config(&emu, cloud, "", first));
    ws.apply(&[]).assert_success();
    assert_eq!(
        cloud_tags(&emu, cloud),
        tags(&[("env", "dev"), ("team", "a")])
    );
    let id = cloud_key(&emu, cloud)["id"].clone();
    assert_empty_plan(&ws, "after create");

    let second = "  tags = {\n    team  = \"b\"\n    owner = \"ops\"\n  }\n";
    ws.write("main.tf", &config(&emu, cloud, "", second));
    assert_in_place(&ws.plan(&[]));
    let before = emu.calls().len();
    ws.apply(&[]).assert_success();
    let calls: Vec<String> = emu.calls()[before..]
        .iter()
        .filter_map(|c| c["action"].as_str().map(String::from))
        .collect();
    for forbidden in ["DeleteKeyPairs", "CreateKeyPair", "ImportKeyPair"] {
        assert!(
            !calls.iter().any(|a| a == forbidden),
            "{cloud}: a tag edit called {forbidden}: {calls:?}"
        );
    }
    assert!(calls.iter().any(|a| a == "TagResources"), "{calls:?}");
    assert!(
        calls
            .iter()
            .any(|a| a.eq_ignore_ascii_case("UntagResources")),
        "{calls:?}"
    );
    assert_eq!(
        cloud_tags(&emu, cloud),
        tags(&[("owner", "ops"), ("team", "b")])
    );
    assert_eq!(cloud_key(&emu, cloud)["id"], id, "the same key pair");
    assert_empty_plan(&ws, "after the tag edit");

    // Removing every tag is an in-place update too, and null config stays null.
    ws.write("main.tf", &config(&emu, cloud, "", ""));
    assert_in_place(&ws.plan(&[]));
    ws.apply(&[]).assert_success();
    assert!(cloud_tags(&emu, cloud).is_empty());
    assert_eq!(cloud_key(&emu, cloud)["id"], id);
    assert_empty_plan(&ws, "after removing the tags");
}

#[test]
fn ecs_tags_change_in_place() {
    tags_change_in_place(Tf::V1_15_5, "ecs");
}

#[test]
fn cvm_tags_change_in_place() {
    tags_change_in_place(Tf::V1_15_5, "cvm");
}

#[test]
fn ecs_tags_change_in_place_on_terraform_1_0_3() {
    tags_change_in_place(Tf::V1_0_3, "ecs");
}

/// A tag changed in the console shows in the plan, and apply puts the configured tags back.
fn outside_change_is_drift(cloud: &str) {
    let emu = Emulator::start();
    let body = "  tags = {\n    team = \"a\"\n  }\n";
    let ws = Workspace::with_main(Tf::V1_15_5, &config(&emu, cloud, "", body));
    ws.apply(&[]).assert_success();
    assert_empty_plan(&ws, "after create");

    edit_tags_outside(&emu, cloud, &[("team", "console"), ("extra", "x")]);
    let plan = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(plan.code, Some(2), "{cloud}: the drift must show: {plan}");
    assert_in_place(&plan);
    assert!(plan.combined().contains("console"), "{plan}");
    ws.apply(&[]).assert_success();
    assert_eq!(cloud_tags(&emu, cloud), tags(&[("team", "a")]));
    assert_empty_plan(&ws, "after restoring the tags");
}

#[test]
fn ecs_outside_tag_change_is_drift() {
    outside_change_is_drift("ecs");
}

#[test]
fn cvm_outside_tag_change_is_drift() {
    outside_change_is_drift("cvm");
}

/// Unset, the key pair is in the account's default group and the plan stays empty; set, it
/// moves in place with JoinResourceGroup.
#[test]
fn ecs_resource_group_moves_in_place() {
    let emu = Emulator::start();
    let ws = Workspace::with_main(Tf::V1_15_5, &config(&emu, "ecs", "", ""));
    ws.apply(&[]).assert_success();
    let default_group = cloud_key(&emu, "ecs")["resource_group_id"].clone();
    assert!(
        default_group.as_str().is_some_and(|g| g.starts_with("rg-")),
        "the cloud reports the default group: {default_group}"
    );
    assert_eq!(state_of(&ws)["resource_group_id"], default_group);
    assert_empty_plan(&ws, "an unset group is the default one, no diff");

    let moved = "  resource_group_id = \"rg-acfmteamweb00001\"\n";
    ws.write("main.tf", &config(&emu, "ecs", "", moved));
    assert_in_place(&ws.plan(&[]));
    let before = emu.calls().len();
    ws.apply(&[]).assert_success();
    let calls = &emu.calls()[before..];
    assert!(calls.iter().any(|c| c["action"] == "JoinResourceGroup"));
    assert!(!calls
        .iter()
        .any(|c| c["action"] == "DeleteKeyPairs" || c["action"] == "CreateKeyPair"));
    assert_eq!(
        cloud_key(&emu, "ecs")["resource_group_id"],
        "rg-acfmteamweb00001"
    );
    assert_empty_plan(&ws, "after the move");
}

/// `default_tags` merge under the resource's tags (the resource wins) into `tags_all`, which is
/// what the cloud holds; a change of the defaults is an in-place update of every key pair.
fn default_tags_merge(tf: Tf, cloud: &str) {
    let emu = Emulator::start();
    let defaults = |env: &str| {
        format!("  default_tags {{\n    tags = {{\n      env  = \"{env}\"\n      team = \"core\"\n    }}\n  }}\n")
    };
    let body = "  tags = {\n    team = \"web\"\n  }\n";
    let ws = Workspace::with_main(tf, &config(&emu, cloud, &defaults("prod"), body));
    ws.apply(&[]).assert_success();
    let merged = tags(&[("env", "prod"), ("team", "web")]);
    assert_eq!(cloud_tags(&emu, cloud), merged);
    let state = state_of(&ws);
    assert_eq!(state["tags_all"], json!(merged));
    assert_eq!(state["tags"], json!({"team": "web"}));
    assert_empty_plan(&ws, "after create with default tags");

    ws.write("main.tf", &config(&emu, cloud, &defaults("stage"), body));
    assert_in_place(&ws.plan(&[]));
    ws.apply(&[]).assert_success();
    assert_eq!(
        cloud_tags(&emu, cloud),
        tags(&[("env", "stage"), ("team", "web")])
    );
    assert_empty_plan(&ws, "after changing the default tags");
}

#[test]
fn ecs_default_tags_merge_into_tags_all() {
    default_tags_merge(Tf::V1_15_5, "ecs");
}

#[test]
fn cvm_default_tags_merge_into_tags_all() {
    default_tags_merge(Tf::V1_15_5, "cvm");
}

#[test]
fn cvm_default_tags_merge_into_tags_all_on_terraform_1_0_3() {
    default_tags_merge(Tf::V1_0_3, "cvm");
}

/// ENS key pairs have no tags: `tags` and `default_tags` are refused at plan time, naming the
/// attribute, before anything is created.
#[test]
fn ens_refuses_tags_and_default_tags_at_plan() {
    let emu = Emulator::start();
    let cases = [
        ("", "  tags = {\n    team = \"a\"\n  }\n", "`tags`"),
        (
            "  default_tags {\n    tags = {\n      team = \"a\"\n    }\n  }\n",
            "",
            "`default_tags.tags`",
        ),
    ];
    for (provider_extra, body, named_attribute) in cases {
        let ws = Workspace::with_main(Tf::V1_15_5, &config(&emu, "ens", provider_extra, body));
        let plan = ws.plan(&[]);
        plan.assert_failure();
        let text = plan.combined();
        assert!(
            text.contains(named_attribute) && text.contains("not supported on ens"),
            "the error must name {named_attribute}: {plan}"
        );
    }
    assert!(
        emu.calls_of("CreateKeyPair").is_empty(),
        "nothing was created"
    );
    // An empty default_tags block is no tag at all, and fine.
    let empty = "  default_tags {\n    tags = {}\n  }\n";
    let ws = Workspace::with_main(Tf::V1_15_5, &config(&emu, "ens", empty, ""));
    ws.apply(&[]).assert_success();
    assert_empty_plan(&ws, "ENS without tags");
}
