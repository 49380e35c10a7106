//! `make bench`: real Terraform against the emulator, our batching side by side with the
//! one-call-per-resource behaviour of the official providers, written to `BENCHMARKS.md`.
//!
//! A benchmark harness, not a test: it measures and reports, and fails only when a run itself
//! fails (a destroy that leaves keys behind is not a number worth printing). The scenarios live
//! in `tests/support/bench.rs`, which the N=50 smoke test also runs.
//!
//! Knobs (environment): `SSHKEY_BENCH_RUNS` (default 3, the median is reported),
//! `SSHKEY_BENCH_SIZES` (default `100,1000`), `SSHKEY_BENCH_ATTACH` (instances, default 1000),
//! `SSHKEY_BENCH_OUT` (default `BENCHMARKS.md` in the crate root).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use support::bench::{self, AttachmentFleet, DataFleet, KeyFleet, Mode, Run};
use support::clouds::{Cloud, CVM, ECS, ENS};
use support::Emulator;

/// Emulator latency for the side-by-side runs: a round trip to a cloud API region.
const LATENCY_MS: &str = "20";
const PARALLELISMS: [usize; 2] = [10, 100];

fn main() {
    // `cargo test --all-targets` and nextest also build and list this target; only
    // `cargo bench` (which passes `--bench`) runs it.
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        if !args.iter().any(|a| a == "--list") {
            eprintln!(
                "the Terraform benchmark runs with `make bench` (cargo bench --bench terraform)"
            );
        }
        return;
    }
    let cfg = Config::from_env();
    let started = Instant::now();
    let mut report = Report::new(&cfg);

    let floor = floor(&cfg);
    report.destroys(&cfg, &floor);
    let attach = attachments(&cfg);
    report.attachments(&cfg, &attach);
    let process = process();
    report.process(&process);

    report.finish(started.elapsed());
    std::fs::write(&cfg.out, &report.text)
        .unwrap_or_else(|e| panic!("write {}: {e}", cfg.out.display()));
    println!("{}", report.text);
    eprintln!("wrote {}", cfg.out.display());
}

struct Config {
    runs: usize,
    sizes: Vec<usize>,
    attach_instances: usize,
    out: std::path::PathBuf,
}

impl Config {
    fn from_env() -> Config {
        let num = |key: &str, default: usize| {
            std::env::var(key)
                .ok()
                .map(|v| {
                    v.parse()
                        .unwrap_or_else(|_| panic!("{key}={v:?} is not a number"))
                })
                .unwrap_or(default)
        };
        let sizes = std::env::var("SSHKEY_BENCH_SIZES")
            .unwrap_or_else(|_| "100,1000".into())
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("SSHKEY_BENCH_SIZES: {s:?} is not a number"))
            })
            .collect();
        let out = std::env::var_os("SSHKEY_BENCH_OUT")
            .map(Into::into)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md")
            });
        Config {
            runs: num("SSHKEY_BENCH_RUNS", 3).max(1),
            sizes,
            attach_instances: num("SSHKEY_BENCH_ATTACH", 1000),
            out,
        }
    }
}

/// Runs of one configuration: medians of wall time and calls, the largest peak RSS.
#[derive(Default, Clone)]
struct Sample {
    runs: Vec<Run>,
}

impl Sample {
    fn wall(&self) -> Duration {
        median(self.runs.iter().map(|r| r.wall).collect())
    }
    fn calls(&self) -> usize {
        median(self.runs.iter().map(|r| r.batched_calls).collect())
    }
    fn attach_calls(&self) -> usize {
        median(self.runs.iter().map(|r| r.attach_calls).collect())
    }
    fn total_calls(&self) -> usize {
        median(self.runs.iter().map(|r| r.total_calls).collect())
    }
    fn rss_mib(&self) -> f64 {
        self.runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }
    fn spread(&self) -> String {
        let walls: Vec<String> = self.runs.iter().map(|r| secs(r.wall)).collect();
        walls.join(" / ")
    }
}

