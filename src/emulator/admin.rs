//! The admin API under `/_emulator/`: plain JSON, no signatures, loopback clients only.
//!
//! Tests use it to seed instances, inject faults, and check which calls the provider made
//! (`/calls` is how batching is asserted: one DeleteKeyPairs with 100 names, not 100 calls).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::faults::Fault;
use super::profile::Cloud;
use super::server::ConnInfo;
use super::state::Shared;
use super::store::{Instance, Os, Status, Store};

/// A snapshot of 10 000 keys is about 8 MiB; axum's default body limit is 2 MiB.
const SNAPSHOT_LIMIT: usize = 64 << 20;

/// The admin routes (state type [`Shared`]).
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/calls", get(calls))
        .route("/_emulator/credentials", get(issued_credentials))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/instances", post(instances))
        .route("/_emulator/state", get(state))
        .route("/_emulator/faults", post(faults).get(pending_faults))
        .route(
            "/_emulator/snapshot",
            get(snapshot)
                .post(restore)
                .layer(DefaultBodyLimit::max(SNAPSHOT_LIMIT)),
        )
        // Unknown admin paths get their answer here, behind the loopback check, instead of
        // falling through to the cloud API handler: a remote peer learns nothing about them.
        .route("/_emulator/{*rest}", any(unknown))
        .route_layer(middleware::from_fn(loopback_only))
}

/// The admin API can reset and rewrite all state, so it answers only this machine. The cloud
/// APIs stay open: they check signatures like the real clouds do.
async fn loopback_only(req: Request, next: Next) -> Response {
    // On a dual-stack socket an IPv4 loopback peer arrives as ::ffff:127.0.0.1, which
    // `is_loopback` alone does not count as loopback.
    let loopback = req
        .extensions()
        .get::<ConnInfo>()
        .is_some_and(|c| c.peer.ip().to_canonical().is_loopback());
    if loopback {
        next.run(req).await
    } else {
        (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "admin API is loopback only"})),
        )
            .into_response()
    }
}

async fn unknown() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such admin endpoint; see docs/emulator.md"})),
    )
        .into_response()
}

async fn calls(State(shared): State<Arc<Shared>>) -> Response {
    let calls = shared.lock().calls.clone();
    Json(calls).into_response()
}

async fn issued_credentials(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.auth.keys().issued_keys()).into_response()
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.reset();
    tracing::info!("emulator reset");
    Json(json!({"ok": true})).into_response()
}

/// The whole store in `--state-file` format, so a benchmark or test can set up a large fleet
/// once and restore it before every run instead of recreating it through the API.
async fn snapshot(State(shared): State<Arc<Shared>>) -> Response {
    let store = shared.lock().store.clone();
    Json(store).into_response()
}

/// Replaces the store with a snapshot and forgets calls, faults and rate windows, so counting
/// starts afresh (`reset`, then the snapshot's keys and instances).
async fn restore(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let store: Store = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad_request(format!("not a snapshot: {e}")),
    };
    let (keys, instances) = (store.keys.len(), store.instances.len());
    shared.restore(store);
    tracing::info!(keys, instances, "emulator restored from snapshot");
    Json(json!({"ok": true, "keys": keys, "instances": instances})).into_response()
}

#[derive(Debug, Deserialize)]
struct InstancesBody {
    cloud: String,
    region: String,
    instances: Vec<InstanceSpec>,
}

#[derive(Debug, Deserialize)]
struct InstanceSpec {
    id: String,
    #[serde(default = "linux")]
    os: Os,
    #[serde(default = "running")]
    status: Status,
    // Optional pre-existing bindings (key names on ECS/ENS, key ids on CVM).
    #[serde(default)]
    keys: Option<Vec<String>>,
}

fn linux() -> Os {
    Os::Linux
}

