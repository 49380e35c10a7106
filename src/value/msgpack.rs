//! The msgpack encoding of values, as Terraform writes it in every `DynamicValue`.
//!
//! Input goes through `rmpv` (which bounds nesting depth) and is then checked against the type
//! we expect, so hostile or malformed bytes end in a [`ValueError`] with a path.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::{AttributePath, Number, PathStep, Refinements, Type, Value, ValueError, MAX_DEPTH};

/// Extension type Terraform uses for unknowns that carry refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;

pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    let mut cursor = bytes;
    let mp = rmpv::decode::read_value_with_max_depth(&mut cursor, MAX_DEPTH).map_err(|e| {
        ValueError::Malformed {
            path: AttributePath::root(),
            reason: e.to_string(),
        }
    })?;
    if !cursor.is_empty() {
        return Err(ValueError::Trailing {
            path: AttributePath::root(),
            remaining: cursor.len(),
        });
    }
    from_mp(mp, ty, &AttributePath::root(), 0)
}

pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    let mp = to_mp(v, ty, &AttributePath::root(), 0)?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp).map_err(|e| ValueError::Malformed {
        path: AttributePath::root(),
        reason: e.to_string(),
    })?;
    Ok(out)
}

fn mismatch(path: &AttributePath, ty: &Type, found: &Mp) -> ValueError {
    let kind = match found {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "bool",
        Mp::Integer(_) | Mp::F32(_) | Mp::F64(_) => "number",
        Mp::String(_) => "string",
        Mp::Binary(_) => "binary",
        Mp::Array(_) => "array",
        Mp::Map(_) => "map",
        Mp::Ext(..) => "extension",
    };
    ValueError::TypeMismatch {
        path: path.clone(),
        expected: ty.to_json().to_string(),
        found: kind.to_string(),
    }
}

fn text(mp: Mp, path: &AttributePath) -> Result<String, ValueError> {
    match mp {
        Mp::String(s) => s.into_str().ok_or_else(|| ValueError::Malformed {
            path: path.clone(),
            reason: "string is not valid UTF-8".into(),
        }),
        other => Err(ValueError::TypeMismatch {
            path: path.clone(),
            expected: "string".into(),
            found: format!("{other}"),
        }),
    }
}

/// A number, or `None` for anything cty could not have sent as one: NaN and infinities (which
/// no encoding of ours can carry back) and strings that are not decimal numbers.
fn number_from_mp(mp: &Mp) -> Option<Number> {
    match mp {
        Mp::Integer(i) => Some(match (i.as_i64(), i.as_u64()) {
            (Some(n), _) => Number::Int(n),
            (None, Some(u)) => Number::Decimal(u.to_string()),
            (None, None) => return None,
        }),
        Mp::F32(f) => Number::from_f64(f64::from(*f)),
        Mp::F64(f) => Number::from_f64(*f),
        Mp::String(s) => s.as_str().and_then(Number::from_decimal_text),
        _ => None,
    }
}

fn not_a_number(path: &AttributePath, ty: &Type, found: &Mp) -> ValueError {
    let reason = match found {
        Mp::F32(_) | Mp::F64(_) => "number is NaN or infinite",
        Mp::String(_) => "string is not a decimal number",
        other => return mismatch(path, ty, other),
    };
    ValueError::Malformed {
        path: path.clone(),
        reason: reason.into(),
    }
}

fn number_to_mp(n: &Number) -> Mp {
    match n {
        Number::Int(i) => Mp::from(*i),
        // Whole floats travel as integers, the way cty writes them.
        Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Mp::from(*f as i64),
        Number::Float(f) => Mp::F64(*f),
        // Integers above i64::MAX still fit msgpack's uint 64; anything else travels as text.
        Number::Decimal(s) => match s.parse::<u64>() {
            Ok(u) => Mp::from(u),
            Err(_) => Mp::from(s.as_str()),
        },
    }
}

