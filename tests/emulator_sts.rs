//! STS AssumeRole on both vendors and the temporary credentials it issues, driven over HTTP with
//! our own signers: the credentials work on ECS, ENS and CVM with their token, and are refused
//! without it, with another key's token, once expired, or when a token comes with the long-term
//! key; roles, external ids and durations are checked as each STS documents.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use sshkey::cloud::sign::{encode, tc3, v2, Credentials};
use sshkey::emulator::{EmulatorConfig, Role, DEFAULT_ALIBABA_ROLE_ARN, DEFAULT_TENCENT_ROLE_ARN};
use support::api::*;
use support::clouds::{CVM, ECS};

const STS_2015: &str = "2015-04-01";
const ECS_2014: &str = "2014-05-26";
const ENS_2017: &str = "2017-11-10";
const STS_2018: &str = "2018-08-13";
const CVM_2017: &str = "2017-03-12";

async fn post(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, body }
}

/// An ACS3-signed Alibaba call with `creds` (their token in `x-acs-security-token`).
async fn alibaba(
    emu: &impl Target,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
    creds: &Credentials,
) -> Answer {
    acs3_call_with(emu, version, action, params, creds, &nonce(), now()).await
}

/// A V2-signed Alibaba call with `creds` (their token in the `SecurityToken` parameter).
async fn alibaba_v2(
    emu: &impl Target,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
    creds: &Credentials,
) -> Answer {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    pairs.push(("Action".into(), action.into()));
    pairs.push(("Version".into(), version.into()));
    let timestamp = sshkey::cloud::sign::acs3::format_date(now());
    v2::sign_params("POST", &mut pairs, creds, &nonce(), &timestamp);
    let body = encode::encode_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    post(
        client()
            .post(emu.endpoint())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}

/// A TC3-signed Tencent call for `service` (`sts` or `cvm`) with `creds` (their token in
/// `X-TC-Token`).
async fn tencent(
    emu: &impl Target,
    service: &str,
    action: &str,
    region: &str,
    body: Value,
    creds: &Credentials,
) -> Answer {
    let version = if service == "sts" { STS_2018 } else { CVM_2017 };
    let payload = body.to_string();
    let host = emu.addr().to_string();
    let headers = tc3::sign_request(
        &tc3::SignInput {
            host: &host,
            service,
            action,
            version,
            region,
            timestamp: now().unix_timestamp(),
            payload: payload.as_bytes(),
        },
        creds,
    );
    let mut req = client().post(emu.endpoint()).body(payload);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    post(req).await
}

async fn alibaba_assume(emu: &impl Target, params: &[(&str, &str)]) -> Answer {
    alibaba(emu, STS_2015, "AssumeRole", params, &creds()).await
}

async fn tencent_assume(emu: &impl Target, body: Value) -> Answer {
    tencent(emu, "sts", "AssumeRole", CVM.region, body, &creds()).await
}

fn str_at<'a>(a: &'a Answer, pointer: &str) -> &'a str {
    a.body
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer}: {a:?}"))
}

/// The temporary credentials of a successful Alibaba AssumeRole.
fn alibaba_credentials(a: &Answer) -> Credentials {
    assert_eq!(a.status, 200, "{a:?}");
    Credentials::new(
        str_at(a, "/Credentials/AccessKeyId"),
        str_at(a, "/Credentials/AccessKeySecret"),
    )
    .with_token(str_at(a, "/Credentials/SecurityToken"))
}

/// The temporary credentials of a successful Tencent AssumeRole.
fn tencent_credentials(a: &Answer) -> Credentials {
    assert_eq!(a.code(), None, "{a:?}");
    Credentials::new(
        str_at(a, "/Response/Credentials/TmpSecretId"),
        str_at(a, "/Response/Credentials/TmpSecretKey"),
    )
    .with_token(str_at(a, "/Response/Credentials/Token"))
}

