//! Request rate limits: which limit applies to a call, and the windows that count calls.
//!
//! A limit comes from one of three places: the API's documented per-second limits
//! ([`Profile::builtin_rates`](super::profile::Profile::builtin_rates): only CVM publishes any,
//! ECS and ENS throttle with per-account quotas they do not publish;
//! [`StsProfile::builtin_rates`](super::sts_profile::StsProfile::builtin_rates): both STS
//! publish AssumeRole's), a limit configured for every API (`--rate ACTION=N`) and a limit
//! configured for one key-pair cloud (`--rate ecs:ACTION=N`). Every limit that applies to a
//! call is enforced, so the strictest one wins; `--no-builtin-rates` drops the documented ones.
//! Each (API, action) pair has one sliding one-second window of the calls it admitted; a
//! refused call does not count.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::api::Api;
use super::profile::Cloud;
use super::wire::ApiError;

/// A configured limit: at most `per_second` calls of `action` per second, on one key-pair
/// cloud or on every API (the two STS included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// The cloud it applies to; `None` is every API.
    pub cloud: Option<Cloud>,
    /// The action, e.g. `DescribeKeyPairs`.
    pub action: String,
    /// Calls admitted per sliding second (positive).
    pub per_second: u32,
}

impl RateLimit {
    /// A limit of `per_second` calls of `action` on `cloud` (`None`: every cloud).
    pub fn new(cloud: Option<Cloud>, action: impl Into<String>, per_second: u32) -> Self {
        Self {
            cloud,
            action: action.into(),
            per_second,
        }
    }

    /// Whether this limit counts calls of `action` on `api`.
    pub(crate) fn applies_to(&self, api: Api, action: &str) -> bool {
        self.action == action && self.cloud.is_none_or(|c| Api::KeyPairs(c) == api)
    }
}

/// Why a `--rate` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateParseError {
    /// Not `[CLOUD:]ACTION=N`, or an empty action.
    #[error("expected [CLOUD:]ACTION=N (e.g. ecs:DescribeKeyPairs=5), got {0:?}")]
    Shape(String),
    /// The qualifier is not a cloud.
    #[error("unknown cloud {cloud:?} in {item:?}: expected ecs, ens or cvm")]
    Cloud {
        /// The qualifier as given.
        cloud: String,
        /// The whole value.
        item: String,
    },
    /// N is not a positive number.
    #[error("N must be a positive whole number in {0:?}")]
    Count(String),
}

impl FromStr for RateLimit {
    type Err = RateParseError;

    /// Parses `ACTION=N` (every cloud) or `CLOUD:ACTION=N` (`ecs`, `ens` or `cvm` only).
    fn from_str(item: &str) -> Result<Self, Self::Err> {
        let shape = || RateParseError::Shape(item.to_string());
        let (target, n) = item.split_once('=').ok_or_else(shape)?;
        let (cloud, action) = match target.split_once(':') {
            Some((cloud, action)) => {
                let parsed = Cloud::parse(cloud).ok_or_else(|| RateParseError::Cloud {
                    cloud: cloud.to_string(),
                    item: item.to_string(),
                })?;
                (Some(parsed), action)
            }
            None => (None, target),
        };
        if action.is_empty() || action.contains(':') {
            return Err(shape());
        }
        let per_second = n
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| RateParseError::Count(item.to_string()))?;
        Ok(Self::new(cloud, action, per_second))
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(cloud) = self.cloud {
            write!(f, "{}:", cloud.as_str())?;
        }
        write!(f, "{}={}", self.action, self.per_second)
    }
}

/// The per-second limit for `action` on `api`, if any: the strictest of the API's documented
/// limit (only when `builtin`) and every configured limit that applies.
pub(crate) fn limit_for(
    api: impl Into<Api>,
    action: &str,
    builtin: bool,
    configured: &[RateLimit],
) -> Option<u32> {
    let api = api.into();
    let documented = builtin.then(|| api.builtin_rate(action)).flatten();
    configured
        .iter()
        .filter(|r| r.applies_to(api, action))
        .map(|r| r.per_second)
        .chain(documented)
        .min()
}

