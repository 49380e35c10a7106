//! `sshkey`: a Terraform/OpenTofu provider for SSH key pairs on Alibaba Cloud ECS, Alibaba Cloud
//! ENS and Tencent Cloud CVM, and an emulator of those clouds' key-pair APIs.
//!
//! The layout follows the request path from Terraform down to the cloud:
//!
//! - [`plugin`]: the go-plugin transport (handshake line, AutoMTLS, unix socket, health,
//!   controller, stdio). Knows nothing about SSH keys.
//! - [`tfproto`]: the generated tfplugin6 code (private to the crate), one conversion each way
//!   per message, and the gRPC service: a thin adapter that converts, calls the engine, and
//!   converts back.
//! - [`value`]: typed values with explicit null and unknown, msgpack and JSON codecs,
//!   attribute paths.
//! - [`schema`]: the schema model from which both the wire schema and value decoding derive.
//! - [`provider`]: the protocol-free engine. `rpc` serves each RPC with protocol-free requests
//!   and answers (schema choice, upgrades, identity, import by identity); `engine` routes to the
//!   resources and applies Terraform's plan rules; each resource has a typed model of its state.
//! - [`cloud`]: one client trait, three clouds; `rules`, the one table of each cloud's facts that
//!   clients, plan-time checks and tests read; request signing; retries; pacing.
//! - [`batch`]: the coalescers that turn concurrent deletes and detaches into batched calls,
//!   and the reader that batches refreshes.
//! - [`emulator`]: an HTTP server that speaks the three clouds' wire formats and signatures.
//! - [`logging`]: `tracing` to stderr in hclog JSON, levelled by `TF_LOG`.

pub mod batch;
pub mod cloud;
pub mod emulator;
pub mod logging;
pub mod plugin;
pub mod provider;
pub mod schema;
pub mod tfproto;
pub mod value;

/// What tests, benches and fuzz targets outside the crate reach of its insides. Not part of the
/// supported API: the provider's interface is the protocol itself.
#[doc(hidden)]
pub mod testing;
