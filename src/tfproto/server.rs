//! The tfplugin6 gRPC service: a thin adapter. Each handler converts the request
//! ([`crate::tfproto::convert`]), calls the engine's method for that RPC
//! ([`crate::provider::rpc`]), and converts the answer; every decision is the engine's. Every
//! RPC goes through [`rpc`], which gives it the same logging and timing.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::Stream;
use tonic::{Request, Response, Status};

use crate::provider::engine::Engine;
use crate::provider::rpc::ConfigKind;
use crate::tfproto::convert::*;
use crate::tfproto::wire;
use crate::tfproto::wire::provider_server::Provider;

pub(crate) struct ProviderService {
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

type EventStream = Pin<Box<dyn Stream<Item = Result<wire::list_resource::Event, Status>> + Send>>;

#[tonic::async_trait]
impl Provider for ProviderService {
    async fn get_metadata(
        &self,
        _req: Request<wire::get_metadata::Request>,
    ) -> Result<Response<wire::get_metadata::Response>, Status> {
        rpc("GetMetadata", async {
            metadata_to_wire(&self.engine.schemas(), self.engine.plans_destroy())
        })
        .await
    }

    async fn get_provider_schema(
        &self,
        _req: Request<wire::get_provider_schema::Request>,
    ) -> Result<Response<wire::get_provider_schema::Response>, Status> {
        rpc("GetProviderSchema", async {
            provider_schema_to_wire(&self.engine.schemas(), self.engine.plans_destroy())
        })
        .await
    }

    async fn get_resource_identity_schemas(
        &self,
        _req: Request<wire::get_resource_identity_schemas::Request>,
    ) -> Result<Response<wire::get_resource_identity_schemas::Response>, Status> {
        rpc("GetResourceIdentitySchemas", async {
            identity_schemas_to_wire(&self.engine.schemas())
        })
        .await
    }

    async fn validate_provider_config(
        &self,
        req: Request<wire::validate_provider_config::Request>,
    ) -> Result<Response<wire::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        rpc("ValidateProviderConfig", async {
            let req = validate_from_wire(ConfigKind::Provider, String::new(), req.config);
            validate_provider_to_wire(self.engine.validate(req))
        })
        .await
    }

    async fn validate_resource_config(
        &self,
        req: Request<wire::validate_resource_config::Request>,
    ) -> Result<Response<wire::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        rpc("ValidateResourceConfig", async {
            let req = validate_from_wire(ConfigKind::Resource, req.type_name, req.config);
            validate_resource_to_wire(self.engine.validate(req))
        })
        .await
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<wire::validate_data_resource_config::Request>,
    ) -> Result<Response<wire::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        rpc("ValidateDataResourceConfig", async {
            let req = validate_from_wire(ConfigKind::DataSource, req.type_name, req.config);
            validate_data_to_wire(self.engine.validate(req))
        })
        .await
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<wire::validate_list_resource_config::Request>,
    ) -> Result<Response<wire::validate_list_resource_config::Response>, Status> {
        let req = req.into_inner();
        rpc("ValidateListResourceConfig", async {
            let req = validate_from_wire(ConfigKind::List, req.type_name, req.config);
            validate_list_to_wire(self.engine.validate(req))
        })
        .await
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<wire::upgrade_resource_state::Request>,
    ) -> Result<Response<wire::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        rpc("UpgradeResourceState", async {
            upgrade_state_to_wire(self.engine.upgrade_state(upgrade_state_from_wire(req)))
        })
        .await
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<wire::upgrade_resource_identity::Request>,
    ) -> Result<Response<wire::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        rpc("UpgradeResourceIdentity", async {
            upgrade_identity_to_wire(
                self.engine
                    .upgrade_identity(upgrade_identity_from_wire(req)),
            )
        })
        .await
    }

    async fn configure_provider(
        &self,
        req: Request<wire::configure_provider::Request>,
    ) -> Result<Response<wire::configure_provider::Response>, Status> {
        let req = req.into_inner();
        rpc("ConfigureProvider", async {
            configure_to_wire(
                self.engine
                    .configure_provider(configure_from_wire(req))
                    .await,
            )
        })
        .await
    }

    async fn read_resource(
        &self,
        req: Request<wire::read_resource::Request>,
    ) -> Result<Response<wire::read_resource::Response>, Status> {
        let req = req.into_inner();
        rpc("ReadResource", async {
            read_to_wire(self.engine.read_resource(read_from_wire(req)).await)
        })
        .await
    }

    async fn plan_resource_change(
        &self,
        req: Request<wire::plan_resource_change::Request>,
    ) -> Result<Response<wire::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        rpc("PlanResourceChange", async {
            plan_to_wire(self.engine.plan_resource_change(plan_from_wire(req)).await)
        })
        .await
    }

    async fn apply_resource_change(
        &self,
        req: Request<wire::apply_resource_change::Request>,
    ) -> Result<Response<wire::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        rpc("ApplyResourceChange", async {
            apply_to_wire(
                self.engine
                    .apply_resource_change(apply_from_wire(req))
                    .await,
            )
        })
        .await
    }

    async fn import_resource_state(
        &self,
        req: Request<wire::import_resource_state::Request>,
    ) -> Result<Response<wire::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        rpc("ImportResourceState", async {
            import_to_wire(
                self.engine
                    .import_resource_state(import_from_wire(req))
                    .await,
            )
        })
        .await
    }

    async fn move_resource_state(
        &self,
        req: Request<wire::move_resource_state::Request>,
    ) -> Result<Response<wire::move_resource_state::Response>, Status> {
        let req = req.into_inner();
        rpc("MoveResourceState", async {
            move_to_wire(self.engine.move_resource_state(move_from_wire(req)))
        })
        .await
    }

    async fn read_data_source(
        &self,
        req: Request<wire::read_data_source::Request>,
    ) -> Result<Response<wire::read_data_source::Response>, Status> {
        let req = req.into_inner();
        rpc("ReadDataSource", async {
            read_data_to_wire(self.engine.read_data(read_data_from_wire(req)).await)
        })
        .await
    }

    type ListResourceStream = EventStream;

    async fn list_resource(
        &self,
        req: Request<wire::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let req = req.into_inner();
        let events = rpc("ListResource", async {
            self.engine
                .list_resource_events(list_from_wire(req))
                .await
                .into_iter()
                .map(list_event_to_wire)
                .collect::<Vec<_>>()
        })
        .await?
        .into_inner();
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
            call_function_to_wire(self.engine.call_function(&name))
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
