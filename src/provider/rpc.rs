//! The engine's side of every RPC: protocol-free requests and answers, one pair per RPC, and
//! the engine methods that serve them. Values arrive and leave encoded ([`Encoded`]), because
//! which schema decodes them is the engine's decision, as are schema versions, state upgrades,
//! which identity a plan carries and what an import by identity means. The gRPC adapter only
//! converts these structs to and from the wire.

use crate::provider::diag::Diagnostics;
use crate::provider::engine::Engine;
use crate::provider::resource::{ListResource, Private, Resource};
use crate::schema::{IdentitySchema, Schema};
use crate::value::{self, AttributePath, Encoded, Type, Value};

/// What the provider serves, for GetMetadata and GetProviderSchema.
pub(crate) struct Schemas<'a> {
    pub provider: &'a Schema,
    pub resources: Vec<(&'static str, &'a Schema)>,
    pub data_sources: Vec<(&'static str, &'a Schema)>,
    pub list_resources: Vec<(&'static str, &'a Schema)>,
    pub identities: Vec<(&'static str, &'a IdentitySchema)>,
}

/// Which kind of configuration a Validate* RPC checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfigKind {
    Provider,
    Resource,
    DataSource,
    List,
}

pub(crate) struct ValidateRequest {
    pub kind: ConfigKind,
    /// Empty for the provider's own configuration.
    pub type_name: String,
    pub config: Option<Encoded>,
}

pub(crate) struct UpgradeStateRequest {
    pub type_name: String,
    pub version: i64,
    pub json: Vec<u8>,
    /// Pre-0.12 flatmap state, which this provider never wrote.
    pub has_flatmap: bool,
}

pub(crate) struct UpgradeIdentityRequest {
    pub type_name: String,
    pub json: Vec<u8>,
}

/// An upgraded state or identity.
pub(crate) struct Upgraded {
    pub value: Option<Encoded>,
    pub diagnostics: Diagnostics,
}

pub(crate) struct ReadRequest {
    pub type_name: String,
    pub state: Option<Encoded>,
    pub private: Vec<u8>,
}

pub(crate) struct PlanRequest {
    pub type_name: String,
    pub prior_state: Option<Encoded>,
    pub proposed_state: Option<Encoded>,
    pub config: Option<Encoded>,
    pub prior_private: Vec<u8>,
    pub prior_identity: Option<Encoded>,
}

pub(crate) struct PlanAnswer {
    pub planned_state: Option<Encoded>,
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    pub planned_identity: Option<Encoded>,
    pub diagnostics: Diagnostics,
}

pub(crate) struct ApplyRequest {
    pub type_name: String,
    pub prior_state: Option<Encoded>,
    pub planned_state: Option<Encoded>,
    pub planned_private: Vec<u8>,
}

/// The new state of one object (ReadResource and ApplyResourceChange).
pub(crate) struct NewState {
    pub state: Option<Encoded>,
    pub private: Vec<u8>,
    pub identity: Option<Encoded>,
    pub diagnostics: Diagnostics,
}

pub(crate) struct ImportRequest {
    pub type_name: String,
    pub id: String,
    pub identity: Option<Encoded>,
}

pub(crate) struct ImportedObject {
    pub state: Option<Encoded>,
    pub identity: Option<Encoded>,
}

pub(crate) struct ImportAnswer {
    pub type_name: String,
    pub objects: Vec<ImportedObject>,
    pub diagnostics: Diagnostics,
}

pub(crate) struct MoveRequest {
    pub source_type_name: String,
    pub target_type_name: String,
}

pub(crate) struct ReadDataRequest {
    pub type_name: String,
    pub config: Option<Encoded>,
}

/// A data source's state (ReadDataSource).
pub(crate) struct DataAnswer {
    pub state: Option<Encoded>,
    pub diagnostics: Diagnostics,
}

pub(crate) struct ListRequest {
    pub type_name: String,
    pub config: Option<Encoded>,
    pub limit: i64,
    pub include_resource_object: bool,
}

/// One event of a ListResource stream: a found object, or the diagnostics of the whole call.
#[derive(Default)]
pub(crate) struct ListEvent {
    pub identity: Option<Encoded>,
    pub display_name: String,
    pub resource_object: Option<Encoded>,
    pub diagnostics: Diagnostics,
}

/// Decodes a value sent by Terraform. Absent is null.
fn decode(v: Option<&Encoded>, ty: &Type, what: &str, diags: &mut Diagnostics) -> Option<Value> {
    let Some(v) = v else {
        return Some(Value::Null);
    };
    v.decode(ty)
        .map_err(|e| {
            let path = e.path().clone();
            let detail = format!("Terraform sent a {what} this provider cannot decode: {e}. This is a bug in Terraform or the provider; please report it.");
            if path.0.is_empty() {
                diags.error(format!("Malformed {what}"), detail);
            } else {
                diags.attribute_error(path, format!("Malformed {what}"), detail);
            }
        })
        .ok()
}

