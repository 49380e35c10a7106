//! `sshkey_key_pair_attachment`: binds one key pair to a set of instances, updated in place.
//!
//! The official providers replace the whole attachment when `instance_ids` changes; here an
//! update detaches only the removed instances and attaches only the added ones, each in calls
//! chunked to the cloud's limit, and state records exactly the instances that are attached
//! afterwards: partial success is saved, nothing is claimed that did not happen.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use crate::batch::bind::{bind_chunk, BindOp};
use crate::cloud::{
    BindOptions, CloudKind, Instance, InstanceOutcome, InstanceQuery, KeyQuery, Refusal,
};
use crate::provider::diag::{attr, Diagnostics};
use crate::provider::resource::{text, Identity, Imported, Outcome, Plan, Private, Resource};
use crate::provider::Ctx;
use crate::schema::{Attribute, Block, Schema};
use crate::value::{AttributePath, PathStep, Type, Value};

pub(crate) const TYPE_NAME: &str = "sshkey_key_pair_attachment";

pub(crate) struct AttachmentResource {
    schema: Schema,
    identity: Identity,
    /// Instances claimed by attachments planned in this provider process, to report two
    /// attachments fighting over one instance (an instance holds one key pair: alicloud #6925).
    claims: std::sync::Mutex<BTreeMap<String, String>>,
}

impl Default for AttachmentResource {
    fn default() -> Self {
        Self::new()
    }
}

impl AttachmentResource {
    pub fn new() -> Self {
        AttachmentResource {
            schema: schema(),
            identity: Identity::key_id("Cloud id of the attached key pair (the name on ECS)."),
            claims: std::sync::Mutex::new(BTreeMap::new()),
        }
    }
}

pub(crate) fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Attaches one key pair to a set of instances. Changing `instance_ids` updates in place: removed instances are detached, added ones attached, in batched calls.",
            vec![
                Attribute::computed("id", Type::String)
                    .describe("The key pair's cloud id; never derived by splitting a name."),
                Attribute::optional_computed("key_pair_name", Type::String)
                    .force_new()
                    .describe("Name of the key pair (required on ECS; on ENS and CVM `key_id` may be given instead)."),
                Attribute::optional_computed("key_id", Type::String)
                    .force_new()
                    .describe("Cloud id of the key pair (ENS `ssh-...`, CVM `skey-...`); on ECS it is the name."),
                Attribute::required("instance_ids", Type::Set(Box::new(Type::String)))
                    .describe("Instances that hold the key pair: ECS/ENS `i-...`, CVM `ins-` + 8 characters."),
                Attribute::optional_computed("reboot", Type::Bool)
                    .describe("ECS: reboot the instances whose key changed so the change takes effect (default false)."),
                Attribute::optional_computed("force_stop", Type::Bool)
                    .describe("CVM only: let the cloud stop running instances to (dis)associate the key (ForceStop; default false). ENS binds keys only to stopped instances: stop them first."),
            ],
        ),
    )
}

/// An attachment as state records it: one field per attribute of [`schema`], with one
/// conversion each way. What is unknown or null reads as `None`, or as empty or false.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AttachmentModel {
    pub id: Option<String>,
    pub key_pair_name: Option<String>,
    pub key_id: Option<String>,
    pub instance_ids: BTreeSet<String>,
    pub reboot: bool,
    pub force_stop: bool,
}

