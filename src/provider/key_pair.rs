//! `sshkey_key_pair`: one SSH key pair, created by the cloud or imported from a public key.
//!
//! Deletes go through the provider's [`crate::batch::DeleteCoalescer`], so a `terraform destroy`
//! of hundreds of keys becomes a handful of DeleteKeyPairs calls. A key leaves state only when
//! the coalescer has verified it gone.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::batch::bind::{bind_chunk, BindOp};
use crate::batch::ReadOutcome;
use crate::cloud::idempotent;
use crate::cloud::public_key::{parse_public_key, same_public_key};
use crate::cloud::rules::BindRunning;
use crate::cloud::{BindOptions, CloudKind, InstanceQuery, KeyPair, KeyQuery, KeySpec, Refusal};
use crate::provider::diag::{attr, Diagnostics};
use crate::provider::engine::require_replace;
use crate::provider::resource::{text, Identity, Imported, Outcome, Plan, Private, Resource};
use crate::provider::Ctx;
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Number, Type, Value};

pub(crate) const TYPE_NAME: &str = "sshkey_key_pair";

pub(crate) struct KeyPairResource {
    schema: Schema,
    identity: Identity,
}

impl Default for KeyPairResource {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyPairResource {
    pub fn new() -> Self {
        KeyPairResource {
            schema: schema(),
            identity: Identity::key_id("Cloud id of the key pair (the name on ECS)."),
        }
    }

    /// Plans `public_key` (and with it `private_key`): what a change of key replaces.
    fn plan_public_key(&self, plan: &mut Plan) {
        let configured_key = text(&plan.config, "public_key");
        if plan.is_create() {
            if configured_key.is_some() {
                // Imported keys have no private half to report.
                if let Some(slot) = plan.planned.attr_mut("private_key") {
                    *slot = Value::Null;
                }
            }
            return;
        }
        // Public keys compare by type and body: a comment or whitespace edit is an in-place
        // update of state only, a different key is a new key pair. Where state holds no public
        // key (ENS lists none, so an imported ENS key has none), the fingerprint decides.
        // Removing `public_key` keeps the key (the attribute is computed then).
        let prior = KeyPairModel::from_value(&plan.prior);
        let planned_unknown = plan
            .config
            .attr("public_key")
            .is_some_and(Value::is_unknown);
        let different = planned_unknown
            || match (&prior.public_key, &configured_key) {
                (Some(a), Some(b)) => !same_public_key(a, b),
                (None, Some(b)) => !matches_fingerprint(b, prior.fingerprint.as_deref()),
                (_, None) => false,
            };
        if different {
            require_replace(&self.schema, plan, "public_key");
        } else if let (Some(kept), Some(_)) = (&prior.public_key, &configured_key) {
            // The same key in another spelling is no change at all: state keeps its spelling
            // (Terraform accepts the prior value for a configured one), so an imported key,
            // stored as the cloud reports it, plans nothing against a configuration with a
            // comment.
            if let Some(slot) = plan.planned.attr_mut("public_key") {
                *slot = Value::string(kept);
            }
        }
        if plan.is_replace() && configured_key.is_some() {
            if let Some(slot) = plan.planned.attr_mut("private_key") {
                *slot = Value::Null;
            }
        }
    }
}

/// `tags_all` is the provider's defaults merged with the configured tags, known as soon as
/// both are; attributes the cloud does not have are null rather than "known after apply".
fn plan_cloud_attributes(kind: CloudKind, defaults: &BTreeMap<String, String>, plan: &mut Plan) {
    let configured = plan.config.attr("tags");
    let tags_all = match configured {
        Some(v) if v.is_unknown() => Value::unknown(),
        Some(Value::Map(m)) if m.values().any(Value::is_unknown) => Value::unknown(),
        _ => {
            let own = string_map(&plan.config, "tags");
            let all = if supports(kind, "tags") {
                merged_tags(defaults, own.as_ref())
            } else {
                BTreeMap::new()
            };
            map_value(&Some(all))
        }
    };
    if let Some(slot) = plan.planned.attr_mut("tags_all") {
        *slot = tags_all;
    }
    for attribute in ["resource_group_id", "project_id"] {
        if !supports(kind, attribute) {
            if let Some(slot) = plan.planned.attr_mut(attribute) {
                *slot = Value::Null;
            }
        }
    }
}

pub fn schema() -> Schema {
    let string_map = Type::Map(Box::new(Type::String));
    Schema::new(
        0,
        Block::new(
            "An SSH key pair. Created by the cloud (the private key is returned once, in `private_key`) or imported from `public_key`. Deletes are batched across resources.",
            vec![
                Attribute::optional_computed("name", Type::String).force_new().describe(
                    "Key pair name (this or `name_prefix`). ECS: 2-128 characters, starting with a letter or a Chinese character; letters, Chinese characters, digits, `:`, `_`, `-`; not `http://` or `https://`. ENS: the same without Chinese characters. CVM: 1-25 letters, digits or `_`.",
                ),
                Attribute::optional("name_prefix", Type::String).force_new().describe(
                    "Instead of `name`: the key pair is named this prefix and 8 generated characters (a lower-case letter, then letters and digits), unique in the cloud, so a replacement can be created before the old key pair is deleted (`create_before_destroy`). The whole name follows the cloud's rule: on CVM the prefix has at most 17 characters.",
                ),
                Attribute::optional_computed("public_key", Type::String).describe(
                    "OpenSSH public key to import (ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256/384/521). Comments and whitespace are not a change. Leave unset to let the cloud create the key; then, and after an import, it holds the key the cloud reports (null on ENS, which reports none). Removing it keeps the key: use `-replace` for a new one.",
                ),
                Attribute::computed("private_key", Type::String).sensitive().describe(
                    "PEM private key of a key pair created by the cloud (null for imported keys). The cloud returns it only once.",
                ),
                Attribute::computed("key_id", Type::String)
                    .describe("Cloud id of the key pair: the name on ECS, `ssh-...` on ENS, `skey-...` on CVM."),
                Attribute::computed("fingerprint", Type::String).describe("Key fingerprint as the cloud reports it."),
                Attribute::computed("created_at", Type::String).describe("Creation time as the cloud reports it."),
                Attribute::optional_computed("detach_on_destroy", Type::Bool).describe(
                    "Detach the key from every instance before deleting it (default false). Without it a bound key fails to delete on ECS and CVM, and the error names the instances.",
                ),
                Attribute::optional_computed("force_stop", Type::Bool).describe(
                    "CVM only, with `detach_on_destroy`: let the cloud stop running instances to take the key from them (and, when the key is replaced, to give them the new one); ForceStop, default false. Without it a running CVM instance keeps the key and the delete fails naming it.",
                ),
                Attribute::optional("tags", string_map.clone()).describe(
                    "Tags of this key pair (ECS and CVM), changed in place. Merged over the provider's `default_tags` (these win) into `tags_all`.",
                ),
                Attribute::computed("tags_all", string_map).describe(
                    "Every tag of the key pair: the provider's `default_tags` merged with `tags`. This is what is sent to the cloud and compared with it on refresh.",
                ),
                Attribute::optional_computed("resource_group_id", Type::String).describe(
                    "Resource group (ECS only), moved in place. Unset: the account's default group, as the cloud reports it.",
                ),
                Attribute::optional_computed("project_id", Type::Number).force_new().describe(
                    "Project id (CVM only; default project 0). CVM cannot move a key pair between projects, so a change replaces the key pair.",
                ),
            ],
        ),
    )
}

/// Which optional attributes each cloud supports: data in the clouds' table.
fn supports(kind: CloudKind, attribute: &str) -> bool {
    kind.limits().key_attributes.contains(&attribute)
}

fn is_set(v: &Value, name: &str) -> bool {
    v.attr(name).is_some_and(|x| !x.is_null())
}

/// A key pair as state records it: one field per attribute of [`schema`], with one conversion
/// each way. What is unknown or null reads as `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct KeyPairModel {
    pub name: Option<String>,
    pub name_prefix: Option<String>,
    pub public_key: Option<String>,
    pub private_key: Option<String>,
    pub key_id: Option<String>,
    pub fingerprint: Option<String>,
    pub created_at: Option<String>,
    pub detach_on_destroy: bool,
    pub force_stop: bool,
    pub tags: Option<BTreeMap<String, String>>,
    pub tags_all: Option<BTreeMap<String, String>>,
    pub resource_group_id: Option<String>,
    pub project_id: Option<Number>,
}

