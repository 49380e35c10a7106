//! The two STS APIs and the temporary credentials they issue, as data: one table per vendor.
//!
//! Alibaba STS (2015-04-01, `sts.aliyuncs.com`) and Tencent STS (2018-08-13,
//! `sts.tencentcloudapi.com`) both have an `AssumeRole` that takes a role ARN, a session name, a
//! duration and an optional external id, and both then accept the issued key only with its
//! token. They differ in limits, default duration, character rules, the shape of what they
//! issue and every error code, which is what this table holds; the operation
//! ([`super::ops::sts`]) and the token check ([`super::credentials`]) are written once.
//!
//! Where each fact comes from (each `Refusal` says whether its code is documented or a guess):
//!
//! - Alibaba: the AssumeRole API reference (parameters, response, and its error table:
//!   `InvalidParameter.DurationSeconds`, `.ExternalId`, `.RoleSessionName`, 403 `NoPermission`,
//!   404 `EntityNotExist.Role`); the public error centre as terraform-provider-alicloud's
//!   `common_errors.go` lists it and the ECS FaaS docs' table (HTTP 400 with
//!   `InvalidSecurityToken.Expired`, `.Malformed`, `.MismatchWithAccessKey`); the "STS common
//!   errors" page (`MissingSecurityToken`, "SecurityToken is mandatory for this action."); the
//!   RAM notice of 2022-08-29 (AssumeRole 100 requests per second per account).
//! - Tencent: the AssumeRole API page (parameters, "A maximum of 600 requests can be initiated
//!   per second for this API"; default 7200 s, at most 43200 s, no minimum stated);
//!   tencentcloud-sdk-go `sts/v20180813` (`errors.go` and the codes `AssumeRole` may return:
//!   `ResourceNotFound.RoleNotFound`, `InvalidParameter.OverTimeError`,
//!   `InvalidParameter.ParamError`, `UnauthorizedOperation`, `RequestLimitExceeded`); the
//!   common error codes (`AuthFailure.TokenFailure`, `MissingParameter`) and the SDK's
//!   temporary-credential integration test ("Token verification failed, please check if your
//!   Token is correct" for a corrupted token).

use super::api::Vendor;
use super::ids::IdShape;
use super::names::NameRule;
use super::wire::ApiError;

/// One vendor's STS: its AssumeRole and the temporary credentials it issues.
#[derive(Debug)]
pub struct StsProfile {
    /// Which vendor.
    pub vendor: Vendor,
    /// The product code: `sts` in the real host name and in Tencent's TC3 credential scope.
    pub product: &'static str,
    /// API version requests carry.
    pub version: &'static str,
    /// The one action served.
    pub action: &'static str,
    /// How this vendor's role ARNs start; a configured role belongs to the vendor whose prefix
    /// it has.
    pub role_arn_prefix: &'static str,
    /// The region parameter, where every call must name one (Tencent's `X-TC-Region`).
    pub region_param: Option<&'static str>,
    /// `DurationSeconds`: default, shortest and longest.
    pub duration: DurationRule,
    /// `RoleSessionName`'s length and characters.
    pub session_name: NameRule,
    /// `ExternalId`'s length and characters.
    pub external_id: NameRule,
    /// The issued access key id (Alibaba `STS.` ids; Tencent's temporary SecretIds start with
    /// `AKID` like long-term ones).
    pub key_id: IdShape,
    /// The issued secret.
    pub secret: IdShape,
    /// The issued token (both vendors' tokens are long; neither documents a length).
    pub token: IdShape,
    /// Documented per-second limits, enforced unless `--no-builtin-rates`.
    pub builtin_rates: &'static [(&'static str, u32)],
    /// AssumeRole's refusals.
    pub codes: StsCodes,
    /// How a request signed with a temporary key is refused when its token does not fit.
    pub token_codes: TokenCodes,
}