impl AttachmentModel {
    pub(crate) fn from_value(v: &Value) -> AttachmentModel {
        AttachmentModel {
            id: text(v, "id"),
            key_pair_name: text(v, "key_pair_name"),
            key_id: text(v, "key_id"),
            instance_ids: v
                .attr("instance_ids")
                .and_then(Value::elements)
                .map(|e| {
                    e.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            reboot: v.attr("reboot").and_then(Value::as_bool) == Some(true),
            force_stop: v.attr("force_stop").and_then(Value::as_bool) == Some(true),
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        let opt = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::string);
        Value::object([
            ("id", opt(&self.id)),
            ("key_pair_name", opt(&self.key_pair_name)),
            ("key_id", opt(&self.key_id)),
            (
                "instance_ids",
                Value::Set(self.instance_ids.iter().map(Value::string).collect()),
            ),
            ("reboot", Value::Bool(self.reboot)),
            ("force_stop", Value::Bool(self.force_stop)),
        ])
    }

    /// The same attachment holding exactly `ids`.
    fn holding(&self, ids: BTreeSet<String>) -> AttachmentModel {
        AttachmentModel {
            instance_ids: ids,
            ..self.clone()
        }
    }

    fn bind_options(&self) -> BindOptions {
        BindOptions {
            force_stop: self.force_stop,
        }
    }
}

fn instance_set(v: &Value) -> BTreeSet<String> {
    AttachmentModel::from_value(v).instance_ids
}

/// Reads an attachment by listing the instances bound to its key (state without a key name).
async fn read_bound_to(
    ctx: &Ctx,
    state: &AttachmentModel,
    key_id: &str,
    diags: &mut Diagnostics,
) -> Outcome {
    match ctx
        .api
        .describe_instances(&InstanceQuery::BoundTo(key_id.to_string()))
        .await
    {
        Ok(list) => {
            let ours: BTreeSet<String> = list
                .into_iter()
                .map(|i| i.id)
                .filter(|id| state.instance_ids.contains(id))
                .collect();
            if ours.is_empty() {
                return Outcome::Gone;
            }
            Outcome::Exists(state.holding(ours).to_value())
        }
        Err(e) => {
            diags.error("Cannot read key pair attachment", e.to_string());
            Outcome::Failed
        }
    }
}

/// Checks the instances a plan adds against the cloud before anything is attached: a missing
/// instance, a Windows one, or a running one the cloud will not bind fails the plan on
/// `instance_ids`. An apply that failed half-way would leave a created attachment tainted
/// (Terraform taints any create that reports an error) and the fixed config would replace it,
/// detaching and rebooting the instances that were fine.
///
/// Returns the instances it described.
async fn check_added_instances(ctx: &Ctx, plan: &Plan, diags: &mut Diagnostics) -> Vec<Instance> {
    let unknown = plan.config.attr("instance_ids").is_some_and(|v| {
        v.is_unknown()
            || v.elements()
                .is_some_and(|e| e.iter().any(Value::is_unknown))
    });
    if unknown {
        return Vec::new();
    }
    let prior = instance_set(&plan.prior);
    let added: Vec<String> = instance_set(&plan.planned)
        .difference(&prior)
        .cloned()
        .collect();
    if added.is_empty() {
        return Vec::new();
    }
    let found = match ctx
        .api
        .describe_instances(&InstanceQuery::Ids(added.clone()))
        .await
    {
        Ok(list) => list,
        Err(e) => {
            // Not being able to look is not a reason to refuse the plan; apply reports per instance.
            tracing::info!(error = %e, "could not check the instances at plan time");
            return Vec::new();
        }
    };
    let kind = ctx.config.cloud;
    let force_stop = AttachmentModel::from_value(&plan.planned).force_stop;
    let path = || AttributePath(vec![PathStep::Attribute("instance_ids".into())]);
    for id in &added {
        let Some(inst) = found.iter().find(|i| i.id == *id) else {
            diags.attribute_error(
                path(),
                "Instance not found",
                format!(
                    "`instance_ids` contains {id:?}, which does not exist in {kind} region {}.",
                    ctx.config.region
                ),
            );
            continue;
        };
        match inst.refusal(kind, force_stop) {
            None => {}
            Some(Refusal::Windows) => diags.attribute_error(
                path(),
                "Windows instance",
                format!("`instance_ids` contains {id:?}, which runs Windows: Windows instances take no SSH key pair."),
            ),
            Some(Refusal::Running { force_stop: true }) => diags.attribute_error(
                path(),
                "Instance is running",
                format!("`instance_ids` contains {id:?}, which is running: {kind} binds key pairs to stopped instances. Set `force_stop = true` to let the cloud stop it, or stop it first."),
            ),
            Some(Refusal::Running { force_stop: false }) => diags.attribute_error(
                path(),
                "Instance is running",
                format!("`instance_ids` contains {id:?}, which is running: {kind} binds key pairs to stopped instances only. Stop it first."),
            ),
        }
    }
    found
}

/// The handover a create plans: which of the described instances hold its key already.
fn plan_handover(ctx: &Ctx, plan: &Plan, described: &[Instance]) -> Handover {
    let (Some(key_id), Some(key_name)) = (
        text(&plan.planned, "key_id"),
        text(&plan.planned, "key_pair_name").or_else(|| text(&plan.planned, "key_id")),
    ) else {
        return Handover::default();
    };
    let wanted = instance_set(&plan.planned);
    let keep: BTreeSet<String> = described
        .iter()
        .filter(|i| wanted.contains(&i.id) && i.holds(ctx.config.cloud, &key_id, &key_name))
        .map(|i| i.id.clone())
        .collect();
    Handover {
        keep: Some(Bound {
            key_id,
            instance_ids: keep,
        }),
        partial: false,
    }
}

/// Attaches `ids` in chunks of the configured size. Returns the instances attached; failures
/// are reported per instance.
async fn attach_chunked(
    ctx: &Ctx,
    key_id: &str,
    ids: &BTreeSet<String>,
    opts: &BindOptions,
    diags: &mut Diagnostics,
) -> BTreeSet<String> {
    let list: Vec<String> = ids.iter().cloned().collect();
    let mut done = BTreeSet::new();
    for chunk in list.chunks(ctx.config.max_detach_batch.max(1)) {
        let outcomes = bind_chunk(&*ctx.api, BindOp::Attach, key_id, chunk, opts).await;
        record_outcomes(outcomes, "attach key pair to", &mut done, diags);
    }
    done
}

/// Adds each instance that succeeded to `done` and reports each failure on `instance_ids`,
/// naming the instance ("Cannot {action} instance i-...").
fn record_outcomes(
    outcomes: Vec<InstanceOutcome>,
    action: &str,
    done: &mut BTreeSet<String>,
    diags: &mut Diagnostics,
) {
    for o in outcomes {
        match o.result {
            Ok(()) => {
                done.insert(o.instance_id);
            }
            Err(e) => diags.attribute_error(
                attr("instance_ids"),
                format!("Cannot {action} instance {}", o.instance_id),
                e.to_string(),
            ),
        }
    }
}

/// Detaches `ids` through the coalescer (which chunks and merges concurrent detaches of the
/// same key). Returns the instances detached.
async fn detach_coalesced(
    ctx: &Ctx,
    key_id: &str,
    ids: &BTreeSet<String>,
    opts: &BindOptions,
    diags: &mut Diagnostics,
) -> BTreeSet<String> {
    if ids.is_empty() {
        return BTreeSet::new();
    }
    let mut done = BTreeSet::new();
    match ctx
        .detaches
        .detach(
            key_id.to_string(),
            ids.iter().cloned().collect(),
            opts.clone(),
        )
        .await
    {
        Ok(outcomes) => record_outcomes(outcomes, "detach key pair from", &mut done, diags),
        Err(e) => diags.attribute_error(
            attr("instance_ids"),
            "Cannot detach key pair",
            e.to_string(),
        ),
    }
    done
}

/// ECS applies a key change only after a reboot; reboot what changed when asked to.
async fn reboot_changed(
    ctx: &Ctx,
    state: &AttachmentModel,
    changed: &BTreeSet<String>,
    diags: &mut Diagnostics,
) {
    if ctx.config.cloud != CloudKind::Ecs || !state.reboot {
        return;
    }
    for id in changed {
        if let Err(e) = ctx.api.reboot_instance(id).await {
            diags.warning(
                format!("Cannot reboot instance {id}"),
                format!("The key change takes effect at its next reboot: {e}"),
            );
        }
    }
}

/// What an attachment keeps in private. Terraform replaces an object whose create failed (it
/// taints every create that reports an error, and plans a tainted object as a create); the
/// replacement must still act as the update it stands for: no instance that keeps the key
/// may lose it, even for a moment.
/// - A create's plan records the planned instances that hold the key already (`keep`).
///   Terraform applies the delete half of a replacement with those bytes, so when the delete
///   comes first it leaves them bound; the create describes them again and attaches only the
///   instances that lack the key.
/// - A create that failed marks its state `partial`. With `create_before_destroy` the delete
///   of that object comes last and is given its state's bytes instead: it then leaves bound
///   what the replacement created in this process records.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Handover {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keep: Option<Bound>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    partial: bool,
}

/// Instances that hold one key pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Bound {
    key_id: String,
    instance_ids: BTreeSet<String>,
}

