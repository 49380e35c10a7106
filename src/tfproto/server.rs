//! The tfplugin6 gRPC service: a thin adapter that decodes each request with the schemas the
//! engine owns, calls the engine, and encodes the answer. Every RPC goes through [`rpc`], which
//! gives it the same logging and timing.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::Stream;
use tonic::{Request, Response, Status};

use crate::provider::diag::Diagnostics;
use crate::provider::engine::Engine;
use crate::provider::resource::Private;
use crate::schema::Schema;
use crate::tfproto::convert::*;
use crate::tfproto::wire;
use crate::tfproto::wire::provider_server::Provider;
use crate::value::{self, Type, Value};

pub struct ProviderService {
    engine: Arc<Engine>,
}

impl ProviderService {
    pub fn new(engine: Arc<Engine>) -> Self {
        ProviderService { engine }
    }
}

/// Runs one RPC handler with the logging every RPC gets.
async fn rpc<T>(
    name: &'static str,
    work: impl std::future::Future<Output = T>,
) -> Result<Response<T>, Status> {
    let started = Instant::now();
    tracing::debug!(rpc = name, "request");
    let out = work.await;
    tracing::debug!(
        rpc = name,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "response"
    );
    Ok(Response::new(out))
}

fn server_capabilities() -> wire::ServerCapabilities {
    wire::ServerCapabilities {
        // No plan_destroy: our resources have nothing to add to a destroy plan, and asking
        // would cost Terraform one more RPC per destroyed resource (1000 on a large destroy).
        plan_destroy: false,
        ..Default::default()
    }
}

impl ProviderService {
    fn resource_type(&self, type_name: &str, diags: &mut Diagnostics) -> Option<Type> {
        match self.engine.resource(type_name) {
            Some(r) => Some(r.schema().value_type()),
            None => {
                diags.error(
                    "Unknown resource type",
                    format!("This provider has no resource type {type_name:?}."),
                );
                None
            }
        }
    }

    /// Decodes a configuration with its type's schema and runs `check` on it. Without a schema
    /// (an unknown type name) `check` runs on null and reports the unknown type itself.
    fn validate_config(
        &self,
        schema: Option<&Schema>,
        config: Option<&wire::DynamicValue>,
        what: &str,
        check: impl FnOnce(&Value, &mut Diagnostics),
    ) -> Vec<wire::Diagnostic> {
        let mut diags = Diagnostics::new();
        match schema {
            Some(schema) => {
                if let Some(v) = dynamic_from_wire(config, &schema.value_type(), what, &mut diags) {
                    check(&v, &mut diags);
                }
            }
            None => check(&Value::Null, &mut diags),
        }
        diagnostics_to_wire(&diags)
    }

    fn identity_type(&self, type_name: &str) -> Option<Type> {
        self.engine
            .resource(type_name)
            .and_then(|r| r.identity_schema().map(|s| s.value_type()))
    }

