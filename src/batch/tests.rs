//! Coalescer tests against a scripted in-memory [`KeyPairApi`], with paused time.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::*;
use crate::batch::detach::BatchError;
use crate::cloud::{
    BindOptions, CloudError, ErrorKind, Instance, InstanceOutcome, InstanceQuery, KeyPage, KeyPair,
    KeyPairApi, KeyQuery, KeySpec, PageRequest,
};

#[derive(Default)]
struct State {
    /// key id -> instances holding it.
    keys: BTreeMap<String, Vec<String>>,
    delete_calls: Vec<Vec<String>>,
    detach_calls: Vec<(String, Vec<String>)>,
    /// Errors the next delete calls return; `commit` says whether the call deletes first.
    delete_script: VecDeque<(bool, CloudError)>,
    /// Instances whose detach fails individually.
    windows: Vec<String>,
}

/// A scripted cloud: ECS rejects deletes of bound keys as a whole, CVM silently keeps them.
struct Double {
    kind: CloudKind,
    latency: Duration,
    state: Mutex<State>,
}

impl Double {
    fn new(kind: CloudKind, keys: usize, latency_ms: u64) -> Arc<Self> {
        let state = State {
            keys: (0..keys).map(|i| (format!("k{i}"), Vec::new())).collect(),
            ..State::default()
        };
        Arc::new(Self {
            kind,
            latency: Duration::from_millis(latency_ms),
            state: Mutex::new(state),
        })
    }
    fn bind(&self, key: &str, inst: &str) {
        let mut s = self.state.lock().unwrap();
        s.keys.get_mut(key).unwrap().push(inst.to_string());
    }
    fn err(&self, action: &str, code: &str, kind: ErrorKind) -> CloudError {
        CloudError::local(self.kind, action, kind, code, "scripted")
    }
    fn delete_calls(&self) -> Vec<Vec<String>> {
        self.state.lock().unwrap().delete_calls.clone()
    }
    fn exists(&self, key: &str) -> bool {
        self.state.lock().unwrap().keys.contains_key(key)
    }
}

