//! The listener, the per-connection task and the API handler: everything between a TCP socket
//! and [`super::ops`].
//!
//! We run our own accept loop (hyper-util) instead of `axum::serve` for one reason: the
//! `drop_after_commit` fault must close the connection after the change is made but before any
//! answer is written, which needs a per-connection kill switch the handler can pull.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

use super::auth::{Authenticator, Received};
use super::ops::{self, OpsConfig};
use super::profile::Cloud;
use super::rates::{self, RateWindows};
use super::store::Store;
use super::wire::{render_error, render_ok, ApiError, ApiRequest};
use super::{admin, EmulatorConfig, EmulatorError};

/// One entry of `GET /_emulator/calls`.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    /// `ecs`, `ens` or `cvm`.
    pub cloud: Cloud,
    /// Action name.
    pub action: String,
    /// Decoded operation parameters.
    pub params: Value,
    /// HTTP status on the wire (always 200 for CVM).
    pub http_status: u16,
    /// The cloud error code, `null` on success.
    pub error_code: Option<String>,
}

/// An injected failure, consumed by matching calls.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
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
#[derive(Debug, Clone, serde::Deserialize, Serialize)]
pub struct Fault {
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

/// Mutable emulator state behind one lock: operations are short and the lock makes every call
/// atomic, which is what the clouds promise per request.
#[derive(Debug, Default)]
pub struct Inner {
    /// Key pairs and instances.
    pub store: Store,
    /// Every API call in arrival order.
    pub calls: Vec<CallRecord>,
    /// Pending faults.
    pub faults: Vec<Fault>,
    rate_windows: RateWindows,
}

/// State shared by every connection.
#[derive(Debug)]
pub struct Shared {
    /// Configuration the emulator was started with.
    pub config: EmulatorConfig,
    /// Signature checking.
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

    /// Clears everything, rate windows included (admin reset).
    pub fn reset(&self) {
        let mut inner = self.lock();
        *inner = Inner::default();
        self.persist(&inner.store);
        self.auth.reset();
    }

    /// Clears everything, then installs `store` (admin restore).
    pub fn restore(&self, store: Store) {
        let mut inner = self.lock();
        *inner = Inner {
            store,
            ..Inner::default()
        };
        self.persist(&inner.store);
        self.auth.reset();
    }

    /// Writes the store to `--state-file` atomically (temp file + rename), if configured.
    pub fn persist(&self, store: &Store) {
        let Some(path) = &self.config.state_file else {
            return;
        };
        let result = serde_json::to_vec_pretty(store)
            .map_err(std::io::Error::other)
            .and_then(|data| {
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, data)?;
                std::fs::rename(&tmp, path)
            });
        if let Err(e) = result {
            tracing::error!(path = %path.display(), error = %e, "could not write state file");
        }
    }

    fn take_fault(&self, action: &str) -> Option<Fault> {
        let mut inner = self.lock();
        let pos = inner
            .faults
            .iter()
            .position(|f| f.action == action && f.count > 0)?;
        let fault = inner.faults[pos].clone();
        inner.faults[pos].count -= 1;
        if inner.faults[pos].count == 0 {
            inner.faults.remove(pos);
        }
        Some(fault)
    }

    /// Whether a call of `action` on `cloud` arriving now is over its rate limit; an admitted
    /// call is counted in the (cloud, action) sliding one-second window.
    fn over_rate(&self, cloud: Cloud, action: &str) -> bool {
        let Some(limit) =
            rates::limit_for(cloud, action, self.config.builtin_rates, &self.config.rates)
        else {
            return false;
        };
        !self
            .lock()
            .rate_windows
            .admit(cloud, action, limit, Instant::now())
    }
}

/// Per-connection facts the handlers can reach through request extensions.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    /// The peer address (admin API is loopback only).
    pub peer: SocketAddr,
    kill: Arc<Notify>,
}

/// Accepts connections until `shutdown` flips, serving each on its own task.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), EmulatorError> {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Per-connection errors (e.g. too many open files) must not stop the server.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return Ok(()),
        };
        let kill = Arc::new(Notify::new());
        let svc = ConnService {
            app: app.clone(),
            info: ConnInfo {
                peer,
                kill: kill.clone(),
            },
        };
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let builder = Builder::new(TokioExecutor::new());
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
            tokio::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                _ = kill.notified() => {
                    tracing::info!(%peer, "connection dropped by fault injection");
                }
                _ = shutdown.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

#[derive(Clone)]
struct ConnService {
    app: Router,
    info: ConnInfo,
}

impl<B> tower::Service<axum::http::Request<B>> for ConnService
where
    Router: tower::Service<axum::http::Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = <Router as tower::Service<axum::http::Request<B>>>::Future;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: axum::http::Request<B>) -> Self::Future {
        req.extensions_mut().insert(self.info.clone());
        tower::Service::call(&mut self.app, req)
    }
}

