//! Per-cloud differences as data: versions, limits, id formats, name rules and error codes.
//!
//! The three key-pair APIs do the same things with different names, limits and error codes.
//! Keeping those differences in one table per cloud lets the operations in [`super::ops`] be
//! written once; only the response shapes, which really differ in structure, are rendered per
//! cloud.

use serde::{Deserialize, Serialize};

use super::keys::PrivateKeyFormat;
use super::wire::ListEncoding;

/// The three emulated endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Alibaba Cloud ECS, API 2014-05-26.
    Ecs,
    /// Alibaba Cloud ENS, API 2017-11-10.
    Ens,
    /// Tencent Cloud CVM, API 2017-03-12.
    Cvm,
}

impl Cloud {
    /// Every cloud, in a stable order.
    pub const ALL: [Cloud; 3] = [Cloud::Ecs, Cloud::Ens, Cloud::Cvm];

    /// Lower-case name as used in the admin API.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Ecs => "ecs",
            Cloud::Ens => "ens",
            Cloud::Cvm => "cvm",
        }
    }

    /// Parses `ecs`, `ens` or `cvm`.
    pub fn parse(s: &str) -> Option<Cloud> {
        Cloud::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The Alibaba cloud whose API version is `version` (`None` for unknown versions).
    pub fn alibaba_by_version(version: &str) -> Option<Cloud> {
        match version {
            "2014-05-26" => Some(Cloud::Ecs),
            "2017-11-10" => Some(Cloud::Ens),
            _ => None,
        }
    }

    /// Whether this cloud speaks the Alibaba wire format (errors with HTTP statuses).
    pub fn is_alibaba(self) -> bool {
        !matches!(self, Cloud::Cvm)
    }

    /// The static profile of this cloud.
    pub fn profile(self) -> &'static Profile {
        match self {
            Cloud::Ecs => &ECS,
            Cloud::Ens => &ENS,
            Cloud::Cvm => &CVM,
        }
    }
}

/// How a key-pair name is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// 2-128 chars, starts with a letter, letters digits `:` `_` `-`, not `http(s)://`; with
    /// `chinese`, Chinese characters count as letters (ECS's Chinese CreateKeyPair document;
    /// ENS's documents, in every language, say an English letter).
    Alibaba {
        /// Chinese characters are allowed, first or anywhere.
        chinese: bool,
    },
    /// 1-25 chars of letters, digits and `_`.
    Tencent,
}

impl NameRule {
    /// Checks `name`; on failure returns which rule it broke, for the cloud's error code.
    pub fn check(self, name: &str) -> Result<(), NameViolation> {
        match self {
            NameRule::Alibaba { chinese } => {
                let len = name.chars().count();
                if !(2..=128).contains(&len) {
                    return Err(NameViolation::Length);
                }
                if name.starts_with("http://") || name.starts_with("https://") {
                    return Err(NameViolation::Characters);
                }
                let letter = |c: char| c.is_ascii_alphabetic() || (chinese && is_chinese(c));
                let mut chars = name.chars();
                let first_ok = chars.next().is_some_and(letter);
                let rest_ok =
                    chars.all(|c| letter(c) || c.is_ascii_digit() || matches!(c, ':' | '_' | '-'));
                if first_ok && rest_ok {
                    Ok(())
                } else {
                    Err(NameViolation::Characters)
                }
            }
            NameRule::Tencent => {
                if name.is_empty() {
                    return Err(NameViolation::Empty);
                }
                if name.chars().count() > 25 {
                    return Err(NameViolation::Length);
                }
                if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    Ok(())
                } else {
                    Err(NameViolation::Characters)
                }
            }
        }
    }
}

/// A CJK ideograph (the unified block, extension A and the compatibility block).
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

/// Which name rule a name broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameViolation {
    /// Empty name.
    Empty,
    /// Too short or too long.
    Length,
    /// A character (or prefix) that is not allowed.
    Characters,
}

/// The static description of one cloud's key-pair API.
#[derive(Debug)]
pub struct Profile {
    /// Which cloud.
    pub cloud: Cloud,
    /// API version string the requests carry.
    pub version: &'static str,
    /// Whether key pairs live per region (ECS, CVM) or once per account (ENS).
    pub regional_keys: bool,
    /// Most key pairs one DeleteKeyPairs call may name.
    pub delete_max: usize,
    /// Most instances one attach/detach call may name.
    pub bind_instances_max: usize,
    /// Most key ids one (dis)associate call may name (CVM only).
    pub bind_keys_max: usize,
    /// Most items one DescribeKeyPairs page may hold (`PageSize` / `Limit`).
    pub page_max: usize,
    /// Whether DescribeKeyPairs `KeyPairName` takes `*` wildcards (ECS) or one exact name
    /// (ENS; CVM filters by `key-name` instead).
    pub name_wildcards: bool,
    /// Whether attach/detach needs stopped instances (ENS; CVM unless ForceStop).
    pub bind_needs_stopped: bool,
    /// Name validation.
    pub name_rule: NameRule,
    /// How the private half of a generated key comes back.
    pub private_key: PrivateKeyFormat,
    /// How list parameters are encoded.
    pub lists: ListEncoding,
    /// The documented per-action request limits (requests per second), enforced unless
    /// `--no-builtin-rates`. Empty for ECS and ENS, whose quotas are per account and unpublished.
    pub builtin_rates: &'static [(&'static str, u32)],
    /// Error codes.
    pub codes: Codes,
}

