//! Signature canonicalisation and verification for the three schemes (ACS3, V2, TC3).
//!
//! Two halves per input: arbitrary requests go through the parsers and verifiers (must not panic,
//! and a forged signature must not verify), and the structured fields are signed with our client
//! signer and then verified the way the emulator receives them (must verify, deterministically).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sshkey::cloud::sign::{acs3, encode, tc3, v2, Credentials, RequestParts};

#[derive(Arbitrary, Debug)]
struct Input {
    method: String,
    path: String,
    raw_query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    authorization: String,
    secret: String,
    query: Vec<(String, String)>,
    host: String,
    action: String,
    nonce: String,
    timestamp: i64,
    key_id_seed: u64,
}

fuzz_target!(|input: Input| {
    // Arbitrary requests: parse whatever Authorization they carry and verify it.
    let mut headers = input.headers.clone();
    headers.push(("authorization".to_string(), input.authorization.clone()));
    let req = RequestParts {
        method: &input.method,
        path: &input.path,
        raw_query: &input.raw_query,
        headers: &headers,
        body: &input.body,
    };
    if let Ok(auth) = acs3::Authorization::parse(&input.authorization) {
        assert_eq!(
            acs3::Authorization::parse(&auth.to_header_value()).as_ref(),
            Ok(&auth),
            "ACS3 Authorization render/parse round trip"
        );
        let _ = acs3::verify(&req, &auth, &input.secret);
    }
    if let Ok(auth) = tc3::Authorization::parse(&input.authorization) {
        let _ = tc3::verify(&req, &auth, input.timestamp, &input.secret);
    }
    let params = encode::decode_query(&input.raw_query);
    let _ = v2::verify(&input.method, &params, &input.secret);
    let _ = encode::canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));

    // Percent-encoding is reversible through the form decoder the emulator uses.
    let raw = encode::encode_query(input.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(
        encode::decode_query(&raw),
        input.query,
        "encode_query/decode_query"
    );

    // Our own signatures verify. Access key ids are alphanumeric at both clouds, so the key id is
    // derived from a number rather than taken as arbitrary text.
    let creds = Credentials::new(format!("AK{:x}", input.key_id_seed), input.secret.clone());
    sign_acs3(&input, &creds);
    sign_v2(&input, &creds);
    sign_tc3(&input, &creds);
});

fn sign_acs3(input: &Input, creds: &Credentials) {
    let method = if input.body.len() % 2 == 0 {
        "GET"
    } else {
        "POST"
    };
    let sign_input = acs3::SignInput {
        method,
        host: &input.host,
        query: &input.query,
        body: &input.body,
        action: &input.action,
        version: "2014-05-26",
        date: "2024-01-01T00:00:00Z",
        nonce: &input.nonce,
    };
    let headers = acs3::sign_request(&sign_input, creds);
    assert_eq!(
        headers,
        acs3::sign_request(&sign_input, creds),
        "ACS3 is deterministic"
    );
    let raw_query = encode::encode_query(input.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let req = RequestParts {
        method,
        path: "/",
        raw_query: &raw_query,
        headers: &headers,
        body: &input.body,
    };
    let auth_value = req
        .header("authorization")
        .expect("signer sets authorization");
    let auth = acs3::Authorization::parse(auth_value).expect("our ACS3 header parses");
    assert_eq!(auth.access_key_id, creds.access_key_id);
    acs3::verify(&req, &auth, &creds.access_key_secret).expect("our ACS3 signature verifies");
    // A different secret must not verify the same request.
    let other = format!("{}x", creds.access_key_secret);
    assert!(
        acs3::verify(&req, &auth, &other).is_err(),
        "ACS3 accepts a wrong secret"
    );
    // Changing the body after signing must be detected.
    let mut tampered = input.body.clone();
    tampered.push(b'x');
    let req = RequestParts {
        body: &tampered,
        ..req
    };
    assert!(
        acs3::verify(&req, &auth, &creds.access_key_secret).is_err(),
        "ACS3 accepts a changed body"
    );
}

fn sign_v2(input: &Input, creds: &Credentials) {
    let method = if input.body.len() % 2 == 0 {
        "GET"
    } else {
        "POST"
    };
    let mut params = input.query.clone();
    params.push(("Action".to_string(), input.action.clone()));
    v2::sign_params(
        method,
        &mut params,
        creds,
        &input.nonce,
        "2024-01-01T00:00:00Z",
    );
    let mut again = input.query.clone();
    again.push(("Action".to_string(), input.action.clone()));
    v2::sign_params(
        method,
        &mut again,
        creds,
        &input.nonce,
        "2024-01-01T00:00:00Z",
    );
    assert_eq!(params, again, "V2 is deterministic");
    // On the wire the parameters travel as a query string and are decoded by the emulator.
    let raw = encode::encode_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let received = encode::decode_query(&raw);
    v2::verify(method, &received, &creds.access_key_secret).expect("our V2 signature verifies");
    let other = format!("{}x", creds.access_key_secret);
    assert!(
        v2::verify(method, &received, &other).is_err(),
        "V2 accepts a wrong secret"
    );
}

fn sign_tc3(input: &Input, creds: &Credentials) {
    // Within time's range; outside it the signer cannot name a date and verification refuses.
    let timestamp = input.timestamp.rem_euclid(4_102_444_800);
    let sign_input = tc3::SignInput {
        host: &input.host,
        service: "cvm",
        action: &input.action,
        version: "2017-03-12",
        region: "ap-guangzhou",
        timestamp,
        payload: &input.body,
    };
    let headers = tc3::sign_request(&sign_input, creds);
    assert_eq!(
        headers,
        tc3::sign_request(&sign_input, creds),
        "TC3 is deterministic"
    );
    let req = RequestParts {
        method: "POST",
        path: "/",
        raw_query: "",
        headers: &headers,
        body: &input.body,
    };
    let auth_value = req
        .header("authorization")
        .expect("signer sets Authorization");
    let auth = tc3::Authorization::parse(auth_value).expect("our TC3 header parses");
    assert_eq!(auth.secret_id, creds.access_key_id);
    tc3::verify(&req, &auth, timestamp, &creds.access_key_secret)
        .expect("our TC3 signature verifies");
    let other = format!("{}x", creds.access_key_secret);
    assert!(
        tc3::verify(&req, &auth, timestamp, &other).is_err(),
        "TC3 accepts a wrong secret"
    );
}
