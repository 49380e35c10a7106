//! Issue 2 acceptance: real Terraform 1.15.5 and 1.0.3 drive the built provider through
//! `dev_overrides` against the emulator. Every example must validate and plan, an out-of-range
//! batch limit must fail at plan pointing at its own line, and the provider schema must be
//! visible to `terraform providers schema -json`.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::clouds::ECS;
use support::{Emulator, Tf, Workspace, ACCESS_KEY, REQUIRED_PROVIDERS, SECRET_KEY};

const PROVIDER_ADDR: &str = "registry.terraform.io/sshkey/sshkey";

/// Every directory under `examples/` that holds a `.tf` file.
fn example_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut dirs = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let mut has_tf = false;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            dirs.push(dir);
        }
    }
    dirs.sort();
    assert!(!dirs.is_empty(), "no examples under {}", root.display());
    dirs
}

/// A workspace holding one example, pointed at the emulator through the examples' variables
/// and the provider's credential environment fallbacks.
fn example_workspace(tf: Tf, emu: &Emulator, dir: &Path) -> Workspace {
    let mut ws = Workspace::new(tf);
    ws.copy_config_from(dir);
    ws.set_env("TF_VAR_endpoint", &emu.endpoint());
    ws.set_env("TF_VAR_cloud", ECS.name());
    ws.set_env("TF_VAR_region", ECS.region);
    ws.set_env("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY);
    ws.set_env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET_KEY);
    ws.set_env("TENCENTCLOUD_SECRET_ID", ACCESS_KEY);
    ws.set_env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY);
    ws
}