/// The router: admin API under `/_emulator/`, the cloud APIs everywhere else.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    admin::routes().fallback(api).with_state(shared)
}

const MAX_BODY: usize = 4 * 1024 * 1024;

async fn api(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let conn = parts.extensions.get::<ConnInfo>().cloned();
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    // Half the round trip on the way in, half on the way out: the cloud counts a request
    // against its rate when it arrives, as a real one would, not after the whole round trip.
    let inbound = Duration::from_millis(shared.config.latency_ms / 2);
    let outbound = Duration::from_millis(shared.config.latency_ms) - inbound;
    if !inbound.is_zero() {
        tokio::time::sleep(inbound).await;
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let request_id = request_id();
    let received = Received {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body: &body,
    };
    let call = match shared.auth.authenticate_http(&received, now) {
        Ok(call) => call,
        Err(rejected) => {
            tracing::warn!(cloud = rejected.cloud.as_str(), action = %rejected.action, code = %rejected.error.code, "request rejected");
            let rendered = render_error(rejected.cloud, &rejected.error, &request_id);
            record(
                &shared,
                rejected.cloud,
                &rejected.action,
                Value::Object(rejected.params.0),
                rendered.status,
                Some(rejected.error.code),
            );
            tokio::time::sleep(outbound).await;
            return respond(rejected.cloud, rendered.status, rendered.body);
        }
    };
    let mut drop_connection = false;
    // Throttling comes before anything else: a refused call changes nothing, not even a
    // pending fault, and is answered and recorded with the cloud's throttling code.
    let outcome = if shared.over_rate(call.cloud, &call.action) {
        Err(throttled(call.cloud))
    } else {
        match shared.take_fault(&call.action) {
            Some(Fault {
                kind: FaultKind::Throttle,
                ..
            }) => Err(throttled(call.cloud)),
            Some(Fault {
                kind: FaultKind::ServerError,
                ..
            }) => Err(ApiError::new(
                500,
                "InternalError",
                "The request processing has failed due to some unknown error.",
            )),
            Some(Fault {
                kind: FaultKind::Latency,
                latency_ms,
                ..
            }) => {
                tokio::time::sleep(Duration::from_millis(latency_ms)).await;
                run(&shared, &call)
            }
            Some(Fault {
                kind: FaultKind::DropAfterCommit,
                ..
            }) => {
                drop_connection = true;
                run(&shared, &call)
            }
            None => run(&shared, &call),
        }
    };
    let rendered = match &outcome {
        Ok(body) => render_ok(call.cloud, body.clone(), &request_id),
        Err(e) => render_error(call.cloud, e, &request_id),
    };
    let error_code = outcome.as_ref().err().map(|e| e.code.clone());
    tracing::info!(
        cloud = call.cloud.as_str(),
        action = %call.action,
        region = %call.region,
        status = rendered.status,
        error = error_code.as_deref().unwrap_or(""),
        "api call"
    );
    record(
        &shared,
        call.cloud,
        &call.action,
        Value::Object(call.params.0.clone()),
        rendered.status,
        error_code,
    );
    tokio::time::sleep(outbound).await;
    if drop_connection {
        if let Some(conn) = conn {
            conn.kill.notify_one();
            // The connection task drops this future together with the connection.
            std::future::pending::<()>().await;
        }
    }
    respond(call.cloud, rendered.status, rendered.body)
}

fn run(shared: &Shared, call: &ApiRequest) -> Result<serde_json::Map<String, Value>, ApiError> {
    let mut inner = shared.lock();
    let cfg = OpsConfig {
        ecs_bound_delete: shared.config.ecs_bound_delete,
    };
    let result = ops::handle(
        &mut inner.store,
        call,
        &cfg,
        time::OffsetDateTime::now_utc(),
    );
    // Describe* never changes anything; every other successful call may have.
    if result.is_ok() && !call.action.starts_with("Describe") {
        shared.persist(&inner.store);
    }
    result
}

fn throttled(cloud: Cloud) -> ApiError {
    let code = cloud.profile().codes.throttled;
    if cloud.is_alibaba() {
        ApiError::new(400, code, "Request was denied due to user flow control.")
    } else {
        ApiError::new(
            200,
            code,
            "Your current request times exceeds the limit, please try again later.",
        )
    }
}

fn record(
    shared: &Shared,
    cloud: Cloud,
    action: &str,
    params: Value,
    http_status: u16,
    error_code: Option<String>,
) {
    shared.lock().calls.push(CallRecord {
        cloud,
        action: action.to_string(),
        params,
        http_status,
        error_code,
    });
}

fn respond(cloud: Cloud, status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // The Tencent SDK only parses an exact `application/json`.
    let content_type = if cloud.is_alibaba() {
        "application/json;charset=utf-8"
    } else {
        "application/json"
    };
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

fn request_id() -> String {
    let bytes: [u8; 16] = rand::random();
    let h = hex::encode_upper(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