/// One cloud's error codes for the situations the emulator models.
#[derive(Debug)]
pub struct Codes {
    /// Name breaks the character rules (or is empty on Alibaba).
    pub name_invalid: &'static str,
    /// Name too long (or too short on Alibaba).
    pub name_length: &'static str,
    /// Name is empty (Tencent has its own code).
    pub name_empty: &'static str,
    /// Create/import of a name that already exists.
    pub duplicate: &'static str,
    /// Key pair referenced by name or id does not exist.
    pub key_not_found: &'static str,
    /// Import body is not an OpenSSH public key.
    pub public_key_invalid: &'static str,
    /// Too many key pairs in one delete.
    pub delete_limit: &'static str,
    /// Too many instances (or key ids) in one bind call.
    pub bind_limit: &'static str,
    /// Instance id does not exist.
    pub instance_not_found: &'static str,
    /// Windows instances cannot take SSH keys.
    pub windows: &'static str,
    /// Instance not in the state the call needs.
    pub instance_state: &'static str,
    /// Throttled.
    pub throttled: &'static str,
    /// A page size above the limit.
    pub page_size: &'static str,
}

/// ECS 2014-05-26.
pub static ECS: Profile = Profile {
    cloud: Cloud::Ecs,
    version: "2014-05-26",
    regional_keys: true,
    delete_max: 100,
    bind_instances_max: 50,
    bind_keys_max: 1,
    page_max: 50,
    name_wildcards: true,
    bind_needs_stopped: false,
    name_rule: NameRule::Alibaba { chinese: true },
    private_key: PrivateKeyFormat::RsaPem,
    lists: ListEncoding::JsonString,
    builtin_rates: &[],
    codes: Codes {
        name_invalid: "InvalidKeyPairName.Malformed",
        name_length: "InvalidKeyPairName.Malformed",
        name_empty: "MissingParameter",
        duplicate: "KeyPair.AlreadyExist",
        key_not_found: "InvalidKeyPairName.NotFound",
        public_key_invalid: "InvalidPublicKeyBody.Malformed",
        delete_limit: "InstanceKeyPairLimitExceeded",
        bind_limit: "InstanceKeyPairLimitExceeded",
        instance_not_found: "InvalidInstanceId.NotFound",
        windows: "DependencyViolation.WindowsInstance",
        instance_state: "IncorrectInstanceStatus",
        throttled: "Throttling.User",
        page_size: "InvalidParameter.PageSize",
    },
};

/// ENS 2017-11-10.
pub static ENS: Profile = Profile {
    cloud: Cloud::Ens,
    version: "2017-11-10",
    regional_keys: false,
    delete_max: 1,
    bind_instances_max: 30,
    bind_keys_max: 1,
    page_max: 50,
    name_wildcards: false,
    bind_needs_stopped: true,
    name_rule: NameRule::Alibaba { chinese: false },
    private_key: PrivateKeyFormat::Pkcs8Pem,
    lists: ListEncoding::JsonString,
    builtin_rates: &[],
    codes: Codes {
        name_invalid: "InvalidParameter.KeyPairName",
        name_length: "InvalidParameter.KeyPairName",
        name_empty: "MissingParameter",
        duplicate: "PubKeyNameExisted",
        key_not_found: "PubKeyNameNotExist",
        public_key_invalid: "InvalidPubKeyBody",
        delete_limit: "InvalidParameter",
        bind_limit: "InvalidParameter.InstanceIds",
        instance_not_found: "InstanceNotFound",
        windows: "InvalidParameter.OsType",
        instance_state: "IncorrectInstanceStatus",
        throttled: "Throttling.User",
        page_size: "InvalidParameter.PageSize",
    },
};

