//! An emulator of the Alibaba Cloud ECS (2014-05-26), Alibaba Cloud ENS (2017-11-10) and Tencent
//! Cloud CVM (2017-03-12) key-pair APIs: real wire formats, real signatures, the seeds' semantics.
//! Beside them, on the same port, each vendor's STS AssumeRole (Alibaba 2015-04-01, Tencent
//! 2018-08-13), whose temporary credentials every API then accepts with their token, and
//! Tencent's Tag API (2018-08-13), through which CVM key pairs are tagged.
//!
//! It is the provider's acceptance-test backend and the demo's default endpoint, so it must be
//! indistinguishable from the clouds for the calls we make - including to the official SDKs.
//!
//! # An independent reading of the clouds
//!
//! The emulator keeps its own per-cloud table ([`profile`]: limits, rates, name rules, id
//! shapes) instead of reading the provider's (`crate::cloud::rules`), on purpose: it is the
//! check of the provider's client, and a client tested against a server that shares its
//! mistakes would pass with them. The two tables are written independently from the clouds'
//! documents and a unit test (`agreement_tests`) holds them to agree wherever both state a
//! fact, so a disagreement is a failing test that sends someone back to the documents rather
//! than a silent drift.
//!
//! # Layout
//!
//! Shaped like mini-redis:
//!
//! - [`server`]: accept loop, per-connection task (with the kill switch `drop_after_commit`
//!   needs) and the API handler, which runs a call through the steps below in order.
//! - [`api`]: which of the five APIs a call is for, and whose wire conventions it follows.
//! - [`auth`]: routing by signature scheme and API version; signature, timestamp and nonce checks.
//! - [`credentials`]: the accepted keys: the long-term pair and the temporary pairs issued,
//!   each with its token and expiry.
//! - [`rates`]: which request rate limit applies to a call (documented or configured) and the
//!   sliding windows that enforce it.
//! - [`faults`]: failures injected through the admin API.
//! - [`state`]: what every connection shares (store, call log, faults, rate windows) behind
//!   one lock.
//! - [`ops`]: the operations, written once for the three clouds, one module per family,
//!   parameterized by [`profile`]; and AssumeRole, written once for the two STS, parameterized
//!   by [`sts_profile`].
//! - [`profile`]: the per-cloud differences as data, with [`names`] (name rules) and [`ids`]
//!   (id shapes); [`sts_profile`]: the same for the two STS and their credentials;
//!   [`tag_profile`]: ECS's tagging calls and Tencent's Tag API, which tags CVM key pairs.
//! - [`roles`]: the roles AssumeRole lets callers assume (`--role`).
//! - [`wire`]: decoded requests, parameter access, error and success envelopes.
//! - [`render`]: response bodies in each cloud's real shape.
//! - [`store`]: key pairs and instances, knowing nothing about the wire.
//! - [`persist`]: keeping the store in `--state-file` across restarts.
//! - [`keys`]: generated RSA 2048 key pairs in each cloud's private key format (from a
//!   background pool), OpenSSH public key parsing, fingerprints.
//! - [`admin`]: the `/_emulator/` API for tests.
//!
//! Default credentials: access key id [`DEFAULT_ACCESS_KEY_ID`], secret
//! [`DEFAULT_ACCESS_KEY_SECRET`] (they serve as Tencent SecretId/SecretKey too). Default roles:
//! [`DEFAULT_ALIBABA_ROLE_ARN`] and [`DEFAULT_TENCENT_ROLE_ARN`].

pub mod admin;
#[cfg(test)]
mod agreement_tests;
pub mod api;
pub mod auth;
pub mod credentials;
pub mod faults;
pub mod ids;
pub mod keys;
pub mod names;
pub mod ops;
pub mod persist;
pub mod profile;
pub mod rates;
pub mod render;
pub mod roles;
pub mod server;
pub mod state;
pub mod store;
pub mod sts_profile;
pub mod tag_profile;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cloud::sign::Credentials;
pub use profile::BoundDelete;
pub use profile::Cloud;
pub use rates::{RateLimit, RateParseError};
pub use roles::{Role, RoleParseError, DEFAULT_ALIBABA_ROLE_ARN, DEFAULT_TENCENT_ROLE_ARN};

/// Default access key id accepted by the emulator.
pub const DEFAULT_ACCESS_KEY_ID: &str = "sshkey-emulator-id";
/// Default access key secret accepted by the emulator.
pub const DEFAULT_ACCESS_KEY_SECRET: &str = "sshkey-emulator-secret";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Everything the emulator can be configured with.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The long-term access key pair accepted (on every API; temporary pairs are issued by the
    /// STS and accepted with their tokens besides it).
    pub credentials: Credentials,
    /// The roles STS AssumeRole lets callers assume (`--role`); each belongs to the vendor its
    /// ARN prefix names. Default: [`Role::defaults`], one per vendor, no external ids.
    pub roles: Vec<Role>,
    /// A testing knob (`--sts-lifetime`): issued temporary credentials expire after at most
    /// this long, whatever `DurationSeconds` asked, so tests can watch expiry and renewal in
    /// seconds. `None` (the default) is the requested duration.
    pub sts_lifetime: Option<Duration>,
    /// ECS DeleteKeyPairs behaviour for keys still bound to instances.
    pub ecs_bound_delete: BoundDelete,
    /// Configured per-action rate limits (`--rate [CLOUD:]ACTION=N`), for one cloud or every
    /// cloud. They apply on top of the built-in ones: the strictest limit wins.
    pub rates: Vec<RateLimit>,
    /// Whether the clouds' documented limits (CVM: 10/s per key-pair action, 40/s
    /// DescribeInstances) are enforced; `false` is `--no-builtin-rates`. Default `true`.
    pub builtin_rates: bool,
    /// Added latency for every API call.
    pub latency_ms: u64,
    /// Where to keep state across restarts; in memory only when `None`.
    pub state_file: Option<PathBuf>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            credentials: Credentials::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET),
            roles: Role::defaults(),
            sts_lifetime: None,
            ecs_bound_delete: BoundDelete::Reject,
            rates: Vec::new(),
            builtin_rates: true,
            latency_ms: 0,
            state_file: None,
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The state file exists but cannot be read or parsed.
    #[error("cannot load state file {path}: {reason}")]
    StateFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// A running emulator.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<Result<(), EmulatorError>>,
    shared: Arc<state::Shared>,
}

impl RunningEmulator {
    /// The bound address (the real port when `listen` had port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the endpoint to give clients.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Direct access to the shared state (in-process tests).
    pub fn shared(&self) -> &Arc<state::Shared> {
        &self.shared
    }

    /// Stops accepting, lets open connections finish their current request, and waits.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "emulator stopped with an error"),
            Err(e) => tracing::error!(error = %e, "emulator task failed"),
        }
    }
}

/// Binds the listener, loads the state file if any, and starts serving in the background.
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    let store = match &config.state_file {
        Some(path) => persist::load(path)?,
        None => store::Store::default(),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let shared = Arc::new(state::Shared::new(config, store));
    let app = server::router(shared.clone());
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(server::serve(listener, app, rx));
    tracing::info!(%addr, "emulator listening");
    Ok(RunningEmulator {
        addr,
        shutdown: tx,
        task,
        shared,
    })
}
