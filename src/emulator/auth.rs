//! Routing and authentication: which API a request is for, and whether it is genuinely signed.
//!
//! All five APIs share one listener at `/`, as the official SDKs post to the root of the
//! endpoint they are given. The signature scheme tells the vendors apart (`TC3-HMAC-SHA256` is
//! Tencent, `ACS3-HMAC-SHA256` or a `Signature` parameter is Alibaba); the API version tells
//! ECS, ENS and Alibaba STS apart, and the TC3 credential scope's service CVM from Tencent STS.
//! Verification uses [`crate::cloud::sign`], the same code our client signs with, but always
//! rebuilds the canonical form from what the request itself declares.
//!
//! The key a request names is looked up in the [`KeyRing`]: the long-term pair or a temporary
//! pair the STS issued, whose token must come with it (ACS3 `x-acs-security-token`, V2
//! `SecurityToken`, TC3 `X-TC-Token`). A token that does not fit is refused before the
//! signature is checked, with the vendor's codes from its
//! [`StsProfile`](super::sts_profile::StsProfile).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::cloud::sign::{acs3, encode, tc3, v2, Credentials, RequestParts, SignError};

use super::api::{Api, Vendor};
use super::credentials::{KeyRefusal, KeyRing};
use super::profile::Cloud;
use super::wire::{ApiError, ApiRequest, Params};

/// Alibaba's accepted clock skew for `x-acs-date` / `Timestamp`.
pub(crate) const ALIBABA_SKEW_SECS: i64 = 15 * 60;
/// Tencent's accepted clock skew for `X-TC-Timestamp`.
pub(crate) const TENCENT_SKEW_SECS: i64 = 5 * 60;

/// Where each scheme carries the token of temporary credentials.
const ACS3_TOKEN_HEADER: &str = "x-acs-security-token";
const V2_TOKEN_PARAM: &str = "SecurityToken";
const TC3_TOKEN_HEADER: &str = "x-tc-token";

// Parameters every V2 request carries; they are not part of the operation (and the token,
// being a credential, must not reach the call log).
const V2_COMMON: [&str; 10] = [
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// An HTTP request as the server received it (body already read, size limit applied).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received<'a> {
    /// The request method.
    pub method: &'a http::Method,
    /// The request target; its authority stands in for a missing `Host` header.
    pub uri: &'a http::Uri,
    /// The request headers.
    pub headers: &'a http::HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
}

impl Received<'_> {
    /// Headers as `(name, value)` text. Values that are not UTF-8 are decoded lossily: a
    /// signature over them then simply fails to match instead of the request being dropped.
    fn header_pairs(&self) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // HTTP/1.1 carries Host as a header; keep it visible to signature checks under HTTP/2.
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            if let Some(authority) = self.uri.authority() {
                headers.push(("host".to_string(), authority.to_string()));
            }
        }
        headers
    }
}

/// A request that failed before reaching an operation, with what could be decoded of it.
#[derive(Debug, Clone)]
pub(crate) struct Rejected {
    /// Best guess of the API (its vendor decides the error envelope).
    pub cloud: Api,
    /// Action, if the request named one.
    pub action: String,
    /// Decoded parameters, for the call log.
    pub params: Params,
    /// The error to answer.
    pub error: ApiError,
}

/// Checks signatures, timestamps and nonces against the configured access key and the
/// temporary keys issued since.
#[derive(Debug)]
pub struct Authenticator {
    keys: KeyRing,
    // nonce -> Unix second after which it may be forgotten (it would be rejected as stale).
    nonces: Mutex<HashMap<String, i64>>,
}

impl Authenticator {
    /// Accepts requests signed with `creds`, and with the temporary keys the STS will issue.
    pub fn new(creds: Credentials) -> Self {
        Self {
            keys: KeyRing::new(creds),
            nonces: Mutex::new(HashMap::new()),
        }
    }

    /// The accepted keys, where the STS adds the ones it issues.
    pub(crate) fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Forgets every nonce seen and every temporary key issued (admin reset).
    pub(crate) fn reset(&self) {
        self.nonces_lock().clear();
        self.keys.forget_issued();
    }

