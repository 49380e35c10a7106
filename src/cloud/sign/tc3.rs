//! Tencent Cloud TC3-HMAC-SHA256 (API 3.0, used for CVM).
//!
//! Canonical request: `METHOD\n/\nCanonicalQuery\nCanonicalHeaders\nSignedHeaders\n
//! hex(sha256(payload))`, canonical header lines being `name:value\n` with name and value in
//! lower case. String to sign: `TC3-HMAC-SHA256\n<timestamp>\n<date>/<service>/tc3_request\n` +
//! hex(sha256(canonical request)). The key is derived by a chain of HMACs starting from
//! `"TC3" + SecretKey` over the UTC date, the service and `tc3_request`, so a signature is only
//! valid for one day and one service.
//!
//! We sign `content-type;host` like the documented example; newer official SDKs also sign
//! `x-tc-action`, so verification follows the request's own `SignedHeaders`.

use super::{constant_time_eq, hmac_sha256, sha256_hex, Credentials, RequestParts, SignError};

/// The algorithm name that starts the `Authorization` header and the string to sign.
pub(crate) const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The content type of our JSON POST requests (and of the documented vector).
pub(crate) const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";

/// The parsed `Authorization: TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request,
/// SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The SecretId the caller claims.
    pub secret_id: String,
    /// `YYYY-MM-DD`, the UTC date of the request timestamp.
    pub date: String,
    /// The service, e.g. `cvm`.
    pub service: String,
    /// Lower-case header names, in the order the request lists them.
    pub signed_headers: Vec<String>,
    /// Lower-case hex signature.
    pub signature: String,
}

impl Authorization {
    /// Parses the header value.
    pub fn parse(value: &str) -> Result<Self, SignError> {
        let value = value.trim();
        let (algorithm, rest) = value
            .split_once(' ')
            .ok_or_else(|| SignError::MalformedAuthorization("no algorithm".into()))?;
        if algorithm != ALGORITHM {
            return Err(SignError::UnsupportedAlgorithm(algorithm.to_string()));
        }
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=').ok_or_else(|| {
                SignError::MalformedAuthorization(format!("bad component {part:?}"))
            })?;
            match k {
                "Credential" => credential = Some(v),
                "SignedHeaders" => signed_headers = Some(v),
                "Signature" => signature = Some(v),
                _ => {}
            }
        }
        let malformed = |what: &str| SignError::MalformedAuthorization(what.to_string());
        let credential = credential.ok_or_else(|| malformed("no Credential"))?;
        let scope: Vec<&str> = credential.split('/').collect();
        let [secret_id, date, service, terminator] = scope.as_slice() else {
            return Err(malformed("Credential is not ID/date/service/tc3_request"));
        };
        if *terminator != "tc3_request" || secret_id.is_empty() || service.is_empty() {
            return Err(malformed("Credential is not ID/date/service/tc3_request"));
        }
        let signed_headers: Vec<String> = signed_headers
            .ok_or_else(|| malformed("no SignedHeaders"))?
            .split(';')
            .filter(|h| !h.is_empty())
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let signature = signature
            .ok_or_else(|| malformed("no Signature"))?
            .to_ascii_lowercase();
        if signed_headers.is_empty() || signature.is_empty() {
            return Err(malformed("empty component"));
        }
        Ok(Self {
            secret_id: secret_id.to_string(),
            date: date.to_string(),
            service: service.to_string(),
            signed_headers,
            signature,
        })
    }

    /// Renders the header value.
    pub fn to_header_value(&self) -> String {
        format!(
            "{ALGORITHM} Credential={}/{}/{}/tc3_request, SignedHeaders={}, Signature={}",
            self.secret_id,
            self.date,
            self.service,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// Builds the canonical request; `headers` are exactly the signed headers, in signing order.
pub fn canonical_request(
    method: &str,
    canonical_query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
) -> String {
    let canonical_headers: String = headers
        .iter()
        .map(|(n, v)| format!("{}:{}\n", n.to_ascii_lowercase(), v.trim().to_lowercase()))
        .collect();
    let signed = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(";");
    format!("{method}\n/\n{canonical_query}\n{canonical_headers}\n{signed}\n{payload_hash}")
}

/// The string to sign for `timestamp` (Unix seconds) and a credential scope.
pub fn string_to_sign(
    timestamp: i64,
    date: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// hex(HMAC chain): `"TC3"+key` -> date -> service -> `tc3_request` -> string to sign.
pub fn signature(secret_key: &str, date: &str, service: &str, string_to_sign: &str) -> String {
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()))
}

/// The UTC date (`YYYY-MM-DD`) of a Unix timestamp, `None` if out of range.
pub fn utc_date(timestamp: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(timestamp).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    ))
}

