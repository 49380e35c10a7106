//! The protocol-free engine: routes each Terraform operation to the right resource and applies
//! the rules Terraform enforces on every provider (what a plan may change, what apply must
//! return), so resources only describe their own behaviour.
//!
//! The gRPC adapter decodes wire values with the schemas it gets from here and calls these
//! methods; nothing below knows about protobuf.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{watch, RwLock};

use crate::provider::config::{self, ProviderConfig};
use crate::provider::diag::Diagnostics;
use crate::provider::resource::{
    DataSource, Imported, ListItem, ListResource, Outcome, Plan, Private, Resource,
};
use crate::provider::Ctx;
use crate::schema::Schema;
use crate::value::{AttributePath, PathStep, Value};

/// Builds a configured context from a checked configuration; swapped out by tests.
pub(crate) type Connector = dyn Fn(ProviderConfig) -> Result<Ctx, String> + Send + Sync;
/// Reads an environment variable; swapped out by tests.
pub(crate) type EnvReader = dyn Fn(&str) -> Option<String> + Send + Sync;

pub(crate) struct Engine {
    provider_schema: Schema,
    resources: BTreeMap<&'static str, Arc<dyn Resource>>,
    data_sources: BTreeMap<&'static str, Arc<dyn DataSource>>,
    list_resources: BTreeMap<&'static str, Arc<dyn ListResource>>,
    ctx: RwLock<Option<Arc<Ctx>>>,
    connector: Box<Connector>,
    env: Box<EnvReader>,
    stopped: watch::Sender<bool>,
    /// The cloud the provider block named at ValidateProviderConfig, which Terraform sends
    /// before validating the resources.
    validated_cloud: std::sync::Mutex<Option<crate::cloud::CloudKind>>,
}

impl Engine {
    pub fn new(
        resources: Vec<Arc<dyn Resource>>,
        data_sources: Vec<Arc<dyn DataSource>>,
        list_resources: Vec<Arc<dyn ListResource>>,
        connector: Box<Connector>,
    ) -> Self {
        Engine {
            provider_schema: config::schema(),
            resources: resources.into_iter().map(|r| (r.type_name(), r)).collect(),
            data_sources: data_sources
                .into_iter()
                .map(|d| (d.type_name(), d))
                .collect(),
            list_resources: list_resources
                .into_iter()
                .map(|l| (l.type_name(), l))
                .collect(),
            ctx: RwLock::new(None),
            connector,
            env: Box::new(|name| std::env::var(name).ok()),
            stopped: watch::channel(false).0,
            validated_cloud: std::sync::Mutex::new(None),
        }
    }

    pub(crate) fn provider_schema(&self) -> &Schema {
        &self.provider_schema
    }
    pub(crate) fn resources(&self) -> impl Iterator<Item = &Arc<dyn Resource>> {
        self.resources.values()
    }
    pub(crate) fn data_sources(&self) -> impl Iterator<Item = &Arc<dyn DataSource>> {
        self.data_sources.values()
    }
    pub(crate) fn list_resources(&self) -> impl Iterator<Item = &Arc<dyn ListResource>> {
        self.list_resources.values()
    }
    pub(crate) fn resource(&self, type_name: &str) -> Option<&Arc<dyn Resource>> {
        self.resources.get(type_name)
    }
    pub(crate) fn data_source(&self, type_name: &str) -> Option<&Arc<dyn DataSource>> {
        self.data_sources.get(type_name)
    }
    pub(crate) fn list_resource(&self, type_name: &str) -> Option<&Arc<dyn ListResource>> {
        self.list_resources.get(type_name)
    }

    pub(crate) fn validate_provider_config(&self, config: &Value, diags: &mut Diagnostics) {
        config::validate(config, diags);
        let cloud = config
            .attr("cloud")
            .and_then(Value::as_str)
            .and_then(|c| c.parse().ok());
        *self
            .validated_cloud
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = cloud;
    }

    pub(crate) async fn configure(&self, config: &Value, diags: &mut Diagnostics) {
        let Some(checked) = config::build(config, &*self.env, diags) else {
            return;
        };
        tracing::info!(cloud = %checked.cloud, region = %checked.region, "provider configured");
        match (self.connector)(checked) {
            Ok(ctx) => *self.ctx.write().await = Some(Arc::new(ctx)),
            Err(e) => diags.error("Cannot configure the provider", e),
        }
    }

    /// StopProvider: work already sent to the cloud finishes; queued work is cancelled.
    pub(crate) async fn stop(&self) {
        self.stopped.send_replace(true);
        if let Some(ctx) = self.ctx.read().await.as_ref() {
            ctx.cancel();
        }
    }

    async fn ctx(&self, diags: &mut Diagnostics) -> Option<Arc<Ctx>> {
        let ctx = self.ctx.read().await.clone();
        if ctx.is_none() {
            diags.error(
                "Provider not configured",
                "Terraform called the provider before ConfigureProvider succeeded; see the earlier provider configuration errors.",
            );
        }
        ctx
    }

