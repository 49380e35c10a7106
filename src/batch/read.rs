//! Refresh in batches: one reader per provider process serves every key pair read.
//!
//! Terraform refreshes at most `-parallelism` resources at once and waits for each answer, so
//! coalescing only the reads in flight cannot go below N/10 calls. The reader reads ahead
//! instead: it lists the region in the largest pages the API allows and serves later reads from
//! what the pages returned. Whether that pays is decided from what it sees:
//!
//! - **Budget.** A page is fetched only while the calls made so far, plus this one, plus the
//!   lookups the waiting reads would need if it misses (one call per `lookup_batch` reads, where
//!   lookups batch), stay within the reads received. Where one lookup can name many keys (CVM)
//!   this makes "never more calls than one per read" strict. Where lookups take one key each
//!   (ECS) nothing could ever be reserved, so pages spend the waiting reads' share; a scan that
//!   stops paying leaves at most those reads to look up on top.
//! - **Reach.** Once a page has told the listing's size (`TotalCount`), the scan goes on only
//!   while the pages left are at most twice the reads seen: a workspace of 20 keys in a region of
//!   5000 stops after its first page and looks its keys up instead.
//! - **Narrowing.** ECS names take `*` patterns, so its scans list only the names sharing the
//!   prefix of the names read so far (never the whole region), chosen once three names are
//!   known; a read outside the pattern widens it to the prefix all names read share, and the
//!   listing starts over with that (what the narrower one returned stays cached). ENS can neither narrow nor
//!   batch lookups: every ENS read is one lookup.
//!
//! **Absence in a listing is not proof of deletion**: pages shift while other clients create
//! and delete keys, so a key a listing did not show is looked up directly (by id, or ECS's exact
//! name) and reported [`ReadOutcome::Gone`] only when that lookup says so. A failed page stops
//! read-ahead and its waiting reads are looked up; a failed lookup fails only the reads it was
//! for, and a batched lookup refused as a whole is retried one key at a time.
//!
//! What a page returned is valid until this process writes that key ([`KeyReader::forget`]);
//! `docs/design/refresh.md` says why staleness within one plan is acceptable.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, oneshot};

use crate::cloud::rules::ReadAhead;
use crate::cloud::{CloudError, ErrorKind, KeyPage, KeyPair, KeyPairApi, KeyQuery, PageRequest};

/// Pages in flight at once, once the listing's size is known (one before).
const PAGES_IN_FLIGHT: usize = 4;
/// A scan continues while its remaining pages are at most this many times the reads seen.
const REACH: usize = 2;
/// Names read before an ECS pattern is chosen: the prefix of two random names of a workspace
/// is often longer than the prefix all of them share.
const MIN_NAMES: usize = 3;

/// What a read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// The key pair exists, as the cloud reported it.
    Found(KeyPair),
    /// A direct lookup found no such key pair.
    Gone,
    /// The cloud could not answer; the key's state must stay as it was.
    Failed(CloudError),
}

/// Counters of one reader, for logs, tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReadStats {
    /// Reads received.
    pub reads: u64,
    /// DescribeKeyPairs calls made: listing pages plus lookups.
    pub calls: u64,
    /// Listing pages fetched.
    pub pages: u64,
    /// Reads answered from a page.
    pub hits: u64,
}

enum Msg {
    Read {
        id: String,
        name: String,
        reply: oneshot::Sender<ReadOutcome>,
    },
    Forget(String),
}

/// Handle to the reader task. Dropping it ends the task once its calls are answered.
pub(crate) struct KeyReader {
    tx: mpsc::UnboundedSender<Msg>,
    #[cfg(test)]
    stats: Arc<Mutex<ReadStats>>,
}

