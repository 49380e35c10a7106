//! Drives the provider's tfplugin6 gRPC service directly (no Terraform), against an in-process
//! emulator: the protocol surface, plan-time validation, batching and per-member results.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as Json;
use sshkey::emulator::{self, EmulatorConfig, RunningEmulator};
use sshkey::testing::tfplugin6 as wire;
use sshkey::testing::tfplugin6::provider_client::ProviderClient;
use sshkey::value::{msgpack, AttributePath, PathStep, Type, Value};
use support::clouds::{self, CVM, ECS};
use tonic::transport::Channel;

struct Harness {
    emu: RunningEmulator,
    client: ProviderClient<Channel>,
    http: reqwest::Client,
}

async fn serve_provider() -> ProviderClient<Channel> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_routes(sshkey::tfproto::routes())
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    ProviderClient::new(channel).max_decoding_message_size(64 << 20)
}

fn provider_type() -> Type {
    sshkey::provider::config::schema().value_type()
}
fn key_type() -> Type {
    sshkey::provider::key_pair::schema().value_type()
}
fn attachment_type() -> Type {
    Type::Object(
        [
            ("id", Type::String),
            ("key_pair_name", Type::String),
            ("key_id", Type::String),
            ("instance_ids", Type::Set(Box::new(Type::String))),
            ("reboot", Type::Bool),
            ("force_stop", Type::Bool),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_string(), t))
        .collect(),
    )
}

fn dv(v: &Value, ty: &Type) -> Option<wire::DynamicValue> {
    Some(wire::DynamicValue {
        msgpack: msgpack::encode(v, ty).expect("encode"),
        json: vec![],
    })
}

fn undv(d: &Option<wire::DynamicValue>, ty: &Type) -> Value {
    match d {
        Some(d) => msgpack::decode(&d.msgpack, ty).expect("decode"),
        None => Value::Null,
    }
}

/// An object of `ty` with every attribute null except the given ones.
fn object(ty: &Type, set: &[(&str, Value)]) -> Value {
    let Type::Object(fields) = ty else {
        panic!("object type")
    };
    let mut m: BTreeMap<String, Value> = fields.keys().map(|k| (k.clone(), Value::Null)).collect();
    for (k, v) in set {
        assert!(m.contains_key(*k), "no attribute {k}");
        m.insert(k.to_string(), v.clone());
    }
    Value::Object(m)
}

fn errors(diags: &[wire::Diagnostic]) -> Vec<&wire::Diagnostic> {
    diags
        .iter()
        .filter(|d| d.severity == wire::diagnostic::Severity::Error as i32)
        .collect()
}