    pub(crate) fn lookup_resource(
        &self,
        type_name: &str,
        diags: &mut Diagnostics,
    ) -> Option<Arc<dyn Resource>> {
        let r = self.resources.get(type_name).cloned();
        if r.is_none() {
            diags.error(
                "Unknown resource type",
                format!("This provider has no resource type {type_name:?}."),
            );
        }
        r
    }

    pub(crate) fn validate_resource(
        &self,
        type_name: &str,
        config: &Value,
        diags: &mut Diagnostics,
    ) {
        if let Some(r) = self.lookup_resource(type_name, diags) {
            r.validate(config, diags);
            let cloud = *self
                .validated_cloud
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(cloud) = cloud {
                r.validate_for_cloud(cloud, config, diags);
            }
        }
    }

    pub(crate) fn validate_data_source(
        &self,
        type_name: &str,
        config: &Value,
        diags: &mut Diagnostics,
    ) {
        match self.data_sources.get(type_name) {
            Some(d) => d.validate(config, diags),
            None => diags.error(
                "Unknown data source",
                format!("This provider has no data source {type_name:?}."),
            ),
        }
    }

    pub(crate) fn validate_list(&self, type_name: &str, config: &Value, diags: &mut Diagnostics) {
        match self.list_resources.get(type_name) {
            Some(l) => l.validate(config, diags),
            None => diags.error(
                "Unknown list resource",
                format!("This provider has no list resource {type_name:?}."),
            ),
        }
    }

    /// PlanResourceChange. `prior` is null on create, `proposed` null on destroy.
    pub(crate) async fn plan(
        &self,
        type_name: &str,
        prior: Value,
        proposed: Value,
        config: Value,
        private: Private,
        diags: &mut Diagnostics,
    ) -> Plan {
        let mut plan = Plan {
            planned: proposed.clone(),
            prior,
            config,
            requires_replace: Vec::new(),
            private,
        };
        let Some(resource) = self.lookup_resource(type_name, diags) else {
            return plan;
        };
        if !plan.is_destroy() {
            default_plan(resource.schema(), &mut plan);
        }
        if let Some(ctx) = self.ctx(diags).await {
            resource.modify_plan(&ctx, &mut plan, diags).await;
        }
        plan
    }

    /// ApplyResourceChange, routed to create, update or delete. Returns the new state and the
    /// private bytes Terraform keeps with it: what a plan kept in private is for its own apply
    /// and does not outlive it.
    pub(crate) async fn apply(
        &self,
        type_name: &str,
        prior: Value,
        planned: Value,
        private: &Private,
        diags: &mut Diagnostics,
    ) -> (Value, Private) {
        let Some(resource) = self.lookup_resource(type_name, diags) else {
            return (prior, Private::default());
        };
        let Some(ctx) = self.ctx(diags).await else {
            return (prior, Private::default());
        };
        let mut state_private = Private::default();
        let outcome = if planned.is_null() {
            resource.delete(&ctx, &prior, private, diags).await
        } else if prior.is_null() {
            let mut own = Diagnostics::new();
            let created = resource.create(&ctx, &planned, private, &mut own).await;
            if matches!(created, Outcome::Exists(_)) {
                state_private = resource.private_after_create(own.has_errors());
            }
            diags.extend(own);
            created
        } else {
            resource.update(&ctx, &prior, &planned, diags).await
        };
        let state = match outcome {
            Outcome::Exists(v) => v,
            Outcome::Gone => Value::Null,
            Outcome::Failed => {
                failed_without_error(type_name, diags);
                prior
            }
        };
        (state, state_private)
    }

    pub(crate) async fn read(
        &self,
        type_name: &str,
        state: Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let Some(resource) = self.lookup_resource(type_name, diags) else {
            return state;
        };
        if state.is_null() {
            return state;
        }
        let Some(ctx) = self.ctx(diags).await else {
            return state;
        };
        let mut fresh = Diagnostics::new();
        let outcome = resource.read(&ctx, &state, &mut fresh).await;
        let failed = fresh.has_errors();
        diags.extend(fresh);
        match outcome {
            Outcome::Exists(v) => v,
            // A failed read must not drop the object from state: only a verified absence does.
            Outcome::Gone if failed => state,
            Outcome::Gone => Value::Null,
            Outcome::Failed => {
                failed_without_error(type_name, diags);
                state
            }
        }
    }

