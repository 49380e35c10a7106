//! Benchmark scenarios, shared by `make bench` (`benches/terraform.rs`: the full matrix, medians,
//! `BENCHMARKS.md`) and the smoke test (`tests/acc_bench_smoke.rs`: N=50, call counts only), so
//! the numbers we publish come from code that `make test` keeps working.
//!
//! Every scenario is a real Terraform run against the emulator. A fleet (N key pairs, or one
//! key attached to many instances) is created once through Terraform; the emulator's store and
//! `terraform.tfstate` are then saved and restored before each measured run, so every run starts
//! from the same cloud and the same state and only the measured command is timed.
//!
//! The baseline is our own provider with `max_delete_batch = 1`, `max_detach_batch = 1` and
//! `max_read_batch = 1`: one call per resource (or per instance), which is what the official
//! providers do, measured in the same run on the same emulator.
//!
//! The scenarios:
//!
//! - **destroy** ([`KeyFleet::create`], [`KeyFleet::destroy`]): N generated key pairs destroyed;
//!   counts DeleteKeyPairs calls.
//! - **plan** ([`KeyFleet::imported`], [`KeyFleet::plan`]): `terraform plan` (refresh) of N
//!   imported key pairs in a region that also holds [`FOREIGN_KEYS`] keys made outside the
//!   workspace; counts DescribeKeyPairs calls and throttled answers, and fails unless the plan
//!   shows no changes.
//! - **apply** ([`KeyFleet::apply`]): `terraform apply` creating the same N imported key pairs
//!   from an empty state; counts ImportKeyPair and DescribeKeyPairs calls and throttled
//!   answers, and fails unless every key exists and the next plan is empty.
//! - **floors** ([`DataFleet`]): Terraform's own `destroy`, `plan` and `apply` of N
//!   `terraform_data`, plain or padded to a key fleet's state bytes per resource.
//! - **attachment** ([`AttachmentFleet`]): one key on N instances, shrunk.
//!
//! The report (tables, targets, sections of `BENCHMARKS.md`) is pure formatting in [`report`],
//! the charts in [`chart`].

pub mod chart;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::clouds::Cloud;
use super::{provider_block, Emulator, Output, Tf, Workspace, REQUIRED_PROVIDERS};

/// The public key every imported benchmark key uses: importing needs no key generation, and
/// the emulator, like the clouds, does not require public keys to be distinct.
pub const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7 bench@host";

/// Keys in the plan and apply fleets' region that the workspace did not make.
pub const FOREIGN_KEYS: usize = 40;

/// Error codes of a throttled answer: CVM's and Alibaba's.
pub const THROTTLED_CODES: [&str; 2] = ["RequestLimitExceeded", "Throttling.User"];

/// The Terraform version benchmarks run (the newest we support).
pub const TF: Tf = Tf::V1_15_5;

/// How the provider is told to call the cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Our defaults: coalesced deletes, chunked attach/detach, batched refresh reads.
    Batched,
    /// `max_delete_batch = 1`, `max_detach_batch = 1`, `max_read_batch = 1`: one call per key
    /// or per instance, as the official providers make them.
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
            Mode::OneCall => {
                "  max_delete_batch = 1\n  max_detach_batch = 1\n  max_read_batch   = 1\n"
            }
            Mode::Batched | Mode::Replace => "",
        }
    }
}

/// What one measured run cost.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Calls of the action the scenario is about: DeleteKeyPairs (destroy), DescribeKeyPairs
    /// (plan), ImportKeyPair (apply), or detach + attach (attachment).
    pub batched_calls: usize,
    /// Of those, attach calls (attachment runs only).
    pub attach_calls: usize,
    /// DescribeKeyPairs calls of the run.
    pub describe_calls: usize,
    /// Answers the emulator throttled ([`THROTTLED_CODES`]), any action.
    pub throttled: usize,
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

/// Answers throttled for any action.
pub fn throttled(calls: &[Value]) -> usize {
    calls
        .iter()
        .filter(|c| {
            c["error_code"]
                .as_str()
                .is_some_and(|code| THROTTLED_CODES.contains(&code))
        })
        .count()
}

impl Run {
    /// The run's cost as the emulator logged it, `batched` being the scenario's action.
    fn tally(calls: &[Value], batched: usize, wall: Duration, peak_rss_kib: u64) -> Run {
        Run {
            batched_calls: batched,
            attach_calls: 0,
            describe_calls: count(calls, "DescribeKeyPairs"),
            throttled: throttled(calls),
            total_calls: calls.len(),
            wall,
            peak_rss_kib,
        }
    }

