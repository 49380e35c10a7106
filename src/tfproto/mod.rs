//! The tfplugin6 protocol: the generated code (private in spirit: only tests and this module use
//! it), one conversion each way between wire messages and our types, and the gRPC service that
//! adapts the protocol-free [`crate::provider::engine::Engine`].

pub(crate) mod convert;
pub(crate) mod server;

use std::sync::Arc;

/// The generated code, in a module of its own so that [`crate::testing`] can lend it to tests
/// while the rest of the crate sees `wire`.
pub(crate) mod generated {
    /// Generated from `proto/tfplugin6.proto`; tests that act as Terraform reach it through
    /// [`crate::testing`].
    #[allow(clippy::all, clippy::pedantic)]
    pub mod wire {
        tonic::include_proto!("tfplugin6");
    }
}
pub(crate) use generated::wire;

/// The provider's gRPC routes, ready for [`crate::plugin::serve`].
pub fn routes() -> tonic::service::Routes {
    let engine = Arc::new(crate::provider::engine());
    tonic::service::Routes::new(wire::provider_server::ProviderServer::new(
        server::ProviderService::new(engine),
    ))
}
