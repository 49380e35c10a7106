//! The benchmark report as text: Markdown sections of `BENCHMARKS.md`, their targets, and the
//! charts, all from measured samples. Nothing here runs anything, so tests feed it made-up
//! samples.
//!
//! Each section sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; [`merge`]
//! replaces only the sections a run produced and keeps the rest of the file (other sections,
//! hand-written notes) as it was.

use std::fmt::Write as _;
use std::time::Duration;

use super::super::clouds::Cloud;
use super::chart::{Chart, Series, PALETTE};
use super::{
    delete_call_target, plan_call_target, rate_floor, Mode, Run, APPLY_WALL_FACTOR, FOREIGN_KEYS,
    PLAN_WALL_SLACK,
};

/// The sections in the order the report has them.
pub const SECTIONS: [&str; 6] = [
    "header",
    "destroy",
    "plan",
    "apply",
    "attachment",
    "process",
];

/// Where charts go, relative to the report (the links in it are relative too).
pub const CHART_DIR: &str = "docs/bench";

/// Runs of one configuration: medians of wall time and calls, the largest peak RSS and the
/// most throttled answers of any run.
#[derive(Default, Clone, Debug)]
pub struct Sample {
    pub runs: Vec<Run>,
}

impl Sample {
    pub fn of(runs: Vec<Run>) -> Sample {
        Sample { runs }
    }
    pub fn wall(&self) -> Duration {
        median(self.runs.iter().map(|r| r.wall).collect())
    }
    pub fn calls(&self) -> usize {
        median(self.runs.iter().map(|r| r.batched_calls).collect())
    }
    pub fn attach_calls(&self) -> usize {
        median(self.runs.iter().map(|r| r.attach_calls).collect())
    }
    pub fn describe_calls(&self) -> usize {
        median(self.runs.iter().map(|r| r.describe_calls).collect())
    }
    pub fn total_calls(&self) -> usize {
        median(self.runs.iter().map(|r| r.total_calls).collect())
    }
    /// Throttled answers of the worst run: a target of 0 must hold for every run.
    pub fn throttled(&self) -> usize {
        self.runs.iter().map(|r| r.throttled).max().unwrap_or(0)
    }
    pub fn rss_mib(&self) -> f64 {
        self.runs.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }
    /// Every run's wall time, in run order.
    pub fn spread(&self) -> String {
        let walls: Vec<String> = self.runs.iter().map(|r| secs(r.wall)).collect();
        walls.join(" / ")
    }
}

pub fn median<T: Ord + Copy + Default>(mut v: Vec<T>) -> T {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

pub fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

pub fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        "n/a".into()
    } else {
        format!("{:.2}", a / b)
    }
}

pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

/// The size the targets are set for.
const TARGET_N: usize = 1000;

/// "met"/"missed" at [`TARGET_N`], "informational" at other sizes.
fn verdict_at(n: usize, ok: bool) -> &'static str {
    if n == TARGET_N {
        verdict(ok)
    } else {
        "informational (the target is for N=1000)"
    }
}

/// What a section was measured with, printed at its top: sections of one file may come from
/// different runs.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    pub commit: String,
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub runs: usize,
    pub terraform: String,
    /// e.g. "2 cores, AMD EPYC".
    pub machine: String,
    /// Extra emulator flags of this run (`SSHKEY_BENCH_EMULATOR_FLAGS`), empty for none.
    pub emulator_flags: String,
}

impl Provenance {
    fn line(&self, took: Duration) -> String {
        let flags = if self.emulator_flags.is_empty() {
            String::new()
        } else {
            format!(
                "; extra emulator flags `{}` (not the emulator's defaults)",
                self.emulator_flags
            )
        };
        format!(
            "_Measured at commit {} on {}: terraform {}, {}, wall times the median of {} run{}{flags}. This section took {:.0} s._",
            self.commit,
            self.date,
            self.terraform,
            self.machine,
            self.runs,
            if self.runs == 1 { "" } else { "s" },
            took.as_secs_f64()
        )
    }
}

/// A section between its markers.
pub fn wrap(name: &str, body: &str) -> String {
    format!(
        "<!-- bench:{name} -->\n{}\n<!-- /bench:{name} -->",
        body.trim_matches('\n')
    )
}