fn examples_validate_and_plan(tf: Tf) {
    let emu = Emulator::start();
    // The attachment example's instances, registered as its header comment tells users to:
    // the plan checks that they exist.
    emu.instances(
        serde_json::json!({"cloud": ECS.name(), "region": ECS.region, "instances": [
            {"id": "i-web1", "os": "linux", "status": "Running"},
            {"id": "i-web2", "os": "linux", "status": "Running"},
        ]}),
    );
    let mut failures = Vec::new();
    for dir in example_dirs() {
        let ws = example_workspace(tf, &emu, &dir);
        for out in [ws.validate(), ws.plan(&[])] {
            if !out.success() {
                failures.push(format!("{}: {out}", dir.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "Terraform {}:\n{}",
        tf.version(),
        failures.join("\n\n")
    );
}

#[test]
fn examples_validate_and_plan_1_15_5() {
    examples_validate_and_plan(Tf::V1_15_5);
}

#[test]
fn examples_validate_and_plan_1_0_3() {
    examples_validate_and_plan(Tf::V1_0_3);
}

fn oversized_delete_batch_fails_at_plan(tf: Tf) {
    let emu = Emulator::start();
    // Terraform skips an unused provider, so one resource makes it configure this one.
    let main_tf = format!(
        "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  name = \"k1\"\n}}\n",
        support::provider_block(&emu, ECS.name(), ECS.region, "  max_delete_batch = 500\n")
    );
    let line = main_tf
        .lines()
        .position(|l| l.contains("max_delete_batch = 500"))
        .map(|i| i + 1)
        .unwrap();
    let ws = Workspace::with_main(tf, &main_tf);
    let out = ws.plan(&[]);
    out.assert_failure();
    let text = out.combined();
    assert!(
        text.contains(&format!("on main.tf line {line}, in provider \"sshkey\":")),
        "diagnostic does not point at line {line}: {out}"
    );
    assert!(
        text.contains(&format!("{line}:   max_delete_batch = 500")),
        "diagnostic does not quote the attribute: {out}"
    );
    assert!(
        text.contains("100"),
        "diagnostic does not name the limit: {out}"
    );
    assert!(
        emu.calls().is_empty(),
        "an invalid configuration must not reach the cloud"
    );
}

#[test]
fn oversized_delete_batch_fails_at_plan_1_15_5() {
    oversized_delete_batch_fails_at_plan(Tf::V1_15_5);
}

#[test]
fn oversized_delete_batch_fails_at_plan_1_0_3() {
    oversized_delete_batch_fails_at_plan(Tf::V1_0_3);
}

fn schema_lists_provider_attributes(tf: Tf) {
    let emu = Emulator::start();
    let main_tf = format!(
        "{REQUIRED_PROVIDERS}\n{}",
        support::provider_block(&emu, ECS.name(), ECS.region, "")
    );
    let ws = Workspace::with_main(tf, &main_tf);
    let schema = ws.providers_schema();
    let provider = &schema["provider_schemas"][PROVIDER_ADDR];
    assert!(provider.is_object(), "{PROVIDER_ADDR} missing: {schema}");
    let attrs = &provider["provider"]["block"]["attributes"];
    for name in [
        "cloud",
        "region",
        "access_key",
        "secret_key",
        "endpoint",
        "max_delete_batch",
        "max_detach_batch",
        "request_timeout",
        "max_retries",
        "batch_window",
    ] {
        assert!(attrs[name].is_object(), "attribute {name} missing: {attrs}");
        assert_eq!(
            attrs[name]["required"].as_bool().unwrap_or(false),
            name == "cloud",
            "only cloud is required ({name}): {attrs}"
        );
    }
    for name in ["access_key", "secret_key", "security_token"] {
        assert_eq!(attrs[name]["sensitive"], true, "{name} must be sensitive");
    }
    let role = &provider["provider"]["block"]["block_types"]["assume_role"];
    assert_eq!(role["nesting_mode"], "single", "{role}");
    assert_eq!(role["max_items"], 1, "{role}");
    assert_eq!(
        role["block"]["attributes"]["role_arn"]["required"], true,
        "{role}"
    );
    assert_eq!(
        role["block"]["attributes"]["external_id"]["sensitive"], true,
        "{role}"
    );
    for name in ["max_delete_batch", "max_detach_batch", "max_retries"] {
        assert_eq!(attrs[name]["type"], "number", "{name}: {attrs}");
    }
    for name in [
        "cloud",
        "region",
        "endpoint",
        "request_timeout",
        "batch_window",
    ] {
        assert_eq!(attrs[name]["type"], "string", "{name}: {attrs}");
    }
}

#[test]
fn schema_lists_provider_attributes_1_15_5() {
    schema_lists_provider_attributes(Tf::V1_15_5);
}

#[test]
fn schema_lists_provider_attributes_1_0_3() {
    schema_lists_provider_attributes(Tf::V1_0_3);
}

/// The names a doc page lists as bullets (`- \`name\` (Type, ...)`, several names allowed
/// before the parenthesis).
fn documented_names(page: &str) -> std::collections::BTreeSet<String> {
    page.lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|rest| rest.split_once(" (").map(|(names, _)| names))
        .flat_map(|names| {
            format!("`{names}")
                .split(',')
                .map(|n| n.trim().trim_matches('`').to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The attribute and block names of one schema block as `providers schema -json` shows it.
fn schema_names(block: &Value) -> std::collections::BTreeSet<String> {
    ["attributes", "block_types"]
        .iter()
        .filter_map(|k| block[k].as_object())
        .flat_map(|m| m.keys().cloned())
        .collect()
}

/// Every attribute and block Terraform sees is documented, and the docs list nothing the
/// schema lacks: the docs' reference sections against `terraform providers schema -json`.
#[test]
fn docs_list_exactly_the_schema() {
    let emu = Emulator::start();
    let main_tf = format!(
        "{REQUIRED_PROVIDERS}\n{}",
        support::provider_block(&emu, ECS.name(), ECS.region, "")
    );
    let ws = Workspace::with_main(Tf::V1_15_5, &main_tf);
    let schema = ws.providers_schema();
    let provider = &schema["provider_schemas"][PROVIDER_ADDR];
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let pages = [
        (&provider["provider"], "index.md"),
        (
            &provider["resource_schemas"]["sshkey_key_pair"],
            "resources/key_pair.md",
        ),
        (
            &provider["resource_schemas"]["sshkey_key_pair_attachment"],
            "resources/key_pair_attachment.md",
        ),
        (
            &provider["data_source_schemas"]["sshkey_key_pairs"],
            "data-sources/key_pairs.md",
        ),
        (
            &provider["list_resource_schemas"]["sshkey_key_pair"],
            "list-resources/key_pair.md",
        ),
    ];
    for (entry, page) in pages {
        let block = &entry["block"];
        assert!(block.is_object(), "{page}: no schema in {provider}");
        let text = std::fs::read_to_string(docs.join(page)).expect("doc page");
        let documented = documented_names(&text);
        let actual = schema_names(block);
        assert_eq!(
            documented, actual,
            "{page}: documented names (left) differ from the schema (right)"
        );
        // A nested block's own attributes are named where it is described.
        for (name, nested) in block["block_types"].as_object().into_iter().flatten() {
            for inner in schema_names(&nested["block"]) {
                assert!(
                    text.contains(&format!("`{inner}`")),
                    "{page}: `{name}.{inner}` is not documented"
                );
            }
        }
    }
}
