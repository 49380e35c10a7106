//! Injected failures (`POST /_emulator/faults`): each armed fault fires on the next calls of
//! its action, on any cloud, until its count is spent.
//!
//! They model what a provider must survive but a healthy emulator never does on its own:
//! throttling below the rate limits, server errors, slow calls, and a change that is made but
//! whose answer is lost (`drop_after_commit`, which the connection task in
//! [`super::server`] carries out).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::api::Api;
use super::rates;
use super::wire::ApiError;

/// An injected failure, consumed by matching calls.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FaultKind {
    /// Answer the cloud's throttling error without doing anything.
    Throttle,
    /// Answer HTTP 500 / `InternalError` without doing anything.
    ServerError,
    /// Do the change, then close the connection without answering.
    DropAfterCommit,
    /// Delay the call by `latency_ms`, then handle it normally.
    Latency,
}

/// A pending fault.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct Fault {
    /// Action it applies to (any cloud).
    pub action: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many calls it still affects.
    #[serde(default = "one")]
    pub count: u32,
    /// Delay for `latency`.
    #[serde(default)]
    pub latency_ms: u64,
}

fn one() -> u32 {
    1
}

/// What a fault does to the call it fires on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// The call is answered with this error and changes nothing.
    Refuse(ApiError),
    /// The call is handled after this delay.
    Delay(Duration),
    /// The call is handled, then its connection closed before the answer.
    DropAfterCommit,
}

impl Fault {
    /// This fault's effect on a call to `api`.
    pub(crate) fn effect(&self, api: impl Into<Api>) -> Effect {
        match self.kind {
            FaultKind::Throttle => Effect::Refuse(rates::throttled(api)),
            FaultKind::ServerError => Effect::Refuse(ApiError::new(
                500,
                "InternalError",
                "The request processing has failed due to some unknown error.",
            )),
            FaultKind::Latency => Effect::Delay(Duration::from_millis(self.latency_ms)),
            FaultKind::DropAfterCommit => Effect::DropAfterCommit,
        }
    }
}

/// The armed faults, in the order they were armed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct Faults(Vec<Fault>);

impl Faults {
    /// Arms `fault` behind the ones already pending.
    pub(crate) fn arm(&mut self, fault: Fault) {
        self.0.push(fault);
    }

    /// The first pending fault for `action`, counting this call against it; a spent fault is
    /// forgotten.
    pub(crate) fn take(&mut self, action: &str) -> Option<Fault> {
        let pos = self
            .0
            .iter()
            .position(|f| f.action == action && f.count > 0)?;
        let fault = self.0[pos].clone();
        self.0[pos].count -= 1;
        if self.0[pos].count == 0 {
            self.0.remove(pos);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::profile::Cloud;

    fn fault(action: &str, kind: FaultKind, count: u32) -> Fault {
        Fault {
            action: action.into(),
            kind,
            count,
            latency_ms: 7,
        }
    }

    #[test]
    fn faults_fire_in_order_until_spent() {
        let mut faults = Faults::default();
        faults.arm(fault("DeleteKeyPairs", FaultKind::Throttle, 2));
        faults.arm(fault("DeleteKeyPairs", FaultKind::ServerError, 1));
        assert!(faults.take("CreateKeyPair").is_none());
        let kinds: Vec<FaultKind> = std::iter::from_fn(|| faults.take("DeleteKeyPairs"))
            .map(|f| f.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                FaultKind::Throttle,
                FaultKind::Throttle,
                FaultKind::ServerError
            ]
        );
        assert!(faults.0.is_empty());
    }

    #[test]
    fn effects() {
        let throttle = fault("a", FaultKind::Throttle, 1);
        assert!(
            matches!(throttle.effect(Cloud::Cvm), Effect::Refuse(e) if e.code == "RequestLimitExceeded")
        );
        assert_eq!(
            fault("a", FaultKind::Latency, 1).effect(Cloud::Ecs),
            Effect::Delay(Duration::from_millis(7))
        );
        assert!(matches!(
            fault("a", FaultKind::ServerError, 1).effect(Cloud::Ens),
            Effect::Refuse(e) if e.status == 500
        ));
    }
}