/// The byte range of section `name` in `doc`, markers included.
fn find_section(doc: &str, name: &str) -> Option<(usize, usize)> {
    let open = format!("<!-- bench:{name} -->");
    let close = format!("<!-- /bench:{name} -->");
    let start = doc.find(&open)?;
    let end = doc[start..].find(&close)? + start + close.len();
    Some((start, end))
}

fn rank(name: &str) -> usize {
    SECTIONS
        .iter()
        .position(|s| *s == name)
        .unwrap_or(SECTIONS.len())
}

/// `existing` with the sections in `fresh` (name, body) replaced or, when missing, inserted
/// after the nearest earlier section (else before the nearest later one, else at the end).
/// Everything outside the replaced sections is kept byte for byte.
pub fn merge(existing: &str, fresh: &[(&str, String)]) -> String {
    let mut doc = existing.to_string();
    for (name, body) in fresh {
        let text = wrap(name, body);
        if let Some((start, end)) = find_section(&doc, name) {
            doc.replace_range(start..end, &text);
            continue;
        }
        let earlier = SECTIONS
            .iter()
            .filter(|s| rank(s) < rank(name))
            .rev()
            .find_map(|s| find_section(&doc, s));
        let later = SECTIONS
            .iter()
            .filter(|s| rank(s) > rank(name))
            .find_map(|s| find_section(&doc, s));
        if let Some((_, end)) = earlier {
            doc.insert_str(end, &format!("\n\n{text}"));
        } else if let Some((start, _)) = later {
            doc.insert_str(start, &format!("{text}\n\n"));
        } else {
            if !doc.is_empty() && !doc.ends_with("\n\n") {
                doc.push_str(if doc.ends_with('\n') { "\n" } else { "\n\n" });
            }
            doc.push_str(&text);
        }
    }
    if !doc.ends_with('\n') {
        doc.push('\n');
    }
    doc
}

/// The report's title and the reading guide common to every section.
pub fn header() -> String {
    format!(
        "# Benchmarks\n\n\
         Written by `make bench` (`benches/terraform.rs`; scenarios in `tests/support/bench.rs`). \
         Every number is a real `terraform` run against the emulator, under the emulator's \
         built-in request limits. Wall times are medians (each run listed); calls are counted \
         by the emulator. \"One call per resource\" is this provider with \
         `max_delete_batch = 1`, `max_detach_batch = 1` and `max_read_batch = 1`, which is how \
         the official providers call the APIs, measured in the same run on the same emulator. \
         A target is checked at N=1000; other sizes are informational.\n\n\
         Each section says which commit, machine and runs it was measured with: \
         `SSHKEY_BENCH_ONLY=plan,apply make bench` re-runs some sections and keeps the others. \
         Charts of API calls and wall time against N (written by the benchmark into \
         [`{CHART_DIR}/`]({CHART_DIR}/)) are in the destroy, plan and apply sections."
    )
}

fn charts_markdown(command: &str, what: &str) -> String {
    format!(
        "![{what}: API calls against N]({CHART_DIR}/{command}-calls.svg)\n\
         ![{what}: wall time against N]({CHART_DIR}/{command}-wall.svg)"
    )
}

/// One destroy configuration measured in both modes (or batched only, for the floor rows).
#[derive(Clone, Debug)]
pub struct DestroyRow {
    pub cloud: Cloud,
    pub n: usize,
    pub p: usize,
    pub batched: Sample,
    pub one: Option<Sample>,
    /// The key fleet's `terraform.tfstate` bytes per key.
    pub state_bytes: usize,
}

/// Terraform's own run of N `terraform_data` at parallelism P.
#[derive(Clone, Debug)]
pub struct Floor {
    pub n: usize,
    pub p: usize,
    /// State bytes per resource.
    pub bytes: usize,
    pub sample: Sample,
}

fn floor_at(floors: &[Floor], n: usize, p: usize) -> Option<&Floor> {
    floors.iter().find(|f| f.n == n && f.p == p)
}

/// Everything the destroy section shows.
#[derive(Clone, Debug, Default)]
pub struct Destroys {
    pub latency_ms: String,
    /// Both modes, at `latency_ms`.
    pub rows: Vec<DestroyRow>,
    /// ECS at latency 0, batched, against the floors.
    pub fast: Vec<DestroyRow>,
    /// Minimal `terraform_data`.
    pub plain: Vec<Floor>,
    /// `terraform_data` padded to the fast rows' state bytes.
    pub matched: Vec<Floor>,
}

