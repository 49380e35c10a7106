//! The emulator's cloud APIs called with our own signers (`sshkey::cloud::sign`): an in-process
//! emulator ([`start`]) or the binary ([`super::Emulator`]), signed ACS3, V2 and TC3 calls, the
//! admin API, and bursts for the rate limits.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use sshkey::cloud::sign::{acs3, encode, tc3, v2, Credentials};
use sshkey::emulator::{self, EmulatorConfig, RunningEmulator};

use super::{ACCESS_KEY, SECRET_KEY};

/// A provider-side client of cloud `kind` talking to the emulator, with the emulator's default
/// credentials and a few quick retries.
pub fn provider_client(
    emu: &impl Target,
    kind: sshkey::cloud::CloudKind,
) -> std::sync::Arc<dyn sshkey::cloud::KeyPairApi> {
    use sshkey::cloud::{new_client, ClientConfig, Credentials as Keys};
    let endpoint = emu
        .endpoint()
        .parse()
        .expect("the emulator's endpoint is a URL");
    new_client(ClientConfig {
        kind,
        region: super::clouds::of(kind).region.into(),
        credentials: Keys::long_term(
            emulator::DEFAULT_ACCESS_KEY_ID,
            emulator::DEFAULT_ACCESS_KEY_SECRET,
        ),
        endpoint: Some(endpoint),
        request_timeout: Duration::from_secs(5),
        max_retries: 6,
        retry_deadline: Duration::from_secs(30),
        assume_role: None,
        sts_endpoint: None,
    })
    .expect("a client for the emulator")
}

/// An emulator the helpers below can call: in-process ([`start`]) or the binary
/// ([`super::Emulator`]).
pub trait Target {
    fn addr(&self) -> SocketAddr;

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }
}

impl Target for RunningEmulator {
    fn addr(&self) -> SocketAddr {
        RunningEmulator::addr(self)
    }
}

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
    Credentials::new(ACCESS_KEY, SECRET_KEY)
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

    /// Whether this is either cloud's throttling answer: HTTP 400 `Throttling.User` (Alibaba)
    /// or HTTP 200 `RequestLimitExceeded` (Tencent).
    pub fn throttled(&self) -> bool {
        matches!(
            (self.status, self.code()),
            (400, Some("Throttling.User")) | (200, Some("RequestLimitExceeded"))
        )
    }
}

/// Sends `n` calls at once (`call(i)` builds call `i`) and returns their answers in order.
pub async fn concurrently<F, Fut>(n: std::ops::Range<usize>, call: F) -> Vec<Answer>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Answer>,
{
    futures::future::join_all(n.map(call)).await
}

/// Sends `n` calls at once (`call(i)` builds call `i`) and returns the answers of a burst that
/// was answered within one second. Every call of such a burst reached the emulator's rate check
/// inside one sliding one-second window, so a limit of N lets exactly N through. Only when the
/// machine was too slow for that does it try again (after the earlier calls have left the
/// window, numbering calls on from the earlier attempts'), and it panics when no attempt of
/// four was fast enough.
pub async fn burst<F, Fut>(n: usize, mut call: F) -> Vec<Answer>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Answer>,
{
    const ATTEMPTS: usize = 4;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        let started = Instant::now();
        let answers = concurrently(attempt * n..(attempt + 1) * n, &mut call).await;
        let took = started.elapsed();
        if took < Duration::from_secs(1) {
            return answers;
        }
        eprintln!("a burst of {n} calls took {took:?}, longer than one rate window; again");
    }
    panic!("no burst of {n} calls in {ATTEMPTS} was answered within one second");
}

/// How many of `answers` were throttled.
pub fn throttled_count(answers: &[Answer]) -> usize {
    answers.iter().filter(|a| a.throttled()).count()
}

/// The last `n` records of `action` on `cloud` in `/_emulator/calls`.
pub async fn last_calls(emu: &impl Target, cloud: &str, action: &str, n: usize) -> Vec<Value> {
    let calls = admin_get(emu, "calls").await;
    let of_action: Vec<Value> = calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cloud"] == cloud && c["action"] == action)
        .cloned()
        .collect();
    assert!(of_action.len() >= n, "{cloud} {action}: {of_action:?}");
    of_action[of_action.len() - n..].to_vec()
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
    emu: &impl Target,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
) -> Answer {
    acs3_call_with(emu, version, action, params, &creds(), &nonce(), now()).await
}

pub async fn acs3_call_with(
    emu: &impl Target,
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

pub async fn ecs(emu: &impl Target, action: &str, params: &[(&str, &str)]) -> Answer {
    acs3_call(emu, "2014-05-26", action, params).await
}

pub async fn ens(emu: &impl Target, action: &str, params: &[(&str, &str)]) -> Answer {
    acs3_call(emu, "2017-11-10", action, params).await
}

/// The key names, sorted, of one Alibaba DescribeKeyPairs page of up to 50 (API `version`,
/// `params` besides `PageSize`), checking that `TotalCount` agrees.
pub async fn key_names(emu: &impl Target, version: &str, params: &[(&str, &str)]) -> Vec<String> {
    let mut params = params.to_vec();
    params.push(("PageSize", "50"));
    let a = acs3_call(emu, version, "DescribeKeyPairs", &params).await;
    assert_eq!(a.status, 200, "{a:?}");
    let mut names: Vec<String> = a.body["KeyPairs"]["KeyPair"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["KeyPairName"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(a.body["TotalCount"], names.len(), "{a:?}");
    names
}

/// Names for tests of DescribeKeyPairs name matching: `web-*`, `*-prod` and `*x*` each match
/// some of them.
pub const PATTERN_NAMES: [&str; 7] = [
    "web-a", "web-b", "web-prod", "api-prod", "xray", "box-1", "plain",
];

/// A V2 (HMAC-SHA1) Alibaba call, parameters in a form body.
pub async fn v2_call(
    emu: &impl Target,
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
        &Credentials::new(ACCESS_KEY, secret),
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
pub async fn cvm(emu: &impl Target, action: &str, region: &str, body: Value) -> Answer {
    cvm_with(emu, action, region, body, &creds(), now().unix_timestamp()).await
}

pub async fn cvm_with(
    emu: &impl Target,
    action: &str,
    region: &str,
    body: Value,
    creds: &Credentials,
    timestamp: i64,
) -> Answer {
    tc3_call(
        emu,
        ("cvm", "2017-03-12"),
        action,
        region,
        body,
        creds,
        timestamp,
    )
    .await
}

/// A TC3-signed call to Tencent STS (2018-08-13) with the default credentials.
pub async fn sts_tencent(emu: &impl Target, action: &str, body: Value) -> Answer {
    let now = now().unix_timestamp();
    tc3_call(
        emu,
        ("sts", "2018-08-13"),
        action,
        "ap-guangzhou",
        body,
        &creds(),
        now,
    )
    .await
}

/// A TC3-signed call to one Tencent (service, version).
pub async fn tc3_call(
    emu: &impl Target,
    (service, version): (&str, &str),
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
            service,
            action,
            version,
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

pub async fn admin_get(emu: &impl Target, path: &str) -> Value {
    reqwest::get(format!("{}/_emulator/{path}", emu.endpoint()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn admin_post(emu: &impl Target, path: &str, body: Value) -> Answer {
    send(
        client()
            .post(format!("{}/_emulator/{path}", emu.endpoint()))
            .json(&body),
    )
    .await
}

pub async fn seed(emu: &impl Target, cloud: &str, region: &str, instances: Value) {
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