fn without_token(c: &Credentials) -> Credentials {
    Credentials::new(c.access_key_id.clone(), c.access_key_secret.clone())
}

fn with_token_of(c: &Credentials, other: &Credentials) -> Credentials {
    without_token(c).with_token(other.security_token.clone().expect("a token"))
}

/// Seconds from now until an RFC 3339 time.
fn seconds_until(rfc3339: &str) -> i64 {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339:?} is not RFC 3339: {e}"));
    t.unix_timestamp() - now().unix_timestamp()
}

const ECS_DESCRIBE: &[(&str, &str)] = &[("RegionId", ECS.region)];

async fn ecs_describe(emu: &impl Target, creds: &Credentials) -> Answer {
    alibaba(emu, ECS_2014, "DescribeKeyPairs", ECS_DESCRIBE, creds).await
}

async fn cvm_describe(emu: &impl Target, creds: &Credentials) -> Answer {
    tencent(emu, "cvm", "DescribeKeyPairs", CVM.region, json!({}), creds).await
}

#[tokio::test]
async fn alibaba_temporary_credentials_work_on_ecs_and_ens() {
    let emu = start().await;
    let a = alibaba_assume(
        &emu,
        &[
            ("RoleArn", DEFAULT_ALIBABA_ROLE_ARN),
            ("RoleSessionName", "alice"),
            ("Policy", r#"{"Statement":[],"Version":"1"}"#),
        ],
    )
    .await;
    let temp = alibaba_credentials(&a);
    assert!(temp.access_key_id.starts_with("STS."), "{a:?}");
    assert!(temp.security_token.as_ref().is_some_and(|t| t.len() >= 100));
    assert_eq!(
        str_at(&a, "/AssumedRoleUser/Arn"),
        format!("{DEFAULT_ALIBABA_ROLE_ARN}/alice")
    );
    assert!(str_at(&a, "/AssumedRoleUser/AssumedRoleId").ends_with(":alice"));
    assert!(!str_at(&a, "/RequestId").is_empty());
    // Default 3600 s, expiry in whole seconds.
    let expiration = str_at(&a, "/Credentials/Expiration");
    assert_eq!(
        expiration.len(),
        "2024-01-01T00:00:00Z".len(),
        "{expiration}"
    );
    assert!(
        (3595..=3601).contains(&seconds_until(expiration)),
        "{expiration}"
    );

    // A write on ECS, a read on ENS, both signed ACS3 with the temporary key and its token.
    let created = alibaba(
        &emu,
        ECS_2014,
        "CreateKeyPair",
        &[("RegionId", ECS.region), ("KeyPairName", "sts-made")],
        &temp,
    )
    .await;
    assert_eq!(created.status, 200, "{created:?}");
    let listed = ecs_describe(&emu, &temp).await;
    assert_eq!(listed.body["TotalCount"], 1, "{listed:?}");
    let ens = alibaba(&emu, ENS_2017, "DescribeKeyPairs", &[], &temp).await;
    assert_eq!(ens.status, 200, "{ens:?}");

    // V2 carries the token as the SecurityToken parameter, for STS and ECS alike.
    let v2_assumed = alibaba_v2(
        &emu,
        STS_2015,
        "AssumeRole",
        &[
            ("RoleArn", DEFAULT_ALIBABA_ROLE_ARN),
            ("RoleSessionName", "bob"),
            ("DurationSeconds", "900"),
        ],
        &creds(),
    )
    .await;
    let v2_temp = alibaba_credentials(&v2_assumed);
    assert!((895..=901).contains(&seconds_until(str_at(
        &v2_assumed,
        "/Credentials/Expiration"
    ))));
    let v2_listed = alibaba_v2(&emu, ECS_2014, "DescribeKeyPairs", ECS_DESCRIBE, &v2_temp).await;
    assert_eq!(v2_listed.body["TotalCount"], 1, "{v2_listed:?}");

    // Temporary credentials may assume a role again (role chaining).
    let chained = alibaba(
        &emu,
        STS_2015,
        "AssumeRole",
        &[
            ("RoleArn", DEFAULT_ALIBABA_ROLE_ARN),
            ("RoleSessionName", "carol"),
        ],
        &temp,
    )
    .await;
    alibaba_credentials(&chained);

    // Every AssumeRole is in the call log, under its own API, and no secret or token is.
    let calls = admin_get(&emu, "calls").await;
    let assumed: Vec<&Value> = calls
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["action"] == "AssumeRole")
        .collect();
    assert_eq!(assumed.len(), 3, "{calls}");
    assert!(
        assumed.iter().all(|c| c["cloud"] == "alibaba-sts"),
        "{calls}"
    );
    assert_eq!(assumed[0]["params"]["RoleSessionName"], "alice");
    let log = calls.to_string();
    for secret in [&temp, &v2_temp] {
        assert!(!log.contains(&secret.access_key_secret), "secret in {log}");
        assert!(!log.contains(secret.security_token.as_deref().unwrap_or("?")));
    }
    assert!(!log.contains(support::SECRET_KEY));
}