fn encode(v: &Value, ty: &Type, diags: &mut Diagnostics) -> Option<Encoded> {
    Encoded::encode(v, ty)
        .map_err(|e| {
            diags.error(
                "Provider produced a value it cannot encode",
                format!("{e}; this is a bug in the provider."),
            )
        })
        .ok()
}

/// The identity of the object a state describes, once the state is fully known.
fn identity_of(r: &dyn Resource, state: &Value, diags: &mut Diagnostics) -> Option<Encoded> {
    let identity = r.identity()?;
    if state.is_null() || !state.is_fully_known() {
        return None;
    }
    encode(&identity.of(state)?, &identity.schema().value_type(), diags)
}

impl Engine {
    pub(crate) fn schemas(&self) -> Schemas<'_> {
        Schemas {
            provider: self.provider_schema(),
            resources: self
                .resources()
                .map(|r| (r.type_name(), r.schema()))
                .collect(),
            data_sources: self
                .data_sources()
                .map(|d| (d.type_name(), d.schema()))
                .collect(),
            list_resources: self
                .list_resources()
                .map(|l| (l.type_name(), l.schema()))
                .collect(),
            identities: self
                .resources()
                .filter_map(|r| r.identity().map(|i| (r.type_name(), i.schema())))
                .collect(),
        }
    }

    /// Whether Terraform should ask the provider to plan destroys. No: our resources have
    /// nothing to add to a destroy plan, and asking would cost one more RPC per destroyed
    /// resource (1000 on a large destroy).
    pub(crate) fn plans_destroy(&self) -> bool {
        false
    }

    /// ValidateProviderConfig, ValidateResourceConfig, ValidateDataResourceConfig and
    /// ValidateListResourceConfig. Without a schema (an unknown type name) the check runs on
    /// null and reports the unknown type itself.
    pub(crate) fn validate(&self, req: ValidateRequest) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let name = req.type_name.as_str();
        let (schema, what) = match req.kind {
            ConfigKind::Provider => (Some(self.provider_schema()), "provider configuration"),
            ConfigKind::Resource => (
                self.resource(name).map(|r| r.schema()),
                "resource configuration",
            ),
            ConfigKind::DataSource => (
                self.data_source(name).map(|d| d.schema()),
                "data source configuration",
            ),
            ConfigKind::List => (
                self.list_resource(name).map(|l| l.schema()),
                "list configuration",
            ),
        };
        let config = match schema {
            Some(s) => decode(req.config.as_ref(), &s.value_type(), what, &mut diags),
            None => Some(Value::Null),
        };
        if let Some(config) = config {
            match req.kind {
                ConfigKind::Provider => self.validate_provider_config(&config, &mut diags),
                ConfigKind::Resource => self.validate_resource(name, &config, &mut diags),
                ConfigKind::DataSource => self.validate_data_source(name, &config, &mut diags),
                ConfigKind::List => self.validate_list(name, &config, &mut diags),
            }
        }
        diags
    }

    /// UpgradeResourceState. Every schema is at its first version today: attributes the
    /// current schema no longer has are dropped, new ones start null (Terraform calls this for
    /// every instance in state).
    pub(crate) fn upgrade_state(&self, req: UpgradeStateRequest) -> Upgraded {
        let mut diags = Diagnostics::new();
        let Some(r) = self.lookup_resource(&req.type_name, &mut diags) else {
            return Upgraded {
                value: None,
                diagnostics: diags,
            };
        };
        let schema = r.schema();
        let ty = schema.value_type();
        let mut value = None;
        if req.version > schema.version {
            diags.error(
                "State written by a newer provider",
                format!("The state of this {} has schema version {}, but this provider knows only up to {}. Upgrade the provider.", req.type_name, req.version, schema.version),
            );
        } else if req.has_flatmap && req.json.is_empty() {
            diags.error(
                "Unsupported legacy state",
                "This state is in the pre-0.12 flatmap format, which this provider never wrote.",
            );
        } else {
            match value::json::decode_lenient(&req.json, &ty) {
                Ok(v) => value = encode(&v, &ty, &mut diags),
                Err(e) => diags.error("Cannot read stored state", e.to_string()),
            }
        }
        Upgraded {
            value,
            diagnostics: diags,
        }
    }

    /// UpgradeResourceIdentity: identities are at their first version.
    pub(crate) fn upgrade_identity(&self, req: UpgradeIdentityRequest) -> Upgraded {
        let mut diags = Diagnostics::new();
        let mut value = None;
        match self.resource(&req.type_name).and_then(|r| r.identity()) {
            Some(identity) => {
                let ty = identity.schema().value_type();
                match value::json::decode_lenient(&req.json, &ty) {
                    Ok(v) => value = encode(&v, &ty, &mut diags),
                    Err(e) => diags.error("Cannot read stored identity", e.to_string()),
                }
            }
            None => diags.error(
                "No identity",
                format!("{} has no resource identity.", req.type_name),
            ),
        }
        Upgraded {
            value,
            diagnostics: diags,
        }
    }

    /// ConfigureProvider.
    pub(crate) async fn configure_provider(&self, config: Option<Encoded>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let ty = self.provider_schema().value_type();
        if let Some(config) = decode(config.as_ref(), &ty, "provider configuration", &mut diags) {
            self.configure(&config, &mut diags).await;
        }
        diags
    }

    /// ReadResource. Private bytes are the resource's own and pass through.
    pub(crate) async fn read_resource(&self, req: ReadRequest) -> NewState {
        let mut diags = Diagnostics::new();
        let mut out = NewState {
            state: None,
            private: req.private,
            identity: None,
            diagnostics: Diagnostics::new(),
        };
        if let Some(r) = self.lookup_resource(&req.type_name, &mut diags) {
            let ty = r.schema().value_type();
            if let Some(state) = decode(req.state.as_ref(), &ty, "state", &mut diags) {
                let fresh = self.read(&req.type_name, state, &mut diags).await;
                out.identity = identity_of(&*r, &fresh, &mut diags);
                out.state = encode(&fresh, &ty, &mut diags);
            }
        }
        out.diagnostics = diags;
        out
    }

    /// PlanResourceChange. A create or a replacement plans the new object's identity; an
    /// update keeps the prior identity.
    pub(crate) async fn plan_resource_change(&self, req: PlanRequest) -> PlanAnswer {
        let mut diags = Diagnostics::new();
        let mut out = PlanAnswer {
            planned_state: None,
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
            planned_identity: None,
            diagnostics: Diagnostics::new(),
        };
        if let Some(r) = self.lookup_resource(&req.type_name, &mut diags) {
            let ty = r.schema().value_type();
            let prior = decode(req.prior_state.as_ref(), &ty, "prior state", &mut diags);
            let proposed = decode(
                req.proposed_state.as_ref(),
                &ty,
                "proposed state",
                &mut diags,
            );
            let config = decode(req.config.as_ref(), &ty, "configuration", &mut diags);
            if let (Some(prior), Some(proposed), Some(config)) = (prior, proposed, config) {
                let plan = self
                    .plan(
                        &req.type_name,
                        prior,
                        proposed,
                        config,
                        Private(req.prior_private),
                        &mut diags,
                    )
                    .await;
                out.planned_identity = if plan.is_create() || plan.is_replace() {
                    identity_of(&*r, &plan.planned, &mut diags)
                } else {
                    req.prior_identity
                        .or_else(|| identity_of(&*r, &plan.prior, &mut diags))
                };
                out.planned_state = encode(&plan.planned, &ty, &mut diags);
                out.planned_private = plan.private.0;
                out.requires_replace = plan.requires_replace;
            }
        }
        out.diagnostics = diags;
        out
    }

    /// ApplyResourceChange.
    pub(crate) async fn apply_resource_change(&self, req: ApplyRequest) -> NewState {
        let mut diags = Diagnostics::new();
        let mut out = NewState {
            state: None,
            private: Vec::new(),
            identity: None,
            diagnostics: Diagnostics::new(),
        };
        if let Some(r) = self.lookup_resource(&req.type_name, &mut diags) {
            let ty = r.schema().value_type();
            let prior = decode(req.prior_state.as_ref(), &ty, "prior state", &mut diags);
            let planned = decode(req.planned_state.as_ref(), &ty, "planned state", &mut diags);
            if let (Some(prior), Some(planned)) = (prior, planned) {
                let (state, private) = self
                    .apply(
                        &req.type_name,
                        prior,
                        planned,
                        &Private(req.planned_private),
                        &mut diags,
                    )
                    .await;
                out.identity = identity_of(&*r, &state, &mut diags);
                out.state = encode(&state, &ty, &mut diags);
                out.private = private.0;
            }
        }
        out.diagnostics = diags;
        out
    }

    /// ImportResourceState, by the id the user typed or by an `import { identity = ... }`.
    pub(crate) async fn import_resource_state(&self, req: ImportRequest) -> ImportAnswer {
        let mut diags = Diagnostics::new();
        let mut objects = Vec::new();
        if let Some(r) = self.lookup_resource(&req.type_name, &mut diags) {
            let ty = r.schema().value_type();
            let mut id = req.id;
            if let (Some(sent), Some(identity)) = (req.identity.as_ref(), r.identity()) {
                let ty = identity.schema().value_type();
                if let Some(v) = decode(Some(sent), &ty, "identity", &mut diags) {
                    if let Some(from_identity) = identity.import_id(&v) {
                        id = from_identity;
                    }
                }
            }
            for found in self.import(&req.type_name, &id, &mut diags).await {
                objects.push(ImportedObject {
                    identity: identity_of(&*r, &found.state, &mut diags),
                    state: encode(&found.state, &ty, &mut diags),
                });
            }
        }
        ImportAnswer {
            type_name: req.type_name,
            objects,
            diagnostics: diags,
        }
    }

    /// MoveResourceState: nothing can be moved into this provider's types yet.
    pub(crate) fn move_resource_state(&self, req: MoveRequest) -> Diagnostics {
        let mut diags = Diagnostics::new();
        diags.error(
            "Moving resource state is not supported",
            format!(
                "{} cannot be the target of a `moved` block from {}.",
                req.target_type_name, req.source_type_name
            ),
        );
        diags
    }

    /// ReadDataSource.
    pub(crate) async fn read_data(&self, req: ReadDataRequest) -> DataAnswer {
        let mut diags = Diagnostics::new();
        let mut state = None;
        match self.data_source(&req.type_name) {
            Some(ds) => {
                let ty = ds.schema().value_type();
                if let Some(config) = decode(
                    req.config.as_ref(),
                    &ty,
                    "data source configuration",
                    &mut diags,
                ) {
                    let v = self
                        .read_data_source(&req.type_name, &config, &mut diags)
                        .await;
                    state = encode(&v, &ty, &mut diags);
                }
            }
            None => {
                self.read_data_source(&req.type_name, &Value::Null, &mut diags)
                    .await;
            }
        }
        DataAnswer {
            state,
            diagnostics: diags,
        }
    }

    /// ListResource: one event per object found, then one carrying the call's diagnostics if
    /// it has any.
    pub(crate) async fn list_resource_events(&self, req: ListRequest) -> Vec<ListEvent> {
        let mut diags = Diagnostics::new();
        let mut events = Vec::new();
        let found = self.list_resource(&req.type_name).cloned().zip(
            self.resource(&req.type_name)
                .and_then(|r| r.identity().map(|i| (r.clone(), i.schema().value_type()))),
        );
        match found {
            Some((l, (r, identity_ty))) => {
                let list: &dyn ListResource = &*l;
                let config_ty = list.schema().value_type();
                let resource_ty = r.schema().value_type();
                if let Some(config) = decode(
                    req.config.as_ref(),
                    &config_ty,
                    "list configuration",
                    &mut diags,
                ) {
                    let limit = usize::try_from(req.limit).unwrap_or(0);
                    for item in self.list(&req.type_name, &config, limit, &mut diags).await {
                        let mut item_diags = Diagnostics::new();
                        let identity = encode(&item.identity, &identity_ty, &mut item_diags);
                        let resource_object = if req.include_resource_object {
                            item.state
                                .as_ref()
                                .and_then(|s| encode(s, &resource_ty, &mut item_diags))
                        } else {
                            None
                        };
                        events.push(ListEvent {
                            identity,
                            display_name: item.display_name,
                            resource_object,
                            diagnostics: item_diags,
                        });
                    }
                }
            }
            None => diags.error(
                "Unknown list resource",
                format!("This provider cannot list {:?}.", req.type_name),
            ),
        }
        if !diags.is_empty() {
            events.push(ListEvent {
                diagnostics: diags,
                ..Default::default()
            });
        }
        events
    }

    /// CallFunction: the provider has no functions yet.
    pub(crate) fn call_function(&self, name: &str) -> String {
        format!("This provider has no function {name:?}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_msgpack_is_a_diagnostic_not_a_panic() {
        let mut d = Diagnostics::new();
        let bad = Encoded {
            msgpack: vec![0xc1, 0xff, 0x00],
            json: vec![],
        };
        let ty = Type::Object(std::collections::BTreeMap::from([(
            "name".to_string(),
            Type::String,
        )]));
        assert!(decode(Some(&bad), &ty, "configuration", &mut d).is_none());
        assert!(d.has_errors());
    }

    #[test]
    fn absent_value_is_null() {
        let mut d = Diagnostics::new();
        let v = decode(None, &Type::String, "state", &mut d);
        assert_eq!(v, Some(Value::Null));
        assert!(d.is_empty());
    }
}
