//! Import that does not replace (issue 15 §3): a key adopted with an `import` block (Terraform
//! 1.15.5) or `terraform import` (1.0.3) under a configuration that states its public key (with a
//! comment the cloud does not keep), tags and project plans no change and makes no write call;
//! a different key in the configuration plans a replacement; a key replaced outside Terraform
//! under the same id is seen at the next refresh. ECS, ENS and CVM.
//!
//! ENS lists no public key, so an imported ENS key is recognised by its fingerprint: the first
//! apply records the configured key in state (an in-place update of state only), and the plan
//! after it is empty.

mod support;

use serde_json::Value;
use support::bench::PUBLIC_KEY;
use support::clouds::{Cloud, ALL, CVM, ECS, ENS};
use support::{provider_block, Emulator, Tf, Workspace, REQUIRED_PROVIDERS};

/// Fingerprint of [`PUBLIC_KEY`], computed outside the project (Python: MD5 of the key blob as
/// colon-separated hex), so a wrong fingerprint in the emulator or the client cannot pass.
const PUBLIC_KEY_MD5: &str = "5d:fd:4b:bb:6f:13:66:17:fd:be:26:e3:99:8d:6b:b7";

/// Another valid Ed25519 public key and its fingerprint, computed the same way.
const OTHER_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa";
const OTHER_KEY_MD5: &str = "50:ca:4d:9e:ab:65:16:06:f2:65:5b:68:bc:5b:79:81";

/// Calls that change something in the cloud: none may follow an import.
const WRITES: [&str; 5] = [
    "CreateKeyPair",
    "ImportKeyPair",
    "DeleteKeyPairs",
    "AttachKeyPair",
    "DetachKeyPair",
];

/// The attributes each cloud supports besides name and key, as the configuration states them.
fn extras(c: &Cloud) -> &'static str {
    match c.name() {
        "ecs" => "  tags = { team = \"web\", env = \"prod\" }\n",
        "cvm" => "  tags = { team = \"web\" }\n  project_id = 7\n",
        _ => "",
    }
}

fn key_resource(c: &Cloud, label: &str, public_key: &str) -> String {
    format!(
        "resource \"sshkey_key_pair\" \"{label}\" {{\n  name = \"imp_{}\"\n  public_key = \"{public_key}\"\n{}}}\n",
        c.name(),
        extras(c)
    )
}

fn main_tf(emu: &Emulator, c: &Cloud, body: &str) -> String {
    format!(
        "{REQUIRED_PROVIDERS}{}{body}",
        provider_block(emu, c.name(), c.region, "")
    )
}

