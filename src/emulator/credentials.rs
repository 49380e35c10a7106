//! The access keys the emulator accepts: the one long-term pair it was started with, and every
//! temporary pair its STS issued.
//!
//! A temporary key is only good with its own token and until it expires; the real services
//! decode the token to find the key's secret, so a token that does not fit is refused before
//! the signature is looked at, and that is the order here too. Expired keys stay known, so a
//! client is told its key expired (and renews it) rather than that the key does not exist.
//! Issued keys belong to the vendor whose STS issued them, as the long-term pair, which
//! serves both vendors here, does not.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::cloud::sign::Credentials;

use super::api::Vendor;
use super::sts_profile::TokenProblem;

/// How long after its expiry an issued key is still recognised once there are many: long
/// past any client's renewal, and bounded, so a busy emulator does not grow forever.
const FORGET_AFTER_SECS: i64 = 24 * 60 * 60;
/// How many issued keys there may be before long-expired ones are forgotten.
const PRUNE_ABOVE: usize = 100_000;

/// One issued temporary key.
#[derive(Debug, Clone)]
struct Temporary {
    vendor: Vendor,
    secret: String,
    token: String,
    /// Unix second from which the key is refused.
    expires_at: i64,
}

/// Why a presented access key id is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRefusal {
    /// No such key (for this vendor).
    Unknown,
    /// A known key whose token does not fit.
    Token(TokenProblem),
}

/// The accepted keys.
#[derive(Debug)]
pub(crate) struct KeyRing {
    long_term: Credentials,
    issued: Mutex<HashMap<String, Temporary>>,
}

impl KeyRing {
    /// Accepts `long_term` (without a token) on every vendor's APIs, and nothing else yet.
    pub(crate) fn new(long_term: Credentials) -> Self {
        Self {
            long_term,
            issued: Mutex::new(HashMap::new()),
        }
    }

    fn issued(&self) -> MutexGuard<'_, HashMap<String, Temporary>> {
        // Every change to the map is a single insert or clear: a panic elsewhere cannot leave it
        // half-written.
        self.issued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The secret to verify a `vendor` request's signature with, when the request names
    /// `key_id` and carries `token` (an empty token counts as none) at unix second `now`.
    pub(crate) fn secret_for(
        &self,
        vendor: Vendor,
        key_id: &str,
        token: Option<&str>,
        now: i64,
    ) -> Result<String, KeyRefusal> {
        let token = token.filter(|t| !t.is_empty());
        let issued = self.issued();
        let issued_token = |t: &str| issued.values().any(|k| k.token == t);
        if key_id == self.long_term.access_key_id {
            return match token {
                None => Ok(self.long_term.access_key_secret.clone()),
                // A long-term key takes no token; which refusal depends on whether the token is
                // one the emulator gave out (to some temporary key) at all.
                Some(t) if issued_token(t) => Err(KeyRefusal::Token(TokenProblem::Mismatch)),
                Some(_) => Err(KeyRefusal::Token(TokenProblem::Malformed)),
            };
        }
        let key = issued
            .get(key_id)
            .filter(|k| k.vendor == vendor)
            .ok_or(KeyRefusal::Unknown)?;
        let problem = match token {
            None => TokenProblem::Missing,
            Some(t) if t == key.token && now >= key.expires_at => TokenProblem::Expired,
            Some(t) if t == key.token => return Ok(key.secret.clone()),
            Some(t) if issued_token(t) => TokenProblem::Mismatch,
            Some(_) => TokenProblem::Malformed,
        };
        Err(KeyRefusal::Token(problem))
    }

    /// Issues a temporary key of `vendor`'s shapes, refused from unix second `expires_at`;
    /// `now` is when it is issued, for forgetting long-expired keys.
    pub(crate) fn issue(&self, vendor: Vendor, expires_at: i64, now: i64) -> Credentials {
        let p = vendor.sts();
        let mut issued = self.issued();
        if issued.len() > PRUNE_ABOVE {
            issued.retain(|_, k| k.expires_at + FORGET_AFTER_SECS > now);
        }
        // Ids are random over 36^24 or more; a collision would only replace a key.
        let creds =
            Credentials::new(p.key_id.random(), p.secret.random()).with_token(p.token.random());
        issued.insert(
            creds.access_key_id.clone(),
            Temporary {
                vendor,
                secret: creds.access_key_secret.clone(),
                token: creds.security_token.clone().unwrap_or_default(),
                expires_at,
            },
        );
        creds
    }

