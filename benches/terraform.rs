//! `make bench`: real Terraform against the emulator, our batching side by side with the
//! one-call-per-resource behaviour of the official providers, written to `BENCHMARKS.md` and,
//! as SVG charts, to `docs/bench/`.
//!
//! A benchmark harness, not a test: it measures and reports, and fails only when a run itself
//! fails (a destroy that leaves keys behind, a plan that is not empty, is not a number worth
//! printing). The scenarios live in `tests/support/bench.rs`, which the N=50 smoke test also
//! runs; the report's text and charts are formatted by `tests/support/bench/report.rs`.
//!
//! Sections (each between `<!-- bench:NAME -->` markers in `BENCHMARKS.md`):
//!
//! - `destroy`: `terraform destroy` of N keys, ECS and CVM, parallelism 10 and 100, both modes;
//!   and ECS at latency 0 against Terraform's own destroy of `terraform_data`.
//! - `plan`: `terraform plan` (refresh) of N imported keys among 40 foreign ones, ECS, ENS and
//!   CVM, both modes, against Terraform's own plan of same-size `terraform_data`.
//! - `apply`: `terraform apply` creating those N keys from an empty state, both modes,
//!   parallelism 10 (and 100 for CVM at the largest N), against the same-size floor.
//! - `attachment`: one key on N instances, shrunk to half, three ways.
//! - `process`: provider start-up, schema latency, binary size.
//!
//! Knobs (environment):
//!
//! - `SSHKEY_BENCH_ONLY`: comma-separated sections to run (default all), e.g. `plan,apply`.
//!   Only those sections of an existing report are replaced (and only their charts rewritten);
//!   the others, and text outside the markers, are kept.
//! - `SSHKEY_BENCH_RUNS` (default 3, the median is reported), `SSHKEY_BENCH_SIZES` (default
//!   `100,1000`), `SSHKEY_BENCH_ATTACH` (instances, default 1000).
//! - `SSHKEY_BENCH_OUT` (default `BENCHMARKS.md` in the crate root). Charts go to `docs/bench/`
//!   beside it, so a trial run with `SSHKEY_BENCH_OUT=/tmp/b/BENCHMARKS.md` touches nothing in
//!   the repository.
//! - `SSHKEY_BENCH_EMULATOR_FLAGS`: extra flags for every emulator started, e.g.
//!   `--rate ImportKeyPair=10` to try a limit the emulator does not enforce by default. The
//!   sections measured with them say so.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::bench::report::{
    self, AttachRow, CommandRow, DestroyRow, Destroys, Floor, Process, Provenance, Sample,
};
use support::bench::{self, AttachmentFleet, DataFleet, KeyFleet, Mode, Run};
use support::clouds::{Cloud, CVM, ECS, ENS};
use support::Emulator;

/// Emulator latency for the side-by-side runs: a round trip to a cloud API region.
const LATENCY_MS: &str = "20";
const PARALLELISMS: [usize; 2] = [10, 100];
/// Terraform's default parallelism, at which plans run.
const DEFAULT_PARALLELISM: usize = 10;
/// Sections `SSHKEY_BENCH_ONLY` can name, in the order they run.
const RUNNABLE: [&str; 5] = ["destroy", "plan", "apply", "attachment", "process"];

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
    let prov = provenance(&cfg);
    let mut floors = Floors::default();
    let mut fresh: Vec<(&str, String)> = vec![("header", report::header())];
    let mut charts = Vec::new();

    if cfg.runs_section("destroy") {
        let t = Instant::now();
        let d = destroys(&cfg, &mut floors);
        fresh.push(("destroy", report::destroy_section(&d, &prov, t.elapsed())));
        charts.extend(report::destroy_charts(&d));
    }
    if cfg.runs_section("plan") || cfg.runs_section("apply") {
        let (plans, applies) = plans_and_applies(&cfg, &mut floors);
        // One fleet per cloud and size serves both sections; each is charged its own runs.
        if cfg.runs_section("plan") {
            let took = plans.iter().map(|(_, t)| *t).sum();
            let rows: Vec<CommandRow> = plans.into_iter().map(|(r, _)| r).collect();
            fresh.push(("plan", report::plan_section(&rows, LATENCY_MS, &prov, took)));
            charts.extend(report::plan_charts(&rows));
        }
        if cfg.runs_section("apply") {
            let took = applies.iter().map(|(_, t)| *t).sum();
            let rows: Vec<CommandRow> = applies.into_iter().map(|(r, _)| r).collect();
            fresh.push((
                "apply",
                report::apply_section(&rows, LATENCY_MS, &prov, took),
            ));
            charts.extend(report::apply_charts(&rows));
        }
    }
    if cfg.runs_section("attachment") {
        let t = Instant::now();
        let rows = attachments(&cfg);
        fresh.push((
            "attachment",
            report::attachment_section(&rows, cfg.attach_instances, LATENCY_MS, &prov, t.elapsed()),
        ));
    }
    if cfg.runs_section("process") {
        let t = Instant::now();
        let p = process();
        fresh.push(("process", report::process_section(&p, &prov, t.elapsed())));
    }

    let chart_dir = cfg.chart_dir();
    std::fs::create_dir_all(&chart_dir)
        .unwrap_or_else(|e| panic!("create {}: {e}", chart_dir.display()));
    for chart in &charts {
        let path = chart_dir.join(&chart.name);
        std::fs::write(&path, &chart.svg)
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        eprintln!("wrote {}", path.display());
    }
    let existing = match std::fs::read_to_string(&cfg.out) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => panic!("read {}: {e}", cfg.out.display()),
    };
    let text = report::merge(&existing, &fresh);
    std::fs::write(&cfg.out, &text).unwrap_or_else(|e| panic!("write {}: {e}", cfg.out.display()));
    for (_, section) in &fresh {
        println!("{section}\n");
    }
    eprintln!("wrote {}", cfg.out.display());
}

