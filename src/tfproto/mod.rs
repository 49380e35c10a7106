//! The tfplugin6 protocol: the generated code (private in spirit: only tests and this module use
//! it), one conversion each way between wire messages and our types, and the gRPC service that
//! adapts the protocol-free [`crate::provider::engine::Engine`].

pub(crate) mod convert;
pub(crate) mod server;

use std::sync::Arc;

/// Generated from `proto/tfplugin6.proto`. Public only so integration tests can be clients.
#[doc(hidden)]
#[allow(clippy::all, clippy::pedantic)]
pub mod wire {
    tonic::include_proto!("tfplugin6");
}

/// The provider's gRPC routes, ready for [`crate::plugin::serve`].
pub fn routes() -> tonic::service::Routes {
    let engine = Arc::new(crate::provider::engine());
    tonic::service::Routes::new(wire::provider_server::ProviderServer::new(
        server::ProviderService::new(engine),
    ))
}