impl Destroys {
    /// The largest provider peak RSS of any N=1000 destroy, MiB.
    pub fn rss_1000(&self) -> f64 {
        self.rows
            .iter()
            .chain(&self.fast)
            .filter(|r| r.n == TARGET_N)
            .flat_map(|r| std::iter::once(&r.batched).chain(&r.one))
            .map(Sample::rss_mib)
            .fold(0.0, f64::max)
    }
}

pub fn destroy_section(d: &Destroys, prov: &Provenance, took: Duration) -> String {
    let latency = &d.latency_ms;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "## `terraform destroy` of N key pairs (emulator latency {latency} ms)\n\n{}\n\n\
         CVM runs at its real limit of 10 DeleteKeyPairs/s (the emulator enforces it; the \
         provider paces itself to stay under it). Wall time is the whole command: refresh, \
         plan and apply; one call per resource also refreshes one key per DescribeKeyPairs \
         call.\n\n\
         | cloud | N | parallelism | DeleteKeyPairs calls (batched / one-call / ratio) | target calls | total API calls (batched / one-call) | wall s (batched) | wall s (one-call) | wall ratio | peak RSS MiB (batched / one-call) |\n\
         |---|---|---|---|---|---|---|---|---|---|",
        prov.line(took)
    );
    for r in &d.rows {
        let Some(one) = &r.one else { continue };
        let target = delete_call_target(r.n, r.p);
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} / {} / {} | ≤ {:.1} ({}) | {} / {} | {} ({}) | {} ({}) | {} | {:.1} / {:.1} |",
            r.cloud.name(),
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
    for r in d
        .rows
        .iter()
        .filter(|r| r.cloud.name() == "cvm" && r.p == 100)
    {
        if let Some(one) = &r.one {
            let q = r.batched.wall().as_secs_f64() / one.wall().as_secs_f64();
            let _ = writeln!(
                t,
                "- CVM N={} parallelism 100: destroy wall time {:.3} x the one-call-per-key run (target ≤ 0.15 at N=1000): {}",
                r.n,
                q,
                if r.n == TARGET_N { verdict(q <= 0.15) } else { "informational" }
            );
        }
    }
    let _ = writeln!(t, "\n{}", charts_markdown("destroy", "terraform destroy"));
    let _ = writeln!(
        t,
        "\nThe charts show parallelism 10 (Terraform's default) and all API calls of the command.\n\n\
         ## Overhead over Terraform's own floor (ECS, emulator latency 0)\n\n\
         The floor is `terraform destroy` of N `terraform_data` resources: Terraform's own cost \
         with no provider plugin at all. Terraform rewrites its whole state file after every \
         resource it destroys, so a large destroy costs it time in proportion to the state's \
         size; the second floor is `terraform_data` padded to the same state bytes per \
         resource as our key pairs, which leaves only the provider's own cost in the ratio.\n\n\
         | N | parallelism | floor s (state bytes/resource; runs) | same-size floor s (bytes; runs) | sshkey batched s (bytes; runs) | ratio to floor | target | ratio to same-size floor |\n|---|---|---|---|---|---|---|---|"
    );
    for r in &d.fast {
        let (Some(plain), Some(same)) =
            (floor_at(&d.plain, r.n, r.p), floor_at(&d.matched, r.n, r.p))
        else {
            continue;
        };
        let ours = r.batched.wall().as_secs_f64();
        let q = ours / plain.sample.wall().as_secs_f64();
        let _ = writeln!(
            t,
            "| {} | {} | {} ({} B; {}) | {} ({} B; {}) | {} ({} B; {}) | {:.2} | {} | {:.2} |",
            r.n,
            r.p,
            secs(plain.sample.wall()),
            plain.bytes,
            plain.sample.spread(),
            secs(same.sample.wall()),
            same.bytes,
            same.sample.spread(),
            secs(r.batched.wall()),
            r.state_bytes,
            r.batched.spread(),
            q,
            if r.n == TARGET_N {
                format!("≤ 1.5: {}", verdict(q <= 1.5))
            } else {
                "informational".into()
            },
            ours / same.sample.wall().as_secs_f64(),
        );
    }
    let rss = d.rss_1000();
    let _ = write!(
        t,
        "\nPeak RSS is `VmHWM` of every provider process Terraform started, sampled every \
         20 ms. Largest during the N=1000 destroys: {:.1} MiB (target ≤ 30 MiB: {}).",
        rss,
        if rss == 0.0 {
            "not measured (no N=1000 run)"
        } else {
            verdict(rss <= 30.0)
        },
    );
    t
}

