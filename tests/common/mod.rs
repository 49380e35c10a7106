//! Helpers shared by the integration tests: start an in-process emulator and call it with our own
//! signers (`sshkey::cloud::sign`); start the provider binary as Terraform does ([`plugin`]).

#![allow(dead_code)]

pub mod plugin;

use serde_json::Value;
use sshkey::cloud::sign::{acs3, encode, tc3, v2, Credentials};
use sshkey::emulator::{self, EmulatorConfig, RunningEmulator};

pub const ID: &str = emulator::DEFAULT_ACCESS_KEY_ID;
pub const SECRET: &str = emulator::DEFAULT_ACCESS_KEY_SECRET;

pub async fn start() -> RunningEmulator {
    start_with(EmulatorConfig::default()).await
}

pub async fn start_with(mut config: EmulatorConfig) -> RunningEmulator {
    config.listen = "127.0.0.1:0".parse().unwrap();
    emulator::start(config).await.unwrap()
}

/// One client for all calls: building a reqwest client per call is slow.
pub fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new).clone()
}

pub fn creds() -> Credentials {
    Credentials::new(ID, SECRET)
}

pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

pub fn nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The answer: HTTP status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The error code in either cloud's envelope.
    pub fn code(&self) -> Option<&str> {
        self.body["Code"]
            .as_str()
            .or_else(|| self.body["Response"]["Error"]["Code"].as_str())
    }
}

async fn send(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, body }
}

/// An ACS3-signed Alibaba call (POST, parameters in the query) for `version`.
pub async fn acs3_call(
    emu: &RunningEmulator,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
) -> Answer {
    acs3_call_with(emu, version, action, params, &creds(), &nonce(), now()).await
}

pub async fn acs3_call_with(
    emu: &RunningEmulator,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
    creds: &Credentials,
    nonce: &str,
    date: time::OffsetDateTime,
) -> Answer {
    let query: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let host = emu.addr().to_string();
    let date = acs3::format_date(date);
    let headers = acs3::sign_request(
        &acs3::SignInput {
            method: "POST",
            host: &host,
            query: &query,
            body: b"",
            action,
            version,
            date: &date,
            nonce,
        },
        creds,
    );
    let raw_query = encode::encode_query(params.iter().copied());
    let mut req = client().post(format!("http://{host}/?{raw_query}"));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    send(req).await
}

pub async fn ecs(emu: &RunningEmulator, action: &str, params: &[(&str, &str)]) -> Answer {
    acs3_call(emu, "2014-05-26", action, params).await
}

pub async fn ens(emu: &RunningEmulator, action: &str, params: &[(&str, &str)]) -> Answer {
    acs3_call(emu, "2017-11-10", action, params).await
}

/// A V2 (HMAC-SHA1) Alibaba call, parameters in a form body.
pub async fn v2_call(
    emu: &RunningEmulator,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
    secret: &str,
    nonce: &str,
    timestamp: &str,
) -> Answer {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    pairs.push(("Action".into(), action.into()));
    pairs.push(("Version".into(), version.into()));
    v2::sign_params(
        "POST",
        &mut pairs,
        &Credentials::new(ID, secret),
        nonce,
        timestamp,
    );
    let body = encode::encode_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    send(
        client()
            .post(emu.endpoint())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}

/// A TC3-signed CVM call with a JSON body.
pub async fn cvm(emu: &RunningEmulator, action: &str, region: &str, body: Value) -> Answer {
    cvm_with(emu, action, region, body, &creds(), now().unix_timestamp()).await
}

pub async fn cvm_with(
    emu: &RunningEmulator,
    action: &str,
    region: &str,
    body: Value,
    creds: &Credentials,
    timestamp: i64,
) -> Answer {
    let payload = body.to_string();
    let host = emu.addr().to_string();
    let headers = tc3::sign_request(
        &tc3::SignInput {
            host: &host,
            service: "cvm",
            action,
            version: "2017-03-12",
            region,
            timestamp,
            payload: payload.as_bytes(),
        },
        creds,
    );
    let mut req = client().post(emu.endpoint()).body(payload);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    send(req).await
}

pub async fn admin_get(emu: &RunningEmulator, path: &str) -> Value {
    reqwest::get(format!("{}/_emulator/{path}", emu.endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn admin_post(emu: &RunningEmulator, path: &str, body: Value) -> Answer {
    send(
        client()
            .post(format!("{}/_emulator/{path}", emu.endpoint()))
            .json(&body),
    )
    .await
}

pub async fn seed(emu: &RunningEmulator, cloud: &str, region: &str, instances: Value) {
    let a = admin_post(
        emu,
        "instances",
        serde_json::json!({"cloud": cloud, "region": region, "instances": instances}),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

pub fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap()
}
