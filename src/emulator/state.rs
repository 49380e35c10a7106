//! The state every connection shares: the store, the call log, armed faults and rate windows,
//! behind one lock.
//!
//! One lock because the operations are short and it makes every call atomic, which is what
//! the clouds promise per request; the store is written to `--state-file` while the lock is
//! still held, so the file never lags behind an answer already sent.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value};

use super::api::Api;
use super::auth::Authenticator;
use super::faults::{Fault, Faults};
use super::ops::sts::StsSettings;
use super::ops::{self, OpsConfig};
use super::persist;
use super::rates::{self, RateWindows};
use super::store::Store;
use super::wire::{ApiError, ApiRequest};
use super::EmulatorConfig;

/// One entry of `GET /_emulator/calls`.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    /// `ecs`, `ens`, `cvm`, `alibaba-sts` or `tencent-sts`.
    pub cloud: Api,
    /// Action name.
    pub action: String,
    /// Decoded operation parameters.
    pub params: Value,
    /// HTTP status on the wire (always 200 for CVM).
    pub http_status: u16,
    /// The cloud error code, `null` on success.
    pub error_code: Option<String>,
}

/// Mutable emulator state behind the one lock.
#[derive(Debug, Default)]
pub struct Inner {
    /// Key pairs and instances.
    pub store: Store,
    /// Every API call in arrival order.
    pub calls: Vec<CallRecord>,
    /// Pending faults.
    pub faults: Faults,
    rate_windows: RateWindows,
}

/// State shared by every connection.
#[derive(Debug)]
pub struct Shared {
    /// Configuration the emulator was started with.
    pub config: EmulatorConfig,
    /// Signature checking, and the keys it accepts.
    pub auth: Authenticator,
    inner: Mutex<Inner>,
}

impl Shared {
    pub(super) fn new(config: EmulatorConfig, store: Store) -> Self {
        Self {
            auth: Authenticator::new(config.credentials.clone()),
            inner: Mutex::new(Inner {
                store,
                ..Inner::default()
            }),
            config,
        }
    }

    /// Locks the state. A panic in another handler cannot leave it half-written (each handler
    /// mutates only after validating), so a poisoned lock is still usable.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Clears everything, rate windows and issued temporary keys included (admin reset).
    pub(crate) fn reset(&self) {
        self.restore(Store::default());
    }

    /// Clears everything, then installs `store` (admin restore).
    pub(crate) fn restore(&self, store: Store) {
        let mut inner = self.lock();
        *inner = Inner {
            store,
            ..Inner::default()
        };
        self.persist(&inner.store);
        self.auth.reset();
    }

    /// Writes the store to `--state-file`, if configured. A failed write is logged, not
    /// answered: the call it follows did happen.
    pub(crate) fn persist(&self, store: &Store) {
        let Some(path) = &self.config.state_file else {
            return;
        };
        if let Err(e) = persist::save(path, store) {
            tracing::error!(path = %path.display(), error = %e, "could not write state file");
        }
    }

    /// Runs one authenticated call: an STS call issues keys into the authenticator's key ring,
    /// a key-pair call runs against the store, which is persisted when it changed.
    pub(super) fn apply(&self, call: &ApiRequest) -> Result<Map<String, Value>, ApiError> {
        let now = time::OffsetDateTime::now_utc();
        if let Api::Sts(vendor) = call.cloud {
            let settings = StsSettings {
                roles: &self.config.roles,
                lifetime_cap: self.config.sts_lifetime,
                keys: self.auth.keys(),
            };
            return ops::sts::handle(vendor.sts(), call, &settings, now);
        }
        let mut inner = self.lock();
        let cfg = OpsConfig {
            ecs_bound_delete: self.config.ecs_bound_delete,
        };
        // Tencent's Tag API is another service, but what it changes are CVM key pairs.
        let result = if call.cloud == Api::TencentTag {
            ops::tags::tencent(&mut inner.store, call)
        } else {
            ops::handle(&mut inner.store, call, &cfg, now)
        };
        // Describe* never changes anything; every other successful call may have.
        if result.is_ok() && !call.action.starts_with("Describe") {
            self.persist(&inner.store);
        }
        result
    }

    /// The fault the call of `action` arriving now fires, if one is armed.
    pub(super) fn take_fault(&self, action: &str) -> Option<Fault> {
        self.lock().faults.take(action)
    }

    /// Whether a call of `action` on `api` arriving now is over its rate limit; an admitted
    /// call is counted in the (API, action) sliding one-second window.
    pub(super) fn over_rate(&self, api: Api, action: &str) -> bool {
        let Some(limit) =
            rates::limit_for(api, action, self.config.builtin_rates, &self.config.rates)
        else {
            return false;
        };
        !self
            .lock()
            .rate_windows
            .admit(api, action, limit, Instant::now())
    }

    /// Appends a call to the log `GET /_emulator/calls` returns.
    pub(super) fn record(&self, call: CallRecord) {
        self.lock().calls.push(call);
    }
}
