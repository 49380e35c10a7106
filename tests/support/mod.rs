//! The helpers every integration test, acceptance test and the benchmark share, in one tree:
//!
//! - this module: the acceptance-test harness. It drives real Terraform CLIs against the built
//!   provider and the emulator binary, the way a user would. Terraform finds the provider through
//!   a `dev_overrides` CLI configuration pointing at cargo's freshly built binary, so no registry
//!   and no `terraform init` are involved ([`Workspace::with_cli_config`] is the exception, for
//!   tests of how users install the provider). The CLIs come from `make tools`; a missing CLI is
//!   a failure (with the command to fix it), never a silent skip, so CI cannot pass without
//!   running them.
//! - [`api`]: an in-process emulator (or the binary, [`Emulator`]) called with our own signers.
//! - [`plugin`]: the provider binary started and dialled exactly as Terraform does.
//! - [`clouds`]: the three clouds' facts, read from the provider's own table where it has them.
//! - [`http`]: the blocking HTTP client behind [`Emulator`]'s admin calls.
//! - [`bench`]: the benchmark scenarios of `make bench` and `tests/acc_bench_smoke.rs`.

// Every test binary compiles this whole tree (`mod support;`) but uses only the part it needs:
// the emulator tests never start Terraform, the acceptance tests never sign a call. Each helper
// here is used by some test binary (or by `benches/terraform.rs`).
#![allow(dead_code)]

pub mod api;
pub mod bench;
pub mod clouds;
pub mod http;
pub mod plugin;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Credentials the emulator accepts unless told otherwise.
pub const ACCESS_KEY: &str = sshkey::emulator::DEFAULT_ACCESS_KEY_ID;
pub const SECRET_KEY: &str = sshkey::emulator::DEFAULT_ACCESS_KEY_SECRET;

/// Long enough for a 100-resource apply on a loaded 2-core machine; a hang still ends the test.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The Terraform versions every acceptance test runs against: the newest, and the oldest
/// protocol-6 release we support.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tf {
    V1_15_5,
    V1_0_3,
    /// The machine image's own Terraform (`/usr/local/bin/terraform`), for one smoke run when it
    /// is there: see [`Tf::image`]. No test requires it.
    V1_11_4,
}

pub const ALL_VERSIONS: [Tf; 2] = [Tf::V1_15_5, Tf::V1_0_3];

/// Where the machine image keeps its Terraform.
const IMAGE_TERRAFORM: &str = "/usr/local/bin/terraform";

impl Tf {
    pub fn version(self) -> &'static str {
        match self {
            Tf::V1_15_5 => "1.15.5",
            Tf::V1_0_3 => "1.0.3",
            Tf::V1_11_4 => "1.11.4",
        }
    }

    /// The image's Terraform 1.11.4 when this machine has it, else `None` (with the reason, for
    /// the test to print): a test may use it, never require it.
    pub fn image() -> Result<Tf, String> {
        let path = Path::new(IMAGE_TERRAFORM);
        if !path.is_file() {
            return Err(format!("{IMAGE_TERRAFORM} is not there"));
        }
        let out = Command::new(path)
            .arg("version")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .map_err(|e| format!("{IMAGE_TERRAFORM} does not run: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if text.lines().next() == Some("Terraform v1.11.4") {
            Ok(Tf::V1_11_4)
        } else {
            Err(format!("{IMAGE_TERRAFORM} is not 1.11.4: {text}"))
        }
    }

    /// `$SSHKEY_TOOLS_DIR/bin/terraform-X.Y.Z` (default `<crate>/.tools`); panics with the fix
    /// when it is not installed.
    pub fn path(self) -> PathBuf {
        if self == Tf::V1_11_4 {
            return PathBuf::from(IMAGE_TERRAFORM);
        }
        let tools = std::env::var_os("SSHKEY_TOOLS_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools"));
        let path = tools
            .join("bin")
            .join(format!("terraform-{}", self.version()));
        assert!(
            path.is_file(),
            "Terraform {} not found at {}: run `make tools` (or set SSHKEY_TOOLS_DIR)",
            self.version(),
            path.display()
        );
        path
    }
}

/// The directory holding `terraform-provider-sshkey`, for `dev_overrides`.
pub fn provider_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_terraform-provider-sshkey"));
    bin.parent()
        .expect("provider binary has a parent directory")
        .to_path_buf()
}

/// What one CLI run produced.
#[derive(Debug)]
pub struct Output {
    /// The program's file name, e.g. `terraform-1.15.5` or `make`.
    pub program: String,
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with the full transcript unless the command exited 0.
    pub fn assert_success(&self) -> &Self {
        assert!(self.success(), "command failed: {self}");
        self
    }

    /// Panics with the full transcript unless the command failed.
    pub fn assert_failure(&self) -> &Self {
        assert!(!self.success(), "command unexpectedly succeeded: {self}");
        self
    }

