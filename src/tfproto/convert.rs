//! One conversion each way between wire messages and our own types. Nothing else in the crate
//! touches generated code.

use crate::provider::diag::{Diagnostic, Diagnostics, Severity};
use crate::schema::{Attribute, IdentitySchema, Schema};
use crate::tfproto::wire;
use crate::value::{self, AttributePath, PathStep, Type, Value, ValueError};

pub fn schema_to_wire(schema: &Schema) -> wire::Schema {
    wire::Schema {
        version: schema.version,
        block: Some(wire::schema::Block {
            version: schema.version,
            attributes: schema
                .block
                .attributes
                .iter()
                .map(attribute_to_wire)
                .collect(),
            block_types: Vec::new(),
            description: schema.block.description.clone(),
            description_kind: wire::StringKind::Markdown as i32,
            deprecated: false,
        }),
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

pub fn identity_schema_to_wire(s: &IdentitySchema) -> wire::ResourceIdentitySchema {
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

pub fn path_to_wire(path: &AttributePath) -> wire::AttributePath {
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

pub fn diagnostic_to_wire(d: &Diagnostic) -> wire::Diagnostic {
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

pub fn diagnostics_to_wire(d: &Diagnostics) -> Vec<wire::Diagnostic> {
    d.iter().map(diagnostic_to_wire).collect()
}

/// Decodes a DynamicValue sent by Terraform. A missing value is null; JSON is accepted for
/// completeness although Terraform always sends msgpack.
pub fn dynamic_from_wire(
    v: Option<&wire::DynamicValue>,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let Some(v) = v else {
        return Some(Value::Null);
    };
    let result = if !v.msgpack.is_empty() {
        value::msgpack::decode(&v.msgpack, ty)
    } else if !v.json.is_empty() {
        value::json::decode(&v.json, ty)
    } else {
        Ok(Value::Null)
    };
    result.map_err(|e| decode_error(e, what, diags)).ok()
}

fn decode_error(e: ValueError, what: &str, diags: &mut Diagnostics) {
    let path = e.path().clone();
    let detail = format!("Terraform sent a {what} this provider cannot decode: {e}. This is a bug in Terraform or the provider; please report it.");
    if path.0.is_empty() {
        diags.error(format!("Malformed {what}"), detail);
    } else {
        diags.attribute_error(path, format!("Malformed {what}"), detail);
    }
}

pub fn dynamic_to_wire(
    v: &Value,
    ty: &Type,
    diags: &mut Diagnostics,
) -> Option<wire::DynamicValue> {
    match value::msgpack::encode(v, ty) {
        Ok(bytes) => Some(wire::DynamicValue {
            msgpack: bytes,
            json: Vec::new(),
        }),
        Err(e) => {
            diags.error(
                "Provider produced a value it cannot encode",
                format!("{e}; this is a bug in the provider."),
            );
            None
        }
    }
}

pub fn identity_to_wire(
    v: &Value,
    ty: &Type,
    diags: &mut Diagnostics,
) -> Option<wire::ResourceIdentityData> {
    dynamic_to_wire(v, ty, diags).map(|d| wire::ResourceIdentityData {
        identity_data: Some(d),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Block;
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

    #[test]
    fn malformed_msgpack_is_a_diagnostic_not_a_panic() {
        let mut d = Diagnostics::new();
        let bad = wire::DynamicValue {
            msgpack: vec![0xc1, 0xff, 0x00],
            json: vec![],
        };
        let ty = sample().value_type();
        assert!(dynamic_from_wire(Some(&bad), &ty, "configuration", &mut d).is_none());
        assert!(d.has_errors());
    }

    #[test]
    fn absent_value_is_null() {
        let mut d = Diagnostics::new();
        let v = dynamic_from_wire(None, &Type::String, "state", &mut d);
        assert_eq!(v, Some(Value::Null));
    }
}