#[tokio::test]
async fn tencent_temporary_credentials_work_on_cvm() {
    let emu = start().await;
    let a = tencent_assume(
        &emu,
        json!({"RoleArn": DEFAULT_TENCENT_ROLE_ARN, "RoleSessionName": "bob"}),
    )
    .await;
    let temp = tencent_credentials(&a);
    assert!(temp.access_key_id.starts_with("AKID"), "{a:?}");
    // Default 7200 s; ExpiredTime and Expiration state the same second.
    let expired_time = a.body["Response"]["ExpiredTime"]
        .as_i64()
        .expect("ExpiredTime");
    assert!((7195..=7201).contains(&(expired_time - now().unix_timestamp())));
    let expiration = str_at(&a, "/Response/Expiration");
    assert_eq!(
        seconds_until(expiration) + now().unix_timestamp(),
        expired_time,
        "{expiration}"
    );
    assert!(!str_at(&a, "/Response/RequestId").is_empty());

    let created = tencent(
        &emu,
        "cvm",
        "CreateKeyPair",
        CVM.region,
        json!({"KeyName": "sts_made", "ProjectId": 0}),
        &temp,
    )
    .await;
    assert_eq!(created.code(), None, "{created:?}");
    let listed = cvm_describe(&emu, &temp).await;
    assert_eq!(listed.body["Response"]["TotalCount"], 1, "{listed:?}");

    // STS needs a region like every Tencent call.
    let no_region = tencent(
        &emu,
        "sts",
        "AssumeRole",
        "",
        json!({"RoleArn": DEFAULT_TENCENT_ROLE_ARN, "RoleSessionName": "bob"}),
        &creds(),
    )
    .await;
    assert_eq!(no_region.code(), Some("MissingParameter"), "{no_region:?}");

    let calls = admin_get(&emu, "calls").await;
    let assumed: Vec<&Value> = calls
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["action"] == "AssumeRole")
        .collect();
    assert_eq!(assumed.len(), 2, "{calls}");
    assert!(assumed.iter().all(|c| c["cloud"] == "tencent-sts"));
    assert!(!calls.to_string().contains(&temp.access_key_secret));
}