impl Handover {
    fn from_private(p: &Private) -> Handover {
        if p.0.is_empty() {
            return Handover::default();
        }
        serde_json::from_slice(&p.0).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "ignoring private data this version cannot read");
            Handover::default()
        })
    }

    fn to_private(&self) -> Private {
        if *self == Handover::default() {
            return Private::default();
        }
        Private(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The planned instances that keep `key_id`.
    fn kept(&self, key_id: &str) -> BTreeSet<String> {
        match &self.keep {
            Some(b) if b.key_id == key_id => b.instance_ids.clone(),
            _ => BTreeSet::new(),
        }
    }
}

/// Of `ids`, the instances that hold the key already, so a replacement attaches only the rest.
async fn already_holding(
    ctx: &Ctx,
    key_id: &str,
    key_name: &str,
    ids: &BTreeSet<String>,
) -> BTreeSet<String> {
    if ids.is_empty() {
        return BTreeSet::new();
    }
    match ctx
        .api
        .describe_instances(&InstanceQuery::Ids(ids.iter().cloned().collect()))
        .await
    {
        Ok(list) => list
            .into_iter()
            .filter(|i| ids.contains(&i.id) && i.holds(ctx.config.cloud, key_id, key_name))
            .map(|i| i.id)
            .collect(),
        // Attaching again is harmless where it is only slower: attach them all.
        Err(e) => {
            tracing::info!(error = %e, "could not check which instances hold the key already");
            BTreeSet::new()
        }
    }
}

#[async_trait]
impl Resource for AttachmentResource {
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
        let name = config.attr("key_pair_name").unwrap_or(&Value::Null);
        let id = config.attr("key_id").unwrap_or(&Value::Null);
        if name.is_null() && id.is_null() {
            diags.attribute_error(
                attr("key_pair_name"),
                "Missing key pair",
                "Set `key_pair_name` (or `key_id` on ENS and CVM).",
            );
        }
        if let Some(ids) = config.attr("instance_ids").and_then(Value::elements) {
            if ids.is_empty() {
                diags.attribute_error(attr("instance_ids"), "Empty instance set", "`instance_ids` must list at least one instance; delete the attachment to detach the key from all.");
            }
        }
    }

    fn validate_for_cloud(&self, kind: CloudKind, config: &Value, diags: &mut Diagnostics) {
        if let Some(name) = text(config, "key_pair_name") {
            if let Err(rule) = kind.validate_key_name(&name) {
                diags.attribute_error(
                    attr("key_pair_name"),
                    "Invalid key pair name",
                    format!("`key_pair_name` {name:?} breaks the {kind} rule: {rule}"),
                );
            }
        }
        for id in &instance_set(config) {
            if let Err(rule) = kind.validate_instance_id(id) {
                diags.attribute_error(
                    AttributePath(vec![PathStep::Attribute("instance_ids".into())]),
                    "Invalid instance id",
                    format!("`instance_ids` contains {id:?}: {rule}"),
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
        if kind == CloudKind::Ecs
            && text(&plan.config, "key_pair_name").is_none()
            && !plan
                .config
                .attr("key_pair_name")
                .is_some_and(Value::is_unknown)
        {
            diags.attribute_error(
                attr("key_pair_name"),
                "Missing key pair name",
                "On ECS an attachment names its key pair with `key_pair_name`.",
            );
        }
        if kind == CloudKind::Ecs {
            // On ECS the name is the id: plan it so both are known.
            if let Some(name) = text(&plan.config, "key_pair_name") {
                plan.planned.set_attr("key_id", Value::string(&name));
                plan.planned.set_attr("id", Value::string(&name));
            }
        } else if let Some(id) = text(&plan.config, "key_id") {
            plan.planned.set_attr("id", Value::string(&id));
        }
        // Options that exist on one cloud only: elsewhere they would silently do nothing.
        for (name, only, why) in [
            ("reboot", CloudKind::Ecs, "ECS applies a key change at the next reboot; ENS and CVM need no reboot"),
            ("force_stop", CloudKind::Cvm, "only CVM can stop instances itself (ForceStop); on ENS stop the instances before changing their key pair"),
        ] {
            if plan.config.attr(name).and_then(Value::as_bool) == Some(true) && kind != only {
                diags.attribute_error(
                    attr(name),
                    format!("`{name}` is not supported on {kind}"),
                    format!("`{name}` works on {only} only: {why}."),
                );
            }
        }
        for name in ["reboot", "force_stop"] {
            if plan.config.attr(name).is_none_or(Value::is_null) {
                plan.planned.set_attr(name, Value::Bool(false));
            }
        }
        let ids = instance_set(&plan.config);
        let key = text(&plan.config, "key_pair_name").or_else(|| text(&plan.config, "key_id"));
        if let Some(key) = key {
            let mut claims = self.claims.lock().unwrap_or_else(|p| p.into_inner());
            for id in &ids {
                match claims.get(id) {
                    Some(other) if *other != key => diags.attribute_error(
                        attr("instance_ids"),
                        "Instance in two attachments",
                        format!("Instance {id} is also attached to key pair {other:?} in this configuration. An instance holds one key pair; the attachments would overwrite each other."),
                    ),
                    _ => {
                        claims.insert(id.clone(), key.clone());
                    }
                }
            }
        }
        let described = if diags.has_errors() {
            Vec::new()
        } else {
            check_added_instances(ctx, plan, diags).await
        };
        plan.private = if plan.is_create() {
            plan_handover(ctx, plan, &described).to_private()
        } else {
            Private::default()
        };
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        private: &Private,
        diags: &mut Diagnostics,
    ) -> Outcome {
        let planned = AttachmentModel::from_value(planned);
        let Some(state) = resolve_key(ctx, &planned, diags).await else {
            return Outcome::Gone;
        };
        let key_id = state.key_id.clone().unwrap_or_default();
        let key_name = state.key_pair_name.clone().unwrap_or_default();
        let kept = Handover::from_private(private).kept(&key_id);
        let holding = already_holding(ctx, &key_id, &key_name, &kept).await;
        let to_attach: BTreeSet<String> =
            planned.instance_ids.difference(&holding).cloned().collect();
        if !holding.is_empty() {
            tracing::info!(
                kept = holding.len(),
                attaching = to_attach.len(),
                "replacing an attachment: instances that hold the key keep it"
            );
        }
        let attached =
            attach_chunked(ctx, &key_id, &to_attach, &planned.bind_options(), diags).await;
        reboot_changed(ctx, &planned, &attached, diags).await;
        let done: BTreeSet<String> = holding.union(&attached).cloned().collect();
        if !diags.has_errors() {
            ctx.claim_bindings(&key_id, &done);
        }
        if done.is_empty() {
            return Outcome::Gone;
        }
        Outcome::Exists(state.holding(done).to_value())
    }

    fn private_after_create(&self, failed: bool) -> Private {
        Handover {
            keep: None,
            partial: failed,
        }
        .to_private()
    }

    async fn read(&self, ctx: &Ctx, state: &Value, diags: &mut Diagnostics) -> Outcome {
        let state = AttachmentModel::from_value(state);
        let Some(key_id) = state.key_id.clone() else {
            return Outcome::Gone;
        };
        let kind = ctx.config.cloud;
        let wanted = &state.instance_ids;
        let Some(key_name) = state.key_pair_name.clone().filter(|_| !wanted.is_empty()) else {
            return read_bound_to(ctx, &state, &key_id, diags).await;
        };
        // The instances in state, described in chunks of the cloud's limit, instead of every
        // instance in the region.
        let instances = match ctx
            .api
            .describe_instances(&InstanceQuery::Ids(wanted.iter().cloned().collect()))
            .await
        {
            Ok(list) => list,
            Err(e) => {
                diags.error("Cannot read key pair attachment", e.to_string());
                return Outcome::Failed;
            }
        };
        let holding = |id: &str| -> BTreeSet<String> {
            instances
                .iter()
                .filter(|i| wanted.contains(&i.id) && i.holds(kind, id, &key_name))
                .map(|i| i.id.clone())
                .collect()
        };
        let ours = holding(&key_id);
        if !ours.is_empty() {
            return Outcome::Exists(state.holding(ours).to_value());
        }
        // None holds the key this attachment was made with: if the key was replaced under the
        // same name (its instances moved to the new key), the attachment follows the name.
        let renamed = match ctx
            .api
            .describe_key_pairs(&KeyQuery::Names(vec![key_name.clone()]))
            .await
        {
            Ok(found) => found
                .into_iter()
                .find(|k| k.name == key_name && k.id != key_id),
            Err(e) => {
                diags.error("Cannot read key pair attachment", e.to_string());
                return Outcome::Failed;
            }
        };
        let Some(kp) = renamed else {
            return Outcome::Gone;
        };
        let ours = holding(&kp.id);
        if ours.is_empty() {
            return Outcome::Gone;
        }
        Outcome::Exists(
            AttachmentModel {
                id: Some(kp.id.clone()),
                key_id: Some(kp.id),
                ..state.holding(ours)
            }
            .to_value(),
        )
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Outcome {
        let prior = AttachmentModel::from_value(prior);
        let planned = AttachmentModel::from_value(planned);
        let Some(key_id) = prior.key_id.clone() else {
            diags.error(
                "Attachment state has no key_id",
                "Remove it from state and import it again.",
            );
            return Outcome::Failed;
        };
        let (old, new) = (&prior.instance_ids, &planned.instance_ids);
        let opts = planned.bind_options();
        let to_detach: BTreeSet<String> = old.difference(new).cloned().collect();
        let to_attach: BTreeSet<String> = new.difference(old).cloned().collect();
        let detached = detach_coalesced(ctx, &key_id, &to_detach, &opts, diags).await;
        let attached = attach_chunked(ctx, &key_id, &to_attach, &opts, diags).await;
        let now: BTreeSet<String> = old
            .difference(&detached)
            .cloned()
            .chain(attached.iter().cloned())
            .collect();
        let changed: BTreeSet<String> = detached.union(&attached).cloned().collect();
        reboot_changed(ctx, &planned, &changed, diags).await;
        Outcome::Exists(planned.holding(now).to_value())
    }

    async fn delete(
        &self,
        ctx: &Ctx,
        prior: &Value,
        private: &Private,
        diags: &mut Diagnostics,
    ) -> Outcome {
        let prior = AttachmentModel::from_value(prior);
        let Some(key_id) = prior.key_id.clone() else {
            return Outcome::Gone;
        };
        // What the object replacing this one keeps on the same key stays bound: planned so
        // when the delete comes first, recorded by its create when that came first.
        let handover = Handover::from_private(private);
        let mut kept = handover.kept(&key_id);
        if handover.partial {
            kept.extend(ctx.claimed_bindings(&key_id));
        }
        let old: BTreeSet<String> = prior.instance_ids.difference(&kept).cloned().collect();
        if old.len() < prior.instance_ids.len() {
            tracing::info!(
                kept = prior.instance_ids.len() - old.len(),
                "instances another attachment of this key records stay bound"
            );
        }
        let detached = detach_coalesced(ctx, &key_id, &old, &prior.bind_options(), diags).await;
        reboot_changed(ctx, &prior, &detached, diags).await;
        let left: BTreeSet<String> = old.difference(&detached).cloned().collect();
        if left.is_empty() {
            Outcome::Gone
        } else {
            Outcome::Exists(prior.holding(left).to_value())
        }
    }

    async fn import(&self, ctx: &Ctx, id: &str, diags: &mut Diagnostics) -> Vec<Imported> {
        let found = match ctx
            .api
            .describe_key_pairs(&KeyQuery::Ids(vec![id.to_string()]))
            .await
        {
            Ok(found) => found.into_iter().find(|k| k.id == id),
            Err(e) => {
                diags.error("Cannot import key pair attachment", e.to_string());
                return Vec::new();
            }
        };
        let Some(kp) = found else {
            diags.error(
                "Key pair not found",
                format!(
                    "No key pair with id {id:?} in region {}.",
                    ctx.config.region
                ),
            );
            return Vec::new();
        };
        let bound: BTreeSet<String> = match ctx
            .api
            .describe_instances(&InstanceQuery::BoundTo(kp.id.clone()))
            .await
        {
            Ok(list) => list.into_iter().map(|i| i.id).collect(),
            Err(e) => {
                diags.error(
                    "Cannot list the instances holding the key pair",
                    e.to_string(),
                );
                return Vec::new();
            }
        };
        if bound.is_empty() {
            diags.error(
                "Nothing to import",
                format!("Key pair {id:?} is not attached to any instance."),
            );
            return Vec::new();
        }
        let state = AttachmentModel {
            id: Some(kp.id.clone()),
            key_pair_name: Some(kp.name),
            key_id: Some(kp.id),
            instance_ids: bound,
            reboot: false,
            force_stop: false,
        };
        vec![Imported {
            state: state.to_value(),
        }]
    }
}

/// The planned attachment with `key_id`, `key_pair_name` and `id` filled in from whichever one
/// the user gave.
async fn resolve_key(
    ctx: &Ctx,
    planned: &AttachmentModel,
    diags: &mut Diagnostics,
) -> Option<AttachmentModel> {
    let (name, id) = (&planned.key_pair_name, &planned.key_id);
    let query = match (id, name, ctx.config.cloud) {
        (_, Some(n), CloudKind::Ecs) => KeyQuery::Ids(vec![n.clone()]),
        (Some(i), _, _) => KeyQuery::Ids(vec![i.clone()]),
        (None, Some(n), _) => KeyQuery::Names(vec![n.clone()]),
        (None, None, _) => {
            diags.attribute_error(
                attr("key_pair_name"),
                "Missing key pair",
                "Set `key_pair_name` or `key_id`.",
            );
            return None;
        }
    };
    let kp = match ctx.api.describe_key_pairs(&query).await {
        Ok(found) => found
            .into_iter()
            .find(|k| Some(&k.id) == id.as_ref() || Some(&k.name) == name.as_ref()),
        Err(e) => {
            diags.error("Cannot look up the key pair", e.to_string());
            return None;
        }
    };
    let Some(kp) = kp else {
        let which = id.clone().or(name.clone()).unwrap_or_default();
        diags.attribute_error(
            attr("key_pair_name"),
            "Key pair not found",
            format!("No key pair {which:?} in region {}.", ctx.config.region),
        );
        return None;
    };
    Some(AttachmentModel {
        id: Some(kp.id.clone()),
        key_id: Some(kp.id),
        key_pair_name: Some(kp.name),
        ..planned.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn handover_round_trips_and_keeps_only_for_its_key() {
        let h = Handover {
            keep: Some(Bound {
                key_id: "skey-aaaa1111".into(),
                instance_ids: ids(&["ins-1", "ins-2"]),
            }),
            partial: false,
        };
        let back = Handover::from_private(&h.to_private());
        assert_eq!(back, h);
        assert_eq!(back.kept("skey-aaaa1111"), ids(&["ins-1", "ins-2"]));
        assert!(
            back.kept("skey-bbbb2222").is_empty(),
            "another key keeps nothing"
        );
    }

    #[test]
    fn empty_handover_is_no_bytes_and_unreadable_bytes_are_ignored() {
        assert_eq!(Handover::default().to_private(), Private::default());
        assert_eq!(
            Handover::from_private(&Private::default()),
            Handover::default()
        );
        let odd = Handover::from_private(&Private(b"\x00not json".to_vec()));
        assert_eq!(odd, Handover::default());
        assert!(odd.kept("k").is_empty());
    }

    #[test]
    fn model_writes_exactly_the_schemas_attributes() {
        let ty = schema().value_type();
        let full = AttachmentModel {
            id: Some("skey-1".into()),
            key_pair_name: Some("web".into()),
            key_id: Some("skey-1".into()),
            instance_ids: ids(&["ins-1", "ins-2"]),
            reboot: true,
            force_stop: false,
        };
        for m in [AttachmentModel::default(), full] {
            let v = m.to_value();
            crate::value::Encoded::encode(&v, &ty).expect("the model's value fits the schema");
            assert_eq!(
                AttachmentModel::from_value(&v),
                m,
                "one conversion each way"
            );
        }
    }

    #[test]
    fn a_failed_create_marks_its_state_partial() {
        let r = AttachmentResource::new();
        assert!(Handover::from_private(&r.private_after_create(true)).partial);
        assert_eq!(r.private_after_create(false), Private::default());
    }
}