struct Config {
    runs: usize,
    sizes: Vec<usize>,
    attach_instances: usize,
    out: PathBuf,
    /// Sections to run; `None` runs all.
    only: Option<Vec<String>>,
    emulator_flags: Vec<String>,
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
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md"));
        let only = std::env::var("SSHKEY_BENCH_ONLY")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .inspect(|s| {
                        assert!(
                            RUNNABLE.contains(&s.as_str()),
                            "SSHKEY_BENCH_ONLY: unknown section {s:?}; expected some of {RUNNABLE:?}"
                        )
                    })
                    .collect()
            });
        let emulator_flags = std::env::var("SSHKEY_BENCH_EMULATOR_FLAGS")
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect();
        Config {
            runs: num("SSHKEY_BENCH_RUNS", 3).max(1),
            sizes,
            attach_instances: num("SSHKEY_BENCH_ATTACH", 1000),
            out,
            only,
            emulator_flags,
        }
    }

    fn runs_section(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|s| s == name))
    }

    /// `docs/bench/` beside the report, where its chart links point.
    fn chart_dir(&self) -> PathBuf {
        self.out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(report::CHART_DIR)
    }

    /// An emulator with `latency_ms` and the configured extra flags.
    fn emulator(&self, latency_ms: &str) -> Emulator {
        let mut args = vec!["--latency-ms", latency_ms];
        args.extend(self.emulator_flags.iter().map(String::as_str));
        Emulator::start_with(&args)
    }

    fn largest_size(&self) -> usize {
        self.sizes.iter().copied().max().unwrap_or(0)
    }
}

fn provenance(cfg: &Config) -> Provenance {
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
    Provenance {
        commit,
        date: time::OffsetDateTime::now_utc().date().to_string(),
        runs: cfg.runs,
        terraform: bench::TF.version().into(),
        machine: format!("{cores} cores, {cpu}"),
        emulator_flags: cfg.emulator_flags.join(" "),
    }
}

/// `terraform_data` fleets and their measured runs, shared by every section that compares with
/// Terraform's own cost: created once per size (and state size), measured once per command and
/// parallelism.
#[derive(Default)]
struct Floors {
    /// (requested state bytes per resource, or `None` for the minimal state; fleet).
    fleets: Vec<(Option<usize>, DataFleet)>,
    /// (fleet index, command, parallelism; runs).
    samples: Vec<(usize, &'static str, usize, Sample)>,
}

impl Floors {
    /// The minimal `terraform_data` fleet of `n`.
    fn plain(&mut self, n: usize) -> usize {
        if let Some(i) = self
            .fleets
            .iter()
            .position(|(b, f)| b.is_none() && f.n == n)
        {
            return i;
        }
        eprintln!("floor: creating {n} terraform_data");
        self.fleets.push((None, DataFleet::create(n)));
        self.fleets.len() - 1
    }

