//! DynamicValue decoding: Terraform's msgpack (and JSON) bytes against our schema types.
//!
//! Nothing Terraform can send may panic, hang or exhaust memory; and what decodes must encode
//! again to a canonical form that is stable (encode, decode, encode gives the same bytes).

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use sshkey::value::{json, msgpack, Type};

fn types() -> Vec<Type> {
    let obj = |fields: &[(&str, Type)]| {
        Type::Object(
            fields
                .iter()
                .map(|(k, t)| (k.to_string(), t.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    vec![
        sshkey::provider::config::schema().value_type(),
        sshkey::provider::key_pair::schema().value_type(),
        Type::Dynamic,
        Type::List(Box::new(Type::Dynamic)),
        Type::Map(Box::new(Type::Set(Box::new(Type::String)))),
        Type::Tuple(vec![Type::Number, Type::Bool, Type::Dynamic]),
        obj(&[
            ("n", Type::Number),
            ("s", Type::Set(Box::new(Type::Number))),
            ("o", obj(&[("d", Type::Dynamic)])),
        ]),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let types = types();
    let ty = &types[usize::from(selector) % types.len()];
    if let Ok(v) = msgpack::decode(bytes, ty) {
        let once = msgpack::encode(&v, ty).expect("a decoded value encodes");
        let again = msgpack::decode(&once, ty).expect("our own encoding decodes");
        let twice = msgpack::encode(&again, ty).expect("a decoded value encodes");
        assert_eq!(once, twice, "msgpack encoding is not stable");
    }
    let _ = json::decode(bytes, ty);
    if let Ok(v) = json::decode_lenient(bytes, ty) {
        let once = json::encode(&v, ty).expect("a decoded value encodes");
        let again = json::decode(&once, ty).expect("our own JSON decodes strictly");
        let twice = json::encode(&again, ty).expect("a decoded value encodes");
        assert_eq!(once, twice, "JSON encoding is not stable");
    }
});