/// The accepted `DurationSeconds`.
#[derive(Debug, Clone, Copy)]
pub struct DurationRule {
    /// When the request gives none.
    pub default: i64,
    /// Shortest accepted.
    pub min: i64,
    /// Longest accepted.
    pub max: i64,
}

/// A refusal with fixed wording: HTTP status (recorded only on Tencent, which answers 200),
/// code and message.
#[derive(Debug, Clone, Copy)]
pub struct Refusal {
    /// HTTP status on Alibaba.
    pub status: u16,
    /// The cloud's error code.
    pub code: &'static str,
    /// The message.
    pub message: &'static str,
}

/// AssumeRole's refusals.
#[derive(Debug)]
pub struct StsCodes {
    /// The role is not one the emulator was configured with (or is the other vendor's).
    pub role_not_found: Refusal,
    /// `RoleSessionName` breaks the length or character rule.
    pub session_name: Refusal,
    /// `DurationSeconds` is not a whole number or below the minimum.
    pub duration_invalid: Refusal,
    /// `DurationSeconds` is above the maximum.
    pub duration_too_long: Refusal,
    /// `ExternalId` breaks the length or character rule.
    pub external_id_malformed: Refusal,
    /// The role requires an `ExternalId` and the request gave none or another one.
    pub external_id_mismatch: Refusal,
    /// Over the rate limit.
    pub throttled: &'static str,
}

/// Why a key's token does not fit, whatever the vendor calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// A temporary key without a token.
    Missing,
    /// A token the emulator never issued.
    Malformed,
    /// A token issued for another key (or any token with the long-term key).
    Mismatch,
    /// The key's own token, past its expiry.
    Expired,
}

/// How each [`TokenProblem`] is answered.
#[derive(Debug)]
pub struct TokenCodes {
    /// A temporary key without a token.
    pub missing: Refusal,
    /// A token the emulator never issued.
    pub malformed: Refusal,
    /// A token of another key.
    pub mismatch: Refusal,
    /// An expired token.
    pub expired: Refusal,
}

impl Refusal {
    /// The refusal as the error the call is answered with.
    pub(crate) fn error(&self) -> ApiError {
        ApiError::new(self.status, self.code, self.message)
    }
}

impl TokenCodes {
    /// The refusal for `problem`.
    pub(crate) fn of(&self, problem: TokenProblem) -> Refusal {
        match problem {
            TokenProblem::Missing => self.missing,
            TokenProblem::Malformed => self.malformed,
            TokenProblem::Mismatch => self.mismatch,
            TokenProblem::Expired => self.expired,
        }
    }
}

impl StsProfile {
    /// The documented limit of `action` in requests per second, if any.
    pub(crate) fn builtin_rate(&self, action: &str) -> Option<u32> {
        self.builtin_rates
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, n)| *n)
    }
}

/// Letters, digits and the punctuation a rule lists; no first-letter rule, no prefixes.
const fn plain_rule(min_len: usize, max_len: usize, punctuation: &'static str) -> NameRule {
    NameRule {
        min_len,
        max_len,
        first_letter: false,
        chinese: false,
        punctuation,
        refused_prefixes: &[],
        empty_is_own_violation: false,
    }
}

/// Random alphanumerics (what the emulator issues needs no particular alphabet, only to be
/// header- and query-safe).
const fn random(prefix: &'static str, len: usize) -> IdShape {
    IdShape { prefix, len }
}