fn from_mp(mp: Mp, ty: &Type, path: &AttributePath, depth: usize) -> Result<Value, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::TooDeep {
            path: path.clone(),
            limit: MAX_DEPTH,
        });
    }
    match mp {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(kind, payload) => return Ok(Value::Unknown(refinements(kind, &payload))),
        _ => {}
    }
    match ty {
        Type::String => Ok(Value::String(text(mp, path)?)),
        Type::Bool => match mp {
            Mp::Boolean(b) => Ok(Value::Bool(b)),
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Number => number_from_mp(&mp)
            .map(Value::Number)
            .ok_or_else(|| not_a_number(path, ty, &mp)),
        Type::List(elem) | Type::Set(elem) => {
            let Mp::Array(items) = mp else {
                return Err(mismatch(path, ty, &mp));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(from_mp(
                    item,
                    elem,
                    &path.child(PathStep::ElementKeyInt(i as i64)),
                    depth + 1,
                )?);
            }
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            })
        }
        Type::Tuple(elems) => {
            let Mp::Array(items) = mp else {
                return Err(mismatch(path, ty, &mp));
            };
            if items.len() != elems.len() {
                return Err(ValueError::Malformed {
                    path: path.clone(),
                    reason: format!(
                        "tuple of {} elements, expected {}",
                        items.len(),
                        elems.len()
                    ),
                });
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.into_iter().zip(elems).enumerate() {
                out.push(from_mp(
                    item,
                    t,
                    &path.child(PathStep::ElementKeyInt(i as i64)),
                    depth + 1,
                )?);
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(elem) => {
            let Mp::Map(entries) = mp else {
                return Err(mismatch(path, ty, &mp));
            };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = text(k, path)?;
                let child = path.child(PathStep::ElementKeyString(key.clone()));
                out.insert(key, from_mp(v, elem, &child, depth + 1)?);
            }
            Ok(Value::Map(out))
        }
        Type::Object(fields) => {
            let Mp::Map(entries) = mp else {
                return Err(mismatch(path, ty, &mp));
            };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = text(k, path)?;
                let Some(field_ty) = fields.get(&key) else {
                    return Err(ValueError::UnexpectedAttribute {
                        path: path.clone(),
                        name: key,
                    });
                };
                let child = path.child(PathStep::Attribute(key.clone()));
                out.insert(key, from_mp(v, field_ty, &child, depth + 1)?);
            }
            for name in fields.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            let Mp::Array(mut pair) = mp else {
                return Err(mismatch(path, ty, &mp));
            };
            if pair.len() != 2 {
                return Err(ValueError::Malformed {
                    path: path.clone(),
                    reason: "dynamic value is not a [type, value] pair".into(),
                });
            }
            let inner = pair.pop().unwrap_or(Mp::Nil);
            let type_bytes = match pair.pop() {
                Some(Mp::Binary(b)) => b,
                Some(Mp::String(s)) => s.into_bytes(),
                _ => {
                    return Err(ValueError::Malformed {
                        path: path.clone(),
                        reason: "dynamic type is not bytes".into(),
                    })
                }
            };
            let json: serde_json::Value =
                serde_json::from_slice(&type_bytes).map_err(|e| ValueError::Malformed {
                    path: path.clone(),
                    reason: format!("dynamic type JSON: {e}"),
                })?;
            let inner_ty = Type::from_json(&json).map_err(|_| ValueError::BadType {
                path: path.clone(),
                found: json.to_string(),
            })?;
            let v = from_mp(inner, &inner_ty, path, depth + 1)?;
            Ok(Value::Dynamic(inner_ty, Box::new(v)))
        }
    }
}

/// Reads refinements from an ext-12 payload; any other extension is a plain unknown. A payload
/// we cannot read loses its refinements rather than failing the request: they are hints.
fn refinements(kind: i8, payload: &[u8]) -> Refinements {
    let mut r = Refinements::default();
    if kind != REFINED_UNKNOWN_EXT {
        return r;
    }
    let mut cursor = payload;
    let Ok(Mp::Map(entries)) = rmpv::decode::read_value_with_max_depth(&mut cursor, 16) else {
        return r;
    };
    let bound = |v: &Mp| -> Option<(Number, bool)> {
        let Mp::Array(pair) = v else { return None };
        Some((number_from_mp(pair.first()?)?, pair.get(1)?.as_bool()?))
    };
    for (k, v) in entries {
        match k.as_i64() {
            Some(1) => r.not_null = v.as_bool() == Some(false),
            Some(2) => r.string_prefix = v.as_str().map(str::to_string),
            Some(3) => r.number_lower = bound(&v),
            Some(4) => r.number_upper = bound(&v),
            Some(5) => r.length_lower = v.as_u64(),
            Some(6) => r.length_upper = v.as_u64(),
            _ => {}
        }
    }
    r
}

