//! Request signing shared by the cloud clients and the emulator.
//!
//! The clouds authenticate every call with an HMAC over a canonical form of the request. The
//! client and the emulator must agree byte for byte, so both use this one implementation; the
//! emulator additionally verifies requests built by the official SDKs, which is why verification
//! always rebuilds the canonical form from what the request itself declares (its own
//! `SignedHeaders` list, its own parameters) instead of from what our client would have sent.
//!
//! - [`encode`]: RFC 3986 percent-encoding and sorted canonical query strings.
//! - [`acs3`]: Alibaba Cloud ACS3-HMAC-SHA256 (the current SDKs' default, ECS and ENS).
//! - [`v2`]: Alibaba Cloud signature version 1.0 (HMAC-SHA1), still used by legacy SDKs.
//! - [`tc3`]: Tencent Cloud TC3-HMAC-SHA256 (CVM).

pub mod acs3;
pub mod encode;
pub mod tc3;
pub mod v2;

use sha2::{Digest, Sha256};

/// An access key pair, as both clouds issue them (Tencent calls them SecretId/SecretKey), and
/// the security token that comes with a temporary pair (STS).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The public half, sent in the request.
    pub access_key_id: String,
    /// The private half, only ever used as an HMAC key.
    pub access_key_secret: String,
    /// The token of temporary credentials: sent with every request (ACS3 `x-acs-security-token`,
    /// signed; V2 `SecurityToken`, signed; TC3 `X-TC-Token`, which TC3 leaves unsigned).
    pub security_token: Option<String>,
}

impl Credentials {
    /// Builds long-term credentials from the two halves.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: None,
        }
    }

    /// The same credentials with a security token (temporary credentials).
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(token.into());
        self
    }
}

// The secret must never end up in logs through a derived Debug.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A received HTTP request, reduced to what signature verification needs.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// HTTP method, upper case (`GET`, `POST`).
    pub method: &'a str,
    /// The request path, `/` for every call the clouds accept.
    pub path: &'a str,
    /// The raw query string without the leading `?` (may be empty).
    pub raw_query: &'a str,
    /// Request headers as received, any case.
    pub headers: &'a [(String, String)],
    /// The raw request body.
    pub body: &'a [u8],
}

impl RequestParts<'_> {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a signature could not be checked or did not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// A header the scheme needs (or one listed in SignedHeaders) is absent.
    #[error("missing header {0}")]
    MissingHeader(String),
    /// A parameter the scheme needs is absent.
    #[error("missing parameter {0}")]
    MissingParameter(String),
    /// The Authorization header does not have the scheme's shape.
    #[error("malformed Authorization header: {0}")]
    MalformedAuthorization(String),
    /// The request names a signing algorithm we do not implement.
    #[error("unsupported signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The signature was well formed but does not match the request.
    #[error("signature does not match")]
    SignatureMismatch,
}

/// Lower-case hex SHA-256, used by both ACS3 and TC3 for payloads and canonical requests.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// HMAC-SHA256 of `data` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Compares two signatures without an early exit, so timing does not reveal a prefix match.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret() {
        let c = Credentials::new("id", "very-secret");
        let s = format!("{c:?}");
        assert!(s.contains("id"));
        assert!(!s.contains("very-secret"));
    }

    #[test]
    fn header_lookup_is_case_insensitive() {
        let headers = vec![("X-Acs-Date".to_string(), "d".to_string())];
        let parts = RequestParts {
            method: "GET",
            path: "/",
            raw_query: "",
            headers: &headers,
            body: b"",
        };
        assert_eq!(parts.header("x-acs-date"), Some("d"));
        assert_eq!(parts.header("x-acs-nonce"), None);
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn sha256_of_empty() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
