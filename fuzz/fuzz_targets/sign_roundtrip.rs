//! Signature canonicalisation: whatever parameters, body and method a call carries, what our
//! client signs must verify on the server side after the trip through the wire encoding
//! (query/form encoding and decoding, header parsing). A mismatch here is a "signature does not
//! match" a real user would hit.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sshkey::cloud::sign::encode::{decode_query, encode_query};
use sshkey::cloud::sign::{acs3, tc3, v2, Credentials, RequestParts};

#[derive(Arbitrary, Debug)]
struct Call {
    post: bool,
    params: Vec<(String, String)>,
    body: Vec<u8>,
    action: String,
    nonce: String,
    timestamp: i64,
}

fuzz_target!(|call: Call| {
    let creds = Credentials::new("fuzz-id", "fuzz-secret");
    let method = if call.post { "POST" } else { "GET" };

    // ACS3: parameters in the query, body hashed.
    let headers = acs3::sign_request(
        &acs3::SignInput {
            method,
            host: "ecs.example.com",
            query: &call.params,
            body: &call.body,
            action: &call.action,
            version: "2014-05-26",
            date: "2026-11-27T00:00:00Z",
            nonce: &call.nonce,
        },
        &creds,
    );
    let raw_query = encode_query(call.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let req = RequestParts {
        method,
        path: "/",
        raw_query: &raw_query,
        headers: &headers,
        body: &call.body,
    };
    let header = req.header("authorization").expect("signed request has authorization");
    let auth = acs3::Authorization::parse(header).expect("our own ACS3 header parses");
    acs3::verify(&req, &auth, &creds.access_key_secret).expect("ACS3 round trip verifies");

    // V2: the signature is itself a parameter; the server sees the decoded query.
    let mut params = call.params.clone();
    v2::sign_params(method, &mut params, &creds, &call.nonce, "2026-11-27T00:00:00Z");
    let wire = encode_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let received = decode_query(&wire);
    v2::verify(method, &received, &creds.access_key_secret).expect("V2 round trip verifies");

    // TC3: a JSON body, signed over content-type and host.
    let headers = tc3::sign_request(
        &tc3::SignInput {
            host: "cvm.example.com",
            service: "cvm",
            action: &call.action,
            version: "2017-03-12",
            region: "ap-guangzhou",
            timestamp: call.timestamp,
            payload: &call.body,
        },
        &creds,
    );
    let req = RequestParts {
        method: "POST",
        path: "/",
        raw_query: "",
        headers: &headers,
        body: &call.body,
    };
    let header = req.header("authorization").expect("signed request has authorization");
    let auth = tc3::Authorization::parse(header).expect("our own TC3 header parses");
    tc3::verify(&req, &auth, call.timestamp, &creds.access_key_secret)
        .expect("TC3 round trip verifies");
});
