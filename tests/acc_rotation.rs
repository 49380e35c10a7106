//! Rotating a key that running CVM instances hold (issue 15 §4): `detach_on_destroy` takes
//! `force_stop` as the attachment does, so the old key is taken from running instances and the
//! new one given to them in the same apply. Without it the delete fails naming the instance and
//! the setting, and no instance loses its key. `force_stop` where it cannot work fails at plan.

mod support;

use serde_json::{json, Value};
use support::bench::PUBLIC_KEY;
use support::clouds::{Cloud, CVM, ECS, ENS};
use support::{provider_block, Emulator, Tf, Workspace, ALL_VERSIONS, REQUIRED_PROVIDERS};

const SECOND_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa";

fn main_tf(emu: &Emulator, c: &Cloud, key_extra: &str, instances: &[String]) -> String {
    format!(
        "{REQUIRED_PROVIDERS}\n{}\nvariable \"pub\" {{\n  type = string\n}}\n\
         resource \"sshkey_key_pair\" \"k\" {{\n  name              = \"rot_key\"\n  public_key        = var.pub\n  detach_on_destroy = true\n{key_extra}}}\n\
         resource \"sshkey_key_pair_attachment\" \"a\" {{\n  key_pair_name = sshkey_key_pair.k.name\n  instance_ids  = {}\n  force_stop    = true\n}}\n",
        provider_block(emu, c.name(), c.region, ""),
        support::hcl_list(instances),
    )
}

/// Each instance's keys and status, as the emulator holds them.
fn instances(emu: &Emulator, c: &Cloud) -> Vec<(String, Value, String)> {
    emu.state()[c.name()][c.region]["instances"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap_or_default().to_string(),
                i["keys"].clone(),
                i["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn key_ids(emu: &Emulator, c: &Cloud) -> Vec<String> {
    emu.state()[c.name()][c.region]["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|k| k["id"].as_str().map(String::from))
        .collect()
}

#[test]
fn cvm_rotation_of_running_instances_takes_force_stop() {
    for tf in ALL_VERSIONS {
        let c = &CVM;
        let emu = Emulator::start();
        let ids = c.instance_ids(2);
        let seeded: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "os": "linux", "status": "RUNNING"}))
            .collect();
        emu.instances(json!({"cloud": c.name(), "region": c.region, "instances": seeded}));

        let mut ws = Workspace::with_main(tf, &main_tf(&emu, c, "", &ids));
        ws.set_env("TF_VAR_pub", PUBLIC_KEY);
        ws.apply(&[]).assert_success();
        let first = key_ids(&emu, c);
        assert_eq!(first.len(), 1, "{}", tf.version());

        // Without force_stop the running instances cannot give the key up: the delete fails,
        // naming an instance and the setting, and every instance keeps the old key.
        ws.set_env("TF_VAR_pub", SECOND_KEY);
        let refused = ws.apply(&[]);
        refused.assert_failure();
        let text = refused.combined();
        assert!(
            text.contains("force_stop = true"),
            "{}: {refused}",
            tf.version()
        );
        assert!(ids.iter().any(|id| text.contains(id.as_str())), "{refused}");
        assert_eq!(key_ids(&emu, c), first, "the old key stays");
        for (id, keys, _) in instances(&emu, c) {
            assert_eq!(keys, json!([first[0]]), "{id} keeps its key");
        }

        // force_stop takes effect once it is in state (a delete reads the prior state), so it
        // is set in the apply before the rotation, as an update of state only.
        ws.set_env("TF_VAR_pub", PUBLIC_KEY);
        ws.write("main.tf", &main_tf(&emu, c, "  force_stop = true\n", &ids));
        emu.reset_calls_keeping_store();
        ws.apply(&[]).assert_success();
        for action in [
            "DeleteKeyPairs",
            "ImportKeyPair",
            "DisassociateInstancesKeyPairs",
        ] {
            assert!(
                emu.calls_of(action).is_empty(),
                "{action}: state-only update"
            );
        }

        ws.set_env("TF_VAR_pub", SECOND_KEY);
        ws.apply(&[]).assert_success();
        let second = key_ids(&emu, c);
        assert_eq!(second.len(), 1, "{}", tf.version());
        assert_ne!(second, first, "the key was replaced");
        for (id, keys, status) in instances(&emu, c) {
            assert_eq!(keys, json!([second[0]]), "{id} holds the new key");
            assert!(
                status.eq_ignore_ascii_case("running"),
                "{id} was started again: {status}"
            );
        }
        for action in [
            "DisassociateInstancesKeyPairs",
            "AssociateInstancesKeyPairs",
        ] {
            let calls = emu.calls_of(action);
            assert!(!calls.is_empty(), "{action} called");
            for call in calls {
                assert_eq!(call["params"]["ForceStop"], true, "{action}: {call}");
            }
        }
        let plan = ws.plan(&["-detailed-exitcode"]);
        assert_eq!(plan.code, Some(0), "{}: {plan}", tf.version());
        ws.destroy(&[]).assert_success();
        assert!(key_ids(&emu, c).is_empty());
    }
}