    /// stdout and stderr together, for matching diagnostics wherever Terraform printed them.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{} {}` exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.program,
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

/// A child process that is killed when dropped, so a failing test leaves nothing running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Kills a process group. Terraform runs in its own group so that a timed-out run also takes
/// down the provider plugins it started, which would otherwise outlive the test.
fn kill_group(leader: u32) {
    send_signal("KILL", &format!("-{leader}"));
}

/// Runs `cmd` to completion (or kills it at `timeout`), capturing both streams.
pub fn run_captured(cmd: Command, args: Vec<String>, timeout: Duration) -> Output {
    spawn_captured(cmd, args).wait(timeout)
}

/// Starts `cmd` in its own process group with both streams captured, without waiting.
pub fn spawn_captured(mut cmd: Command, args: Vec<String>) -> Running {
    let program = Path::new(cmd.get_program())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = KillOnDrop(cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}")));
    let mut out = child.0.stdout.take().expect("piped stdout");
    let mut err = child.0.stderr.take().expect("piped stderr");
    // Both pipes are drained concurrently: a full stderr pipe would otherwise block the child.
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    Running {
        child,
        program,
        args,
        out_reader: Some(out_reader),
        err_reader: Some(err_reader),
        exited: None,
    }
}

/// A CLI run in progress. Tests that crash or interrupt Terraform mid-run hold one of these;
/// dropping it kills the whole process group, provider plugins included.
pub struct Running {
    child: KillOnDrop,
    program: String,
    args: Vec<String>,
    out_reader: Option<std::thread::JoinHandle<String>>,
    err_reader: Option<std::thread::JoinHandle<String>>,
    exited: Option<Option<i32>>,
}

impl Running {
    /// The process id of Terraform, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// Whether the process is still running (reaps it once it has exited).
    pub fn is_running(&mut self) -> bool {
        if self.exited.is_some() {
            return false;
        }
        match self.child.0.try_wait() {
            Ok(Some(status)) => {
                self.exited = Some(status.code());
                false
            }
            Ok(None) => true,
            Err(e) => panic!("wait for {:?}: {e}", self.args),
        }
    }

    /// Sends `signal` (a name such as `INT`) to Terraform's whole process group, the way a
    /// terminal delivers Ctrl-C to the foreground job.
    pub fn signal_group(&self, signal: &str) {
        send_signal(signal, &format!("-{}", self.pid()));
    }

    /// Waits for the exit (or kills the group at `timeout` and panics with the transcript).
    pub fn wait(mut self, timeout: Duration) -> Output {
        let deadline = Instant::now() + timeout;
        while self.is_running() {
            if Instant::now() >= deadline {
                kill_group(self.pid());
                let _ = self.child.0.wait();
                self.exited = Some(None);
                let (stdout, stderr) = self.streams();
                panic!(
                    "`{} {}` timed out after {timeout:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
                    self.program,
                    self.args.join(" ")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let code = self.exited.flatten();
        let (stdout, stderr) = self.streams();
        Output {
            program: std::mem::take(&mut self.program),
            args: std::mem::take(&mut self.args),
            code,
            stdout: strip_ansi(&stdout),
            stderr: strip_ansi(&stderr),
        }
    }

    /// Joins the stream readers; they end once every holder of the pipes has exited.
    fn streams(&mut self) -> (String, String) {
        let out = self
            .out_reader
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let err = self
            .err_reader
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (out, err)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only a run that has not been reaped still owns its group id.
        if self.exited.is_none() {
            kill_group(self.pid());
        }
    }
}

/// Runs `kill -SIGNAL -- target` (a pid, or `-pgid` for a group).
pub fn send_signal(signal: &str, target: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Every process descending from `root`, found through `/proc/*/stat` parent links.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // `pid (comm) state ppid ...`: comm may contain spaces and parentheses.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parents.push((pid, ppid));
            }
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// The `terraform-provider-sshkey` processes Terraform (pid `root`) has started.
pub fn provider_pids(root: u32) -> Vec<u32> {
    descendants(root)
        .into_iter()
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| {
                exe.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("terraform-provider-sshkey"))
            })
        })
        .collect()
}

/// Removes ANSI colour sequences: some commands (`providers schema`) have no `-no-color` and
/// colour their diagnostics, which would break text matching.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // CSI: parameter and intermediate bytes, then one final byte in '@'..='~'.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `sshkey-emulator` binary on a free loopback port, killed on drop. The signed calls of
/// [`api`] reach it too ([`api::Target`]).
pub struct Emulator {
    child: KillOnDrop,
    addr: String,
}

impl Emulator {
    pub fn start() -> Emulator {
        Emulator::start_with(&[])
    }