/// The answer to a call over its limit: the API's throttling code, HTTP 400 on Alibaba
/// ("most often", per its documents) and, like every Tencent error, 200 on Tencent.
pub(crate) fn throttled(api: impl Into<Api>) -> ApiError {
    let api = api.into();
    let code = api.throttled_code();
    if api.is_alibaba() {
        ApiError::new(400, code, "Request was denied due to user flow control.")
    } else {
        ApiError::new(
            200,
            code,
            "Your current request times exceeds the limit, please try again later.",
        )
    }
}

/// One sliding one-second window of admitted calls per (API, action).
#[derive(Debug, Default)]
pub(crate) struct RateWindows(HashMap<(Api, String), VecDeque<Instant>>);

impl RateWindows {
    /// Admits a call of `action` on `api` at `now` when fewer than `limit` calls were admitted
    /// in the second before, and counts it; a refused call is not counted.
    pub(crate) fn admit(
        &mut self,
        api: impl Into<Api>,
        action: &str,
        limit: u32,
        now: Instant,
    ) -> bool {
        let window = self.0.entry((api.into(), action.to_string())).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        if window.len() >= limit as usize {
            return false;
        }
        window.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_PAIR_ACTIONS: [&str; 6] = [
        "DescribeKeyPairs",
        "CreateKeyPair",
        "ImportKeyPair",
        "DeleteKeyPairs",
        "AssociateInstancesKeyPairs",
        "DisassociateInstancesKeyPairs",
    ];

    fn rate(s: &str) -> RateLimit {
        s.parse().unwrap()
    }

    #[test]
    fn cvm_documented_limits_apply_by_default() {
        for action in KEY_PAIR_ACTIONS {
            assert_eq!(
                limit_for(Cloud::Cvm, action, true, &[]),
                Some(10),
                "{action}"
            );
        }
        assert_eq!(
            limit_for(Cloud::Cvm, "DescribeInstances", true, &[]),
            Some(40)
        );
        // An action CVM does not have (the emulator answers InvalidAction) has no limit.
        assert_eq!(limit_for(Cloud::Cvm, "RebootInstance", true, &[]), None);
    }

    #[test]
    fn ecs_and_ens_are_unlimited_by_default() {
        for cloud in [Cloud::Ecs, Cloud::Ens] {
            for action in KEY_PAIR_ACTIONS.into_iter().chain([
                "AttachKeyPair",
                "DetachKeyPair",
                "DescribeInstances",
            ]) {
                assert_eq!(
                    limit_for(cloud, action, true, &[]),
                    None,
                    "{cloud:?} {action}"
                );
            }
        }
    }

    #[test]
    fn both_sts_rate_assume_role_and_plain_limits_reach_them() {
        use crate::emulator::api::Vendor;
        let (alibaba, tencent) = (Api::Sts(Vendor::Alibaba), Api::Sts(Vendor::Tencent));
        assert_eq!(limit_for(tencent, "AssumeRole", true, &[]), Some(600));
        assert_eq!(limit_for(alibaba, "AssumeRole", true, &[]), Some(100));
        assert_eq!(limit_for(tencent, "AssumeRole", false, &[]), None);
        let plain = [rate("AssumeRole=3")];
        assert_eq!(limit_for(alibaba, "AssumeRole", true, &plain), Some(3));
        // A cloud-qualified limit is for that key-pair API only.
        let qualified = [rate("cvm:AssumeRole=3")];
        assert_eq!(
            limit_for(tencent, "AssumeRole", true, &qualified),
            Some(600)
        );
        assert_eq!(throttled(tencent).code, "RequestLimitExceeded");
        assert_eq!(throttled(alibaba).status, 400);
    }

    #[test]
    fn no_builtin_rates_lifts_the_documented_limits_only() {
        assert_eq!(limit_for(Cloud::Cvm, "DeleteKeyPairs", false, &[]), None);
        assert_eq!(limit_for(Cloud::Cvm, "DescribeInstances", false, &[]), None);
        let configured = [rate("cvm:DeleteKeyPairs=25")];
        assert_eq!(
            limit_for(Cloud::Cvm, "DeleteKeyPairs", false, &configured),
            Some(25)
        );
    }

    #[test]
    fn qualified_limits_apply_to_their_cloud_only() {
        let configured = [rate("ecs:DescribeKeyPairs=5")];
        assert_eq!(
            limit_for(Cloud::Ecs, "DescribeKeyPairs", true, &configured),
            Some(5)
        );
        assert_eq!(
            limit_for(Cloud::Ens, "DescribeKeyPairs", true, &configured),
            None
        );
        assert_eq!(
            limit_for(Cloud::Cvm, "DescribeKeyPairs", true, &configured),
            Some(10)
        );
        assert_eq!(
            limit_for(Cloud::Ecs, "DeleteKeyPairs", true, &configured),
            None
        );
    }

    #[test]
    fn plain_limits_apply_to_every_cloud_and_the_strictest_wins() {
        let configured = [rate("DescribeKeyPairs=7")];
        for cloud in [Cloud::Ecs, Cloud::Ens, Cloud::Cvm] {
            assert_eq!(
                limit_for(cloud, "DescribeKeyPairs", true, &configured),
                Some(7)
            );
        }
        // A configured limit looser than the documented one does not raise it...
        let loose = [rate("DescribeInstances=100")];
        assert_eq!(
            limit_for(Cloud::Cvm, "DescribeInstances", true, &loose),
            Some(40)
        );
        // ... and of several configured limits the strictest applies.
        let several = [
            rate("DescribeKeyPairs=7"),
            rate("ens:DescribeKeyPairs=3"),
            rate("ens:DescribeKeyPairs=4"),
        ];
        assert_eq!(
            limit_for(Cloud::Ens, "DescribeKeyPairs", true, &several),
            Some(3)
        );
        assert_eq!(
            limit_for(Cloud::Ecs, "DescribeKeyPairs", true, &several),
            Some(7)
        );
    }

    #[test]
    fn parses_and_prints_rate_values() {
        assert_eq!(
            rate("DeleteKeyPairs=5"),
            RateLimit::new(None, "DeleteKeyPairs", 5)
        );
        assert_eq!(
            rate("ens:DescribeKeyPairs=12"),
            RateLimit::new(Some(Cloud::Ens), "DescribeKeyPairs", 12)
        );
        for s in ["DeleteKeyPairs=5", "cvm:DescribeInstances=3"] {
            assert_eq!(rate(s).to_string(), s);
        }
        for bad in ["nonsense", "=5", "ecs:=5", "ecs:a:b=5"] {
            assert_eq!(
                bad.parse::<RateLimit>(),
                Err(RateParseError::Shape(bad.to_string())),
                "{bad}"
            );
        }
        assert!(matches!(
            "aws:DeleteKeyPairs=5".parse::<RateLimit>(),
            Err(RateParseError::Cloud { cloud, .. }) if cloud == "aws"
        ));
        for bad in ["DeleteKeyPairs=0", "DeleteKeyPairs=-1", "DeleteKeyPairs=x"] {
            assert_eq!(
                bad.parse::<RateLimit>(),
                Err(RateParseError::Count(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn windows_slide_per_cloud_and_action() {
        let mut w = RateWindows::default();
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert!(w.admit(Cloud::Cvm, "DeleteKeyPairs", 2, at(0)));
        assert!(w.admit(Cloud::Cvm, "DeleteKeyPairs", 2, at(500)));
        assert!(!w.admit(Cloud::Cvm, "DeleteKeyPairs", 2, at(999)));
        // Other actions and other clouds count separately.
        assert!(w.admit(Cloud::Cvm, "CreateKeyPair", 1, at(999)));
        assert!(w.admit(Cloud::Ecs, "DeleteKeyPairs", 1, at(999)));
        // The first call leaves the window one second after it was admitted; the refused call
        // at 999 ms took no slot.
        assert!(w.admit(Cloud::Cvm, "DeleteKeyPairs", 2, at(1000)));
        assert!(!w.admit(Cloud::Cvm, "DeleteKeyPairs", 2, at(1499)));
        assert!(w.admit(Cloud::Cvm, "DeleteKeyPairs", 2, at(1500)));
    }
}