/// Alibaba STS 2015-04-01.
pub(crate) static ALIBABA_STS: StsProfile = StsProfile {
    vendor: Vendor::Alibaba,
    product: "sts",
    version: "2015-04-01",
    action: "AssumeRole",
    role_arn_prefix: "acs:ram::",
    region_param: None,
    // The maximum is the role's MaxSessionDuration, which the emulator's roles set to its
    // largest value; the real default for a new role is 3600.
    duration: DurationRule {
        default: 3600,
        min: 900,
        max: 43200,
    },
    // "2 to 64 characters ... letters, digits, and the following special characters: . @ - _".
    session_name: plain_rule(2, 64, ".@-_"),
    // "2 to 1,224 characters", `[\w+=,.@:\/-]*`.
    external_id: plain_rule(2, 1224, "_+=,.@:/-"),
    key_id: random("STS.", 24),
    secret: random("", 44),
    token: random("", 400),
    builtin_rates: &[("AssumeRole", 100)],
    codes: StsCodes {
        role_not_found: Refusal {
            status: 404,
            code: "EntityNotExist.Role",
            // Verbatim from the API reference's error table, space included.
            message: "The specified Role not exists .",
        },
        session_name: Refusal {
            status: 400,
            code: "InvalidParameter.RoleSessionName",
            message: "The parameter RoleSessionName is wrongly formed.",
        },
        duration_invalid: ALIBABA_DURATION,
        duration_too_long: ALIBABA_DURATION,
        external_id_malformed: Refusal {
            status: 400,
            code: "InvalidParameter.ExternalId",
            message: "The parameter ExternalId is wrongly formed.",
        },
        // Best guess: a wrong ExternalId fails the role's trust policy (its `sts:ExternalId`
        // condition), and the documents answer a trust policy that does not let the caller in
        // with this code and message.
        external_id_mismatch: Refusal {
            status: 403,
            code: "NoPermission",
            message: "You are not authorized to do this action. You should be authorized by RAM.",
        },
        // Best guess: the notice only says "Throttling errors"; this is the code of Alibaba's
        // per-account flow control elsewhere.
        throttled: "Throttling.User",
    },
    token_codes: TokenCodes {
        // The code and message are documented; the status is a best guess (the public error
        // centre's other token errors are 400).
        missing: Refusal {
            status: 400,
            code: "MissingSecurityToken",
            message: "SecurityToken is mandatory for this action.",
        },
        malformed: Refusal {
            status: 400,
            code: "InvalidSecurityToken.Malformed",
            message: "Specified SecurityToken is malformed.",
        },
        mismatch: Refusal {
            status: 400,
            code: "InvalidSecurityToken.MismatchWithAccessKey",
            message: "Specified SecurityToken mismatch with the AccessKey.",
        },
        expired: Refusal {
            status: 400,
            code: "InvalidSecurityToken.Expired",
            message: "Specified SecurityToken is expired.",
        },
    },
};

// The documented message names the default MaxSessionDuration (1 h); the emulator's roles
// allow 12 h, so its message says so.
const ALIBABA_DURATION: Refusal = Refusal {
    status: 400,
    code: "InvalidParameter.DurationSeconds",
    message: "The Min/Max value of DurationSeconds is 15min/12hr.",
};

