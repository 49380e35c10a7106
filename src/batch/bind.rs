//! One attach or detach call over a chunk of instances, with one outcome per instance, even
//! when the cloud fails the call as a whole because of a few of them.
//!
//! ECS rejects a whole DetachKeyPair/AttachKeyPair call (403 `DependencyViolation.WindowsInstance`)
//! when one instance in it runs Windows; CVM rejects a whole (Dis)AssociateInstancesKeyPairs
//! call when one instance is running and `ForceStop` is off. Failing every instance of the chunk
//! would hide neighbours that would have worked, so the chunk's instances are looked up once,
//! the ones that explain the refusal fail alone, and the rest are sent again in one call.

use std::collections::{BTreeMap, BTreeSet};

use crate::cloud::{
    BindOptions, CloudError, CloudKind, ErrorKind, InstanceOutcome, InstanceQuery, KeyPairApi,
    Refusal,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindOp {
    Attach,
    Detach,
}

impl BindOp {
    fn action(self) -> &'static str {
        match self {
            BindOp::Attach => "AttachKeyPair",
            BindOp::Detach => "DetachKeyPair",
        }
    }
}

async fn call(
    api: &dyn KeyPairApi,
    op: BindOp,
    key: &str,
    chunk: &[String],
    opts: &BindOptions,
) -> Result<Vec<InstanceOutcome>, CloudError> {
    match op {
        BindOp::Attach => api.attach(key, chunk, opts).await,
        BindOp::Detach => api.detach(key, chunk, opts).await,
    }
}

/// Why an instance explains a whole-call refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// DescribeInstances does not know it.
    Missing,
    /// The cloud's rule refuses it as described.
    Refused(Refusal),
}

impl Cause {
    /// The instance's own error: the cloud's code when the refusal was about this cause, and a
    /// message about this instance, so a missing instance is never reported as Windows.
    fn error(self, id: &str, whole: &CloudError) -> CloudError {
        let (kind, code, what) = match self {
            Cause::Missing => (
                ErrorKind::NotFound,
                "InvalidInstanceId.NotFound",
                format!("instance {id} does not exist (DescribeInstances does not list it)"),
            ),
            Cause::Refused(Refusal::Windows) => (
                ErrorKind::InvalidInput,
                "WindowsInstance",
                format!("instance {id} runs Windows, which takes no SSH key pair"),
            ),
            Cause::Refused(Refusal::Running { force_stop: true }) => (
                ErrorKind::InvalidInput,
                "InstanceRunning",
                format!("instance {id} is running: set force_stop = true or stop it first"),
            ),
            Cause::Refused(Refusal::Running { force_stop: false }) => (
                ErrorKind::InvalidInput,
                "InstanceRunning",
                format!("instance {id} is running: the cloud binds key pairs to stopped instances only; stop it first"),
            ),
        };
        let mut e = whole.clone();
        if whole.kind != kind {
            e.kind = kind;
            e.code = code.to_string();
        }
        // Only the code: the cloud's message names whichever instance it tripped on first.
        e.message = format!("{what} (the cloud refused the call with {})", whole.code);
        e
    }
}

/// Runs one call over `chunk` (at most the cloud's bind limit) and returns an outcome for every
/// instance of it, in order. An instance the cloud did not report on is not claimed as done.
pub async fn bind_chunk(
    api: &dyn KeyPairApi,
    op: BindOp,
    key: &str,
    chunk: &[String],
    opts: &BindOptions,
) -> Vec<InstanceOutcome> {
    let whole = match call(api, op, key, chunk, opts).await {
        Ok(outcomes) => return complete(api.kind(), op, chunk, outcomes),
        Err(e) => e,
    };
    let fail_all = |e: &CloudError| {
        chunk
            .iter()
            .map(|i| InstanceOutcome {
                instance_id: i.clone(),
                result: Err(e.clone()),
            })
            .collect::<Vec<_>>()
    };
    if !matches!(whole.kind, ErrorKind::InvalidInput | ErrorKind::NotFound) || chunk.len() < 2 {
        return fail_all(&whole);
    }
    let described = match api
        .describe_instances(&InstanceQuery::Ids(chunk.to_vec()))
        .await
    {
        Ok(list) => list,
        Err(_) => return fail_all(&whole),
    };
    let known: BTreeSet<&str> = described.iter().map(|i| i.id.as_str()).collect();
    let culprits: BTreeMap<String, Cause> = described
        .iter()
        .filter_map(|i| {
            i.refusal(api.kind(), opts.force_stop)
                .map(|r| (i.id.clone(), Cause::Refused(r)))
        })
        .chain(
            chunk
                .iter()
                .filter(|id| !known.contains(id.as_str()))
                .map(|id| (id.clone(), Cause::Missing)),
        )
        .collect();
    if culprits.is_empty() {
        return fail_all(&whole);
    }
    if culprits.len() == chunk.len() {
        return chunk
            .iter()
            .map(|id| InstanceOutcome {
                instance_id: id.clone(),
                result: Err(culprits[id].error(id, &whole)),
            })
            .collect();
    }
    tracing::info!(
        action = op.action(),
        culprits = culprits.len(),
        "call refused as a whole; retrying without the instances that explain it"
    );
    let rest: Vec<String> = chunk
        .iter()
        .filter(|i| !culprits.contains_key(*i))
        .cloned()
        .collect();
    let retried = match call(api, op, key, &rest, opts).await {
        Ok(outcomes) => complete(api.kind(), op, &rest, outcomes),
        Err(e) => rest
            .iter()
            .map(|i| InstanceOutcome {
                instance_id: i.clone(),
                result: Err(e.clone()),
            })
            .collect(),
    };
    chunk
        .iter()
        .map(|id| {
            if let Some(cause) = culprits.get(id) {
                InstanceOutcome {
                    instance_id: id.clone(),
                    result: Err(cause.error(id, &whole)),
                }
            } else {
                retried
                    .iter()
                    .find(|o| o.instance_id == *id)
                    .cloned()
                    .unwrap_or_else(|| missing(api.kind(), op, id))
            }
        })
        .collect()
}

/// One outcome per instance of `chunk`, in order; a missing result is an error.
fn complete(
    kind: CloudKind,
    op: BindOp,
    chunk: &[String],
    outcomes: Vec<InstanceOutcome>,
) -> Vec<InstanceOutcome> {
    chunk
        .iter()
        .map(|id| {
            outcomes
                .iter()
                .find(|o| o.instance_id == *id)
                .cloned()
                .unwrap_or_else(|| missing(kind, op, id))
        })
        .collect()
}

fn missing(kind: CloudKind, op: BindOp, instance: &str) -> InstanceOutcome {
    InstanceOutcome {
        instance_id: instance.to_string(),
        result: Err(CloudError::local(
            kind,
            op.action(),
            ErrorKind::Other,
            "NoResult",
            format!("the cloud reported no result for instance {instance}"),
        )),
    }
}