fn string_map(v: &Value, name: &str) -> Option<BTreeMap<String, String>> {
    match v.attr(name) {
        Some(Value::Map(m)) => Some(
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
        ),
        _ => None,
    }
}

fn map_value(m: &Option<BTreeMap<String, String>>) -> Value {
    m.as_ref().map_or(Value::Null, |t| {
        Value::Map(
            t.iter()
                .map(|(k, v)| (k.clone(), Value::string(v)))
                .collect(),
        )
    })
}

/// The tags a key pair gets: the provider's defaults, overridden by its own.
pub(crate) fn merged_tags(
    defaults: &BTreeMap<String, String>,
    own: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut all = defaults.clone();
    all.extend(
        own.into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    all
}

/// The resource's own `tags` out of every tag the cloud reports: a tag that only repeats a
/// default (same key and value) belongs to `default_tags`, unless the resource's prior tags
/// name its key. Null prior tags stay null when nothing is left, so an untagged key pair
/// whose config has no `tags` shows no diff.
pub(crate) fn own_tags(
    cloud: &BTreeMap<String, String>,
    defaults: &BTreeMap<String, String>,
    prior: Option<&BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    let own: BTreeMap<String, String> = cloud
        .iter()
        .filter(|(k, v)| prior.is_some_and(|p| p.contains_key(*k)) || defaults.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if own.is_empty() && prior.is_none() {
        None
    } else {
        Some(own)
    }
}

fn opt_string(v: &Option<String>) -> Value {
    v.as_deref().map_or(Value::Null, Value::string)
}

impl KeyPairModel {
    pub(crate) fn from_value(v: &Value) -> KeyPairModel {
        KeyPairModel {
            name: text(v, "name"),
            name_prefix: text(v, "name_prefix"),
            public_key: text(v, "public_key"),
            private_key: text(v, "private_key"),
            key_id: text(v, "key_id"),
            fingerprint: text(v, "fingerprint"),
            created_at: text(v, "created_at"),
            detach_on_destroy: v.attr("detach_on_destroy").and_then(Value::as_bool) == Some(true),
            force_stop: v.attr("force_stop").and_then(Value::as_bool) == Some(true),
            tags: string_map(v, "tags"),
            tags_all: string_map(v, "tags_all"),
            resource_group_id: text(v, "resource_group_id"),
            project_id: match v.attr("project_id") {
                Some(Value::Number(n)) => Some(n.clone()),
                _ => None,
            },
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        Value::object([
            ("name", opt_string(&self.name)),
            ("name_prefix", opt_string(&self.name_prefix)),
            ("public_key", opt_string(&self.public_key)),
            ("private_key", opt_string(&self.private_key)),
            ("key_id", opt_string(&self.key_id)),
            ("fingerprint", opt_string(&self.fingerprint)),
            ("created_at", opt_string(&self.created_at)),
            ("detach_on_destroy", Value::Bool(self.detach_on_destroy)),
            ("force_stop", Value::Bool(self.force_stop)),
            ("tags", map_value(&self.tags)),
            ("tags_all", map_value(&self.tags_all)),
            ("resource_group_id", opt_string(&self.resource_group_id)),
            (
                "project_id",
                self.project_id.clone().map_or(Value::Null, Value::Number),
            ),
        ])
    }

    /// The state of a key pair adopted by `terraform import` or listed by the list resource:
    /// everything the cloud reports, so a configuration that states the same key, tags, group
    /// and project plans no change. The public key is stored as our comparison reads it (type
    /// and body); tags that only repeat the provider's `default_tags` are the defaults' share.
    pub(crate) fn imported(kp: &KeyPair, defaults: &BTreeMap<String, String>) -> KeyPairModel {
        KeyPairModel {
            public_key: kp
                .public_key
                .as_deref()
                .and_then(|k| parse_public_key(k).ok())
                .map(|k| k.canonical()),
            tags: own_tags(&kp.tags, defaults, None),
            ..KeyPairModel::from_cloud(kp, &KeyPairModel::default())
        }
    }

    /// The state of a key pair the cloud reported, keeping what the user configured (the
    /// cloud reports a private key only when it creates one). Every tag, the resource group
    /// and the project are the cloud's, where it reports them; `tags` (the resource's own
    /// share of them) is the caller's to split off ([`own_tags`]).
    pub(crate) fn from_cloud(kp: &KeyPair, configured: &KeyPairModel) -> KeyPairModel {
        KeyPairModel {
            name: Some(kp.name.clone()),
            public_key: configured.public_key.clone().or(kp.public_key.clone()),
            private_key: kp.private_key.clone().or(configured.private_key.clone()),
            key_id: Some(kp.id.clone()),
            fingerprint: Some(kp.fingerprint.clone()),
            created_at: kp.created_at.clone(),
            tags_all: Some(kp.tags.clone()),
            resource_group_id: kp
                .resource_group_id
                .clone()
                .or(configured.resource_group_id.clone()),
            project_id: kp
                .project_id
                .map(Number::Int)
                .or(configured.project_id.clone()),
            ..configured.clone()
        }
    }
}

#[async_trait]
impl Resource for KeyPairResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn identity(&self) -> Option<&Identity> {
        Some(&self.identity)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        match (is_set(config, "name"), is_set(config, "name_prefix")) {
            (true, true) => diags.attribute_error(
                attr("name_prefix"),
                "Conflicting key pair names",
                "`name` and `name_prefix` are exclusive: set `name` for a fixed name, or `name_prefix` for a generated one.",
            ),
            (false, false) => diags.attribute_error(
                attr("name"),
                "Missing key pair name",
                "Set `name`, or `name_prefix` for a generated unique name.",
            ),
            _ => {}
        }
        if let Some(key) = text(config, "public_key") {
            if let Err(why) = parse_public_key(&key) {
                diags.attribute_error(
                    attr("public_key"),
                    "Invalid public key",
                    format!("`public_key`: {why}."),
                );
            }
        }
    }

    fn validate_for_cloud(&self, kind: CloudKind, config: &Value, diags: &mut Diagnostics) {
        if let Some(name) = text(config, "name") {
            if let Err(rule) = kind.validate_key_name(&name) {
                diags.attribute_error(
                    attr("name"),
                    "Invalid key pair name",
                    format!("`name` {name:?} breaks the {kind} rule: {rule}"),
                );
            }
        }
        if let Some(prefix) = text(config, "name_prefix") {
            if let Err(rule) =
                kind.validate_key_name(&format!("{prefix}{}", "a".repeat(SUFFIX_LEN)))
            {
                diags.attribute_error(
                    attr("name_prefix"),
                    "Invalid key pair name prefix",
                    format!("`name_prefix` {prefix:?} cannot make a valid {kind} name: the name is the prefix and {SUFFIX_LEN} generated characters, and it breaks the {kind} rule: {rule}"),
                );
            }
        }
        if config.attr("force_stop").and_then(Value::as_bool) == Some(true) {
            if kind.limits().bind_running != BindRunning::WithForceStop {
                diags.attribute_error(
                    attr("force_stop"),
                    format!("`force_stop` is not supported on {kind}"),
                    format!("`force_stop` works on CVM only, the one cloud that stops instances itself (ForceStop); {kind} {}.", match kind.limits().bind_running {
                        BindRunning::Yes => "detaches keys from running instances as they are",
                        _ => "takes keys only from stopped instances: stop them first",
                    }),
                );
            } else if config.attr("detach_on_destroy").and_then(Value::as_bool) != Some(true) {
                diags.attribute_error(
                    attr("force_stop"),
                    "`force_stop` needs `detach_on_destroy`",
                    "`force_stop` says how `detach_on_destroy` takes the key from running instances; without `detach_on_destroy = true` it would do nothing. Set both, or remove `force_stop`.",
                );
            }
        }
        for optional in ["tags", "resource_group_id", "project_id"] {
            if is_set(config, optional) && !supports(kind, optional) {
                diags.attribute_error(
                    attr(optional),
                    "Attribute not supported by this cloud",
                    format!("`{optional}` is not supported on {kind}; remove it."),
                );
            }
        }
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: &mut Plan, diags: &mut Diagnostics) {
        if plan.is_destroy() {
            return;
        }
        let kind = ctx.config.cloud;
        self.validate_for_cloud(kind, &plan.config, diags);
        for flag in ["detach_on_destroy", "force_stop"] {
            if !is_set(&plan.config, flag) {
                if let Some(slot) = plan.planned.attr_mut(flag) {
                    *slot = Value::Bool(false);
                }
            }
        }
        self.plan_public_key(plan);
        plan_cloud_attributes(kind, &ctx.config.default_tags, plan);
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        _private: &Private,
        diags: &mut Diagnostics,
    ) -> Outcome {
        let planned = KeyPairModel::from_value(planned);
        let generated = planned
            .name
            .is_none()
            .then(|| planned.name_prefix.clone().unwrap_or_default());
        let mut spec = KeySpec {
            name: match &generated {
                Some(prefix) => generated_name(prefix),
                None => planned.name.clone().unwrap_or_default(),
            },
            public_key: planned
                .public_key
                .clone()
                .map(|k| parse_public_key(&k).map(|p| p.canonical()).unwrap_or(k)),
            // Everything the key pair is to carry: the provider's defaults and its own tags.
            tags: planned.tags_all.clone().unwrap_or_else(|| {
                if supports(ctx.config.cloud, "tags") {
                    merged_tags(&ctx.config.default_tags, planned.tags.as_ref())
                } else {
                    BTreeMap::new()
                }
            }),
            resource_group_id: planned.resource_group_id.clone(),
            project_id: planned
                .project_id
                .clone()
                .and_then(|n| Value::Number(n).as_i64()),
        };
        let mut outcome = ctx.api.create_key_pair(&spec).await;
        // A generated name someone else holds is drawn again, not an error.
        if let Some(prefix) = &generated {
            for _ in 1..NAME_DRAWS {
                match &outcome {
                    Err(e) if idempotent::is_duplicate(e) => {
                        tracing::info!(name = %spec.name, "generated key pair name taken; drawing another");
                        spec.name = generated_name(prefix);
                        outcome = ctx.api.create_key_pair(&spec).await;
                    }
                    _ => break,
                }
            }
        }
        if let Ok(kp) = &outcome {
            ctx.reads.forget(&kp.id);
        }
        match outcome {
            Ok(kp) if spec.public_key.is_none() && kp.private_key.is_none() => {
                // The cloud created the key but its answer, the only copy of the private key,
                // was lost. Returning the key with an error keeps it in state (Terraform marks
                // it tainted and the next apply replaces it) instead of orphaning it.
                diags.attribute_error(
                    attr("private_key"),
                    "Private key of the new key pair was lost",
                    format!(
                        "The cloud created key pair {:?} ({}), but the answer carrying its private key was lost and the cloud never returns it again. The key pair is kept in state as tainted so it is not orphaned; the next apply replaces it with a new key pair.",
                        kp.name, kp.id
                    ),
                );
                Outcome::Exists(KeyPairModel::from_cloud(&kp, &planned).to_value())
            }
            Ok(mut kp) => {
                if kp.created_at.is_none() {
                    complete_from_cloud(ctx, &mut kp, diags).await;
                }
                rebind_holders(ctx, &kp, planned.force_stop, diags).await;
                Outcome::Exists(KeyPairModel::from_cloud(&kp, &planned).to_value())
            }
            // The provider cannot see `create_before_destroy` at plan time, so the hint comes
            // with the one failure it causes instead of a warning on every replacement.
            Err(e) if idempotent::is_duplicate(&e) => {
                diags.attribute_error(
                    attr("name"),
                    "Key pair name already taken",
                    format!("{e}. A key pair named {:?} already exists. If this create replaces a key pair of the same name with `lifecycle {{ create_before_destroy = true }}`, the old key pair still holds the name until it is deleted, after this create: use `name_prefix` instead of `name` (each key pair then gets its own generated name), leave create_before_destroy off for this resource, or change `name`.", spec.name),
                );
                Outcome::Gone
            }
            Err(e) => {
                diags.attribute_error(attr("name"), "Cannot create key pair", e.to_string());
                Outcome::Gone
            }
        }
    }

    async fn read(&self, ctx: &Ctx, state: &Value, diags: &mut Diagnostics) -> Outcome {
        let state = KeyPairModel::from_value(state);
        let Some(id) = state.key_id.clone() else {
            return Outcome::Gone;
        };
        let name = state.name.clone().unwrap_or_else(|| id.clone());
        match ctx.reads.read(id, name).await {
            ReadOutcome::Found(kp) => {
                let mut fresh = KeyPairModel::from_cloud(&kp, &state);
                // Tags changed outside Terraform show as drift of the resource's own `tags`
                // (and of `tags_all`), not as a silent change of the defaults' share.
                fresh.tags = own_tags(&kp.tags, &ctx.config.default_tags, state.tags.as_ref());
                fresh.public_key = refreshed_public_key(&kp, state.public_key);
                Outcome::Exists(fresh.to_value())
            }
            ReadOutcome::Gone => Outcome::Gone,
            ReadOutcome::Failed(e) => {
                diags.error("Cannot read key pair", e.to_string());
                Outcome::Failed
            }
        }
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Outcome {
        // In place: the tags and the resource group in the cloud, and what has no cloud-side
        // effect (detach_on_destroy, the comment of public_key). Everything else forces a
        // replacement.
        let (before, after) = (
            KeyPairModel::from_value(prior),
            KeyPairModel::from_value(planned),
        );
        let Some(id) = before.key_id.clone() else {
            return Outcome::Exists(planned.clone());
        };
        let kind = ctx.config.cloud;
        if supports(kind, "tags") {
            // What the cloud holds as of the last refresh; older states have no `tags_all`.
            let held = before.tags_all.or(before.tags).unwrap_or_default();
            let wanted = after
                .tags_all
                .unwrap_or_else(|| merged_tags(&ctx.config.default_tags, after.tags.as_ref()));
            let (set, remove) = tag_changes(&held, &wanted);
            if !set.is_empty() || !remove.is_empty() {
                ctx.reads.forget(&id);
                if let Err(e) = ctx.api.tag_key_pair(&id, &set, &remove).await {
                    diags.attribute_error(
                        attr("tags"),
                        "Cannot change the key pair's tags",
                        e.to_string(),
                    );
                    return Outcome::Failed;
                }
                tracing::info!(key = %id, set = set.len(), removed = remove.len(), "key pair tags changed in place");
            }
        }
        if let Some(group) = after.resource_group_id.as_ref().filter(|g| {
            supports(kind, "resource_group_id") && before.resource_group_id.as_ref() != Some(*g)
        }) {
            ctx.reads.forget(&id);
            if let Err(e) = ctx.api.join_resource_group(&id, group).await {
                diags.attribute_error(
                    attr("resource_group_id"),
                    "Cannot move the key pair to another resource group",
                    e.to_string(),
                );
                return Outcome::Failed;
            }
            tracing::info!(key = %id, group = %group, "key pair moved to another resource group");
        }
        Outcome::Exists(planned.clone())
    }

    async fn delete(
        &self,
        ctx: &Ctx,
        prior: &Value,
        _private: &Private,
        diags: &mut Diagnostics,
    ) -> Outcome {
        let prior = KeyPairModel::from_value(prior);
        let (Some(id), Some(name)) = (prior.key_id.clone(), prior.name.clone()) else {
            return Outcome::Gone;
        };
        let mut detached = Vec::new();
        if prior.detach_on_destroy {
            match detach_everywhere(ctx, &id, prior.force_stop, diags).await {
                Some(instances) => detached = instances,
                None => return Outcome::Failed,
            }
        }
        ctx.reads.forget(&id);
        match ctx.deletes.delete(id, name.clone()).await {
            Ok(()) => {
                ctx.remember_holders(&name, detached);
                Outcome::Gone
            }
            Err(e) => {
                diags.error("Cannot delete key pair", e.to_string());
                Outcome::Failed
            }
        }
    }

    async fn import(&self, ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Vec<Imported> {
        let (takes, prefix) = ctx.config.cloud.limits().key_id_shape;
        if prefix.is_some_and(|p| !id.starts_with(p)) {
            // A name where an id belongs: say which id it is, instead of the cloud's
            // "malformed id".
            let named = ctx
                .api
                .describe_key_pairs(&KeyQuery::Names(vec![id.to_string()]))
                .await
                .ok()
                .and_then(|found| found.into_iter().find(|k| k.name == id));
            let detail = match named {
                Some(kp) => format!(
                    "{id:?} is a key pair name; import takes {takes}. The key pair named {id:?} has id {:?}: import that.",
                    kp.id
                ),
                None => format!("{id:?} is not a key id; import takes {takes}, and no key pair is named {id:?} in region {} either.", ctx.config.region),
            };
            diags.error("Import takes a key id", detail);
            return Vec::new();
        }
        match ctx
            .api
            .describe_key_pairs(&KeyQuery::Ids(vec![id.to_string()]))
            .await
        {
            Ok(found) => match found.into_iter().find(|k| k.id == id) {
                Some(kp) => vec![Imported {
                    state: KeyPairModel::imported(&kp, &ctx.config.default_tags).to_value(),
                }],
                None => {
                    diags.error(
                        "Key pair not found",
                        format!(
                            "No key pair {id:?} in region {}. Import takes {takes}.",
                            ctx.config.region
                        ),
                    );
                    Vec::new()
                }
            },
            Err(e) => {
                diags.error("Cannot import key pair", e.to_string());
                Vec::new()
            }
        }
    }
}

/// Characters a generated name adds to `name_prefix`.
const SUFFIX_LEN: usize = 8;
/// Names drawn for one create before a taken name is an error.
const NAME_DRAWS: usize = 3;

/// `prefix` and [`SUFFIX_LEN`] random characters: a lower-case letter (so a name with an empty
/// prefix still starts with one, as ECS and ENS require), then lower-case letters and digits,
/// which every cloud's rule allows. 26 * 36^7 names make a collision a curiosity.
fn generated_name(prefix: &str) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut name = String::from(prefix);
    name.push(LETTERS[rand::random_range(0..LETTERS.len())] as char);
    for _ in 1..SUFFIX_LEN {
        name.push(ALNUM[rand::random_range(0..ALNUM.len())] as char);
    }
    name
}

/// The public key state should hold after a refresh. A reported key that differs from ours in
/// more than comment or whitespace is drift, and a reported key fills an empty one; ours stays
/// otherwise, in the user's spelling. Where the cloud reports none (ENS), a fingerprint that no
/// longer matches ours means the key was replaced: state drops it, so the plan compares the
/// configuration against the cloud's fingerprint and replaces the key.
fn refreshed_public_key(kp: &KeyPair, ours: Option<String>) -> Option<String> {
    match (&kp.public_key, ours) {
        (Some(cloud), Some(ours)) if same_public_key(&ours, cloud) => Some(ours),
        (Some(cloud), _) => Some(cloud.clone()),
        (None, Some(ours)) if !matches_fingerprint(&ours, Some(&kp.fingerprint)) => None,
        (None, ours) => ours,
    }
}

/// Whether `public_key` has the md5 fingerprint the cloud reports (ECS and ENS form: colon
/// separated hex). An unknown or empty fingerprint matches nothing.
fn matches_fingerprint(public_key: &str, fingerprint: Option<&str>) -> bool {
    match (parse_public_key(public_key), fingerprint) {
        (Ok(key), Some(fp)) if !fp.is_empty() => key.md5_fingerprint().eq_ignore_ascii_case(fp),
        _ => false,
    }
}

/// Fills in what a create answer leaves out (ECS and ENS report no creation time, a CVM import
/// only the id), so every computed attribute is final when apply returns and the next refresh
/// changes nothing. The lookup goes through the reader, which batches it with its neighbours.
async fn complete_from_cloud(ctx: &Ctx, kp: &mut KeyPair, diags: &mut Diagnostics) {
    match ctx.reads.read(kp.id.clone(), kp.name.clone()).await {
        ReadOutcome::Found(found) => {
            kp.created_at = found.created_at;
            if kp.fingerprint.is_empty() {
                kp.fingerprint = found.fingerprint;
            }
            // ECS answers a create without the public key; its listing has it.
            if kp.public_key.is_none() {
                kp.public_key = found.public_key;
            }
            // A key pair created without a resource group is in the account's default one,
            // which only a lookup reports.
            kp.resource_group_id = kp.resource_group_id.take().or(found.resource_group_id);
            kp.project_id = kp.project_id.or(found.project_id);
        }
        ReadOutcome::Gone => diags.attribute_warning(
            attr("created_at"),
            "Creation time unknown",
            format!("Key pair {:?} was created, but a lookup right after did not find it yet; `created_at` stays empty until the next refresh.", kp.name),
        ),
        ReadOutcome::Failed(e) => diags.attribute_warning(
            attr("created_at"),
            "Creation time unknown",
            format!("Key pair {:?} was created, but reading its creation time failed ({e}); `created_at` stays empty until the next refresh.", kp.name),
        ),
    }
}

/// What to send to turn the tags `held` into `wanted`: tags to add or overwrite, keys to
/// remove.
fn tag_changes(
    held: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let set = wanted
        .iter()
        .filter(|(k, v)| held.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = held
        .keys()
        .filter(|k| !wanted.contains_key(*k))
        .cloned()
        .collect();
    (set, remove)
}

/// A key replaced under the same name (a new `public_key`, `-replace`) is deleted, then created,
/// in the same apply: the instances `detach_on_destroy` took it from get the new key, so an
/// attachment that names the key follows it and no instance is left without one.
async fn rebind_holders(ctx: &Ctx, kp: &KeyPair, force_stop: bool, diags: &mut Diagnostics) {
    let holders = ctx.take_holders(&kp.name);
    if holders.is_empty() {
        return;
    }
    let opts = BindOptions { force_stop };
    let mut failed = Vec::new();
    for chunk in holders.chunks(ctx.config.max_detach_batch.max(1)) {
        for o in bind_chunk(&*ctx.api, BindOp::Attach, &kp.id, chunk, &opts).await {
            if let Err(e) = o.result {
                failed.push(format!("{}: {e}", o.instance_id));
            }
        }
    }
    tracing::info!(key = %kp.name, instances = holders.len(), failed = failed.len(), "rebound the instances of a replaced key pair");
    if !failed.is_empty() {
        // A warning, not an error: the key exists and is fine; an attachment that lists these
        // instances shows them missing at the next plan and attaches them then.
        diags.attribute_warning(
            attr("name"),
            "Instances not moved to the new key pair",
            format!(
                "Key pair {:?} was replaced and its instances moved to the new one, except: {}",
                kp.name,
                failed.join("; ")
            ),
        );
    }
}

/// Detaches a key from every instance holding it, through the detach coalescer. The instances
/// it was taken from when none holds it any more; `None` (with errors) otherwise.
async fn detach_everywhere(
    ctx: &Ctx,
    key_id: &str,
    force_stop: bool,
    diags: &mut Diagnostics,
) -> Option<Vec<String>> {
    let kind = ctx.config.cloud;
    let (bound, running): (Vec<String>, Vec<String>) = match ctx
        .api
        .describe_instances(&InstanceQuery::BoundTo(key_id.to_string()))
        .await
    {
        Ok(list) => {
            // Instances a detach without ForceStop cannot take the key from, for the hint.
            let running = list
                .iter()
                .filter(|i| i.refusal(kind, false) == Some(Refusal::Running { force_stop: true }))
                .map(|i| i.id.clone())
                .collect();
            (list.into_iter().map(|i| i.id).collect(), running)
        }
        Err(e) => {
            diags.error(
                "Cannot list the instances holding the key pair",
                e.to_string(),
            );
            return None;
        }
    };
    if bound.is_empty() {
        return Some(bound);
    }
    match ctx
        .detaches
        .detach(
            key_id.to_string(),
            bound.clone(),
            BindOptions { force_stop },
        )
        .await
    {
        Ok(outcomes) => {
            let mut ok = true;
            for o in outcomes {
                if let Err(e) = o.result {
                    ok = false;
                    let hint = if !force_stop && running.contains(&o.instance_id) {
                        format!("\n\nThe instance is running and {kind} takes keys only from stopped instances: set `force_stop = true` on the key pair to let the cloud stop it, or stop it first.")
                    } else {
                        String::new()
                    };
                    diags.attribute_error(
                        attr("detach_on_destroy"),
                        format!("Cannot detach key pair from instance {}", o.instance_id),
                        format!("{e}{hint}"),
                    );
                }
            }
            ok.then_some(bound)
        }
        Err(e) => {
            diags.error("Cannot detach key pair before deleting it", e.to_string());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Encoded;

    fn full() -> KeyPairModel {
        KeyPairModel {
            name: Some("web".into()),
            name_prefix: Some("we".into()),
            public_key: Some("ssh-ed25519 AAAA c".into()),
            private_key: None,
            key_id: Some("skey-abcd1234".into()),
            fingerprint: Some("aa:bb".into()),
            created_at: Some("2026-12-03T00:00:00Z".into()),
            detach_on_destroy: true,
            force_stop: true,
            tags: Some(BTreeMap::from([("team".into(), "a".into())])),
            tags_all: Some(BTreeMap::from([
                ("team".into(), "a".into()),
                ("env".into(), "prod".into()),
            ])),
            resource_group_id: None,
            project_id: Some(Number::Int(7)),
        }
    }

    #[test]
    fn model_writes_exactly_the_schemas_attributes() {
        let ty = schema().value_type();
        for m in [KeyPairModel::default(), full()] {
            let v = m.to_value();
            Encoded::encode(&v, &ty).expect("the model's value fits the schema");
            assert_eq!(KeyPairModel::from_value(&v), m, "one conversion each way");
        }
    }

    // Fingerprints computed outside the project (Python: MD5 of the key blob).
    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7";
    const KEY_A_MD5: &str = "5d:fd:4b:bb:6f:13:66:17:fd:be:26:e3:99:8d:6b:b7";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa";
    const KEY_B_MD5: &str = "50:ca:4d:9e:ab:65:16:06:f2:65:5b:68:bc:5b:79:81";

    fn listed(public_key: Option<&str>, fingerprint: &str) -> KeyPair {
        KeyPair {
            name: "k".into(),
            id: "k".into(),
            fingerprint: fingerprint.into(),
            public_key: public_key.map(String::from),
            ..KeyPair::default()
        }
    }

    #[test]
    fn fingerprints_match_only_their_key() {
        assert!(matches_fingerprint(KEY_A, Some(KEY_A_MD5)));
        assert!(matches_fingerprint(
            &format!("{KEY_A} me@host"),
            Some(&KEY_A_MD5.to_uppercase())
        ));
        assert!(!matches_fingerprint(KEY_A, Some(KEY_B_MD5)));
        assert!(!matches_fingerprint(KEY_A, Some("")));
        assert!(!matches_fingerprint(KEY_A, None));
        assert!(!matches_fingerprint("not a key", Some(KEY_A_MD5)));
    }

    #[test]
    fn refresh_keeps_the_users_spelling_and_sees_a_new_key() {
        let ours = format!("{KEY_A} me@host");
        let same = refreshed_public_key(&listed(Some(KEY_A), KEY_A_MD5), Some(ours.clone()));
        assert_eq!(same.as_deref(), Some(ours.as_str()));
        let replaced = refreshed_public_key(&listed(Some(KEY_B), KEY_B_MD5), Some(ours.clone()));
        assert_eq!(replaced.as_deref(), Some(KEY_B));
        let filled = refreshed_public_key(&listed(Some(KEY_A), KEY_A_MD5), None);
        assert_eq!(filled.as_deref(), Some(KEY_A));
        // ENS lists no public key: the fingerprint decides.
        let kept = refreshed_public_key(&listed(None, KEY_A_MD5), Some(ours.clone()));
        assert_eq!(kept.as_deref(), Some(ours.as_str()));
        assert_eq!(
            refreshed_public_key(&listed(None, KEY_B_MD5), Some(ours)),
            None
        );
    }

    #[test]
    fn imported_state_is_what_the_cloud_reports() {
        let kp = KeyPair {
            public_key: Some(format!("  {KEY_A}  cloud-comment ")),
            tags: BTreeMap::from([("team".into(), "web".into()), ("env".into(), "prod".into())]),
            project_id: Some(7),
            ..listed(None, KEY_A_MD5)
        };
        let defaults = BTreeMap::from([("env".to_string(), "prod".to_string())]);
        let m = KeyPairModel::imported(&kp, &defaults);
        assert_eq!(m.public_key.as_deref(), Some(KEY_A));
        assert_eq!(
            m.tags,
            Some(BTreeMap::from([("team".into(), "web".into())])),
            "the defaults' share is left out"
        );
        assert_eq!(m.tags_all, Some(kp.tags.clone()));
        assert_eq!(m.project_id, Some(Number::Int(7)));
        let bare = KeyPairModel::imported(
            &KeyPair {
                tags: BTreeMap::new(),
                ..kp
            },
            &BTreeMap::new(),
        );
        assert_eq!(bare.tags, None, "no tags read as unset");
    }

    #[test]
    fn unknown_reads_as_absent() {
        let mut v = full().to_value();
        v.set_attr("private_key", Value::unknown());
        v.set_attr("detach_on_destroy", Value::unknown());
        let m = KeyPairModel::from_value(&v);
        assert_eq!(m.private_key, None);
        assert!(!m.detach_on_destroy);
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn resource_tags_win_over_defaults() {
        let defaults = map(&[("env", "prod"), ("team", "core")]);
        let own = map(&[("team", "web")]);
        assert_eq!(
            merged_tags(&defaults, Some(&own)),
            map(&[("env", "prod"), ("team", "web")])
        );
        assert_eq!(merged_tags(&defaults, None), defaults);
    }

    #[test]
    fn own_tags_leave_the_defaults_share_out() {
        let defaults = map(&[("env", "prod")]);
        let cloud = map(&[("env", "prod"), ("team", "web")]);
        let prior = map(&[("team", "web")]);
        assert_eq!(
            own_tags(&cloud, &defaults, Some(&prior)),
            Some(map(&[("team", "web")]))
        );
        // A default changed outside Terraform is the resource's drift, not the default's.
        let drifted = map(&[("env", "dev")]);
        assert_eq!(
            own_tags(&drifted, &defaults, None),
            Some(map(&[("env", "dev")]))
        );
        // A key the resource names itself stays its own, even with the default's value.
        let named = map(&[("env", "prod")]);
        assert_eq!(
            own_tags(&cloud, &defaults, Some(&named)),
            Some(map(&[("env", "prod"), ("team", "web")]))
        );
    }

    #[test]
    fn null_tags_and_an_empty_cloud_map_are_no_diff() {
        let none = BTreeMap::new();
        assert_eq!(own_tags(&none, &none, None), None, "null stays null");
        assert_eq!(
            own_tags(&none, &none, Some(&none)),
            Some(none.clone()),
            "an empty map stays empty"
        );
        let defaults = map(&[("env", "prod")]);
        assert_eq!(own_tags(&defaults, &defaults, None), None);
    }

    #[test]
    fn tag_changes_set_what_differs_and_remove_what_is_gone() {
        let held = map(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let wanted = map(&[("a", "1"), ("b", "20"), ("d", "4")]);
        let (set, remove) = tag_changes(&held, &wanted);
        assert_eq!(set, map(&[("b", "20"), ("d", "4")]));
        assert_eq!(remove, vec!["c".to_string()]);
        assert_eq!(tag_changes(&held, &held), (BTreeMap::new(), Vec::new()));
    }

    #[test]
    fn tags_resource_group_and_project_follow_the_clouds_table() {
        assert!(supports(CloudKind::Ecs, "tags") && supports(CloudKind::Ecs, "resource_group_id"));
        assert!(supports(CloudKind::Cvm, "tags") && supports(CloudKind::Cvm, "project_id"));
        assert!(!supports(CloudKind::Cvm, "resource_group_id"));
        assert!(!supports(CloudKind::Ens, "tags"));
        let s = schema();
        let find = |n: &str| s.block.attributes.iter().find(|a| a.name == n).cloned();
        assert!(
            !find("tags").is_some_and(|a| a.force_new),
            "tags change in place"
        );
        assert!(!find("resource_group_id").is_some_and(|a| a.force_new));
        assert!(find("project_id").is_some_and(|a| a.force_new && a.is_computed()));
        assert!(find("tags_all").is_some_and(|a| a.is_computed()));
    }
}