/// What to sign: one JSON POST call.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// The `Host` header as sent (with port if not default).
    pub host: &'a str,
    /// Service name of the credential scope, `cvm`.
    pub service: &'a str,
    /// API action, e.g. `DeleteKeyPairs`.
    pub action: &'a str,
    /// API version, `2017-03-12`.
    pub version: &'a str,
    /// Region, e.g. `ap-guangzhou`.
    pub region: &'a str,
    /// Unix seconds; the server rejects more than 5 minutes of skew.
    pub timestamp: i64,
    /// The exact JSON body that will be sent.
    pub payload: &'a [u8],
}

/// Produces every header of a JSON POST call: `Authorization`, `Content-Type`, `Host`,
/// `X-TC-Action`, `X-TC-Version`, `X-TC-Timestamp`, `X-TC-Region`, and `X-TC-Token` for
/// temporary credentials.
pub fn sign_request(input: &SignInput<'_>, creds: &Credentials) -> Vec<(String, String)> {
    // A timestamp outside time's range cannot be sent meaningfully; the server rejects it anyway.
    let date = utc_date(input.timestamp).unwrap_or_else(|| "1970-01-01".to_string());
    let signed = vec![
        ("content-type".to_string(), CONTENT_TYPE_JSON.to_string()),
        ("host".to_string(), input.host.to_string()),
    ];
    let canonical = canonical_request("POST", "", &signed, &sha256_hex(input.payload));
    let sts = string_to_sign(input.timestamp, &date, input.service, &canonical);
    let signature = signature(&creds.access_key_secret, &date, input.service, &sts);
    let auth = Authorization {
        secret_id: creds.access_key_id.clone(),
        date,
        service: input.service.to_string(),
        signed_headers: signed.iter().map(|(n, _)| n.clone()).collect(),
        signature,
    };
    let mut headers = vec![
        ("Authorization".to_string(), auth.to_header_value()),
        ("Content-Type".to_string(), CONTENT_TYPE_JSON.to_string()),
        ("Host".to_string(), input.host.to_string()),
        ("X-TC-Action".to_string(), input.action.to_string()),
        ("X-TC-Version".to_string(), input.version.to_string()),
        ("X-TC-Timestamp".to_string(), input.timestamp.to_string()),
        ("X-TC-Region".to_string(), input.region.to_string()),
    ];
    if let Some(token) = &creds.security_token {
        headers.push(("X-TC-Token".to_string(), token.clone()));
    }
    headers
}

