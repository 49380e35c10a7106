//! Signature checks: independent signers written from the documented algorithms (checked against
//! the documented vectors first), then tampered signatures, expired timestamps, replayed nonces,
//! unknown keys and malformed headers.

mod support;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::api::*;
use support::{ACCESS_KEY, SECRET_KEY};

fn hmac256(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn sha_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

// Written from REFERENCE.md independently of sshkey::cloud::sign. The `query` must already be
// canonical (sorted, RFC 3986 encoded); `headers` sorted, lower-case.
fn independent_acs3(
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    secret: &str,
) -> (String, String) {
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    let signed = signed.join(";");
    let canonical = format!(
        "{method}\n/\n{query}\n{canonical_headers}\n{signed}\n{}",
        sha_hex(body)
    );
    let sts = format!("ACS3-HMAC-SHA256\n{}", sha_hex(canonical.as_bytes()));
    (hex::encode(hmac256(secret.as_bytes(), &sts)), signed)
}

#[test]
fn independent_acs3_reproduces_the_documented_vector() {
    let empty = sha_hex(b"");
    let headers = [
        ("host", "ecs.cn-shanghai.aliyuncs.com"),
        ("x-acs-action", "RunInstances"),
        ("x-acs-content-sha256", empty.as_str()),
        ("x-acs-date", "2023-10-26T10:22:32Z"),
        ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
        ("x-acs-version", "2014-05-26"),
    ];
    let (sig, _) = independent_acs3(
        "POST",
        "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai",
        &headers,
        b"",
        "YourAccessKeySecret",
    );
    assert_eq!(
        sig,
        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    );
}

#[tokio::test]
async fn independent_acs3_request_with_sdk_style_headers_is_accepted() {
    let emu = start().await;
    let host = emu.addr().to_string();
    let date = sshkey::cloud::sign::acs3::format_date(now());
    let nonce = nonce();
    let empty = sha_hex(b"");
    // Like the official SDKs: also sign accept and user-agent.
    let headers = [
        ("accept", "application/json"),
        ("host", host.as_str()),
        ("user-agent", "independent-test/1.0"),
        ("x-acs-action", "DescribeKeyPairs"),
        ("x-acs-content-sha256", empty.as_str()),
        ("x-acs-date", date.as_str()),
        ("x-acs-signature-nonce", nonce.as_str()),
        ("x-acs-version", "2014-05-26"),
    ];
    let query = "PageSize=5&RegionId=cn-hangzhou";
    let (sig, signed) = independent_acs3("GET", query, &headers, b"", SECRET_KEY);
    let mut req = reqwest::Client::new().get(format!("http://{host}/?{query}"));
    for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
        req = req.header(*k, *v);
    }
    let auth =
        format!("ACS3-HMAC-SHA256 Credential={ACCESS_KEY},SignedHeaders={signed},Signature={sig}");
    let resp = req.header("authorization", auth).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["PageSize"], 5);
    emu.shutdown().await;
}

fn independent_tc3(secret_key: &str, date: &str, timestamp: i64, canonical: &str) -> String {
    let sts = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/cvm/tc3_request\n{}",
        sha_hex(canonical.as_bytes())
    );
    let k_date = hmac256(format!("TC3{secret_key}").as_bytes(), date);
    let k_service = hmac256(&k_date, "cvm");
    let k_signing = hmac256(&k_service, "tc3_request");
    hex::encode(hmac256(&k_signing, &sts))
}

#[test]
fn independent_tc3_reproduces_the_documented_vector() {
    let payload =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n{}",
        sha_hex(payload.as_bytes())
    );
    assert_eq!(
        independent_tc3(
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "2019-02-25",
            1551113065,
            &canonical
        ),
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
}