/// Tencent STS 2018-08-13.
pub(crate) static TENCENT_STS: StsProfile = StsProfile {
    vendor: Vendor::Tencent,
    product: "sts",
    version: "2018-08-13",
    action: "AssumeRole",
    role_arn_prefix: "qcs::cam::",
    region_param: Some("Region"),
    // No minimum is documented; a duration must at least be positive.
    duration: DurationRule {
        default: 7200,
        min: 1,
        max: 43200,
    },
    // "2 to 128 ... letters, digits, and symbols (=,.@-)", `[\w+=,.@_-]*`.
    session_name: plain_rule(2, 128, "_+=,.@-"),
    // "2 to 128", `[\w+=,.@:\/-]*`.
    external_id: plain_rule(2, 128, "_+=,.@:/-"),
    key_id: random("AKID", 60),
    secret: random("", 44),
    token: random("", 400),
    builtin_rates: &[("AssumeRole", 600)],
    codes: StsCodes {
        role_not_found: Refusal {
            status: 400,
            code: "ResourceNotFound.RoleNotFound",
            message: "The role corresponding to the account does not exist.",
        },
        // Best guess: the SDK lists InvalidParameter.ParamError ("Invalid parameter") for
        // AssumeRole without saying which parameters it covers.
        session_name: Refusal {
            status: 400,
            code: "InvalidParameter.ParamError",
            message: "Invalid parameter: RoleSessionName must be 2-128 letters, digits or =,.@_-+.",
        },
        duration_invalid: Refusal {
            status: 400,
            code: "InvalidParameter.ParamError",
            message: "Invalid parameter: DurationSeconds must be a positive whole number.",
        },
        duration_too_long: Refusal {
            status: 400,
            code: "InvalidParameter.OverTimeError",
            message: "The expiration time exceeds the threshold.",
        },
        external_id_malformed: Refusal {
            status: 400,
            code: "InvalidParameter.ParamError",
            message: "Invalid parameter: ExternalId must be 2-128 letters, digits or =,.@:/_-+.",
        },
        // Best guess: the external id is a trust policy condition, and a call the trust policy
        // does not allow is an unauthorized operation.
        external_id_mismatch: Refusal {
            status: 400,
            code: "UnauthorizedOperation",
            message: "Unauthorized operation: the role's trust policy requires another ExternalId.",
        },
        throttled: "RequestLimitExceeded",
    },
    // Tencent documents one token code. Only the corrupted token's message is confirmed (the
    // SDK's integration test); the others are worded here.
    token_codes: TokenCodes {
        missing: Refusal {
            status: 401,
            code: "AuthFailure.TokenFailure",
            message: "Token verification failed: temporary credentials need their X-TC-Token.",
        },
        malformed: Refusal {
            status: 401,
            code: "AuthFailure.TokenFailure",
            message: "Token verification failed, please check if your Token is correct",
        },
        mismatch: Refusal {
            status: 401,
            code: "AuthFailure.TokenFailure",
            message: "Token verification failed: the token does not belong to this SecretId.",
        },
        expired: Refusal {
            status: 401,
            code: "AuthFailure.TokenFailure",
            message: "Token verification failed: the token has expired.",
        },
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::names::NameViolation;

    #[test]
    fn session_names() {
        let a = &ALIBABA_STS.session_name;
        assert_eq!(a.check("alice"), Ok(()));
        assert_eq!(a.check("a.b@c-d_e"), Ok(()));
        assert_eq!(a.check("a"), Err(NameViolation::Length));
        assert_eq!(a.check(&"a".repeat(64)), Ok(()));
        assert_eq!(a.check(&"a".repeat(65)), Err(NameViolation::Length));
        assert_eq!(a.check("a=b"), Err(NameViolation::Characters));
        assert_eq!(a.check("a b"), Err(NameViolation::Characters));
        let t = &TENCENT_STS.session_name;
        assert_eq!(t.check("a=b,c+d"), Ok(()));
        assert_eq!(t.check(&"a".repeat(128)), Ok(()));
        assert_eq!(t.check(&"a".repeat(129)), Err(NameViolation::Length));
        assert_eq!(t.check("a:b"), Err(NameViolation::Characters));
    }

    #[test]
    fn issued_shapes_differ_per_vendor() {
        assert!(ALIBABA_STS.key_id.random().starts_with("STS."));
        assert!(TENCENT_STS.key_id.random().starts_with("AKID"));
        for p in [&ALIBABA_STS, &TENCENT_STS] {
            assert!(p.token.random().len() >= 400);
            assert!(p.duration.min <= p.duration.default && p.duration.default <= p.duration.max);
            assert_eq!(p.vendor.sts().vendor, p.vendor);
        }
    }

    #[test]
    fn token_problems_map_to_codes() {
        let a = &ALIBABA_STS.token_codes;
        assert_eq!(a.of(TokenProblem::Missing).code, "MissingSecurityToken");
        assert_eq!(
            a.of(TokenProblem::Expired).code,
            "InvalidSecurityToken.Expired"
        );
        assert_eq!(
            TENCENT_STS.token_codes.of(TokenProblem::Mismatch).code,
            "AuthFailure.TokenFailure"
        );
    }
}