    /// A Terraform-only run (no API calls).
    fn wall_only(wall: Duration) -> Run {
        Run {
            wall,
            ..Run::default()
        }
    }
}

fn keys_in_cloud(emu: &Emulator, cloud: &Cloud) -> usize {
    let state = emu.state();
    state[cloud.name()]
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

    /// Removes the state (the next apply creates everything), and writes `main_tf` when given.
    fn clear(&self, main_tf: Option<&str>) {
        if let Some(main_tf) = main_tf {
            self.ws.write("main.tf", main_tf);
        }
        for name in ["terraform.tfstate", "terraform.tfstate.backup"] {
            let path = self.ws.path().join(name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("remove {}: {e}", path.display()),
            }
        }
    }

    /// Bytes of the saved state per resource: Terraform rewrites its whole state file after
    /// every resource it creates or destroys, so this, not the provider, sets most of the cost
    /// of a large apply or destroy.
    fn bytes_per_resource(&self, n: usize) -> usize {
        self.tfstate.len() / n.max(1)
    }

    /// Times `terraform COMMAND -parallelism=P`: `destroy` or `apply` (auto-approved), or
    /// `plan` (with `-detailed-exitcode`: exit 0 means no changes).
    fn timed(&self, command: &str, parallelism: usize) -> (Output, Duration, u64) {
        let p = format!("-parallelism={parallelism}");
        let confirm = if command == "plan" {
            "-detailed-exitcode"
        } else {
            "-auto-approve"
        };
        measured(
            &self.ws,
            &[command, "-input=false", confirm, "-no-color", &p],
        )
    }
}

/// Where a key fleet's key material comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keys {
    /// The cloud generates each key pair (CreateKeyPair); the state holds the private key.
    Generated,
    /// `public_key = PUBLIC_KEY` (ImportKeyPair).
    Imported,
}

impl Keys {
    fn create_action(self) -> &'static str {
        match self {
            Keys::Generated => "CreateKeyPair",
            Keys::Imported => "ImportKeyPair",
        }
    }
}

/// N key pairs created once through Terraform, then destroyed, planned or created again from
/// the saved cloud and state as often as needed.
pub struct KeyFleet {
    saved: Saved,
    cloud: Cloud,
    pub n: usize,
    keys: Keys,
    /// Keys in the fleet's region that the workspace did not make.
    pub foreign: usize,
    /// The cloud before the fleet: the foreign keys only.
    before: Value,
    /// The cloud with the fleet.
    snapshot: Value,
}

fn key_fleet_config(emu: &Emulator, cloud: &Cloud, n: usize, mode: Mode, keys: Keys) -> String {
    let public_key = match keys {
        Keys::Generated => String::new(),
        Keys::Imported => format!("  public_key = \"{PUBLIC_KEY}\"\n"),
    };
    format!(
        "{REQUIRED_PROVIDERS}\n{}\nresource \"sshkey_key_pair\" \"k\" {{\n  count = {n}\n  name  = \"bench_${{count.index}}\"\n{public_key}}}\n",
        provider_block(emu, cloud.name(), cloud.region, mode.provider_extra())
    )
}

/// Names of keys made outside the workspace start with this. It extends the workspace's own
/// prefix (`bench_`), so every listing the provider makes for the workspace shows them too.
const FOREIGN_PREFIX: &str = "bench_ext_";

/// Foreign key `i` in the emulator's snapshot format (seeded without API calls).
fn foreign_key(cloud: &Cloud, i: usize) -> Value {
    let name = format!("{FOREIGN_PREFIX}{i:02}");
    let id = match cloud.name() {
        "cvm" => format!("skey-x{i:07}"),
        "ens" => format!("ssh-ext{i:020}"),
        _ => name.clone(),
    };
    json!({
        "cloud": cloud.name(),
        "region": cloud.key_region(),
        "id": id,
        "name": name,
        "fingerprint": "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff",
        "public_key": PUBLIC_KEY,
        "creation_time": "2026-01-01T00:00:00Z",
    })
}

