//! Alibaba Cloud ACS3-HMAC-SHA256, the signature of the current official SDKs (ECS, ENS).
//!
//! Canonical request:
//! `METHOD\nPATH\nCanonicalQuery\nCanonicalHeaders\nSignedHeaders\nhex(sha256(body))`, where
//! every canonical header line is `name:trimmed value\n` for each signed header in sorted order.
//! The string to sign is `ACS3-HMAC-SHA256\n` + hex(sha256(canonical request)) and the
//! signature is hex(HMAC-SHA256(secret, string to sign)).
//!
//! Our client signs exactly the seven headers it sends; the official SDKs sign every header they
//! send (accept, user-agent, host with port, ...). Verification therefore rebuilds the canonical
//! request from the `SignedHeaders` list in the request's own `Authorization` header.

use super::encode::{canonical_query, decode_query};
use super::{constant_time_eq, hmac_sha256, sha256_hex, Credentials, RequestParts, SignError};

/// The algorithm name that starts the `Authorization` header and the string to sign.
pub(crate) const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// The parsed `Authorization: ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key id the caller claims.
    pub access_key_id: String,
    /// Lower-case header names, in the order the request lists them.
    pub signed_headers: Vec<String>,
    /// Lower-case hex signature.
    pub signature: String,
}

impl Authorization {
    /// Parses the header value. Tolerates spaces after commas, which some SDKs emit.
    pub fn parse(value: &str) -> Result<Self, SignError> {
        let value = value.trim();
        let (algorithm, rest) = value
            .split_once(' ')
            .ok_or_else(|| SignError::MalformedAuthorization("no algorithm".into()))?;
        if algorithm != ALGORITHM {
            return Err(SignError::UnsupportedAlgorithm(algorithm.to_string()));
        }
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=').ok_or_else(|| {
                SignError::MalformedAuthorization(format!("bad component {part:?}"))
            })?;
            match k {
                "Credential" => credential = Some(v.to_string()),
                "SignedHeaders" => {
                    signed_headers = Some(
                        v.split(';')
                            .filter(|h| !h.is_empty())
                            .map(|h| h.to_ascii_lowercase())
                            .collect::<Vec<_>>(),
                    )
                }
                "Signature" => signature = Some(v.to_ascii_lowercase()),
                _ => {}
            }
        }
        let missing = |what: &str| SignError::MalformedAuthorization(format!("no {what}"));
        let access_key_id = credential.ok_or_else(|| missing("Credential"))?;
        let signed_headers = signed_headers.ok_or_else(|| missing("SignedHeaders"))?;
        let signature = signature.ok_or_else(|| missing("Signature"))?;
        if access_key_id.is_empty() || signed_headers.is_empty() || signature.is_empty() {
            return Err(SignError::MalformedAuthorization("empty component".into()));
        }
        Ok(Self {
            access_key_id,
            signed_headers,
            signature,
        })
    }

    /// Renders the header value.
    pub fn to_header_value(&self) -> String {
        format!(
            "{ALGORITHM} Credential={},SignedHeaders={},Signature={}",
            self.access_key_id,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// Builds the canonical request. `headers` are `(lower-case name, value)` pairs for exactly the
/// signed headers; they are trimmed and sorted here.
pub(crate) fn canonical_request(
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    payload_hash: &str,
) -> String {
    let mut sorted: Vec<(String, &str)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim()))
        .collect();
    sorted.sort();
    let canonical_headers: String = sorted.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = sorted
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let query = canonical_query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    format!("{method}\n{path}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}")
}

/// `ACS3-HMAC-SHA256\n` + hex(sha256(canonical request)).
pub(crate) fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// hex(HMAC-SHA256(secret, string to sign)).
pub(crate) fn signature(secret: &str, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()))
}

/// Formats a time as ACS3 wants it in `x-acs-date` (`2023-10-26T10:22:32Z`, UTC).
pub fn format_date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses an `x-acs-date` value (RFC 3339, as the SDKs send it).
pub(crate) fn parse_date(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// What to sign: one API call.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The `host` header value exactly as it will be sent (with port if not default).
    pub host: &'a str,
    /// Query parameters (the body is signed through its hash only).
    pub query: &'a [(String, String)],
    /// The exact body bytes that will be sent.
    pub body: &'a [u8],
    /// API action, e.g. `DeleteKeyPairs`.
    pub action: &'a str,
    /// API version, e.g. `2014-05-26`.
    pub version: &'a str,
    /// `x-acs-date`, see [`format_date`].
    pub date: &'a str,
    /// A fresh random nonce per request; the server rejects replays.
    pub nonce: &'a str,
}