    /// Starts the emulator with extra command-line flags (e.g. `--ecs-bound-delete allow`).
    pub fn start_with(extra: &[&str]) -> Emulator {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sshkey-emulator"));
        cmd.args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = KillOnDrop(cmd.spawn().expect("spawn sshkey-emulator"));
        let stdout = child.0.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        lines.read_line(&mut first).expect("read emulator stdout");
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first emulator line {first:?}"))
            .to_string();
        // Keep draining stdout so the emulator never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while lines.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Emulator { child, addr }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The provider's `endpoint` value.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let resp = http::request(&self.addr, method, &format!("/_emulator/{path}"), body)
            .unwrap_or_else(|e| panic!("{method} /_emulator/{path}: {e}"));
        assert!(
            (200..300).contains(&resp.status),
            "{method} /_emulator/{path}: HTTP {} {}",
            resp.status,
            resp.body
        );
        if resp.body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&resp.body).unwrap_or_else(|e| {
                panic!("/_emulator/{path} answered non-JSON ({e}): {}", resp.body)
            })
        }
    }

    /// Every API call so far, in arrival order.
    pub fn calls(&self) -> Vec<Value> {
        match self.admin("GET", "calls", None) {
            Value::Array(calls) => calls,
            other => panic!("/_emulator/calls is not an array: {other}"),
        }
    }

    /// The temporary credentials the emulator's STS has issued, secrets included (for tests
    /// that check they never reach a log).
    pub fn issued_credentials(&self) -> Vec<Value> {
        match self.admin("GET", "credentials", None) {
            Value::Array(all) => all,
            other => panic!("/_emulator/credentials is not an array: {other}"),
        }
    }

    /// The calls of one action (any cloud).
    pub fn calls_of(&self, action: &str) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|c| c["action"] == action)
            .collect()
    }

    pub fn reset(&self) {
        self.admin("POST", "reset", None);
    }

    /// Seeds instances: `{"cloud","region","instances":[{"id","os","status"}]}`.
    pub fn instances(&self, body: Value) {
        self.admin("POST", "instances", Some(&body));
    }

    pub fn state(&self) -> Value {
        self.admin("GET", "state", None)
    }

    /// The whole store, for [`Emulator::restore`].
    pub fn snapshot(&self) -> Value {
        self.admin("GET", "snapshot", None)
    }

    /// Replaces the store with `snapshot` and forgets calls and faults.
    pub fn restore(&self, snapshot: &Value) {
        self.admin("POST", "snapshot", Some(snapshot));
    }

    /// Forgets the calls, faults and rate windows so far, keeping keys and instances.
    pub fn reset_calls_keeping_store(&self) {
        let store = self.snapshot();
        self.restore(&store);
    }

    /// The calls still to be hit by armed faults, summed over every pending fault.
    pub fn pending_fault_calls(&self) -> usize {
        match self.admin("GET", "faults", None) {
            Value::Array(faults) => faults
                .iter()
                .map(|f| f["count"].as_u64().unwrap_or(0) as usize)
                .sum(),
            other => panic!("/_emulator/faults is not an array: {other}"),
        }
    }

    /// Arms a fault: `{"action","kind","count","latency_ms"}`.
    pub fn fault(&self, body: Value) {
        self.admin("POST", "faults", Some(&body));
    }
}

impl api::Target for Emulator {
    fn addr(&self) -> std::net::SocketAddr {
        self.addr.parse().expect("the emulator's address")
    }
}

/// A temporary Terraform working directory bound to one CLI version.
pub struct Workspace {
    dir: tempfile::TempDir,
    tf: Tf,
    /// `TF_CLI_CONFIG_FILE`; `None` leaves Terraform to its defaults.
    cli_config: Option<PathBuf>,
    env: Vec<(String, String)>,
    pub timeout: Duration,
}

