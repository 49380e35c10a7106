//! Self-tests of the acceptance harness with configurations that need no provider, so the
//! Terraform CLIs, the workspace setup and the emulator plumbing are proven independently of
//! the provider itself.

mod support;

use serde_json::json;
use support::clouds::ECS;
use support::{Emulator, Tf, Workspace};

#[test]
fn terraform_1_15_5_applies_and_destroys_terraform_data() {
    let ws = Workspace::with_main(
        Tf::V1_15_5,
        r#"
resource "terraform_data" "a" {
  input = "hello"
}

output "echo" {
  value = terraform_data.a.output
}
"#,
    );
    ws.validate().assert_success();
    let plan = ws.plan(&[]);
    plan.assert_success();
    assert!(plan.stdout.contains("1 to add"), "{plan}");
    ws.apply(&[]).assert_success();
    assert_eq!(ws.state_list(), vec!["terraform_data.a".to_string()]);
    let show = ws.show_json();
    assert_eq!(show["values"]["outputs"]["echo"]["value"], "hello");
    ws.destroy(&[]).assert_success();
    assert!(ws.state_list().is_empty());
}

#[test]
fn terraform_1_0_3_plans_and_applies_outputs_without_init() {
    let ws = Workspace::with_main(
        Tf::V1_0_3,
        r#"
locals {
  names = [for i in range(3) : "key-${i}"]
}

output "names" {
  value = local.names
}
"#,
    );
    ws.validate().assert_success();
    ws.plan(&[]).assert_success();
    ws.apply(&[]).assert_success();
    let show = ws.show_json();
    assert_eq!(
        show["values"]["outputs"]["names"]["value"],
        json!(["key-0", "key-1", "key-2"])
    );
    assert!(ws.state_list().is_empty());
}

#[test]
fn cli_versions_are_the_pinned_ones() {
    for tf in support::ALL_VERSIONS {
        let out = Workspace::new(tf).run(&["version"]);
        out.assert_success();
        assert!(
            out.stdout.contains(&format!("Terraform v{}", tf.version())),
            "{out}"
        );
    }
}

#[test]
fn invalid_config_fails_with_location() {
    for tf in support::ALL_VERSIONS {
        let ws = Workspace::with_main(tf, "output \"x\" {\n  value = undefined_thing.y\n}\n");
        let out = ws.validate();
        out.assert_failure();
        assert!(out.combined().contains("main.tf line 2"), "{out}");
    }
}

#[test]
fn emulator_admin_api_round_trip() {
    let emu = Emulator::start();
    assert!(emu.endpoint().starts_with("http://127.0.0.1:"));
    assert!(emu.calls().is_empty());
    emu.instances(json!({
        "cloud": ECS.name(),
        "region": ECS.region,
        "instances": [{"id": "i-harness1", "os": "linux", "status": "Running"}]
    }));
    let state = emu.state();
    assert_eq!(
        state[ECS.name()][ECS.region]["instances"][0]["id"],
        "i-harness1",
        "{state}"
    );
    emu.fault(json!({"action": "DeleteKeyPairs", "kind": "throttle", "count": 1}));
    emu.reset();
    let state = emu.state();
    assert!(
        state[ECS.name()][ECS.region]["instances"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{state}"
    );
}

#[test]
fn hcl_strings_are_escaped() {
    assert_eq!(support::hcl_string(r#"a"b\c${x}"#), r#""a\"b\\c$${x}""#);
}

#[test]
fn ansi_colours_are_stripped() {
    assert_eq!(
        support::strip_ansi("\u{1b}[31m\u{1b}[1mError:\u{1b}[0m x\u{1b}[0m"),
        "Error: x"
    );
}

#[test]
fn timed_out_runs_are_killed_with_their_children() {
    let marker = tempfile::tempdir().unwrap();
    let pid_file = marker.path().join("child.pid");
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c").arg(format!(
        "sleep 30 >/dev/null 2>&1 & echo $! > {}; wait",
        pid_file.display()
    ));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        support::run_captured(
            cmd,
            vec!["sleep".into()],
            std::time::Duration::from_millis(500),
        )
    }));
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("timed out"), "{message}");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    // A killed orphan may linger as a zombie until some reaper collects it; that is dead too.
    let running = || {
        std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .map(|stat| {
                let state = stat.rsplit(')').next().unwrap_or_default().trim_start();
                !state.starts_with('Z') && !state.starts_with('X')
            })
            .unwrap_or(false)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while running() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!running(), "grandchild {pid} survived the timeout");
}
