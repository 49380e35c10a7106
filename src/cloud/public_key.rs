//! OpenSSH public keys, parsed once for everyone: the provider's plan-time check, the client's
//! idempotent-create comparison and the emulator's ImportKeyPair all read keys here, so the
//! three cannot disagree about what a valid key is or which two keys are the same.

use base64::Engine as _;
use md5::{Digest, Md5};

/// Key types the three clouds accept for import.
const KEY_TYPES: [&str; 5] = [
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

/// An OpenSSH public key reduced to what identifies it: type and body, without the comment and
/// surrounding whitespace that users and clouds add or drop freely (tencentcloud #345).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_type: String,
    pub body: String,
    /// The decoded body.
    pub blob: Vec<u8>,
}

impl PublicKey {
    pub(crate) fn canonical(&self) -> String {
        format!("{} {}", self.key_type, self.body)
    }

    /// The MD5 fingerprint Alibaba reports (`aa:bb:...`).
    pub fn md5_fingerprint(&self) -> String {
        md5_fingerprint(&self.blob)
    }
}

/// MD5 of a key blob as lower-case hex pairs joined by `:`.
pub(crate) fn md5_fingerprint(blob: &[u8]) -> String {
    Md5::digest(blob)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses `type base64 [comment]`, checking that the body decodes and declares the same type.
pub fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    let mut parts = text.split_whitespace();
    let key_type = parts.next().ok_or("the public key is empty")?;
    if !KEY_TYPES.contains(&key_type) {
        return Err(format!(
            "key type {key_type:?} is not supported; use one of {}",
            KEY_TYPES.join(", ")
        ));
    }
    let body = parts
        .next()
        .ok_or("the key body is missing after the key type")?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "the key body is not valid base64".to_string())?;
    let inner = embedded_type(&blob).ok_or("the key body is truncated or malformed")?;
    if inner != key_type.as_bytes() {
        return Err(format!(
            "the key body declares type {:?} but the key starts with {key_type:?}",
            String::from_utf8_lossy(inner)
        ));
    }
    Ok(PublicKey {
        key_type: key_type.to_string(),
        body: body.to_string(),
        blob,
    })
}

/// The first SSH wire string of a key blob: its type name.
fn embedded_type(blob: &[u8]) -> Option<&[u8]> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let end = 4usize.checked_add(len)?;
    if blob.len() <= end {
        return None;
    }
    blob.get(4..end)
}

/// Whether two key texts denote the same key (comments and whitespace ignored).
pub(crate) fn same_public_key(a: &str, b: &str) -> bool {
    match (parse_public_key(a), parse_public_key(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real ed25519 public key (generated for this test; no private half kept).
    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGj9dLQfZZgk2XbS0aHgG4V6nN3Q5VjS8yEo0x7Rr1mN";

    #[test]
    fn comments_and_whitespace_do_not_matter() {
        assert!(same_public_key(ED, &format!("  {ED} alice@laptop \n")));
        assert_eq!(
            parse_public_key(&format!("{ED} c")).map(|k| k.canonical()),
            Ok(ED.to_string())
        );
    }

    #[test]
    fn rejects_bad_keys_with_reasons() {
        assert!(parse_public_key("").unwrap_err().contains("empty"));
        assert!(parse_public_key("ssh-dss AAAA")
            .unwrap_err()
            .contains("not supported"));
        assert!(parse_public_key("ssh-rsa").unwrap_err().contains("missing"));
        assert!(parse_public_key("ssh-rsa !!!")
            .unwrap_err()
            .contains("base64"));
        // ed25519 body announced as rsa
        let body = ED.split(' ').nth(1).unwrap_or_default();
        assert!(parse_public_key(&format!("ssh-rsa {body}"))
            .unwrap_err()
            .contains("declares"));
        // truncated body
        assert!(parse_public_key("ssh-rsa AAAAB3Nz").is_err());
    }

    #[test]
    fn different_keys_differ() {
        let other =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(!same_public_key(ED, other));
    }
}