/// Puts `count` foreign keys into the emulator's store (replacing any seeded before): half
/// ahead of every other key, half behind, so a listing meets them on its first and last pages.
/// Restoring the store also clears the call log.
fn seed_foreign(emu: &Emulator, cloud: &Cloud, count: usize) {
    let mut snap = emu.snapshot();
    let keys = snap["keys"].as_array_mut().expect("snapshot has keys");
    let ours: Vec<Value> = std::mem::take(keys)
        .into_iter()
        .filter(|k| {
            !k["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(FOREIGN_PREFIX))
        })
        .collect();
    let half = count / 2;
    keys.extend((0..half).map(|i| foreign_key(cloud, i)));
    keys.extend(ours);
    keys.extend((half..count).map(|i| foreign_key(cloud, i)));
    emu.restore(&snap);
}

impl KeyFleet {
    /// `n` key pairs generated by the cloud, alone in their region (the destroy scenario).
    pub fn create(emu: &Emulator, cloud: Cloud, n: usize) -> KeyFleet {
        KeyFleet::build(emu, cloud, n, Keys::Generated, 0)
    }

    /// `n` key pairs imported from [`PUBLIC_KEY`], in a region that also holds
    /// [`FOREIGN_KEYS`] keys the workspace did not make (the plan and apply scenarios).
    pub fn imported(emu: &Emulator, cloud: Cloud, n: usize) -> KeyFleet {
        KeyFleet::build(emu, cloud, n, Keys::Imported, FOREIGN_KEYS)
    }

    /// Creates the fleet through Terraform (batched, parallelism 100) and saves cloud and state.
    fn build(emu: &Emulator, cloud: Cloud, n: usize, keys: Keys, foreign: usize) -> KeyFleet {
        emu.reset();
        seed_foreign(emu, &cloud, foreign);
        let before = emu.snapshot();
        let ws = Workspace::with_main(TF, &key_fleet_config(emu, &cloud, n, Mode::Batched, keys));
        ws.apply(&["-parallelism=100"]).assert_success();
        assert_eq!(
            keys_in_cloud(emu, &cloud),
            n + foreign,
            "fleet of {n} keys created among {foreign} others"
        );
        seed_foreign(emu, &cloud, foreign);
        KeyFleet {
            saved: Saved::new(ws),
            cloud,
            n,
            keys,
            foreign,
            before,
            snapshot: emu.snapshot(),
        }
    }

    fn config(&self, emu: &Emulator, mode: Mode) -> String {
        key_fleet_config(emu, &self.cloud, self.n, mode, self.keys)
    }

    /// Bytes of `terraform.tfstate` per key.
    pub fn state_bytes_per_resource(&self) -> usize {
        self.saved.bytes_per_resource(self.n)
    }

    /// Restores the fleet and runs `terraform destroy -parallelism=P` in `mode`; panics unless
    /// every key of the fleet is gone from the cloud and from state.
    pub fn destroy(&self, emu: &Emulator, parallelism: usize, mode: Mode) -> Run {
        emu.restore(&self.snapshot);
        self.saved.restore(Some(&self.config(emu, mode)));
        let (out, wall, peak_rss_kib) = self.saved.timed("destroy", parallelism);
        out.assert_success();
        assert_eq!(
            keys_in_cloud(emu, &self.cloud),
            self.foreign,
            "keys left after destroy"
        );
        assert!(
            self.saved.ws.state_list().is_empty(),
            "resources left in state"
        );
        let calls = emu.calls();
        Run::tally(&calls, count(&calls, "DeleteKeyPairs"), wall, peak_rss_kib)
    }

    /// Restores the fleet and runs `terraform plan -parallelism=P` (refresh) in `mode`; panics
    /// unless the plan shows no changes.
    pub fn plan(&self, emu: &Emulator, parallelism: usize, mode: Mode) -> Run {
        emu.restore(&self.snapshot);
        self.saved.restore(Some(&self.config(emu, mode)));
        let (out, wall, peak_rss_kib) = self.saved.timed("plan", parallelism);
        assert_eq!(
            out.code,
            Some(0),
            "plan of the unchanged fleet failed or is not empty: {out}"
        );
        let calls = emu.calls();
        Run::tally(
            &calls,
            count(&calls, "DescribeKeyPairs"),
            wall,
            peak_rss_kib,
        )
    }

    /// Restores the cloud without the fleet, empties the state and runs `terraform apply
    /// -parallelism=P` in `mode`, which creates the whole fleet; panics unless every key exists
    /// afterwards and the next plan (batched: it is not measured) is empty.
    pub fn apply(&self, emu: &Emulator, parallelism: usize, mode: Mode) -> Run {
        emu.restore(&self.before);
        self.saved.clear(Some(&self.config(emu, mode)));
        let (out, wall, peak_rss_kib) = self.saved.timed("apply", parallelism);
        out.assert_success();
        assert_eq!(
            keys_in_cloud(emu, &self.cloud),
            self.n + self.foreign,
            "keys after apply"
        );
        let calls = emu.calls();
        let run = Run::tally(
            &calls,
            count(&calls, self.keys.create_action()),
            wall,
            peak_rss_kib,
        );
        self.saved
            .ws
            .write("main.tf", &self.config(emu, Mode::Batched));
        let next = self.saved.ws.plan(&["-detailed-exitcode"]);
        assert_eq!(
            next.code,
            Some(0),
            "the plan after apply is not empty: {next}"
        );
        run
    }
}

/// N `terraform_data` resources: Terraform's own cost of a destroy, plan or apply, with no
/// provider at all.
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

    /// Times `terraform destroy` of the whole fleet.
    pub fn destroy(&self, parallelism: usize) -> Run {
        self.saved.restore(None);
        let (out, wall, _) = self.saved.timed("destroy", parallelism);
        out.assert_success();
        Run::wall_only(wall)
    }

    /// Times `terraform plan` of the unchanged fleet; panics unless it shows no changes.
    pub fn plan(&self, parallelism: usize) -> Run {
        self.saved.restore(None);
        let (out, wall, _) = self.saved.timed("plan", parallelism);
        assert_eq!(out.code, Some(0), "terraform_data plan is not empty: {out}");
        Run::wall_only(wall)
    }

    /// Times `terraform apply` creating the whole fleet from an empty state.
    pub fn apply(&self, parallelism: usize) -> Run {
        self.saved.clear(None);
        let (out, wall, _) = self.saved.timed("apply", parallelism);
        out.assert_success();
        Run::wall_only(wall)
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
        provider_block(emu, cloud.name(), cloud.region, mode.provider_extra()),
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
            .map(|id| json!({"id": id, "os": "linux", "status": cloud.bind_status()}))
            .collect();
        emu.instances(
            json!({"cloud": cloud.name(), "region": cloud.region, "instances": instances}),
        );
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
        let apply = ["apply", "-input=false", "-auto-approve", "-no-color"];
        let (out, wall, peak_rss_kib) = if mode == Mode::Replace {
            // What the official providers do to an attachment whose instances change: delete
            // it (every instance detached), then create it (every kept instance attached).
            // `-replace` would not show it: our replacement leaves the kept instances bound.
            let target = "-target=sshkey_key_pair_attachment.a";
            let (gone, wall_gone, rss_gone) = measured(
                &self.saved.ws,
                &[&apply[..], &["-destroy", target]].concat(),
            );
            gone.assert_success();
            let (made, wall_made, rss_made) = measured(&self.saved.ws, &apply);
            (made, wall_gone + wall_made, rss_gone.max(rss_made))
        } else {
            measured(&self.saved.ws, &apply)
        };
        out.assert_success();
        assert_eq!(
            bound_instances(emu, &self.cloud),
            keep,
            "instances left bound"
        );
        let calls = emu.calls();
        let attach_calls = count(&calls, self.cloud.attach);
        Run {
            attach_calls,
            ..Run::tally(
                &calls,
                count(&calls, self.cloud.detach) + attach_calls,
                wall,
                peak_rss_kib,
            )
        }
    }
}

