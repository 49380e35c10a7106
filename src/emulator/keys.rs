//! SSH key material: generation for CreateKeyPair, parsing for ImportKeyPair, fingerprints.
//!
//! Generated keys are Ed25519 (aws-lc-rs): generation takes microseconds, so tests can create
//! thousands. The private key is returned as a PKCS#8 PEM (`BEGIN PRIVATE KEY`), which OpenSSH
//! accepts; the public key is in OpenSSH `authorized_keys` format. The fingerprint is what
//! Alibaba reports as `KeyPairFingerPrint`: MD5 of the public key blob, lower-case hex in
//! colon-separated pairs. CVM reports no fingerprint.

use crate::cloud::public_key::{md5_fingerprint, parse_public_key};
use base64::Engine as _;

/// A generated key pair.
#[derive(Debug, Clone)]
pub struct Generated {
    /// `ssh-ed25519 AAAA...` (no comment).
    pub public_openssh: String,
    /// PKCS#8 PEM.
    pub private_pem: String,
    /// MD5 fingerprint of the public blob.
    pub fingerprint: String,
}

/// Why key generation or parsing failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The system random generator failed.
    #[error("key generation failed")]
    Generation,
    /// The text is not an OpenSSH public key.
    #[error("not an OpenSSH public key: {0}")]
    Malformed(String),
}

/// Generates a fresh Ed25519 key pair.
pub fn generate() -> Result<Generated, KeyError> {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Generation)?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| KeyError::Generation)?;
    let mut blob = Vec::with_capacity(51);
    put_string(&mut blob, b"ssh-ed25519");
    put_string(&mut blob, pair.public_key().as_ref());
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = b64.encode(pkcs8.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(Generated {
        public_openssh: format!("ssh-ed25519 {}", b64.encode(&blob)),
        private_pem: pem,
        fingerprint: md5_fingerprint(&blob),
    })
}

/// Parses an OpenSSH public key line (`type base64 [comment]`) and returns the normalized
/// `type base64` form and the blob's fingerprint, with the same rules the provider checks.
pub fn parse_public(text: &str) -> Result<(String, String), KeyError> {
    let key = parse_public_key(text).map_err(KeyError::Malformed)?;
    Ok((key.canonical(), key.md5_fingerprint()))
}

fn put_string(out: &mut Vec<u8>, data: &[u8]) {
    // SSH wire strings are length-prefixed; our inputs are a few dozen bytes.
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back() {
        let g = generate().unwrap();
        assert!(g
            .public_openssh
            .starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"));
        assert!(g.private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let (normalized, fp) = parse_public(&format!("{} me@host", g.public_openssh)).unwrap();
        assert_eq!(normalized, g.public_openssh);
        assert_eq!(fp, g.fingerprint);
        assert_eq!(fp.len(), 47);
        assert_ne!(generate().unwrap().fingerprint, g.fingerprint);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_public("").is_err());
        assert!(parse_public("ssh-dss AAAA").is_err());
        assert!(parse_public("ssh-rsa !!!").is_err());
        // Valid base64 of an ed25519 blob announced as RSA.
        let g = generate().unwrap();
        let data = g.public_openssh.split(' ').nth(1).unwrap();
        assert!(parse_public(&format!("ssh-rsa {data}")).is_err());
    }

    #[test]
    fn fingerprint_format() {
        assert_eq!(
            md5_fingerprint(b""),
            "d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e"
        );
    }
}