    fn nonces_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.nonces.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `nonce`; `false` if it was already used within the window.
    fn use_nonce(&self, nonce: &str, now: i64) -> bool {
        let mut nonces = self.nonces_lock();
        if nonces.len() > 100_000 {
            nonces.retain(|_, expiry| *expiry > now);
        }
        match nonces.get(nonce) {
            Some(expiry) if *expiry > now => false,
            _ => {
                nonces.insert(nonce.to_string(), now + 2 * ALIBABA_SKEW_SECS);
                true
            }
        }
    }

    /// Routes and authenticates one request as the HTTP server received it. This is the whole
    /// path from the wire to an [`ApiRequest`], without a socket, so it can be fuzzed.
    pub(crate) fn authenticate_http(
        &self,
        received: &Received<'_>,
        now: i64,
    ) -> Result<ApiRequest, Box<Rejected>> {
        let headers = received.header_pairs();
        let request = RequestParts {
            method: received.method.as_str(),
            path: received.uri.path(),
            raw_query: received.uri.query().unwrap_or(""),
            headers: &headers,
            body: received.body,
        };
        self.authenticate(&request, now)
    }

    /// Routes and authenticates one request.
    pub(crate) fn authenticate(
        &self,
        req: &RequestParts<'_>,
        now: i64,
    ) -> Result<ApiRequest, Box<Rejected>> {
        let authorization = req.header("authorization").unwrap_or("").trim();
        if authorization.starts_with(tc3::ALGORITHM) || req.header("x-tc-action").is_some() {
            self.tencent(req, authorization, now)
        } else if authorization.starts_with(acs3::ALGORITHM) {
            self.acs3(req, authorization, now)
        } else {
            self.alibaba_v2(req, now)
        }
    }

    fn tencent(
        &self,
        req: &RequestParts<'_>,
        authorization: &str,
        now: i64,
    ) -> Result<ApiRequest, Box<Rejected>> {
        let action = req.header("x-tc-action").unwrap_or("").to_string();
        let params = tencent_params(req);
        let parsed = tc3::Authorization::parse(authorization);
        // The credential scope names the service, so even a refusal is logged against it.
        let api = parsed.as_ref().map_or(Api::KeyPairs(Cloud::Cvm), |a| {
            Api::tencent_by_service(&a.service)
        });
        let reject = |code: &str, message: &str| {
            Box::new(Rejected {
                cloud: api,
                action: action.clone(),
                params: params.clone(),
                error: ApiError::new(401, code, message),
            })
        };
        let auth = parsed.map_err(|e| {
            reject(
                "AuthFailure.InvalidAuthorization",
                &format!("Authorization is invalid: {e}"),
            )
        })?;
        let secret = self
            .keys
            .secret_for(
                Vendor::Tencent,
                &auth.secret_id,
                req.header(TC3_TOKEN_HEADER),
                now,
            )
            .map_err(|refusal| match refusal {
                KeyRefusal::Unknown => {
                    reject("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
                }
                KeyRefusal::Token(problem) => {
                    let r = Vendor::Tencent.sts().token_codes.of(problem);
                    reject(r.code, r.message)
                }
            })?;
        let timestamp: i64 = req
            .header("x-tc-timestamp")
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| {
                reject(
                    "MissingParameter",
                    "The X-TC-Timestamp header is missing or invalid.",
                )
            })?;
        if (now - timestamp).abs() > TENCENT_SKEW_SECS {
            return Err(reject(
                "AuthFailure.SignatureExpire",
                "The signature has expired: the request timestamp is too far from server time.",
            ));
        }
        tc3::verify(req, &auth, timestamp, &secret).map_err(|e| match e {
            SignError::MissingHeader(h) => reject(
                "AuthFailure.InvalidAuthorization",
                &format!("Signed header {h} is missing."),
            ),
            _ => reject(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated.",
            ),
        })?;
        let version = req.header("x-tc-version").unwrap_or("");
        if version != api.version() {
            return Err(reject(
                "NoSuchVersion",
                &format!("The API version {version} does not exist."),
            ));
        }
        let region = req.header("x-tc-region").unwrap_or("").to_string();
        Ok(ApiRequest {
            cloud: api,
            action,
            region,
            params,
        })
    }