impl KeyReader {
    /// Starts a reader on the current runtime. `max_batch` (the provider's `max_read_batch`)
    /// caps lookups and pages; 1 makes every read its own lookup.
    pub fn new(api: Arc<dyn KeyPairApi>, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(Mutex::new(ReadStats::default()));
        let limits = api.kind().limits();
        let max_batch = max_batch.max(1);
        let task = Reader {
            lookup_batch: max_batch.min(limits.lookup_batch),
            page_size: max_batch.min(limits.describe_page),
            read_ahead: if max_batch == 1 {
                ReadAhead::Never
            } else {
                limits.read_ahead
            },
            api,
            cache: HashMap::new(),
            dirty: HashSet::new(),
            names: HashSet::new(),
            prefix: None,
            singles: Vec::new(),
            scan: None,
            scanned: Vec::new(),
            scans_failed: false,
            waiting: Vec::new(),
            queued: Vec::new(),
            lookups_in_flight: 0,
            stats: stats.clone(),
        };
        tokio::spawn(task.run(rx));
        Self {
            tx,
            #[cfg(test)]
            stats,
        }
    }

    /// Reads key pair `id` (named `name`).
    pub(crate) async fn read(&self, id: String, name: String) -> ReadOutcome {
        let (reply, answer) = oneshot::channel();
        let gone = || {
            ReadOutcome::Failed(CloudError::local(
                crate::cloud::CloudKind::Ecs,
                "DescribeKeyPairs",
                ErrorKind::Cancelled,
                "ReaderGone",
                "the key reader has shut down; the key was not read",
            ))
        };
        if self.tx.send(Msg::Read { id, name, reply }).is_err() {
            return gone();
        }
        answer.await.unwrap_or_else(|_| gone())
    }

    /// This process is about to write key `id`: what pages said about it no longer holds.
    pub(crate) fn forget(&self, id: &str) {
        let _ = self.tx.send(Msg::Forget(id.to_string()));
    }

