//! STS AssumeRole, written once for Alibaba (2015-04-01) and Tencent (2018-08-13).
//!
//! The request names a configured role ([`Role`]), a session name and a duration; the answer is
//! a fresh temporary key, secret and token, which the [`KeyRing`] from then on accepts until
//! they expire. The checks, limits, codes and shapes are each vendor's, from its
//! [`StsProfile`]; `Policy` is accepted and ignored (the emulator has no permissions to narrow).

use std::time::Duration;

use serde_json::{Map, Value};

use super::unknown_action;
use crate::emulator::api::Api;
use crate::emulator::credentials::KeyRing;
use crate::emulator::render::{self, AssumedRole};
use crate::emulator::roles::Role;
use crate::emulator::sts_profile::StsProfile;
use crate::emulator::wire::{ApiError, ApiRequest};

/// What AssumeRole needs besides the request: the configuration and where keys go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StsSettings<'a> {
    /// The roles that may be assumed (`--role`).
    pub roles: &'a [Role],
    /// A cap on how long issued keys live (`--sts-lifetime`), whatever the request asked.
    pub lifetime_cap: Option<Duration>,
    /// The accepted keys, where the issued one is added.
    pub keys: &'a KeyRing,
}

/// Serves one STS call of `p`'s vendor at `now`.
pub(crate) fn handle(
    p: &'static StsProfile,
    req: &ApiRequest,
    settings: &StsSettings<'_>,
    now: time::OffsetDateTime,
) -> Result<Map<String, Value>, ApiError> {
    if req.action != p.action {
        return Err(unknown_action(Api::Sts(p.vendor), &req.action));
    }
    if let Some(region) = p.region_param {
        if req.region.is_empty() {
            return Err(ApiError::missing(region));
        }
    }
    // Missing required parameters: both vendors' common `MissingParameter` (Alibaba may name
    // the parameter in the code instead, `Missing{ParameterName}`; not confirmed for STS).
    let required = |name: &str| req.params.str(name).ok_or_else(|| ApiError::missing(name));
    let arn = required("RoleArn")?;
    let session = required("RoleSessionName")?;
    if p.session_name.check(&session).is_err() {
        return Err(p.codes.session_name.error());
    }
    let duration = duration_seconds(p, req)?;
    let external_id = req.params.str("ExternalId");
    if external_id
        .as_deref()
        .is_some_and(|id| p.external_id.check(id).is_err())
    {
        return Err(p.codes.external_id_malformed.error());
    }
    let role = settings
        .roles
        .iter()
        .find(|r| r.arn == arn && r.vendor() == Some(p.vendor))
        .ok_or_else(|| p.codes.role_not_found.error())?;
    // A role without an external id condition takes any (or none), as trust policies do.
    if role.external_id.is_some() && role.external_id != external_id {
        return Err(p.codes.external_id_mismatch.error());
    }
    let expires_at = expiry(now, duration, settings.lifetime_cap);
    let credentials =
        settings
            .keys
            .issue(p.vendor, expires_at.unix_timestamp(), now.unix_timestamp());
    Ok(render::assumed_role(
        p.vendor,
        &AssumedRole {
            arn: &role.arn,
            session: &session,
            credentials: &credentials,
            expires_at,
        },
    ))
}

/// The requested lifetime: the vendor's default when absent, refused outside its range.
fn duration_seconds(p: &StsProfile, req: &ApiRequest) -> Result<Duration, ApiError> {
    let seconds = req
        .params
        .int("DurationSeconds")
        .map_err(|_| p.codes.duration_invalid.error())?
        .unwrap_or(p.duration.default);
    if seconds < p.duration.min {
        return Err(p.codes.duration_invalid.error());
    }
    if seconds > p.duration.max {
        return Err(p.codes.duration_too_long.error());
    }
    // In range, so positive.
    Ok(Duration::from_secs(seconds.unsigned_abs()))
}