/// A `plan` or `apply` configuration measured in both modes, with Terraform's own run of the
/// same command on `terraform_data` of the same state size.
#[derive(Clone, Debug)]
pub struct CommandRow {
    pub cloud: Cloud,
    pub n: usize,
    pub p: usize,
    pub batched: Sample,
    pub one: Sample,
    /// The key fleet's `terraform.tfstate` bytes per key.
    pub state_bytes: usize,
    pub floor: Option<Floor>,
}

impl CommandRow {
    fn floor_cell(&self) -> String {
        match &self.floor {
            Some(f) => format!(
                "{} ({} B; {})",
                secs(f.sample.wall()),
                f.bytes,
                f.sample.spread()
            ),
            None => "not measured".into(),
        }
    }

    fn floor_ratios(&self) -> String {
        match &self.floor {
            Some(f) => {
                let floor = f.sample.wall().as_secs_f64();
                format!(
                    "{} / {}",
                    ratio(self.batched.wall().as_secs_f64(), floor),
                    ratio(self.one.wall().as_secs_f64(), floor)
                )
            }
            None => "n/a".into(),
        }
    }
}

pub fn plan_section(
    rows: &[CommandRow],
    latency_ms: &str,
    prov: &Provenance,
    took: Duration,
) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "## `terraform plan` (refresh) of N key pairs (emulator latency {latency_ms} ms)\n\n{}\n\n\
         N key pairs imported through Terraform, in a region that also holds {FOREIGN_KEYS} key \
         pairs made outside the workspace, named with the workspace's prefix so that every \
         listing shows them (half ahead of ours, half behind). The provider paces every call to \
         the cloud's documented rate (CVM: 10 DescribeKeyPairs/s). Every plan refreshes every \
         key and must show no changes. Batched, the provider lists the region in pages (CVM: \
         100 keys a page; ECS: 50 of the names matching the workspace's prefix) and looks the \
         rest up in batches; ENS can neither narrow a listing nor batch a lookup, so it reads \
         one key per call in both modes. The floor is `terraform plan` of N `terraform_data` \
         padded to the same state bytes per resource: Terraform's own cost of this plan.\n\n\
         | cloud | N | parallelism | DescribeKeyPairs calls (batched / one-call / ratio) | throttled answers (batched / one-call) | wall s (batched; runs) | wall s (one-call; runs) | wall ratio | same-size floor s (bytes; runs) | ratio to floor (batched / one-call) | peak RSS MiB (batched / one-call) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|",
        prov.line(took)
    );
    for r in rows {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} / {} / {} | {} / {} | {} ({}) | {} ({}) | {} | {} | {} | {:.1} / {:.1} |",
            r.cloud.name(),
            r.n,
            r.p,
            r.batched.describe_calls(),
            r.one.describe_calls(),
            ratio(r.batched.describe_calls() as f64, r.one.describe_calls() as f64),
            r.batched.throttled(),
            r.one.throttled(),
            secs(r.batched.wall()),
            r.batched.spread(),
            secs(r.one.wall()),
            r.one.spread(),
            ratio(r.batched.wall().as_secs_f64(), r.one.wall().as_secs_f64()),
            r.floor_cell(),
            r.floor_ratios(),
            r.batched.rss_mib(),
            r.one.rss_mib(),
        );
    }
    let _ = writeln!(t, "\n### Targets\n");
    let mut any = false;
    for r in rows {
        let Some(most) = plan_call_target(&r.cloud) else {
            continue;
        };
        any = true;
        let name = r.cloud.name().to_uppercase();
        let calls = r.batched.describe_calls();
        let _ = writeln!(
            t,
            "- {name} N={}: {calls} DescribeKeyPairs calls (target ≤ {most} at N=1000): {}",
            r.n,
            verdict_at(r.n, calls <= most)
        );
        let throttled = r.batched.throttled();
        let _ = writeln!(
            t,
            "- {name} N={}: {throttled} throttled answers (target 0; one call per resource: {}): {}",
            r.n,
            r.one.throttled(),
            verdict_at(r.n, throttled == 0)
        );
        if r.cloud.name() == "cvm" {
            match &r.floor {
                Some(f) => {
                    let bound = f.sample.wall() + PLAN_WALL_SLACK;
                    let _ = writeln!(
                        t,
                        "- {name} N={}: plan wall {} s (target ≤ same-size floor {} s + {} s = {} s): {}",
                        r.n,
                        secs(r.batched.wall()),
                        secs(f.sample.wall()),
                        PLAN_WALL_SLACK.as_secs(),
                        secs(bound),
                        verdict_at(r.n, r.batched.wall() <= bound)
                    );
                }
                None => {
                    let _ = writeln!(t, "- {name} N={}: plan wall: floor not measured", r.n);
                }
            }
        }
    }
    if !any {
        let _ = writeln!(t, "- not measured (no CVM or ECS run)");
    }
    let _ = write!(
        t,
        "\n{}\n\nThe charts show DescribeKeyPairs calls (the plan's only API calls) and the \
         whole command's wall time; the grey line is Terraform's own plan of the same-size \
         `terraform_data`.",
        charts_markdown("plan", "terraform plan")
    );
    t
}