impl Workspace {
    /// A workspace whose CLI configuration points `sshkey/sshkey` at cargo's build through
    /// `dev_overrides`: no `terraform init` needed.
    pub fn new(tf: Tf) -> Workspace {
        let config = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"sshkey/sshkey\" = {}\n  }}\n  direct {{}}\n}}\n",
            hcl_string(&provider_dir().to_string_lossy())
        );
        Workspace::with_cli_config(tf, Some(&config))
    }

    /// A workspace with the given CLI configuration, or with none at all: then Terraform
    /// installs providers as it does for a user, from `$HOME`'s implied local mirrors or a
    /// registry (so set `HOME` to keep the developer's own plugins out).
    pub fn with_cli_config(tf: Tf, config: Option<&str>) -> Workspace {
        let dir = tempfile::Builder::new()
            .prefix("sshkey-acc-")
            .tempdir()
            .expect("create workspace tempdir");
        let cli_config = config.map(|text| {
            let path = dir.path().join("terraform.rc");
            std::fs::write(&path, text).expect("write CLI config");
            path
        });
        Workspace {
            dir,
            tf,
            cli_config,
            env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// A workspace with `main.tf` already written.
    pub fn with_main(tf: Tf, main_tf: &str) -> Workspace {
        let ws = Workspace::new(tf);
        ws.write("main.tf", main_tf);
        ws
    }

    pub fn tf(&self) -> Tf {
        self.tf
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (or replaces) a file relative to the workspace.
    pub fn write(&self, name: &str, text: &str) {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create workspace subdir");
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Copies every `*.tf` / `*.tfvars` / `*.tfquery.hcl` file of `src` into the workspace.
    pub fn copy_config_from(&self, src: &Path) {
        let entries = std::fs::read_dir(src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_file()
                && (name.ends_with(".tf") || name.ends_with(".tfvars") || name.ends_with(".hcl"))
            {
                std::fs::copy(&path, self.dir.path().join(name)).expect("copy config file");
            }
        }
    }

    /// Adds an environment variable for every later run (e.g. `TF_LOG`, `TF_VAR_endpoint`).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Runs `terraform <args>` in the workspace.
    pub fn run(&self, args: &[&str]) -> Output {
        self.spawn(args).wait(self.timeout)
    }

    /// Starts `terraform <args>` in the workspace and returns at once, for tests that crash or
    /// interrupt a run in the middle.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut cmd = Command::new(self.tf.path());
        cmd.args(args).current_dir(self.dir.path());
        // A developer's own Terraform settings must not leak into tests.
        for (key, _) in std::env::vars_os() {
            if let Some(k) = key.to_str() {
                if k.starts_with("TF_") {
                    cmd.env_remove(k);
                }
            }
        }
        if let Some(config) = &self.cli_config {
            cmd.env("TF_CLI_CONFIG_FILE", config);
        }
        cmd.env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        spawn_captured(cmd, args.iter().map(|a| a.to_string()).collect())
    }

    /// `terraform init`; only workspaces without `dev_overrides` need it.
    pub fn init(&self) -> Output {
        self.run(&["init", "-input=false", "-no-color"])
    }

    pub fn validate(&self) -> Output {
        self.run(&["validate", "-no-color"])
    }

    pub fn plan(&self, extra: &[&str]) -> Output {
        self.run(&with(&["plan", "-input=false", "-no-color"], extra))
    }

    pub fn apply(&self, extra: &[&str]) -> Output {
        self.run(&with(
            &["apply", "-input=false", "-auto-approve", "-no-color"],
            extra,
        ))
    }

    pub fn destroy(&self, extra: &[&str]) -> Output {
        self.run(&with(
            &["destroy", "-input=false", "-auto-approve", "-no-color"],
            extra,
        ))
    }

    /// `terraform query` (list resources, Terraform 1.14+ only).
    pub fn query(&self, extra: &[&str]) -> Output {
        self.run(&with(&["query", "-no-color"], extra))
    }

    /// Resource addresses in state, sorted as Terraform prints them.
    pub fn state_list(&self) -> Vec<String> {
        let out = self.run(&["state", "list"]);
        // An empty workspace has no state file; Terraform reports that as an error on 1.0.3.
        if !out.success() && out.combined().contains("No state file was found") {
            return Vec::new();
        }
        out.assert_success();
        out.stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }

    /// `terraform show -json` parsed.
    pub fn show_json(&self) -> Value {
        let out = self.run(&["show", "-json", "-no-color"]);
        out.assert_success();
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("show -json is not JSON ({e}): {}", out.stdout))
    }

    /// `terraform providers schema -json` parsed.
    pub fn providers_schema(&self) -> Value {
        let out = self.run(&["providers", "schema", "-json"]);
        out.assert_success();
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("providers schema -json is not JSON ({e}): {}", out.stdout))
    }
}

fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(extra).copied().collect()
}

/// An HCL list of quoted strings: `["a", "b"]`.
pub fn hcl_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|i| format!("\"{}\"", i.as_ref()))
        .collect();
    format!("[{}]", quoted.join(", "))
}

/// A quoted HCL string literal.
pub fn hcl_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A provider block for the emulator (`extra` is more attribute lines).
pub fn provider_block(emu: &Emulator, cloud: &str, region: &str, extra: &str) -> String {
    format!(
        "provider \"sshkey\" {{\n  cloud      = \"{cloud}\"\n  region     = \"{region}\"\n  endpoint   = \"{}\"\n  access_key = \"{ACCESS_KEY}\"\n  secret_key = \"{SECRET_KEY}\"\n{extra}}}\n",
        emu.endpoint()
    )
}

/// The `terraform { required_providers }` block for our provider.
pub const REQUIRED_PROVIDERS: &str =
    "terraform {\n  required_providers {\n    sshkey = {\n      source = \"sshkey/sshkey\"\n    }\n  }\n}\n";
