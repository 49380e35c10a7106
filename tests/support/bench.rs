//! Benchmark scenarios, shared by `make bench` (`benches/terraform.rs`: the full matrix, medians,
//! `BENCHMARKS.md`) and the smoke test (`tests/acc_bench_smoke.rs`: N=50, call counts only), so
//! the numbers we publish come from code that `make test` keeps working.
//!
//! Every scenario is a real Terraform run against the emulator. A fleet (N key pairs, or one
//! key attached to many instances) is created once through Terraform; the emulator's store and
//! `terraform.tfstate` are then saved and restored before each measured run, so every run starts
//! from the same cloud and the same state and only the measured command is timed.
//!
//! The baseline is our own provider with `max_delete_batch = 1` / `max_detach_batch = 1`: one
//! call per resource (or per instance), which is what the official providers do, measured in
//! the same run on the same emulator.

pub mod chart;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::clouds::Cloud;
use super::{provider_block, Emulator, Output, Tf, Workspace, REQUIRED_PROVIDERS};

/// The Terraform version benchmarks run (the newest we support).
pub const TF: Tf = Tf::V1_15_5;

/// How the provider is told to call the cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Our defaults: coalesced deletes, chunked attach/detach.
    Batched,
    /// `max_delete_batch = 1` / `max_detach_batch = 1`: one call per key or per instance.
    OneCall,
    /// Attachment only: replace the attachment (detach all, attach the rest), which is what the
    /// official alicloud provider does when `instance_ids` changes.
    Replace,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Batched => "sshkey (batched)",
            Mode::OneCall => "one call per resource",
            Mode::Replace => "replacement (detach all + attach)",
        }
    }

    fn provider_extra(self) -> &'static str {
        match self {
            Mode::OneCall => "  max_delete_batch = 1\n  max_detach_batch = 1\n",
            Mode::Batched | Mode::Replace => "",
        }
    }
}

/// What one measured run cost.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Calls of the action being batched (DeleteKeyPairs, or detach + attach).
    pub batched_calls: usize,
    /// Of those, attach calls (attachment runs only).
    pub attach_calls: usize,
    /// Every API call of the run, reads included.
    pub total_calls: usize,
    /// The Terraform command, from exec to exit.
    pub wall: Duration,
    /// The largest peak RSS of any provider process the command started, in KiB.
    pub peak_rss_kib: u64,
}

/// Times `ws.run(args)` and samples the provider's peak RSS while it runs.
fn measured(ws: &Workspace, args: &[&str]) -> (Output, Duration, u64) {
    let probe = RssProbe::start(provider_binary());
    let started = Instant::now();
    let out = ws.run(args);
    let wall = started.elapsed();
    (out, wall, probe.stop())
}

/// The provider binary Terraform starts (through `dev_overrides`).
pub fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-sshkey"))
}

fn count(calls: &[Value], action: &str) -> usize {
    calls.iter().filter(|c| c["action"] == action).count()
}

