//! The benchmark's scenarios at N=50, so `make test` keeps `make bench` working. Asserts call
//! counts only, never times: wall time on a shared CI machine proves nothing. Also runs the
//! unit tests of the report and chart formatting (`tests/support/bench/unit_tests.rs`).

mod support;

#[path = "support/bench/unit_tests.rs"]
mod bench_report_units;

use support::bench::{delete_call_target, AttachmentFleet, DataFleet, KeyFleet, Mode};
use support::clouds::{Cloud, CVM, ECS, ENS};
use support::Emulator;

const N: usize = 50;

fn destroy_counts(cloud: Cloud) {
    let emu = Emulator::start_with(&["--latency-ms", "20"]);
    let fleet = KeyFleet::create(&emu, cloud, N);
    for p in [10, 100] {
        let batched = fleet.destroy(&emu, p, Mode::Batched);
        let target = delete_call_target(N, p);
        assert!(
            batched.batched_calls as f64 <= target,
            "{} p={p}: {} DeleteKeyPairs calls for {N} keys, target <= {target}",
            cloud.name(),
            batched.batched_calls
        );
        assert!(batched.batched_calls >= N.div_ceil(100));
        let one = fleet.destroy(&emu, p, Mode::OneCall);
        assert_eq!(
            one.batched_calls,
            N,
            "{} p={p}: one call per key",
            cloud.name()
        );
    }
}

#[test]
fn destroy_batches_on_ecs() {
    destroy_counts(ECS);
}

#[test]
fn destroy_batches_on_cvm() {
    destroy_counts(CVM);
}

#[test]
fn attachment_shrink_calls_per_mode() {
    let emu = Emulator::start();
    for cloud in [ECS, ENS, CVM] {
        let n = 2 * N;
        let keep = N;
        let removed = n - keep;
        let fleet = AttachmentFleet::create(&emu, cloud, n);
        let chunks = |count: usize| count.div_ceil(cloud.bind_limit());

        let batched = fleet.shrink(&emu, keep, Mode::Batched);
        assert_eq!(batched.batched_calls, chunks(removed), "{}", cloud.name());
        assert_eq!(batched.attach_calls, 0, "{}", cloud.name());

        let replace = fleet.shrink(&emu, keep, Mode::Replace);
        assert_eq!(replace.attach_calls, chunks(keep), "{}", cloud.name());
        assert_eq!(
            replace.batched_calls,
            chunks(n) + chunks(keep),
            "{}",
            cloud.name()
        );

        let one = fleet.shrink(&emu, keep, Mode::OneCall);
        assert_eq!(one.batched_calls, removed, "{}", cloud.name());
    }
}

/// Plan and apply of N imported keys among the 40 made outside the workspace: batched, the
/// refresh reads in pages (at most `most_reads` DescribeKeyPairs calls); with
/// `max_read_batch = 1` one call per key; an apply is one ImportKeyPair per key and at most one
/// lookup per key in either mode; nothing is throttled.
fn plan_and_apply_counts(cloud: Cloud, most_reads: usize) {
    let emu = Emulator::start_with(&["--latency-ms", "20"]);
    let fleet = KeyFleet::imported(&emu, cloud, N);

    let batched = fleet.plan(&emu, 10, Mode::Batched);
    eprintln!(
        "{} plan of {N} keys among {} others: {} DescribeKeyPairs calls",
        cloud.name(),
        fleet.foreign,
        batched.describe_calls
    );
    assert!(
        batched.describe_calls <= most_reads,
        "{}: plan of {N} keys among {} others took {} DescribeKeyPairs calls, target <= {most_reads}",
        cloud.name(),
        fleet.foreign,
        batched.describe_calls
    );
    assert_eq!(
        batched.throttled,
        0,
        "{}: batched plan throttled",
        cloud.name()
    );
    let one = fleet.plan(&emu, 10, Mode::OneCall);
    assert_eq!(
        one.describe_calls,
        N,
        "{}: one call per key ({} answers throttled)",
        cloud.name(),
        one.throttled
    );
    assert_eq!(
        one.throttled,
        0,
        "{}: one-call plan throttled",
        cloud.name()
    );

    for mode in [Mode::Batched, Mode::OneCall] {
        let apply = fleet.apply(&emu, 10, mode);
        assert_eq!(
            apply.batched_calls,
            N,
            "{} {mode:?}: ImportKeyPair calls for {N} keys ({} answers throttled)",
            cloud.name(),
            apply.throttled
        );
        // Each create answer lacks the creation time, which a lookup completes: at most one
        // DescribeKeyPairs per new key.
        assert!(
            apply.describe_calls <= N,
            "{} {mode:?}: {} DescribeKeyPairs calls creating {N} keys",
            cloud.name(),
            apply.describe_calls
        );
        eprintln!(
            "{} apply {mode:?}: {} ImportKeyPair, {} DescribeKeyPairs",
            cloud.name(),
            apply.batched_calls,
            apply.describe_calls
        );
        assert_eq!(
            apply.throttled,
            0,
            "{} {mode:?}: apply throttled",
            cloud.name()
        );
    }
}

/// 90 keys are one CVM page; the first read, alone, is a lookup of its own.
#[test]
fn plan_reads_in_pages_on_cvm() {
    plan_and_apply_counts(CVM, 3);
}

/// ECS lists by a name pattern, the prefix shared by the names read so far: when Terraform
/// happens to read `bench_12` and `bench_17` first, the first listing is `bench_1*` and the
/// reads outside it are single-name lookups until a broader listing starts. 3 to 11 calls were
/// seen for these 90 keys (2 pages); 15 still proves the batching against 50.
#[test]
fn plan_reads_in_pages_on_ecs() {
    plan_and_apply_counts(ECS, 15);
}

/// The floors: Terraform's own plan, apply and destroy of `terraform_data`, padded to a key
/// fleet's state size.
#[test]
fn terraform_data_floors() {
    let plain = DataFleet::create(N);
    let bytes = 900;
    let same = DataFleet::matching(N, bytes, &plain);
    let got = same.state_bytes_per_resource();
    assert!(
        got.abs_diff(bytes) * 10 <= bytes,
        "padded to {got} state bytes per resource, asked for {bytes}"
    );
    for fleet in [&plain, &same] {
        for run in [fleet.plan(10), fleet.apply(10), fleet.destroy(10)] {
            assert!(!run.wall.is_zero());
        }
    }
}