fn median<T: Ord + Copy + Default>(mut v: Vec<T>) -> T {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        "n/a".into()
    } else {
        format!("{:.2}", a / b)
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

/// `terraform_data` destroys of one N: Terraform's own cost with no provider.
struct Floor {
    fleet: DataFleet,
    /// By parallelism.
    samples: Vec<(usize, Sample)>,
}

impl Floor {
    fn measure(cfg: &Config, fleet: DataFleet) -> Floor {
        let mut samples = Vec::new();
        for &p in &PARALLELISMS {
            let mut s = Sample::default();
            for _ in 0..cfg.runs {
                s.runs.push(fleet.destroy(p));
            }
            eprintln!(
                "floor n={} p={p} ({} state bytes each): {}s",
                fleet.n,
                fleet.state_bytes_per_resource(),
                secs(s.wall())
            );
            samples.push((p, s));
        }
        Floor { fleet, samples }
    }

    fn at(&self, p: usize) -> Option<&Sample> {
        self.samples.iter().find(|(q, _)| *q == p).map(|(_, s)| s)
    }
}

/// The floor sample for (N, parallelism), with its state bytes per resource.
fn floor_at(floors: &[Floor], n: usize, p: usize) -> Option<(&Sample, usize)> {
    let f = floors.iter().find(|f| f.fleet.n == n)?;
    Some((f.at(p)?, f.fleet.state_bytes_per_resource()))
}

/// The smallest `terraform_data` state (`input = count.index`), one per N.
fn floor(cfg: &Config) -> Vec<Floor> {
    cfg.sizes
        .iter()
        .map(|&n| {
            eprintln!("floor: creating {n} terraform_data");
            Floor::measure(cfg, DataFleet::create(n))
        })
        .collect()
}

/// `terraform_data` whose state is as large as our key pairs' in `rows`, one per N.
fn matched_floor(cfg: &Config, plain: &[Floor], rows: &[DestroyRow]) -> Vec<Floor> {
    plain
        .iter()
        .filter_map(|f| {
            let bytes = rows.iter().find(|r| r.n == f.fleet.n)?.state_bytes;
            eprintln!(
                "floor: creating {} terraform_data of {bytes} state bytes",
                f.fleet.n
            );
            Some(Floor::measure(
                cfg,
                DataFleet::matching(f.fleet.n, bytes, &f.fleet),
            ))
        })
        .collect()
}

/// One destroy configuration measured in both modes, runs interleaved so drift hits both.
struct DestroyRow {
    cloud: Cloud,
    n: usize,
    p: usize,
    batched: Sample,
    one: Option<Sample>,
    /// The key fleet's `terraform.tfstate` bytes per key.
    state_bytes: usize,
}

fn destroys(
    cfg: &Config,
    cloud: Cloud,
    latency: &'static str,
    with_baseline: bool,
) -> Vec<DestroyRow> {
    let emu = Emulator::start_with(&["--latency-ms", latency]);
    let mut rows = Vec::new();
    for &n in &cfg.sizes {
        eprintln!("{}: creating {n} key pairs", cloud.name);
        let fleet = KeyFleet::create(&emu, cloud, n);
        for &p in &PARALLELISMS {
            let mut batched = Sample::default();
            let mut one = Sample::default();
            for _ in 0..cfg.runs {
                batched.runs.push(fleet.destroy(&emu, p, Mode::Batched));
                if with_baseline {
                    one.runs.push(fleet.destroy(&emu, p, Mode::OneCall));
                }
            }
            eprintln!(
                "{} latency={latency} n={n} p={p}: batched {} calls {}s; one-call {} calls {}s",
                cloud.name,
                batched.calls(),
                secs(batched.wall()),
                one.calls(),
                secs(one.wall())
            );
            rows.push(DestroyRow {
                cloud,
                n,
                p,
                batched,
                one: with_baseline.then_some(one),
                state_bytes: fleet.state_bytes_per_resource(),
            });
        }
    }
    rows
}

struct AttachRow {
    cloud: Cloud,
    modes: Vec<(Mode, Sample)>,
}

fn attachments(cfg: &Config) -> Vec<AttachRow> {
    let emu = Emulator::start_with(&["--latency-ms", LATENCY_MS]);
    let n = cfg.attach_instances;
    let keep = n / 2;
    let mut rows = Vec::new();
    for cloud in [ECS, ENS, CVM] {
        eprintln!("{}: attaching one key to {n} instances", cloud.name);
        let fleet = AttachmentFleet::create(&emu, cloud, n);
        let modes = [Mode::Batched, Mode::Replace, Mode::OneCall];
        let mut samples: Vec<Sample> = vec![Sample::default(); modes.len()];
        for _ in 0..cfg.runs {
            for (mode, sample) in modes.iter().zip(samples.iter_mut()) {
                sample.runs.push(fleet.shrink(&emu, keep, *mode));
            }
        }
        for (mode, s) in modes.iter().zip(&samples) {
            eprintln!(
                "{} attach {:?}: {} calls {}s",
                cloud.name,
                mode,
                s.calls(),
                secs(s.wall())
            );
        }
        rows.push(AttachRow {
            cloud,
            modes: modes.into_iter().zip(samples).collect(),
        });
    }
    rows
}

struct Process {
    handshakes: Vec<Duration>,
    first_schema: Vec<Duration>,
    warm_schema: Vec<Duration>,
    binary_bytes: u64,
}

/// Exec-to-handshake and GetProviderSchema latency over the real mTLS channel.
fn process() -> Process {
    const SAMPLES: usize = 20;
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let mut p = Process {
        handshakes: Vec::new(),
        first_schema: Vec::new(),
        warm_schema: Vec::new(),
        binary_bytes: std::fs::metadata(bench::provider_binary())
            .map(|m| m.len())
            .unwrap_or(0),
    };
    rt.block_on(async {
        use sshkey::tfproto::wire;
        use sshkey::tfproto::wire::provider_client::ProviderClient;
        for _ in 0..SAMPLES {
            let provider = common::plugin::start_provider().await;
            p.handshakes.push(provider.startup);
            let mut client = ProviderClient::new(provider.channel());
            for i in 0..5 {
                let t = Instant::now();
                client
                    .get_provider_schema(wire::get_provider_schema::Request {})
                    .await
                    .expect("GetProviderSchema");
                if i == 0 {
                    p.first_schema.push(t.elapsed());
                } else {
                    p.warm_schema.push(t.elapsed());
                }
            }
            provider.shutdown().await;
        }
    });
    p
}

struct Report {
    text: String,
    /// The largest provider peak RSS seen in any N=1000 destroy, MiB.
    rss_1000: f64,
}

impl Report {
    fn new(cfg: &Config) -> Report {
        let mut text = String::new();
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let commit = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let _ = writeln!(
            text,
            "# Benchmarks\n\nWritten by `make bench` (`benches/terraform.rs`; scenarios in \
             `tests/support/bench.rs`) at commit {commit}. Every number is a real `terraform` {} \
             run against the emulator on this machine: {cores} cores, {cpu}. Wall times are the median of {} runs \
             (each run listed); calls are counted by the emulator. \"One call per resource\" is \
             this provider with `max_delete_batch = 1` / `max_detach_batch = 1`, which is how the \
             official providers call the APIs, measured in the same run on the same emulator.\n",
            bench::TF.version(),
            cfg.runs
        );
        Report {
            text,
            rss_1000: 0.0,
        }
    }

    fn destroys(&mut self, cfg: &Config, floor: &[Floor]) {
        let mut rows = destroys(cfg, ECS, LATENCY_MS, true);
        rows.extend(destroys(cfg, CVM, LATENCY_MS, true));
        let fast = destroys(cfg, ECS, "0", false);
        let matched = matched_floor(cfg, floor, &fast);
        self.rss_1000 = rows
            .iter()
            .chain(&fast)
            .filter(|r| r.n == 1000)
            .flat_map(|r| std::iter::once(&r.batched).chain(&r.one))
            .map(Sample::rss_mib)
            .fold(0.0, f64::max);
        let t = &mut self.text;
        let _ = writeln!(
            t,
            "## `terraform destroy` of N key pairs (emulator latency {LATENCY_MS} ms)\n\n\
             CVM runs at its real limit of 10 DeleteKeyPairs/s (the emulator enforces it; the \
             provider paces itself to stay under it). Wall time is the whole command: refresh, \
             plan and apply.\n\n\
             | cloud | N | parallelism | DeleteKeyPairs calls (batched / one-call / ratio) | target calls | total API calls (batched / one-call) | wall s (batched) | wall s (one-call) | wall ratio | peak RSS MiB (batched / one-call) |\n\
             |---|---|---|---|---|---|---|---|---|---|"
        );
        for r in &rows {
            let Some(one) = &r.one else { continue };
            let target = bench::delete_call_target(r.n, r.p);
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} / {} / {} | ≤ {:.1} ({}) | {} / {} | {} ({}) | {} ({}) | {} | {:.1} / {:.1} |",
                r.cloud.name,
                r.n,
                r.p,
                r.batched.calls(),
                one.calls(),
                ratio(r.batched.calls() as f64, one.calls() as f64),
                target,
                verdict(r.batched.calls() as f64 <= target),
                r.batched.total_calls(),
                one.total_calls(),
                secs(r.batched.wall()),
                r.batched.spread(),
                secs(one.wall()),
                one.spread(),
                ratio(r.batched.wall().as_secs_f64(), one.wall().as_secs_f64()),
                r.batched.rss_mib(),
                one.rss_mib(),
            );
        }
        let _ = writeln!(t, "\n### Targets\n");
        for r in rows.iter().filter(|r| r.cloud.name == "cvm" && r.p == 100) {
            if let Some(one) = &r.one {
                let q = r.batched.wall().as_secs_f64() / one.wall().as_secs_f64();
                let _ = writeln!(
                    t,
                    "- CVM N={} parallelism 100: destroy wall time {:.3} x the one-call-per-key run (target ≤ 0.15 at N=1000): {}",
                    r.n,
                    q,
                    if r.n == 1000 { verdict(q <= 0.15) } else { "informational" }
                );
            }
        }
        let _ = writeln!(
            t,
            "\n## Overhead over Terraform's own floor (ECS, emulator latency 0)\n\n\
             The floor is `terraform destroy` of N `terraform_data` resources: Terraform's own cost \
             with no provider plugin at all. Terraform rewrites its whole state file after every \
             resource it destroys, so a large destroy costs it time in proportion to the state's \
             size; the second floor is `terraform_data` padded to the same state bytes per \
             resource as our key pairs, which leaves only the provider's own cost in the ratio.\n\n\
             | N | parallelism | floor s (state bytes/resource; runs) | same-size floor s (bytes; runs) | sshkey batched s (bytes; runs) | ratio to floor | target | ratio to same-size floor |\n|---|---|---|---|---|---|---|---|"
        );
        for r in &fast {
            let (Some((plain, plain_bytes)), Some((same, same_bytes))) =
                (floor_at(floor, r.n, r.p), floor_at(&matched, r.n, r.p))
            else {
                continue;
            };
            let ours = r.batched.wall().as_secs_f64();
            let q = ours / plain.wall().as_secs_f64();
            let _ = writeln!(
                t,
                "| {} | {} | {} ({plain_bytes} B; {}) | {} ({same_bytes} B; {}) | {} ({} B; {}) | {:.2} | {} | {:.2} |",
                r.n,
                r.p,
                secs(plain.wall()),
                plain.spread(),
                secs(same.wall()),
                same.spread(),
                secs(r.batched.wall()),
                r.state_bytes,
                r.batched.spread(),
                q,
                if r.n == 1000 {
                    format!("≤ 1.5: {}", verdict(q <= 1.5))
                } else {
                    "informational".into()
                },
                ours / same.wall().as_secs_f64(),
            );
        }
    }

    fn attachments(&mut self, cfg: &Config, rows: &[AttachRow]) {
        let n = cfg.attach_instances;
        let t = &mut self.text;
        let _ = writeln!(
            t,
            "\n## Attachment update: remove {} of {n} instances (emulator latency {LATENCY_MS} ms)\n\n\
             `terraform apply` of `instance_ids` shrunk to the first {}. Replacement is \
             `-replace` on the attachment: detach all {n}, attach the {} kept (the official \
             alicloud provider's ForceNew behaviour, here even with our chunking). Calls are \
             detach + attach calls; ratios are against one call per instance.\n\n\
             | cloud | mode | bind calls (attach) | total API calls | wall s | runs | ratio calls | ratio wall | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|",
            n - n / 2,
            n / 2,
            n / 2
        );
        for row in rows {
            let base = row
                .modes
                .iter()
                .find(|(m, _)| *m == Mode::OneCall)
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            for (mode, s) in &row.modes {
                let _ = writeln!(
                    t,
                    "| {} | {} | {} ({}) | {} | {} | {} | {} | {} | {:.1} |",
                    row.cloud.name,
                    mode.label(),
                    s.calls(),
                    s.attach_calls(),
                    s.total_calls(),
                    secs(s.wall()),
                    s.spread(),
                    ratio(s.calls() as f64, base.calls() as f64),
                    ratio(s.wall().as_secs_f64(), base.wall().as_secs_f64()),
                    s.rss_mib(),
                );
            }
        }
    }

    fn process(&mut self, p: &Process) {
        let hs = median(p.handshakes.clone());
        let first = median(p.first_schema.clone());
        let warm = median(p.warm_schema.clone());
        let mib = p.binary_bytes as f64 / (1024.0 * 1024.0);
        let _ = writeln!(
            self.text,
            "\n## Provider process\n\n\
             | measure | value | target |\n|---|---|---|\n\
             | exec to handshake line (median of {}) | {:.1} ms | ≤ 20 ms: {} |\n\
             | GetProviderSchema, first call on a fresh mTLS connection (median) | {:.2} ms | |\n\
             | GetProviderSchema, later calls (median) | {:.2} ms | |\n\
             | stripped release binary | {:.1} MiB | ≤ 20 MiB: {} |",
            p.handshakes.len(),
            hs.as_secs_f64() * 1e3,
            verdict(hs <= Duration::from_millis(20)),
            first.as_secs_f64() * 1e3,
            warm.as_secs_f64() * 1e3,
            mib,
            verdict(mib <= 20.0),
        );
    }

    fn finish(&mut self, took: Duration) {
        let _ = writeln!(
            self.text,
            "\nPeak RSS is `VmHWM` of every provider process Terraform started, sampled every \
             20 ms. Largest during the N=1000 destroys: {:.1} MiB (target ≤ 30 MiB: {}).\n\n\
             Whole benchmark: {:.0} s.",
            self.rss_1000,
            if self.rss_1000 == 0.0 {
                "not measured (no N=1000 run)"
            } else {
                verdict(self.rss_1000 <= 30.0)
            },
            took.as_secs_f64()
        );
    }
}
