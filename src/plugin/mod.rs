//! The go-plugin transport (being built).

/// Generated from `proto/goplugin.proto`.
#[doc(hidden)]
#[allow(clippy::all, clippy::pedantic)]
pub mod wire {
    tonic::include_proto!("plugin");
}
