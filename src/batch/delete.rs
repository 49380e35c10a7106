//! Delete batches: one DeleteKeyPairs call per batch, then verification where the answer cannot
//! be trusted.
//!
//! - The call succeeded: trusted, except on CVM, which answers success and silently keeps bound
//!   keys; there we describe the keys and fail those still present.
//! - The call failed as a whole (ECS `reject` mode fails everything for one bound key; a
//!   throttle or dropped connection after all retries): we describe the keys. Keys already gone
//!   succeed (a dropped connection after commit). Keys still bound fail, naming their instances.
//!   The rest are deleted again in one call, so one bound key never fails its neighbours.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::stream::{self, StreamExt};

use super::group::{Executor, GroupCommit, Outcome};
use super::BatchSettings;
use crate::cloud::{CloudError, CloudKind, ErrorKind, InstanceQuery, KeyPairApi, KeyQuery};

/// How many DescribeInstances lookups run at once while naming the holders of bound keys.
const LOOKUP_CONCURRENCY: usize = 4;

/// Why a key pair was not deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeleteError {
    /// The key pair is still bound to instances.
    #[error("key pair {key_name:?} ({key_id}) is still bound to instance(s) {}: detach it first (or set detach_on_destroy = true){}",
        instances_text(.instances), .cause.as_ref().map(|c| format!("; cloud said: {c}")).unwrap_or_default())]
    StillBound {
        /// Key name.
        key_name: String,
        /// Key id.
        key_id: String,
        /// The instances holding it (empty when they could not be determined).
        instances: Vec<String>,
        /// The cloud's error, when it reported one.
        cause: Option<Box<CloudError>>,
    },
    /// The cloud refused or could not be reached; the key may still exist.
    #[error("deleting key pair {key_name:?} ({key_id}) failed: {source}")]
    Cloud {
        /// Key name.
        key_name: String,
        /// Key id.
        key_id: String,
        /// The cloud's error.
        source: Box<CloudError>,
    },
    /// The cloud answered success and kept the key pair, which no instance holds: CVM keeps key
    /// pairs that custom images use, and no API lists the images of a key.
    #[error("key pair {key_name:?} ({key_id}) was kept by {cloud}: no instance holds it, so a custom image made from an instance that held it uses it ({cloud} keeps key pairs that instances or images use, and answers success). {cloud}'s API does not list the images of a key pair: find them in the console's custom images (or DescribeImages, by creation time), delete them or stop relying on them, then delete the key pair again")]
    KeptForImages {
        /// Key name.
        key_name: String,
        /// Key id.
        key_id: String,
        /// The cloud.
        cloud: CloudKind,
    },
    /// The provider is stopping; the delete was never sent.
    #[error("deleting key pair {key_name:?} was cancelled because the provider is stopping; it was not deleted")]
    Cancelled {
        /// Key name.
        key_name: String,
    },
    /// The coalescer's task is gone (runtime shutdown); the delete was never sent.
    #[error("deleting key pair {key_name:?} was not attempted: the delete queue has shut down")]
    Gone {
        /// Key name.
        key_name: String,
    },
}

fn instances_text(instances: &[String]) -> String {
    if instances.is_empty() {
        "(unknown instances)".to_string()
    } else {
        instances.join(", ")
    }
}

/// Coalesces deletes for one (cloud, region, credentials).
pub struct DeleteCoalescer {
    core: GroupCommit<DeleteExec>,
}

impl DeleteCoalescer {
    /// Starts the coalescer's task on the current runtime. `s.max_batch` is clamped to the
    /// cloud's DeleteKeyPairs limit.
    pub fn new(api: Arc<dyn KeyPairApi>, s: BatchSettings) -> Self {
        let max = s.max_batch.clamp(1, api.kind().limits().delete_batch);
        let exec = Arc::new(DeleteExec { api });
        Self {
            core: GroupCommit::spawn(exec, max, s.gather_window),
        }
    }

