//! The tfplugin6 protocol: the generated code and the adapter to the provider engine.

/// Generated from `proto/tfplugin6.proto`. Public only so integration tests can be clients.
#[doc(hidden)]
#[allow(clippy::all, clippy::pedantic)]
pub mod wire {
    tonic::include_proto!("tfplugin6");
}
