//! Key reader tests against an in-memory region, with paused time and Terraform's way of
//! reading: at most `parallelism` reads outstanding, the next one sent as soon as one is
//! answered, in no particular order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tokio::sync::Semaphore;

use super::*;
use crate::cloud::{BindOptions, CloudKind, Instance, InstanceOutcome, InstanceQuery, KeySpec};

/// A region: keys in listing order, every DescribeKeyPairs call counted.
struct Region {
    kind: CloudKind,
    keys: Mutex<Vec<KeyPair>>,
    pages: AtomicUsize,
    lookups: AtomicUsize,
    /// The next this-many page calls fail.
    failing_pages: AtomicUsize,
    /// The next this-many lookups fail.
    failing_lookups: AtomicUsize,
    /// Batched lookups naming an unknown id fail as a whole (as CVM may).
    refuse_unknown: bool,
}

const LATENCY: Duration = Duration::from_millis(20);

impl Region {
    fn new(kind: CloudKind) -> Arc<Self> {
        Arc::new(Self {
            kind,
            keys: Mutex::new(Vec::new()),
            pages: AtomicUsize::new(0),
            lookups: AtomicUsize::new(0),
            failing_pages: AtomicUsize::new(0),
            failing_lookups: AtomicUsize::new(0),
            refuse_unknown: false,
        })
    }

    fn with_refusal(kind: CloudKind) -> Arc<Self> {
        let mut r = Arc::into_inner(Self::new(kind)).unwrap();
        r.refuse_unknown = true;
        Arc::new(r)
    }

    fn id_of(&self, name: &str) -> String {
        match self.kind {
            CloudKind::Ecs => name.to_string(),
            CloudKind::Ens => format!("ssh-{name}"),
            CloudKind::Cvm => format!("skey-{name}"),
        }
    }

    /// Adds keys named `prefix0000`.. and returns (id, name) pairs.
    fn add(&self, prefix: &str, n: usize) -> Vec<(String, String)> {
        self.add_named((0..n).map(|i| format!("{prefix}{i:04}")))
    }

    /// Adds keys with these names and returns (id, name) pairs.
    fn add_named(&self, names: impl IntoIterator<Item = String>) -> Vec<(String, String)> {
        let mut keys = self.keys.lock().unwrap();
        names
            .into_iter()
            .map(|name| {
                let id = self.id_of(&name);
                keys.push(KeyPair {
                    name: name.clone(),
                    id: id.clone(),
                    ..KeyPair::default()
                });
                (id, name)
            })
            .collect()
    }

    fn remove(&self, id: &str) {
        self.keys.lock().unwrap().retain(|k| k.id != id);
    }

    fn calls(&self) -> usize {
        self.pages.load(Ordering::SeqCst) + self.lookups.load(Ordering::SeqCst)
    }

    fn err(&self, kind: ErrorKind) -> CloudError {
        CloudError::local(self.kind, "DescribeKeyPairs", kind, "Scripted", "scripted")
    }

