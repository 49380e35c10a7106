//! Alibaba Cloud signature version 1.0 (HMAC-SHA1), the scheme of the legacy SDKs
//! (`aliyun-python-sdk-*`, old Go SDK) that still work against ECS and ENS.
//!
//! Everything travels as parameters: the string to sign is
//! `METHOD&%2F&` + percent-encoded canonical query of every parameter except `Signature`
//! (empty values included), the key is `secret&`, and the signature is base64 of the HMAC.
//! Parameters from the query and from a form body are signed together.

use base64::Engine as _;

use super::encode::{canonical_query, percent_encode};
use super::{constant_time_eq, Credentials, SignError};

/// The only `SignatureMethod` the scheme defines for access keys.
pub(crate) const SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// The `SignatureVersion` value of this scheme.
pub(crate) const SIGNATURE_VERSION: &str = "1.0";

/// `METHOD&%2F&` + encode(canonical query of all parameters but `Signature`).
pub(crate) fn string_to_sign(method: &str, params: &[(String, String)]) -> String {
    let query = canonical_query(
        params
            .iter()
            .filter(|(k, _)| k != "Signature")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    format!("{method}&%2F&{}", percent_encode(&query))
}

/// base64(HMAC-SHA1(secret + "&", string to sign)).
pub(crate) fn signature(secret: &str, string_to_sign: &str) -> String {
    use hmac::{Hmac, Mac};
    let key = format!("{secret}&");
    let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Adds the common parameters (`AccessKeyId`, `SignatureMethod`, `SignatureVersion`,
/// `SignatureNonce`, `Timestamp`, `Format=JSON`) and then `Signature` to `params`, which must
/// already hold `Action`, `Version` and the operation's own parameters.
pub fn sign_params(
    method: &str,
    params: &mut Vec<(String, String)>,
    creds: &Credentials,
    nonce: &str,
    timestamp: &str,
) {
    let common = [
        ("AccessKeyId", creds.access_key_id.as_str()),
        ("Format", "JSON"),
        ("SignatureMethod", SIGNATURE_METHOD),
        ("SignatureVersion", SIGNATURE_VERSION),
        ("SignatureNonce", nonce),
        ("Timestamp", timestamp),
    ];
    for (k, v) in common {
        params.retain(|(existing, _)| existing != k);
        params.push((k.to_string(), v.to_string()));
    }
    params.retain(|(k, _)| k != "SecurityToken");
    if let Some(token) = &creds.security_token {
        params.push(("SecurityToken".to_string(), token.clone()));
    }
    params.retain(|(k, _)| k != "Signature");
    let sig = signature(&creds.access_key_secret, &string_to_sign(method, params));
    params.push(("Signature".to_string(), sig));
}

/// The first value of parameter `name`.
pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Verifies the `Signature` parameter of a request whose parameters (query and form body merged)
/// are `params`, with `secret` belonging to its `AccessKeyId`.
pub fn verify(method: &str, params: &[(String, String)], secret: &str) -> Result<(), SignError> {
    let given = param(params, "Signature")
        .ok_or_else(|| SignError::MissingParameter("Signature".into()))?;
    let sig_method = param(params, "SignatureMethod")
        .ok_or_else(|| SignError::MissingParameter("SignatureMethod".into()))?;
    if sig_method != SIGNATURE_METHOD {
        return Err(SignError::UnsupportedAlgorithm(sig_method.to_string()));
    }
    if let Some(version) = param(params, "SignatureVersion") {
        if version != SIGNATURE_VERSION {
            return Err(SignError::UnsupportedAlgorithm(format!(
                "SignatureVersion {version}"
            )));
        }
    }
    let expected = signature(secret, &string_to_sign(method, params));
    if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err(SignError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn doc_params() -> Vec<(String, String)> {
        pairs(&[
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Format", "XML"),
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("Version", "2014-05-26"),
            ("SignatureVersion", "1.0"),
        ])
    }

    // The signature-version-1.0 example of Alibaba's documentation (DescribeRegions, secret
    // `testsecret`); the expected value was recomputed independently with Python's hmac module.
    #[test]
    fn documented_example() {
        let sts = string_to_sign("GET", &doc_params());
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
             %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
             %26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z\
             %26Version%3D2014-05-26"
        );
        assert_eq!(
            signature("testsecret", &sts),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    // Empty values and JSON arrays with characters that generic encoders get wrong (space, `*`).
    #[test]
    fn empty_values_and_json_arrays() {
        let mut params = doc_params();
        params.push(("RegionId".into(), String::new()));
        params.push(("KeyPairNames".into(), "[\"a b\",\"c*\"]".into()));
        let sts = string_to_sign("POST", &params);
        assert!(sts.contains("%26RegionId%3D%26"));
        assert!(sts.contains("KeyPairNames%3D%255B%2522a%2520b%2522%252C%2522c%252A%2522%255D"));
        assert_eq!(
            signature("testsecret", &sts),
            "ldK/aSW1Ekz45U6LFB70oUP0phc="
        );
    }

    #[test]
    fn a_security_token_is_a_signed_parameter() {
        let mut params = pairs(&[("Action", "DescribeKeyPairs"), ("Version", "2014-05-26")]);
        let creds = Credentials::new("STS.id", "tmp").with_token("tok-1");
        sign_params("POST", &mut params, &creds, "n", "2024-01-01T00:00:00Z");
        assert_eq!(param(&params, "SecurityToken"), Some("tok-1"));
        assert_eq!(verify("POST", &params, "tmp"), Ok(()));
        for p in params.iter_mut().filter(|(k, _)| k == "SecurityToken") {
            p.1 = "tok-2".to_string();
        }
        assert_eq!(
            verify("POST", &params, "tmp"),
            Err(SignError::SignatureMismatch)
        );
    }

    #[test]
    fn sign_then_verify() {
        let creds = Credentials::new("id", "secret");
        let mut params = pairs(&[
            ("Action", "DeleteKeyPairs"),
            ("Version", "2014-05-26"),
            ("KeyPairNames", "[\"k1\"]"),
        ]);
        sign_params(
            "GET",
            &mut params,
            &creds,
            "nonce-1",
            "2024-01-01T00:00:00Z",
        );
        assert_eq!(param(&params, "AccessKeyId"), Some("id"));
        assert_eq!(verify("GET", &params, "secret"), Ok(()));
        assert_eq!(
            verify("POST", &params, "secret"),
            Err(SignError::SignatureMismatch)
        );
        assert_eq!(
            verify("GET", &params, "other"),
            Err(SignError::SignatureMismatch)
        );
        let mut tampered = params.clone();
        tampered[2].1 = "[\"k2\"]".into();
        assert_eq!(
            verify("GET", &tampered, "secret"),
            Err(SignError::SignatureMismatch)
        );
        let unsigned: Vec<_> = params
            .iter()
            .filter(|(k, _)| k != "Signature")
            .cloned()
            .collect();
        assert_eq!(
            verify("GET", &unsigned, "secret"),
            Err(SignError::MissingParameter("Signature".into()))
        );
    }
}
