//! The small traits a resource, data source or list resource implements. Everything optional
//! has a default, in the spirit of terraform-plugin-framework: a resource writes its CRUD and
//! opts into the rest.

use async_trait::async_trait;

use crate::cloud::CloudKind;
use crate::provider::diag::Diagnostics;
use crate::provider::Ctx;
use crate::schema::{IdentityAttribute, IdentitySchema, Schema};
use crate::value::Type;
use crate::value::Value;

/// A plan being built for one resource instance. The engine fills it from Terraform's proposal
/// (computed attributes unknown on create, `force_new` changes in `requires_replace`); the
/// resource may refine it.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Null when the instance is being created.
    pub prior: Value,
    pub config: Value,
    /// What will be applied. Null when the instance is being destroyed.
    pub planned: Value,
    pub requires_replace: Vec<crate::value::AttributePath>,
    /// In: the private bytes Terraform kept with the prior object (or, when it plans the
    /// create half of a replacement, what the plan of the update half returned). Out: what
    /// Terraform hands back to the apply of this change. Starts as the prior's.
    pub private: Private,
}

impl Plan {
    pub(crate) fn is_create(&self) -> bool {
        self.prior.is_null()
    }
    pub(crate) fn is_destroy(&self) -> bool {
        self.planned.is_null()
    }
    pub(crate) fn is_replace(&self) -> bool {
        !self.requires_replace.is_empty()
    }
}

/// What a step found or left behind. Errors are in the diagnostics; an outcome never claims
/// what did not happen.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The object exists, and this is its state: after a partial failure, exactly what holds.
    Exists(Value),
    /// The object is verified gone (a create: it never came to be).
    Gone,
    /// The step failed before it could tell what holds; the state it started from stands.
    Failed,
}

/// A resource's identity: one string attribute of its state that finds the remote object and is
/// what `terraform import` takes. Both managed types find their object by the key pair's cloud
/// id (the name on ECS), so one shape serves both.
pub(crate) struct Identity {
    schema: IdentitySchema,
    attribute: &'static str,
}

impl Identity {
    /// The `key_id` identity.
    pub(crate) fn key_id(description: &'static str) -> Identity {
        Identity {
            schema: IdentitySchema {
                version: 0,
                attributes: vec![IdentityAttribute {
                    name: "key_id",
                    ty: Type::String,
                    description,
                    required_for_import: true,
                }],
            },
            attribute: "key_id",
        }
    }

    pub fn schema(&self) -> &IdentitySchema {
        &self.schema
    }

    /// The identity of the object a state describes.
    pub(crate) fn of(&self, state: &Value) -> Option<Value> {
        Some(Value::object([(
            self.attribute,
            Value::string(text(state, self.attribute)?),
        )]))
    }

    /// The import id an identity carries (for `import { identity = {...} }` blocks).
    pub(crate) fn import_id(&self, identity: &Value) -> Option<String> {
        text(identity, self.attribute)
    }
}

/// Bytes a resource keeps beside a state or a planned change. Terraform stores them and hands
/// them back on the next call for the same object, and never reads them: they carry what a
/// later step must know but the schema has no place for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Private(pub Vec<u8>);

/// One object found by an import.
#[derive(Debug, Clone)]
pub(crate) struct Imported {
    pub state: Value,
}

#[async_trait]
pub(crate) trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    /// How the object is identified, when it can be (resource identity, import by identity).
    fn identity(&self) -> Option<&Identity> {
        None
    }

    /// Checks that need only the configuration (ValidateResourceConfig runs before the provider
    /// is configured, so the cloud may not be known yet).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Checks that need the cloud, run at validation when the provider block names it, so they
    /// come in the same round as [`Resource::validate`]'s instead of after those are fixed.
    /// `modify_plan` runs them again for a cloud known only at configure time.
    fn validate_for_cloud(&self, _cloud: CloudKind, _config: &Value, _diags: &mut Diagnostics) {}

    /// Refines the engine's plan with cloud-aware checks and computed values.
    async fn modify_plan(&self, _ctx: &Ctx, _plan: &mut Plan, _diags: &mut Diagnostics) {}

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        private: &Private,
        diags: &mut Diagnostics,
    ) -> Outcome;
    /// The private bytes kept with the state a create returned; `failed` when it reported
    /// errors, in which case Terraform taints the object and replaces it on the next apply.
    fn private_after_create(&self, _failed: bool) -> Private {
        Private::default()
    }
    /// Refreshes state from the cloud.
    async fn read(&self, ctx: &Ctx, state: &Value, diags: &mut Diagnostics) -> Outcome;
    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Outcome;
    /// Deletes the object. `Gone` only when the object is verified gone.
    async fn delete(
        &self,
        ctx: &Ctx,
        prior: &Value,
        private: &Private,
        diags: &mut Diagnostics,
    ) -> Outcome;

    /// Finds existing objects for `terraform import` by the id the user typed.
    async fn import(&self, _ctx: &Ctx, _id: &str, diags: &mut Diagnostics) -> Vec<Imported> {
        diags.error(
            format!("{} cannot be imported", self.type_name()),
            "This resource type does not support import.",
        );
        Vec::new()
    }
}

#[async_trait]
pub(crate) trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn read(&self, ctx: &Ctx, config: &Value, diags: &mut Diagnostics) -> Option<Value>;
}

/// One result of a list resource: what `terraform query` shows and can turn into import blocks.
#[derive(Debug, Clone)]
pub(crate) struct ListItem {
    pub identity: Value,
    pub display_name: String,
    pub state: Option<Value>,
}

#[async_trait]
pub(crate) trait ListResource: Send + Sync {
    /// The managed resource type whose instances this lists.
    fn type_name(&self) -> &'static str;
    /// The schema of the `config` block inside a `list` block.
    fn schema(&self) -> &Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn list(
        &self,
        ctx: &Ctx,
        config: &Value,
        limit: usize,
        diags: &mut Diagnostics,
    ) -> Vec<ListItem>;
}

/// A string attribute of an object value, when it is set and known.
pub(crate) fn text(v: &Value, name: &str) -> Option<String> {
    v.attr(name).and_then(Value::as_str).map(str::to_string)
}
