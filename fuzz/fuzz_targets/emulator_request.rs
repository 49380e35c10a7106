//! The emulator's request parsing: routing by signature scheme, header and parameter parsing,
//! signature and clock checks. Any bytes a client sends must give an answer, never a panic.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sshkey::cloud::sign::{Credentials, RequestParts};
use sshkey::emulator::auth::Authenticator;

#[derive(Arbitrary, Debug)]
struct Request {
    method: String,
    path: String,
    raw_query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    now: i64,
}

fuzz_target!(|r: Request| {
    let auth = Authenticator::new(Credentials::new("fuzz-id", "fuzz-secret"));
    let req = RequestParts {
        method: &r.method,
        path: &r.path,
        raw_query: &r.raw_query,
        headers: &r.headers,
        body: &r.body,
    };
    let _ = auth.authenticate(&req, r.now);
});
