//! Deciding what a retried call that "failed" really did.
//!
//! A connection cut after the cloud committed a call makes the retry see the committed state:
//! a delete gets NotFound, a create gets "name already exists". These helpers turn such answers
//! back into the truth, and refuse to guess when the truth cannot be established.
//!
//! A generated key is the hard case: its private half travelled only in the lost answer. The key
//! is then reported without `private_key` so the caller can keep it tracked (an orphan nobody
//! knows about is worse than a tracked key that must be replaced), but only when it may be ours:
//! a key created before our request could even have been accepted is someone else's.

use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::public_key::{parse_public_key, same_public_key};
use super::{CloudError, ErrorKind, KeyPair, KeySpec};

/// The largest clock difference a cloud accepts in a signed request (ECS 15 minutes, CVM 5),
/// plus a minute because ECS reports creation times to the minute. A key created earlier than
/// this before we sent our create was not created by it.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(16 * 60);

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
/// under that name) is the one our interrupted attempt created. `sent_at` is when the first
/// attempt was sent, by our clock.
///
/// An imported key is ours when its public key matches. A generated key is returned without
/// `private_key` (the caller must report that the private key is lost) when it was created no
/// earlier than our request could have been accepted; an older key is refused.
pub(crate) fn resolve_duplicate(
    spec: &KeySpec,
    existing: Option<KeyPair>,
    err: CloudError,
    sent_at: OffsetDateTime,
) -> Result<KeyPair, CloudError> {
    let Some(existing) = existing else {
        return Err(err);
    };
    let Some(ours) = &spec.public_key else {
        return generated_duplicate(spec, existing, err, sent_at);
    };
    let same = match (&existing.public_key, existing.fingerprint.as_str()) {
        (Some(theirs), _) => same_public_key(ours, theirs),
        (None, fp) if !fp.is_empty() => {
            parse_public_key(ours).is_ok_and(|k| k.md5_fingerprint() == fp)
        }
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

fn generated_duplicate(
    spec: &KeySpec,
    existing: KeyPair,
    err: CloudError,
    sent_at: OffsetDateTime,
) -> Result<KeyPair, CloudError> {
    let created = existing.created_at.as_deref().and_then(parse_cloud_time);
    let earliest_ours = sent_at - MAX_CLOCK_SKEW;
    match created {
        Some(created) if created >= earliest_ours => {
            tracing::warn!(
                name = %spec.name,
                key_id = %existing.id,
                "create answer lost after the cloud created the key pair; its private key cannot be recovered"
            );
            Ok(KeyPair {
                private_key: None,
                ..existing
            })
        }
        Some(_) => Err(CloudError {
            message: format!(
                "{} (key pair {:?} was created at {}, before this create was sent: it is not \
                 ours and is left alone)",
                err.message,
                spec.name,
                existing.created_at.as_deref().unwrap_or_default()
            ),
            ..err
        }),
        None => Err(CloudError {
            message: format!(
                "{} (an earlier attempt of this create may have created key pair {:?} before its \
                 answer was lost, but the cloud reports no creation time to tell; if it is ours, \
                 import it or delete it and apply again)",
                err.message, spec.name
            ),
            ..err
        }),
    }
}

/// A creation time as the clouds print it: RFC 3339, or ECS's minute-precision
/// `2024-01-02T03:04Z`.
fn parse_cloud_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let minutes = text.strip_suffix('Z')?;
    OffsetDateTime::parse(&format!("{minutes}:00Z"), &Rfc3339).ok()
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
            fingerprint: parse_public_key(PK).unwrap().md5_fingerprint(),
            ..KeyPair::default()
        };
        let now = OffsetDateTime::now_utc();
        assert!(resolve_duplicate(&spec, Some(existing.clone()), dup(), now).is_ok());
        let other = KeyPair {
            fingerprint: "00:11".into(),
            ..existing.clone()
        };
        let e = resolve_duplicate(&spec, Some(other), dup(), now).unwrap_err();
        assert!(e.message.contains("different key pair"));
        assert!(resolve_duplicate(&spec, None, dup(), now).is_err());
    }

    #[test]
    fn generated_duplicate_is_kept_only_when_it_may_be_ours() {
        let spec = KeySpec {
            name: "k".into(),
            ..KeySpec::default()
        };
        let sent = OffsetDateTime::parse("2025-06-01T12:00:00Z", &Rfc3339).unwrap();
        let at = |t: Option<&str>| KeyPair {
            name: "k".into(),
            id: "k".into(),
            created_at: t.map(String::from),
            private_key: Some("stale".into()),
            ..KeyPair::default()
        };
        // Created a second after we sent (cloud clock), or within the accepted skew before.
        for t in [
            "2025-06-01T12:00:01Z",
            "2025-06-01T11:50Z",
            "2025-06-01T11:44:00+00:00",
        ] {
            let k = resolve_duplicate(&spec, Some(at(Some(t))), dup(), sent)
                .unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(k.id, "k");
            assert!(k.private_key.is_none(), "{t}: no private key is claimed");
        }
        // Older than any request of ours could be: someone else's.
        let e =
            resolve_duplicate(&spec, Some(at(Some("2025-06-01T11:40Z"))), dup(), sent).unwrap_err();
        assert!(e.message.contains("not ours"), "{e}");
        // No creation time to tell by.
        let e = resolve_duplicate(&spec, Some(at(None)), dup(), sent).unwrap_err();
        assert!(e.message.contains("no creation time"), "{e}");
        let e = resolve_duplicate(&spec, Some(at(Some("yesterday"))), dup(), sent).unwrap_err();
        assert!(e.message.contains("no creation time"), "{e}");
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