    pub(crate) async fn import(
        &self,
        type_name: &str,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Vec<Imported> {
        let Some(resource) = self.lookup_resource(type_name, diags) else {
            return Vec::new();
        };
        let Some(ctx) = self.ctx(diags).await else {
            return Vec::new();
        };
        resource.import(&ctx, id, diags).await
    }

    pub(crate) async fn read_data_source(
        &self,
        type_name: &str,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let Some(ds) = self.data_sources.get(type_name).cloned() else {
            diags.error(
                "Unknown data source",
                format!("This provider has no data source {type_name:?}."),
            );
            return Value::Null;
        };
        let Some(ctx) = self.ctx(diags).await else {
            return Value::Null;
        };
        ds.read(&ctx, config, diags).await.unwrap_or(Value::Null)
    }

    pub(crate) async fn list(
        &self,
        type_name: &str,
        config: &Value,
        limit: usize,
        diags: &mut Diagnostics,
    ) -> Vec<ListItem> {
        let Some(lr) = self.list_resources.get(type_name).cloned() else {
            diags.error(
                "Unknown list resource",
                format!("This provider has no list resource {type_name:?}."),
            );
            return Vec::new();
        };
        let Some(ctx) = self.ctx(diags).await else {
            return Vec::new();
        };
        lr.list(&ctx, config, limit, diags).await
    }
}

/// A step that failed says why; should one not, Terraform must still not take the kept state
/// for a success.
fn failed_without_error(type_name: &str, diags: &mut Diagnostics) {
    if !diags.has_errors() {
        diags.error(
            format!("{type_name} failed"),
            "The operation failed without saying why; this is a bug in the provider. The prior state is kept.",
        );
    }
}

/// The plan Terraform's own rules imply: on create, computed attributes left null in the
/// configuration become unknown; on update, a changed `force_new` attribute requires
/// replacement, and the replacement's computed attributes become unknown again.
pub(crate) fn default_plan(schema: &Schema, plan: &mut Plan) {
    let creating = plan.is_create();
    if !creating {
        for a in schema.block.attributes.iter().filter(|a| a.force_new) {
            if plan.prior.attr(a.name) != plan.planned.attr(a.name) {
                plan.requires_replace
                    .push(AttributePath(vec![PathStep::Attribute(a.name.to_string())]));
            }
        }
    }
    if creating || plan.is_replace() {
        forget_computed(schema, plan);
    }
}

/// Marks `attribute` as forcing a replacement (for rules richer than `force_new`, such as
/// comparing public keys without their comments).
pub(crate) fn require_replace(schema: &Schema, plan: &mut Plan, attribute: &str) {
    let path = AttributePath(vec![PathStep::Attribute(attribute.to_string())]);
    if !plan.requires_replace.contains(&path) {
        plan.requires_replace.push(path);
    }
    forget_computed(schema, plan);
}

/// A new object will be created: computed attributes the user did not set are unknown again.
fn forget_computed(schema: &Schema, plan: &mut Plan) {
    for a in schema.block.attributes.iter().filter(|a| a.is_computed()) {
        let configured = plan.config.attr(a.name).is_some_and(|v| !v.is_null());
        if !configured {
            if let Some(slot) = plan.planned.attr_mut(a.name) {
                *slot = Value::unknown();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, Block};
    use crate::value::Type;

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new(
                "t",
                vec![
                    Attribute::required("name", Type::String).force_new(),
                    Attribute::optional("note", Type::String),
                    Attribute::computed("id", Type::String),
                ],
            ),
        )
    }

    fn obj(name: &str, note: Value, id: Value) -> Value {
        Value::Object(BTreeMap::from([
            ("name".to_string(), Value::string(name)),
            ("note".to_string(), note),
            ("id".to_string(), id),
        ]))
    }

    #[test]
    fn create_marks_computed_unknown() {
        let cfg = obj("a", Value::Null, Value::Null);
        let mut plan = Plan {
            prior: Value::Null,
            config: cfg.clone(),
            planned: cfg,
            requires_replace: vec![],
            private: Private::default(),
        };
        default_plan(&schema(), &mut plan);
        assert!(plan.planned.attr("id").is_some_and(Value::is_unknown));
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn in_place_update_keeps_computed() {
        let prior = obj("a", Value::Null, Value::string("k1"));
        let proposed = obj("a", Value::string("n"), Value::string("k1"));
        let cfg = obj("a", Value::string("n"), Value::Null);
        let mut plan = Plan {
            prior,
            config: cfg,
            planned: proposed,
            requires_replace: vec![],
            private: Private::default(),
        };
        default_plan(&schema(), &mut plan);
        assert!(plan.requires_replace.is_empty());
        assert_eq!(plan.planned.attr("id"), Some(&Value::string("k1")));
    }

    #[test]
    fn force_new_change_replaces_and_forgets_computed() {
        let prior = obj("a", Value::Null, Value::string("k1"));
        let proposed = obj("b", Value::Null, Value::string("k1"));
        let cfg = obj("b", Value::Null, Value::Null);
        let mut plan = Plan {
            prior,
            config: cfg,
            planned: proposed,
            requires_replace: vec![],
            private: Private::default(),
        };
        default_plan(&schema(), &mut plan);
        assert_eq!(plan.requires_replace.len(), 1);
        assert!(plan.planned.attr("id").is_some_and(Value::is_unknown));
    }
}
