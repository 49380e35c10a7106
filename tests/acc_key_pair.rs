//! Issue 4 acceptance: real Terraform against the emulator for `sshkey_key_pair`, the data
//! source and the list resource. Deletes from `terraform destroy` must be batched, failures
//! must stay per key, and state must only lose keys that are really gone.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::clouds::{named, CVM, ECS};
use support::{
    provider_block, Emulator, Tf, Workspace, ACCESS_KEY, REQUIRED_PROVIDERS, SECRET_KEY,
};

/// Keys in the emulator for one cloud, all regions.
fn emulator_keys(emu: &Emulator, cloud: &str) -> Vec<Value> {
    let state = emu.state();
    state[cloud]
        .as_object()
        .map(|regions| {
            regions
                .values()
                .flat_map(|r| r["keys"].as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

fn fleet_workspace(tf: Tf, emu: &Emulator, cloud: &str) -> Workspace {
    let mut ws = Workspace::new(tf);
    ws.copy_config_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/key_pairs"));
    ws.set_env("TF_VAR_endpoint", &emu.endpoint());
    ws.set_env("TF_VAR_cloud", cloud);
    ws.set_env("TF_VAR_region", named(cloud).region);
    ws
}

fn keys_config(emu: &Emulator, cloud: &str, body: &str) -> String {
    format!(
        "{REQUIRED_PROVIDERS}\n{}\n{body}",
        provider_block(emu, cloud, named(cloud).region, "")
    )
}

fn fleet_destroy_is_batched(cloud: &str) {
    let emu = Emulator::start();
    let ws = fleet_workspace(Tf::V1_15_5, &emu, cloud);
    ws.apply(&[]).assert_success();
    assert_eq!(emulator_keys(&emu, cloud).len(), 250);
    ws.destroy(&["-parallelism=100"]).assert_success();
    let deletes = emu.calls_of("DeleteKeyPairs").len();
    eprintln!(
        "{cloud}: destroy of 250 keys at parallelism 100 took {deletes} DeleteKeyPairs calls"
    );
    assert!(deletes <= 4, "{cloud}: {deletes} DeleteKeyPairs calls");
    assert!(
        emulator_keys(&emu, cloud).is_empty(),
        "keys left in the cloud"
    );
    assert!(ws.state_list().is_empty(), "state not empty");

    // Default parallelism (10).
    ws.apply(&[]).assert_success();
    let before = emu.calls_of("DeleteKeyPairs").len();
    ws.destroy(&[]).assert_success();
    let deletes = emu.calls_of("DeleteKeyPairs").len() - before;
    eprintln!("{cloud}: destroy of 250 keys at parallelism 10 took {deletes} DeleteKeyPairs calls");
    assert!(
        deletes <= 30,
        "{cloud}: {deletes} DeleteKeyPairs calls at parallelism 10"
    );
    assert!(emulator_keys(&emu, cloud).is_empty());
    assert!(ws.state_list().is_empty());
}

#[test]
fn ecs_fleet_destroy_is_batched() {
    fleet_destroy_is_batched("ecs");
}

#[test]
fn cvm_fleet_destroy_is_batched() {
    fleet_destroy_is_batched("cvm");
}

#[test]
fn ecs_reject_mode_fails_exactly_the_bound_keys() {
    let emu = Emulator::start();
    let body = "resource \"sshkey_key_pair\" \"k\" {\n  for_each = toset([for i in range(50) : format(\"rej_%02d\", i)])\n  name     = each.key\n}\n";
    let ws = Workspace::with_main(Tf::V1_15_5, &keys_config(&emu, "ecs", body));
    ws.apply(&[]).assert_success();
    emu.instances(
        json!({"cloud": ECS.name(), "region": ECS.region, "instances":[
        {"id":"i-hold1","os":"linux","status":"Running","keys":["rej_03"]},
        {"id":"i-hold2","os":"linux","status":"Running","keys":["rej_17"]},
        {"id":"i-hold3","os":"linux","status":"Running","keys":["rej_42"]}]}),
    );
    let out = ws.destroy(&["-parallelism=50"]);
    out.assert_failure();
    let text = out.combined();
    for instance in ["i-hold1", "i-hold2", "i-hold3"] {
        assert!(text.contains(instance), "error must name {instance}: {out}");
    }
    assert_eq!(
        ws.state_list(),
        vec![
            "sshkey_key_pair.k[\"rej_03\"]",
            "sshkey_key_pair.k[\"rej_17\"]",
            "sshkey_key_pair.k[\"rej_42\"]"
        ]
    );
    let mut left: Vec<String> = emulator_keys(&emu, "ecs")
        .iter()
        .filter_map(|k| k["name"].as_str().map(String::from))
        .collect();
    left.sort();
    assert_eq!(left, vec!["rej_03", "rej_17", "rej_42"]);
}

/// `detach_on_destroy` on each cloud: the bound keys are detached (batched) and deleted, the
/// rest deleted, nothing left in the cloud or in state.
fn detach_on_destroy_deletes_bound_keys(cloud: &str) {
    let emu = Emulator::start();
    let body = "resource \"sshkey_key_pair\" \"k\" {\n  for_each          = toset([for i in range(50) : format(\"det_%02d\", i)])\n  name              = each.key\n  detach_on_destroy = true\n}\n";
    let ws = Workspace::with_main(Tf::V1_15_5, &keys_config(&emu, cloud, body));
    ws.apply(&[]).assert_success();
    let ids: std::collections::BTreeMap<String, String> = emulator_keys(&emu, cloud)
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap_or_default().to_string(),
                k["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // Instances hold a key by name on Alibaba and by id on CVM; ENS and CVM bind stopped ones.
    let (status, prefix) = match cloud {
        "ecs" => ("Running", "i-hold000"),
        "ens" => ("Stopped", "i-hold000"),
        _ => ("Stopped", "ins-hold000"),
    };
    let holders: Vec<Value> = ["det_03", "det_17", "det_42"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let key = if cloud == "cvm" {
                ids[*name].clone()
            } else {
                name.to_string()
            };
            json!({"id": format!("{prefix}{i}"), "os": "linux", "status": status, "keys": [key]})
        })
        .collect();
    emu.instances(json!({"cloud": cloud, "region": named(cloud).region, "instances": holders}));
    ws.destroy(&["-parallelism=50"]).assert_success();
    assert!(ws.state_list().is_empty());
    assert!(emulator_keys(&emu, cloud).is_empty(), "{cloud}: keys left");
    let detach = if cloud == "cvm" {
        "DisassociateInstancesKeyPairs"
    } else {
        "DetachKeyPair"
    };
    assert_eq!(
        emu.calls_of(detach).len(),
        3,
        "{cloud}: one detach per bound key"
    );
    let state = emu.state();
    let still_bound = state[cloud][named(cloud).region]["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["keys"].as_array().is_some_and(|k| !k.is_empty()))
        .count();
    assert_eq!(still_bound, 0, "{cloud}: instances still hold keys");
}

#[test]
fn detach_on_destroy_deletes_bound_keys_on_each_cloud() {
    for cloud in ["ecs", "ens", "cvm"] {
        detach_on_destroy_deletes_bound_keys(cloud);
    }
}

#[test]
fn cvm_silently_kept_key_fails_alone() {
    let emu = Emulator::start();
    let body = "resource \"sshkey_key_pair\" \"k\" {\n  for_each = toset([for i in range(5) : format(\"cvm_%d\", i)])\n  name     = each.key\n}\n";
    let ws = Workspace::with_main(Tf::V1_15_5, &keys_config(&emu, "cvm", body));
    ws.apply(&[]).assert_success();
    let keys = emulator_keys(&emu, "cvm");
    let bound = keys
        .iter()
        .find(|k| k["name"] == "cvm_2")
        .and_then(|k| k["id"].as_str())
        .expect("cvm_2 id")
        .to_string();
    emu.instances(
        json!({"cloud": CVM.name(), "region": CVM.region, "instances":[
        {"id":"ins-abcd1234","os":"linux","status":"Running","keys":[bound]}]}),
    );
    let out = ws.destroy(&[]);
    out.assert_failure();
    assert!(
        out.combined().contains("ins-abcd1234"),
        "error must name the instance: {out}"
    );
    assert_eq!(ws.state_list(), vec!["sshkey_key_pair.k[\"cvm_2\"]"]);
    assert_eq!(emulator_keys(&emu, "cvm").len(), 1);
}

#[test]
fn destroy_converges_through_faults() {
    let emu = Emulator::start();
    let body = "resource \"sshkey_key_pair\" \"k\" {\n  for_each = toset([for i in range(120) : format(\"flt_%03d\", i)])\n  name     = each.key\n}\n";
    let ws = Workspace::with_main(Tf::V1_15_5, &keys_config(&emu, "ecs", body));
    ws.apply(&[]).assert_success();
    for (kind, count) in [
        ("throttle", 2),
        ("server_error", 1),
        ("drop_after_commit", 1),
    ] {
        emu.fault(json!({"action":"DeleteKeyPairs","kind":kind,"count":count,"latency_ms":0}));
    }
    ws.destroy(&["-parallelism=60"]).assert_success();
    assert!(ws.state_list().is_empty(), "nothing wrongly kept");
    assert!(emulator_keys(&emu, "ecs").is_empty(), "nothing orphaned");
    let failed: Vec<Value> = emu
        .calls_of("DeleteKeyPairs")
        .into_iter()
        .filter(|c| !c["error_code"].is_null())
        .collect();
    assert!(failed.len() >= 3, "the faults fired: {failed:?}");
}

#[test]
fn invalid_names_fail_at_plan_on_each_cloud() {
    for (cloud, bad) in [
        ("ecs", "9lives"),
        ("ens", "https://x"),
        ("cvm", "too-long-and-has-dashes"),
    ] {
        let emu = Emulator::start();
        let body = format!("resource \"sshkey_key_pair\" \"bad\" {{\n  name = \"{bad}\"\n}}\n");
        let main_tf = keys_config(&emu, cloud, &body);
        let line = main_tf
            .lines()
            .position(|l| l.contains(bad))
            .map(|i| i + 1)
            .expect("line");
        let ws = Workspace::with_main(Tf::V1_15_5, &main_tf);
        let out = ws.plan(&[]);
        out.assert_failure();
        let text = out.combined();
        assert!(
            text.contains(&format!("on main.tf line {line}")),
            "{cloud}: must point at line {line}: {out}"
        );
        assert!(text.contains("Invalid key pair name"), "{cloud}: {out}");
        assert!(
            emu.calls().is_empty(),
            "{cloud}: plan must not call the cloud"
        );
    }
}

#[test]
fn import_drift_data_source_and_query() {
    let emu = Emulator::start();
    let body = "resource \"sshkey_key_pair\" \"k\" {\n  for_each = toset([\"web:01\", \"web:02\", \"db:01\"])\n  name     = each.key\n}\n";
    let ws = Workspace::with_main(Tf::V1_15_5, &keys_config(&emu, "ecs", body));
    ws.apply(&[]).assert_success();

    // Import by name (names with ':' work) into a second workspace, then destroy it there:
    // the first workspace sees the drift and plans to create it again.
    let other = Workspace::with_main(
        Tf::V1_15_5,
        &keys_config(
            &emu,
            "ecs",
            "resource \"sshkey_key_pair\" \"adopted\" {\n  name = \"web:02\"\n}\n",
        ),
    );
    other
        .run(&["import", "-no-color", "sshkey_key_pair.adopted", "web:02"])
        .assert_success();
    let shown = other.show_json();
    let adopted = &shown["values"]["root_module"]["resources"][0]["values"];
    assert_eq!(adopted["name"], "web:02");
    assert!(adopted["fingerprint"]
        .as_str()
        .is_some_and(|f| !f.is_empty()));
    let plan = other.plan(&["-detailed-exitcode"]);
    assert_eq!(
        plan.code,
        Some(0),
        "imported key must match its config: {plan}"
    );
    other.destroy(&[]).assert_success();
    let drift = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(drift.code, Some(2), "{drift}");
    assert!(
        drift
            .combined()
            .contains("sshkey_key_pair.k[\"web:02\"] will be created"),
        "{drift}"
    );

    // Data source: prefix and regex, all pages.
    let ds = Workspace::with_main(
        Tf::V1_15_5,
        &keys_config(
            &emu,
            "ecs",
            "data \"sshkey_key_pairs\" \"web\" {\n  name_prefix = \"web:\"\n}\noutput \"names\" {\n  value = data.sshkey_key_pairs.web.names\n}\n",
        ),
    );
    ds.apply(&[]).assert_success();
    let out = ds.run(&["output", "-json", "names"]);
    out.assert_success();
    assert_eq!(
        serde_json::from_str::<Value>(&out.stdout).ok(),
        Some(json!(["web:01"]))
    );

    // terraform query lists every key with its identity.
    ds.write(
        "keys.tfquery.hcl",
        "list \"sshkey_key_pair\" \"all\" {\n  provider = sshkey\n  config {\n    name_prefix = \"\"\n  }\n}\n",
    );
    let q = ds.query(&[]);
    q.assert_success();
    for name in ["web:01", "db:01"] {
        assert!(q.stdout.contains(name), "query must list {name}: {q}");
    }
}

/// Apply and destroy of 40 keys on each cloud, both Terraform versions: deletes batched where
/// the cloud allows (ENS takes one key per call), nothing left behind.
fn applies_and_batches_destroy(tf: Tf, cloud: &str) {
    let emu = Emulator::start();
    let body = "resource \"sshkey_key_pair\" \"k\" {\n  for_each = toset([for i in range(40) : format(\"old_%02d\", i)])\n  name     = each.key\n}\n";
    let ws = Workspace::with_main(tf, &keys_config(&emu, cloud, body));
    ws.apply(&[]).assert_success();
    assert_eq!(emulator_keys(&emu, cloud).len(), 40);
    let plan = ws.plan(&["-detailed-exitcode"]);
    assert_eq!(plan.code, Some(0), "{cloud} on {}: {plan}", tf.version());
    ws.destroy(&["-parallelism=40"]).assert_success();
    let deletes = emu.calls_of("DeleteKeyPairs").len();
    if cloud == "ens" {
        assert_eq!(deletes, 40, "ENS deletes one key per call");
    } else {
        assert!(
            deletes <= 3,
            "{cloud}: {deletes} DeleteKeyPairs calls for 40 keys"
        );
    }
    assert!(emulator_keys(&emu, cloud).is_empty());
    assert!(ws.state_list().is_empty());
}

#[test]
fn terraform_1_0_3_applies_and_batches_destroy() {
    for cloud in ["ecs", "ens", "cvm"] {
        applies_and_batches_destroy(Tf::V1_0_3, cloud);
    }
}

#[test]
fn ens_destroys_one_key_per_call() {
    applies_and_batches_destroy(Tf::V1_15_5, "ens");
}

/// Where the provider gets its credentials from in a trace-log test.
#[derive(Clone, Copy, Debug)]
enum Creds {
    /// `access_key` / `secret_key` in the provider block.
    Attributes,
    /// The cloud's environment variables.
    Environment,
}

/// `TF_LOG=trace` over a full apply and destroy of a cloud-generated key pair: the provider's own
/// trace lines are in the log, the credentials and the generated private key are not.
fn secrets_never_reach_the_trace_log(tf: Tf, cloud: &str, creds: Creds) {
    let emu = Emulator::start();
    let body = "resource \"sshkey_key_pair\" \"k\" {\n  name = \"trace_me\"\n}\n";
    let config = match creds {
        Creds::Attributes => keys_config(&emu, cloud, body),
        Creds::Environment => format!(
            "{REQUIRED_PROVIDERS}\nprovider \"sshkey\" {{\n  cloud    = \"{cloud}\"\n  region   = \"{}\"\n  endpoint = \"{}\"\n}}\n{body}",
            named(cloud).region,
            emu.endpoint()
        ),
    };
    let mut ws = Workspace::with_main(tf, &config);
    if let Creds::Environment = creds {
        let (id, secret) = if cloud == "cvm" {
            ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY")
        } else {
            (
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            )
        };
        ws.set_env(id, ACCESS_KEY);
        ws.set_env(secret, SECRET_KEY);
    }
    ws.set_env("TF_LOG", "trace");
    let applied = ws.apply(&[]);
    applied.assert_success();
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("terraform.tfstate")).expect("state"),
    )
    .expect("json");
    let private_key = state["resources"][0]["instances"][0]["attributes"]["private_key"]
        .as_str()
        .expect("private key")
        .to_string();
    // The PEM body lines are the secret; the armour lines are the same for every key. A line
    // that only spells the public modulus can also appear in the public key, which the plan
    // shows: those are not secret, the others must stay out of the log.
    let public_key = state["resources"][0]["instances"][0]["attributes"]["public_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let key_lines: Vec<&str> = private_key
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("-----") && !public_key.contains(l))
        .collect();
    assert!(!key_lines.is_empty(), "{private_key}");
    let destroyed = ws.destroy(&[]);
    destroyed.assert_success();
    for (out, provider_line) in [
        (&applied, "provider configured"),
        (&destroyed, "DeleteKeyPairs"),
    ] {
        let text = out.combined();
        assert!(
            text.contains(provider_line) && text.contains("[TRACE]"),
            "the trace log must include the provider's own lines ({provider_line:?})"
        );
        assert!(!text.contains(SECRET_KEY), "secret key leaked into the log");
        assert!(!text.contains(ACCESS_KEY), "access key leaked into the log");
        for line in &key_lines {
            assert!(!text.contains(line), "private key leaked into the log");
        }
    }
}

#[test]
fn secrets_never_reach_the_trace_log_on_terraform_1_15_5() {
    secrets_never_reach_the_trace_log(Tf::V1_15_5, "ecs", Creds::Attributes);
    secrets_never_reach_the_trace_log(Tf::V1_15_5, "ens", Creds::Attributes);
    secrets_never_reach_the_trace_log(Tf::V1_15_5, "cvm", Creds::Environment);
    secrets_never_reach_the_trace_log(Tf::V1_15_5, "ecs", Creds::Environment);
}

#[test]
fn secrets_never_reach_the_trace_log_on_terraform_1_0_3() {
    secrets_never_reach_the_trace_log(Tf::V1_0_3, "ecs", Creds::Attributes);
    secrets_never_reach_the_trace_log(Tf::V1_0_3, "cvm", Creds::Attributes);
    secrets_never_reach_the_trace_log(Tf::V1_0_3, "ens", Creds::Environment);
}

/// `private_key` is sensitive to Terraform: marked in the schema and `show -json`, redacted in the
/// `terraform output` listing, and an output that exposes it without saying so is refused.
fn private_key_is_sensitive(tf: Tf) {
    let emu = Emulator::start();
    let key = "resource \"sshkey_key_pair\" \"k\" {\n  name = \"sensitive_me\"\n}\n";
    let output = |sensitive: bool| {
        format!(
            "{key}\noutput \"pk\" {{\n  value = sshkey_key_pair.k.private_key\n{}}}\n",
            if sensitive {
                "  sensitive = true\n"
            } else {
                ""
            }
        )
    };
    let ws = Workspace::with_main(tf, &keys_config(&emu, "ecs", &output(true)));
    let applied = ws.apply(&[]);
    applied.assert_success();

    let shown = ws.show_json();
    let resource = &shown["values"]["root_module"]["resources"][0];
    assert_eq!(resource["address"], "sshkey_key_pair.k", "{shown}");
    let schema = ws.providers_schema();
    let attr = &schema["provider_schemas"]["registry.terraform.io/sshkey/sshkey"]
        ["resource_schemas"]["sshkey_key_pair"]["block"]["attributes"]["private_key"];
    assert_eq!(attr["sensitive"], true, "schema: {attr}");
    // Terraform 1.0 fills sensitive_values from configuration marks only, not from schemas.
    if tf != Tf::V1_0_3 {
        assert_eq!(
            resource["sensitive_values"]["private_key"], true,
            "private_key must be in sensitive_values: {resource}"
        );
    }
    let private_key = resource["values"]["private_key"]
        .as_str()
        .expect("show -json carries the value itself")
        .to_string();
    let body_line = private_key
        .lines()
        .find(|l| !l.is_empty() && !l.starts_with("-----"))
        .expect("PEM body");
    assert!(
        !applied.combined().contains(body_line),
        "apply printed the key"
    );

    // The listing redacts; `terraform output pk` (one output by name) prints the value by
    // Terraform's design, like -raw and -json.
    let all = ws.run(&["output", "-no-color"]);
    all.assert_success();
    assert!(all.stdout.contains("pk = <sensitive>"), "{all}");
    assert!(!all.combined().contains(body_line), "{all}");

    ws.write("main.tf", &keys_config(&emu, "ecs", &output(false)));
    let refused = ws.plan(&[]);
    refused.assert_failure();
    assert!(
        refused
            .combined()
            .contains("Output refers to sensitive values"),
        "{refused}"
    );
    ws.write("main.tf", &keys_config(&emu, "ecs", &output(true)));
    ws.destroy(&[]).assert_success();
}

#[test]
fn private_key_is_sensitive_on_terraform_1_15_5() {
    private_key_is_sensitive(Tf::V1_15_5);
}

#[test]
fn private_key_is_sensitive_on_terraform_1_0_3() {
    private_key_is_sensitive(Tf::V1_0_3);
}

/// CVM keeps a key pair a custom image uses and answers success. The destroy fails for that key
/// alone, saying an image keeps it (no instance holds it) and what to do; its neighbour in the
/// same DeleteKeyPairs call is deleted; once the image is gone the next destroy deletes it.
#[test]
fn cvm_key_kept_for_a_custom_image_fails_alone_saying_why() {
    let emu = Emulator::start();
    let body = "resource \"sshkey_key_pair\" \"k\" {\n  for_each = toset([\"img_key\", \"free_key\"])\n  name     = each.key\n}\n";
    let ws = Workspace::with_main(Tf::V1_15_5, &keys_config(&emu, "cvm", body));
    ws.apply(&[]).assert_success();
    let set_images = |images: Value| {
        let mut snapshot = emu.snapshot();
        if let Some(keys) = snapshot["keys"].as_array_mut() {
            for k in keys.iter_mut().filter(|k| k["name"] == "img_key") {
                k["images"] = images.clone();
            }
        }
        emu.restore(&snapshot);
    };
    set_images(json!(["img-8xk2m4pq"]));
    let failed = ws.destroy(&[]);
    failed.assert_failure();
    let text = failed.combined();
    assert!(
        text.contains("img_key") && text.contains("custom image"),
        "{failed}"
    );
    let left: Vec<String> = emulator_keys(&emu, "cvm")
        .iter()
        .filter_map(|k| k["name"].as_str().map(String::from))
        .collect();
    assert_eq!(
        left,
        vec!["img_key".to_string()],
        "the neighbour was deleted"
    );
    assert_eq!(
        ws.state_list(),
        vec!["sshkey_key_pair.k[\"img_key\"]".to_string()]
    );
    set_images(json!([]));
    ws.destroy(&[]).assert_success();
    assert!(emulator_keys(&emu, "cvm").is_empty());
}