    /// A fleet of `n` whose state is within 3 % of `bytes` per resource.
    fn matching(&mut self, n: usize, bytes: usize) -> usize {
        let close = |b: usize| b.abs_diff(bytes) * 100 <= bytes * 3;
        if let Some(i) = self
            .fleets
            .iter()
            .position(|(b, f)| f.n == n && b.is_some_and(close))
        {
            return i;
        }
        let plain = self.plain(n);
        eprintln!("floor: creating {n} terraform_data of {bytes} state bytes");
        let fleet = DataFleet::matching(n, bytes, &self.fleets[plain].1);
        self.fleets.push((Some(bytes), fleet));
        self.fleets.len() - 1
    }

    /// `runs` timed runs of `command` (`destroy`, `plan` or `apply`) on fleet `i`.
    fn measure(&mut self, runs: usize, i: usize, command: &'static str, p: usize) -> Floor {
        let fleet = &self.fleets[i].1;
        let found = self
            .samples
            .iter()
            .find(|(j, c, q, _)| *j == i && *c == command && *q == p)
            .map(|(_, _, _, s)| s.clone());
        let sample = found.unwrap_or_else(|| {
            let s = Sample::of(
                (0..runs)
                    .map(|_| match command {
                        "destroy" => fleet.destroy(p),
                        "plan" => fleet.plan(p),
                        "apply" => fleet.apply(p),
                        other => panic!("no floor for {other}"),
                    })
                    .collect(),
            );
            eprintln!(
                "floor {command} n={} p={p} ({} state bytes each): {}s",
                fleet.n,
                fleet.state_bytes_per_resource(),
                report::secs(s.wall())
            );
            self.samples.push((i, command, p, s.clone()));
            s
        });
        Floor {
            n: fleet.n,
            p,
            bytes: fleet.state_bytes_per_resource(),
            sample,
        }
    }
}

fn destroys(cfg: &Config, floors: &mut Floors) -> Destroys {
    let mut rows = destroy_rows(cfg, ECS, LATENCY_MS, true);
    rows.extend(destroy_rows(cfg, CVM, LATENCY_MS, true));
    let fast = destroy_rows(cfg, ECS, "0", false);
    let mut plain = Vec::new();
    let mut matched = Vec::new();
    for r in &fast {
        let i = floors.plain(r.n);
        plain.push(floors.measure(cfg.runs, i, "destroy", r.p));
        let j = floors.matching(r.n, r.state_bytes);
        matched.push(floors.measure(cfg.runs, j, "destroy", r.p));
    }
    Destroys {
        latency_ms: LATENCY_MS.into(),
        rows,
        fast,
        plain,
        matched,
    }
}

/// One destroy configuration per size and parallelism, both modes' runs interleaved so drift
/// hits both.
fn destroy_rows(
    cfg: &Config,
    cloud: Cloud,
    latency: &'static str,
    with_baseline: bool,
) -> Vec<DestroyRow> {
    let emu = cfg.emulator(latency);
    let mut rows = Vec::new();
    for &n in &cfg.sizes {
        eprintln!("{}: creating {n} key pairs", cloud.name());
        let fleet = KeyFleet::create(&emu, cloud, n);
        for &p in &PARALLELISMS {
            let mut batched = Vec::new();
            let mut one = Vec::new();
            for _ in 0..cfg.runs {
                batched.push(fleet.destroy(&emu, p, Mode::Batched));
                if with_baseline {
                    one.push(fleet.destroy(&emu, p, Mode::OneCall));
                }
            }
            let (batched, one) = (Sample::of(batched), Sample::of(one));
            let baseline = if with_baseline {
                format!(
                    "; one-call {} calls {}s",
                    one.calls(),
                    report::secs(one.wall())
                )
            } else {
                String::new()
            };
            eprintln!(
                "{} destroy latency={latency} n={n} p={p}: batched {} calls {}s{baseline}",
                cloud.name(),
                batched.calls(),
                report::secs(batched.wall()),
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

/// Parallelisms of the apply runs: 10 everywhere, and 100 too for CVM at the largest size,
/// where the rate limit and Terraform's parallelism meet.
fn apply_parallelisms(cfg: &Config, cloud: &Cloud, n: usize) -> Vec<usize> {
    if cloud.kind == CVM.kind && n == cfg.largest_size() {
        PARALLELISMS.to_vec()
    } else {
        vec![DEFAULT_PARALLELISM]
    }
}

/// Both modes of `run`, `cfg.runs` times each, interleaved.
fn both_modes(cfg: &Config, mut run: impl FnMut(Mode) -> Run) -> (Sample, Sample) {
    let mut batched = Vec::new();
    let mut one = Vec::new();
    for _ in 0..cfg.runs {
        batched.push(run(Mode::Batched));
        one.push(run(Mode::OneCall));
    }
    (Sample::of(batched), Sample::of(one))
}

/// The plan and apply rows (each with the time it took), from one imported fleet per cloud and
/// size; only the sections asked for are measured.
#[allow(clippy::type_complexity)]
fn plans_and_applies(
    cfg: &Config,
    floors: &mut Floors,
) -> (Vec<(CommandRow, Duration)>, Vec<(CommandRow, Duration)>) {
    let mut plans = Vec::new();
    let mut applies = Vec::new();
    for cloud in [ECS, ENS, CVM] {
        let emu = cfg.emulator(LATENCY_MS);
        for &n in &cfg.sizes {
            let t = Instant::now();
            eprintln!(
                "{}: importing {n} key pairs among {} others",
                cloud.name(),
                bench::FOREIGN_KEYS
            );
            let fleet = KeyFleet::imported(&emu, cloud, n);
            let bytes = fleet.state_bytes_per_resource();
            // Creating the fleet is shared: half to each section that runs.
            let setup = t.elapsed() / 2;
            if cfg.runs_section("plan") {
                let t = Instant::now();
                let p = DEFAULT_PARALLELISM;
                let row = command_row(cfg, floors, (cloud, n, p, bytes), "plan", |mode| {
                    fleet.plan(&emu, p, mode)
                });
                plans.push((row, setup + t.elapsed()));
            }
            if cfg.runs_section("apply") {
                for p in apply_parallelisms(cfg, &cloud, n) {
                    let t = Instant::now();
                    let row = command_row(cfg, floors, (cloud, n, p, bytes), "apply", |mode| {
                        fleet.apply(&emu, p, mode)
                    });
                    applies.push((row, setup + t.elapsed()));
                }
            }
        }
    }
    (plans, applies)
}

/// One `plan` or `apply` configuration (cloud, N, parallelism, state bytes per key) run in both
/// modes and against Terraform's own floor for the same command, logged as it goes.
fn command_row(
    cfg: &Config,
    floors: &mut Floors,
    (cloud, n, p, bytes): (Cloud, usize, usize, usize),
    command: &'static str,
    run: impl FnMut(Mode) -> Run,
) -> CommandRow {
    let (batched, one) = both_modes(cfg, run);
    let i = floors.matching(n, bytes);
    let floor = floors.measure(cfg.runs, i, command, p);
    eprintln!(
        "{} {command} n={n} p={p}: batched {} calls ({} DescribeKeyPairs, {} throttled) {}s; one-call {} calls ({} DescribeKeyPairs, {} throttled) {}s; floor {}s",
        cloud.name(),
        batched.calls(),
        batched.describe_calls(),
        batched.throttled(),
        report::secs(batched.wall()),
        one.calls(),
        one.describe_calls(),
        one.throttled(),
        report::secs(one.wall()),
        report::secs(floor.sample.wall()),
    );
    CommandRow {
        cloud,
        n,
        p,
        batched,
        one,
        state_bytes: bytes,
        floor: Some(floor),
    }
}

fn attachments(cfg: &Config) -> Vec<AttachRow> {
    let emu = cfg.emulator(LATENCY_MS);
    let n = cfg.attach_instances;
    let keep = n / 2;
    let mut rows = Vec::new();
    for cloud in [ECS, ENS, CVM] {
        eprintln!("{}: attaching one key to {n} instances", cloud.name());
        let fleet = AttachmentFleet::create(&emu, cloud, n);
        let modes = [Mode::Batched, Mode::Replace, Mode::OneCall];
        let mut runs: Vec<Vec<Run>> = vec![Vec::new(); modes.len()];
        for _ in 0..cfg.runs {
            for (mode, r) in modes.iter().zip(runs.iter_mut()) {
                r.push(fleet.shrink(&emu, keep, *mode));
            }
        }
        let samples: Vec<Sample> = runs.into_iter().map(Sample::of).collect();
        for (mode, s) in modes.iter().zip(&samples) {
            eprintln!(
                "{} attach {:?}: {} calls {}s",
                cloud.name(),
                mode,
                s.calls(),
                report::secs(s.wall())
            );
        }
        rows.push(AttachRow {
            cloud,
            modes: modes.into_iter().zip(samples).collect(),
        });
    }
    rows
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
        use sshkey::testing::tfplugin6 as wire;
        use sshkey::testing::tfplugin6::provider_client::ProviderClient;
        for _ in 0..SAMPLES {
            let provider = support::plugin::start_provider().await;
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
