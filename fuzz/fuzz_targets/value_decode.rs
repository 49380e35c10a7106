//! DynamicValue decoding: msgpack (everything Terraform sends) and JSON (stored state, strict and
//! lenient) against a schema type, with round-trip invariants.
//!
//! Input layout: one selector byte picks the type (our real schemas, scalars, collections, and
//! `dynamic`, which lets the input carry any type of its own), one byte picks the decoder, the
//! rest is the encoded value.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use sshkey::testing::fuzz::{json_decode, json_decode_lenient, json_encode, schema_types};
use sshkey::value::{msgpack, Type};

fn types() -> Vec<Type> {
    let string = || Box::new(Type::String);
    let mut all = schema_types();
    all.extend([
        Type::Dynamic,
        Type::String,
        Type::Number,
        Type::Bool,
        Type::List(string()),
        Type::Set(string()),
        Type::Map(Box::new(Type::Number)),
        Type::Tuple(vec![Type::Bool, Type::Number, Type::Dynamic]),
        Type::Object(BTreeMap::from([
            ("a".to_string(), Type::List(Box::new(Type::Dynamic))),
            ("b".to_string(), Type::Set(Box::new(Type::Map(string())))),
        ])),
    ]);
    all
}

fuzz_target!(|data: &[u8]| {
    let [selector, mode, rest @ ..] = data else {
        return;
    };
    let all = types();
    let ty = &all[usize::from(*selector) % all.len()];
    if mode % 2 == 0 {
        let Ok(value) = msgpack::decode(rest, ty) else {
            return;
        };
        // Whatever we accept we must be able to send back, and read back as the same value.
        let bytes = msgpack::encode(&value, ty).expect("re-encoding a decoded value");
        let again = msgpack::decode(&bytes, ty).expect("decoding our own encoding");
        assert_eq!(value, again, "msgpack round trip");
        // State JSON holds no unknowns; for fully known values the JSON form must round-trip too.
        if value.is_fully_known() {
            let j = json_encode(&value, ty).expect("JSON-encoding a known value");
            let back = json_decode(&j, ty).expect("decoding our own JSON");
            assert_eq!(value, back, "JSON round trip");
        }
    } else {
        let strict = json_decode(rest, ty);
        let lenient = json_decode_lenient(rest, ty);
        if let Ok(value) = strict {
            // Lenient decoding only adds tolerance: what strict accepts it reads the same.
            assert_eq!(
                Some(&value),
                lenient.as_ref().ok(),
                "lenient disagrees with strict"
            );
            let j = json_encode(&value, ty).expect("re-encoding decoded JSON");
            let back = json_decode(&j, ty).expect("decoding our own JSON");
            assert_eq!(value, back, "JSON round trip");
        }
        if let Ok(value) = lenient {
            let j = json_encode(&value, ty).expect("encoding a lenient decode");
            let back = json_decode(&j, ty).expect("strictly decoding our own JSON");
            assert_eq!(value, back, "lenient JSON round trip");
        }
    }
});
