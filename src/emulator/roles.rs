//! The roles AssumeRole lets callers assume (`--role ARN[,external_id=VALUE]`).
//!
//! The emulator has no RAM or CAM to create roles in, so the roles are configuration: an ARN,
//! and the external id the role's trust policy would demand, if any. The ARN's prefix decides
//! the vendor (`acs:ram::` Alibaba, `qcs::cam::` Tencent), so assuming one vendor's role at the
//! other's STS is "role not found", as it would be at the real service.

use std::fmt;
use std::str::FromStr;

use super::api::Vendor;

/// The Alibaba role configured when none is given.
pub const DEFAULT_ALIBABA_ROLE_ARN: &str = "acs:ram::1000000000000000:role/sshkey-emulator";
/// The Tencent role configured when none is given.
pub const DEFAULT_TENCENT_ROLE_ARN: &str = "qcs::cam::uin/100000000000:roleName/sshkey-emulator";

/// What separates an ARN from its external id in a `--role` value. A Tencent role name may hold
/// commas, so the split is on the whole option name rather than on the first comma.
const EXTERNAL_ID_OPTION: &str = ",external_id=";

/// A role callers may assume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The role's ARN, compared exactly with a request's `RoleArn`.
    pub arn: String,
    /// The `ExternalId` a request must carry to assume it; any (or none) when `None`.
    pub external_id: Option<String>,
}

impl Role {
    /// A role without an external id condition.
    pub fn new(arn: impl Into<String>) -> Self {
        Self {
            arn: arn.into(),
            external_id: None,
        }
    }

    /// The same role, assumable only with `external_id`.
    pub fn with_external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    /// The vendor whose ARN prefix the role has; `None` for neither (never assumable).
    pub fn vendor(&self) -> Option<Vendor> {
        [Vendor::Alibaba, Vendor::Tencent]
            .into_iter()
            .find(|v| self.arn.starts_with(v.sts().role_arn_prefix))
    }

    /// The two default roles, one per vendor, without external ids.
    pub fn defaults() -> Vec<Role> {
        vec![
            Role::new(DEFAULT_ALIBABA_ROLE_ARN),
            Role::new(DEFAULT_TENCENT_ROLE_ARN),
        ]
    }
}

/// Why a `--role` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleParseError {
    /// The ARN has neither vendor's prefix (or nothing after it).
    #[error("role ARN must start with acs:ram:: (Alibaba) or qcs::cam:: (Tencent), got {0:?}")]
    Arn(String),
    /// `external_id=` with nothing after it.
    #[error("empty external_id in {0:?}: leave the option out for a role without one")]
    EmptyExternalId(String),
}

impl FromStr for Role {
    type Err = RoleParseError;

    /// Parses `ARN` or `ARN,external_id=VALUE`.
    fn from_str(item: &str) -> Result<Self, Self::Err> {
        let (arn, external_id) = match item.split_once(EXTERNAL_ID_OPTION) {
            Some((_, "")) => return Err(RoleParseError::EmptyExternalId(item.to_string())),
            Some((arn, id)) => (arn, Some(id.to_string())),
            None => (item, None),
        };
        let role = Role {
            arn: arn.to_string(),
            external_id,
        };
        match role.vendor() {
            Some(v) if arn.len() > v.sts().role_arn_prefix.len() => Ok(role),
            _ => Err(RoleParseError::Arn(arn.to_string())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)?;
        if let Some(id) = &self.external_id {
            write!(f, "{EXTERNAL_ID_OPTION}{id}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arns_and_external_ids() {
        let r: Role = "acs:ram::123:role/ops".parse().unwrap();
        assert_eq!(r, Role::new("acs:ram::123:role/ops"));
        assert_eq!(r.vendor(), Some(Vendor::Alibaba));
        let r: Role = "qcs::cam::uin/1:roleName/a,b,external_id=x,y"
            .parse()
            .unwrap();
        assert_eq!(r.arn, "qcs::cam::uin/1:roleName/a,b");
        assert_eq!(r.external_id.as_deref(), Some("x,y"));
        assert_eq!(r.vendor(), Some(Vendor::Tencent));
        for s in [
            "acs:ram::1:role/x",
            "qcs::cam::uin/1:roleName/y,external_id=z",
        ] {
            assert_eq!(s.parse::<Role>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn refuses_other_prefixes_and_empty_options() {
        for bad in [
            "",
            "arn:aws:iam::1:role/x",
            "acs:ram::",
            "role/x,external_id=y",
        ] {
            assert!(
                matches!(bad.parse::<Role>(), Err(RoleParseError::Arn(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "acs:ram::1:role/x,external_id=".parse::<Role>(),
            Err(RoleParseError::EmptyExternalId(_))
        ));
    }

    #[test]
    fn defaults_cover_both_vendors() {
        let vendors: Vec<Option<Vendor>> = Role::defaults().iter().map(Role::vendor).collect();
        assert_eq!(vendors, [Some(Vendor::Alibaba), Some(Vendor::Tencent)]);
        assert!(Role::defaults().iter().all(|r| r.external_id.is_none()));
    }
}
