//! The generic group-commit core shared by the delete and detach coalescers.
//!
//! One task owns the queue (mini-redis shape): callers send a request and a oneshot reply slot
//! over an mpsc channel. When the task is idle, the first request waits only the gather window,
//! then everything queued so far (up to `max_items`) becomes one batch. While a batch runs, new
//! requests queue up and form the next batch, so a burst of N requests costs about
//! `N / max_items` calls, and a lone request costs one call after the gather window.
//!
//! The core also learns how many requests the caller keeps outstanding: Terraform holds at
//! most `-parallelism` applies in flight, and every one of them is waiting on us, so once a
//! batch as large as the largest so far has gathered, nothing more is coming until we answer.
//! That batch goes at once instead of sitting out the window; without this, each round of a
//! `-parallelism=10` destroy would wait the whole window for an eleventh request that cannot
//! arrive.
//!
//! Cancellation (StopProvider): a batch already running finishes and its callers get its real
//! results; everything still queued, and everything sent afterwards, is answered
//! [`Outcome::Cancelled`] without reaching the cloud.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

/// The longest a batch gathers, in gather windows, however steady the arrivals.
const MAX_WINDOWS: u32 = 20;

/// Runs one batch: answers must come back in request order, one per request.
pub(crate) trait Executor: Send + Sync + 'static {
    type Req: Send + 'static;
    type Resp: Send + 'static;
    fn run(
        &self,
        batch: Vec<Self::Req>,
    ) -> Pin<Box<dyn Future<Output = Vec<Self::Resp>> + Send + '_>>;
}

/// What a caller gets back from the core.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    Done(T),
    /// Queued when the coalescer was cancelled; never sent.
    Cancelled,
    /// The worker task is gone (runtime shutting down); never sent.
    Gone,
}

struct Job<E: Executor> {
    req: E::Req,
    reply: oneshot::Sender<Outcome<E::Resp>>,
}

/// Handle to one worker task.
pub(crate) struct GroupCommit<E: Executor> {
    tx: mpsc::UnboundedSender<Job<E>>,
    cancel: watch::Sender<bool>,
}

impl<E: Executor> GroupCommit<E> {
    /// Spawns the worker on the current Tokio runtime.
    pub(crate) fn spawn(exec: Arc<E>, max_items: usize, gather_window: Duration) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (cancel, cancel_rx) = watch::channel(false);
        let worker = Worker {
            exec,
            rx,
            cancel: cancel_rx,
            pending: VecDeque::new(),
            max_items: max_items.max(1),
            gather_window,
            learned: 0,
        };
        tokio::spawn(worker.run());
        Self { tx, cancel }
    }

    /// Queues `req` and waits for its answer.
    pub(crate) async fn submit(&self, req: E::Req) -> Outcome<E::Resp> {
        if *self.cancel.borrow() {
            return Outcome::Cancelled;
        }
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Job { req, reply }).is_err() {
            return Outcome::Gone;
        }
        rx.await.unwrap_or(Outcome::Gone)
    }

    /// Fails everything queued and everything sent from now on; running batches finish.
    pub(crate) fn cancel(&self) {
        self.cancel.send_replace(true);
    }
}

struct Worker<E: Executor> {
    exec: Arc<E>,
    rx: mpsc::UnboundedReceiver<Job<E>>,
    cancel: watch::Receiver<bool>,
    pending: VecDeque<Job<E>>,
    max_items: usize,
    gather_window: Duration,
    /// The largest batch sent so far: how many requests the caller has shown it keeps
    /// outstanding at once (0 until the first batch).
    learned: usize,
}

impl<E: Executor> Worker<E> {
    async fn run(mut self) {
        loop {
            // Requests that arrived while the last batch ran start the next one.
            while let Ok(job) = self.rx.try_recv() {
                self.pending.push_back(job);
            }
            let gather = if self.pending.is_empty() {
                // Idle: wait for the first request of the next group, then gather briefly.
                let job = tokio::select! {
                    biased;
                    _ = self.cancel.wait_for(|c| *c) => None,
                    job = self.rx.recv() => Some(job),
                };
                let job = match job {
                    None => {
                        self.fail_all().await;
                        return;
                    }
                    Some(None) => return,
                    Some(Some(job)) => job,
                };
                self.pending.push_back(job);
                true
            } else {
                // Fewer than a round's worth: the caller gets the rest of its slots back only
                // now that the last batch answered, so the rest of the round is still coming.
                // Before the first batch nothing is learned yet: requests that were queued
                // before this task first ran gather like any first request.
                self.learned == 0 || self.pending.len() < self.learned
            };
            if gather && !self.gather_window.is_zero() && self.gather().await {
                self.fail_all().await;
                return;
            }
            if *self.cancel.borrow() {
                self.fail_all().await;
                return;
            }
            // Everything that arrived while we gathered or while the last batch ran.
            while let Ok(job) = self.rx.try_recv() {
                self.pending.push_back(job);
            }
            let take = self.pending.len().min(self.max_items);
            self.learned = self.learned.max(take);
            let (reqs, replies): (Vec<_>, Vec<_>) =
                self.pending.drain(..take).map(|j| (j.req, j.reply)).unzip();
            tracing::debug!(batch = take, queued = self.pending.len(), "running batch");
            let answers = self.exec.run(reqs).await;
            for (reply, answer) in replies.into_iter().zip(answers) {
                // A caller that gave up (its future dropped) is not an error for the others.
                let _ = reply.send(Outcome::Done(answer));
            }
        }
    }

    /// Gathers companions for the requests already pending. Terraform releases deletes in a
    /// burst and then a trickle whose pace depends on how busy it is, so the wait after each
    /// arrival is the gather window or three times the mean gap seen so far, whichever is
    /// longer; a full batch, or one as large as the largest so far, goes at once, and no batch
    /// waits more than [`MAX_WINDOWS`] windows in all. Returns true when cancelled.
    async fn gather(&mut self) -> bool {
        let started = tokio::time::Instant::now();
        let hard_stop = started + self.gather_window * MAX_WINDOWS;
        let mut deadline = started + self.gather_window;
        let mut arrivals: u32 = 0;
        let enough = if self.learned > 0 {
            self.learned.min(self.max_items)
        } else {
            self.max_items
        };
        while self.pending.len() < enough {
            tokio::select! {
                biased;
                _ = self.cancel.wait_for(|c| *c) => return true,
                job = self.rx.recv() => match job {
                    Some(job) => {
                        self.pending.push_back(job);
                        arrivals += 1;
                        let now = tokio::time::Instant::now();
                        let mean_gap = (now - started) / arrivals;
                        let wait = self.gather_window.max(mean_gap * 3);
                        deadline = (now + wait).min(hard_stop);
                    }
                    None => return false,
                },
                _ = tokio::time::sleep_until(deadline) => return false,
            }
        }
        false
    }

    async fn fail_all(&mut self) {
        self.rx.close();
        while let Some(job) = self.rx.recv().await {
            self.pending.push_back(job);
        }
        for job in self.pending.drain(..) {
            let _ = job.reply.send(Outcome::Cancelled);
        }
    }
}
