//! The coalescer: concurrent deletes and detaches become batched cloud calls.
//!
//! Terraform applies up to `-parallelism` resources at once, each in its own RPC. Sending each
//! delete on its own costs one API call per key (and provokes CVM's 10 requests/s limit); instead
//! every delete for one (cloud, region, credentials) goes through one [`DeleteCoalescer`], which
//! group-commits them into DeleteKeyPairs calls of up to the cloud's limit. Detaches of the same
//! key from several attachment resources merge the same way in a [`DetachCoalescer`].
//!
//! - `group`: the generic group-commit core (one task owns the queue; mpsc in, oneshot out).
//! - `delete`: batch execution for deletes, with verification and splitting when a batch fails
//!   as a whole (ECS `reject` mode) or may have failed silently (CVM keeps bound keys).
//! - `bind`: one attach/detach call with per-instance outcomes, resilient to whole-call refusals.
//! - `detach`: batch execution for detaches: merge per key, chunk to the bind limit, hand each
//!   caller its own per-instance outcomes.
//! - `read`: the key reader, which serves refreshes from listing pages read ahead, and from
//!   batched lookups.

pub mod bind;
mod delete;
mod detach;
mod group;
mod read;
#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::cloud::CloudKind;

pub use delete::{DeleteCoalescer, DeleteError};
pub use detach::DetachCoalescer;
pub(crate) use read::{KeyReader, ReadOutcome};

/// Default gather window: long enough for Terraform's parallel RPCs to arrive together, short
/// enough not to be noticed on a single delete.
pub(crate) const DEFAULT_GATHER_WINDOW: Duration = Duration::from_millis(250);

/// How a coalescer forms batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSettings {
    /// Most items per call; clamped to the cloud's own limit.
    pub max_batch: usize,
    /// How long the first request of an idle coalescer waits for companions.
    pub gather_window: Duration,
}

impl BatchSettings {
    /// Deletes at the cloud's DeleteKeyPairs limit with the default window.
    pub fn for_delete(kind: CloudKind) -> Self {
        Self {
            max_batch: kind.limits().delete_batch,
            gather_window: DEFAULT_GATHER_WINDOW,
        }
    }

    /// Detaches at the cloud's bind limit with the default window.
    pub fn for_detach(kind: CloudKind) -> Self {
        Self {
            max_batch: kind.limits().bind_batch,
            gather_window: DEFAULT_GATHER_WINDOW,
        }
    }
}