fn running() -> Status {
    Status::Running
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

async fn instances(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let body: InstancesBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(e.to_string()),
    };
    let Some(cloud) = Cloud::parse(&body.cloud) else {
        return bad_request(format!("unknown cloud {:?}", body.cloud));
    };
    if body.region.is_empty() {
        return bad_request("region must not be empty");
    }
    // Where the cloud's calls reject other id shapes as malformed (CVM), seeding one would only
    // confuse a test.
    if let Some(shape) = cloud.profile().instance_id {
        if let Some(bad) = body.instances.iter().find(|i| !shape.matches(&i.id)) {
            return bad_request(format!(
                "{} instance ids look like {}{}, got {:?}",
                cloud.as_str().to_ascii_uppercase(),
                shape.prefix,
                "x".repeat(shape.len),
                bad.id
            ));
        }
    }
    if let Some(bad) = body.instances.iter().find(|i| i.id.is_empty()) {
        return bad_request(format!("empty instance id {:?}", bad.id));
    }
    let mut inner = shared.lock();
    let count = body.instances.len();
    for spec in body.instances {
        let existing = inner.store.instance(cloud, Some(&body.region), &spec.id);
        let (keys, reboots) = match existing {
            Some(i) => (
                inner.store.instances[i].keys.clone(),
                inner.store.instances[i].reboots,
            ),
            None => (Vec::new(), 0),
        };
        inner.store.upsert_instance(Instance {
            cloud,
            region: body.region.clone(),
            id: spec.id,
            os: spec.os,
            status: spec.status,
            keys: spec.keys.unwrap_or(keys),
            reboots,
        });
    }
    shared.persist(&inner.store);
    Json(json!({"ok": true, "instances": count})).into_response()
}

async fn state(State(shared): State<Arc<Shared>>) -> Response {
    let inner = shared.lock();
    let store = &inner.store;
    // cloud -> region -> {keys, instances}
    let mut out: BTreeMap<&str, BTreeMap<String, Value>> = BTreeMap::new();
    for cloud in Cloud::ALL {
        out.insert(cloud.as_str(), BTreeMap::new());
    }
    for key in &store.keys {
        push(
            &mut out,
            key.cloud,
            &key.region,
            "keys",
            json!({
                "id": key.id,
                "name": key.name,
                "fingerprint": key.fingerprint,
                "public_key": key.public_key,
                "creation_time": key.creation_time,
                "tags": key.tags.iter().cloned().collect::<BTreeMap<String, String>>(),
                "resource_group_id": key.resource_group_id,
                "project_id": key.project_id,
                "bound_instances": store.bound_instances(key),
            }),
        );
    }
    for inst in &store.instances {
        push(
            &mut out,
            inst.cloud,
            &inst.region,
            "instances",
            json!({
                "id": inst.id,
                "os": inst.os,
                "status": inst.status,
                "keys": inst.keys,
                "reboots": inst.reboots,
            }),
        );
    }
    Json(out).into_response()
}

fn push(
    out: &mut BTreeMap<&str, BTreeMap<String, Value>>,
    cloud: Cloud,
    region: &str,
    list: &str,
    item: Value,
) {
    let slot = out
        .entry(cloud.as_str())
        .or_default()
        .entry(region.to_string())
        .or_insert_with(|| json!({"keys": [], "instances": []}));
    if let Some(Value::Array(items)) = slot.get_mut(list) {
        items.push(item);
    }
}

/// The faults not yet consumed, so a test can check that the ones it armed fired.
async fn pending_faults(State(shared): State<Arc<Shared>>) -> Response {
    let faults = shared.lock().faults.clone();
    Json(faults).into_response()
}

async fn faults(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let fault: Fault = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return bad_request(e.to_string()),
    };
    if fault.action.is_empty() || fault.count == 0 {
        return bad_request("action must be set and count positive");
    }
    tracing::info!(action = %fault.action, kind = ?fault.kind, count = fault.count, "fault injected");
    shared.lock().faults.arm(fault);
    Json(json!({"ok": true})).into_response()
}