    fn take(counter: &AtomicUsize) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

#[async_trait]
impl KeyPairApi for Region {
    fn kind(&self) -> CloudKind {
        self.kind
    }
    async fn create_key_pair(&self, _spec: &KeySpec) -> Result<KeyPair, CloudError> {
        Err(self.err(ErrorKind::Other))
    }
    async fn describe_key_pairs(&self, q: &KeyQuery) -> Result<Vec<KeyPair>, CloudError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(LATENCY).await;
        let KeyQuery::Ids(ids) = q else {
            return Err(self.err(ErrorKind::Other));
        };
        assert!(
            ids.len() <= self.kind.limits().lookup_batch,
            "{} ids",
            ids.len()
        );
        if Self::take(&self.failing_lookups) {
            return Err(self.err(ErrorKind::Server));
        }
        let keys = self.keys.lock().unwrap();
        let found: Vec<KeyPair> = keys
            .iter()
            .filter(|k| ids.contains(&k.id))
            .cloned()
            .collect();
        if self.refuse_unknown && ids.len() > 1 && found.len() < ids.len() {
            return Err(self.err(ErrorKind::NotFound));
        }
        Ok(found)
    }
    async fn list_key_pairs(&self, page: &PageRequest) -> Result<KeyPage, CloudError> {
        self.pages.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(LATENCY).await;
        assert!(page.size <= self.kind.limits().describe_page);
        match (self.kind.limits().read_ahead, &page.name_pattern) {
            (ReadAhead::NamePattern, _) | (ReadAhead::Unfiltered, None) => {}
            other => panic!("{:?} cannot list {:?}", self.kind, other),
        }
        if Self::take(&self.failing_pages) {
            return Err(self.err(ErrorKind::Server));
        }
        let keys = self.keys.lock().unwrap();
        let matching: Vec<&KeyPair> = keys
            .iter()
            .filter(|k| {
                page.name_pattern
                    .as_deref()
                    .is_none_or(|p| k.name.starts_with(p.trim_end_matches('*')))
            })
            .collect();
        Ok(KeyPage {
            total: matching.len(),
            keys: matching
                .iter()
                .skip(page.index * page.size)
                .take(page.size)
                .map(|k| (*k).clone())
                .collect(),
        })
    }
    async fn delete_key_pairs(&self, _ids: &[String]) -> Result<(), CloudError> {
        Err(self.err(ErrorKind::Other))
    }
    async fn attach(
        &self,
        _key_id: &str,
        _instances: &[String],
        _o: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        Err(self.err(ErrorKind::Other))
    }
    async fn detach(
        &self,
        _key_id: &str,
        _instances: &[String],
        _o: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        Err(self.err(ErrorKind::Other))
    }
    async fn describe_instances(&self, _q: &InstanceQuery) -> Result<Vec<Instance>, CloudError> {
        Err(self.err(ErrorKind::Other))
    }
    async fn reboot_instance(&self, _id: &str) -> Result<(), CloudError> {
        Err(self.err(ErrorKind::Other))
    }
}

/// Reads every key the way Terraform refreshes: shuffled, `parallelism` at a time.
async fn refresh(
    reader: &Arc<KeyReader>,
    keys: &[(String, String)],
    parallelism: usize,
    seed: u64,
) -> HashMap<String, ReadOutcome> {
    let mut order = keys.to_vec();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    let slots = Arc::new(Semaphore::new(parallelism));
    let mut tasks = Vec::new();
    for (id, name) in order {
        let permit = slots.clone().acquire_owned().await.unwrap();
        let reader = reader.clone();
        tasks.push(tokio::spawn(async move {
            let out = reader.read(id.clone(), name).await;
            drop(permit);
            (id, out)
        }));
    }
    let mut out = HashMap::new();
    for t in tasks {
        let (id, o) = t.await.unwrap();
        out.insert(id, o);
    }
    out
}

fn found(outcomes: &HashMap<String, ReadOutcome>) -> usize {
    outcomes
        .values()
        .filter(|o| matches!(o, ReadOutcome::Found(_)))
        .count()
}

#[tokio::test(start_paused = true)]
async fn cvm_workspace_of_1000_in_1040_reads_in_pages() {
    let region = Region::new(CloudKind::Cvm);
    region.add("other", 20);
    let ours = region.add("ws", 1000);
    region.add("late", 20);
    for (id, _) in &ours[..3] {
        region.remove(id);
    }
    let reader = Arc::new(KeyReader::new(region.clone(), 100));
    let out = refresh(&reader, &ours, 10, 1).await;
    assert_eq!(found(&out), 997);
    for (id, _) in &ours[..3] {
        assert_eq!(out[id], ReadOutcome::Gone, "{id} was looked up and is gone");
    }
    assert!(region.calls() <= 15, "{} calls", region.calls());
    assert_eq!(reader.stats().calls as usize, region.calls());
}