#[tokio::test]
async fn independent_tc3_request_signing_x_tc_action_is_accepted() {
    let emu = start().await;
    let host = emu.addr().to_string();
    let ts = now().unix_timestamp();
    let date = sshkey::cloud::sign::tc3::utc_date(ts).unwrap();
    let payload = r#"{"Limit": 5}"#;
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json\nhost:{host}\nx-tc-action:describekeypairs\n\ncontent-type;host;x-tc-action\n{}",
        sha_hex(payload.as_bytes())
    );
    let sig = independent_tc3(SECRET_KEY, &date, ts, &canonical);
    let auth = format!("TC3-HMAC-SHA256 Credential={ACCESS_KEY}/{date}/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature={sig}");
    let resp = reqwest::Client::new()
        .post(emu.endpoint())
        .header("content-type", "application/json")
        .header("x-tc-action", "DescribeKeyPairs")
        .header("x-tc-version", "2017-03-12")
        .header("x-tc-region", "ap-guangzhou")
        .header("x-tc-timestamp", ts.to_string())
        .header("authorization", auth)
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["Response"].get("Error").is_none(), "{body}");
    assert_eq!(body["Response"]["TotalCount"], 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn independent_v2_get_request_is_accepted() {
    let emu = start().await;
    let enc = |s: &str| sshkey::cloud::sign::encode::percent_encode(s);
    let ts = sshkey::cloud::sign::acs3::format_date(now());
    let nonce = nonce();
    let mut params = vec![
        ("AccessKeyId", ACCESS_KEY),
        ("Action", "DescribeKeyPairs"),
        ("Format", "JSON"),
        ("RegionId", "cn-hangzhou"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", nonce.as_str()),
        ("SignatureVersion", "1.0"),
        ("Timestamp", ts.as_str()),
        ("Version", "2014-05-26"),
    ];
    params.sort();
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    let query = query.join("&");
    let sts = format!("GET&%2F&{}", enc(&query));
    let mut m = Hmac::<sha1::Sha1>::new_from_slice(format!("{SECRET_KEY}&").as_bytes()).unwrap();
    m.update(sts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes());
    let url = format!("{}/?{query}&Signature={}", emu.endpoint(), enc(&sig));
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn acs3_rejections() {
    let emu = start().await;
    let p = [("RegionId", "cn-hangzhou")];
    let v = "2014-05-26";
    let wrong = sshkey::cloud::sign::Credentials::new(ACCESS_KEY, "not-the-secret");
    let a = acs3_call_with(&emu, v, "DescribeKeyPairs", &p, &wrong, &nonce(), now()).await;
    assert_eq!((a.status, a.code()), (400, Some("SignatureDoesNotMatch")));
    let unknown = sshkey::cloud::sign::Credentials::new("someone-else", SECRET_KEY);
    let a = acs3_call_with(&emu, v, "DescribeKeyPairs", &p, &unknown, &nonce(), now()).await;
    assert_eq!(
        (a.status, a.code()),
        (404, Some("InvalidAccessKeyId.NotFound"))
    );
    let old = now() - time::Duration::minutes(16);
    let a = acs3_call_with(&emu, v, "DescribeKeyPairs", &p, &creds(), &nonce(), old).await;
    assert_eq!(
        (a.status, a.code()),
        (400, Some("InvalidTimeStamp.Expired"))
    );
    let future = now() + time::Duration::minutes(16);
    let a = acs3_call_with(&emu, v, "DescribeKeyPairs", &p, &creds(), &nonce(), future).await;
    assert_eq!(a.code(), Some("InvalidTimeStamp.Expired"));
    let slightly_old = now() - time::Duration::minutes(14);
    let a = acs3_call_with(
        &emu,
        v,
        "DescribeKeyPairs",
        &p,
        &creds(),
        &nonce(),
        slightly_old,
    )
    .await;
    assert_eq!(a.status, 200);
    let n = nonce();
    let a = acs3_call_with(&emu, v, "DescribeKeyPairs", &p, &creds(), &n, now()).await;
    assert_eq!(a.status, 200);
    let a = acs3_call_with(&emu, v, "DescribeKeyPairs", &p, &creds(), &n, now()).await;
    assert_eq!((a.status, a.code()), (400, Some("SignatureNonceUsed")));
    let a = acs3_call_with(
        &emu,
        "2099-01-01",
        "DescribeKeyPairs",
        &p,
        &creds(),
        &nonce(),
        now(),
    )
    .await;
    assert_eq!(a.code(), Some("InvalidVersion"));

    // Tampering after signing: change a query parameter, then the signature itself.
    let host = emu.addr().to_string();
    let date = sshkey::cloud::sign::acs3::format_date(now());
    let query = vec![("RegionId".to_string(), "cn-hangzhou".to_string())];
    let sign = |nonce: &str| {
        sshkey::cloud::sign::acs3::sign_request(
            &sshkey::cloud::sign::acs3::SignInput {
                method: "POST",
                host: &host,
                query: &query,
                body: b"",
                action: "DescribeKeyPairs",
                version: v,
                date: &date,
                nonce,
            },
            &creds(),
        )
    };
    let send = |headers: Vec<(String, String)>, q: &'static str| {
        let mut req = reqwest::Client::new().post(format!("{}/?{q}", emu.endpoint()));
        for (k, val) in headers {
            req = req.header(k, val);
        }
        async move { req.send().await.unwrap() }
    };
    let r = send(sign(&nonce()), "RegionId=cn-beijing").await;
    assert_eq!(r.status(), 400);
    let mut headers = sign(&nonce());
    let auth = headers
        .iter_mut()
        .find(|(k, _)| k == "authorization")
        .unwrap();
    let last = auth.1.pop().unwrap();
    auth.1.push(if last == '0' { '1' } else { '0' });
    let r = send(headers, "RegionId=cn-hangzhou").await;
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["Code"], "SignatureDoesNotMatch");
    // A signed header that is not sent.
    let headers: Vec<_> = sign(&nonce())
        .into_iter()
        .filter(|(k, _)| k != "x-acs-action")
        .collect();
    let body: serde_json::Value = send(headers, "RegionId=cn-hangzhou")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["Code"], "IncompleteSignature");
    // Malformed Authorization and no signature at all.
    let r = reqwest::Client::new()
        .post(emu.endpoint())
        .header("authorization", "ACS3-HMAC-SHA256 nonsense")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["Code"], "IncompleteSignature");
    let r = reqwest::get(format!(
        "{}/?Action=DescribeKeyPairs&Version=2014-05-26",
        emu.endpoint()
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["Code"], "IncompleteSignature");
    for field in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(body.get(field).is_some(), "{field}");
    }

    let calls = admin_get(&emu, "calls").await;
    let first = &calls[0];
    assert_eq!(first["cloud"], "ecs");
    assert_eq!(first["action"], "DescribeKeyPairs");
    assert_eq!(first["http_status"], 400);
    assert_eq!(first["error_code"], "SignatureDoesNotMatch");
    assert_eq!(first["params"]["RegionId"], "cn-hangzhou");
    emu.shutdown().await;
}

