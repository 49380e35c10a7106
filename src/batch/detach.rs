//! Detach batches: requests for the same key (and options) merge into one instance list, which is
//! chunked to the cloud's bind limit; each caller gets the outcomes of its own instances.
//!
//! A chunk that fails as a whole gives every instance in it that error: the instance is then
//! reported as still attached, which is the safe claim (nothing recorded that did not happen).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::bind::{self, BindOp};
use super::group::{Executor, GroupCommit, Outcome};
use super::BatchSettings;
use crate::cloud::{BindOptions, CloudError, InstanceOutcome, KeyPairApi};

/// Why a detach request got no per-instance outcomes at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The provider is stopping; the detach was never sent.
    #[error("detaching key pair {key_id} was cancelled because the provider is stopping; nothing was detached")]
    Cancelled {
        /// The key.
        key_id: String,
    },
    /// The coalescer's task is gone (runtime shutdown); the detach was never sent.
    #[error("detaching key pair {key_id} was not attempted: the detach queue has shut down")]
    Gone {
        /// The key.
        key_id: String,
    },
}

/// Coalesces detaches for one (cloud, region, credentials).
pub struct DetachCoalescer {
    core: GroupCommit<DetachExec>,
}

impl DetachCoalescer {
    /// Starts the coalescer's task; `s.max_batch` (instances per call) is clamped to the cloud's
    /// bind limit.
    pub fn new(api: Arc<dyn KeyPairApi>, s: BatchSettings) -> Self {
        let chunk = s.max_batch.clamp(1, api.kind().limits().bind_batch);
        let exec = Arc::new(DetachExec { api, chunk });
        // Every queued request joins the next batch: the executor chunks by instances, so the
        // core's item limit would only split merges of the same key.
        Self {
            core: GroupCommit::spawn(exec, usize::MAX, s.gather_window),
        }
    }

    /// Detaches `key_id` from `instances`; one outcome per distinct instance, in request order.
    pub async fn detach(
        &self,
        key_id: String,
        instances: Vec<String>,
        opts: BindOptions,
    ) -> Result<Vec<InstanceOutcome>, BatchError> {
        if instances.is_empty() {
            return Ok(Vec::new());
        }
        let key = key_id.clone();
        match self
            .core
            .submit(DetachReq {
                key_id,
                instances,
                opts,
            })
            .await
        {
            Outcome::Done(r) => Ok(r),
            Outcome::Cancelled => Err(BatchError::Cancelled { key_id: key }),
            Outcome::Gone => Err(BatchError::Gone { key_id: key }),
        }
    }

    /// StopProvider: queued detaches fail with [`BatchError::Cancelled`]; in-flight ones finish.
    pub(crate) fn cancel(&self) {
        self.core.cancel();
    }
}

struct DetachReq {
    key_id: String,
    instances: Vec<String>,
    opts: BindOptions,
}

struct DetachExec {
    api: Arc<dyn KeyPairApi>,
    chunk: usize,
}

impl Executor for DetachExec {
    type Req = DetachReq;
    type Resp = Vec<InstanceOutcome>;

    fn run(
        &self,
        batch: Vec<DetachReq>,
    ) -> Pin<Box<dyn Future<Output = Vec<Self::Resp>> + Send + '_>> {
        Box::pin(self.run_batch(batch))
    }
}

impl DetachExec {
    async fn run_batch(&self, batch: Vec<DetachReq>) -> Vec<Vec<InstanceOutcome>> {
        // (key, force_stop) -> distinct instances in first-seen order.
        let mut groups: BTreeMap<(String, bool), Vec<String>> = BTreeMap::new();
        for r in &batch {
            let list = groups
                .entry((r.key_id.clone(), r.opts.force_stop))
                .or_default();
            for i in &r.instances {
                if !list.contains(i) {
                    list.push(i.clone());
                }
            }
        }
        let mut results: HashMap<(String, bool, String), Result<(), CloudError>> = HashMap::new();
        for ((key, force_stop), instances) in &groups {
            let opts = BindOptions {
                force_stop: *force_stop,
            };
            for chunk in instances.chunks(self.chunk) {
                let outcomes =
                    bind::bind_chunk(&*self.api, BindOp::Detach, key, chunk, &opts).await;
                for o in outcomes {
                    results.insert((key.clone(), *force_stop, o.instance_id), o.result);
                }
            }
        }
        batch
            .into_iter()
            .map(|r| {
                let mut seen = Vec::new();
                r.instances
                    .into_iter()
                    .filter(|i| {
                        let fresh = !seen.contains(i);
                        seen.push(i.clone());
                        fresh
                    })
                    .map(|i| {
                        let result = results
                            .get(&(r.key_id.clone(), r.opts.force_stop, i.clone()))
                            .cloned()
                            .unwrap_or_else(|| Err(missing_result(self.api.kind(), &i)));
                        InstanceOutcome {
                            instance_id: i,
                            result,
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

fn missing_result(kind: crate::cloud::CloudKind, instance: &str) -> CloudError {
    CloudError::local(
        kind,
        "DetachKeyPair",
        crate::cloud::ErrorKind::Other,
        "NoResult",
        format!("the cloud reported no result for instance {instance}"),
    )
}