#[tokio::test]
async fn tokens_must_belong_to_the_key_they_come_with() {
    let emu = start().await;
    let session = [
        ("RoleArn", DEFAULT_ALIBABA_ROLE_ARN),
        ("RoleSessionName", "alice"),
    ];
    let one = alibaba_credentials(&alibaba_assume(&emu, &session).await);
    let two = alibaba_credentials(&alibaba_assume(&emu, &session).await);
    let refused = |a: &Answer, code: &str| {
        assert_eq!((a.status, a.code()), (400, Some(code)), "{a:?}");
    };
    refused(
        &ecs_describe(&emu, &without_token(&one)).await,
        "MissingSecurityToken",
    );
    refused(
        &ecs_describe(&emu, &with_token_of(&one, &two)).await,
        "InvalidSecurityToken.MismatchWithAccessKey",
    );
    refused(
        &ecs_describe(&emu, &without_token(&one).with_token("CAIS-made-up")).await,
        "InvalidSecurityToken.Malformed",
    );
    // A token with the long-term key is refused, an issued one and a made-up one alike.
    refused(
        &ecs_describe(&emu, &with_token_of(&creds(), &one)).await,
        "InvalidSecurityToken.MismatchWithAccessKey",
    );
    refused(
        &ecs_describe(&emu, &creds().with_token("CAIS-made-up")).await,
        "InvalidSecurityToken.Malformed",
    );
    // STS itself is no exception.
    let sts = alibaba(&emu, STS_2015, "AssumeRole", &session, &without_token(&two)).await;
    refused(&sts, "MissingSecurityToken");
    // The signature is checked with the temporary key's own secret.
    let mut wrong_secret = one.clone();
    wrong_secret.access_key_secret = two.access_key_secret.clone();
    refused(
        &ecs_describe(&emu, &wrong_secret).await,
        "SignatureDoesNotMatch",
    );
    // Both keys still work with their own tokens.
    assert_eq!(ecs_describe(&emu, &one).await.status, 200);
    assert_eq!(ecs_describe(&emu, &two).await.status, 200);

    let tencent_session = json!({"RoleArn": DEFAULT_TENCENT_ROLE_ARN, "RoleSessionName": "bob"});
    let t1 = tencent_credentials(&tencent_assume(&emu, tencent_session.clone()).await);
    let t2 = tencent_credentials(&tencent_assume(&emu, tencent_session).await);
    for wrong in [
        without_token(&t1),
        with_token_of(&t1, &t2),
        with_token_of(&creds(), &t1),
    ] {
        let a = cvm_describe(&emu, &wrong).await;
        assert_eq!(
            (a.status, a.code()),
            (200, Some("AuthFailure.TokenFailure")),
            "{a:?}"
        );
    }
    assert_eq!(cvm_describe(&emu, &t1).await.code(), None);
    // Each vendor's keys are its own.
    let crossed = cvm_describe(&emu, &one).await;
    assert_eq!(crossed.code(), Some("AuthFailure.SecretIdNotFound"));
    let crossed = ecs_describe(&emu, &t1).await;
    assert_eq!(crossed.code(), Some("InvalidAccessKeyId.NotFound"));
}