fn resource_values(ws: &Workspace, address: &str) -> Value {
    let shown = ws.show_json();
    shown["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == address))
        .map(|r| r["values"].clone())
        .unwrap_or(Value::Null)
}

/// Makes the key in one workspace; returns its id.
fn made_elsewhere(emu: &Emulator, c: &Cloud) -> String {
    let ws = Workspace::with_main(
        Tf::V1_15_5,
        &main_tf(emu, c, &key_resource(c, "src", PUBLIC_KEY)),
    );
    ws.apply(&[]).assert_success();
    let id = resource_values(&ws, "sshkey_key_pair.src")["key_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "{}: the source key has an id", c.name());
    emu.reset_calls_keeping_store();
    id
}

fn assert_no_writes(emu: &Emulator, c: &Cloud, when: &str) {
    for action in WRITES {
        assert!(
            emu.calls_of(action).is_empty(),
            "{}: {action} called {when}",
            c.name()
        );
    }
}

/// What the plan right after adopting the key must say: nothing on ECS and CVM, one update of
/// state on ENS (its listing has no public key to store at import).
fn assert_adopted_plan(c: &Cloud, ws: &Workspace) {
    let plan = ws.plan(&["-detailed-exitcode", "-no-color"]);
    if c.name() == "ens" {
        assert_eq!(plan.code, Some(2), "ens: {plan}");
        let text = plan.combined();
        assert!(
            text.contains("0 to add, 1 to change, 0 to destroy"),
            "ens: an update of state only: {plan}"
        );
        assert!(!text.contains("must be replaced"), "ens: {plan}");
        ws.apply(&[]).assert_success();
        let again = ws.plan(&["-detailed-exitcode"]);
        assert_eq!(
            again.code,
            Some(0),
            "ens: the plan after it is empty: {again}"
        );
    } else {
        assert_eq!(
            plan.code,
            Some(0),
            "{}: the plan after import is empty: {plan}",
            c.name()
        );
    }
}

fn adopts_with_import_block(c: &Cloud) {
    let emu = Emulator::start();
    let id = made_elsewhere(&emu, c);
    let body = format!(
        "import {{\n  to = sshkey_key_pair.adopted\n  id = \"{id}\"\n}}\n{}",
        key_resource(c, "adopted", PUBLIC_KEY)
    );
    let ws = Workspace::with_main(Tf::V1_15_5, &main_tf(&emu, c, &body));
    let plan = ws.plan(&["-no-color"]);
    plan.assert_success();
    let change = if c.name() == "ens" { 1 } else { 0 };
    assert!(
        plan.combined().contains(&format!(
            "1 to import, 0 to add, {change} to change, 0 to destroy"
        )),
        "{}: {plan}",
        c.name()
    );
    ws.apply(&[]).assert_success();
    let adopted = resource_values(&ws, "sshkey_key_pair.adopted");
    assert_eq!(adopted["key_id"], id.as_str(), "{}", c.name());
    assert!(adopted["private_key"].is_null(), "{}: {adopted}", c.name());
    if c.name() != "cvm" {
        assert_eq!(adopted["fingerprint"], PUBLIC_KEY_MD5, "{}", c.name());
    }
    // The apply that imported also made ENS's state-only update.
    let again = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(
        again.code,
        Some(0),
        "{}: the plan after import is empty: {again}",
        c.name()
    );
    assert_no_writes(&emu, c, "by the import");

    // A different key under the same name is a new key pair, import or not.
    ws.write(
        "main.tf",
        &main_tf(&emu, c, &key_resource(c, "adopted", OTHER_KEY)),
    );
    let replace = ws.plan(&["-no-color"]);
    replace.assert_success();
    assert!(
        replace.combined().contains("must be replaced"),
        "{}: {replace}",
        c.name()
    );
}

#[test]
fn import_block_plans_nothing_ecs() {
    adopts_with_import_block(&ECS);
}

#[test]
fn import_block_plans_nothing_ens() {
    adopts_with_import_block(&ENS);
}

#[test]
fn import_block_plans_nothing_cvm() {
    adopts_with_import_block(&CVM);
}

/// `terraform import` on 1.0.3, every cloud, with the attachment (imported by its key's id)
/// adopted beside the key.
#[test]
fn cli_import_plans_nothing_on_terraform_1_0_3() {
    for c in &ALL {
        let emu = Emulator::start();
        let instances = emu.seed_instances(c, 2, &[]);
        let attachment = format!(
            "resource \"sshkey_key_pair_attachment\" \"a\" {{\n  key_pair_name = sshkey_key_pair.{label}.name\n  instance_ids = {}\n}}\n",
            support::hcl_list(&instances),
            label = "adopted",
        );
        let src = Workspace::with_main(
            Tf::V1_15_5,
            &main_tf(
                &emu,
                c,
                &format!("{}{}", key_resource(c, "adopted", PUBLIC_KEY), attachment),
            ),
        );
        src.apply(&[]).assert_success();
        let id = resource_values(&src, "sshkey_key_pair.adopted")["key_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        emu.reset_calls_keeping_store();

        let ws = Workspace::with_main(
            Tf::V1_0_3,
            &main_tf(
                &emu,
                c,
                &format!("{}{}", key_resource(c, "adopted", PUBLIC_KEY), attachment),
            ),
        );
        ws.run(&["import", "-no-color", "sshkey_key_pair.adopted", &id])
            .assert_success();
        ws.run(&["import", "-no-color", "sshkey_key_pair_attachment.a", &id])
            .assert_success();
        assert_adopted_plan(c, &ws);
        assert_no_writes(&emu, c, "by terraform import");
        let mut want = instances.clone();
        want.sort();
        assert_eq!(emu.bound_instances(c), want, "{}", c.name());
    }
}

/// A key replaced in the cloud under the same id (its public key and fingerprint changed, as
/// the emulator's snapshot can do) is drift: the next plan replaces it. On ECS and CVM the
/// listed public key shows it; on ENS the fingerprint.
#[test]
fn key_replaced_outside_terraform_is_seen() {
    for c in &ALL {
        let emu = Emulator::start();
        let ws = Workspace::with_main(
            Tf::V1_15_5,
            &main_tf(&emu, c, &key_resource(c, "k", PUBLIC_KEY)),
        );
        ws.apply(&[]).assert_success();
        let quiet = ws.plan(&["-detailed-exitcode"]);
        assert_eq!(quiet.code, Some(0), "{}: {quiet}", c.name());

        let mut snapshot = emu.snapshot();
        let mut changed = 0;
        if let Some(keys) = snapshot["keys"].as_array_mut() {
            for k in keys
                .iter_mut()
                .filter(|k| k["name"] == format!("imp_{}", c.name()))
            {
                k["public_key"] = Value::from(OTHER_KEY);
                k["fingerprint"] = Value::from(OTHER_KEY_MD5);
                changed += 1;
            }
        }
        assert_eq!(
            changed,
            1,
            "{}: the snapshot holds the key: {snapshot}",
            c.name()
        );
        emu.restore(&snapshot);

        let drift = ws.plan(&["-no-color"]);
        drift.assert_success();
        assert!(
            drift.combined().contains("must be replaced"),
            "{}: the replaced key is seen: {drift}",
            c.name()
        );
    }
}
