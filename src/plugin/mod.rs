//! The go-plugin transport: how Terraform starts, finds, authenticates and stops a provider.
//!
//! Terraform does not link providers, it runs them as child processes speaking gRPC, framed by
//! hashicorp/go-plugin: environment variables in ([`handshake`]), one handshake line out, a unix
//! socket ([`listener`]) secured by mutual TLS with pinned certificates ([`tls`]), and three
//! services beside the provider itself - health, the shutdown controller ([`controller`]) and
//! stdio ([`stdio`]). `--debug` mode ([`debug`]) lets Terraform attach to a running process
//! instead. This module knows nothing about SSH keys: it serves whatever [`Routes`] it is given.

pub(crate) mod controller;
pub(crate) mod debug;
pub mod handshake;
pub(crate) mod listener;
pub(crate) mod stdio;
pub mod tls;

/// The generated code, in a module of its own so that [`crate::testing`] can lend it to tests
/// while the rest of the crate sees `wire`.
pub(crate) mod generated {
    /// Generated from `proto/goplugin.proto`; tests reach it through [`crate::testing`].
    #[allow(clippy::all, clippy::pedantic)]
    pub mod wire {
        tonic::include_proto!("plugin");
    }
}
pub(crate) use generated::wire;

use std::io::Write as _;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tonic::service::Routes;

use controller::{Controller, Shutdown};
use handshake::{PluginEnv, PLUGIN_PROTOCOL_VERSION};
use listener::PluginListener;
use stdio::Stdio;

/// The address Terraform knows this provider by, used in the `--debug` reattach line.
pub(crate) const DEFAULT_PROVIDER_ADDRESS: &str = "registry.terraform.io/sshkey/sshkey";