    /// Every issued key with its secret and token, for tests that check none reaches a log
    /// (admin `GET /_emulator/credentials`, loopback only like the rest of the admin API).
    pub(crate) fn issued_keys(&self) -> Vec<serde_json::Value> {
        let mut all: Vec<_> = self
            .issued()
            .iter()
            .map(|(id, k)| {
                serde_json::json!({
                    "access_key_id": id,
                    "access_key_secret": k.secret,
                    "security_token": k.token,
                    "expires_at": k.expires_at,
                    "vendor": format!("{:?}", k.vendor),
                })
            })
            .collect();
        all.sort_by_key(|k| k["expires_at"].as_i64());
        all
    }

    /// Forgets every issued key (admin reset).
    pub(crate) fn forget_issued(&self) {
        self.issued().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000;

    fn ring() -> KeyRing {
        KeyRing::new(Credentials::new("long", "long-secret"))
    }

    fn token(c: &Credentials) -> Option<&str> {
        c.security_token.as_deref()
    }

    #[test]
    fn the_long_term_key_takes_no_token() {
        let r = ring();
        assert_eq!(
            r.secret_for(Vendor::Tencent, "long", None, NOW),
            Ok("long-secret".into())
        );
        assert_eq!(
            r.secret_for(Vendor::Alibaba, "long", Some(""), NOW),
            Ok("long-secret".into())
        );
        let temp = r.issue(Vendor::Alibaba, NOW + 10, NOW);
        assert_eq!(
            r.secret_for(Vendor::Alibaba, "long", token(&temp), NOW),
            Err(KeyRefusal::Token(TokenProblem::Mismatch))
        );
        assert_eq!(
            r.secret_for(Vendor::Alibaba, "long", Some("made-up"), NOW),
            Err(KeyRefusal::Token(TokenProblem::Malformed))
        );
        assert_eq!(
            r.secret_for(Vendor::Alibaba, "nope", None, NOW),
            Err(KeyRefusal::Unknown)
        );
    }

    #[test]
    fn a_temporary_key_needs_its_own_unexpired_token() {
        let r = ring();
        let a = r.issue(Vendor::Alibaba, NOW + 10, NOW);
        let b = r.issue(Vendor::Alibaba, NOW + 10, NOW);
        assert!(a.access_key_id.starts_with("STS."));
        let secret = |key: &Credentials, t: Option<&str>, now| {
            r.secret_for(Vendor::Alibaba, &key.access_key_id, t, now)
        };
        assert_eq!(secret(&a, token(&a), NOW), Ok(a.access_key_secret.clone()));
        assert_eq!(
            secret(&a, token(&a), NOW + 9),
            Ok(a.access_key_secret.clone())
        );
        let refused = |p| Err(KeyRefusal::Token(p));
        assert_eq!(secret(&a, None, NOW), refused(TokenProblem::Missing));
        assert_eq!(secret(&a, token(&b), NOW), refused(TokenProblem::Mismatch));
        assert_eq!(
            secret(&a, Some("CAIS-forged"), NOW),
            refused(TokenProblem::Malformed)
        );
        assert_eq!(
            secret(&a, token(&a), NOW + 10),
            refused(TokenProblem::Expired)
        );
        // Expired keys stay known until forgotten.
        r.forget_issued();
        assert_eq!(secret(&a, token(&a), NOW), Err(KeyRefusal::Unknown));
    }

    #[test]
    fn issued_keys_belong_to_their_vendor() {
        let r = ring();
        let t = r.issue(Vendor::Tencent, NOW + 10, NOW);
        assert!(t.access_key_id.starts_with("AKID"));
        assert!(r
            .secret_for(Vendor::Tencent, &t.access_key_id, token(&t), NOW)
            .is_ok());
        assert_eq!(
            r.secret_for(Vendor::Alibaba, &t.access_key_id, token(&t), NOW),
            Err(KeyRefusal::Unknown)
        );
    }
}
