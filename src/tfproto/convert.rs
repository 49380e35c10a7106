//! One conversion each way between wire messages and our own types. Nothing else in the crate
//! touches generated code.

use crate::provider::diag::{Diagnostic, Diagnostics, Severity};
use crate::provider::rpc::*;
use crate::schema::{Attribute, Block, IdentitySchema, Schema};
use crate::tfproto::wire;
use crate::value::{AttributePath, Encoded, PathStep};

pub(crate) fn schema_to_wire(schema: &Schema) -> wire::Schema {
    wire::Schema {
        version: schema.version,
        block: Some(block_to_wire(&schema.block, schema.version)),
    }
}

fn block_to_wire(block: &Block, version: i64) -> wire::schema::Block {
    use wire::schema::nested_block::NestingMode;
    wire::schema::Block {
        version,
        attributes: block.attributes.iter().map(attribute_to_wire).collect(),
        block_types: block
            .blocks
            .iter()
            .map(|b| wire::schema::NestedBlock {
                type_name: b.name.to_string(),
                block: Some(block_to_wire(&b.block, version)),
                nesting: NestingMode::Single as i32,
                min_items: 0,
                max_items: 1,
            })
            .collect(),
        description: block.description.clone(),
        description_kind: wire::StringKind::Markdown as i32,
        deprecated: false,
    }
}

fn attribute_to_wire(a: &Attribute) -> wire::schema::Attribute {
    wire::schema::Attribute {
        name: a.name.to_string(),
        r#type: a.ty.to_json_bytes(),
        description: a.description.to_string(),
        required: a.is_required(),
        optional: a.is_optional(),
        computed: a.is_computed(),
        sensitive: a.sensitive,
        description_kind: wire::StringKind::Markdown as i32,
        ..Default::default()
    }
}

pub(crate) fn identity_schema_to_wire(s: &IdentitySchema) -> wire::ResourceIdentitySchema {
    wire::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .attributes
            .iter()
            .map(|a| wire::resource_identity_schema::IdentityAttribute {
                name: a.name.to_string(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: !a.required_for_import,
                description: a.description.to_string(),
            })
            .collect(),
    }
}