pub fn apply_section(
    rows: &[CommandRow],
    latency_ms: &str,
    prov: &Provenance,
    took: Duration,
) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "## `terraform apply` creating N imported key pairs (emulator latency {latency_ms} ms)\n\n{}\n\n\
         The plan scenario's key pairs (`public_key` set, so each is one ImportKeyPair call) \
         created from an empty state, in the region with the {FOREIGN_KEYS} foreign keys. A \
         create answer lacks the creation time (a CVM import answers only the id), so the \
         provider completes each new key with a lookup through its reader, which batches the \
         lookups that wait together; with `max_read_batch = 1` each is its own DescribeKeyPairs \
         call. CVM documents 10 ImportKeyPair calls/s, so N keys take at least N/10 s there \
         (the rate floor). After each apply the next plan must be empty (checked, not timed). \
         The same-size floor is `terraform apply` creating N `terraform_data` padded to the \
         same state bytes per resource.\n\n\
         | cloud | N | parallelism | ImportKeyPair calls (batched / one-call) | DescribeKeyPairs calls (batched / one-call) | throttled answers (batched / one-call) | wall s (batched; runs) | wall s (one-call; runs) | rate floor s | same-size floor s (bytes; runs) | ratio to floor (batched / one-call) | peak RSS MiB (batched / one-call) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|",
        prov.line(took)
    );
    for r in rows {
        let rate = rate_floor(&r.cloud, "ImportKeyPair", r.n)
            .map(secs)
            .unwrap_or_else(|| "none documented".into());
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} / {} | {} / {} | {} / {} | {} ({}) | {} ({}) | {rate} | {} | {} | {:.1} / {:.1} |",
            r.cloud.name(),
            r.n,
            r.p,
            r.batched.calls(),
            r.one.calls(),
            r.batched.describe_calls(),
            r.one.describe_calls(),
            r.batched.throttled(),
            r.one.throttled(),
            secs(r.batched.wall()),
            r.batched.spread(),
            secs(r.one.wall()),
            r.one.spread(),
            r.floor_cell(),
            r.floor_ratios(),
            r.batched.rss_mib(),
            r.one.rss_mib(),
        );
    }
    let _ = writeln!(t, "\n### Targets\n");
    let mut any = false;
    for r in rows {
        let Some(rate) = rate_floor(&r.cloud, "ImportKeyPair", r.n) else {
            continue;
        };
        any = true;
        let bound = rate.mul_f64(APPLY_WALL_FACTOR);
        let ok = r.batched.throttled() == 0 && r.batched.wall() <= bound;
        let _ = writeln!(
            t,
            "- {} N={} parallelism {}: {} throttled answers, wall {} s (target 0 and ≤ {APPLY_WALL_FACTOR} x {} s = {} s; one call per resource: {}, {} s): {}",
            r.cloud.name().to_uppercase(),
            r.n,
            r.p,
            r.batched.throttled(),
            secs(r.batched.wall()),
            secs(rate),
            secs(bound),
            r.one.throttled(),
            secs(r.one.wall()),
            verdict_at(r.n, ok)
        );
    }
    if !any {
        let _ = writeln!(t, "- not measured (no CVM run)");
    }
    let _ = write!(
        t,
        "\n{}\n\nThe charts show parallelism 10 and all API calls of the command; the grey line \
         is Terraform's own apply of the same-size `terraform_data`.",
        charts_markdown("apply", "terraform apply")
    );
    t
}