fn path_of(d: &wire::Diagnostic) -> Vec<String> {
    use wire::attribute_path::step::Selector;
    d.attribute
        .as_ref()
        .map(|p| {
            p.steps
                .iter()
                .filter_map(|s| match &s.selector {
                    Some(Selector::AttributeName(n)) => Some(n.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Harness {
    async fn start(cloud: &str) -> Harness {
        Self::start_with(cloud, EmulatorConfig::default(), &[]).await
    }

    async fn start_with(cloud: &str, mut cfg: EmulatorConfig, extra: &[(&str, Value)]) -> Harness {
        cfg.listen = "127.0.0.1:0".parse().expect("addr");
        let emu = emulator::start(cfg).await.expect("emulator");
        let mut client = serve_provider().await;
        let region = clouds::named(cloud).region;
        let mut attrs = vec![
            ("cloud", Value::string(cloud)),
            ("region", Value::string(region)),
            ("endpoint", Value::string(emu.endpoint())),
            ("access_key", Value::string(emulator::DEFAULT_ACCESS_KEY_ID)),
            (
                "secret_key",
                Value::string(emulator::DEFAULT_ACCESS_KEY_SECRET),
            ),
        ];
        attrs.extend(extra.iter().cloned());
        let config = object(&provider_type(), &attrs);
        let resp = client
            .configure_provider(wire::configure_provider::Request {
                terraform_version: "1.15.5".into(),
                config: dv(&config, &provider_type()),
                client_capabilities: None,
            })
            .await
            .expect("configure")
            .into_inner();
        assert!(
            errors(&resp.diagnostics).is_empty(),
            "{:?}",
            resp.diagnostics
        );
        Harness {
            emu,
            client,
            http: reqwest::Client::new(),
        }
    }

    async fn admin_get(&self, what: &str) -> Json {
        self.http
            .get(format!("{}/_emulator/{what}", self.emu.endpoint()))
            .send()
            .await
            .expect("admin")
            .json()
            .await
            .expect("json")
    }

    async fn admin_post(&self, what: &str, body: Json) {
        let status = self
            .http
            .post(format!("{}/_emulator/{what}", self.emu.endpoint()))
            .json(&body)
            .send()
            .await
            .expect("admin")
            .status();
        assert!(status.is_success(), "{what}: {status}");
    }

    async fn calls(&self, action: &str) -> Vec<Json> {
        let all = self.admin_get("calls").await;
        all.as_array()
            .expect("array")
            .iter()
            .filter(|c| c["action"] == action)
            .cloned()
            .collect()
    }

    async fn plan(
        &mut self,
        ty: &Type,
        type_name: &str,
        prior: &Value,
        config: &Value,
    ) -> wire::plan_resource_change::Response {
        // Terraform's proposal: config values, prior values for computed attributes left unset.
        let proposed = match (prior, config) {
            (_, Value::Null) => Value::Null,
            (Value::Object(p), Value::Object(c)) => Value::Object(
                c.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            if v.is_null() {
                                p.get(k).cloned().unwrap_or(Value::Null)
                            } else {
                                v.clone()
                            },
                        )
                    })
                    .collect(),
            ),
            _ => config.clone(),
        };
        self.client
            .plan_resource_change(wire::plan_resource_change::Request {
                type_name: type_name.into(),
                prior_state: dv(prior, ty),
                proposed_new_state: dv(&proposed, ty),
                config: dv(config, ty),
                ..Default::default()
            })
            .await
            .expect("plan")
            .into_inner()
    }

    async fn apply(
        &mut self,
        ty: &Type,
        type_name: &str,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> wire::apply_resource_change::Response {
        self.client
            .apply_resource_change(wire::apply_resource_change::Request {
                type_name: type_name.into(),
                prior_state: dv(prior, ty),
                planned_state: dv(planned, ty),
                config: dv(config, ty),
                ..Default::default()
            })
            .await
            .expect("apply")
            .into_inner()
    }

    /// Plan and apply a create; returns the new state.
    async fn create(&mut self, ty: &Type, type_name: &str, config: Value) -> Value {
        let plan = self.plan(ty, type_name, &Value::Null, &config).await;
        assert!(
            errors(&plan.diagnostics).is_empty(),
            "{:?}",
            plan.diagnostics
        );
        let planned = undv(&plan.planned_state, ty);
        let applied = self
            .apply(ty, type_name, &Value::Null, &planned, &config)
            .await;
        assert!(
            errors(&applied.diagnostics).is_empty(),
            "{:?}",
            applied.diagnostics
        );
        undv(&applied.new_state, ty)
    }

    async fn create_key(&mut self, name: &str) -> Value {
        self.create(
            &key_type(),
            "sshkey_key_pair",
            object(&key_type(), &[("name", Value::string(name))]),
        )
        .await
    }
}

/// Sends a destroy (ApplyResourceChange with a null plan) for every state at once, the way
/// Terraform's parallel walk does; each task yields its prior state and the answer.
fn destroy_concurrently(
    h: &Harness,
    states: Vec<Value>,
) -> Vec<tokio::task::JoinHandle<(Value, wire::apply_resource_change::Response)>> {
    states
        .into_iter()
        .map(|s| {
            let mut c = h.client.clone();
            tokio::spawn(async move {
                let r = c
                    .apply_resource_change(wire::apply_resource_change::Request {
                        type_name: "sshkey_key_pair".into(),
                        prior_state: dv(&s, &key_type()),
                        planned_state: dv(&Value::Null, &key_type()),
                        config: dv(&Value::Null, &key_type()),
                        ..Default::default()
                    })
                    .await
                    .expect("apply")
                    .into_inner();
                (s, r)
            })
        })
        .collect()
}

#[tokio::test]
async fn schema_lists_every_type_with_sensitive_secrets() {
    let mut client = serve_provider().await;
    let resp = client
        .get_provider_schema(wire::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    let provider = resp.provider.and_then(|p| p.block).expect("provider block");
    let attr = |b: &wire::schema::Block, n: &str| {
        b.attributes
            .iter()
            .find(|a| a.name == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n}"))
    };
    assert!(attr(&provider, "secret_key").sensitive);
    assert!(attr(&provider, "cloud").required);
    for n in [
        "region",
        "access_key",
        "endpoint",
        "max_delete_batch",
        "max_detach_batch",
        "batch_window",
        "request_timeout",
        "max_retries",
    ] {
        assert!(attr(&provider, n).optional, "{n}");
    }
    let key = resp.resource_schemas["sshkey_key_pair"]
        .block
        .clone()
        .expect("block");
    assert!(attr(&key, "private_key").sensitive && attr(&key, "private_key").computed);
    assert!(resp
        .resource_schemas
        .contains_key("sshkey_key_pair_attachment"));
    assert!(resp.data_source_schemas.contains_key("sshkey_key_pairs"));
    assert!(resp.list_resource_schemas.contains_key("sshkey_key_pair"));
    // Destroys are planned by Terraform alone: one RPC fewer per destroyed resource.
    assert!(!resp.server_capabilities.expect("caps").plan_destroy);
    let ids = client
        .get_resource_identity_schemas(wire::get_resource_identity_schemas::Request {})
        .await
        .expect("ids")
        .into_inner();
    assert_eq!(
        ids.identity_schemas["sshkey_key_pair"].identity_attributes[0].name,
        "key_id"
    );
}

#[tokio::test]
async fn delete_batch_over_limit_is_a_plan_time_error_on_the_attribute() {
    let mut client = serve_provider().await;
    let config = object(
        &provider_type(),
        &[
            ("cloud", Value::string("ecs")),
            ("max_delete_batch", Value::int(500)),
        ],
    );
    let resp = client
        .validate_provider_config(wire::validate_provider_config::Request {
            config: dv(&config, &provider_type()),
        })
        .await
        .expect("validate")
        .into_inner();
    let errs = errors(&resp.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", resp.diagnostics);
    assert_eq!(path_of(errs[0]), vec!["max_delete_batch"]);
    assert!(errs[0].detail.contains("at most 100"));
}

#[tokio::test]
async fn malformed_dynamic_value_is_a_diagnostic() {
    let mut client = serve_provider().await;
    let resp = client
        .validate_resource_config(wire::validate_resource_config::Request {
            type_name: "sshkey_key_pair".into(),
            config: Some(wire::DynamicValue {
                msgpack: vec![0x81, 0xa4, b'n', b'a', b'm', b'e', 0x07],
                json: vec![],
            }),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    assert_eq!(errors(&resp.diagnostics).len(), 1, "{:?}", resp.diagnostics);
}

#[tokio::test]
async fn invalid_names_fail_at_plan_per_cloud() {
    for (cloud, bad, good) in [
        ("ecs", "1starts-with-digit", "ok:name_1"),
        ("ens", "http://x", "Key-1"),
        ("cvm", "has-dash", "has_underscore"),
    ] {
        let mut h = Harness::start(cloud).await;
        let plan = h
            .plan(
                &key_type(),
                "sshkey_key_pair",
                &Value::Null,
                &object(&key_type(), &[("name", Value::string(bad))]),
            )
            .await;
        let errs = errors(&plan.diagnostics);
        assert_eq!(errs.len(), 1, "{cloud}: {:?}", plan.diagnostics);
        assert_eq!(path_of(errs[0]), vec!["name"], "{cloud}");
        let plan = h
            .plan(
                &key_type(),
                "sshkey_key_pair",
                &Value::Null,
                &object(&key_type(), &[("name", Value::string(good))]),
            )
            .await;
        assert!(
            errors(&plan.diagnostics).is_empty(),
            "{cloud}: {:?}",
            plan.diagnostics
        );
        h.emu.shutdown().await;
    }
}

#[tokio::test]
async fn create_read_import_and_drift() {
    let mut h = Harness::start("cvm").await;
    let state = h.create_key("alpha").await;
    let key_id = state
        .attr("key_id")
        .and_then(Value::as_str)
        .expect("key_id")
        .to_string();
    assert!(key_id.starts_with("skey-"), "{key_id}");
    assert!(state
        .attr("private_key")
        .and_then(Value::as_str)
        .is_some_and(|p| p.contains("PRIVATE KEY")));
    assert_eq!(state.attr("detach_on_destroy"), Some(&Value::Bool(false)));

    let imported = h
        .client
        .import_resource_state(wire::import_resource_state::Request {
            type_name: "sshkey_key_pair".into(),
            id: key_id.clone(),
            ..Default::default()
        })
        .await
        .expect("import")
        .into_inner();
    assert!(
        errors(&imported.diagnostics).is_empty(),
        "{:?}",
        imported.diagnostics
    );
    let got = undv(&imported.imported_resources[0].state, &key_type());
    assert_eq!(got.attr("name"), Some(&Value::string("alpha")));
    assert!(imported.imported_resources[0].identity.is_some());

    // Deleted outside Terraform: Read drops it from state.
    let read = h
        .client
        .read_resource(wire::read_resource::Request {
            type_name: "sshkey_key_pair".into(),
            current_state: dv(&state, &key_type()),
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert!(!undv(&read.new_state, &key_type()).is_null());
    let destroyed = h
        .apply(
            &key_type(),
            "sshkey_key_pair",
            &state,
            &Value::Null,
            &Value::Null,
        )
        .await;
    assert!(
        errors(&destroyed.diagnostics).is_empty(),
        "{:?}",
        destroyed.diagnostics
    );
    let read = h
        .client
        .read_resource(wire::read_resource::Request {
            type_name: "sshkey_key_pair".into(),
            current_state: dv(&state, &key_type()),
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert!(undv(&read.new_state, &key_type()).is_null());
}

#[tokio::test]
async fn concurrent_deletes_are_batched_on_ecs_and_cvm() {
    for cloud in ["ecs", "cvm"] {
        let mut h = Harness::start(cloud).await;
        let mut states = Vec::new();
        for i in 0..250 {
            states.push(h.create_key(&format!("batch_{i:03}")).await);
        }
        for t in destroy_concurrently(&h, states) {
            let (_, r) = t.await.expect("join");
            assert!(
                errors(&r.diagnostics).is_empty(),
                "{cloud}: {:?}",
                r.diagnostics
            );
            assert!(undv(&r.new_state, &key_type()).is_null());
        }
        let deletes = h.calls("DeleteKeyPairs").await.len();
        assert!(
            deletes <= 4,
            "{cloud}: {deletes} DeleteKeyPairs calls for 250 keys"
        );
        let state = h.admin_get("state").await;
        let left: usize = state[cloud]
            .as_object()
            .map(|r| {
                r.values()
                    .map(|x| x["keys"].as_array().map_or(0, Vec::len))
                    .sum()
            })
            .unwrap_or(0);
        assert_eq!(left, 0, "{cloud}: keys left {state}");
        h.emu.shutdown().await;
    }
}

#[tokio::test]
async fn ecs_reject_mode_fails_only_the_bound_keys() {
    let mut h = Harness::start("ecs").await;
    let mut states = Vec::new();
    for i in 0..50 {
        states.push(h.create_key(&format!("rej_{i:02}")).await);
    }
    h.admin_post(
        "instances",
        serde_json::json!({"cloud": ECS.name(), "region": ECS.region, "instances":[
            {"id":"i-hold1","os":"linux","status":"Running","keys":["rej_03"]},
            {"id":"i-hold2","os":"linux","status":"Running","keys":["rej_17"]},
            {"id":"i-hold3","os":"linux","status":"Running","keys":["rej_42"]}]}),
    )
    .await;
    let mut failed = Vec::new();
    for t in destroy_concurrently(&h, states) {
        let (prior, r) = t.await.expect("join");
        let name = prior
            .attr("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let errs = errors(&r.diagnostics);
        if errs.is_empty() {
            assert!(undv(&r.new_state, &key_type()).is_null(), "{name}");
        } else {
            assert!(
                !undv(&r.new_state, &key_type()).is_null(),
                "{name} must stay in state"
            );
            let text = format!("{} {}", errs[0].summary, errs[0].detail);
            assert!(
                text.contains("i-hold"),
                "{name}: error must name the instance: {text}"
            );
            failed.push(name);
        }
    }
    failed.sort();
    assert_eq!(failed, vec!["rej_03", "rej_17", "rej_42"]);
}

#[tokio::test]
async fn upgrade_resource_state_reads_json_of_the_current_schema() {
    let mut client = serve_provider().await;
    let raw = br#"{"name":"k","key_id":"k","fingerprint":"aa","created_at":null,"private_key":null,"public_key":null,"detach_on_destroy":false,"tags":null,"resource_group_id":null,"project_id":null,"dropped_attr":1}"#;
    let resp = client
        .upgrade_resource_state(wire::upgrade_resource_state::Request {
            type_name: "sshkey_key_pair".into(),
            version: 0,
            raw_state: Some(wire::RawState {
                json: raw.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("upgrade")
        .into_inner();
    assert!(
        errors(&resp.diagnostics).is_empty(),
        "{:?}",
        resp.diagnostics
    );
    let v = undv(&resp.upgraded_state, &key_type());
    assert_eq!(v.attr("name"), Some(&Value::string("k")));
    let newer = client
        .upgrade_resource_state(wire::upgrade_resource_state::Request {
            type_name: "sshkey_key_pair".into(),
            version: 9,
            raw_state: Some(wire::RawState {
                json: raw.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("upgrade")
        .into_inner();
    assert_eq!(errors(&newer.diagnostics).len(), 1);
}

async fn attach(h: &mut Harness, instances: &[String]) -> Value {
    let set = Value::Set(instances.iter().map(Value::string).collect());
    let cfg = object(
        &attachment_type(),
        &[
            ("key_pair_name", Value::string("team")),
            ("instance_ids", set),
        ],
    );
    h.create(&attachment_type(), "sshkey_key_pair_attachment", cfg)
        .await
}

#[tokio::test]
async fn attachment_update_detaches_and_attaches_only_the_difference() {
    let mut h = Harness::start("ecs").await;
    h.create_key("team").await;
    let all: Vec<String> = (0..125).map(|i| format!("i-vm{i:03}")).collect();
    let instances: Vec<Json> = all
        .iter()
        .map(|id| serde_json::json!({"id": id, "os": "linux", "status": "Running"}))
        .collect();
    h.admin_post(
        "instances",
        serde_json::json!({"cloud": ECS.name(), "region": ECS.region, "instances": instances}),
    )
    .await;
    let first: Vec<String> = all[..120].to_vec();
    let state = attach(&mut h, &first).await;
    assert_eq!(
        state
            .attr("instance_ids")
            .and_then(Value::elements)
            .map(<[Value]>::len),
        Some(120)
    );
    assert_eq!(
        h.calls("AttachKeyPair").await.len(),
        3,
        "120 = 50 + 50 + 20"
    );

    // Keep 10, add 5: detach 110 (50+50+10), attach 5 (1 call).
    let next: Vec<String> = all[110..125].to_vec();
    let cfg = object(
        &attachment_type(),
        &[
            ("key_pair_name", Value::string("team")),
            (
                "instance_ids",
                Value::Set(next.iter().map(Value::string).collect()),
            ),
        ],
    );
    let plan = h
        .plan(
            &attachment_type(),
            "sshkey_key_pair_attachment",
            &state,
            &cfg,
        )
        .await;
    assert!(
        errors(&plan.diagnostics).is_empty(),
        "{:?}",
        plan.diagnostics
    );
    assert!(
        plan.requires_replace.is_empty(),
        "must be an in-place update"
    );
    let planned = undv(&plan.planned_state, &attachment_type());
    let applied = h
        .apply(
            &attachment_type(),
            "sshkey_key_pair_attachment",
            &state,
            &planned,
            &cfg,
        )
        .await;
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    let detaches: Vec<usize> = h
        .calls("DetachKeyPair")
        .await
        .iter()
        .map(|c| {
            serde_json::from_str::<Vec<String>>(c["params"]["InstanceIds"].as_str().unwrap_or("[]"))
                .map_or(0, |v| v.len())
        })
        .collect();
    let mut sorted = detaches.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![10, 50, 50]);
    assert_eq!(h.calls("AttachKeyPair").await.len(), 4);
    let now = undv(&applied.new_state, &attachment_type());
    assert_eq!(
        now.attr("instance_ids"),
        Some(&Value::Set(next.iter().map(Value::string).collect()))
    );
}

#[tokio::test]
async fn windows_instance_fails_alone_and_stays_in_state() {
    let mut h = Harness::start("ecs").await;
    h.create_key("team").await;
    let mut instances: Vec<Json> = (0..59).map(|i| serde_json::json!({"id": format!("i-lin{i:02}"), "os": "linux", "status": "Running"})).collect();
    instances.push(serde_json::json!({"id": "i-win", "os": "windows", "status": "Running"}));
    h.admin_post(
        "instances",
        serde_json::json!({"cloud": ECS.name(), "region": ECS.region, "instances": instances}),
    )
    .await;
    // Bind all 60 out of band (a Windows instance cannot be attached through the API).
    let ids: Vec<String> = (0..59)
        .map(|i| format!("i-lin{i:02}"))
        .chain(["i-win".to_string()])
        .collect();
    let bound: Vec<Json> = ids
        .iter()
        .map(|id| {
            let os = if id == "i-win" { "windows" } else { "linux" };
            serde_json::json!({"id": id, "os": os, "status": "Running", "keys": ["team"]})
        })
        .collect();
    h.admin_post(
        "instances",
        serde_json::json!({"cloud": ECS.name(), "region": ECS.region, "instances": bound}),
    )
    .await;
    let state = object(
        &attachment_type(),
        &[
            ("id", Value::string("team")),
            ("key_pair_name", Value::string("team")),
            ("key_id", Value::string("team")),
            (
                "instance_ids",
                Value::Set(ids.iter().map(Value::string).collect()),
            ),
            ("reboot", Value::Bool(false)),
            ("force_stop", Value::Bool(false)),
        ],
    );
    let r = h
        .apply(
            &attachment_type(),
            "sshkey_key_pair_attachment",
            &state,
            &Value::Null,
            &Value::Null,
        )
        .await;
    let errs = errors(&r.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", r.diagnostics);
    assert!(format!("{} {}", errs[0].summary, errs[0].detail).contains("i-win"));
    let left = undv(&r.new_state, &attachment_type());
    assert_eq!(
        left.attr("instance_ids"),
        Some(&Value::Set(vec![Value::string("i-win")]))
    );
}

#[tokio::test]
async fn empty_instance_set_and_bad_ids_are_rejected() {
    let mut h = Harness::start("cvm").await;
    let cfg = object(
        &attachment_type(),
        &[
            ("key_id", Value::string("skey-abcdefgh")),
            ("instance_ids", Value::Set(vec![Value::string("i-123")])),
        ],
    );
    let plan = h
        .plan(
            &attachment_type(),
            "sshkey_key_pair_attachment",
            &Value::Null,
            &cfg,
        )
        .await;
    let errs = errors(&plan.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", plan.diagnostics);
    assert_eq!(path_of(errs[0]), vec!["instance_ids"]);
    let empty = object(
        &attachment_type(),
        &[
            ("key_id", Value::string("skey-abcdefgh")),
            ("instance_ids", Value::Set(vec![])),
        ],
    );
    let resp = h
        .client
        .validate_resource_config(wire::validate_resource_config::Request {
            type_name: "sshkey_key_pair_attachment".into(),
            config: dv(&empty, &attachment_type()),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    assert_eq!(errors(&resp.diagnostics).len(), 1);
    let _ = AttributePath(vec![PathStep::Attribute("x".into())]);
}

#[tokio::test]
async fn replacing_a_key_with_the_same_name_explains_create_before_destroy_only_when_it_fails() {
    let mut h = Harness::start("ecs").await;
    let ed_a =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGj9dLQfZZgk2XbS0aHgG4V6nN3Q5VjS8yEo0x7Rr1mN a@x";
    let ed_b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let cfg = |k: &str| {
        object(
            &key_type(),
            &[
                ("name", Value::string("same")),
                ("public_key", Value::string(k)),
            ],
        )
    };
    let state = h.create(&key_type(), "sshkey_key_pair", cfg(ed_a)).await;
    assert!(
        state.attr("private_key").is_some_and(Value::is_null),
        "imported keys have no private key"
    );

    // Only the comment changes: no replacement, no warning.
    let cosmetic = h
        .plan(
            &key_type(),
            "sshkey_key_pair",
            &state,
            &cfg(&ed_a.replace("a@x", "other comment")),
        )
        .await;
    assert!(cosmetic.requires_replace.is_empty());
    assert!(
        cosmetic.diagnostics.is_empty(),
        "{:?}",
        cosmetic.diagnostics
    );

    // A different key with the same name: replacement, and no warning (the provider cannot
    // see create_before_destroy, the only case where the name matters).
    let plan = h
        .plan(&key_type(), "sshkey_key_pair", &state, &cfg(ed_b))
        .await;
    assert_eq!(plan.requires_replace.len(), 1);
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);

    // Created before the old one is deleted (create_before_destroy): the error says why.
    let planned = undv(
        &h.plan(&key_type(), "sshkey_key_pair", &Value::Null, &cfg(ed_b))
            .await
            .planned_state,
        &key_type(),
    );
    let created = h
        .apply(
            &key_type(),
            "sshkey_key_pair",
            &Value::Null,
            &planned,
            &cfg(ed_b),
        )
        .await;
    let errs = errors(&created.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", created.diagnostics);
    assert_eq!(path_of(errs[0]), vec!["name"]);
    assert!(
        errs[0].detail.contains("create_before_destroy"),
        "{}",
        errs[0].detail
    );
}

#[tokio::test]
async fn reboot_and_force_stop_are_checked_per_cloud_and_reboot_changed_instances() {
    let mut h = Harness::start("ecs").await;
    h.create_key("team").await;
    h.admin_post("instances", serde_json::json!({"cloud": ECS.name(), "region": ECS.region, "instances":[
        {"id":"i-r1","os":"linux","status":"Running"},{"id":"i-r2","os":"linux","status":"Running"}]})).await;
    let ids = Value::Set(vec![Value::string("i-r1"), Value::string("i-r2")]);
    let bad = object(
        &attachment_type(),
        &[
            ("key_pair_name", Value::string("team")),
            ("instance_ids", ids.clone()),
            ("force_stop", Value::Bool(true)),
        ],
    );
    let plan = h
        .plan(
            &attachment_type(),
            "sshkey_key_pair_attachment",
            &Value::Null,
            &bad,
        )
        .await;
    let errs = errors(&plan.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", plan.diagnostics);
    assert_eq!(path_of(errs[0]), vec!["force_stop"]);

    let cfg = object(
        &attachment_type(),
        &[
            ("key_pair_name", Value::string("team")),
            ("instance_ids", ids),
            ("reboot", Value::Bool(true)),
        ],
    );
    h.create(&attachment_type(), "sshkey_key_pair_attachment", cfg)
        .await;
    let state = h.admin_get("state").await;
    let reboots: Vec<i64> = state[ECS.name()][ECS.region]["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| i["reboots"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(reboots, vec![1, 1], "{state}");
}

#[tokio::test]
async fn stop_provider_lets_in_flight_deletes_finish_and_cancels_queued_ones() {
    let mut h = Harness::start("ecs").await;
    let mut states = Vec::new();
    for i in 0..150 {
        states.push(h.create_key(&format!("stop_{i:03}")).await);
    }
    // The first batch (100 keys) stays in flight for a second.
    h.admin_post(
        "faults",
        serde_json::json!({"action":"DeleteKeyPairs","kind":"latency","count":1,"latency_ms":1500}),
    )
    .await;
    let tasks = destroy_concurrently(&h, states);
    // The first batch leaves after the gather window (250 ms) and is held 1.5 s by the
    // emulator: stop while it is in flight and the other 50 wait in the queue.
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    h.client
        .stop_provider(wire::stop_provider::Request {})
        .await
        .expect("stop");
    let (mut deleted, mut cancelled) = (0, 0);
    for t in tasks {
        let (_, r) = t.await.expect("join");
        let gone = undv(&r.new_state, &key_type()).is_null();
        if gone {
            assert!(errors(&r.diagnostics).is_empty());
            deleted += 1;
        } else {
            let text = format!("{:?}", r.diagnostics);
            assert!(
                text.contains("stopping") || text.contains("cancel"),
                "{text}"
            );
            cancelled += 1;
        }
    }
    assert_eq!(deleted + cancelled, 150);
    assert_eq!(deleted, 100, "the batch in flight finishes");
    let state = h.admin_get("state").await;
    let left = state[ECS.name()][ECS.region]["keys"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        left, cancelled,
        "every key kept in state still exists, every key dropped is gone"
    );
}

/// A CreateKeyPair whose answer is lost after the cloud committed it: the retry hears "already
/// exists" and the private key is gone for good. The key must not be left in the cloud behind
/// Terraform's back: the provider reports an error and returns the key as state (Terraform
/// records it tainted, and the next apply replaces it with a key whose private half it has).
#[tokio::test]
async fn generated_key_whose_create_answer_is_lost_stays_tracked() {
    for cloud in ["ecs", "cvm"] {
        let mut h = Harness::start(cloud).await;
        h.admin_post(
            "faults",
            serde_json::json!({"action":"CreateKeyPair","kind":"drop_after_commit","count":1}),
        )
        .await;
        let ty = key_type();
        let config = object(&ty, &[("name", Value::string("lost_answer"))]);
        let plan = h.plan(&ty, "sshkey_key_pair", &Value::Null, &config).await;
        let planned = undv(&plan.planned_state, &ty);
        let applied = h
            .apply(&ty, "sshkey_key_pair", &Value::Null, &planned, &config)
            .await;
        let text = format!("{:?}", applied.diagnostics);
        assert!(
            !errors(&applied.diagnostics).is_empty() && text.contains("private key"),
            "{cloud}: the lost private key is an error: {text}"
        );
        let state = undv(&applied.new_state, &ty);
        let cloud_keys = h.admin_get("state").await;
        let region = clouds::named(cloud).key_region();
        let in_cloud = cloud_keys[cloud][region]["keys"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(in_cloud.len(), 1, "{cloud}: the first attempt committed");
        assert_eq!(
            state.attr("key_id").and_then(Value::as_str),
            in_cloud[0]["id"].as_str(),
            "{cloud}: the key in the cloud is in state, not orphaned"
        );
        assert!(
            state.attr("private_key").is_some_and(Value::is_null),
            "{cloud}: no private key is claimed"
        );
        // Destroying the tracked key removes it from the cloud.
        let (_, r) = destroy_concurrently(&h, vec![state])
            .pop()
            .expect("one task")
            .await
            .expect("join");
        assert!(errors(&r.diagnostics).is_empty(), "{:?}", r.diagnostics);
        let after = h.admin_get("state").await;
        assert!(
            after[cloud][region]["keys"]
                .as_array()
                .is_none_or(Vec::is_empty),
            "{cloud}: nothing orphaned"
        );
    }
}

/// The same lost answer when a key of that name existed long before the create was sent: that
/// key cannot be ours, so it is neither adopted (a later destroy would delete someone else's
/// key) nor touched.
#[tokio::test]
async fn lost_create_answer_never_adopts_an_older_key() {
    let mut h = Harness::start("ecs").await;
    h.create_key("old_key").await;
    // Age the existing key beyond any clock skew the cloud accepts.
    {
        let mut inner = h.emu.shared().lock();
        for k in inner.store.keys.iter_mut() {
            k.creation_time = "2020-01-01T00:00:00Z".into();
        }
    }
    h.admin_post(
        "faults",
        serde_json::json!({"action":"CreateKeyPair","kind":"server_error","count":1}),
    )
    .await;
    let ty = key_type();
    let config = object(&ty, &[("name", Value::string("old_key"))]);
    let plan = h.plan(&ty, "sshkey_key_pair", &Value::Null, &config).await;
    let planned = undv(&plan.planned_state, &ty);
    let applied = h
        .apply(&ty, "sshkey_key_pair", &Value::Null, &planned, &config)
        .await;
    assert!(!errors(&applied.diagnostics).is_empty());
    assert!(
        undv(&applied.new_state, &ty).is_null(),
        "an older key of the same name is not adopted"
    );
    let text = format!("{:?}", applied.diagnostics);
    assert!(text.contains("already exists"), "{text}");
}

/// Seeds `n` CVM keys (`seed_0000`, ...) straight into the emulator's store, and returns the
/// states Terraform would hold for them.
async fn seed_cvm_keys(h: &Harness, n: usize) -> Vec<Value> {
    let keys: Vec<Json> = (0..n)
        .map(|i| {
            serde_json::json!({
                "cloud": CVM.name(), "region": CVM.region,
                "id": format!("skey-s{i:07}"), "name": format!("seed_{i:04}"),
                "fingerprint": "", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7",
                "creation_time": "2026-01-01T00:00:00Z",
            })
        })
        .collect();
    h.admin_post(
        "snapshot",
        serde_json::json!({"keys": keys, "instances": []}),
    )
    .await;
    (0..n)
        .map(|i| {
            object(
                &key_type(),
                &[
                    ("name", Value::string(format!("seed_{i:04}"))),
                    ("key_id", Value::string(format!("skey-s{i:07}"))),
                    ("detach_on_destroy", Value::Bool(false)),
                ],
            )
        })
        .collect()
}

/// Reads every state the way Terraform refreshes: `parallelism` ReadResource calls at a time.
async fn refresh_all(
    h: &Harness,
    states: &[Value],
    parallelism: usize,
) -> Vec<wire::read_resource::Response> {
    let slots = Arc::new(tokio::sync::Semaphore::new(parallelism));
    let mut tasks = Vec::new();
    for s in states {
        let permit = slots.clone().acquire_owned().await.expect("permit");
        let mut c = h.client.clone();
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let r = c
                .read_resource(wire::read_resource::Request {
                    type_name: "sshkey_key_pair".into(),
                    current_state: dv(&s, &key_type()),
                    ..Default::default()
                })
                .await
                .expect("read")
                .into_inner();
            drop(permit);
            r
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn refresh_reads_in_pages_and_only_a_lookup_removes_a_key() {
    let h = Harness::start("cvm").await;
    let mut states = seed_cvm_keys(&h, 250).await;
    // Known to Terraform, gone from the cloud.
    states.push(object(
        &key_type(),
        &[
            ("name", Value::string("gone_key")),
            ("key_id", Value::string("skey-gone0001")),
        ],
    ));
    let answers = refresh_all(&h, &states, 10).await;
    for (s, r) in states.iter().zip(&answers) {
        assert!(errors(&r.diagnostics).is_empty(), "{:?}", r.diagnostics);
        let fresh = undv(&r.new_state, &key_type());
        if s.attr("name") == Some(&Value::string("gone_key")) {
            assert!(fresh.is_null(), "a key that is gone leaves the state");
        } else {
            assert_eq!(fresh.attr("name"), s.attr("name"));
        }
    }
    let describes = h.calls("DescribeKeyPairs").await;
    // 3 pages of 100, a lookup for the first read and one confirming the gone key.
    assert!(
        describes.len() <= 6,
        "{} DescribeKeyPairs calls",
        describes.len()
    );
    let lookup_of_gone = describes.iter().any(|c| {
        c["params"]["KeyIds"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|id| id == "skey-gone0001"))
    });
    assert!(
        lookup_of_gone,
        "absence from the pages was confirmed by a lookup"
    );

    // max_read_batch = 1: one call per read, as the official provider makes.
    let one = Harness::start_with(
        "cvm",
        EmulatorConfig::default(),
        &[(
            "max_read_batch",
            Value::Number(sshkey::value::Number::Int(1)),
        )],
    )
    .await;
    let states = seed_cvm_keys(&one, 30).await;
    refresh_all(&one, &states, 10).await;
    assert_eq!(one.calls("DescribeKeyPairs").await.len(), 30);
}

#[tokio::test]
async fn a_failing_refresh_keeps_every_key_in_state() {
    // No retries, so the failure comes back at once.
    let h = Harness::start_with(
        "cvm",
        EmulatorConfig::default(),
        &[("max_retries", Value::Number(sshkey::value::Number::Int(0)))],
    )
    .await;
    let states = seed_cvm_keys(&h, 40).await;
    h.admin_post(
        "faults",
        serde_json::json!({"action": "DescribeKeyPairs", "kind": "server_error", "count": 1000}),
    )
    .await;
    let answers = refresh_all(&h, &states, 10).await;
    for (s, r) in states.iter().zip(&answers) {
        assert!(
            !errors(&r.diagnostics).is_empty(),
            "the failure is reported"
        );
        assert_eq!(
            undv(&r.new_state, &key_type()).attr("key_id"),
            s.attr("key_id"),
            "a failed read keeps the key"
        );
    }
}

/// A chunk refused as a whole: each culprit gets its own cause (a missing instance is never
/// "running Windows"), and the healthy instance is attached.
#[tokio::test]
async fn each_refused_instance_gets_its_own_cause() {
    for (cloud, region, ok, missing, windows, status) in [
        (
            ECS.name(),
            ECS.region,
            "i-okay0001",
            "i-doesnotexist",
            "i-win00001",
            ECS.bind_status(),
        ),
        (
            CVM.name(),
            CVM.region,
            "ins-bbbb2222",
            "ins-zzzz9999",
            "ins-win00001",
            CVM.bind_status(),
        ),
    ] {
        let mut h = Harness::start(cloud).await;
        h.create_key("team").await;
        // All three are fine when planned (the plan checks them); between plan and apply one
        // is deleted and one is reinstalled with Windows.
        h.admin_post(
            "instances",
            serde_json::json!({"cloud": cloud, "region": region, "instances": [
                {"id": ok, "os": "linux", "status": status},
                {"id": missing, "os": "linux", "status": status},
                {"id": windows, "os": "linux", "status": status},
            ]}),
        )
        .await;
        let ids = [ok, missing, windows];
        let cfg = object(
            &attachment_type(),
            &[
                ("key_pair_name", Value::string("team")),
                (
                    "instance_ids",
                    Value::Set(ids.iter().map(|i| Value::string(*i)).collect()),
                ),
            ],
        );
        let ty = attachment_type();
        let plan = h
            .plan(&ty, "sshkey_key_pair_attachment", &Value::Null, &cfg)
            .await;
        assert!(
            errors(&plan.diagnostics).is_empty(),
            "{:?}",
            plan.diagnostics
        );
        let planned = undv(&plan.planned_state, &ty);
        let mut store = h.admin_get("snapshot").await;
        let instances = store["instances"].as_array_mut().expect("instances");
        instances.retain(|i| i["id"] != missing);
        for i in instances.iter_mut().filter(|i| i["id"] == windows) {
            i["os"] = Json::from("windows");
        }
        h.admin_post("snapshot", store).await;
        let r = h
            .apply(
                &ty,
                "sshkey_key_pair_attachment",
                &Value::Null,
                &planned,
                &cfg,
            )
            .await;
        let texts: Vec<String> = errors(&r.diagnostics)
            .iter()
            .map(|d| format!("{} {}", d.summary, d.detail))
            .collect();
        assert_eq!(texts.len(), 2, "{cloud}: {texts:?}");
        let about = |id: &str| {
            texts
                .iter()
                .find(|t| t.contains(&format!("instance {id}")))
                .unwrap_or_else(|| panic!("{cloud}: no error about {id}: {texts:?}"))
                .clone()
        };
        let m = about(missing);
        assert!(
            m.contains("does not exist") && !m.contains("runs Windows"),
            "{cloud}: {m}"
        );
        let w = about(windows);
        assert!(
            w.contains("runs Windows") && !w.contains("does not exist"),
            "{cloud}: {w}"
        );
        assert!(
            !texts.iter().any(|t| t.contains(&format!("instance {ok}"))),
            "{cloud}: {texts:?}"
        );
        let state = h.admin_get("state").await;
        let bound: Vec<String> = state[cloud][region]["instances"]
            .as_array()
            .expect("instances")
            .iter()
            .filter(|i| i["keys"].as_array().is_some_and(|k| !k.is_empty()))
            .map(|i| i["id"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(
            bound,
            vec![ok.to_string()],
            "{cloud}: the healthy instance holds the key"
        );
    }
}