#[tokio::test]
async fn expired_credentials_are_refused_and_renewed_ones_work() {
    let emu = start_with(EmulatorConfig {
        sts_lifetime: Some(Duration::from_secs(1)),
        ..EmulatorConfig::default()
    })
    .await;
    let alibaba_session = [
        ("RoleArn", DEFAULT_ALIBABA_ROLE_ARN),
        ("RoleSessionName", "alice"),
    ];
    let tencent_session = json!({"RoleArn": DEFAULT_TENCENT_ROLE_ARN, "RoleSessionName": "bob"});
    let assumed = alibaba_assume(&emu, &alibaba_session).await;
    // The cap shortens the default 3600 s to (at most) two whole seconds away.
    assert!(seconds_until(str_at(&assumed, "/Credentials/Expiration")) <= 2);
    let ali = alibaba_credentials(&assumed);
    let ten = tencent_credentials(&tencent_assume(&emu, tencent_session.clone()).await);
    assert_eq!(ecs_describe(&emu, &ali).await.status, 200);
    assert_eq!(cvm_describe(&emu, &ten).await.code(), None);

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = ecs_describe(&emu, &ali).await;
    assert_eq!(
        (expired.status, expired.code()),
        (400, Some("InvalidSecurityToken.Expired")),
        "{expired:?}"
    );
    let ens = alibaba(&emu, ENS_2017, "DescribeKeyPairs", &[], &ali).await;
    assert_eq!(ens.code(), Some("InvalidSecurityToken.Expired"));
    let sts = alibaba(&emu, STS_2015, "AssumeRole", &alibaba_session, &ali).await;
    assert_eq!(sts.code(), Some("InvalidSecurityToken.Expired"));
    let expired = cvm_describe(&emu, &ten).await;
    assert_eq!(
        expired.code(),
        Some("AuthFailure.TokenFailure"),
        "{expired:?}"
    );
    let message = str_at(&expired, "/Response/Error/Message");
    assert!(message.contains("expired"), "{message}");

    // Renewal: assume again with the long-term key, and the new keys work.
    let renewed = alibaba_credentials(&alibaba_assume(&emu, &alibaba_session).await);
    assert_ne!(renewed.access_key_id, ali.access_key_id);
    assert_eq!(ecs_describe(&emu, &renewed).await.status, 200);
    let renewed = tencent_credentials(&tencent_assume(&emu, tencent_session).await);
    assert_eq!(cvm_describe(&emu, &renewed).await.code(), None);

    // A reset forgets every issued key: no longer "expired" but unknown.
    let reset = admin_post(&emu, "reset", json!({})).await;
    assert_eq!(reset.status, 200);
    assert_eq!(
        ecs_describe(&emu, &ali).await.code(),
        Some("InvalidAccessKeyId.NotFound")
    );
    assert_eq!(
        cvm_describe(&emu, &renewed).await.code(),
        Some("AuthFailure.SecretIdNotFound")
    );
}

const GUARDED: &str = "acs:ram::1000000000000000:role/guarded";
const TENCENT_GUARDED: &str = "qcs::cam::uin/100000000000:roleName/guarded";

/// AssumeRole parameters that assume [`GUARDED`], with `extra` replacing or adding some.
fn guarded_params<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut params = vec![
        ("RoleArn", GUARDED),
        ("RoleSessionName", "alice"),
        ("ExternalId", "abcd1234"),
    ];
    for (k, v) in extra {
        params.retain(|(p, _)| p != k);
        params.push((k, v));
    }
    params
}

