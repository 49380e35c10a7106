//! `sshkey`: a Terraform/OpenTofu provider for SSH key pairs on Alibaba Cloud ECS, Alibaba Cloud
//! ENS and Tencent Cloud CVM, and an emulator of those clouds' key-pair APIs.
//!
//! The layout follows the request path from Terraform down to the cloud:
//!
//! - [`plugin`]: the go-plugin transport (handshake line, AutoMTLS, unix socket, health,
//!   controller, stdio). Knows nothing about SSH keys.
//! - [`tfproto`]: the private generated tfplugin6 code and the one-way-each conversions between
//!   wire messages and our own types; the gRPC service adapter.
//! - [`value`]: typed values with explicit null and unknown, msgpack and JSON codecs,
//!   attribute paths.
//! - [`schema`]: the schema model from which both the wire schema and value decoding derive.
//! - [`provider`]: the protocol-free engine: provider configuration, resources, data source,
//!   list resource, plan-time validation.
//! - [`cloud`]: one client trait, three clouds; request signing; retries and rate limits.
//! - [`batch`]: the coalescer that turns concurrent deletes and detaches into batched calls.
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