/// Produces every header the call needs, `authorization` included, as lower-case names.
/// The request path is always `/` for RPC-style APIs.
pub fn sign_request(input: &SignInput<'_>, creds: &Credentials) -> Vec<(String, String)> {
    let payload_hash = sha256_hex(input.body);
    let mut headers = vec![
        ("host".to_string(), input.host.to_string()),
        ("x-acs-action".to_string(), input.action.to_string()),
        ("x-acs-content-sha256".to_string(), payload_hash.clone()),
        ("x-acs-date".to_string(), input.date.to_string()),
        ("x-acs-signature-nonce".to_string(), input.nonce.to_string()),
        ("x-acs-version".to_string(), input.version.to_string()),
    ];
    if let Some(token) = &creds.security_token {
        // Signed like the other x-acs- headers, so the token cannot be swapped in transit.
        headers.push(("x-acs-security-token".to_string(), token.clone()));
        headers.sort();
    }
    let canonical = canonical_request(input.method, "/", input.query, &headers, &payload_hash);
    let auth = Authorization {
        access_key_id: creds.access_key_id.clone(),
        signed_headers: headers.iter().map(|(n, _)| n.clone()).collect(),
        signature: signature(&creds.access_key_secret, &string_to_sign(&canonical)),
    };
    headers.push(("authorization".to_string(), auth.to_header_value()));
    headers
}

