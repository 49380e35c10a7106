//! Admin API, fault injection, rate limits, latency, state file, and the binary's contract.

mod support;

use std::io::BufRead as _;
use std::time::{Duration, Instant};

use serde_json::json;
use sshkey::emulator::{EmulatorConfig, RateLimit};
use support::api::*;
use support::clouds::ECS;
use support::{ACCESS_KEY, SECRET_KEY};

const R: &str = ECS.region;

#[tokio::test]
async fn faults_throttle_server_error_latency() {
    let emu = start().await;
    let f = admin_post(
        &emu,
        "faults",
        json!({"action": "DescribeKeyPairs", "kind": "throttle", "count": 2}),
    )
    .await;
    assert_eq!(f.status, 200);
    for _ in 0..2 {
        let a = ecs(&emu, "DescribeKeyPairs", &[("RegionId", R)]).await;
        assert_eq!((a.status, a.code()), (400, Some("Throttling.User")));
    }
    assert_eq!(
        ecs(&emu, "DescribeKeyPairs", &[("RegionId", R)])
            .await
            .status,
        200
    );

    admin_post(
        &emu,
        "faults",
        json!({"action": "DescribeKeyPairs", "kind": "server_error"}),
    )
    .await;
    let a = cvm(&emu, "DescribeKeyPairs", "ap-guangzhou", json!({})).await;
    assert_eq!(a.body["Response"]["Error"]["Code"], "InternalError");

    admin_post(
        &emu,
        "faults",
        json!({"action": "CreateKeyPair", "kind": "throttle"}),
    )
    .await;
    let a = cvm(
        &emu,
        "CreateKeyPair",
        "ap-guangzhou",
        json!({"KeyName": "k", "ProjectId": 0}),
    )
    .await;
    assert_eq!(a.body["Response"]["Error"]["Code"], "RequestLimitExceeded");

    admin_post(
        &emu,
        "faults",
        json!({"action": "DescribeKeyPairs", "kind": "latency", "latency_ms": 300}),
    )
    .await;
    let t = Instant::now();
    assert_eq!(
        ecs(&emu, "DescribeKeyPairs", &[("RegionId", R)])
            .await
            .status,
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(300));

    let bad = admin_post(&emu, "faults", json!({"action": "X", "kind": "explode"})).await;
    assert_eq!(bad.status, 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn drop_after_commit_changes_state_but_never_answers() {
    let emu = start().await;
    admin_post(
        &emu,
        "faults",
        json!({"action": "CreateKeyPair", "kind": "drop_after_commit"}),
    )
    .await;
    let query =
        sshkey::cloud::sign::encode::encode_query([("RegionId", R), ("KeyPairName", "dropped")]);
    let host = emu.addr().to_string();
    let date = sshkey::cloud::sign::acs3::format_date(now());
    let n = nonce();
    let q = vec![
        ("RegionId".to_string(), R.to_string()),
        ("KeyPairName".to_string(), "dropped".to_string()),
    ];
    let headers = sshkey::cloud::sign::acs3::sign_request(
        &sshkey::cloud::sign::acs3::SignInput {
            method: "POST",
            host: &host,
            query: &q,
            body: b"",
            action: "CreateKeyPair",
            version: "2014-05-26",
            date: &date,
            nonce: &n,
        },
        &creds(),
    );
    let mut req = reqwest::Client::new().post(format!("http://{host}/?{query}"));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let result = req.send().await;
    assert!(
        result.is_err(),
        "expected a dropped connection, got {result:?}"
    );
    let state = admin_get(&emu, "state").await;
    assert_eq!(state["ecs"][R]["keys"][0]["name"], "dropped");
    let calls = admin_get(&emu, "calls").await;
    assert_eq!(calls[0]["action"], "CreateKeyPair");
    assert_eq!(calls[0]["http_status"], 200);
    // The next call is answered normally.
    assert_eq!(
        ecs(&emu, "DescribeKeyPairs", &[("RegionId", R)])
            .await
            .status,
        200
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn configured_rate_and_latency() {
    let emu = start_with(EmulatorConfig {
        rates: vec![RateLimit::new(None, "DeleteKeyPairs", 2)],
        latency_ms: 50,
        ..Default::default()
    })
    .await;
    let t = Instant::now();
    let answers = burst(4, |_| {
        ecs(
            &emu,
            "DeleteKeyPairs",
            &[("RegionId", R), ("KeyPairNames", "[\"x\"]")],
        )
    })
    .await;
    assert!(t.elapsed() >= Duration::from_millis(50));
    // The four arrive within one second: exactly two pass, two are refused.
    assert_eq!(throttled_count(&answers), 2, "{answers:?}");
    assert_eq!(
        answers.iter().filter(|a| a.status == 200).count(),
        2,
        "{answers:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn snapshot_restores_keys_and_instances_and_forgets_calls() {
    let emu = start().await;
    seed(&emu, "ecs", R, json!([{"id": "i-1", "status": "Stopped"}])).await;
    ecs(
        &emu,
        "CreateKeyPair",
        &[("RegionId", R), ("KeyPairName", "keep")],
    )
    .await;
    let snapshot = admin_get(&emu, "snapshot").await;
    let before = admin_get(&emu, "state").await;
    ecs(
        &emu,
        "DeleteKeyPairs",
        &[("RegionId", R), ("KeyPairNames", "[\"keep\"]")],
    )
    .await;
    ecs(
        &emu,
        "CreateKeyPair",
        &[("RegionId", R), ("KeyPairName", "later")],
    )
    .await;
    assert_ne!(admin_get(&emu, "state").await, before);

    let restored = admin_post(&emu, "snapshot", snapshot).await;
    assert_eq!(restored.status, 200);
    assert_eq!(admin_get(&emu, "state").await, before);
    assert_eq!(admin_get(&emu, "calls").await, json!([]));
    // The restored key is a real key again: deleting it works once.
    let gone = ecs(
        &emu,
        "DeleteKeyPairs",
        &[("RegionId", R), ("KeyPairNames", "[\"keep\"]")],
    )
    .await;
    assert_eq!(gone.status, 200);

    let bad = admin_post(&emu, "snapshot", json!({"keys": 3})).await;
    assert_eq!(bad.status, 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn calls_reset_instances_and_state() {
    let emu = start().await;
    let bad = admin_post(
        &emu,
        "instances",
        json!({"cloud": "aws", "region": R, "instances": []}),
    )
    .await;
    assert_eq!(bad.status, 400);
    seed(
        &emu,
        "ecs",
        R,
        json!([{"id": "i-1", "os": "linux", "status": "Running"}]),
    )
    .await;
    ecs(
        &emu,
        "CreateKeyPair",
        &[("RegionId", R), ("KeyPairName", "k1")],
    )
    .await;
    ecs(
        &emu,
        "AttachKeyPair",
        &[
            ("RegionId", R),
            ("KeyPairName", "k1"),
            ("InstanceIds", "[\"i-1\"]"),
        ],
    )
    .await;
    // Re-seeding keeps bindings and changes the status.
    seed(&emu, "ecs", R, json!([{"id": "i-1", "status": "Stopped"}])).await;
    let state = admin_get(&emu, "state").await;
    assert_eq!(
        state["ecs"][R]["keys"][0]["bound_instances"],
        json!(["i-1"])
    );
    assert_eq!(state["ecs"][R]["instances"][0]["status"], "Stopped");
    assert_eq!(state["ecs"][R]["instances"][0]["keys"], json!(["k1"]));
    let calls = admin_get(&emu, "calls").await;
    assert_eq!(calls.as_array().unwrap().len(), 2);
    assert_eq!(calls[1]["params"]["InstanceIds"], "[\"i-1\"]");
    assert_eq!(calls[1]["error_code"], serde_json::Value::Null);
    admin_post(
        &emu,
        "faults",
        json!({"action": "DescribeKeyPairs", "kind": "throttle", "count": 5}),
    )
    .await;
    assert_eq!(admin_post(&emu, "reset", json!({})).await.status, 200);
    assert_eq!(admin_get(&emu, "calls").await, json!([]));
    let state = admin_get(&emu, "state").await;
    assert_eq!(state, json!({"cvm": {}, "ecs": {}, "ens": {}}));
    // Faults were cleared too.
    assert_eq!(
        ecs(&emu, "DescribeKeyPairs", &[("RegionId", R)])
            .await
            .status,
        200
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn state_file_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let config = EmulatorConfig {
        state_file: Some(path.clone()),
        ..Default::default()
    };
    let emu = start_with(config.clone()).await;
    seed(
        &emu,
        "cvm",
        "ap-guangzhou",
        json!([{"id": "ins-00000001", "status": "Stopped"}]),
    )
    .await;
    let a = cvm(
        &emu,
        "CreateKeyPair",
        "ap-guangzhou",
        json!({"KeyName": "kept", "ProjectId": 0}),
    )
    .await;
    let id = a.body["Response"]["KeyPair"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    emu.shutdown().await;
    assert!(path.exists());
    let emu = start_with(config).await;
    let list = cvm(
        &emu,
        "DescribeKeyPairs",
        "ap-guangzhou",
        json!({"KeyIds": [id]}),
    )
    .await;
    assert_eq!(list.body["Response"]["TotalCount"], 1);
    let state = admin_get(&emu, "state").await;
    assert_eq!(
        state["cvm"]["ap-guangzhou"]["instances"][0]["id"],
        "ins-00000001"
    );
    emu.shutdown().await;
    std::fs::write(&path, "not json").unwrap();
    let err = sshkey::emulator::start(EmulatorConfig {
        state_file: Some(path),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    })
    .await;
    assert!(err.is_err());
}

#[tokio::test]
async fn thousand_keys_are_fast() {
    let emu = start().await;
    let t = Instant::now();
    for i in 0..1000 {
        let a = ecs(
            &emu,
            "CreateKeyPair",
            &[("RegionId", R), ("KeyPairName", &format!("bulk-{i}"))],
        )
        .await;
        assert_eq!(a.status, 200);
    }
    let elapsed = t.elapsed();
    eprintln!("1000 CreateKeyPair calls: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(60));
    let names: Vec<String> = (0..100).map(|i| format!("bulk-{i}")).collect();
    let a = ecs(
        &emu,
        "DeleteKeyPairs",
        &[("RegionId", R), ("KeyPairNames", &json_list(&names))],
    )
    .await;
    assert_eq!(a.status, 200);
    let list = ecs(&emu, "DescribeKeyPairs", &[("RegionId", R)]).await;
    assert_eq!(list.body["TotalCount"], 900);
    emu.shutdown().await;
}

#[test]
fn binary_prints_the_bound_address_first() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sshkey-emulator"))
        .args(["--listen", "127.0.0.1:0", "--rate", "DeleteKeyPairs=5"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    use std::io::{Read as _, Write as _};
    stream
        .write_all(b"GET /_emulator/calls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("[]"), "{response}");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_sshkey-emulator"))
        .args(["--listen", "127.0.0.1:0", "--rate", "nonsense"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// This machine's non-loopback IPv4 address: the source address the OS would use towards a
/// documentation-range address (a UDP connect sends nothing).
fn non_loopback_ipv4() -> Option<std::net::IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    probe.connect("192.0.2.1:9").ok()?;
    let ip = probe.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// A client that never goes through a proxy: the peer address is what is under test.
fn direct_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn status_of(method: &str, url: &str) -> (u16, String) {
    let req = match method {
        "GET" => direct_client().get(url),
        _ => direct_client().post(url).json(&json!({})),
    };
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Every admin route, a wrong method on one, and an unknown admin path.
const ADMIN_REQUESTS: [(&str, &str); 7] = [
    ("GET", "calls"),
    ("POST", "reset"),
    ("POST", "instances"),
    ("GET", "state"),
    ("POST", "faults"),
    ("GET", "reset"),
    ("GET", "no-such-thing"),
];

#[tokio::test]
async fn admin_api_refuses_non_loopback_clients_and_the_cloud_api_does_not() {
    let Some(local_ip) = non_loopback_ipv4() else {
        eprintln!("skipping: this machine has no non-loopback IPv4 address");
        return;
    };
    let emu = sshkey::emulator::start(EmulatorConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..Default::default()
    })
    .await
    .unwrap();
    let port = emu.addr().port();
    for (method, path) in ADMIN_REQUESTS {
        let (status, body) = status_of(
            method,
            &format!("http://{local_ip}:{port}/_emulator/{path}"),
        )
        .await;
        assert_eq!(
            status, 403,
            "{method} /_emulator/{path} from {local_ip}: {body}"
        );
        assert!(body.contains("loopback only"), "{body}");
    }

    // The cloud API answers the same remote peer, signed as usual.
    let api = sshkey::cloud::new_client(sshkey::cloud::ClientConfig {
        kind: sshkey::cloud::CloudKind::Ecs,
        region: R.into(),
        credentials: sshkey::cloud::Credentials::long_term(ACCESS_KEY, SECRET_KEY),
        endpoint: Some(format!("http://{local_ip}:{port}").parse().unwrap()),
        request_timeout: Duration::from_secs(5),
        max_retries: 0,
        retry_deadline: Duration::from_secs(5),
        assume_role: None,
        sts_endpoint: None,
    })
    .unwrap();
    let created = api
        .create_key_pair(&sshkey::cloud::KeySpec {
            name: "remote".into(),
            ..Default::default()
        })
        .await
        .expect("CreateKeyPair from a non-loopback peer");
    assert_eq!(created.name, "remote");

    // Loopback still reaches everything, and the refused reset changed nothing.
    let (status, body) =
        status_of("GET", &format!("http://127.0.0.1:{port}/_emulator/calls")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("CreateKeyPair"), "{body}");
    let (status, body) = status_of(
        "GET",
        &format!("http://127.0.0.1:{port}/_emulator/no-such-thing"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    emu.shutdown().await;
}

#[tokio::test]
async fn admin_api_answers_ipv4_loopback_on_a_dual_stack_listener() {
    let emu = match sshkey::emulator::start(EmulatorConfig {
        listen: "[::]:0".parse().unwrap(),
        ..Default::default()
    })
    .await
    {
        Ok(emu) => emu,
        Err(e) => {
            eprintln!("skipping: no IPv6 listener on this machine ({e})");
            return;
        }
    };
    let port = emu.addr().port();
    // An IPv4 client of a dual-stack socket is seen as ::ffff:127.0.0.1.
    match std::net::TcpStream::connect(("127.0.0.1", port)) {
        Ok(_) => {
            let (status, body) =
                status_of("GET", &format!("http://127.0.0.1:{port}/_emulator/calls")).await;
            assert_eq!(status, 200, "IPv4-mapped loopback: {body}");
        }
        Err(e) => eprintln!("not checking IPv4-mapped loopback: IPv6-only socket ({e})"),
    }
    let (status, body) = status_of("GET", &format!("http://[::1]:{port}/_emulator/calls")).await;
    assert_eq!(status, 200, "IPv6 loopback: {body}");
    emu.shutdown().await;
}