/// When keys issued at `now` for `duration` expire: the whole second at or after `now` plus the
/// shorter of `duration` and `cap`. Both clouds state expiry in whole seconds, and rounding up
/// means a key lives at least as long as it was issued for.
fn expiry(
    now: time::OffsetDateTime,
    duration: Duration,
    cap: Option<Duration>,
) -> time::OffsetDateTime {
    let lifetime = cap.map_or(duration, |cap| cap.min(duration));
    let end = now + lifetime;
    let whole = end.replace_nanosecond(0).unwrap_or(end);
    if whole < end {
        whole + time::Duration::SECOND
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::sign::Credentials;
    use crate::emulator::api::Vendor;
    use crate::emulator::sts_profile::{ALIBABA_STS, TENCENT_STS};
    use crate::emulator::wire::Params;

    const ALIBABA_ROLE: &str = "acs:ram::1:role/ops";
    const TENCENT_ROLE: &str = "qcs::cam::uin/1:roleName/ops";

    fn request(vendor: Vendor, params: serde_json::Value) -> ApiRequest {
        let serde_json::Value::Object(map) = params else {
            panic!("params are an object");
        };
        ApiRequest {
            cloud: Api::Sts(vendor),
            action: "AssumeRole".into(),
            region: "ap-guangzhou".into(),
            params: Params(map),
        }
    }

    fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(1_704_067_200).unwrap()
    }

    fn assume(
        p: &'static StsProfile,
        params: serde_json::Value,
        cap: Option<Duration>,
    ) -> Result<Map<String, Value>, ApiError> {
        let keys = KeyRing::new(Credentials::new("id", "secret"));
        let roles = [
            Role::new(ALIBABA_ROLE),
            Role::new(TENCENT_ROLE),
            Role::new("acs:ram::1:role/guarded").with_external_id("abc123"),
        ];
        let settings = StsSettings {
            roles: &roles,
            lifetime_cap: cap,
            keys: &keys,
        };
        handle(p, &request(p.vendor, params), &settings, now())
    }

    fn code(r: Result<Map<String, Value>, ApiError>) -> String {
        r.expect_err("refused").code
    }

    #[test]
    fn alibaba_answer_shape_and_default_duration() {
        let m = assume(
            &ALIBABA_STS,
            serde_json::json!({"RoleArn": ALIBABA_ROLE, "RoleSessionName": "alice"}),
            None,
        )
        .unwrap();
        assert_eq!(m["AssumedRoleUser"]["Arn"], "acs:ram::1:role/ops/alice");
        let id = m["AssumedRoleUser"]["AssumedRoleId"].as_str().unwrap();
        assert!(id.ends_with(":alice") && id.len() == 17 + 6, "{id}");
        let c = &m["Credentials"];
        assert!(c["AccessKeyId"].as_str().unwrap().starts_with("STS."));
        assert!(c["SecurityToken"].as_str().unwrap().len() >= 400);
        assert_eq!(c["Expiration"], "2024-01-01T01:00:00Z");
    }

    #[test]
    fn tencent_answer_shape_default_duration_and_region() {
        let params = serde_json::json!({"RoleArn": TENCENT_ROLE, "RoleSessionName": "bob"});
        let m = assume(&TENCENT_STS, params.clone(), None).unwrap();
        assert!(m["Credentials"]["TmpSecretId"]
            .as_str()
            .unwrap()
            .starts_with("AKID"));
        assert!(m["Credentials"]["Token"].as_str().unwrap().len() >= 400);
        assert_eq!(m["ExpiredTime"], 1_704_067_200 + 7200);
        assert_eq!(m["Expiration"], "2024-01-01T02:00:00Z");

        let keys = KeyRing::new(Credentials::new("id", "secret"));
        let mut no_region = request(Vendor::Tencent, params);
        no_region.region.clear();
        let settings = StsSettings {
            roles: &[],
            lifetime_cap: None,
            keys: &keys,
        };
        let refused = handle(&TENCENT_STS, &no_region, &settings, now()).unwrap_err();
        assert_eq!(refused.code, "MissingParameter");
    }

    #[test]
    fn roles_are_per_vendor() {
        let wrong_cloud = serde_json::json!({"RoleArn": TENCENT_ROLE, "RoleSessionName": "alice"});
        assert_eq!(
            code(assume(&ALIBABA_STS, wrong_cloud, None)),
            "EntityNotExist.Role"
        );
        let unknown = serde_json::json!({"RoleArn": "qcs::cam::uin/2:roleName/x", "RoleSessionName": "alice"});
        assert_eq!(
            code(assume(&TENCENT_STS, unknown, None)),
            "ResourceNotFound.RoleNotFound"
        );
    }

    #[test]
    fn durations_in_and_out_of_range() {
        let with = |d: serde_json::Value| serde_json::json!({"RoleArn": ALIBABA_ROLE, "RoleSessionName": "alice", "DurationSeconds": d});
        for ok in ["900", "43200"] {
            assert!(assume(&ALIBABA_STS, with(ok.into()), None).is_ok(), "{ok}");
        }
        for bad in ["899", "43201", "soon"] {
            assert_eq!(
                code(assume(&ALIBABA_STS, with(bad.into()), None)),
                "InvalidParameter.DurationSeconds",
                "{bad}"
            );
        }
        let tencent = |d: i64| serde_json::json!({"RoleArn": TENCENT_ROLE, "RoleSessionName": "bob", "DurationSeconds": d});
        assert!(assume(&TENCENT_STS, tencent(60), None).is_ok());
        assert_eq!(
            code(assume(&TENCENT_STS, tencent(43201), None)),
            "InvalidParameter.OverTimeError"
        );
        assert_eq!(
            code(assume(&TENCENT_STS, tencent(0), None)),
            "InvalidParameter.ParamError"
        );
    }

    #[test]
    fn session_names_and_external_ids() {
        let alibaba = |extra: serde_json::Value| {
            let mut params = serde_json::json!({"RoleArn": "acs:ram::1:role/guarded", "RoleSessionName": "alice"});
            if let (Some(p), serde_json::Value::Object(extra)) = (params.as_object_mut(), extra) {
                p.extend(extra);
            }
            assume(&ALIBABA_STS, params, None)
        };
        assert!(alibaba(serde_json::json!({"ExternalId": "abc123"})).is_ok());
        assert_eq!(code(alibaba(serde_json::json!({}))), "NoPermission");
        assert_eq!(
            code(alibaba(serde_json::json!({"ExternalId": "abc124"}))),
            "NoPermission"
        );
        assert_eq!(
            code(alibaba(serde_json::json!({"ExternalId": "a b"}))),
            "InvalidParameter.ExternalId"
        );
        assert_eq!(
            code(alibaba(serde_json::json!({"RoleSessionName": "a"}))),
            "InvalidParameter.RoleSessionName"
        );
        // Without a condition, any external id is fine.
        let any = serde_json::json!({"RoleArn": ALIBABA_ROLE, "RoleSessionName": "alice", "ExternalId": "whatever"});
        assert!(assume(&ALIBABA_STS, any, None).is_ok());
        let missing = serde_json::json!({"RoleArn": ALIBABA_ROLE});
        assert_eq!(
            code(assume(&ALIBABA_STS, missing, None)),
            "MissingParameter"
        );
    }

    #[test]
    fn the_lifetime_cap_shortens_and_expiry_rounds_up() {
        let params = serde_json::json!({"RoleArn": TENCENT_ROLE, "RoleSessionName": "bob"});
        let m = assume(&TENCENT_STS, params, Some(Duration::from_secs(2))).unwrap();
        assert_eq!(m["ExpiredTime"], 1_704_067_200 + 2);
        let t = now() + time::Duration::milliseconds(300);
        let end = expiry(t, Duration::from_secs(1), None);
        assert_eq!(end.unix_timestamp(), 1_704_067_202);
        assert_eq!(
            expiry(
                now(),
                Duration::from_secs(3600),
                Some(Duration::from_secs(7200))
            ),
            now() + time::Duration::HOUR
        );
    }

    #[test]
    fn other_actions_are_unknown() {
        let keys = KeyRing::new(Credentials::new("id", "secret"));
        let mut req = request(Vendor::Alibaba, serde_json::json!({}));
        req.action = "GetCallerIdentity".into();
        let settings = StsSettings {
            roles: &[],
            lifetime_cap: None,
            keys: &keys,
        };
        let refused = handle(&ALIBABA_STS, &req, &settings, now()).unwrap_err();
        assert_eq!(refused.code, "InvalidAction.NotFound");
    }
}