/// Verifies `req` against its parsed `auth` with the secret of `auth.access_key_id`.
///
/// The payload hash is computed from the body actually received, so a body altered after
/// signing fails even if `x-acs-content-sha256` was left untouched.
pub fn verify(req: &RequestParts<'_>, auth: &Authorization, secret: &str) -> Result<(), SignError> {
    let mut headers = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = req
            .header(name)
            .ok_or_else(|| SignError::MissingHeader(name.clone()))?;
        headers.push((name.clone(), value.to_string()));
    }
    let query = decode_query(req.raw_query);
    let path = if req.path.is_empty() { "/" } else { req.path };
    let canonical = canonical_request(req.method, path, &query, &headers, &sha256_hex(req.body));
    let expected = signature(secret, &string_to_sign(&canonical));
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        // The canonical form holds every signed header, the security token among them.
        let shown = match req.header("x-acs-security-token").map(str::trim) {
            Some(token) if !token.is_empty() => canonical.replace(token, "<redacted>"),
            _ => canonical,
        };
        tracing::debug!(canonical = %shown, "ACS3 signature mismatch");
        Err(SignError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_query() -> Vec<(String, String)> {
        vec![
            (
                "ImageId".to_string(),
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd".to_string(),
            ),
            ("RegionId".to_string(), "cn-shanghai".to_string()),
        ]
    }

    fn vector_input(query: &[(String, String)]) -> SignInput<'_> {
        SignInput {
            method: "POST",
            host: "ecs.cn-shanghai.aliyuncs.com",
            query,
            body: b"",
            action: "RunInstances",
            version: "2014-05-26",
            date: "2023-10-26T10:22:32Z",
            nonce: "3156853299f313e23d1673dc12e1703d",
        }
    }

    const VECTOR_SIGNATURE: &str =
        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0";

    #[test]
    fn documented_vector() {
        let query = vector_query();
        let creds = Credentials::new("YourAccessKeyId", "YourAccessKeySecret");
        let headers = sign_request(&vector_input(&query), &creds);
        let auth = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.clone())
            .unwrap();
        assert_eq!(
            auth,
            format!(
                "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;\
                 x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
                 Signature={VECTOR_SIGNATURE}"
            )
        );
    }

    #[test]
    fn a_security_token_is_a_signed_header() {
        let query = vector_query();
        let raw_query = crate::cloud::sign::encode::encode_query(
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let creds = Credentials::new("STS.id", "tmp-secret").with_token("tok-1");
        let headers = sign_request(&vector_input(&query), &creds);
        let value = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(value("x-acs-security-token"), "tok-1");
        let auth = Authorization::parse(&value("authorization")).unwrap();
        assert!(auth
            .signed_headers
            .iter()
            .any(|h| h == "x-acs-security-token"));
        let parts = parts_from(&headers, &raw_query, b"");
        assert_eq!(verify(&parts, &auth, "tmp-secret"), Ok(()));
        // A token swapped in transit breaks the signature.
        let swapped: Vec<_> = headers
            .iter()
            .map(|(n, v)| match n.as_str() {
                "x-acs-security-token" => (n.clone(), "tok-2".to_string()),
                _ => (n.clone(), v.clone()),
            })
            .collect();
        let parts = parts_from(&swapped, &raw_query, b"");
        assert_eq!(
            verify(&parts, &auth, "tmp-secret"),
            Err(SignError::SignatureMismatch)
        );
    }

    fn parts_from<'a>(
        headers: &'a [(String, String)],
        raw_query: &'a str,
        body: &'a [u8],
    ) -> RequestParts<'a> {
        RequestParts {
            method: "POST",
            path: "/",
            raw_query,
            headers,
            body,
        }
    }

    #[test]
    fn verify_accepts_signed_and_rejects_tampering() {
        let query = vector_query();
        let creds = Credentials::new("YourAccessKeyId", "YourAccessKeySecret");
        let mut headers = sign_request(&vector_input(&query), &creds);
        // Unsigned extra headers must not matter.
        headers.push(("User-Agent".to_string(), "test".to_string()));
        let raw_query = crate::cloud::sign::encode::encode_query(
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let auth_value = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v.clone())
            .unwrap();
        let auth = Authorization::parse(&auth_value).unwrap();
        let parts = parts_from(&headers, &raw_query, b"");
        assert_eq!(verify(&parts, &auth, "YourAccessKeySecret"), Ok(()));
        assert_eq!(
            verify(&parts, &auth, "wrong"),
            Err(SignError::SignatureMismatch)
        );
        let tampered = raw_query.replace("cn-shanghai", "cn-hangzhou");
        let parts = parts_from(&headers, &tampered, b"");
        assert_eq!(
            verify(&parts, &auth, "YourAccessKeySecret"),
            Err(SignError::SignatureMismatch)
        );
        let parts = parts_from(&headers, &raw_query, b"x=1");
        assert_eq!(
            verify(&parts, &auth, "YourAccessKeySecret"),
            Err(SignError::SignatureMismatch)
        );
        let without_nonce: Vec<_> = headers
            .iter()
            .filter(|(n, _)| n != "x-acs-signature-nonce")
            .cloned()
            .collect();
        let parts = parts_from(&without_nonce, &raw_query, b"");
        assert_eq!(
            verify(&parts, &auth, "YourAccessKeySecret"),
            Err(SignError::MissingHeader("x-acs-signature-nonce".into()))
        );
    }

    #[test]
    fn verify_uses_the_requests_own_signed_headers() {
        // An SDK-style request that also signs user-agent and a host with a port.
        let headers = vec![
            ("Host".to_string(), "127.0.0.1:8080".to_string()),
            (
                "User-Agent".to_string(),
                "AlibabaCloud (Linux) Python/3".to_string(),
            ),
            ("x-acs-action".to_string(), "DescribeKeyPairs".to_string()),
            ("x-acs-version".to_string(), "2014-05-26".to_string()),
            ("x-acs-date".to_string(), "2024-01-01T00:00:00Z".to_string()),
            ("x-acs-signature-nonce".to_string(), "n1".to_string()),
            ("x-acs-content-sha256".to_string(), sha256_hex(b"")),
        ];
        let names: Vec<String> = headers.iter().map(|(n, _)| n.to_lowercase()).collect();
        let canonical = canonical_request(
            "GET",
            "/",
            &[("RegionId".into(), "cn-hangzhou".into())],
            &headers,
            &sha256_hex(b""),
        );
        let sig = signature("s", &string_to_sign(&canonical));
        let mut sorted = names.clone();
        sorted.sort();
        let auth = Authorization {
            access_key_id: "id".into(),
            signed_headers: sorted,
            signature: sig,
        };
        let parts = RequestParts {
            method: "GET",
            path: "/",
            raw_query: "RegionId=cn-hangzhou",
            headers: &headers,
            body: b"",
        };
        assert_eq!(verify(&parts, &auth, "s"), Ok(()));
    }

    #[test]
    fn authorization_roundtrip_and_errors() {
        let a = Authorization {
            access_key_id: "id".into(),
            signed_headers: vec!["host".into(), "x-acs-date".into()],
            signature: "abcd".into(),
        };
        assert_eq!(Authorization::parse(&a.to_header_value()), Ok(a.clone()));
        let spaced =
            "ACS3-HMAC-SHA256 Credential=id, SignedHeaders=host;x-acs-date, Signature=abcd";
        assert_eq!(Authorization::parse(spaced), Ok(a));
        assert!(matches!(
            Authorization::parse("TC3-HMAC-SHA256 Credential=x"),
            Err(SignError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            Authorization::parse("ACS3-HMAC-SHA256 Credential=id"),
            Err(SignError::MalformedAuthorization(_))
        ));
        assert!(Authorization::parse("").is_err());
    }

    #[test]
    fn date_format_roundtrip() {
        let t = parse_date("2023-10-26T10:22:32Z").unwrap();
        assert_eq!(format_date(t), "2023-10-26T10:22:32Z");
        assert!(parse_date("yesterday").is_none());
    }
}
