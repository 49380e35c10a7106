//! Issue 2 acceptance: real Terraform 1.15.5 and 1.0.3 drive the built provider through
//! `dev_overrides` against the emulator. Every example must validate and plan, an out-of-range
//! batch limit must fail at plan pointing at its own line, and the provider schema must be
//! visible to `terraform providers schema -json`.

mod support;

use std::path::{Path, PathBuf};

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
    for name in ["access_key", "secret_key"] {
        assert_eq!(attrs[name]["sensitive"], true, "{name} must be sensitive");
    }
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