#[tokio::test(start_paused = true)]
async fn ecs_prefix_scan_reads_1000_in_about_20_pages() {
    let region = Region::new(CloudKind::Ecs);
    region.add("other-", 40);
    let ours = region.add("bench-", 1000);
    for seed in 0..3 {
        let region = Region::new(CloudKind::Ecs);
        region.add("other-", 40);
        region.add("bench-", 1000);
        let reader = Arc::new(KeyReader::new(region.clone(), 50));
        let out = refresh(&reader, &ours, 10, seed).await;
        assert_eq!(found(&out), 1000);
        assert!(
            region.calls() <= 30,
            "seed {seed}: {} calls",
            region.calls()
        );
    }
}

#[tokio::test(start_paused = true)]
async fn few_keys_among_thousands_never_cost_more_than_one_call_per_read() {
    for kind in [CloudKind::Cvm, CloudKind::Ecs, CloudKind::Ens] {
        for (foreign, ours_prefix) in [("zz", "ws-"), ("ws-x", "ws-")] {
            let region = Region::new(kind);
            region.add(foreign, 5000);
            let ours = region.add(ours_prefix, 20);
            let reader = Arc::new(KeyReader::new(region.clone(), 100));
            let out = refresh(&reader, &ours, 10, 7).await;
            assert_eq!(found(&out), 20);
            // ECS with other keys sharing the workspace's prefix may spend the waiting reads'
            // share on one page before it knows the listing's size.
            let bound = if kind == CloudKind::Ecs && foreign.starts_with(ours_prefix) {
                20 + 10
            } else {
                20
            };
            assert!(
                region.calls() <= bound,
                "{kind} foreign {foreign}: {} calls",
                region.calls()
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn names_sharing_no_prefix() {
    // CVM lists the region whatever the names; ECS cannot narrow and looks each key up.
    let names: Vec<String> = (0..300)
        .map(|i| format!("{}k{i}", (b'a' + (i % 26) as u8) as char))
        .collect();
    for (kind, bound) in [(CloudKind::Cvm, 10), (CloudKind::Ecs, 300)] {
        let region = Region::new(kind);
        region.add("other", 40);
        let ours = region.add_named(names.iter().cloned());
        let reader = Arc::new(KeyReader::new(region.clone(), 100));
        let out = refresh(&reader, &ours, 10, 3).await;
        assert_eq!(found(&out), 300);
        assert!(region.calls() <= bound, "{kind}: {} calls", region.calls());
    }
}

#[tokio::test(start_paused = true)]
async fn max_read_batch_1_is_one_call_per_read() {
    for kind in CloudKind::ALL {
        let region = Region::new(kind);
        let ours = region.add("k", 50);
        let reader = Arc::new(KeyReader::new(region.clone(), 1));
        let out = refresh(&reader, &ours, 10, 0).await;
        assert_eq!(found(&out), 50);
        assert_eq!(region.calls(), 50, "{kind}");
        assert_eq!(region.pages.load(Ordering::SeqCst), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn ens_reads_are_lookups() {
    let region = Region::new(CloudKind::Ens);
    let ours = region.add("k", 30);
    let reader = Arc::new(KeyReader::new(region.clone(), 50));
    let out = refresh(&reader, &ours, 10, 0).await;
    assert_eq!(found(&out), 30);
    assert_eq!(region.pages.load(Ordering::SeqCst), 0);
    assert_eq!(region.calls(), 30);
}

#[tokio::test(start_paused = true)]
async fn a_failed_page_falls_back_to_lookups_and_removes_nothing() {
    let region = Region::new(CloudKind::Cvm);
    let ours = region.add("ws", 200);
    region.failing_pages.store(100, Ordering::SeqCst);
    let reader = Arc::new(KeyReader::new(region.clone(), 100));
    let out = refresh(&reader, &ours, 10, 0).await;
    assert_eq!(found(&out), 200, "every key found by lookups");
    assert_eq!(
        region.pages.load(Ordering::SeqCst),
        1,
        "read-ahead stops at the first failure"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_lookup_fails_only_its_reads() {
    let region = Region::new(CloudKind::Ens);
    let ours = region.add("k", 10);
    region.failing_lookups.store(1, Ordering::SeqCst);
    let reader = Arc::new(KeyReader::new(region.clone(), 50));
    let out = refresh(&reader, &ours, 10, 0).await;
    let failed = out
        .values()
        .filter(|o| matches!(o, ReadOutcome::Failed(_)))
        .count();
    assert_eq!(failed, 1);
    assert_eq!(found(&out), 9);
    assert!(
        !out.values().any(|o| *o == ReadOutcome::Gone),
        "a failure is not absence"
    );
}

#[tokio::test(start_paused = true)]
async fn a_batched_lookup_refused_for_one_missing_key_answers_each_key() {
    let region = Region::with_refusal(CloudKind::Cvm);
    let ours = region.add("k", 10);
    region.remove(&ours[4].0);
    let reader = Arc::new(KeyReader::new(region.clone(), 100));
    // Reads arrive together with nothing cached: one batched lookup, refused, then one each.
    let out = refresh(&reader, &ours, 10, 0).await;
    assert_eq!(found(&out), 9);
    assert_eq!(out[&ours[4].0], ReadOutcome::Gone);
}

#[tokio::test(start_paused = true)]
async fn absence_from_shifted_pages_is_confirmed_by_lookup() {
    // Keys deleted ahead of the listing shift later keys onto pages already read: the
    // listing misses them, lookups find them.
    let region = Region::new(CloudKind::Cvm);
    let foreign = region.add("a", 300);
    let ours = region.add("ws", 700);
    let reader = Arc::new(KeyReader::new(region.clone(), 100));
    let shifter = {
        let region = region.clone();
        tokio::spawn(async move {
            for (id, _) in foreign.iter().take(250) {
                tokio::time::sleep(Duration::from_millis(2)).await;
                region.remove(id);
            }
        })
    };
    let out = refresh(&reader, &ours, 10, 5).await;
    shifter.await.unwrap();
    assert_eq!(found(&out), 700, "no key of ours is reported gone");
}

#[tokio::test(start_paused = true)]
async fn a_written_key_is_read_again() {
    let region = Region::new(CloudKind::Cvm);
    let ours = region.add("ws", 30);
    let reader = Arc::new(KeyReader::new(region.clone(), 100));
    refresh(&reader, &ours, 10, 0).await;
    let calls = region.calls();
    // Cached: free.
    assert!(matches!(
        reader.read(ours[0].0.clone(), ours[0].1.clone()).await,
        ReadOutcome::Found(_)
    ));
    assert_eq!(region.calls(), calls);
    region.remove(&ours[0].0);
    reader.forget(&ours[0].0);
    assert_eq!(
        reader.read(ours[0].0.clone(), ours[0].1.clone()).await,
        ReadOutcome::Gone
    );
    assert_eq!(region.calls(), calls + 1);
}

#[test]
fn prefixes() {
    assert_eq!(
        common_prefix("bench-0001", "bench-0347").as_deref(),
        Some("bench-0")
    );
    assert_eq!(common_prefix("a", "b"), None);
    assert_eq!(common_prefix("密钥ab", "密钥cd").as_deref(), Some("密钥"));
}

#[tokio::test(start_paused = true)]
async fn ecs_pattern_widens_when_reads_fall_outside_it() {
    // Unpadded numbers: the first names read often share "bench_1" or "bench_2", not the
    // "bench_" all of them share.
    for seed in 0..6 {
        let region = Region::new(CloudKind::Ecs);
        region.add("other-", 40);
        let ours = region.add_named((0..1000).map(|i| format!("bench_{i}")));
        let reader = Arc::new(KeyReader::new(region.clone(), 50));
        let out = refresh(&reader, &ours, 10, seed).await;
        assert_eq!(found(&out), 1000);
        assert!(
            region.calls() <= 30,
            "seed {seed}: {} calls",
            region.calls()
        );
    }
}