/// How long in-flight RPCs may run after shutdown began. Terraform kills us two seconds after
/// asking; this bound only matters for a `--debug` provider or a parent that never kills.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Everything that can stop the transport from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// Started without Terraform's magic cookie (typically by hand).
    #[error("{}", handshake::NOT_STARTED_BY_TERRAFORM)]
    NotStartedByTerraform,
    /// The parent does not speak protocol 6.
    #[error("Terraform offers plugin protocol versions {offered:?}, but this provider speaks only version 6 (Terraform 1.0 or later, OpenTofu)")]
    NoCommonProtocol {
        /// The value of `PLUGIN_PROTOCOL_VERSIONS`.
        offered: String,
    },
    /// `PLUGIN_MIN_PORT` / `PLUGIN_MAX_PORT` are unusable.
    #[error("invalid PLUGIN_MIN_PORT/PLUGIN_MAX_PORT: {detail}")]
    InvalidPortRange {
        /// What is wrong.
        detail: String,
    },
    /// No unix socket and no free port in the range.
    #[error("no free loopback port in {range} (last error: {last})")]
    NoFreePort {
        /// The range tried.
        range: String,
        /// The last bind error.
        last: String,
    },
    /// Creating or querying the listener failed.
    #[error("cannot listen: {0}")]
    Listen(#[source] std::io::Error),
    /// `PLUGIN_CLIENT_CERT` is not a PEM certificate.
    #[error("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {detail}")]
    ClientCert {
        /// The parser's complaint.
        detail: String,
    },
    /// Generating our server certificate failed.
    #[error("cannot generate the server certificate: {0}")]
    CertGen(#[from] rcgen::Error),
    /// Building the TLS configuration failed.
    #[error("cannot configure TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// Installing signal handlers failed.
    #[error("cannot install signal handlers: {0}")]
    Signal(#[source] std::io::Error),
    /// Writing the handshake line failed (the parent closed our stdout).
    #[error("cannot write the handshake to stdout: {0}")]
    Stdout(#[source] std::io::Error),
    /// The gRPC server failed.
    #[error("gRPC server failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `--debug`: no cookie, plaintext, print `TF_REATTACH_PROVIDERS`, stop on Ctrl-C.
    pub debug: bool,
    /// The provider's registry address, e.g. [`DEFAULT_PROVIDER_ADDRESS`].
    pub provider_address: String,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            debug: false,
            provider_address: DEFAULT_PROVIDER_ADDRESS.to_owned(),
        }
    }
}

/// Checks the magic cookie in the process environment. `main` calls this before anything else
/// so that a person running the binary by hand gets [`PluginError::NotStartedByTerraform`]'s
/// explanation instead of a silent wait.
pub fn require_magic_cookie() -> Result<(), PluginError> {
    PluginEnv::from_process().check_magic_cookie()
}

/// Serves `provider` (plus health, controller and stdio) until Terraform asks us to stop
/// (`Shutdown` RPC or SIGTERM; Ctrl-C too in debug mode). Returns after in-flight RPCs finished
/// (bounded by a drain limit) and the socket was removed.
pub async fn serve(provider: Routes, opts: ServeOptions) -> Result<(), PluginError> {
    let env = PluginEnv::from_process();
    let protocol = if opts.debug {
        PLUGIN_PROTOCOL_VERSION
    } else {
        env.check_magic_cookie()?;
        env.negotiate_protocol()?
    };
    // Reattached providers are dialled without TLS, whatever the environment says.
    let tls = match (&env.client_cert, opts.debug) {
        (Some(pem), false) => {
            let client = tls::parse_client_cert(pem)?;
            let identity = tls::ServerIdentity::generate()?;
            let config = tls::server_config(&identity, client)?;
            Some((listener::acceptor(config), identity.cert))
        }
        _ => None,
    };
    let listener = PluginListener::bind(env.unix_socket_dir.as_deref(), env.port_range()?)?;
    let addr = listener.addr()?;

    let shutdown = Shutdown::new();
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let routes = provider
        .add_service(health)
        .add_service(Controller::service(shutdown.clone()))
        .add_service(Stdio::service(shutdown.clone()));

    watch_signals(shutdown.clone(), opts.debug)?;
    let (acceptor, server_cert) = tls.unzip();
    let (incoming, socket_guard) = listener.incoming(acceptor);

    let announcement = if opts.debug {
        let json =
            debug::reattach_json(&opts.provider_address, protocol, std::process::id(), &addr);
        debug::reattach_instructions(&json)
    } else {
        let line = handshake::handshake_line(protocol, &addr, server_cert.as_deref());
        format!("{line}\n")
    };
    announce(&announcement)?;
    tracing::info!(address = %addr, network = addr.network(), tls = server_cert.is_some(), "provider listening");

    let server = tonic::transport::Server::builder()
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, shutdown.wait());
    let drain_deadline = {
        let started = shutdown.wait();
        async move {
            started.await;
            tokio::time::sleep(DRAIN_LIMIT).await;
        }
    };
    let result = tokio::select! {
        result = server => result.map_err(PluginError::from),
        () = drain_deadline => {
            tracing::warn!(limit = ?DRAIN_LIMIT, "in-flight requests did not finish in time; exiting anyway");
            Ok(())
        }
    };
    drop(socket_guard);
    tracing::info!("provider stopped");
    result
}

/// SIGTERM always means "stop gracefully". SIGINT is ignored in normal mode: Terraform forwards
/// Ctrl-C to its whole process group and then calls StopProvider and Shutdown itself, so dying
/// on the signal would turn a clean cancellation into a crashed plugin. In debug mode the person
/// at the terminal owns us, and Ctrl-C stops the provider.
fn watch_signals(shutdown: Shutdown, debug: bool) -> Result<(), PluginError> {
    let mut term = signal(SignalKind::terminate()).map_err(PluginError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(PluginError::Signal)?;
    tokio::spawn(async move {
        let stopped = shutdown.wait();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = term.recv() => {
                    tracing::debug!("SIGTERM: shutting down");
                    shutdown.trigger();
                }
                _ = int.recv() => {
                    if debug {
                        tracing::debug!("interrupt: shutting down");
                        shutdown.trigger();
                    } else {
                        tracing::debug!("interrupt ignored: Terraform stops the provider itself");
                    }
                }
                () = &mut stopped => return,
            }
        }
    });
    Ok(())
}

fn announce(text: &str) -> Result<(), PluginError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(PluginError::Stdout)
}