/// One attachment fleet's runs, per mode.
#[derive(Clone, Debug)]
pub struct AttachRow {
    pub cloud: Cloud,
    pub modes: Vec<(Mode, Sample)>,
}

pub fn attachment_section(
    rows: &[AttachRow],
    instances: usize,
    latency_ms: &str,
    prov: &Provenance,
    took: Duration,
) -> String {
    let n = instances;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "## Attachment update: remove {} of {n} instances (emulator latency {latency_ms} ms)\n\n{}\n\n\
         `terraform apply` of `instance_ids` shrunk to the first {}. Replacement is \
         `-replace` on the attachment: detach all {n}, attach the {} kept (the official \
         alicloud provider's ForceNew behaviour, here even with our chunking). Calls are \
         detach + attach calls; ratios are against one call per instance.\n\n\
         | cloud | mode | bind calls (attach) | total API calls | wall s | runs | ratio calls | ratio wall | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|",
        n - n / 2,
        prov.line(took),
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
                row.cloud.name(),
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
    t
}

/// Provider process measurements.
#[derive(Clone, Debug, Default)]
pub struct Process {
    pub handshakes: Vec<Duration>,
    pub first_schema: Vec<Duration>,
    pub warm_schema: Vec<Duration>,
    pub binary_bytes: u64,
}

pub fn process_section(p: &Process, prov: &Provenance, took: Duration) -> String {
    let hs = median(p.handshakes.clone());
    let first = median(p.first_schema.clone());
    let warm = median(p.warm_schema.clone());
    let mib = p.binary_bytes as f64 / (1024.0 * 1024.0);
    format!(
        "## Provider process\n\n{}\n\n\
         | measure | value | target |\n|---|---|---|\n\
         | exec to handshake line (median of {}) | {:.1} ms | ≤ 20 ms: {} |\n\
         | GetProviderSchema, first call on a fresh mTLS connection (median) | {:.2} ms | |\n\
         | GetProviderSchema, later calls (median) | {:.2} ms | |\n\
         | stripped release binary | {:.1} MiB | ≤ 20 MiB: {} |",
        prov.line(took),
        p.handshakes.len(),
        hs.as_secs_f64() * 1e3,
        verdict(hs <= Duration::from_millis(20)),
        first.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3,
        mib,
        verdict(mib <= 20.0),
    )
}

/// One point of a chart: a cloud's command at size N in one mode.
#[derive(Clone, Debug)]
pub struct ChartPoint {
    pub cloud: &'static str,
    pub n: usize,
    pub mode: Mode,
    pub calls: f64,
    pub wall_s: f64,
}

/// A chart file: its name in [`CHART_DIR`] and its SVG.
#[derive(Clone, Debug)]
pub struct ChartFile {
    pub name: String,
    pub svg: String,
}

/// Clouds in chart order, with their colours.
const CLOUD_COLOURS: [(&str, &str); 3] = [
    ("ecs", PALETTE[0]),
    ("ens", PALETTE[2]),
    ("cvm", PALETTE[1]),
];
const FLOOR_COLOUR: &str = "#888888";