fn bound_instances(emu: &Emulator, cloud: &Cloud) -> usize {
    let state = emu.state();
    state[cloud.name()][cloud.region]["instances"]
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

/// The bound on DescribeKeyPairs calls of a plan of 1000 keys among [`FOREIGN_KEYS`]
/// others, where reads batch: CVM 15, ECS 30 (ENS reads cannot batch: no target).
pub fn plan_call_target(cloud: &Cloud) -> Option<usize> {
    match cloud.name() {
        "cvm" => Some(15),
        "ecs" => Some(30),
        _ => None,
    }
}

/// How much longer than Terraform's own plan of the same-size `terraform_data` a CVM plan of
/// 1000 keys may take.
pub const PLAN_WALL_SLACK: Duration = Duration::from_secs(2);

/// How much longer than its rate floor an apply of 1000 keys may take.
pub const APPLY_WALL_FACTOR: f64 = 1.15;

/// The least time `n` calls of `action` can take at the cloud's documented rate (CVM
/// ImportKeyPair, 10/s: N/10 s), from the provider's own table; `None` without a documented
/// rate.
pub fn rate_floor(cloud: &Cloud, action: &str, n: usize) -> Option<Duration> {
    let rate = cloud.kind.limits().rate(action)?;
    Some(Duration::from_secs_f64(n as f64 / f64::from(rate)))
}