fn keys_in_cloud(emu: &Emulator, cloud: &Cloud) -> usize {
    let state = emu.state();
    state[cloud.name]
        .as_object()
        .map(|regions| {
            regions
                .values()
                .map(|r| r["keys"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0)
}

/// A fleet's workspace and the `terraform.tfstate` saved right after the fleet was created, so
/// every measured run starts from the same state.
struct Saved {
    ws: Workspace,
    tfstate: String,
}

impl Saved {
    fn new(ws: Workspace) -> Saved {
        let tfstate = read(&ws.path().join("terraform.tfstate"));
        Saved { ws, tfstate }
    }

    /// Puts back the saved state, and writes `main_tf` when the run needs another configuration.
    fn restore(&self, main_tf: Option<&str>) {
        if let Some(main_tf) = main_tf {
            self.ws.write("main.tf", main_tf);
        }
        self.ws.write("terraform.tfstate", &self.tfstate);
    }

    /// Bytes of the saved state per resource: Terraform rewrites its whole state file after
    /// every destroyed resource, so this, not the provider, sets most of the cost of a large
    /// destroy.
    fn bytes_per_resource(&self, n: usize) -> usize {
        self.tfstate.len() / n.max(1)
    }

    /// Times `terraform destroy -parallelism=P`.
    fn destroy(&self, parallelism: usize) -> (Output, Duration, u64) {
        let p = format!("-parallelism={parallelism}");
        measured(
            &self.ws,
            &["destroy", "-input=false", "-auto-approve", "-no-color", &p],
        )
    }
}

/// N key pairs created once, destroyed many times.
pub struct KeyFleet {
    saved: Saved,
    cloud: Cloud,
    pub n: usize,
    snapshot: Value,
}

fn key_fleet_config(emu: &Emulator, cloud: &Cloud, n: usize, mode: Mode) -> String {
    format!(
        "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  count = {n}\n  name  = \"bench_${{count.index}}\"\n}}\n",
        provider_block(emu, cloud.name, cloud.region, mode.provider_extra())
    )
}

impl KeyFleet {
    /// Creates `n` generated key pairs through Terraform and saves cloud and state.
    pub fn create(emu: &Emulator, cloud: Cloud, n: usize) -> KeyFleet {
        emu.reset();
        let ws = Workspace::with_main(TF, &key_fleet_config(emu, &cloud, n, Mode::Batched));
        ws.apply(&["-parallelism=100"]).assert_success();
        assert_eq!(keys_in_cloud(emu, &cloud), n, "fleet of {n} keys created");
        KeyFleet {
            saved: Saved::new(ws),
            cloud,
            n,
            snapshot: emu.snapshot(),
        }
    }

    /// Bytes of `terraform.tfstate` per key.
    pub fn state_bytes_per_resource(&self) -> usize {
        self.saved.bytes_per_resource(self.n)
    }

    /// Restores the fleet and runs `terraform destroy -parallelism=P` in `mode`; panics unless
    /// every key is gone from the cloud and from state.
    pub fn destroy(&self, emu: &Emulator, parallelism: usize, mode: Mode) -> Run {
        emu.restore(&self.snapshot);
        self.saved
            .restore(Some(&key_fleet_config(emu, &self.cloud, self.n, mode)));
        let (out, wall, peak_rss_kib) = self.saved.destroy(parallelism);
        out.assert_success();
        assert_eq!(
            keys_in_cloud(emu, &self.cloud),
            0,
            "keys left after destroy"
        );
        assert!(
            self.saved.ws.state_list().is_empty(),
            "resources left in state"
        );
        let calls = emu.calls();
        Run {
            batched_calls: count(&calls, "DeleteKeyPairs"),
            attach_calls: 0,
            total_calls: calls.len(),
            wall,
            peak_rss_kib,
        }
    }
}

/// N `terraform_data` resources: Terraform's own cost of a destroy, with no provider at all.
pub struct DataFleet {
    saved: Saved,
    pub n: usize,
}

impl DataFleet {
    /// `input = count.index`: the smallest state Terraform writes for a resource.
    pub fn create(n: usize) -> DataFleet {
        DataFleet::with_input(n, "count.index")
    }

    /// Resources whose state takes about `bytes` per resource: `input` (which Terraform also
    /// copies to `output`) is the index zero-padded to the width that makes up the difference
    /// from `other`, a fleet of [`DataFleet::create`]. This separates Terraform's cost of
    /// handling that much state from the provider's own cost.
    pub fn matching(n: usize, bytes: usize, other: &DataFleet) -> DataFleet {
        let width = bytes.saturating_sub(other.state_bytes_per_resource()) / 2;
        DataFleet::with_input(n, &format!("format(\"%0{}d\", count.index)", width.max(1)))
    }

    fn with_input(n: usize, input: &str) -> DataFleet {
        let ws = Workspace::with_main(
            TF,
            &format!(
                "resource \"terraform_data\" \"d\" {{\n  count = {n}\n  input = {input}\n}}\n"
            ),
        );
        ws.apply(&["-parallelism=100"]).assert_success();
        DataFleet {
            saved: Saved::new(ws),
            n,
        }
    }

    /// Bytes of `terraform.tfstate` per resource.
    pub fn state_bytes_per_resource(&self) -> usize {
        self.saved.bytes_per_resource(self.n)
    }

    pub fn destroy(&self, parallelism: usize) -> Run {
        self.saved.restore(None);
        let (out, wall, _) = self.saved.destroy(parallelism);
        out.assert_success();
        Run {
            wall,
            ..Run::default()
        }
    }
}

/// One key pair attached to `n` instances, shrunk to `keep` of them.
pub struct AttachmentFleet {
    saved: Saved,
    cloud: Cloud,
    pub n: usize,
    snapshot: Value,
}

fn attachment_config(emu: &Emulator, cloud: &Cloud, n: usize, keep: usize, mode: Mode) -> String {
    format!(
        "{REQUIRED_PROVIDERS}\n{}
locals {{
  instances = [for i in range({n}) : format(\"{fmt}\", i)]
}}

resource \"sshkey_key_pair\" \"k\" {{
  name = \"bench_attach\"
}}

resource \"sshkey_key_pair_attachment\" \"a\" {{
  {key_ref}
  instance_ids = toset(slice(local.instances, 0, {keep}))
}}
",
        provider_block(emu, cloud.name, cloud.region, mode.provider_extra()),
        fmt = cloud.instance_format(),
        key_ref = cloud.key_ref("k"),
    )
}

impl AttachmentFleet {
    /// Seeds `n` Linux instances the cloud can bind and attaches one key to all of them.
    pub fn create(emu: &Emulator, cloud: Cloud, n: usize) -> AttachmentFleet {
        emu.reset();
        let instances: Vec<Value> = cloud
            .instance_ids(n)
            .into_iter()
            .map(|id| json!({"id": id, "os": "linux", "status": cloud.bind_status}))
            .collect();
        emu.instances(json!({"cloud": cloud.name, "region": cloud.region, "instances": instances}));
        let ws = Workspace::with_main(TF, &attachment_config(emu, &cloud, n, n, Mode::Batched));
        ws.apply(&[]).assert_success();
        assert_eq!(bound_instances(emu, &cloud), n, "fleet attached");
        AttachmentFleet {
            saved: Saved::new(ws),
            cloud,
            n,
            snapshot: emu.snapshot(),
        }
    }

    /// Restores the fleet and applies `instance_ids` = the first `keep` instances, in `mode`;
    /// panics unless exactly those stay bound.
    pub fn shrink(&self, emu: &Emulator, keep: usize, mode: Mode) -> Run {
        emu.restore(&self.snapshot);
        self.saved.restore(Some(&attachment_config(
            emu,
            &self.cloud,
            self.n,
            keep,
            mode,
        )));
        let mut args = vec!["apply", "-input=false", "-auto-approve", "-no-color"];
        if mode == Mode::Replace {
            args.push("-replace=sshkey_key_pair_attachment.a");
        }
        let (out, wall, peak_rss_kib) = measured(&self.saved.ws, &args);
        out.assert_success();
        assert_eq!(
            bound_instances(emu, &self.cloud),
            keep,
            "instances left bound"
        );
        let calls = emu.calls();
        let attach_calls = count(&calls, self.cloud.attach);
        Run {
            batched_calls: count(&calls, self.cloud.detach) + attach_calls,
            attach_calls,
            total_calls: calls.len(),
            wall,
            peak_rss_kib,
        }
    }
}

fn bound_instances(emu: &Emulator, cloud: &Cloud) -> usize {
    let state = emu.state();
    state[cloud.name][cloud.region]["instances"]
        .as_array()
        .map_or(0, |list| {
            list.iter()
                .filter(|i| i["keys"].as_array().is_some_and(|k| !k.is_empty()))
                .count()
        })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Samples `VmHWM` of every running process whose executable is `binary`, until stopped.
/// Terraform starts the provider several times per command; the largest peak counts.
pub struct RssProbe {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssProbe {
    pub fn start(binary: PathBuf) -> RssProbe {
        let binary = binary.canonicalize().unwrap_or(binary);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(peak_of(&binary));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        RssProbe { stop, thread }
    }

    /// The largest `VmHWM` seen, in KiB (0 when no such process was seen).
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

fn peak_of(binary: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut peak = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if std::fs::read_link(path.join("exe")).ok().as_deref() != Some(binary) {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        let hwm = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        peak = peak.max(hwm);
    }
    peak
}

/// The bound on batched delete calls: `ceil(N / min(parallelism, 100)) * 1.2`.
pub fn delete_call_target(n: usize, parallelism: usize) -> f64 {
    (n as f64 / parallelism.min(100) as f64).ceil() * 1.2
}