/// CVM 2017-03-12.
pub static CVM: Profile = Profile {
    cloud: Cloud::Cvm,
    version: "2017-03-12",
    regional_keys: true,
    delete_max: 100,
    bind_instances_max: 100,
    bind_keys_max: 100,
    page_max: 100,
    name_wildcards: false,
    bind_needs_stopped: true,
    name_rule: NameRule::Tencent,
    private_key: PrivateKeyFormat::OpenSsh,
    lists: ListEncoding::Array,
    // The "Frequency Limit" table of the CVM API: every API has one.
    builtin_rates: &[
        ("DescribeKeyPairs", 10),
        ("CreateKeyPair", 10),
        ("ImportKeyPair", 10),
        ("DeleteKeyPairs", 10),
        ("AssociateInstancesKeyPairs", 10),
        ("DisassociateInstancesKeyPairs", 10),
        ("DescribeInstances", 40),
    ],
    codes: Codes {
        name_invalid: "InvalidKeyPairNameIncludeIllegalChar",
        name_length: "InvalidKeyPairNameTooLong",
        name_empty: "InvalidKeyPairNameEmpty",
        duplicate: "InvalidKeyPairName.Duplicate",
        key_not_found: "InvalidKeyPairId.NotFound",
        public_key_invalid: "InvalidPublicKey.Malformed",
        delete_limit: "InvalidKeyPair.LimitExceeded",
        bind_limit: "InvalidParameterValue.LimitExceeded",
        instance_not_found: "InvalidInstanceId.NotFound",
        windows: "InvalidParameterValue.KeyPairNotSupported",
        instance_state: "UnsupportedOperation.InstanceStateRunning",
        throttled: "RequestLimitExceeded",
        page_size: "InvalidParameterValue.LimitExceeded",
    },
};

impl Profile {
    /// The documented limit of `action` in requests per second, if this cloud publishes one.
    pub fn builtin_rate(&self, action: &str) -> Option<u32> {
        self.builtin_rates
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, n)| *n)
    }
}

/// Whether `id` has CVM's `skey-` + 8 lower-case alphanumerics shape.
pub fn is_cvm_key_id(id: &str) -> bool {
    has_suffix_shape(id, "skey-")
}

/// Whether `id` has CVM's `ins-` + 8 lower-case alphanumerics shape.
pub fn is_cvm_instance_id(id: &str) -> bool {
    has_suffix_shape(id, "ins-")
}

fn has_suffix_shape(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 8
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alibaba_names() {
        let r = NameRule::Alibaba { chinese: false };
        assert_eq!(r.check("ab"), Ok(()));
        assert_eq!(r.check("a:b_c-d9"), Ok(()));
        assert_eq!(r.check("a"), Err(NameViolation::Length));
        assert_eq!(r.check(&"a".repeat(129)), Err(NameViolation::Length));
        assert_eq!(r.check(&"a".repeat(128)), Ok(()));
        assert_eq!(r.check("9ab"), Err(NameViolation::Characters));
        assert_eq!(r.check("a b"), Err(NameViolation::Characters));
        assert_eq!(r.check("https://x"), Err(NameViolation::Characters));
    }

    #[test]
    fn chinese_names_on_ecs_only() {
        let ecs = NameRule::Alibaba { chinese: true };
        assert_eq!(ecs.check("密钥对ab"), Ok(()));
        assert_eq!(ecs.check("ab密钥"), Ok(()));
        assert_eq!(ecs.check("密"), Err(NameViolation::Length));
        assert_eq!(ecs.check("9密钥"), Err(NameViolation::Characters));
        assert_eq!(ecs.check("密钥😀"), Err(NameViolation::Characters));
        let ens = NameRule::Alibaba { chinese: false };
        assert_eq!(ens.check("密钥对ab"), Err(NameViolation::Characters));
    }

    #[test]
    fn tencent_names() {
        let r = NameRule::Tencent;
        assert_eq!(r.check("key_1"), Ok(()));
        assert_eq!(r.check(""), Err(NameViolation::Empty));
        assert_eq!(r.check(&"a".repeat(26)), Err(NameViolation::Length));
        assert_eq!(r.check("a-b"), Err(NameViolation::Characters));
    }

    #[test]
    fn builtin_rate_table() {
        for action in [
            "DescribeKeyPairs",
            "CreateKeyPair",
            "ImportKeyPair",
            "DeleteKeyPairs",
            "AssociateInstancesKeyPairs",
            "DisassociateInstancesKeyPairs",
        ] {
            assert_eq!(CVM.builtin_rate(action), Some(10), "{action}");
        }
        assert_eq!(CVM.builtin_rate("DescribeInstances"), Some(40));
        assert_eq!(CVM.builtin_rate("RunInstances"), None);
        assert!(ECS.builtin_rates.is_empty() && ENS.builtin_rates.is_empty());
        assert_eq!(ECS.builtin_rate("DescribeKeyPairs"), None);
    }

    #[test]
    fn ids() {
        assert!(is_cvm_key_id("skey-mv9yzyjj"));
        assert!(!is_cvm_key_id("skey-1122"));
        assert!(!is_cvm_key_id("skey-MV9YZYJJ"));
        assert!(is_cvm_instance_id("ins-abcd1234"));
        assert!(!is_cvm_instance_id("i-abcd1234"));
        assert_eq!(Cloud::parse("ens"), Some(Cloud::Ens));
        assert_eq!(Cloud::alibaba_by_version("2017-11-10"), Some(Cloud::Ens));
    }
}