#[tokio::test]
async fn v2_rejections() {
    let emu = start().await;
    let p = [("RegionId", "cn-hangzhou")];
    let ts = sshkey::cloud::sign::acs3::format_date(now());
    let a = v2_call(
        &emu,
        "2014-05-26",
        "DescribeKeyPairs",
        &p,
        SECRET_KEY,
        "n-1",
        &ts,
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let a = v2_call(
        &emu,
        "2014-05-26",
        "DescribeKeyPairs",
        &p,
        SECRET_KEY,
        "n-1",
        &ts,
    )
    .await;
    assert_eq!(a.code(), Some("SignatureNonceUsed"));
    let a = v2_call(
        &emu,
        "2014-05-26",
        "DescribeKeyPairs",
        &p,
        "bad",
        "n-2",
        &ts,
    )
    .await;
    assert_eq!((a.status, a.code()), (400, Some("SignatureDoesNotMatch")));
    assert!(a.body["Message"]
        .as_str()
        .unwrap()
        .contains("server string to sign is:POST&%2F&"));
    let old = sshkey::cloud::sign::acs3::format_date(now() - time::Duration::minutes(20));
    let a = v2_call(
        &emu,
        "2014-05-26",
        "DescribeKeyPairs",
        &p,
        SECRET_KEY,
        "n-3",
        &old,
    )
    .await;
    assert_eq!(a.code(), Some("InvalidTimeStamp.Expired"));
    let a = v2_call(
        &emu,
        "2017-11-10",
        "DescribeKeyPairs",
        &[],
        SECRET_KEY,
        "n-4",
        &ts,
    )
    .await;
    assert_eq!(a.status, 200, "ENS over V2: {:?}", a.body);
    emu.shutdown().await;
}

#[tokio::test]
async fn tc3_rejections() {
    let emu = start().await;
    let r = "ap-guangzhou";
    let wrong = sshkey::cloud::sign::Credentials::new(ACCESS_KEY, "bad");
    let code = |a: &Answer| {
        assert_eq!(a.status, 200);
        a.body["Response"]["Error"]["Code"]
            .as_str()
            .map(String::from)
    };
    let a = cvm_with(
        &emu,
        "DescribeKeyPairs",
        r,
        json!({}),
        &wrong,
        now().unix_timestamp(),
    )
    .await;
    assert_eq!(code(&a).as_deref(), Some("AuthFailure.SignatureFailure"));
    let unknown = sshkey::cloud::sign::Credentials::new("AKIDother", SECRET_KEY);
    let a = cvm_with(
        &emu,
        "DescribeKeyPairs",
        r,
        json!({}),
        &unknown,
        now().unix_timestamp(),
    )
    .await;
    assert_eq!(code(&a).as_deref(), Some("AuthFailure.SecretIdNotFound"));
    let a = cvm_with(
        &emu,
        "DescribeKeyPairs",
        r,
        json!({}),
        &creds(),
        now().unix_timestamp() - 301,
    )
    .await;
    assert_eq!(code(&a).as_deref(), Some("AuthFailure.SignatureExpire"));
    let a = cvm_with(
        &emu,
        "DescribeKeyPairs",
        r,
        json!({}),
        &creds(),
        now().unix_timestamp() - 200,
    )
    .await;
    assert_eq!(code(&a), None);
    // Body changed after signing.
    let ts = now().unix_timestamp();
    let host = emu.addr().to_string();
    let headers = sshkey::cloud::sign::tc3::sign_request(
        &sshkey::cloud::sign::tc3::SignInput {
            host: &host,
            service: "cvm",
            action: "DescribeKeyPairs",
            version: "2017-03-12",
            region: r,
            timestamp: ts,
            payload: b"{}",
        },
        &creds(),
    );
    let mut req = reqwest::Client::new()
        .post(emu.endpoint())
        .body(r#"{"Limit":1}"#);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let body: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
    assert_eq!(
        body["Response"]["Error"]["Code"],
        "AuthFailure.SignatureFailure"
    );
    let body: serde_json::Value = reqwest::Client::new()
        .post(emu.endpoint())
        .header("x-tc-action", "DescribeKeyPairs")
        .header("authorization", "TC3-HMAC-SHA256 junk")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["Response"]["Error"]["Code"],
        "AuthFailure.InvalidAuthorization"
    );
    assert!(body["Response"]["RequestId"].is_string());
    emu.shutdown().await;
}

#[tokio::test]
async fn tc3_get_with_indexed_query_parameters() {
    use sshkey::cloud::sign::tc3;
    let emu = start().await;
    let created = cvm(
        &emu,
        "CreateKeyPair",
        "ap-guangzhou",
        json!({"KeyName": "viaget", "ProjectId": 0}),
    )
    .await;
    let id = created.body["Response"]["KeyPair"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let host = emu.addr().to_string();
    let ts = now().unix_timestamp();
    let date = tc3::utc_date(ts).unwrap();
    let query = format!("KeyIds.0={id}&Limit=10");
    let headers = vec![
        (
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("host".to_string(), host.clone()),
    ];
    let canonical = tc3::canonical_request("GET", &query, &headers, &sha_hex(b""));
    let sts = tc3::string_to_sign(ts, &date, "cvm", &canonical);
    let auth = tc3::Authorization {
        secret_id: ACCESS_KEY.into(),
        date: date.clone(),
        service: "cvm".into(),
        signed_headers: vec!["content-type".into(), "host".into()],
        signature: tc3::signature(SECRET_KEY, &date, "cvm", &sts),
    };
    let body: serde_json::Value = client()
        .get(format!("{}/?{query}", emu.endpoint()))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-tc-action", "DescribeKeyPairs")
        .header("x-tc-version", "2017-03-12")
        .header("x-tc-region", "ap-guangzhou")
        .header("x-tc-timestamp", ts.to_string())
        .header("authorization", auth.to_header_value())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["Response"]["TotalCount"], 1, "{body}");
    assert_eq!(body["Response"]["KeyPairSet"][0]["KeyId"], id.as_str());
    emu.shutdown().await;
}

#[tokio::test]
async fn acs3_form_body_parameters() {
    use sshkey::cloud::sign::acs3;
    let emu = start().await;
    let host = emu.addr().to_string();
    let date = acs3::format_date(now());
    let n = nonce();
    let body = b"RegionId=cn-hangzhou&KeyPairName=from-form";
    let query: Vec<(String, String)> = vec![];
    let headers = acs3::sign_request(
        &acs3::SignInput {
            method: "POST",
            host: &host,
            query: &query,
            body,
            action: "CreateKeyPair",
            version: "2014-05-26",
            date: &date,
            nonce: &n,
        },
        &creds(),
    );
    let mut req = client()
        .post(emu.endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(&body[..]);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(answer["KeyPairName"], "from-form");
    emu.shutdown().await;
}