fn unknown_to_mp(r: &Refinements) -> Mp {
    if r.is_empty() {
        return Mp::Ext(0, vec![0]);
    }
    let mut entries = Vec::new();
    if r.not_null {
        entries.push((Mp::from(1), Mp::Boolean(false)));
    }
    if let Some(p) = &r.string_prefix {
        entries.push((Mp::from(2), Mp::from(p.as_str())));
    }
    for (key, b) in [(3, &r.number_lower), (4, &r.number_upper)] {
        if let Some((n, inclusive)) = b {
            entries.push((
                Mp::from(key),
                Mp::Array(vec![number_to_mp(n), Mp::Boolean(*inclusive)]),
            ));
        }
    }
    for (key, b) in [(5, r.length_lower), (6, r.length_upper)] {
        if let Some(n) = b {
            entries.push((Mp::from(key), Mp::from(n)));
        }
    }
    let mut payload = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut payload, &Mp::Map(entries));
    Mp::Ext(REFINED_UNKNOWN_EXT, payload)
}

fn to_mp(v: &Value, ty: &Type, path: &AttributePath, depth: usize) -> Result<Mp, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::TooDeep {
            path: path.clone(),
            limit: MAX_DEPTH,
        });
    }
    let wrong = |found: &str| ValueError::TypeMismatch {
        path: path.clone(),
        expected: ty.to_json().to_string(),
        found: found.to_string(),
    };
    match (v, ty) {
        (Value::Null, _) => Ok(Mp::Nil),
        (Value::Unknown(r), _) => Ok(unknown_to_mp(r)),
        (Value::String(s), Type::String) => Ok(Mp::from(s.as_str())),
        (Value::Bool(b), Type::Bool) => Ok(Mp::Boolean(*b)),
        (Value::Number(n), Type::Number) => Ok(number_to_mp(n)),
        (Value::List(items), Type::List(elem)) | (Value::Set(items), Type::Set(elem)) => {
            Ok(Mp::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        to_mp(
                            x,
                            elem,
                            &path.child(PathStep::ElementKeyInt(i as i64)),
                            depth + 1,
                        )
                    })
                    .collect::<Result<_, _>>()?,
            ))
        }
        (Value::Tuple(items), Type::Tuple(elems)) if items.len() == elems.len() => Ok(Mp::Array(
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (x, t))| {
                    to_mp(
                        x,
                        t,
                        &path.child(PathStep::ElementKeyInt(i as i64)),
                        depth + 1,
                    )
                })
                .collect::<Result<_, _>>()?,
        )),
        (Value::Map(m), Type::Map(elem)) => Ok(Mp::Map(
            m.iter()
                .map(|(k, x)| {
                    Ok((
                        Mp::from(k.as_str()),
                        to_mp(
                            x,
                            elem,
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
            // Every attribute of the type is written, null when absent.
            Ok(Mp::Map(
                fields
                    .iter()
                    .map(|(k, t)| {
                        let x = m.get(k).unwrap_or(&Value::Null);
                        Ok((
                            Mp::from(k.as_str()),
                            to_mp(x, t, &path.child(PathStep::Attribute(k.clone())), depth + 1)?,
                        ))
                    })
                    .collect::<Result<_, ValueError>>()?,
            ))
        }
        (Value::Dynamic(inner_ty, inner), Type::Dynamic) => Ok(Mp::Array(vec![
            Mp::Binary(inner_ty.to_json_bytes()),
            to_mp(inner, inner_ty, path, depth + 1)?,
        ])),
        (other, Type::Dynamic) => Err(wrong(&format!("{other:?} without its type"))),
        (other, _) => Err(wrong(kind_name(other))),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Unknown(_) => "unknown",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Tuple(_) => "tuple",
        Value::Dynamic(..) => "dynamic",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn obj_type() -> Type {
        Type::Object(BTreeMap::from([
            ("name".to_string(), Type::String),
            ("tags".to_string(), Type::Map(Box::new(Type::String))),
            ("ids".to_string(), Type::Set(Box::new(Type::String))),
            ("n".to_string(), Type::Number),
        ]))
    }

    #[test]
    fn terraform_unknown_bytes() {
        assert_eq!(
            decode(&[0xd4, 0x00, 0x00], &Type::String),
            Ok(Value::unknown())
        );
        assert_eq!(
            encode(&Value::unknown(), &Type::String).ok(),
            Some(vec![0xd4, 0x00, 0x00])
        );
        // Any extension type is unknown.
        assert!(decode(&[0xd4, 0x05, 0x01], &Type::Bool).is_ok_and(|v| v.is_unknown()));
    }

    #[test]
    fn refined_unknown_round_trips_byte_exact() {
        let r = Refinements {
            not_null: true,
            string_prefix: Some("skey-".into()),
            ..Default::default()
        };
        let bytes = encode(&Value::Unknown(r.clone()), &Type::String).expect("encode");
        assert_eq!(bytes[0], 0xc7, "ext8 with a payload");
        assert_eq!(bytes[2] as i8, REFINED_UNKNOWN_EXT);
        let back = decode(&bytes, &Type::String).expect("decode");
        assert_eq!(back, Value::Unknown(r));
        assert_eq!(encode(&back, &Type::String).ok(), Some(bytes));
    }

    #[test]
    fn missing_object_keys_are_null_and_extra_keys_fail() {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(
            &mut bytes,
            &Mp::Map(vec![(Mp::from("name"), Mp::from("a"))]),
        )
        .expect("w");
        let v = decode(&bytes, &obj_type()).expect("decode");
        assert_eq!(v.attr("tags"), Some(&Value::Null));
        let mut extra = Vec::new();
        rmpv::encode::write_value(&mut extra, &Mp::Map(vec![(Mp::from("zzz"), Mp::from(1))]))
            .expect("w");
        assert!(matches!(
            decode(&extra, &obj_type()),
            Err(ValueError::UnexpectedAttribute { .. })
        ));
    }

    #[test]
    fn type_errors_carry_the_path() {
        let mut bytes = Vec::new();
        let tags = Mp::Map(vec![(Mp::from("a"), Mp::from(7))]);
        rmpv::encode::write_value(&mut bytes, &Mp::Map(vec![(Mp::from("tags"), tags)])).expect("w");
        let err = decode(&bytes, &obj_type()).expect_err("must fail");
        assert_eq!(err.path().to_string(), "tags[\"a\"]");
    }

    #[test]
    fn numbers() {
        let enc = |n: Number| encode(&Value::Number(n), &Type::Number).expect("enc");
        assert_eq!(
            decode(&enc(Number::Int(-5)), &Type::Number),
            Ok(Value::int(-5))
        );
        assert_eq!(
            decode(&enc(Number::Float(1.5)), &Type::Number),
            Ok(Value::Number(Number::Float(1.5)))
        );
        let big = "123456789012345678901234567890";
        assert_eq!(
            decode(&enc(Number::Decimal(big.into())), &Type::Number),
            Ok(Value::Number(Number::Decimal(big.into())))
        );
        // u64 beyond i64 survives as a decimal
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &Mp::from(u64::MAX)).expect("w");
        assert_eq!(
            decode(&b, &Type::Number),
            Ok(Value::Number(Number::Decimal(u64::MAX.to_string())))
        );
    }

    // Found by the value_decode fuzz target's round-trip invariant: each of these decoded, but
    // the value could not be written to state JSON, or came back from it as a different number.
    #[test]
    fn numbers_cty_cannot_send_are_rejected() {
        let cases: [(&[u8], &str); 4] = [
            (&[0xa3, b'a', b'b', b'c'], "string is not a decimal number"),
            (&[0xa3, b'N', b'a', b'N'], "string is not a decimal number"),
            (
                &[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
                "number is NaN or infinite",
            ),
            (&[0xca, 0x7f, 0x80, 0, 0], "number is NaN or infinite"),
        ];
        for (bytes, reason) in cases {
            match decode(bytes, &Type::Number) {
                Err(ValueError::Malformed { reason: r, .. }) => assert_eq!(r, reason, "{bytes:x?}"),
                other => panic!("{bytes:x?} decoded to {other:?}"),
            }
        }
        assert!(matches!(
            decode(&[0xc3], &Type::Number),
            Err(ValueError::TypeMismatch { .. })
        ));
    }

    #[test]
    fn big_numbers_survive_state_json_exactly() {
        let mut thirty_digits = vec![0xbe];
        thirty_digits.extend_from_slice(b"123456789012345678901234567890");
        for bytes in [
            vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            thirty_digits,
        ] {
            let v = decode(&bytes, &Type::Number).expect("decode");
            let json = crate::value::json::encode(&v, &Type::Number).expect("json");
            assert_eq!(
                crate::value::json::decode(&json, &Type::Number),
                Ok(v.clone())
            );
            assert_eq!(encode(&v, &Type::Number).expect("encode"), bytes);
        }
    }

    #[test]
    fn dynamic_pairs() {
        let v = Value::Dynamic(
            Type::List(Box::new(Type::String)),
            Box::new(Value::List(vec![Value::string("x")])),
        );
        let bytes = encode(&v, &Type::Dynamic).expect("enc");
        assert_eq!(decode(&bytes, &Type::Dynamic), Ok(v));
    }

    #[test]
    fn trailing_and_truncated_input_fail() {
        assert!(decode(&[0xc0, 0xc0], &Type::String).is_err());
        assert!(decode(&[0xa5, b'a'], &Type::String).is_err());
        assert!(decode(&[], &Type::String).is_err());
        assert!(
            decode(&[0xa2, 0xff, 0xfe], &Type::String).is_err(),
            "invalid utf-8"
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut bytes = vec![0x91; 100_000];
        bytes.push(0xc0);
        let mut ty = Type::String;
        for _ in 0..10 {
            ty = Type::List(Box::new(ty));
        }
        assert!(decode(&bytes, &ty).is_err());
    }

    fn arb_type() -> impl Strategy<Value = Type> {
        let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|t| Type::List(Box::new(t))),
                inner.clone().prop_map(|t| Type::Set(Box::new(t))),
                inner.clone().prop_map(|t| Type::Map(Box::new(t))),
                proptest::collection::btree_map("[a-z]{1,4}", inner.clone(), 0..4)
                    .prop_map(Type::Object),
                proptest::collection::vec(inner, 0..3).prop_map(Type::Tuple),
            ]
        })
    }

    pub(crate) fn arb_value(ty: Type) -> BoxedStrategy<Value> {
        let special = prop_oneof![Just(Value::Null), Just(Value::unknown())];
        let typed: BoxedStrategy<Value> = match ty {
            Type::String => any::<String>().prop_map(Value::String).boxed(),
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::Number => prop_oneof![
                any::<i64>().prop_map(|n| Value::Number(Number::Int(n))),
                (-1.0e12f64..1.0e12)
                    .prop_filter("fractional", |f| f.fract() != 0.0)
                    .prop_map(|f| Value::Number(Number::Float(f))),
            ]
            .boxed(),
            Type::List(e) => proptest::collection::vec(arb_value(*e), 0..4)
                .prop_map(Value::List)
                .boxed(),
            Type::Set(e) => proptest::collection::vec(arb_value(*e), 0..4)
                .prop_map(Value::Set)
                .boxed(),
            Type::Map(e) => proptest::collection::btree_map("[a-z]{0,4}", arb_value(*e), 0..4)
                .prop_map(Value::Map)
                .boxed(),
            Type::Tuple(es) => es
                .into_iter()
                .map(arb_value)
                .collect::<Vec<_>>()
                .prop_map(Value::Tuple)
                .boxed(),
            Type::Object(fields) => {
                let names: Vec<String> = fields.keys().cloned().collect();
                fields
                    .into_values()
                    .map(arb_value)
                    .collect::<Vec<_>>()
                    .prop_map(move |vals| Value::Object(names.iter().cloned().zip(vals).collect()))
                    .boxed()
            }
            Type::Dynamic => Just(Value::Null).boxed(),
        };
        prop_oneof![1 => special, 6 => typed].boxed()
    }

    proptest! {
        #[test]
        fn round_trip((ty, v) in arb_type().prop_flat_map(|t| (Just(t.clone()), arb_value(t)))) {
            let bytes = encode(&v, &ty).expect("encode");
            prop_assert_eq!(decode(&bytes, &ty).expect("decode"), v);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), ty in arb_type()) {
            let _ = decode(&bytes, &ty);
        }
    }
}