#[async_trait]
impl KeyPairApi for Double {
    fn kind(&self) -> CloudKind {
        self.kind
    }
    async fn create_key_pair(&self, _spec: &KeySpec) -> Result<KeyPair, CloudError> {
        Err(self.err("CreateKeyPair", "Unsupported", ErrorKind::Other))
    }
    async fn describe_key_pairs(&self, q: &KeyQuery) -> Result<Vec<KeyPair>, CloudError> {
        let s = self.state.lock().unwrap();
        let KeyQuery::Ids(ids) = q else {
            return Err(self.err("DescribeKeyPairs", "Unsupported", ErrorKind::Other));
        };
        Ok(ids
            .iter()
            .filter_map(|id| {
                s.keys.get(id).map(|bound| KeyPair {
                    name: id.clone(),
                    id: id.clone(),
                    instance_ids: (self.kind == CloudKind::Cvm).then(|| bound.clone()),
                    ..KeyPair::default()
                })
            })
            .collect())
    }
    async fn list_key_pairs(&self, _page: &PageRequest) -> Result<KeyPage, CloudError> {
        Err(self.err("DescribeKeyPairs", "Unsupported", ErrorKind::Other))
    }
    async fn delete_key_pairs(&self, ids: &[String]) -> Result<(), CloudError> {
        assert!(ids.len() <= self.kind.limits().delete_batch);
        tokio::time::sleep(self.latency).await;
        let mut s = self.state.lock().unwrap();
        s.delete_calls.push(ids.to_vec());
        if let Some((commit, e)) = s.delete_script.pop_front() {
            if commit {
                ids.iter().for_each(|id| {
                    s.keys.remove(id);
                });
            }
            return Err(e);
        }
        let bound = ids
            .iter()
            .any(|id| s.keys.get(id).is_some_and(|b| !b.is_empty()));
        if bound && self.kind == CloudKind::Ecs {
            return Err(self.err(
                "DeleteKeyPairs",
                "InvalidParameter.KeypairAlreadyAttachedInstance",
                ErrorKind::BoundToInstance,
            ));
        }
        for id in ids {
            if s.keys
                .get(id)
                .is_some_and(|b| b.is_empty() || self.kind == CloudKind::Ens)
            {
                s.keys.remove(id);
            }
        }
        Ok(())
    }
    async fn attach(
        &self,
        _key_id: &str,
        _instances: &[String],
        _o: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        Err(self.err("AttachKeyPair", "Unsupported", ErrorKind::Other))
    }
    async fn detach(
        &self,
        key_id: &str,
        instances: &[String],
        _o: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        assert!(instances.len() <= self.kind.limits().bind_batch);
        tokio::time::sleep(self.latency).await;
        let mut s = self.state.lock().unwrap();
        s.detach_calls
            .push((key_id.to_string(), instances.to_vec()));
        let windows = s.windows.clone();
        Ok(instances
            .iter()
            .map(|i| InstanceOutcome {
                instance_id: i.clone(),
                result: if windows.contains(i) {
                    Err(self.err(
                        "DetachKeyPair",
                        "DependencyViolation.WindowsInstance",
                        ErrorKind::InvalidInput,
                    ))
                } else {
                    Ok(())
                },
            })
            .collect())
    }
    async fn describe_instances(&self, q: &InstanceQuery) -> Result<Vec<Instance>, CloudError> {
        let s = self.state.lock().unwrap();
        let InstanceQuery::BoundTo(key) = q else {
            return Err(self.err("DescribeInstances", "Unsupported", ErrorKind::Other));
        };
        Ok(s.keys
            .get(key)
            .map(|b| {
                b.iter()
                    .map(|i| Instance {
                        id: i.clone(),
                        key_ids: vec![key.clone()],
                        ..Instance::default()
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
    async fn reboot_instance(&self, _id: &str) -> Result<(), CloudError> {
        Ok(())
    }
}

fn settings(max: usize) -> BatchSettings {
    BatchSettings {
        max_batch: max,
        gather_window: Duration::from_millis(10),
    }
}

async fn delete_all(c: &Arc<DeleteCoalescer>, ids: Vec<String>) -> Vec<Result<(), DeleteError>> {
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let c = Arc::clone(c);
            tokio::spawn(async move { c.delete(id.clone(), id).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("k{i}")).collect()
}

#[tokio::test(start_paused = true)]
async fn burst_of_250_deletes_takes_three_calls() {
    for kind in [CloudKind::Ecs, CloudKind::Cvm] {
        let api = Double::new(kind, 250, 30);
        let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
        let results = delete_all(&c, keys(250)).await;
        assert!(results.iter().all(Result::is_ok), "{kind}: {results:?}");
        let calls = api.delete_calls();
        assert!(calls.len() <= 3, "{kind}: {} calls", calls.len());
        assert!(calls.iter().all(|c| c.len() <= 100));
        assert!(api.state.lock().unwrap().keys.is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn max_batch_is_clamped_to_the_cloud_limit() {
    let api = Double::new(CloudKind::Ens, 5, 1);
    let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
    let results = delete_all(&c, keys(5)).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(api.delete_calls().len(), 5, "ENS deletes one key per call");
}

#[tokio::test(start_paused = true)]
async fn group_commit_timing() {
    let api = Double::new(CloudKind::Ecs, 6, 50);
    let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
    let start = Instant::now();
    let first = {
        let c = Arc::clone(&c);
        tokio::spawn(async move { c.delete("k0".into(), "k0".into()).await })
    };
    // The first call is in flight from 10 ms to 60 ms; these arrive meanwhile.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let rest = delete_all(&c, (1..6).map(|i| format!("k{i}")).collect()).await;
    let first_done = first.await.unwrap();
    assert!(first_done.is_ok() && rest.iter().all(Result::is_ok));
    let calls = api.delete_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0], vec!["k0".to_string()]);
    assert_eq!(calls[1].len(), 5);
    // First batch: window 10 + latency 50; second starts right after, no new window.
    assert_eq!(start.elapsed(), Duration::from_millis(110));
}

#[tokio::test(start_paused = true)]
async fn ecs_reject_mode_splits_and_names_holders() {
    let api = Double::new(CloudKind::Ecs, 50, 5);
    for (k, i) in [("k3", "i-a"), ("k17", "i-b"), ("k40", "i-c")] {
        api.bind(k, i);
    }
    let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
    let results = delete_all(&c, keys(50)).await;
    let failed: Vec<(usize, &DeleteError)> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
        .collect();
    assert_eq!(
        failed.iter().map(|f| f.0).collect::<Vec<_>>(),
        vec![3, 17, 40]
    );
    for (_, e) in &failed {
        assert!(matches!(e, DeleteError::StillBound { instances, .. } if instances.len() == 1));
    }
    assert!(failed[0].1.to_string().contains("i-a"));
    assert_eq!(
        api.delete_calls().len(),
        2,
        "one failed batch, one for the 47"
    );
    assert_eq!(api.state.lock().unwrap().keys.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn cvm_silent_keep_is_detected() {
    let api = Double::new(CloudKind::Cvm, 5, 5);
    api.bind("k2", "ins-abcd1234");
    let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
    let results = delete_all(&c, keys(5)).await;
    for (i, r) in results.iter().enumerate() {
        if i == 2 {
            let e = r.as_ref().unwrap_err();
            assert!(e.to_string().contains("ins-abcd1234"), "{e}");
        } else {
            assert!(r.is_ok(), "{i}: {r:?}");
        }
    }
    assert_eq!(api.delete_calls().len(), 1);
    assert!(api.exists("k2"));
}

#[tokio::test(start_paused = true)]
async fn not_found_after_committed_try_is_success() {
    let api = Double::new(CloudKind::Ecs, 3, 5);
    let nf = api.err(
        "DeleteKeyPairs",
        "InvalidKeyPairName.NotFound",
        ErrorKind::NotFound,
    );
    api.state
        .lock()
        .unwrap()
        .delete_script
        .push_back((true, nf));
    let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
    let results = delete_all(&c, keys(3)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(api.delete_calls().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn transient_whole_call_failure_retries_the_rest_once() {
    let api = Double::new(CloudKind::Ecs, 4, 5);
    let throttled = api.err("DeleteKeyPairs", "Throttling.User", ErrorKind::Throttled);
    api.state
        .lock()
        .unwrap()
        .delete_script
        .push_back((false, throttled.clone()));
    let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
    assert!(delete_all(&c, keys(4)).await.iter().all(Result::is_ok));
    assert_eq!(api.delete_calls().len(), 2);

    // A single key that keeps failing reports the cloud's error and stays.
    let api = Double::new(CloudKind::Ecs, 1, 5);
    api.state
        .lock()
        .unwrap()
        .delete_script
        .push_back((false, throttled));
    let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
    let r = delete_all(&c, keys(1)).await;
    assert!(
        matches!(&r[0], Err(DeleteError::Cloud { source, .. }) if source.code == "Throttling.User")
    );
    assert!(api.exists("k0"));
}

#[tokio::test(start_paused = true)]
async fn cancel_fails_queued_and_finishes_in_flight() {
    let api = Double::new(CloudKind::Ecs, 4, 100);
    let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
    let first = {
        let c = Arc::clone(&c);
        tokio::spawn(async move { c.delete("k0".into(), "k0".into()).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let queued: Vec<_> = ["k1", "k2"]
        .into_iter()
        .map(|k| {
            let c = Arc::clone(&c);
            tokio::spawn(async move { c.delete(k.into(), k.into()).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(10)).await;
    c.cancel();
    assert!(first.await.unwrap().is_ok(), "in-flight delete finishes");
    for q in queued {
        let e = q.await.unwrap().unwrap_err();
        assert!(matches!(e, DeleteError::Cancelled { .. }));
        assert!(e.to_string().contains("stopping"));
    }
    let late = c.delete("k3".into(), "k3".into()).await;
    assert!(matches!(late, Err(DeleteError::Cancelled { .. })));
    assert_eq!(api.delete_calls().len(), 1);
    assert!(api.exists("k1") && api.exists("k2") && api.exists("k3"));
}

#[tokio::test(start_paused = true)]
async fn detaches_of_one_key_merge_and_chunk() {
    let api = Double::new(CloudKind::Ecs, 1, 20);
    api.state.lock().unwrap().windows.push("i-w".into());
    let c = Arc::new(DetachCoalescer::new(api.clone(), settings(100)));
    let lists: Vec<Vec<String>> = vec![
        (0..60)
            .map(|i| format!("i-a{i}"))
            .chain(["i-w".to_string()])
            .collect(),
        (0..40).map(|i| format!("i-b{i}")).collect(),
        (0..19).map(|i| format!("i-c{i}")).collect(),
    ];
    let tasks: Vec<_> = lists
        .clone()
        .into_iter()
        .map(|l| {
            let c = Arc::clone(&c);
            tokio::spawn(async move { c.detach("k0".into(), l, BindOptions::default()).await })
        })
        .collect();
    let mut outs = Vec::new();
    for t in tasks {
        outs.push(t.await.unwrap().unwrap());
    }
    let calls = api.state.lock().unwrap().detach_calls.clone();
    assert_eq!(
        calls.iter().map(|c| c.1.len()).collect::<Vec<_>>(),
        vec![50, 50, 20]
    );
    for (out, list) in outs.iter().zip(&lists) {
        assert_eq!(
            out.iter().map(|o| &o.instance_id).collect::<Vec<_>>(),
            list.iter().collect::<Vec<_>>()
        );
    }
    let failed: Vec<_> = outs[0].iter().filter(|o| o.result.is_err()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].instance_id, "i-w");
    assert!(outs[1].iter().chain(&outs[2]).all(|o| o.result.is_ok()));
}

#[tokio::test(start_paused = true)]
async fn detach_cancel() {
    let api = Double::new(CloudKind::Cvm, 1, 50);
    let c = DetachCoalescer::new(api.clone(), settings(100));
    c.cancel();
    let r = c
        .detach(
            "k0".into(),
            vec!["ins-abcd1234".into()],
            BindOptions { force_stop: true },
        )
        .await;
    assert!(matches!(r, Err(BatchError::Cancelled { .. })));
    assert!(api.state.lock().unwrap().detach_calls.is_empty());
}

/// Terraform's destroy walk in miniature: `n` deletes behind `parallelism` permits, handed out
/// by one dispatcher that spends `gap` per node (Terraform's own bookkeeping); a permit comes
/// back when its delete is answered. Returns the elapsed time.
async fn terraform_walk(
    c: &Arc<DeleteCoalescer>,
    n: usize,
    parallelism: usize,
    gap: Duration,
) -> Duration {
    let permits = Arc::new(tokio::sync::Semaphore::new(parallelism));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for id in keys(n) {
        let permit = Arc::clone(&permits).acquire_owned().await.unwrap();
        tokio::time::sleep(gap).await;
        let c = Arc::clone(c);
        tasks.push(tokio::spawn(async move {
            let result = c.delete(id.clone(), id).await;
            drop(permit);
            result
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_ok());
    }
    start.elapsed()
}

#[tokio::test(start_paused = true)]
async fn rounds_as_large_as_terraforms_parallelism_go_without_the_window() {
    let window = Duration::from_millis(250);
    let settings = |max_batch| BatchSettings {
        max_batch,
        gather_window: window,
    };
    for parallelism in [10, 100] {
        let api = Double::new(CloudKind::Ecs, 1000, 20);
        let c = Arc::new(DeleteCoalescer::new(api.clone(), settings(100)));
        let took = terraform_walk(&c, 1000, parallelism, Duration::from_millis(1)).await;
        let calls = api.delete_calls().len();
        let rounds = 1000 / parallelism;
        assert!(calls <= rounds * 12 / 10, "p={parallelism}: {calls} calls");
        // Each round costs the dispatcher's gap per node plus one call; the window is paid
        // only while learning (first round) and at the tail.
        let per_round = Duration::from_millis(parallelism as u64 + 20 + 5);
        let bound = per_round * rounds as u32 + window * 3;
        assert!(took <= bound, "p={parallelism}: {took:?} > {bound:?}");
    }
}

/// Deletes `ids.len()` keys, the i-th one `gaps[..i]` after the start; returns the calls made.
async fn delete_at(window_ms: u64, gaps_ms: &[u64]) -> Vec<Vec<String>> {
    let api = Double::new(CloudKind::Ecs, gaps_ms.len() + 1, 0);
    let c = Arc::new(DeleteCoalescer::new(
        api.clone(),
        BatchSettings {
            max_batch: 100,
            gather_window: Duration::from_millis(window_ms),
        },
    ));
    let mut at = Duration::ZERO;
    let mut tasks = Vec::new();
    for (i, gap) in std::iter::once(0)
        .chain(gaps_ms.iter().copied())
        .enumerate()
    {
        at += Duration::from_millis(gap);
        let (c, when) = (c.clone(), at);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(when).await;
            c.delete(format!("k{i}"), format!("k{i}")).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    api.delete_calls()
}

#[tokio::test(start_paused = true)]
async fn every_arrival_restarts_the_window() {
    // 10 deletes 80 ms apart under a 100 ms window: each arrival restarts it, one call.
    let calls = delete_at(100, &[80; 9]).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    // Gaps of 140 ms after a first one of 60: the 100 ms window alone would split them, but
    // each wait is three times the mean gap so far (180 ms, then 300, ...), as Terraform's
    // trickle slows down under load.
    let mut gaps = vec![60];
    gaps.extend([140; 8]);
    let calls = delete_at(100, &gaps).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    // A lone first request knows no gap yet: it waits the window, no more.
    let calls = delete_at(100, &[140]).await;
    assert_eq!(calls.len(), 2, "{calls:?}");
}

#[tokio::test(start_paused = true)]
async fn a_gap_well_past_the_stretched_window_starts_a_new_batch() {
    // Four quick deletes, then one 2 s later: 3 x the mean gap is far shorter than 2 s.
    let calls = delete_at(100, &[10, 10, 10, 2000]).await;
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].len(), 4);
}

#[tokio::test(start_paused = true)]
async fn no_batch_gathers_longer_than_twenty_windows() {
    // A steady trickle every 9 ms under a 10 ms window would gather forever; the first batch
    // goes at 20 windows (200 ms), with the 23 deletes that arrived by then.
    let calls = delete_at(10, &[9; 40]).await;
    assert!(calls.len() >= 2, "{calls:?}");
    assert_eq!(
        calls[0].len(),
        23,
        "{:?}",
        calls.iter().map(Vec::len).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn a_first_request_queued_before_the_worker_ran_still_gathers() {
    // Found by the window tests above: the coalescer is used the moment it is made, so the
    // first delete is queued before its task first runs; it must wait for company anyway.
    let calls = delete_at(100, &[80]).await;
    assert_eq!(calls, vec![vec!["k0".to_string(), "k1".to_string()]]);
}