    fn identity_for(
        &self,
        type_name: &str,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<wire::ResourceIdentityData> {
        let r = self.engine.resource(type_name)?;
        let ty = self.identity_type(type_name)?;
        if state.is_null() || !state.is_fully_known() {
            return None;
        }
        let identity = r.identity(state)?;
        identity_to_wire(&identity, &ty, diags)
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<wire::list_resource::Event, Status>> + Send>>;

#[tonic::async_trait]
impl Provider for ProviderService {
    async fn get_metadata(
        &self,
        _req: Request<wire::get_metadata::Request>,
    ) -> Result<Response<wire::get_metadata::Response>, Status> {
        rpc("GetMetadata", async {
            wire::get_metadata::Response {
                server_capabilities: Some(server_capabilities()),
                resources: self
                    .engine
                    .resources()
                    .map(|r| wire::get_metadata::ResourceMetadata {
                        type_name: r.type_name().to_string(),
                    })
                    .collect(),
                data_sources: self
                    .engine
                    .data_sources()
                    .map(|d| wire::get_metadata::DataSourceMetadata {
                        type_name: d.type_name().to_string(),
                    })
                    .collect(),
                list_resources: self
                    .engine
                    .list_resources()
                    .map(|l| wire::get_metadata::ListResourceMetadata {
                        type_name: l.type_name().to_string(),
                    })
                    .collect(),
                ..Default::default()
            }
        })
        .await
    }

    async fn get_provider_schema(
        &self,
        _req: Request<wire::get_provider_schema::Request>,
    ) -> Result<Response<wire::get_provider_schema::Response>, Status> {
        rpc("GetProviderSchema", async {
            wire::get_provider_schema::Response {
                provider: Some(schema_to_wire(self.engine.provider_schema())),
                resource_schemas: self
                    .engine
                    .resources()
                    .map(|r| (r.type_name().to_string(), schema_to_wire(r.schema())))
                    .collect(),
                data_source_schemas: self
                    .engine
                    .data_sources()
                    .map(|d| (d.type_name().to_string(), schema_to_wire(d.schema())))
                    .collect(),
                list_resource_schemas: self
                    .engine
                    .list_resources()
                    .map(|l| (l.type_name().to_string(), schema_to_wire(l.schema())))
                    .collect(),
                server_capabilities: Some(server_capabilities()),
                ..Default::default()
            }
        })
        .await
    }

    async fn get_resource_identity_schemas(
        &self,
        _req: Request<wire::get_resource_identity_schemas::Request>,
    ) -> Result<Response<wire::get_resource_identity_schemas::Response>, Status> {
        rpc("GetResourceIdentitySchemas", async {
            wire::get_resource_identity_schemas::Response {
                identity_schemas: self
                    .engine
                    .resources()
                    .filter_map(|r| {
                        r.identity_schema()
                            .map(|s| (r.type_name().to_string(), identity_schema_to_wire(s)))
                    })
                    .collect(),
                diagnostics: Vec::new(),
            }
        })
        .await
    }

    async fn validate_provider_config(
        &self,
        req: Request<wire::validate_provider_config::Request>,
    ) -> Result<Response<wire::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        rpc("ValidateProviderConfig", async {
            let mut diags = Diagnostics::new();
            let ty = self.engine.provider_schema().value_type();
            if let Some(config) = dynamic_from_wire(
                req.config.as_ref(),
                &ty,
                "provider configuration",
                &mut diags,
            ) {
                self.engine.validate_provider_config(&config, &mut diags);
            }
            wire::validate_provider_config::Response {
                diagnostics: diagnostics_to_wire(&diags),
            }
        })
        .await
    }

    async fn validate_resource_config(
        &self,
        req: Request<wire::validate_resource_config::Request>,
    ) -> Result<Response<wire::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        rpc("ValidateResourceConfig", async {
            let schema = self.engine.resource(&req.type_name).map(|r| r.schema());
            let diagnostics = self.validate_config(
                schema,
                req.config.as_ref(),
                "resource configuration",
                |config, diags| self.engine.validate_resource(&req.type_name, config, diags),
            );
            wire::validate_resource_config::Response { diagnostics }
        })
        .await
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<wire::validate_data_resource_config::Request>,
    ) -> Result<Response<wire::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        rpc("ValidateDataResourceConfig", async {
            let schema = self.engine.data_source(&req.type_name).map(|d| d.schema());
            let diagnostics = self.validate_config(
                schema,
                req.config.as_ref(),
                "data source configuration",
                |config, diags| {
                    self.engine
                        .validate_data_source(&req.type_name, config, diags)
                },
            );
            wire::validate_data_resource_config::Response { diagnostics }
        })
        .await
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<wire::validate_list_resource_config::Request>,
    ) -> Result<Response<wire::validate_list_resource_config::Response>, Status> {
        let req = req.into_inner();
        rpc("ValidateListResourceConfig", async {
            let schema = self
                .engine
                .list_resource(&req.type_name)
                .map(|l| l.schema());
            let diagnostics = self.validate_config(
                schema,
                req.config.as_ref(),
                "list configuration",
                |config, diags| self.engine.validate_list(&req.type_name, config, diags),
            );
            wire::validate_list_resource_config::Response { diagnostics }
        })
        .await
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<wire::upgrade_resource_state::Request>,
    ) -> Result<Response<wire::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        rpc("UpgradeResourceState", async {
            let mut diags = Diagnostics::new();
            let mut upgraded = None;
            if let Some(r) = self.engine.resource(&req.type_name) {
                let schema = r.schema();
                let ty = schema.value_type();
                let raw = req.raw_state.unwrap_or_default();
                if req.version > schema.version {
                    diags.error(
                        "State written by a newer provider",
                        format!("The state of this {} has schema version {}, but this provider knows only up to {}. Upgrade the provider.", req.type_name, req.version, schema.version),
                    );
                } else if !raw.flatmap.is_empty() && raw.json.is_empty() {
                    diags.error("Unsupported legacy state", "This state is in the pre-0.12 flatmap format, which this provider never wrote.");
                } else {
                    // Same version today: attributes the current schema no longer has are
                    // dropped, new ones start null; Terraform calls this for every instance.
                    match value::json::decode_lenient(&raw.json, &ty) {
                        Ok(v) => upgraded = dynamic_to_wire(&v, &ty, &mut diags),
                        Err(e) => diags.error("Cannot read stored state", e.to_string()),
                    }
                }
            } else {
                self.resource_type(&req.type_name, &mut diags);
            }
            wire::upgrade_resource_state::Response { upgraded_state: upgraded, diagnostics: diagnostics_to_wire(&diags) }
        })
        .await
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<wire::upgrade_resource_identity::Request>,
    ) -> Result<Response<wire::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        rpc("UpgradeResourceIdentity", async {
            let mut diags = Diagnostics::new();
            let mut upgraded = None;
            match self.identity_type(&req.type_name) {
                Some(ty) => {
                    let raw = req.raw_identity.unwrap_or_default();
                    match value::json::decode_lenient(&raw.json, &ty) {
                        Ok(v) => upgraded = identity_to_wire(&v, &ty, &mut diags),
                        Err(e) => diags.error("Cannot read stored identity", e.to_string()),
                    }
                }
                None => diags.error(
                    "No identity",
                    format!("{} has no resource identity.", req.type_name),
                ),
            }
            wire::upgrade_resource_identity::Response {
                upgraded_identity: upgraded,
                diagnostics: diagnostics_to_wire(&diags),
            }
        })
        .await
    }

    async fn configure_provider(
        &self,
        req: Request<wire::configure_provider::Request>,
    ) -> Result<Response<wire::configure_provider::Response>, Status> {
        let req = req.into_inner();
        rpc("ConfigureProvider", async {
            let mut diags = Diagnostics::new();
            let ty = self.engine.provider_schema().value_type();
            if let Some(config) = dynamic_from_wire(
                req.config.as_ref(),
                &ty,
                "provider configuration",
                &mut diags,
            ) {
                self.engine.configure(&config, &mut diags).await;
            }
            wire::configure_provider::Response {
                diagnostics: diagnostics_to_wire(&diags),
            }
        })
        .await
    }

    async fn read_resource(
        &self,
        req: Request<wire::read_resource::Request>,
    ) -> Result<Response<wire::read_resource::Response>, Status> {
        let req = req.into_inner();
        rpc("ReadResource", async {
            let mut diags = Diagnostics::new();
            let mut out = wire::read_resource::Response {
                private: req.private.clone(),
                ..Default::default()
            };
            if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
                if let Some(state) =
                    dynamic_from_wire(req.current_state.as_ref(), &ty, "state", &mut diags)
                {
                    let fresh = self.engine.read(&req.type_name, state, &mut diags).await;
                    out.new_identity = self.identity_for(&req.type_name, &fresh, &mut diags);
                    out.new_state = dynamic_to_wire(&fresh, &ty, &mut diags);
                }
            }
            out.diagnostics = diagnostics_to_wire(&diags);
            out
        })
        .await
    }

    async fn plan_resource_change(
        &self,
        req: Request<wire::plan_resource_change::Request>,
    ) -> Result<Response<wire::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        rpc("PlanResourceChange", async {
            let mut diags = Diagnostics::new();
            let mut out = wire::plan_resource_change::Response::default();
            if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
                let prior =
                    dynamic_from_wire(req.prior_state.as_ref(), &ty, "prior state", &mut diags);
                let proposed = dynamic_from_wire(
                    req.proposed_new_state.as_ref(),
                    &ty,
                    "proposed state",
                    &mut diags,
                );
                let config =
                    dynamic_from_wire(req.config.as_ref(), &ty, "configuration", &mut diags);
                if let (Some(prior), Some(proposed), Some(config)) = (prior, proposed, config) {
                    let plan = self
                        .engine
                        .plan(
                            &req.type_name,
                            prior,
                            proposed,
                            config,
                            Private(req.prior_private.clone()),
                            &mut diags,
                        )
                        .await;
                    out.planned_private = plan.private.0.clone();
                    out.requires_replace = plan.requires_replace.iter().map(path_to_wire).collect();
                    out.planned_identity = if plan.is_create() || plan.is_replace() {
                        self.identity_for(&req.type_name, &plan.planned, &mut diags)
                    } else {
                        req.prior_identity
                            .clone()
                            .or_else(|| self.identity_for(&req.type_name, &plan.prior, &mut diags))
                    };
                    out.planned_state = dynamic_to_wire(&plan.planned, &ty, &mut diags);
                }
            }
            out.diagnostics = diagnostics_to_wire(&diags);
            out
        })
        .await
    }

    async fn apply_resource_change(
        &self,
        req: Request<wire::apply_resource_change::Request>,
    ) -> Result<Response<wire::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        rpc("ApplyResourceChange", async {
            let mut diags = Diagnostics::new();
            let mut out = wire::apply_resource_change::Response::default();
            if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
                let prior =
                    dynamic_from_wire(req.prior_state.as_ref(), &ty, "prior state", &mut diags);
                let planned =
                    dynamic_from_wire(req.planned_state.as_ref(), &ty, "planned state", &mut diags);
                if let (Some(prior), Some(planned)) = (prior, planned) {
                    let (new_state, private) = self
                        .engine
                        .apply(
                            &req.type_name,
                            prior,
                            planned,
                            &Private(req.planned_private.clone()),
                            &mut diags,
                        )
                        .await;
                    out.new_identity = self.identity_for(&req.type_name, &new_state, &mut diags);
                    out.new_state = dynamic_to_wire(&new_state, &ty, &mut diags);
                    out.private = private.0;
                }
            }
            out.diagnostics = diagnostics_to_wire(&diags);
            out
        })
        .await
    }

    async fn import_resource_state(
        &self,
        req: Request<wire::import_resource_state::Request>,
    ) -> Result<Response<wire::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        rpc("ImportResourceState", async {
            let mut diags = Diagnostics::new();
            let mut imported = Vec::new();
            if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
                let mut id = req.id.clone();
                if let (Some(identity), Some(id_ty), Some(r)) = (
                    req.identity.as_ref().and_then(|i| i.identity_data.as_ref()),
                    self.identity_type(&req.type_name),
                    self.engine.resource(&req.type_name),
                ) {
                    if let Some(v) =
                        dynamic_from_wire(Some(identity), &id_ty, "identity", &mut diags)
                    {
                        if let Some(from_identity) = r.import_id_from_identity(&v) {
                            id = from_identity;
                        }
                    }
                }
                for found in self.engine.import(&req.type_name, &id, &mut diags).await {
                    imported.push(wire::import_resource_state::ImportedResource {
                        type_name: req.type_name.clone(),
                        identity: self.identity_for(&req.type_name, &found.state, &mut diags),
                        state: dynamic_to_wire(&found.state, &ty, &mut diags),
                        private: Vec::new(),
                    });
                }
            }
            wire::import_resource_state::Response {
                imported_resources: imported,
                diagnostics: diagnostics_to_wire(&diags),
                ..Default::default()
            }
        })
        .await
    }

    async fn move_resource_state(
        &self,
        req: Request<wire::move_resource_state::Request>,
    ) -> Result<Response<wire::move_resource_state::Response>, Status> {
        let req = req.into_inner();
        rpc("MoveResourceState", async {
            let mut diags = Diagnostics::new();
            diags.error(
                "Moving resource state is not supported",
                format!(
                    "{} cannot be the target of a `moved` block from {}.",
                    req.target_type_name, req.source_type_name
                ),
            );
            wire::move_resource_state::Response {
                diagnostics: diagnostics_to_wire(&diags),
                ..Default::default()
            }
        })
        .await
    }

    async fn read_data_source(
        &self,
        req: Request<wire::read_data_source::Request>,
    ) -> Result<Response<wire::read_data_source::Response>, Status> {
        let req = req.into_inner();
        rpc("ReadDataSource", async {
            let mut diags = Diagnostics::new();
            let mut out = wire::read_data_source::Response::default();
            match self.engine.data_source(&req.type_name) {
                Some(ds) => {
                    let ty = ds.schema().value_type();
                    if let Some(config) = dynamic_from_wire(
                        req.config.as_ref(),
                        &ty,
                        "data source configuration",
                        &mut diags,
                    ) {
                        let state = self
                            .engine
                            .read_data_source(&req.type_name, &config, &mut diags)
                            .await;
                        out.state = dynamic_to_wire(&state, &ty, &mut diags);
                    }
                }
                None => {
                    self.engine
                        .read_data_source(&req.type_name, &Value::Null, &mut diags)
                        .await;
                }
            }
            out.diagnostics = diagnostics_to_wire(&diags);
            out
        })
        .await
    }

    type ListResourceStream = EventStream;

    async fn list_resource(
        &self,
        req: Request<wire::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let mut events = Vec::new();
        let started = Instant::now();
        let list = self.engine.list_resource(&req.type_name).cloned();
        let resource_ty = self
            .engine
            .resource(&req.type_name)
            .map(|r| r.schema().value_type());
        let identity_ty = self.identity_type(&req.type_name);
        match (list, resource_ty, identity_ty) {
            (Some(l), Some(rty), Some(ity)) => {
                let cty = l.schema().value_type();
                if let Some(config) =
                    dynamic_from_wire(req.config.as_ref(), &cty, "list configuration", &mut diags)
                {
                    let limit = usize::try_from(req.limit).unwrap_or(0);
                    for item in self
                        .engine
                        .list(&req.type_name, &config, limit, &mut diags)
                        .await
                    {
                        let mut item_diags = Diagnostics::new();
                        let identity = identity_to_wire(&item.identity, &ity, &mut item_diags);
                        let resource_object = if req.include_resource_object {
                            item.state
                                .as_ref()
                                .and_then(|s| dynamic_to_wire(s, &rty, &mut item_diags))
                        } else {
                            None
                        };
                        events.push(wire::list_resource::Event {
                            identity,
                            display_name: item.display_name,
                            resource_object,
                            diagnostic: diagnostics_to_wire(&item_diags),
                        });
                    }
                }
            }
            _ => diags.error(
                "Unknown list resource",
                format!("This provider cannot list {:?}.", req.type_name),
            ),
        }
        if diags.has_errors() || !diags.is_empty() {
            events.push(wire::list_resource::Event {
                diagnostic: diagnostics_to_wire(&diags),
                ..Default::default()
            });
        }
        tracing::debug!(
            rpc = "ListResource",
            results = events.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "response"
        );
        let stream = futures::stream::iter(events.into_iter().map(Ok));
        Ok(Response::new(Box::pin(stream) as EventStream))
    }

    async fn get_functions(
        &self,
        _req: Request<wire::get_functions::Request>,
    ) -> Result<Response<wire::get_functions::Response>, Status> {
        rpc("GetFunctions", async {
            wire::get_functions::Response::default()
        })
        .await
    }

    async fn call_function(
        &self,
        req: Request<wire::call_function::Request>,
    ) -> Result<Response<wire::call_function::Response>, Status> {
        let name = req.into_inner().name;
        rpc("CallFunction", async {
            wire::call_function::Response {
                error: Some(wire::FunctionError {
                    text: format!("This provider has no function {name:?}."),
                    function_argument: None,
                }),
                ..Default::default()
            }
        })
        .await
    }

    async fn stop_provider(
        &self,
        _req: Request<wire::stop_provider::Request>,
    ) -> Result<Response<wire::stop_provider::Response>, Status> {
        rpc("StopProvider", async {
            self.engine.stop().await;
            wire::stop_provider::Response {
                error: String::new(),
            }
        })
        .await
    }
}
