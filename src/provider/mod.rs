//! The sshkey provider, free of any protocol: configuration, resources, data source and list
//! resource, on top of a small engine that enforces Terraform's planning rules.
//!
//! - [`engine`]: routes operations and applies Terraform's plan/apply rules.
//! - [`resource`]: the traits a resource, data source and list resource implement.
//! - [`config`]: the provider block and its plan-time checks.
//! - [`key_pair`], [`attachment`], [`key_pairs`] (data source), [`list`]: the types we serve.

pub(crate) mod attachment;
pub mod config;
pub(crate) mod credentials;
pub(crate) mod diag;
pub(crate) mod engine;
pub mod key_pair;
pub(crate) mod key_pairs;
pub(crate) mod list;
pub(crate) mod resource;
pub(crate) mod rpc;

use std::sync::Arc;

use crate::batch::{BatchSettings, DeleteCoalescer, DetachCoalescer, KeyReader};
use crate::cloud::{self, ClientConfig, KeyPairApi};
use config::ProviderConfig;
use engine::Engine;

/// Everything a configured provider needs to talk to its cloud: the client, the coalescers
/// that batch concurrent deletes and detaches, and the reader that batches refreshes. One per
/// provider process (Terraform starts one process per provider configuration), so batching is
/// per cloud, region and credentials.
pub(crate) struct Ctx {
    pub config: ProviderConfig,
    pub api: Arc<dyn KeyPairApi>,
    pub deletes: DeleteCoalescer,
    pub detaches: DetachCoalescer,
    pub reads: KeyReader,
    /// Instances `detach_on_destroy` took a key from, by key name, until a key of that name is
    /// created again in this process (a replacement): the new key goes back to them.
    holders: std::sync::Mutex<std::collections::HashMap<String, Vec<String>>>,
    /// Instances an attachment created in this process records as holding a key, by key id:
    /// a delete of another attachment object of that key (the one it replaces before
    /// destroying it, or one renamed in the configuration) must not take the key from them.
    bindings:
        std::sync::Mutex<std::collections::HashMap<String, std::collections::BTreeSet<String>>>,
}

impl Ctx {
    pub fn new(config: ProviderConfig, api: Arc<dyn KeyPairApi>) -> Self {
        let deletes = DeleteCoalescer::new(
            api.clone(),
            BatchSettings {
                max_batch: config.max_delete_batch,
                gather_window: config.batch_window,
            },
        );
        let detaches = DetachCoalescer::new(
            api.clone(),
            BatchSettings {
                max_batch: config.max_detach_batch,
                gather_window: config.batch_window,
            },
        );
        let reads = KeyReader::new(api.clone(), config.max_read_batch);
        Ctx {
            config,
            api,
            deletes,
            detaches,
            reads,
            holders: Default::default(),
            bindings: Default::default(),
        }
    }

    /// Records the instances a deleted key was detached from.
    pub(crate) fn remember_holders(&self, key_name: &str, instances: Vec<String>) {
        if !instances.is_empty() {
            let mut h = self.holders.lock().unwrap_or_else(|p| p.into_inner());
            h.insert(key_name.to_string(), instances);
        }
    }

    /// The instances a deleted key of this name was detached from, once.
    pub(crate) fn take_holders(&self, key_name: &str) -> Vec<String> {
        let mut h = self.holders.lock().unwrap_or_else(|p| p.into_inner());
        h.remove(key_name).unwrap_or_default()
    }

    /// Records that a created attachment holds `key_id` on `instances`.
    pub(crate) fn claim_bindings(
        &self,
        key_id: &str,
        instances: &std::collections::BTreeSet<String>,
    ) {
        let mut b = self.bindings.lock().unwrap_or_else(|p| p.into_inner());
        b.entry(key_id.to_string())
            .or_default()
            .extend(instances.iter().cloned());
    }

    /// The instances created attachments record as holding `key_id`.
    pub(crate) fn claimed_bindings(&self, key_id: &str) -> std::collections::BTreeSet<String> {
        let b = self.bindings.lock().unwrap_or_else(|p| p.into_inner());
        b.get(key_id).cloned().unwrap_or_default()
    }

    /// StopProvider: queued batch members fail with a cancellation error; calls already sent
    /// finish, so state records exactly what happened.
    pub(crate) fn cancel(&self) {
        self.deletes.cancel();
        self.detaches.cancel();
    }
}

/// Connects to the real cloud (or the endpoint override) described by the configuration.
fn connect(config: ProviderConfig) -> Result<Ctx, String> {
    let api = cloud::new_client(ClientConfig {
        kind: config.cloud,
        region: config.region.clone(),
        credentials: config.credentials.clone(),
        endpoint: config.endpoint.clone(),
        request_timeout: config.request_timeout,
        max_retries: config.max_retries,
        retry_deadline: config.request_timeout * cloud::RETRY_DEADLINE_FACTOR,
        assume_role: config.assume_role.clone(),
        sts_endpoint: config.sts_endpoint.clone(),
    })
    .map_err(|e| e.to_string())?;
    Ok(Ctx::new(config, api))
}

/// The provider with every type it serves.
pub(crate) fn engine() -> Engine {
    Engine::new(
        vec![
            Arc::new(key_pair::KeyPairResource::new()),
            Arc::new(attachment::AttachmentResource::new()),
        ],
        vec![Arc::new(key_pairs::KeyPairsDataSource::new())],
        vec![Arc::new(list::KeyPairList::new())],
        Box::new(connect),
    )
}