/// `COMMAND-calls.svg` and `COMMAND-wall.svg`: one solid line per cloud batched, one dashed
/// per cloud one call per resource, and (wall time only) Terraform's own same-size floor.
pub fn command_charts(
    command: &str,
    calls_label: &str,
    points: &[ChartPoint],
    floor: &[(usize, f64)],
) -> Vec<ChartFile> {
    let mut calls = Vec::new();
    let mut walls = Vec::new();
    for (cloud, colour) in CLOUD_COLOURS {
        for mode in [Mode::Batched, Mode::OneCall] {
            let mine: Vec<&ChartPoint> = points
                .iter()
                .filter(|p| p.cloud == cloud && p.mode == mode)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let label = format!(
                "{cloud} {}",
                if mode == Mode::Batched {
                    "batched"
                } else {
                    "one call per resource"
                }
            );
            let series = |points: Vec<(f64, f64)>| Series {
                label: label.clone(),
                color: colour.into(),
                dashed: mode != Mode::Batched,
                points,
            };
            calls.push(series(mine.iter().map(|p| (p.n as f64, p.calls)).collect()));
            walls.push(series(
                mine.iter().map(|p| (p.n as f64, p.wall_s)).collect(),
            ));
        }
    }
    if !floor.is_empty() {
        walls.push(Series {
            label: "Terraform alone (terraform_data)".into(),
            color: FLOOR_COLOUR.into(),
            dashed: false,
            points: floor.iter().map(|(n, s)| (*n as f64, *s)).collect(),
        });
    }
    let chart = |what: &str, y_label: &str, series: Vec<Series>| Chart {
        title: format!("terraform {command} of N key pairs: {what}"),
        x_label: "N (key pairs)".into(),
        y_label: y_label.into(),
        log_x: true,
        log_y: true,
        series,
    };
    vec![
        ChartFile {
            name: format!("{command}-calls.svg"),
            svg: chart("API calls", calls_label, calls).svg(),
        },
        ChartFile {
            name: format!("{command}-wall.svg"),
            svg: chart("wall time", "wall time, s", walls).svg(),
        },
    ]
}

fn point(cloud: &Cloud, n: usize, mode: Mode, s: &Sample, calls: f64) -> ChartPoint {
    ChartPoint {
        cloud: cloud.name(),
        n,
        mode,
        calls,
        wall_s: s.wall().as_secs_f64(),
    }
}

/// The destroy charts, at parallelism 10: all API calls of the command.
pub fn destroy_charts(d: &Destroys) -> Vec<ChartFile> {
    let mut points = Vec::new();
    for r in d.rows.iter().filter(|r| r.p == 10) {
        let b = &r.batched;
        points.push(point(
            &r.cloud,
            r.n,
            Mode::Batched,
            b,
            b.total_calls() as f64,
        ));
        if let Some(one) = &r.one {
            points.push(point(
                &r.cloud,
                r.n,
                Mode::OneCall,
                one,
                one.total_calls() as f64,
            ));
        }
    }
    let floor: Vec<(usize, f64)> = d
        .matched
        .iter()
        .filter(|f| f.p == 10)
        .map(|f| (f.n, f.sample.wall().as_secs_f64()))
        .collect();
    command_charts("destroy", "API calls (all actions)", &points, &floor)
}

fn command_rows_charts(
    command: &str,
    calls_label: &str,
    rows: &[CommandRow],
    calls: impl Fn(&Sample) -> usize,
) -> Vec<ChartFile> {
    let mut points = Vec::new();
    let mut floor: Vec<(usize, f64)> = Vec::new();
    for r in rows.iter().filter(|r| r.p == 10) {
        points.push(point(
            &r.cloud,
            r.n,
            Mode::Batched,
            &r.batched,
            calls(&r.batched) as f64,
        ));
        points.push(point(
            &r.cloud,
            r.n,
            Mode::OneCall,
            &r.one,
            calls(&r.one) as f64,
        ));
        if let Some(f) = &r.floor {
            if !floor.iter().any(|(n, _)| *n == r.n) {
                floor.push((r.n, f.sample.wall().as_secs_f64()));
            }
        }
    }
    command_charts(command, calls_label, &points, &floor)
}

/// The plan charts: DescribeKeyPairs calls and wall time.
pub fn plan_charts(rows: &[CommandRow]) -> Vec<ChartFile> {
    command_rows_charts(
        "plan",
        "DescribeKeyPairs calls",
        rows,
        Sample::describe_calls,
    )
}

/// The apply charts at parallelism 10: all API calls and wall time.
pub fn apply_charts(rows: &[CommandRow]) -> Vec<ChartFile> {
    command_rows_charts(
        "apply",
        "API calls (all actions)",
        rows,
        Sample::total_calls,
    )
}