#[test]
fn force_stop_where_it_cannot_work_fails_at_plan() {
    let emu = Emulator::start();
    for (c, extra, needle) in [
        (&ECS, "  force_stop = true\n", "not supported on ecs"),
        (&ENS, "  force_stop = true\n", "not supported on ens"),
        (&CVM, "", "needs `detach_on_destroy`"),
    ] {
        let key = if extra.is_empty() {
            "  force_stop        = true\n  detach_on_destroy = false\n"
        } else {
            extra
        };
        let config = format!(
            "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name = \"fs_key\"\n{key}}}\n",
            provider_block(&emu, c.name(), c.region, ""),
        );
        let ws = Workspace::with_main(Tf::V1_15_5, &config);
        let plan = ws.plan(&["-no-color"]);
        plan.assert_failure();
        let text = plan.combined();
        assert!(text.contains(needle), "{}: {plan}", c.name());
        assert!(
            text.contains("force_stop"),
            "{}: points at the attribute: {plan}",
            c.name()
        );
    }
    assert!(emu.calls_of("CreateKeyPair").is_empty());
}

/// `name_prefix` gives each key pair its own generated name, so a replacement with
/// `create_before_destroy` is created while the old key pair still exists, then the old one is
/// deleted: one key pair at the end, with the new public key, and an empty plan.
#[test]
fn name_prefix_makes_create_before_destroy_work() {
    for c in [&ECS, &CVM] {
        let emu = Emulator::start();
        let config = format!(
            "{REQUIRED_PROVIDERS}\n{}\nvariable \"pub\" {{\n  type = string\n}}\n\
             resource \"sshkey_key_pair\" \"k\" {{\n  name_prefix = \"rot_\"\n  public_key  = var.pub\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n\
             output \"name\" {{\n  value = sshkey_key_pair.k.name\n}}\n",
            provider_block(&emu, c.name(), c.region, ""),
        );
        let mut ws = Workspace::with_main(Tf::V1_15_5, &config);
        let mut names = Vec::new();
        for key in [PUBLIC_KEY, SECOND_KEY] {
            ws.set_env("TF_VAR_pub", key);
            ws.apply(&[]).assert_success();
            let keys = emu.state()[c.name()][c.region]["keys"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(
                keys.len(),
                1,
                "{}: the old key pair is deleted: {keys:?}",
                c.name()
            );
            assert_eq!(
                keys[0]["public_key"]
                    .as_str()
                    .and_then(|k| k.split(' ').nth(1)),
                key.split(' ').nth(1),
                "{}",
                c.name()
            );
            let name = keys[0]["name"].as_str().unwrap_or_default().to_string();
            assert!(
                name.starts_with("rot_") && name.len() == 12,
                "{}: {name}",
                c.name()
            );
            let out = ws.run(&["output", "-raw", "name"]);
            assert_eq!(
                out.stdout.trim(),
                name,
                "{}: state names the cloud's key",
                c.name()
            );
            let plan = ws.plan(&["-detailed-exitcode"]);
            assert_eq!(plan.code, Some(0), "{}: {plan}", c.name());
            names.push(name);
        }
        assert_ne!(
            names[0],
            names[1],
            "{}: the replacement has its own name",
            c.name()
        );
        ws.destroy(&[]).assert_success();
    }
}

#[test]
fn name_and_name_prefix_errors_point_at_the_attribute() {
    let emu = Emulator::start();
    for (c, body, needle) in [
        (
            &ECS,
            "  name = \"a1\"\n  name_prefix = \"a\"\n",
            "`name` and `name_prefix` are exclusive",
        ),
        (&ECS, "", "Set `name`, or `name_prefix`"),
        (
            &CVM,
            "  name_prefix = \"p23456789012345678\"\n",
            "cannot make a valid cvm name",
        ),
        (
            &ECS,
            "  name_prefix = \"http://x\"\n",
            "cannot make a valid ecs name",
        ),
    ] {
        let config = format!(
            "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n{body}}}\n",
            provider_block(&emu, c.name(), c.region, ""),
        );
        let ws = Workspace::with_main(Tf::V1_15_5, &config);
        let plan = ws.plan(&["-no-color"]);
        plan.assert_failure();
        assert!(plan.combined().contains(needle), "{}: {plan}", c.name());
    }
    assert!(emu.calls_of("CreateKeyPair").is_empty());
}

/// The rotation issue 15 §4 asks for: with `create_before_destroy` on the key (named by
/// `name_prefix`) and on the attachment that references it, a new public key creates the new
/// key pair, attaches it to every instance, takes the old one away, then deletes the old key
/// pair; the calls come in that order, so no instance is ever without a key, and no delete
/// meets a still-bound key.
fn create_before_destroy_rotation_moves_instances_first(c: &Cloud, tf: Tf) {
    let emu = Emulator::start();
    let ids = emu.seed_instances(c, 3, &[]);
    let reference = if c.name() == "cvm" {
        "key_id = sshkey_key_pair.k.key_id"
    } else {
        "key_pair_name = sshkey_key_pair.k.name"
    };
    let config = format!(
        "{REQUIRED_PROVIDERS}\n{}\nvariable \"pub\" {{\n  type = string\n}}\n\
         resource \"sshkey_key_pair\" \"k\" {{\n  name_prefix = \"rot_\"\n  public_key  = var.pub\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n\
         resource \"sshkey_key_pair_attachment\" \"a\" {{\n  {reference}\n  instance_ids = {}\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n",
        provider_block(&emu, c.name(), c.region, ""),
        support::hcl_list(&ids),
    );
    let mut ws = Workspace::with_main(tf, &config);
    ws.set_env("TF_VAR_pub", PUBLIC_KEY);
    ws.apply(&[]).assert_success();
    let old = key_ids(&emu, c);
    emu.reset_calls_keeping_store();

    ws.set_env("TF_VAR_pub", SECOND_KEY);
    let rotated = ws.apply(&[]);
    rotated.assert_success();
    let new = key_ids(&emu, c);
    assert_eq!(
        new.len(),
        1,
        "{}: the old key pair is gone: {new:?}",
        c.name()
    );
    assert_ne!(new, old, "{}", c.name());
    let held = if c.name() == "cvm" {
        new[0].clone()
    } else {
        emu.state()[c.name()][c.region]["keys"][0]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    for (id, keys, _) in instances(&emu, c) {
        assert_eq!(
            keys,
            json!([held]),
            "{} on {}: {id} holds the new key",
            c.name(),
            tf.version()
        );
    }
    // Order: the new key's attach before any detach, every detach before the delete.
    let calls = emu.calls();
    let sequence: Vec<&str> = calls
        .iter()
        .filter_map(|k| k["action"].as_str())
        .filter(|a| !a.starts_with("Describe"))
        .collect();
    let position = |action: &str| calls.iter().position(|k| k["action"] == action);
    let last = |action: &str| calls.iter().rposition(|k| k["action"] == action);
    let attach = position(c.attach).expect("attach called");
    let delete = position("DeleteKeyPairs").expect("delete called");
    let first_detach = position(c.detach).expect("the old key is taken away");
    assert!(
        attach < first_detach,
        "{}: attach new before detaching old: {sequence:?}",
        c.name()
    );
    assert!(
        last(c.detach) < Some(delete),
        "{}: detach before the delete: {sequence:?}",
        c.name()
    );
    assert!(attach < delete, "{}", c.name());
    let plan = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(
        plan.code,
        Some(0),
        "{} on {}: {plan}",
        c.name(),
        tf.version()
    );
    ws.destroy(&[]).assert_success();
    assert!(key_ids(&emu, c).is_empty());
}

#[test]
fn ecs_create_before_destroy_rotation_moves_instances_first() {
    create_before_destroy_rotation_moves_instances_first(&ECS, Tf::V1_15_5);
}

#[test]
fn cvm_create_before_destroy_rotation_moves_instances_first() {
    create_before_destroy_rotation_moves_instances_first(&CVM, Tf::V1_15_5);
}

#[test]
fn create_before_destroy_rotation_moves_instances_first_on_1_0_3() {
    create_before_destroy_rotation_moves_instances_first(&ECS, Tf::V1_0_3);
    create_before_destroy_rotation_moves_instances_first(&CVM, Tf::V1_0_3);
}
