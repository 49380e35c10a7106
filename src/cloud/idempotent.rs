//! Deciding what a retried call that "failed" really did.
//!
//! A connection cut after the cloud committed a call makes the retry see the committed state:
//! a delete gets NotFound, a create gets "name already exists". These helpers turn such answers
//! back into the truth, and refuse to guess when the truth cannot be established.

use base64::Engine;
use md5::{Digest, Md5};

use super::{CloudError, ErrorKind, KeyPair, KeySpec};

/// Error codes meaning "a key pair with this name already exists", for all three clouds.
const DUPLICATE_CODES: &[&str] = &[
    "KeyPair.AlreadyExist",
    "PubKeyNameExisted",
    "InvalidKeyPairName.Duplicate",
    "InvalidParameterValue.KeyPairNameDuplicate",
];

/// Whether `e` says the key pair name is taken.
pub(crate) fn is_duplicate(e: &CloudError) -> bool {
    DUPLICATE_CODES.contains(&e.code.as_str())
}

/// A NotFound after a retried delete means an earlier attempt deleted the keys.
pub(crate) fn delete_outcome(
    result: Result<(), CloudError>,
    may_have_committed: bool,
) -> Result<(), CloudError> {
    match result {
        Err(e) if may_have_committed && e.kind == ErrorKind::NotFound => {
            tracing::info!(error = %e, "delete retried after an interrupted attempt; treating NotFound as deleted");
            Ok(())
        }
        other => other,
    }
}

/// After a retried create answered "already exists", decides whether `existing` (the key found
/// under that name) is the one our interrupted attempt created.
pub(crate) fn resolve_duplicate(
    spec: &KeySpec,
    existing: Option<KeyPair>,
    err: CloudError,
) -> Result<KeyPair, CloudError> {
    let Some(existing) = existing else {
        return Err(err);
    };
    let Some(ours) = &spec.public_key else {
        // A generated key's private half was in the lost answer: we cannot return it, and the
        // existing key may as well belong to someone else.
        return Err(CloudError {
            message: format!(
                "{} (an earlier attempt of this create may have created key pair {:?} before its \
                 answer was lost; its private key cannot be recovered: delete it and apply again, \
                 or import it)",
                err.message, spec.name
            ),
            ..err
        });
    };
    let same = match (&existing.public_key, existing.fingerprint.as_str()) {
        (Some(theirs), _) => same_public_key(ours, theirs),
        (None, fp) if !fp.is_empty() => md5_fingerprint(ours).as_deref() == Some(fp),
        _ => false,
    };
    if same {
        Ok(KeyPair {
            public_key: Some(ours.clone()),
            ..existing
        })
    } else {
        Err(CloudError {
            message: format!(
                "{} (a different key pair named {:?} already exists)",
                err.message, spec.name
            ),
            ..err
        })
    }
}

/// Compares OpenSSH public keys by type and body, ignoring comments and whitespace.
pub fn same_public_key(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .take(2)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (na, nb) = (norm(a), norm(b));
    na.len() == 2 && na == nb
}

/// The MD5 fingerprint (colon-separated hex) of an OpenSSH public key, as Alibaba reports it.
pub fn md5_fingerprint(public_key: &str) -> Option<String> {
    let body = public_key.split_whitespace().nth(1)?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let digest = Md5::digest(&blob);
    Some(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::CloudKind;

    const PK: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7e3t7 me@host";

    fn dup() -> CloudError {
        CloudError::local(
            CloudKind::Ecs,
            "ImportKeyPair",
            ErrorKind::InvalidInput,
            "KeyPair.AlreadyExist",
            "exists",
        )
    }

    #[test]
    fn public_key_comparison_ignores_comments() {
        let bare = PK.rsplit_once(' ').unwrap().0;
        assert!(same_public_key(PK, &format!("  {bare}\n")));
        assert!(!same_public_key(PK, "ssh-rsa AAAA"));
    }

    #[test]
    fn duplicate_resolution() {
        let spec = KeySpec {
            name: "k".into(),
            public_key: Some(PK.into()),
            ..KeySpec::default()
        };
        let existing = KeyPair {
            name: "k".into(),
            id: "k".into(),
            fingerprint: md5_fingerprint(PK).unwrap(),
            ..KeyPair::default()
        };
        assert!(resolve_duplicate(&spec, Some(existing.clone()), dup()).is_ok());
        let other = KeyPair {
            fingerprint: "00:11".into(),
            ..existing.clone()
        };
        let e = resolve_duplicate(&spec, Some(other), dup()).unwrap_err();
        assert!(e.message.contains("different key pair"));
        let generated = KeySpec {
            public_key: None,
            ..spec
        };
        let e = resolve_duplicate(&generated, Some(existing), dup()).unwrap_err();
        assert!(e.message.contains("cannot be recovered"));
    }

    #[test]
    fn not_found_after_retry_is_success() {
        let nf = CloudError::local(
            CloudKind::Cvm,
            "DeleteKeyPairs",
            ErrorKind::NotFound,
            "InvalidKeyPairId.NotFound",
            "gone",
        );
        assert!(delete_outcome(Err(nf.clone()), true).is_ok());
        assert!(delete_outcome(Err(nf), false).is_err());
    }
}