    /// Deletes one key pair; Ok only when it is gone.
    pub async fn delete(&self, key_id: String, key_name: String) -> Result<(), DeleteError> {
        let name = key_name.clone();
        match self.core.submit(DeleteReq { key_id, key_name }).await {
            Outcome::Done(r) => r,
            Outcome::Cancelled => Err(DeleteError::Cancelled { key_name: name }),
            Outcome::Gone => Err(DeleteError::Gone { key_name: name }),
        }
    }

    /// StopProvider: queued deletes fail with [`DeleteError::Cancelled`]; in-flight ones finish.
    pub(crate) fn cancel(&self) {
        self.core.cancel();
    }
}

struct DeleteReq {
    key_id: String,
    key_name: String,
}

struct DeleteExec {
    api: Arc<dyn KeyPairApi>,
}

impl Executor for DeleteExec {
    type Req = DeleteReq;
    type Resp = Result<(), DeleteError>;

    fn run(
        &self,
        batch: Vec<DeleteReq>,
    ) -> Pin<Box<dyn Future<Output = Vec<Self::Resp>> + Send + '_>> {
        Box::pin(self.run_batch(batch))
    }
}

/// What we learned about the keys of a batch after it ran.
type Verdicts = BTreeMap<String, Result<(), DeleteError>>;

impl DeleteExec {
    async fn run_batch(&self, batch: Vec<DeleteReq>) -> Vec<Result<(), DeleteError>> {
        // Duplicate ids (two resources for one key) share one slot in the call.
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for r in &batch {
            names
                .entry(r.key_id.clone())
                .or_insert_with(|| r.key_name.clone());
        }
        let ids: Vec<String> = names.keys().cloned().collect();
        let verdicts = self.delete_and_verify(&ids, &names, true).await;
        batch
            .iter()
            .map(|r| match verdicts.get(&r.key_id) {
                Some(v) => v.clone(),
                None => Err(DeleteError::Cloud {
                    key_name: r.key_name.clone(),
                    key_id: r.key_id.clone(),
                    source: Box::new(CloudError::local(
                        self.api.kind(),
                        "DeleteKeyPairs",
                        ErrorKind::Other,
                        "NoVerdict",
                        "internal error: the batch produced no result for this key",
                    )),
                }),
            })
            .collect()
    }