pub(crate) fn path_to_wire(path: &AttributePath) -> wire::AttributePath {
    use wire::attribute_path::step::Selector;
    wire::AttributePath {
        steps: path
            .0
            .iter()
            .map(|s| wire::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attribute(n) => Selector::AttributeName(n.clone()),
                    PathStep::ElementKeyString(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::ElementKeyInt(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub(crate) fn diagnostic_to_wire(d: &Diagnostic) -> wire::Diagnostic {
    wire::Diagnostic {
        severity: match d.severity {
            Severity::Error => wire::diagnostic::Severity::Error as i32,
            Severity::Warning => wire::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().map(path_to_wire),
    }
}

pub(crate) fn diagnostics_to_wire(d: &Diagnostics) -> Vec<wire::Diagnostic> {
    d.iter().map(diagnostic_to_wire).collect()
}

fn encoded_from_wire(v: Option<wire::DynamicValue>) -> Option<Encoded> {
    v.map(|v| Encoded {
        msgpack: v.msgpack,
        json: v.json,
    })
}

fn encoded_to_wire(v: Option<Encoded>) -> Option<wire::DynamicValue> {
    v.map(|v| wire::DynamicValue {
        msgpack: v.msgpack,
        json: v.json,
    })
}

fn identity_from_wire(v: Option<wire::ResourceIdentityData>) -> Option<Encoded> {
    encoded_from_wire(v.and_then(|i| i.identity_data))
}

fn identity_to_wire(v: Option<Encoded>) -> Option<wire::ResourceIdentityData> {
    encoded_to_wire(v).map(|d| wire::ResourceIdentityData {
        identity_data: Some(d),
    })
}

fn capabilities_to_wire(plan_destroy: bool) -> wire::ServerCapabilities {
    wire::ServerCapabilities {
        plan_destroy,
        ..Default::default()
    }
}

fn names<T>(list: &[(&str, T)]) -> Vec<String> {
    list.iter().map(|(n, _)| n.to_string()).collect()
}

pub(crate) fn metadata_to_wire(s: &Schemas, plan_destroy: bool) -> wire::get_metadata::Response {
    use wire::get_metadata as m;
    m::Response {
        server_capabilities: Some(capabilities_to_wire(plan_destroy)),
        resources: names(&s.resources)
            .into_iter()
            .map(|type_name| m::ResourceMetadata { type_name })
            .collect(),
        data_sources: names(&s.data_sources)
            .into_iter()
            .map(|type_name| m::DataSourceMetadata { type_name })
            .collect(),
        list_resources: names(&s.list_resources)
            .into_iter()
            .map(|type_name| m::ListResourceMetadata { type_name })
            .collect(),
        ..Default::default()
    }
}

pub(crate) fn provider_schema_to_wire(
    s: &Schemas,
    plan_destroy: bool,
) -> wire::get_provider_schema::Response {
    let each = |list: &[(&str, &Schema)]| {
        list.iter()
            .map(|(n, schema)| (n.to_string(), schema_to_wire(schema)))
            .collect()
    };
    wire::get_provider_schema::Response {
        provider: Some(schema_to_wire(s.provider)),
        resource_schemas: each(&s.resources),
        data_source_schemas: each(&s.data_sources),
        list_resource_schemas: each(&s.list_resources),
        server_capabilities: Some(capabilities_to_wire(plan_destroy)),
        ..Default::default()
    }
}

pub(crate) fn identity_schemas_to_wire(
    s: &Schemas,
) -> wire::get_resource_identity_schemas::Response {
    wire::get_resource_identity_schemas::Response {
        identity_schemas: s
            .identities
            .iter()
            .map(|(n, schema)| (n.to_string(), identity_schema_to_wire(schema)))
            .collect(),
        diagnostics: Vec::new(),
    }
}

pub(crate) fn validate_from_wire(
    kind: ConfigKind,
    type_name: String,
    config: Option<wire::DynamicValue>,
) -> ValidateRequest {
    ValidateRequest {
        kind,
        type_name,
        config: encoded_from_wire(config),
    }
}

pub(crate) fn upgrade_state_from_wire(
    r: wire::upgrade_resource_state::Request,
) -> UpgradeStateRequest {
    let raw = r.raw_state.unwrap_or_default();
    UpgradeStateRequest {
        type_name: r.type_name,
        version: r.version,
        has_flatmap: !raw.flatmap.is_empty(),
        json: raw.json,
    }
}

pub(crate) fn upgrade_state_to_wire(u: Upgraded) -> wire::upgrade_resource_state::Response {
    wire::upgrade_resource_state::Response {
        upgraded_state: encoded_to_wire(u.value),
        diagnostics: diagnostics_to_wire(&u.diagnostics),
    }
}

pub(crate) fn upgrade_identity_from_wire(
    r: wire::upgrade_resource_identity::Request,
) -> UpgradeIdentityRequest {
    UpgradeIdentityRequest {
        type_name: r.type_name,
        json: r.raw_identity.unwrap_or_default().json,
    }
}

pub(crate) fn upgrade_identity_to_wire(u: Upgraded) -> wire::upgrade_resource_identity::Response {
    wire::upgrade_resource_identity::Response {
        upgraded_identity: identity_to_wire(u.value),
        diagnostics: diagnostics_to_wire(&u.diagnostics),
    }
}

pub(crate) fn configure_from_wire(r: wire::configure_provider::Request) -> Option<Encoded> {
    encoded_from_wire(r.config)
}

pub(crate) fn read_from_wire(r: wire::read_resource::Request) -> ReadRequest {
    ReadRequest {
        type_name: r.type_name,
        state: encoded_from_wire(r.current_state),
        private: r.private,
    }
}

pub(crate) fn read_to_wire(n: NewState) -> wire::read_resource::Response {
    wire::read_resource::Response {
        new_state: encoded_to_wire(n.state),
        diagnostics: diagnostics_to_wire(&n.diagnostics),
        private: n.private,
        new_identity: identity_to_wire(n.identity),
        ..Default::default()
    }
}

pub(crate) fn plan_from_wire(r: wire::plan_resource_change::Request) -> PlanRequest {
    PlanRequest {
        type_name: r.type_name,
        prior_state: encoded_from_wire(r.prior_state),
        proposed_state: encoded_from_wire(r.proposed_new_state),
        config: encoded_from_wire(r.config),
        prior_private: r.prior_private,
        prior_identity: identity_from_wire(r.prior_identity),
    }
}

pub(crate) fn plan_to_wire(p: PlanAnswer) -> wire::plan_resource_change::Response {
    wire::plan_resource_change::Response {
        planned_state: encoded_to_wire(p.planned_state),
        requires_replace: p.requires_replace.iter().map(path_to_wire).collect(),
        planned_private: p.planned_private,
        diagnostics: diagnostics_to_wire(&p.diagnostics),
        planned_identity: identity_to_wire(p.planned_identity),
        ..Default::default()
    }
}

pub(crate) fn apply_from_wire(r: wire::apply_resource_change::Request) -> ApplyRequest {
    ApplyRequest {
        type_name: r.type_name,
        prior_state: encoded_from_wire(r.prior_state),
        planned_state: encoded_from_wire(r.planned_state),
        planned_private: r.planned_private,
    }
}

pub(crate) fn apply_to_wire(n: NewState) -> wire::apply_resource_change::Response {
    wire::apply_resource_change::Response {
        new_state: encoded_to_wire(n.state),
        private: n.private,
        diagnostics: diagnostics_to_wire(&n.diagnostics),
        new_identity: identity_to_wire(n.identity),
        ..Default::default()
    }
}

pub(crate) fn import_from_wire(r: wire::import_resource_state::Request) -> ImportRequest {
    ImportRequest {
        type_name: r.type_name,
        id: r.id,
        identity: identity_from_wire(r.identity),
    }
}

pub(crate) fn import_to_wire(a: ImportAnswer) -> wire::import_resource_state::Response {
    wire::import_resource_state::Response {
        imported_resources: a
            .objects
            .into_iter()
            .map(|o| wire::import_resource_state::ImportedResource {
                type_name: a.type_name.clone(),
                state: encoded_to_wire(o.state),
                identity: identity_to_wire(o.identity),
                private: Vec::new(),
            })
            .collect(),
        diagnostics: diagnostics_to_wire(&a.diagnostics),
        ..Default::default()
    }
}

pub(crate) fn move_from_wire(r: wire::move_resource_state::Request) -> MoveRequest {
    MoveRequest {
        source_type_name: r.source_type_name,
        target_type_name: r.target_type_name,
    }
}

pub(crate) fn read_data_from_wire(r: wire::read_data_source::Request) -> ReadDataRequest {
    ReadDataRequest {
        type_name: r.type_name,
        config: encoded_from_wire(r.config),
    }
}

pub(crate) fn read_data_to_wire(a: DataAnswer) -> wire::read_data_source::Response {
    wire::read_data_source::Response {
        state: encoded_to_wire(a.state),
        diagnostics: diagnostics_to_wire(&a.diagnostics),
        ..Default::default()
    }
}

pub(crate) fn list_from_wire(r: wire::list_resource::Request) -> ListRequest {
    ListRequest {
        type_name: r.type_name,
        config: encoded_from_wire(r.config),
        limit: r.limit,
        include_resource_object: r.include_resource_object,
    }
}

pub(crate) fn list_event_to_wire(e: ListEvent) -> wire::list_resource::Event {
    wire::list_resource::Event {
        identity: identity_to_wire(e.identity),
        display_name: e.display_name,
        resource_object: encoded_to_wire(e.resource_object),
        diagnostic: diagnostics_to_wire(&e.diagnostics),
    }
}

pub(crate) fn validate_provider_to_wire(
    d: Diagnostics,
) -> wire::validate_provider_config::Response {
    wire::validate_provider_config::Response {
        diagnostics: diagnostics_to_wire(&d),
    }
}

pub(crate) fn validate_resource_to_wire(
    d: Diagnostics,
) -> wire::validate_resource_config::Response {
    wire::validate_resource_config::Response {
        diagnostics: diagnostics_to_wire(&d),
    }
}

pub(crate) fn validate_data_to_wire(
    d: Diagnostics,
) -> wire::validate_data_resource_config::Response {
    wire::validate_data_resource_config::Response {
        diagnostics: diagnostics_to_wire(&d),
    }
}

pub(crate) fn validate_list_to_wire(
    d: Diagnostics,
) -> wire::validate_list_resource_config::Response {
    wire::validate_list_resource_config::Response {
        diagnostics: diagnostics_to_wire(&d),
    }
}

pub(crate) fn configure_to_wire(d: Diagnostics) -> wire::configure_provider::Response {
    wire::configure_provider::Response {
        diagnostics: diagnostics_to_wire(&d),
    }
}

pub(crate) fn move_to_wire(d: Diagnostics) -> wire::move_resource_state::Response {
    wire::move_resource_state::Response {
        diagnostics: diagnostics_to_wire(&d),
        ..Default::default()
    }
}

pub(crate) fn call_function_to_wire(error: String) -> wire::call_function::Response {
    wire::call_function::Response {
        error: Some(wire::FunctionError {
            text: error,
            function_argument: None,
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Block;
    use crate::value::Type;
    use prost::Message;

    fn sample() -> Schema {
        Schema::new(
            3,
            Block::new(
                "d",
                vec![
                    Attribute::required("name", Type::String).force_new(),
                    Attribute::computed("secret", Type::String).sensitive(),
                    Attribute::optional_computed("flag", Type::Bool),
                ],
            ),
        )
    }

    #[test]
    fn schema_flags_and_types_reach_the_wire() {
        let w = schema_to_wire(&sample());
        assert_eq!(w.version, 3);
        let block = w.block.expect("block");
        let by_name = |n: &str| {
            block
                .attributes
                .iter()
                .find(|a| a.name == n)
                .cloned()
                .expect("attr")
        };
        let name = by_name("name");
        assert!(name.required && !name.optional && !name.computed);
        assert_eq!(name.r#type, b"\"string\"".to_vec());
        let secret = by_name("secret");
        assert!(secret.computed && secret.sensitive && !secret.optional);
        let flag = by_name("flag");
        assert!(flag.optional && flag.computed);
    }

    #[test]
    fn a_nested_block_reaches_the_wire_as_single_at_most_once() {
        let schema = Schema::new(
            1,
            Block::new("p", vec![Attribute::optional("a", Type::String)]).with_block(
                "inner",
                Block::new(
                    "i",
                    vec![Attribute::required("b", Type::String).sensitive()],
                ),
            ),
        );
        let block = schema_to_wire(&schema).block.expect("block");
        assert_eq!(block.block_types.len(), 1);
        let nested = &block.block_types[0];
        assert_eq!(nested.type_name, "inner");
        assert_eq!(
            nested.nesting,
            wire::schema::nested_block::NestingMode::Single as i32
        );
        assert_eq!((nested.min_items, nested.max_items), (0, 1));
        let inner = nested.block.as_ref().expect("inner block");
        assert!(inner.attributes[0].required && inner.attributes[0].sensitive);
    }

    #[test]
    fn attribute_type_is_valid_cty_json() {
        let w = schema_to_wire(&Schema::new(
            0,
            Block::new(
                "",
                vec![Attribute::required(
                    "ids",
                    Type::Set(Box::new(Type::String)),
                )],
            ),
        ));
        let ty = &w.block.expect("block").attributes[0].r#type;
        let parsed: serde_json::Value = serde_json::from_slice(ty).expect("json");
        assert_eq!(parsed, serde_json::json!(["set", "string"]));
    }

    #[test]
    fn diagnostics_carry_paths() {
        let mut d = Diagnostics::new();
        d.attribute_error(
            AttributePath(vec![
                PathStep::Attribute("tags".into()),
                PathStep::ElementKeyString("a".into()),
            ]),
            "s",
            "x",
        );
        let w = diagnostics_to_wire(&d);
        assert_eq!(w[0].severity, wire::diagnostic::Severity::Error as i32);
        let steps = &w[0].attribute.as_ref().expect("path").steps;
        assert_eq!(steps.len(), 2);
        // Round trip through bytes: field numbers are what Terraform reads.
        let bytes = w[0].encode_to_vec();
        let back = wire::Diagnostic::decode(bytes.as_slice()).expect("decode");
        assert_eq!(back, w[0]);
    }
}
