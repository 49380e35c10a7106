//! The emulator's request path without a socket: HTTP method, URI, headers and body through
//! `Authenticator::authenticate_http` (routing, parameter decoding, signature, timestamp and
//! nonce checks) and, for requests that pass, `ops::handle` against a seeded store.
//!
//! The first byte picks the mode. Even: the rest is an HTTP/1.1 request as bytes, parsed with
//! `httparse` like hyper does (the committed seeds are valid signed requests, so mutations stay
//! close to the deep paths). Odd: the rest describes a few calls that the harness signs with the
//! client's own signers; those must authenticate (a rejection is a client/emulator disagreement)
//! and then exercise parameter parsing and the operations.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sshkey::cloud::sign::{acs3, encode, tc3, v2, Credentials};
use sshkey::emulator::BoundDelete;
use sshkey::testing::fuzz::{credentials, Emulator};

// 2024-01-01T00:00:00Z, the emulator's "now" for every call.
const NOW: i64 = 1_704_067_200;
const NOW_ACS: &str = "2024-01-01T00:00:00Z";

const ACTIONS: [&str; 10] = [
    "CreateKeyPair",
    "ImportKeyPair",
    "DescribeKeyPairs",
    "DeleteKeyPairs",
    "AttachKeyPair",
    "DetachKeyPair",
    "AssociateInstancesKeyPairs",
    "DisassociateInstancesKeyPairs",
    "DescribeInstances",
    "RebootInstance",
];

#[derive(Arbitrary, Debug)]
enum Scheme {
    EcsAcs3,
    EnsAcs3,
    EcsV2,
    CvmTc3,
}

#[derive(Arbitrary, Debug)]
struct Call {
    scheme: Scheme,
    action: u8,
    custom_action: Option<String>,
    region: bool,
    params: Vec<(String, String)>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    calls: Vec<Call>,
    bound_delete: u8,
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let mut emulator = Emulator::new(BoundDelete::default());
        if let Some(request) = parse_http(rest) {
            receive(&mut emulator, &request, false);
        }
    } else if let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(rest)) {
        signed_calls(&input);
    }
});

fn signed_calls(input: &Input) {
    let mut emulator = Emulator::new(match input.bound_delete % 3 {
        0 => BoundDelete::Reject,
        1 => BoundDelete::Allow,
        _ => BoundDelete::KeepSilently,
    });
    for (i, call) in input.calls.iter().take(8).enumerate() {
        let Some(request) = signed_request(call, i) else {
            continue;
        };
        receive(&mut emulator, &request, true);
    }
}

struct Request {
    method: http::Method,
    uri: http::Uri,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

fn receive(emulator: &mut Emulator, r: &Request, signed: bool) {
    let answer = emulator.receive(&r.method, &r.uri, &r.headers, &r.body, NOW);
    if std::env::var_os("SSHKEY_FUZZ_DEBUG").is_some() {
        eprintln!("{answer:?}");
    }
    if let Err(reason) = answer {
        assert!(
            !signed,
            "a request our client signed was rejected: {reason}"
        );
    }
}

/// Parses an HTTP/1.1 request the way hyper does (httparse), with the same validation of the
/// method, target and headers the `http` types apply before the handler sees them.
fn parse_http(bytes: &[u8]) -> Option<Request> {
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut slots);
    let httparse::Status::Complete(head_len) = parsed.parse(bytes).ok()? else {
        return None;
    };
    let method = http::Method::from_bytes(parsed.method?.as_bytes()).ok()?;
    let uri = http::Uri::try_from(parsed.path?).ok()?;
    let mut headers = http::HeaderMap::new();
    for h in parsed.headers.iter() {
        let name = http::HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        let value = http::HeaderValue::from_bytes(h.value).ok()?;
        headers.append(name, value);
    }
    Some(Request {
        method,
        uri,
        headers,
        body: bytes[head_len..].to_vec(),
    })
}

fn creds() -> Credentials {
    credentials()
}

const HOST: &str = "127.0.0.1:8080";

/// `None` when the call cannot be put on the wire at all (a header value HTTP cannot carry).
fn signed_request(call: &Call, index: usize) -> Option<Request> {
    let action = call
        .custom_action
        .clone()
        .unwrap_or_else(|| ACTIONS[usize::from(call.action) % ACTIONS.len()].to_string());
    let nonce = format!("nonce-{index}");
    match call.scheme {
        Scheme::EcsAcs3 | Scheme::EnsAcs3 => {
            let (version, region) = match call.scheme {
                Scheme::EnsAcs3 => ("2017-11-10", "cn-hangzhou"),
                _ => ("2014-05-26", "cn-hangzhou"),
            };
            let mut query = call.params.clone();
            if call.region {
                query.push(("RegionId".to_string(), region.to_string()));
            }
            let headers = acs3::sign_request(
                &acs3::SignInput {
                    method: "POST",
                    host: HOST,
                    query: &query,
                    body: b"",
                    action: &action,
                    version,
                    date: NOW_ACS,
                    nonce: &nonce,
                },
                &creds(),
            );
            let q = encode::encode_query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            build("POST", &format!("http://{HOST}/?{q}"), &headers, Vec::new())
        }
        Scheme::EcsV2 => {
            // The signer owns the common parameters; a caller-supplied Version or Action would be
            // a different (legitimately rejected or re-routed) request.
            let mut params: Vec<(String, String)> = call
                .params
                .iter()
                .filter(|(k, _)| k != "Version" && k != "Action")
                .cloned()
                .collect();
            params.push(("Action".to_string(), action));
            params.push(("Version".to_string(), "2014-05-26".to_string()));
            if call.region {
                params.push(("RegionId".to_string(), "cn-hangzhou".to_string()));
            }
            v2::sign_params("POST", &mut params, &creds(), &nonce, NOW_ACS);
            let body = encode::encode_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let headers = vec![(
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            )];
            build(
                "POST",
                &format!("http://{HOST}/"),
                &headers,
                body.into_bytes(),
            )
        }
        Scheme::CvmTc3 => {
            // Tencent parameters are JSON values; a value that parses as JSON travels as such.
            let mut body = serde_json::Map::new();
            for (k, v) in &call.params {
                let value = serde_json::from_str(v).unwrap_or(serde_json::Value::String(v.clone()));
                body.insert(k.clone(), value);
            }
            let payload = serde_json::Value::Object(body).to_string().into_bytes();
            let region = if call.region { "ap-guangzhou" } else { "" };
            let headers = tc3::sign_request(
                &tc3::SignInput {
                    host: HOST,
                    service: "cvm",
                    action: &action,
                    version: "2017-03-12",
                    region,
                    timestamp: NOW,
                    payload: &payload,
                },
                &creds(),
            );
            build("POST", &format!("http://{HOST}/"), &headers, payload)
        }
    }
}

fn build(method: &str, uri: &str, headers: &[(String, String)], body: Vec<u8>) -> Option<Request> {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).expect("signer header name");
        let value = http::HeaderValue::from_str(value).ok()?;
        map.append(name, value);
    }
    Some(Request {
        method: http::Method::from_bytes(method.as_bytes()).expect("fixed method"),
        uri: http::Uri::try_from(uri).expect("query is percent-encoded"),
        headers: map,
        body,
    })
}