    /// The counters so far.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> ReadStats {
        *self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Pending {
    id: String,
    name: String,
    reply: oneshot::Sender<ReadOutcome>,
}

/// One listing in progress.
struct Scan {
    /// Which listing this is: pages of a listing that was replaced only fill the cache.
    generation: u64,
    pattern: Option<String>,
    next_index: usize,
    in_flight: usize,
    /// Pages the listing holds, once a page has said.
    pages: Option<usize>,
    done: bool,
}

impl Scan {
    fn covers(&self, name: &str) -> bool {
        !self.done
            && self
                .pattern
                .as_deref()
                .is_none_or(|p| name.starts_with(p.trim_end_matches('*')))
    }
}

enum Fetched {
    Page {
        generation: u64,
        result: Result<KeyPage, CloudError>,
    },
    Lookup {
        reads: Vec<Pending>,
        result: Result<Vec<KeyPair>, CloudError>,
    },
}

struct Reader {
    api: Arc<dyn KeyPairApi>,
    lookup_batch: usize,
    page_size: usize,
    read_ahead: ReadAhead,
    /// Keys as the pages showed them.
    cache: HashMap<String, KeyPair>,
    /// Keys this process wrote: pages no longer speak for them.
    dirty: HashSet<String>,
    /// Names read so far, and the prefix they share, for ECS patterns.
    names: HashSet<String>,
    prefix: Option<String>,
    /// Reads whose batched lookup was refused as a whole: each gets a lookup of its own.
    singles: Vec<Pending>,
    scan: Option<Scan>,
    /// Patterns already listed to the end (`None`: the whole region).
    scanned: Vec<Option<String>>,
    scans_failed: bool,
    /// Reads a scan in progress may still answer.
    waiting: Vec<Pending>,
    /// Reads that need a lookup not yet sent.
    queued: Vec<Pending>,
    lookups_in_flight: usize,
    stats: Arc<Mutex<ReadStats>>,
}

impl Reader {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Msg>) {
        let mut fetches: FuturesUnordered<BoxFuture<'static, Fetched>> = FuturesUnordered::new();
        let mut open = true;
        while open || !fetches.is_empty() {
            tokio::select! {
                msg = rx.recv(), if open => match msg {
                    Some(m) => self.on_msg(m),
                    None => open = false,
                },
                Some(done) = fetches.next(), if !fetches.is_empty() => self.on_fetched(done),
            }
            // See a burst of reads together before deciding how to serve it.
            while let Ok(m) = rx.try_recv() {
                self.on_msg(m);
            }
            for f in self.dispatch() {
                fetches.push(f);
            }
        }
        let s = self.stats();
        tracing::debug!(
            cloud = %self.api.kind(),
            reads = s.reads,
            calls = s.calls,
            pages = s.pages,
            hits = s.hits,
            "key reader finished"
        );
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, ReadStats> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Read { id, name, reply } => {
                self.stats().reads += 1;
                if self.names.insert(name.clone()) {
                    self.prefix = match (self.names.len(), self.prefix.take()) {
                        (1, _) => Some(name.clone()),
                        (_, Some(prefix)) => common_prefix(&prefix, &name),
                        (_, None) => None,
                    };
                }
                self.route(Pending { id, name, reply });
            }
            Msg::Forget(id) => {
                self.cache.remove(&id);
                self.dirty.insert(id);
            }
        }
    }

    /// Answers a read from the pages, or sends it where it can be answered.
    fn route(&mut self, p: Pending) {
        if !self.dirty.contains(&p.id) {
            if let Some(k) = self.cache.get(&p.id) {
                self.stats().hits += 1;
                let _ = p.reply.send(ReadOutcome::Found(k.clone()));
                return;
            }
            if self.scan_for(&p.name) {
                self.waiting.push(p);
                return;
            }
        }
        self.queued.push(p);
    }

    /// Whether a scan in progress, or one that can start now, may still list `name`.
    fn scan_for(&mut self, name: &str) -> bool {
        if self.scans_failed {
            return false;
        }
        let pattern = match self.read_ahead {
            ReadAhead::Never => return false,
            ReadAhead::Unfiltered => None,
            ReadAhead::NamePattern => match &self.prefix {
                Some(prefix) if self.names.len() >= MIN_NAMES => Some(format!("{prefix}*")),
                _ => return false,
            },
        };
        if let Some(scan) = &self.scan {
            if !scan.done && scan.covers(name) {
                return true;
            }
            // A read outside the pattern being listed: the names read so far share a shorter
            // prefix than the first ones did. List that instead; what the narrower listing
            // already returned stays cached.
            let wider = !scan.done && scan.pattern != pattern;
            if !scan.done && !wider {
                return false;
            }
        }
        if self.scanned.contains(&pattern) {
            return false;
        }
        let generation = self.scan.as_ref().map_or(0, |s| s.generation + 1);
        let scan = Scan {
            generation,
            pattern,
            next_index: 0,
            in_flight: 0,
            pages: None,
            done: false,
        };
        let covers = scan.covers(name);
        self.scan = Some(scan);
        covers
    }

    /// Whether one more page may be fetched now.
    fn may_fetch_page(&self) -> bool {
        let Some(scan) = &self.scan else { return false };
        if scan.done || self.scans_failed || self.waiting.is_empty() {
            return false;
        }
        let in_flight_cap = if scan.pages.is_some() {
            PAGES_IN_FLIGHT
        } else {
            1
        };
        if scan.in_flight >= in_flight_cap {
            return false;
        }
        let s = *self.stats();
        if let Some(pages) = scan.pages {
            let left = pages.saturating_sub(scan.next_index);
            if left == 0 || left > REACH * s.reads as usize {
                return false;
            }
        }
        let reserve = if self.lookup_batch > 1 {
            (self.waiting.len() + self.queued.len()).div_ceil(self.lookup_batch) as u64
        } else {
            0
        };
        s.calls + 1 + reserve <= s.reads
    }

    /// Starts the pages and lookups the current reads call for.
    fn dispatch(&mut self) -> Vec<BoxFuture<'static, Fetched>> {
        let mut out = Vec::new();
        while self.may_fetch_page() {
            out.push(self.fetch_page());
        }
        let stalled = self
            .scan
            .as_ref()
            .is_none_or(|s| s.done || s.in_flight == 0 || self.scans_failed);
        if stalled && out.is_empty() && !self.waiting.is_empty() {
            self.queued.append(&mut self.waiting);
        }
        // Batched lookups go one call at a time, so the reads arriving meanwhile share the next;
        // single-key lookups go at once (the pacer spaces them).
        while !self.queued.is_empty()
            && (self.lookups_in_flight == 0
                || self.lookup_batch == 1
                || self.queued.len() >= self.lookup_batch)
        {
            let n = self.queued.len().min(self.lookup_batch);
            let reads: Vec<Pending> = self.queued.drain(..n).collect();
            out.push(self.lookup(reads));
        }
        for p in std::mem::take(&mut self.singles) {
            out.push(self.lookup(vec![p]));
        }
        out
    }

    fn fetch_page(&mut self) -> BoxFuture<'static, Fetched> {
        let scan = self.scan.as_mut().expect("may_fetch_page checked the scan");
        let req = PageRequest {
            name_pattern: scan.pattern.clone(),
            index: scan.next_index,
            size: self.page_size,
        };
        scan.next_index += 1;
        scan.in_flight += 1;
        let generation = scan.generation;
        {
            let mut s = self.stats();
            s.calls += 1;
            s.pages += 1;
        }
        let api = self.api.clone();
        Box::pin(async move {
            Fetched::Page {
                generation,
                result: api.list_key_pairs(&req).await,
            }
        })
    }

    fn lookup(&mut self, reads: Vec<Pending>) -> BoxFuture<'static, Fetched> {
        self.lookups_in_flight += 1;
        self.stats().calls += 1;
        let api = self.api.clone();
        let ids: Vec<String> = reads.iter().map(|r| r.id.clone()).collect();
        Box::pin(async move {
            let result = api.describe_key_pairs(&KeyQuery::Ids(ids)).await;
            Fetched::Lookup { reads, result }
        })
    }

    fn on_fetched(&mut self, done: Fetched) {
        match done {
            Fetched::Page { generation, result } => self.on_page(generation, result),
            Fetched::Lookup { reads, result } => {
                self.lookups_in_flight -= 1;
                self.on_lookup(reads, result);
            }
        }
    }

    fn on_page(&mut self, generation: u64, result: Result<KeyPage, CloudError>) {
        let page_size = self.page_size;
        let Some(scan) = self.scan.as_mut().filter(|s| s.generation == generation) else {
            // A page of a listing that a wider one replaced: its keys are as good as any.
            if let Ok(page) = result {
                for k in page.keys {
                    if !self.dirty.contains(&k.id) {
                        self.cache.insert(k.id.clone(), k);
                    }
                }
            }
            for p in std::mem::take(&mut self.waiting) {
                self.route(p);
            }
            return;
        };
        scan.in_flight -= 1;
        match result {
            Ok(page) => {
                let pages = page.total.div_ceil(page_size);
                scan.pages = Some(pages);
                let short = page.keys.len() < page_size;
                if (short || scan.next_index >= pages) && scan.in_flight == 0 {
                    scan.done = true;
                    self.scanned.push(scan.pattern.clone());
                }
                for k in page.keys {
                    if !self.dirty.contains(&k.id) {
                        self.cache.insert(k.id.clone(), k);
                    }
                }
            }
            Err(e) => {
                tracing::info!(error = %e, "a listing page failed; reading the waiting keys directly");
                self.scans_failed = true;
            }
        }
        for p in std::mem::take(&mut self.waiting) {
            self.route(p);
        }
    }

    fn on_lookup(&mut self, reads: Vec<Pending>, result: Result<Vec<KeyPair>, CloudError>) {
        match result {
            Ok(keys) => {
                for p in reads {
                    let outcome = match keys.iter().find(|k| k.id == p.id) {
                        Some(k) => ReadOutcome::Found(k.clone()),
                        None => ReadOutcome::Gone,
                    };
                    let _ = p.reply.send(outcome);
                }
            }
            // A refusal of the whole call may be one bad id: each key gets its own answer.
            Err(e)
                if reads.len() > 1
                    && matches!(e.kind, ErrorKind::InvalidInput | ErrorKind::NotFound) =>
            {
                tracing::info!(keys = reads.len(), error = %e, "batched lookup refused; looking keys up one by one");
                self.singles.extend(reads);
            }
            Err(e) => {
                for p in reads {
                    let _ = p.reply.send(ReadOutcome::Failed(e.clone()));
                }
            }
        }
    }
}

/// The longest prefix `a` and `b` share, if any.
fn common_prefix(a: &str, b: &str) -> Option<String> {
    let len = a
        .char_indices()
        .zip(b.chars())
        .take_while(|((_, x), y)| x == y)
        .last()
        .map_or(0, |((i, x), _)| i + x.len_utf8());
    (len > 0).then(|| a[..len].to_string())
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
