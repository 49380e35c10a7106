//! The benchmark's scenarios at N=50, so `make test` keeps `make bench` working. Asserts call
//! counts only, never times: wall time on a shared CI machine proves nothing. Also runs the
//! unit tests of the report and chart formatting (`tests/support/bench/unit_tests.rs`).

mod support;

#[path = "support/bench/unit_tests.rs"]
mod bench_report_units;

use support::bench::{delete_call_target, AttachmentFleet, KeyFleet, Mode};
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
            cloud.name,
            batched.batched_calls
        );
        assert!(batched.batched_calls >= N.div_ceil(100));
        let one = fleet.destroy(&emu, p, Mode::OneCall);
        assert_eq!(
            one.batched_calls, N,
            "{} p={p}: one call per key",
            cloud.name
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
        let chunks = |count: usize| count.div_ceil(cloud.bind_limit);

        let batched = fleet.shrink(&emu, keep, Mode::Batched);
        assert_eq!(batched.batched_calls, chunks(removed), "{}", cloud.name);
        assert_eq!(batched.attach_calls, 0, "{}", cloud.name);

        let replace = fleet.shrink(&emu, keep, Mode::Replace);
        assert_eq!(replace.attach_calls, chunks(keep), "{}", cloud.name);
        assert_eq!(
            replace.batched_calls,
            chunks(n) + chunks(keep),
            "{}",
            cloud.name
        );

        let one = fleet.shrink(&emu, keep, Mode::OneCall);
        assert_eq!(one.batched_calls, removed, "{}", cloud.name);
    }
}