    /// The secret of an Alibaba request's key, or the Alibaba refusal.
    fn alibaba_secret(
        &self,
        key_id: &str,
        token: Option<&str>,
        now: i64,
    ) -> Result<String, ApiError> {
        self.keys
            .secret_for(Vendor::Alibaba, key_id, token, now)
            .map_err(|refusal| match refusal {
                KeyRefusal::Unknown => ApiError::new(
                    404,
                    "InvalidAccessKeyId.NotFound",
                    "Specified access key is not found.",
                ),
                KeyRefusal::Token(problem) => Vendor::Alibaba.sts().token_codes.of(problem).error(),
            })
    }

    fn acs3(
        &self,
        req: &RequestParts<'_>,
        authorization: &str,
        now: i64,
    ) -> Result<ApiRequest, Box<Rejected>> {
        let version = req.header("x-acs-version").unwrap_or("");
        let action = req.header("x-acs-action").unwrap_or("").to_string();
        let pairs = alibaba_pairs(req);
        let params = Params::from_pairs(&pairs);
        let api = Api::alibaba_by_version(version);
        let rejected = |error: ApiError| {
            Box::new(Rejected {
                cloud: api.unwrap_or(Api::KeyPairs(Cloud::Ecs)),
                action: action.clone(),
                params: params.clone(),
                error,
            })
        };
        let reject =
            |status: u16, code: &str, message: &str| rejected(ApiError::new(status, code, message));
        let auth = acs3::Authorization::parse(authorization).map_err(|e| {
            reject(
                400,
                "IncompleteSignature",
                &format!("The request signature does not conform to Aliyun standards: {e}"),
            )
        })?;
        let secret = self
            .alibaba_secret(&auth.access_key_id, req.header(ACS3_TOKEN_HEADER), now)
            .map_err(rejected)?;
        let date = req
            .header("x-acs-date")
            .and_then(acs3::parse_date)
            .ok_or_else(|| {
                reject(
                    400,
                    "MissingParameter",
                    "The x-acs-date header is missing or invalid.",
                )
            })?;
        check_alibaba_time(date.unix_timestamp(), now)
            .map_err(|m| reject(400, "InvalidTimeStamp.Expired", m))?;
        acs3::verify(req, &auth, &secret).map_err(|e| match e {
            SignError::MissingHeader(h) => reject(
                400,
                "IncompleteSignature",
                &format!("Signed header {h} is missing."),
            ),
            _ => reject(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            ),
        })?;
        let api = api.ok_or_else(|| {
            reject(
                400,
                "InvalidVersion",
                &format!("Specified parameter Version {version} is not valid."),
            )
        })?;
        let nonce = req.header("x-acs-signature-nonce").ok_or_else(|| {
            reject(
                400,
                "MissingSignatureNonce",
                "The signature nonce is missing.",
            )
        })?;
        if !self.use_nonce(nonce, now) {
            return Err(reject(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        let region = params.str("RegionId").unwrap_or_default();
        Ok(ApiRequest {
            cloud: api,
            action,
            region,
            params,
        })
    }

    fn alibaba_v2(&self, req: &RequestParts<'_>, now: i64) -> Result<ApiRequest, Box<Rejected>> {
        let pairs = alibaba_pairs(req);
        let get = |k: &str| v2::param(&pairs, k).unwrap_or("").to_string();
        let (action, version) = (get("Action"), get("Version"));
        let op_pairs: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| !V2_COMMON.contains(&k.as_str()))
            .cloned()
            .collect();
        let params = Params::from_pairs(&op_pairs);
        let api = Api::alibaba_by_version(&version);
        let rejected = |error: ApiError| {
            Box::new(Rejected {
                cloud: api.unwrap_or(Api::KeyPairs(Cloud::Ecs)),
                action: action.clone(),
                params: params.clone(),
                error,
            })
        };
        let reject =
            |status: u16, code: &str, message: &str| rejected(ApiError::new(status, code, message));
        if v2::param(&pairs, "Signature").is_none() {
            return Err(reject(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards.",
            ));
        }
        let secret = self
            .alibaba_secret(&get("AccessKeyId"), v2::param(&pairs, V2_TOKEN_PARAM), now)
            .map_err(rejected)?;
        let ts = acs3::parse_date(&get("Timestamp"))
            .ok_or_else(|| reject(400, "MissingParameter", "The input parameter \"Timestamp\" that is mandatory for processing this request is not supplied."))?;
        check_alibaba_time(ts.unix_timestamp(), now)
            .map_err(|m| reject(400, "InvalidTimeStamp.Expired", m))?;
        v2::verify(req.method, &pairs, &secret).map_err(|e| match e {
            // Like the real service, reveal the server's string to sign: the legacy SDKs parse
            // it to tell a wrong secret from a signing bug.
            SignError::SignatureMismatch => reject(
                400,
                "SignatureDoesNotMatch",
                &format!(
                    "Specified signature is not matched with our calculation. server string to sign is:{}",
                    v2::string_to_sign(req.method, &pairs)
                ),
            ),
            other => reject(400, "IncompleteSignature", &other.to_string()),
        })?;
        let api = api.ok_or_else(|| {
            reject(
                400,
                "InvalidVersion",
                &format!("Specified parameter Version {version} is not valid."),
            )
        })?;
        let nonce = get("SignatureNonce");
        if nonce.is_empty() {
            return Err(reject(
                400,
                "MissingSignatureNonce",
                "The signature nonce is missing.",
            ));
        }
        if !self.use_nonce(&nonce, now) {
            return Err(reject(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        let region = params.str("RegionId").unwrap_or_default();
        Ok(ApiRequest {
            cloud: api,
            action,
            region,
            params,
        })
    }
}

fn check_alibaba_time(request: i64, now: i64) -> Result<(), &'static str> {
    if (now - request).abs() > ALIBABA_SKEW_SECS {
        Err("Specified time stamp or date value is expired.")
    } else {
        Ok(())
    }
}

fn is_form(req: &RequestParts<'_>) -> bool {
    req.header("content-type").is_some_and(|ct| {
        ct.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    })
}

/// Query and form-body parameters, merged (Alibaba accepts either place).
pub(crate) fn alibaba_pairs(req: &RequestParts<'_>) -> Vec<(String, String)> {
    let mut pairs = encode::decode_query(req.raw_query);
    if is_form(req) || (!req.body.is_empty() && req.header("content-type").is_none()) {
        pairs.extend(encode::decode_query(&String::from_utf8_lossy(req.body)));
    }
    pairs
}

/// Tencent parameters: a JSON object body, or `Name.N` query/form pairs.
pub(crate) fn tencent_params(req: &RequestParts<'_>) -> Params {
    if req.method.eq_ignore_ascii_case("POST") && !is_form(req) {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(req.body) {
            return Params(map);
        }
        return Params::default();
    }
    let mut pairs = encode::decode_query(req.raw_query);
    if is_form(req) {
        pairs.extend(encode::decode_query(&String::from_utf8_lossy(req.body)));
    }
    Params::from_pairs(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_single_use_within_the_window() {
        let a = Authenticator::new(Credentials::new("id", "s"));
        assert!(a.use_nonce("n", 1000));
        assert!(!a.use_nonce("n", 1001));
        // After twice the skew window the nonce's request would be stale anyway.
        assert!(a.use_nonce("n", 1000 + 2 * ALIBABA_SKEW_SECS + 1));
        a.reset();
        assert!(a.use_nonce("n", 5000));
    }

    fn signed_acs3(nonce: &str) -> (http::HeaderMap, http::Uri) {
        signed_acs3_with(nonce, "2014-05-26", &Credentials::new("id", "s"))
    }

    fn signed_acs3_with(
        nonce: &str,
        version: &str,
        creds: &Credentials,
    ) -> (http::HeaderMap, http::Uri) {
        let query = vec![("RegionId".to_string(), "cn-hangzhou".to_string())];
        let headers = acs3::sign_request(
            &acs3::SignInput {
                method: "POST",
                host: "127.0.0.1:8080",
                query: &query,
                body: b"",
                action: "DescribeKeyPairs",
                version,
                date: "2024-01-01T00:00:00Z",
                nonce,
            },
            creds,
        );
        header_map(headers)
    }

    fn header_map(headers: Vec<(String, String)>) -> (http::HeaderMap, http::Uri) {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(&value).unwrap(),
            );
        }
        let uri = http::Uri::from_static("http://127.0.0.1:8080/?RegionId=cn-hangzhou");
        (map, uri)
    }

    const JAN_2024: i64 = 1_704_067_200;

    #[test]
    fn http_request_without_host_header_uses_the_uri_authority() {
        let a = Authenticator::new(Credentials::new("id", "s"));
        let (mut headers, uri) = signed_acs3("n1");
        // HTTP/2 carries the host as :authority, which hyper puts in the URI, not in headers.
        headers.remove(http::header::HOST);
        let received = Received {
            method: &http::Method::POST,
            uri: &uri,
            headers: &headers,
            body: b"",
        };
        let call = a.authenticate_http(&received, JAN_2024).unwrap();
        assert_eq!(
            (call.cloud, call.action.as_str()),
            (Api::KeyPairs(Cloud::Ecs), "DescribeKeyPairs")
        );
        assert_eq!(call.region, "cn-hangzhou");

        // Without either, the signed host header is missing.
        let (mut headers, _) = signed_acs3("n2");
        headers.remove(http::header::HOST);
        let origin_form = http::Uri::from_static("/?RegionId=cn-hangzhou");
        let received = Received {
            uri: &origin_form,
            headers: &headers,
            ..received
        };
        let rejected = a.authenticate_http(&received, JAN_2024).unwrap_err();
        assert_eq!(rejected.error.code, "IncompleteSignature");
    }

    #[test]
    fn non_utf8_header_values_fail_the_signature_instead_of_panicking() {
        let a = Authenticator::new(Credentials::new("id", "s"));
        let (mut headers, uri) = signed_acs3("n3");
        headers.insert(
            "x-acs-action",
            http::HeaderValue::from_bytes(b"Describe\xffKeyPairs").unwrap(),
        );
        let received = Received {
            method: &http::Method::POST,
            uri: &uri,
            headers: &headers,
            body: b"",
        };
        let rejected = a.authenticate_http(&received, JAN_2024).unwrap_err();
        assert_eq!(rejected.error.code, "SignatureDoesNotMatch");
    }

    fn receive(
        a: &Authenticator,
        (headers, uri): &(http::HeaderMap, http::Uri),
        body: &[u8],
    ) -> Result<ApiRequest, Box<Rejected>> {
        let received = Received {
            method: &http::Method::POST,
            uri,
            headers,
            body,
        };
        a.authenticate_http(&received, JAN_2024)
    }

    fn code(result: Result<ApiRequest, Box<Rejected>>) -> String {
        result.expect_err("rejected").error.code
    }

    #[test]
    fn acs3_temporary_keys_need_their_token_and_routes_sts_by_version() {
        let a = Authenticator::new(Credentials::new("id", "s"));
        let temp = a.keys().issue(Vendor::Alibaba, JAN_2024 + 60, JAN_2024);
        let ok = receive(&a, &signed_acs3_with("t1", "2015-04-01", &temp), b"").unwrap();
        assert_eq!(ok.cloud, Api::Sts(Vendor::Alibaba));
        let mut bare = temp.clone();
        bare.security_token = None;
        assert_eq!(
            code(receive(
                &a,
                &signed_acs3_with("t2", "2014-05-26", &bare),
                b""
            )),
            "MissingSecurityToken"
        );
        let long_term = Credentials::new("id", "s").with_token("forged");
        assert_eq!(
            code(receive(
                &a,
                &signed_acs3_with("t3", "2014-05-26", &long_term),
                b""
            )),
            "InvalidSecurityToken.Malformed"
        );
        let expired = a.keys().issue(Vendor::Alibaba, JAN_2024, JAN_2024);
        assert_eq!(
            code(receive(
                &a,
                &signed_acs3_with("t4", "2017-11-10", &expired),
                b""
            )),
            "InvalidSecurityToken.Expired"
        );
        // With its token, the signature is checked with the temporary key's own secret.
        let mut wrong = temp.clone();
        wrong.access_key_secret = "nope".into();
        assert_eq!(
            code(receive(
                &a,
                &signed_acs3_with("t5", "2014-05-26", &wrong),
                b""
            )),
            "SignatureDoesNotMatch"
        );
        a.reset();
        assert_eq!(
            code(receive(
                &a,
                &signed_acs3_with("t6", "2014-05-26", &temp),
                b""
            )),
            "InvalidAccessKeyId.NotFound"
        );
    }

    #[test]
    fn v2_security_token_is_checked_and_kept_out_of_the_parameters() {
        let a = Authenticator::new(Credentials::new("id", "s"));
        let temp = a.keys().issue(Vendor::Alibaba, JAN_2024 + 60, JAN_2024);
        let form = |creds: &Credentials, nonce: &str| {
            let mut pairs = vec![
                ("Action".to_string(), "AssumeRole".to_string()),
                ("Version".to_string(), "2015-04-01".to_string()),
                ("RoleArn".to_string(), "acs:ram::1:role/x".to_string()),
            ];
            v2::sign_params("POST", &mut pairs, creds, nonce, "2024-01-01T00:00:00Z");
            encode::encode_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        };
        let (mut headers, _) = header_map(vec![]);
        let uri = http::Uri::from_static("http://127.0.0.1:8080/");
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let request = (headers, uri);
        let body = form(&temp, "v1");
        let call = receive(&a, &request, body.as_bytes()).unwrap();
        assert_eq!(call.cloud, Api::Sts(Vendor::Alibaba));
        assert_eq!(
            call.params.str("RoleArn").as_deref(),
            Some("acs:ram::1:role/x")
        );
        assert!(call.params.0.get("SecurityToken").is_none());
        let other = a.keys().issue(Vendor::Alibaba, JAN_2024 + 60, JAN_2024);
        let mut swapped = temp.clone();
        swapped.security_token = other.security_token.clone();
        let body = form(&swapped, "v2");
        assert_eq!(
            code(receive(&a, &request, body.as_bytes())),
            "InvalidSecurityToken.MismatchWithAccessKey"
        );
    }

    #[test]
    fn tc3_routes_sts_by_scope_and_checks_x_tc_token() {
        let a = Authenticator::new(Credentials::new("id", "s"));
        let temp = a.keys().issue(Vendor::Tencent, JAN_2024 + 60, JAN_2024);
        let signed = |creds: &Credentials, service: &str, version: &str| {
            let headers = tc3::sign_request(
                &tc3::SignInput {
                    host: "127.0.0.1:8080",
                    service,
                    action: "AssumeRole",
                    version,
                    region: "ap-guangzhou",
                    timestamp: JAN_2024,
                    payload: b"{}",
                },
                creds,
            );
            header_map(headers)
        };
        let call = receive(&a, &signed(&temp, "sts", "2018-08-13"), b"{}").unwrap();
        assert_eq!(call.cloud, Api::Sts(Vendor::Tencent));
        assert_eq!(call.region, "ap-guangzhou");
        // STS at CVM's version, and CVM at STS's, are no such version.
        assert_eq!(
            code(receive(&a, &signed(&temp, "sts", "2017-03-12"), b"{}")),
            "NoSuchVersion"
        );
        assert_eq!(
            code(receive(&a, &signed(&temp, "cvm", "2018-08-13"), b"{}")),
            "NoSuchVersion"
        );
        let mut bare = temp.clone();
        bare.security_token = None;
        let refused = receive(&a, &signed(&bare, "cvm", "2017-03-12"), b"{}").unwrap_err();
        assert_eq!(refused.error.code, "AuthFailure.TokenFailure");
        assert_eq!(refused.cloud, Api::KeyPairs(Cloud::Cvm));
        // Alibaba's temporary keys are unknown to Tencent's APIs.
        let alibaba = a.keys().issue(Vendor::Alibaba, JAN_2024 + 60, JAN_2024);
        assert_eq!(
            code(receive(&a, &signed(&alibaba, "cvm", "2017-03-12"), b"{}")),
            "AuthFailure.SecretIdNotFound"
        );
    }
}
