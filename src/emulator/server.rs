//! The listener, the per-connection task and the API handler: everything between a TCP socket
//! and [`super::ops`].
//!
//! A call goes through, in order: authentication ([`super::auth`]), the rate limits
//! ([`super::rates`]), an armed fault ([`super::faults`]), the operation on the shared state
//! ([`super::state`]), and the call log. Each step that refuses the call answers it in the
//! cloud's envelope ([`super::wire`]).
//!
//! We run our own accept loop (hyper-util) instead of `axum::serve` for one reason: the
//! `drop_after_commit` fault must close the connection after the change is made but before any
//! answer is written, which needs a per-connection kill switch the handler can pull.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

use super::api::Api;
use super::auth::Received;
use super::faults::Effect;
use super::rates;
use super::state::{CallRecord, Shared};
use super::wire::{render_error, render_ok};
use super::{admin, EmulatorError};

/// Per-connection facts the handlers can reach through request extensions.
#[derive(Clone, Debug)]
pub(crate) struct ConnInfo {
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
            shared.record(CallRecord {
                cloud: rejected.cloud,
                action: rejected.action,
                params: Value::Object(rejected.params.0),
                http_status: rendered.status,
                error_code: Some(rejected.error.code),
            });
            tokio::time::sleep(outbound).await;
            return respond(rejected.cloud, rendered.status, rendered.body);
        }
    };
    let mut drop_connection = false;
    // Throttling comes before anything else: a refused call changes nothing, not even a
    // pending fault, and is answered and recorded with the cloud's throttling code.
    let outcome = if shared.over_rate(call.cloud, &call.action) {
        Err(rates::throttled(call.cloud))
    } else {
        match shared
            .take_fault(&call.action)
            .map(|f| f.effect(call.cloud))
        {
            Some(Effect::Refuse(e)) => Err(e),
            Some(Effect::Delay(delay)) => {
                tokio::time::sleep(delay).await;
                shared.apply(&call)
            }
            Some(Effect::DropAfterCommit) => {
                drop_connection = true;
                shared.apply(&call)
            }
            None => shared.apply(&call),
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
    shared.record(CallRecord {
        cloud: call.cloud,
        action: call.action.clone(),
        params: Value::Object(call.params.0.clone()),
        http_status: rendered.status,
        error_code,
    });
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

fn respond(cloud: Api, status: u16, body: Value) -> Response {
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