/// Verifies `req` (with `timestamp` from its `X-TC-Timestamp`) against its parsed `auth`.
/// For GET the canonical query is the raw query string as sent; for POST it is empty.
pub fn verify(
    req: &RequestParts<'_>,
    auth: &Authorization,
    timestamp: i64,
    secret_key: &str,
) -> Result<(), SignError> {
    let mut headers = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = req
            .header(name)
            .ok_or_else(|| SignError::MissingHeader(name.clone()))?;
        headers.push((name.clone(), value.to_string()));
    }
    if utc_date(timestamp).as_deref() != Some(auth.date.as_str()) {
        return Err(SignError::SignatureMismatch);
    }
    let query = if req.method.eq_ignore_ascii_case("GET") {
        req.raw_query
    } else {
        ""
    };
    let canonical = canonical_request(req.method, query, &headers, &sha256_hex(req.body));
    let sts = string_to_sign(timestamp, &auth.date, &auth.service, &canonical);
    let expected = signature(secret_key, &auth.date, &auth.service, &sts);
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        tracing::debug!(canonical = %canonical, "TC3 signature mismatch");
        Err(SignError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const VECTOR_SIGNATURE: &str =
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168";

    fn vector_input() -> SignInput<'static> {
        SignInput {
            host: "cvm.tencentcloudapi.com",
            service: "cvm",
            action: "DescribeInstances",
            version: "2017-03-12",
            region: "ap-guangzhou",
            timestamp: 1551113065,
            payload: PAYLOAD.as_bytes(),
        }
    }

    fn creds() -> Credentials {
        Credentials::new(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        )
    }

    #[test]
    fn documented_vector() {
        let headers = sign_request(&vector_input(), &creds());
        assert_eq!(
            headers[0].1,
            format!(
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/\
                 tc3_request, SignedHeaders=content-type;host, Signature={VECTOR_SIGNATURE}"
            )
        );
        assert!(headers.contains(&("X-TC-Timestamp".to_string(), "1551113065".to_string())));
    }

    #[test]
    fn verify_roundtrip_and_tampering() {
        let headers = sign_request(&vector_input(), &creds());
        let auth = Authorization::parse(&headers[0].1).unwrap();
        assert_eq!(auth.signature, VECTOR_SIGNATURE);
        let parts = |body: &'static [u8]| RequestParts {
            method: "POST",
            path: "/",
            raw_query: "",
            headers: &headers,
            body,
        };
        let secret = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
        assert_eq!(
            verify(&parts(PAYLOAD.as_bytes()), &auth, 1551113065, secret),
            Ok(())
        );
        assert_eq!(
            verify(&parts(b"{}"), &auth, 1551113065, secret),
            Err(SignError::SignatureMismatch)
        );
        assert_eq!(
            verify(&parts(PAYLOAD.as_bytes()), &auth, 1551113066, secret),
            Err(SignError::SignatureMismatch)
        );
        assert_eq!(
            verify(&parts(PAYLOAD.as_bytes()), &auth, 1551113065, "nope"),
            Err(SignError::SignatureMismatch)
        );
        // A timestamp on another day than the credential scope is a mismatch, not a crash.
        assert_eq!(
            verify(
                &parts(PAYLOAD.as_bytes()),
                &auth,
                1551113065 + 86400,
                secret
            ),
            Err(SignError::SignatureMismatch)
        );
    }

    #[test]
    fn verify_sdk_style_extra_signed_header() {
        // Newer SDKs also sign x-tc-action, with the value lower-cased in the canonical form.
        let headers = vec![
            ("Content-Type".to_string(), CONTENT_TYPE_JSON.to_string()),
            ("Host".to_string(), "127.0.0.1:9000".to_string()),
            ("X-TC-Action".to_string(), "DeleteKeyPairs".to_string()),
        ];
        let body = br#"{"KeyIds":["skey-abcdefgh"]}"#;
        let canonical = canonical_request("POST", "", &headers, &sha256_hex(body));
        assert!(canonical.contains("x-tc-action:deletekeypairs\n"));
        let sts = string_to_sign(1700000000, "2023-11-14", "cvm", &canonical);
        let auth = Authorization {
            secret_id: "id".into(),
            date: "2023-11-14".into(),
            service: "cvm".into(),
            signed_headers: vec!["content-type".into(), "host".into(), "x-tc-action".into()],
            signature: signature("k", "2023-11-14", "cvm", &sts),
        };
        let parts = RequestParts {
            method: "POST",
            path: "/",
            raw_query: "",
            headers: &headers,
            body,
        };
        assert_eq!(verify(&parts, &auth, 1700000000, "k"), Ok(()));
    }

    #[test]
    fn a_security_token_travels_as_x_tc_token() {
        let plain = sign_request(&vector_input(), &creds());
        assert!(plain.iter().all(|(n, _)| n != "X-TC-Token"));
        let with = sign_request(&vector_input(), &creds().with_token("tok-1"));
        assert!(with.contains(&("X-TC-Token".to_string(), "tok-1".to_string())));
        // TC3 signs content-type and host only: the token does not change the signature.
        let auth = |h: &[(String, String)]| {
            h.iter()
                .find(|(n, _)| n == "Authorization")
                .map(|(_, v)| v.clone())
        };
        assert_eq!(auth(&plain), auth(&with));
    }

    #[test]
    fn authorization_parse_errors() {
        assert!(matches!(
            Authorization::parse("ACS3-HMAC-SHA256 Credential=a"),
            Err(SignError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            Authorization::parse(
                "TC3-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=ab"
            ),
            Err(SignError::MalformedAuthorization(_))
        ));
        assert!(Authorization::parse("TC3-HMAC-SHA256 Credential=a/b/c/tc3_request").is_err());
        assert_eq!(utc_date(1551113065).as_deref(), Some("2019-02-25"));
    }
}