    /// Deletes `ids` in one call and decides each key's fate. `may_retry_split` allows one more
    /// call for the deletable remainder after a whole-call failure.
    async fn delete_and_verify(
        &self,
        ids: &[String],
        names: &BTreeMap<String, String>,
        may_retry_split: bool,
    ) -> Verdicts {
        let kind = self.api.kind();
        let call = self.api.delete_key_pairs(ids).await;
        let call_err = match call {
            Ok(()) if !silently_keeps_bound(kind) => {
                return ids.iter().map(|id| (id.clone(), Ok(()))).collect();
            }
            Ok(()) => None,
            Err(e) => {
                tracing::info!(cloud = %kind, keys = ids.len(), error = %e, "DeleteKeyPairs failed as a whole; verifying");
                Some(e)
            }
        };
        if let Some(e) = &call_err {
            if matches!(e.kind, ErrorKind::Cancelled | ErrorKind::Auth) {
                return fail_all(ids, names, e);
            }
        }
        let remaining = match self
            .api
            .describe_key_pairs(&KeyQuery::Ids(ids.to_vec()))
            .await
        {
            Ok(keys) => keys,
            Err(e) => {
                tracing::warn!(error = %e, "could not verify a delete batch");
                return fail_all(ids, names, &call_err.unwrap_or(e));
            }
        };
        let wanted: BTreeSet<&String> = ids.iter().collect();
        let present: BTreeMap<String, Option<Vec<String>>> = remaining
            .into_iter()
            .filter(|k| wanted.contains(&k.id))
            .map(|k| (k.id, k.instance_ids))
            .collect();
        let mut verdicts: Verdicts = ids
            .iter()
            .filter(|id| !present.contains_key(*id))
            .map(|id| (id.clone(), Ok(())))
            .collect();
        if present.is_empty() {
            return verdicts;
        }
        let holders = self.holders(&present).await;
        let mut deletable = Vec::new();
        for id in present.keys() {
            let bound = holders.get(id).cloned().unwrap_or_default();
            let cloud_said_bound =
                matches!(&call_err, Some(e) if e.kind == ErrorKind::BoundToInstance);
            // The key reports its instances itself (CVM), so an empty list is known, not a
            // failed lookup: what keeps it then is an image.
            let known_unbound = bound.is_empty() && present.get(id).is_some_and(Option::is_some);
            if call_err.is_none() && silently_keeps_bound(kind) && known_unbound {
                verdicts.insert(
                    id.clone(),
                    Err(DeleteError::KeptForImages {
                        key_name: name_of(names, id),
                        key_id: id.clone(),
                        cloud: kind,
                    }),
                );
            } else if !bound.is_empty() || (call_err.is_none() && silently_keeps_bound(kind)) {
                verdicts.insert(
                    id.clone(),
                    Err(DeleteError::StillBound {
                        key_name: name_of(names, id),
                        key_id: id.clone(),
                        instances: bound,
                        cause: call_err.clone().map(Box::new),
                    }),
                );
            } else if may_retry_split && (cloud_said_bound || ids.len() > 1) {
                deletable.push(id.clone());
            } else {
                let source = call_err.clone().unwrap_or_else(|| {
                    CloudError::local(
                        kind,
                        "DeleteKeyPairs",
                        ErrorKind::Other,
                        "KeyPairStillExists",
                        "the call succeeded but the key pair still exists",
                    )
                });
                verdicts.insert(
                    id.clone(),
                    Err(DeleteError::Cloud {
                        key_name: name_of(names, id),
                        key_id: id.clone(),
                        source: Box::new(source),
                    }),
                );
            }
        }
        if !deletable.is_empty() {
            tracing::info!(cloud = %kind, keys = deletable.len(), "retrying the deletable part of a failed batch");
            let again = Box::pin(self.delete_and_verify(&deletable, names, false)).await;
            verdicts.extend(again);
        }
        verdicts
    }

    /// Instances holding each present key: from the key itself when the cloud reports it (CVM),
    /// else from DescribeInstances. Lookup failures leave the list empty.
    async fn holders(
        &self,
        present: &BTreeMap<String, Option<Vec<String>>>,
    ) -> BTreeMap<String, Vec<String>> {
        let lookups: Vec<_> = present
            .iter()
            .map(|(id, reported)| {
                let api = Arc::clone(&self.api);
                let (id, reported) = (id.clone(), reported.clone());
                async move {
                    if let Some(list) = reported {
                        return (id, list);
                    }
                    match api.describe_instances(&InstanceQuery::BoundTo(id.clone())).await {
                        Ok(instances) => (id, instances.into_iter().map(|i| i.id).collect()),
                        Err(e) => {
                            tracing::warn!(key = %id, error = %e, "could not list the instances of a key");
                            (id, Vec::new())
                        }
                    }
                }
            })
            .collect();
        stream::iter(lookups)
            .buffer_unordered(LOOKUP_CONCURRENCY)
            .collect()
            .await
    }
}

/// CVM answers success for bound keys and keeps them; its successes must be verified.
fn silently_keeps_bound(kind: CloudKind) -> bool {
    kind == CloudKind::Cvm
}

fn name_of(names: &BTreeMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_string())
}

fn fail_all(ids: &[String], names: &BTreeMap<String, String>, e: &CloudError) -> Verdicts {
    ids.iter()
        .map(|id| {
            let verdict = if e.kind == ErrorKind::BoundToInstance && ids.len() == 1 {
                DeleteError::StillBound {
                    key_name: name_of(names, id),
                    key_id: id.clone(),
                    instances: Vec::new(),
                    cause: Some(Box::new(e.clone())),
                }
            } else {
                DeleteError::Cloud {
                    key_name: name_of(names, id),
                    key_id: id.clone(),
                    source: Box::new(e.clone()),
                }
            };
            (id.clone(), Err(verdict))
        })
        .collect()
}
