//! The JSON encoding of values, used for state Terraform stored (`UpgradeResourceState`) and raw
//! identities. JSON cannot hold unknowns; stored state never has them.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{AttributePath, Number, PathStep, Type, Value, ValueError, MAX_DEPTH};

/// Decodes JSON that must match `ty` exactly.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    decode_with(bytes, ty, false)
}

/// Decodes JSON written by an older schema: object attributes the type no longer has are
/// dropped, attributes it gained start null.
pub fn decode_lenient(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    decode_with(bytes, ty, true)
}

fn decode_with(bytes: &[u8], ty: &Type, lenient: bool) -> Result<Value, ValueError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| ValueError::Malformed {
        path: AttributePath::root(),
        reason: e.to_string(),
    })?;
    from_json(json, ty, &AttributePath::root(), lenient, 0)
}

pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    Ok(to_json(v, ty, &AttributePath::root(), 0)?
        .to_string()
        .into_bytes())
}

fn mismatch(path: &AttributePath, ty: &Type, found: &Json) -> ValueError {
    let kind = match found {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    };
    ValueError::TypeMismatch {
        path: path.clone(),
        expected: ty.to_json().to_string(),
        found: kind.into(),
    }
}

fn from_json(
    j: Json,
    ty: &Type,
    path: &AttributePath,
    lenient: bool,
    depth: usize,
) -> Result<Value, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::TooDeep {
            path: path.clone(),
            limit: MAX_DEPTH,
        });
    }
    if j.is_null() {
        return Ok(Value::Null);
    }
    let recurse = |j: Json, t: &Type, p: AttributePath| from_json(j, t, &p, lenient, depth + 1);
    match ty {
        Type::String => match j {
            Json::String(s) => Ok(Value::String(s)),
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Bool => match j {
            Json::Bool(b) => Ok(Value::Bool(b)),
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Number => match &j {
            Json::Number(n) => Ok(Value::Number(match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Number::Int(i),
                // Above i64::MAX: exact as text, where the f64 would round.
                (None, Some(u), _) => Number::Decimal(u.to_string()),
                (None, None, Some(f)) => Number::Float(f),
                _ => Number::Decimal(n.to_string()),
            })),
            // cty writes numbers as JSON numbers, but a decimal string is unambiguous (and is
            // how we write numbers a JSON number would round).
            Json::String(s) => Number::from_decimal_text(s)
                .map(Value::Number)
                .ok_or_else(|| mismatch(path, ty, &j)),
            other => Err(mismatch(path, ty, other)),
        },
        Type::List(e) | Type::Set(e) => {
            let Json::Array(items) = j else {
                return Err(mismatch(path, ty, &j));
            };
            let out = items
                .into_iter()
                .enumerate()
                .map(|(i, x)| recurse(x, e, path.child(PathStep::ElementKeyInt(i as i64))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            })
        }
        Type::Tuple(es) => {
            let Json::Array(items) = j else {
                return Err(mismatch(path, ty, &j));
            };
            if items.len() != es.len() {
                return Err(ValueError::Malformed {
                    path: path.clone(),
                    reason: format!("tuple of {} elements, expected {}", items.len(), es.len()),
                });
            }
            Ok(Value::Tuple(
                items
                    .into_iter()
                    .zip(es)
                    .enumerate()
                    .map(|(i, (x, t))| recurse(x, t, path.child(PathStep::ElementKeyInt(i as i64))))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Type::Map(e) => {
            let Json::Object(m) = j else {
                return Err(mismatch(path, ty, &j));
            };
            Ok(Value::Map(
                m.into_iter()
                    .map(|(k, x)| {
                        let p = path.child(PathStep::ElementKeyString(k.clone()));
                        Ok((k, recurse(x, e, p)?))
                    })
                    .collect::<Result<_, ValueError>>()?,
            ))
        }
        Type::Object(fields) => {
            let Json::Object(m) = j else {
                return Err(mismatch(path, ty, &j));
            };
            let mut out = BTreeMap::new();
            for (k, x) in m {
                match fields.get(&k) {
                    Some(t) => {
                        let p = path.child(PathStep::Attribute(k.clone()));
                        out.insert(k, recurse(x, t, p)?);
                    }
                    None if lenient => {}
                    None => {
                        return Err(ValueError::UnexpectedAttribute {
                            path: path.clone(),
                            name: k,
                        })
                    }
                }
            }
            for name in fields.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            let Json::Object(mut m) = j else {
                return Err(mismatch(path, ty, &j));
            };
            let (Some(t), Some(v)) = (m.remove("type"), m.remove("value")) else {
                return Err(ValueError::Malformed {
                    path: path.clone(),
                    reason: "dynamic value needs \"type\" and \"value\"".into(),
                });
            };
            let inner_ty = Type::from_json(&t).map_err(|_| ValueError::BadType {
                path: path.clone(),
                found: t.to_string(),
            })?;
            let inner = from_json(v, &inner_ty, path, lenient, depth + 1)?;
            Ok(Value::Dynamic(inner_ty, Box::new(inner)))
        }
    }
}

fn to_json(v: &Value, ty: &Type, path: &AttributePath, depth: usize) -> Result<Json, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::TooDeep {
            path: path.clone(),
            limit: MAX_DEPTH,
        });
    }
    let wrong = || ValueError::TypeMismatch {
        path: path.clone(),
        expected: ty.to_json().to_string(),
        found: format!("{v:?}"),
    };
    match (v, ty) {
        (Value::Null, _) => Ok(Json::Null),
        (Value::Unknown(_), _) => Err(ValueError::UnknownInJson { path: path.clone() }),
        (Value::String(s), Type::String) => Ok(Json::from(s.as_str())),
        (Value::Bool(b), Type::Bool) => Ok(Json::Bool(*b)),
        (Value::Number(n), Type::Number) => Ok(match n {
            Number::Int(i) => Json::from(*i),
            Number::Float(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .ok_or_else(wrong)?,
            // serde_json would read any other decimal through an f64 and round it.
            Number::Decimal(s) => match s.parse::<u64>() {
                Ok(u) => Json::from(u),
                Err(_) => Json::from(s.as_str()),
            },
        }),
        (Value::List(items), Type::List(e)) | (Value::Set(items), Type::Set(e)) => Ok(Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    to_json(
                        x,
                        e,
                        &path.child(PathStep::ElementKeyInt(i as i64)),
                        depth + 1,
                    )
                })
                .collect::<Result<_, _>>()?,
        )),
        (Value::Tuple(items), Type::Tuple(es)) if items.len() == es.len() => Ok(Json::Array(
            items
                .iter()
                .zip(es)
                .enumerate()
                .map(|(i, (x, t))| {
                    to_json(
                        x,
                        t,
                        &path.child(PathStep::ElementKeyInt(i as i64)),
                        depth + 1,
                    )
                })
                .collect::<Result<_, _>>()?,
        )),
        (Value::Map(m), Type::Map(e)) => Ok(Json::Object(
            m.iter()
                .map(|(k, x)| {
                    Ok((
                        k.clone(),
                        to_json(
                            x,
                            e,
                            &path.child(PathStep::ElementKeyString(k.clone())),
                            depth + 1,
                        )?,
                    ))
                })
                .collect::<Result<_, ValueError>>()?,
        )),
        (Value::Object(m), Type::Object(fields)) => {
            if let Some(extra) = m.keys().find(|k| !fields.contains_key(*k)) {
                return Err(ValueError::UnexpectedAttribute {
                    path: path.clone(),
                    name: extra.clone(),
                });
            }
            Ok(Json::Object(
                fields
                    .iter()
                    .map(|(k, t)| {
                        let x = m.get(k).unwrap_or(&Value::Null);
                        Ok((
                            k.clone(),
                            to_json(x, t, &path.child(PathStep::Attribute(k.clone())), depth + 1)?,
                        ))
                    })
                    .collect::<Result<_, ValueError>>()?,
            ))
        }
        (Value::Dynamic(t, x), Type::Dynamic) => {
            Ok(serde_json::json!({ "type": t.to_json(), "value": to_json(x, t, path, depth + 1)? }))
        }
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ty() -> Type {
        Type::Object(BTreeMap::from([
            ("name".to_string(), Type::String),
            ("n".to_string(), Type::Number),
            ("ids".to_string(), Type::Set(Box::new(Type::String))),
        ]))
    }

    #[test]
    fn raw_state_with_unknown_attribute() {
        let raw = br#"{"name":"a","n":2,"ids":["x"],"gone":true}"#;
        assert!(matches!(
            decode(raw, &ty()),
            Err(ValueError::UnexpectedAttribute { .. })
        ));
        let v = decode_lenient(raw, &ty()).expect("lenient");
        assert_eq!(v.attr("name"), Some(&Value::string("a")));
        assert_eq!(v.attr("n").and_then(Value::as_i64), Some(2));
    }

    #[test]
    fn numbers_as_text_follow_json_grammar() {
        // Rust's float parser accepts these; cty does not, and they cannot round-trip.
        for bad in [
            &br#""NaN""#[..],
            br#""inf""#,
            br#""+1""#,
            br#""1.""#,
            br#""abc""#,
        ] {
            assert!(
                decode(bad, &Type::Number).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(decode(br#""12""#, &Type::Number), Ok(Value::int(12)));
        // Above i64::MAX a JSON number stays exact instead of rounding through f64.
        let max = decode(b"18446744073709551615", &Type::Number).expect("decode");
        assert_eq!(max, Value::Number(Number::Decimal(u64::MAX.to_string())));
        assert_eq!(
            encode(&max, &Type::Number).expect("encode"),
            b"18446744073709551615"
        );
    }

    #[test]
    fn missing_attributes_become_null() {
        let v = decode(br#"{"name":"a"}"#, &ty()).expect("decode");
        assert_eq!(v.attr("ids"), Some(&Value::Null));
    }

    #[test]
    fn unknown_cannot_be_stored() {
        let v = Value::object([("name", Value::unknown())]);
        assert!(matches!(
            encode(&v, &ty()),
            Err(ValueError::UnknownInJson { .. })
        ));
    }

    #[test]
    fn wrong_type_has_path() {
        let err = decode(br#"{"ids":[1]}"#, &ty()).expect_err("must fail");
        assert_eq!(err.path().to_string(), "ids[0]");
    }

    fn known(v: &Value) -> bool {
        v.is_fully_known()
    }

    proptest! {
        #[test]
        fn round_trip(v in crate::value::msgpack::tests::arb_value(ty()).prop_filter("known", known)) {
            let bytes = encode(&v, &ty()).expect("encode");
            prop_assert_eq!(decode(&bytes, &ty()).expect("decode"), v);
        }

        #[test]
        fn random_text_never_panics(s in ".{0,64}") {
            let _ = decode(s.as_bytes(), &ty());
            let _ = decode_lenient(s.as_bytes(), &ty());
        }
    }
}
