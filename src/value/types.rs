//! cty types and their JSON form, the `type` bytes of every schema attribute.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{AttributePath, ValueError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    String,
    Number,
    Bool,
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    /// The cty type JSON Terraform expects in `Schema.Attribute.type`.
    pub(crate) fn to_json(&self) -> Json {
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(e) => Json::Array(vec![Json::from("list"), e.to_json()]),
            Type::Set(e) => Json::Array(vec![Json::from("set"), e.to_json()]),
            Type::Map(e) => Json::Array(vec![Json::from("map"), e.to_json()]),
            Type::Object(fields) => Json::Array(vec![
                Json::from("object"),
                Json::Object(
                    fields
                        .iter()
                        .map(|(k, t)| (k.clone(), t.to_json()))
                        .collect(),
                ),
            ]),
            Type::Tuple(elems) => Json::Array(vec![
                Json::from("tuple"),
                Json::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    pub(crate) fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    pub(crate) fn from_json(v: &Json) -> Result<Type, ValueError> {
        let bad = || ValueError::BadType {
            path: AttributePath::root(),
            found: v.to_string(),
        };
        match v {
            Json::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(bad()),
            },
            Json::Array(parts) if parts.len() == 2 => {
                let kind = parts[0].as_str().ok_or_else(bad)?;
                let arg = &parts[1];
                match kind {
                    "list" => Ok(Type::List(Box::new(Type::from_json(arg)?))),
                    "set" => Ok(Type::Set(Box::new(Type::from_json(arg)?))),
                    "map" => Ok(Type::Map(Box::new(Type::from_json(arg)?))),
                    "object" => {
                        let fields = arg.as_object().ok_or_else(bad)?;
                        let mut out = BTreeMap::new();
                        for (k, t) in fields {
                            out.insert(k.clone(), Type::from_json(t)?);
                        }
                        Ok(Type::Object(out))
                    }
                    "tuple" => {
                        let elems = arg.as_array().ok_or_else(bad)?;
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    _ => Err(bad()),
                }
            }
            // cty also writes object types with optional attributes as a 3-array; we never
            // send those, and a type we cannot model is an error, not a guess.
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let t = Type::Object(BTreeMap::from([
            ("a".to_string(), Type::List(Box::new(Type::String))),
            ("b".to_string(), Type::Tuple(vec![Type::Bool, Type::Number])),
            (
                "c".to_string(),
                Type::Map(Box::new(Type::Set(Box::new(Type::Dynamic)))),
            ),
        ]));
        let j = t.to_json();
        assert_eq!(Type::from_json(&j).ok(), Some(t));
        assert_eq!(
            serde_json::from_slice::<Json>(&Type::Set(Box::new(Type::String)).to_json_bytes()).ok(),
            Some(serde_json::json!(["set", "string"]))
        );
    }

    #[test]
    fn rejects_unknown_types() {
        for bad in [
            serde_json::json!("int"),
            serde_json::json!(["list"]),
            serde_json::json!(["object", []]),
        ] {
            assert!(Type::from_json(&bad).is_err(), "{bad}");
        }
    }
}