#[tokio::test]
async fn roles_external_ids_session_names_and_durations() {
    let emu = start_with(EmulatorConfig {
        roles: vec![
            Role::new(GUARDED).with_external_id("abcd1234"),
            Role::new(TENCENT_GUARDED).with_external_id("abcd1234"),
        ],
        ..EmulatorConfig::default()
    })
    .await;
    let ali = guarded_params;
    let refused = |a: &Answer, status: u16, code: &str| {
        assert_eq!((a.status, a.code()), (status, Some(code)), "{a:?}");
    };
    alibaba_credentials(&alibaba_assume(&emu, &ali(&[])).await);
    // The configured roles replace the defaults; the other vendor's role is no role here.
    for arn in [DEFAULT_ALIBABA_ROLE_ARN, TENCENT_GUARDED] {
        let a = alibaba_assume(&emu, &ali(&[("RoleArn", arn)])).await;
        refused(&a, 404, "EntityNotExist.Role");
    }
    let no_external_id: Vec<(&str, &str)> = ali(&[])
        .into_iter()
        .filter(|(k, _)| *k != "ExternalId")
        .collect();
    refused(
        &alibaba_assume(&emu, &no_external_id).await,
        403,
        "NoPermission",
    );
    refused(
        &alibaba_assume(&emu, &ali(&[("ExternalId", "abcd1235")])).await,
        403,
        "NoPermission",
    );
    refused(
        &alibaba_assume(&emu, &ali(&[("ExternalId", "a b")])).await,
        400,
        "InvalidParameter.ExternalId",
    );
    let too_long = "x".repeat(65);
    for bad in ["a", "two words", too_long.as_str()] {
        refused(
            &alibaba_assume(&emu, &ali(&[("RoleSessionName", bad)])).await,
            400,
            "InvalidParameter.RoleSessionName",
        );
    }
    for bad in ["899", "43201", "an hour"] {
        refused(
            &alibaba_assume(&emu, &ali(&[("DurationSeconds", bad)])).await,
            400,
            "InvalidParameter.DurationSeconds",
        );
    }
    let longest = alibaba_assume(&emu, &ali(&[("DurationSeconds", "43200")])).await;
    assert!((43195..=43201).contains(&seconds_until(str_at(&longest, "/Credentials/Expiration"))));

    let tencent_ok = json!({"RoleArn": TENCENT_GUARDED, "RoleSessionName": "bob", "ExternalId": "abcd1234", "DurationSeconds": 43200});
    tencent_credentials(&tencent_assume(&emu, tencent_ok.clone()).await);
    let with = |key: &str, value: Value| {
        let mut body = tencent_ok.clone();
        body[key] = value;
        body
    };
    let tencent_refused = |a: &Answer, code: &str| {
        assert_eq!((a.status, a.code()), (200, Some(code)), "{a:?}");
    };
    for arn in [DEFAULT_TENCENT_ROLE_ARN, GUARDED] {
        let a = tencent_assume(&emu, with("RoleArn", json!(arn))).await;
        tencent_refused(&a, "ResourceNotFound.RoleNotFound");
    }
    let mut no_external_id = tencent_ok.clone();
    no_external_id
        .as_object_mut()
        .expect("object")
        .remove("ExternalId");
    tencent_refused(
        &tencent_assume(&emu, no_external_id).await,
        "UnauthorizedOperation",
    );
    tencent_refused(
        &tencent_assume(&emu, with("ExternalId", json!("abcd1235"))).await,
        "UnauthorizedOperation",
    );
    tencent_refused(
        &tencent_assume(&emu, with("DurationSeconds", json!(43201))).await,
        "InvalidParameter.OverTimeError",
    );
    tencent_refused(
        &tencent_assume(&emu, with("DurationSeconds", json!(0))).await,
        "InvalidParameter.ParamError",
    );
    tencent_refused(
        &tencent_assume(&emu, with("RoleSessionName", json!("b"))).await,
        "InvalidParameter.ParamError",
    );
    // Tencent's session names take characters Alibaba's do not.
    tencent_credentials(&tencent_assume(&emu, with("RoleSessionName", json!("bob=ops,1"))).await);
}

/// The binary's flags configure the same: `--role` replaces the default roles, and
/// `--sts-lifetime` caps what is issued.
#[tokio::test]
async fn binary_flags_configure_roles_and_lifetime() {
    const ROLE: &str = "acs:ram::1000000000000000:role/from-flag";
    let emu = support::Emulator::start_with(&[
        "--role",
        &format!("{ROLE},external_id=ext-1"),
        "--sts-lifetime",
        "5",
    ]);
    let params = [
        ("RoleArn", ROLE),
        ("RoleSessionName", "alice"),
        ("ExternalId", "ext-1"),
    ];
    let a = alibaba_assume(&emu, &params).await;
    alibaba_credentials(&a);
    assert!(
        seconds_until(str_at(&a, "/Credentials/Expiration")) <= 6,
        "{a:?}"
    );
    let wrong = alibaba_assume(&emu, &[params[0], params[1], ("ExternalId", "ext-2")]).await;
    assert_eq!(wrong.code(), Some("NoPermission"), "{wrong:?}");
    let default = alibaba_assume(
        &emu,
        &[
            ("RoleArn", DEFAULT_ALIBABA_ROLE_ARN),
            ("RoleSessionName", "alice"),
        ],
    )
    .await;
    assert_eq!(default.code(), Some("EntityNotExist.Role"), "{default:?}");
    assert_eq!(emu.calls_of("AssumeRole").len(), 3);
}
