//! Per-cloud limits and naming rules, as data.
//!
//! The provider validates at plan time with exactly the rules the clients enforce, and the
//! coalescer chunks with exactly the limits the APIs accept, so both read them from here. The
//! rules are tables rather than code per cloud: adding a cloud means adding a row.

use super::CloudKind;

/// API limits of one cloud: batch sizes, page sizes, documented request rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most key pairs one DeleteKeyPairs call accepts.
    pub delete_batch: usize,
    /// Most instances one attach/detach call accepts.
    pub bind_batch: usize,
    /// Page size used for DescribeKeyPairs listings (the API maximum).
    pub describe_page: usize,
    /// Most key pairs one DescribeKeyPairs lookup can name: CVM `KeyIds.N`; ECS and ENS take
    /// one name or id per call.
    pub lookup_batch: usize,
    /// Most instance ids one DescribeInstances call takes (CVM `InstanceIds.N`, ECS/ENS the
    /// `InstanceIds` JSON array).
    pub instance_batch: usize,
    /// How a read-ahead listing can be narrowed to the keys a workspace is likely to read.
    pub read_ahead: ReadAhead,
    /// How DescribeInstances names the key pair an instance holds.
    pub instance_key: InstanceKey,
    /// Whether a listing reports public keys: where it never does (ENS), import and refresh
    /// recognise a key by its fingerprint instead.
    pub public_key_listed: PublicKeyListed,
    /// What an import takes, in words, and the prefix of a key id when it is not the name.
    pub key_id_shape: (&'static str, Option<&'static str>),
    /// Whether a key can be bound to a running instance: ECS yes (it takes effect at the next
    /// reboot), ENS no, CVM only with `ForceStop`.
    pub bind_running: BindRunning,
    /// Documented requests per second, per action. An action not listed has no published
    /// limit: it is paced only after the cloud throttles it.
    pub rates: &'static [(&'static str, u32)],
    /// The security token service that issues this cloud's temporary credentials.
    pub sts: &'static Sts,
    /// The optional `sshkey_key_pair` attributes this cloud has (`tags`, `resource_group_id`,
    /// `project_id`); setting another is refused at plan time.
    pub key_attributes: &'static [&'static str],
    /// How tags of an existing key pair are changed in place; `None` where key pairs have no
    /// tags (ENS).
    pub tagging: Option<&'static Tagging>,
    /// The action that moves a key pair to another resource group, where there is one (ECS
    /// JoinResourceGroup). Without one `resource_group_id` forces a replacement.
    pub join_resource_group: Option<&'static str>,
}

/// How a cloud changes the tags of an existing key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagging {
    /// Adds or overwrites tags.
    pub tag_action: &'static str,
    /// Removes tags by key.
    pub untag_action: &'static str,
    /// Most tags (or tag keys) one call takes: ECS `Tag.N` 1..20, Tencent `Tags.N` 0..9.
    pub tags_per_call: usize,
    /// Which API the calls go to.
    pub via: TagVia,
}

/// Where tag edits are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagVia {
    /// The key-pair API itself, naming the key pair by `ResourceId.N` and `ResourceType`.
    KeyPairApi {
        /// `ResourceType` of key pairs (`keypair`).
        resource_type: &'static str,
    },
    /// A tag service of its own (Tencent's Tag API), naming resources by six-segment names.
    Service(&'static TagService),
}

/// A vendor's tag service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagService {
    /// Service name in the credential scope (TC3).
    pub service: &'static str,
    /// API version.
    pub version: &'static str,
    /// The public endpoint.
    pub default_endpoint: &'static str,
    /// A key pair's resource name, `{region}` and `{id}` filled in. The account segment is
    /// left empty (`uin/`), which the service reads as the caller's own account: a key pair's
    /// owner uin is not known to the provider (the official tencentcloud provider does the
    /// same).
    pub key_pair_resource: &'static str,
    /// Documented requests per second, per action.
    pub rates: &'static [(&'static str, u32)],
}

impl TagService {
    /// The six-segment resource name of key pair `id` in `region`.
    pub fn resource_name(&self, region: &str, id: &str) -> String {
        self.key_pair_resource
            .replace("{region}", region)
            .replace("{id}", id)
    }
}

/// ECS 2014-05-26 TagResources / UntagResources: `Tag.N` and `TagKey.N` with N in 1..20; ECS
/// publishes no per-second limits.
pub(crate) static ECS_TAGGING: Tagging = Tagging {
    tag_action: "TagResources",
    untag_action: "UntagResources",
    tags_per_call: 20,
    via: TagVia::KeyPairApi {
        resource_type: "keypair",
    },
};

/// Tencent Cloud Tag API 2018-08-13 (`tag.tencentcloudapi.com`): TagResources and
/// UnTagResources, `Tags.N` / `TagKeys.N` with N in 0..9, 20 requests per second each.
pub(crate) static TENCENT_TAG_SERVICE: TagService = TagService {
    service: "tag",
    version: "2018-08-13",
    default_endpoint: "https://tag.tencentcloudapi.com/",
    key_pair_resource: "qcs::cvm:{region}:uin/:keypair/{id}",
    rates: &[("TagResources", 20), ("UnTagResources", 20)],
};

pub(crate) static CVM_TAGGING: Tagging = Tagging {
    tag_action: "TagResources",
    untag_action: "UnTagResources",
    tags_per_call: 10,
    via: TagVia::Service(&TENCENT_TAG_SERVICE),
};

/// Facts of a security token service: how to reach AssumeRole and what it accepts, so the
/// provider block is checked at plan time with the rules the service applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sts {
    /// API version of AssumeRole.
    pub version: &'static str,
    /// Service name in the credential scope (TC3); empty where the scheme has none.
    pub service: &'static str,
    /// The public endpoint.
    pub default_endpoint: &'static str,
    /// Every role ARN starts with this.
    pub role_arn_prefix: &'static str,
    /// An example role ARN, for error messages.
    pub role_arn_example: &'static str,
    /// Accepted `DurationSeconds`, and the service's default.
    pub duration_secs: (u64, u64),
    pub default_duration_secs: u64,
    /// `RoleSessionName` length in characters, and the punctuation it may hold besides
    /// ASCII letters, digits and `_`.
    pub session_name_len: (usize, usize),
    pub session_name_punctuation: &'static str,
    /// Documented requests per second, per action.
    pub rates: &'static [(&'static str, u32)],
}

/// Alibaba Cloud STS 2015-04-01 (ECS and ENS). DurationSeconds: 900 up to the role's maximum
/// session duration, at most 43200; STS answers up to 100 requests per second.
pub(crate) static ALIBABA_STS: Sts = Sts {
    version: "2015-04-01",
    service: "",
    default_endpoint: "https://sts.aliyuncs.com/",
    role_arn_prefix: "acs:ram::",
    role_arn_example: "acs:ram::123456789012****:role/example",
    duration_secs: (900, 43200),
    default_duration_secs: 3600,
    session_name_len: (2, 64),
    session_name_punctuation: ".@-",
    rates: &[("AssumeRole", 100)],
};

/// Tencent Cloud STS 2018-08-13 (CVM): DurationSeconds at most 43200 (default 7200; no
/// documented minimum), 600 AssumeRole requests per second.
pub(crate) static TENCENT_STS: Sts = Sts {
    version: "2018-08-13",
    service: "sts",
    default_endpoint: "https://sts.tencentcloudapi.com/",
    role_arn_prefix: "qcs::cam::",
    role_arn_example: "qcs::cam::uin/12345678:roleName/example",
    duration_secs: (1, 43200),
    default_duration_secs: 7200,
    session_name_len: (2, 128),
    session_name_punctuation: "+=,.@-",
    rates: &[("AssumeRole", 600)],
};

impl Sts {
    /// Why `name` is no valid RoleSessionName, if it is not.
    pub(crate) fn session_name_problem(&self, name: &str) -> Option<String> {
        let (min, max) = self.session_name_len;
        let len = name.chars().count();
        if !(min..=max).contains(&len) {
            return Some(format!(
                "must be {min} to {max} characters long; it has {len}"
            ));
        }
        let bad: String = name
            .chars()
            .filter(|c| {
                !(c.is_ascii_alphanumeric()
                    || *c == '_'
                    || self.session_name_punctuation.contains(*c))
            })
            .collect();
        (!bad.is_empty()).then(|| {
            format!(
                "may hold only letters, digits, `_` and `{}`; {bad:?} is not allowed",
                self.session_name_punctuation
            )
        })
    }
}

/// What a listing of key pairs can be narrowed by, which decides whether reading ahead pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAhead {
    /// Plain pages of the whole region; lookups batch many ids, so pages are paid from the calls
    /// the batching saves (CVM).
    Unfiltered,
    /// A `*` name pattern (ECS `KeyPairName`): pages of the names sharing the workspace's prefix.
    NamePattern,
    /// No narrowing and one key per lookup (ENS): a listing would be a gamble on other
    /// accounts' keys, so every read is a lookup.
    Never,
}

/// When DescribeKeyPairs reports a key pair's public key (as `PublicKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKeyListed {
    /// Never (ENS).
    Never,
    /// When the request sets this parameter to `true` (ECS `IncludePublicKey`).
    OnRequest(&'static str),
    /// Always (CVM).
    Always,
}

/// Whether attach and detach take running instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindRunning {
    /// Running instances are fine.
    Yes,
    /// Only with `ForceStop` (the attachment's `force_stop`).
    WithForceStop,
    /// Instances must be stopped first.
    No,
}

/// How an instance listing refers to the key pair an instance holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceKey {
    /// By name (ECS and ENS `KeyPairName`).
    Name,
    /// By id (CVM `LoginSettings.KeyIds`).
    Id,
}

impl Limits {
    /// The documented rate of `action`, if any.
    pub fn rate(&self, action: &str) -> Option<u32> {
        self.rates
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, n)| *n)
    }

    /// The largest `max_read_batch`: the bigger of a lookup and a listing page.
    pub(crate) fn read_batch(&self) -> usize {
        self.lookup_batch.max(self.describe_page)
    }
}

pub(crate) static ECS_LIMITS: Limits = Limits {
    delete_batch: 100,
    bind_batch: 50,
    describe_page: 50,
    lookup_batch: 1,
    instance_batch: 100,
    read_ahead: ReadAhead::NamePattern,
    instance_key: InstanceKey::Name,
    public_key_listed: PublicKeyListed::OnRequest("IncludePublicKey"),
    bind_running: BindRunning::Yes,
    key_id_shape: ("the key pair name", None),
    // ECS throttles per account and API with quotas shown only in the account's console.
    rates: &[],
    sts: &ALIBABA_STS,
    key_attributes: &["tags", "resource_group_id"],
    tagging: Some(&ECS_TAGGING),
    join_resource_group: Some("JoinResourceGroup"),
};
pub(crate) static ENS_LIMITS: Limits = Limits {
    delete_batch: 1,
    bind_batch: 30,
    describe_page: 50,
    lookup_batch: 1,
    instance_batch: 100,
    read_ahead: ReadAhead::Never,
    instance_key: InstanceKey::Name,
    public_key_listed: PublicKeyListed::Never,
    bind_running: BindRunning::No,
    key_id_shape: ("the key pair id (ssh-...)", Some("ssh-")),
    rates: &[],
    sts: &ALIBABA_STS,
    key_attributes: &[],
    tagging: None,
    join_resource_group: None,
};
/// CVM's "Frequency Limit" page documents a per-second limit for every API.
pub(crate) static CVM_LIMITS: Limits = Limits {
    delete_batch: 100,
    bind_batch: 100,
    describe_page: 100,
    lookup_batch: 100,
    instance_batch: 100,
    read_ahead: ReadAhead::Unfiltered,
    instance_key: InstanceKey::Id,
    public_key_listed: PublicKeyListed::Always,
    bind_running: BindRunning::WithForceStop,
    key_id_shape: ("the key id (skey-...)", Some("skey-")),
    rates: &[
        ("CreateKeyPair", 10),
        ("ImportKeyPair", 10),
        ("DescribeKeyPairs", 10),
        ("DeleteKeyPairs", 10),
        ("AssociateInstancesKeyPairs", 10),
        ("DisassociateInstancesKeyPairs", 10),
        ("DescribeInstances", 40),
    ],
    sts: &TENCENT_STS,
    // CVM has no call that moves a key pair between projects (ModifyKeyPairAttribute changes
    // only the name and description), so `project_id` forces a replacement.
    key_attributes: &["tags", "project_id"],
    tagging: Some(&CVM_TAGGING),
    join_resource_group: None,
};

/// A key pair name rule, described as data so errors can quote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameRule {
    /// Shortest allowed name, in characters.
    pub min_len: usize,
    /// Longest allowed name, in characters.
    pub max_len: usize,
    /// The first character must be a letter.
    pub first_letter: bool,
    /// Chinese characters count as letters (ECS: "English or Chinese characters, starting with
    /// a letter or a Chinese character").
    pub chinese: bool,
    /// Punctuation allowed besides ASCII letters and digits.
    pub extra_chars: &'static str,
    /// Prefixes a name may not start with, as the documents spell them (lower case); a name
    /// starting `HTTP://` is refused for its `/` instead.
    pub forbidden_prefixes: &'static [&'static str],
    /// The rule in words, for error details.
    pub description: &'static str,
}

/// ECS's Chinese CreateKeyPair document allows Chinese characters, first or anywhere.
pub(crate) static ECS_NAME_RULE: NameRule = NameRule {
    min_len: 2,
    max_len: 128,
    first_letter: true,
    chinese: true,
    extra_chars: ":_-",
    forbidden_prefixes: &["http://", "https://"],
    description: "2-128 characters, starting with a letter or a Chinese character, containing only letters, Chinese characters, digits, ':', '_' and '-', and not starting with http:// or https://",
};
/// ENS's documents, in every language published, say an English letter.
pub(crate) static ENS_NAME_RULE: NameRule = NameRule {
    min_len: 2,
    max_len: 128,
    first_letter: true,
    chinese: false,
    extra_chars: ":_-",
    forbidden_prefixes: &["http://", "https://"],
    description: "2-128 characters, starting with a letter, containing only letters, digits, ':', '_' and '-', and not starting with http:// or https://",
};
pub(crate) static CVM_NAME_RULE: NameRule = NameRule {
    min_len: 1,
    max_len: 25,
    first_letter: false,
    chinese: false,
    extra_chars: "_",
    forbidden_prefixes: &[],
    description: "1-25 characters of letters, digits and '_'",
};

/// Which part of a name rule was broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NameRuleError {
    /// Too short or too long.
    #[error("{cloud} key pair name must be {min}-{max} characters long, got {len} (rule: {rule})")]
    Length {
        /// The cloud whose rule applies.
        cloud: CloudKind,
        /// Minimum length.
        min: usize,
        /// Maximum length.
        max: usize,
        /// Actual length.
        len: usize,
        /// The whole rule in words.
        rule: &'static str,
    },
    /// Does not start with a letter.
    #[error("{cloud} key pair name must start with a letter (rule: {rule})")]
    FirstChar {
        /// The cloud whose rule applies.
        cloud: CloudKind,
        /// The whole rule in words.
        rule: &'static str,
    },
    /// Contains a character outside the allowed set.
    #[error("{cloud} key pair name contains {ch:?}, which is not allowed (rule: {rule})")]
    Char {
        /// The cloud whose rule applies.
        cloud: CloudKind,
        /// The first offending character.
        ch: char,
        /// The whole rule in words.
        rule: &'static str,
    },
    /// Starts with a forbidden prefix.
    #[error("{cloud} key pair name must not start with {prefix:?} (rule: {rule})")]
    Prefix {
        /// The cloud whose rule applies.
        cloud: CloudKind,
        /// The forbidden prefix.
        prefix: &'static str,
        /// The whole rule in words.
        rule: &'static str,
    },
}

impl NameRule {
    /// Checks `name` against this rule.
    pub(crate) fn check(&self, cloud: CloudKind, name: &str) -> Result<(), NameRuleError> {
        let len = name.chars().count();
        if len < self.min_len || len > self.max_len {
            return Err(NameRuleError::Length {
                cloud,
                min: self.min_len,
                max: self.max_len,
                len,
                rule: self.description,
            });
        }
        if let Some(prefix) = self
            .forbidden_prefixes
            .iter()
            .find(|p| name.starts_with(**p))
        {
            return Err(NameRuleError::Prefix {
                cloud,
                prefix,
                rule: self.description,
            });
        }
        let letter = |c: char| c.is_ascii_alphabetic() || (self.chinese && is_chinese(c));
        if self.first_letter && !name.starts_with(letter) {
            return Err(NameRuleError::FirstChar {
                cloud,
                rule: self.description,
            });
        }
        if let Some(ch) = name
            .chars()
            .find(|c| !letter(*c) && !c.is_ascii_digit() && !self.extra_chars.contains(*c))
        {
            return Err(NameRuleError::Char {
                cloud,
                ch,
                rule: self.description,
            });
        }
        Ok(())
    }
}

/// A CJK ideograph (the unified block, extension A and the compatibility block).
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

/// An instance id rule: a fixed prefix and a body of allowed characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InstanceIdRule {
    /// Required prefix, e.g. `i-` or `ins-`.
    pub prefix: &'static str,
    /// Body length bounds (after the prefix).
    pub body_len: (usize, usize),
    /// The rule in words.
    pub description: &'static str,
}

pub(crate) static ALIBABA_INSTANCE_RULE: InstanceIdRule = InstanceIdRule {
    prefix: "i-",
    body_len: (1, 64),
    description: "'i-' followed by letters and digits",
};
pub(crate) static CVM_INSTANCE_RULE: InstanceIdRule = InstanceIdRule {
    prefix: "ins-",
    body_len: (8, 8),
    description: "'ins-' followed by 8 lower-case letters or digits",
};

impl InstanceIdRule {
    /// Checks `id`; the error says what was expected.
    pub(crate) fn check(&self, cloud: CloudKind, id: &str) -> Result<(), String> {
        let bad = || {
            format!(
                "invalid {cloud} instance id {id:?}: expected {}",
                self.description
            )
        };
        let body = id.strip_prefix(self.prefix).ok_or_else(bad)?;
        let len = body.len();
        let lower_only = self.body_len.0 == self.body_len.1;
        let chars_ok = body.chars().all(|c| {
            c.is_ascii_digit()
                || if lower_only {
                    c.is_ascii_lowercase()
                } else {
                    c.is_ascii_alphabetic()
                }
        });
        if len < self.body_len.0 || len > self.body_len.1 || !chars_ok {
            return Err(bad());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alibaba_names() {
        let ok = ["ab", "key:prod_1-x", &format!("a{}", "b".repeat(127))];
        for n in ok {
            assert!(CloudKind::Ecs.validate_key_name(n).is_ok(), "{n}");
            assert!(CloudKind::Ens.validate_key_name(n).is_ok(), "{n}");
        }
        assert!(matches!(
            CloudKind::Ecs.validate_key_name("a"),
            Err(NameRuleError::Length { len: 1, .. })
        ));
        assert!(matches!(
            CloudKind::Ecs.validate_key_name(&"a".repeat(129)),
            Err(NameRuleError::Length { .. })
        ));
        assert!(matches!(
            CloudKind::Ecs.validate_key_name("1abc"),
            Err(NameRuleError::FirstChar { .. })
        ));
        assert!(matches!(
            CloudKind::Ecs.validate_key_name("ab c"),
            Err(NameRuleError::Char { ch: ' ', .. })
        ));
        assert!(matches!(
            CloudKind::Ecs.validate_key_name("https://x"),
            Err(NameRuleError::Prefix { .. })
        ));
    }

    #[test]
    fn chinese_names_follow_each_cloud() {
        assert!(CloudKind::Ecs.validate_key_name("密钥对ab").is_ok());
        assert!(CloudKind::Ecs.validate_key_name("ab密钥:x").is_ok());
        assert!(matches!(
            CloudKind::Ecs.validate_key_name("9密钥"),
            Err(NameRuleError::FirstChar { .. })
        ));
        assert!(matches!(
            CloudKind::Ecs.validate_key_name("密钥😀"),
            Err(NameRuleError::Char { ch: '😀', .. })
        ));
        assert!(matches!(
            CloudKind::Ens.validate_key_name("密钥对ab"),
            Err(NameRuleError::FirstChar { .. })
        ));
        assert!(CloudKind::Cvm.validate_key_name("密钥").is_err());
    }

    #[test]
    fn cvm_names() {
        assert!(CloudKind::Cvm.validate_key_name("a").is_ok());
        assert!(CloudKind::Cvm.validate_key_name("1_key").is_ok());
        assert!(CloudKind::Cvm.validate_key_name(&"a".repeat(25)).is_ok());
        assert!(CloudKind::Cvm.validate_key_name(&"a".repeat(26)).is_err());
        assert!(CloudKind::Cvm.validate_key_name("a-b").is_err());
        assert!(CloudKind::Cvm.validate_key_name("a:b").is_err());
        assert!(CloudKind::Cvm.validate_key_name("").is_err());
    }

    #[test]
    fn instance_ids() {
        assert!(CloudKind::Ecs.validate_instance_id("i-bp1abc").is_ok());
        assert!(CloudKind::Ens.validate_instance_id("i-5abc").is_ok());
        assert!(CloudKind::Ecs.validate_instance_id("ins-abc").is_err());
        assert!(CloudKind::Ecs.validate_instance_id("i-").is_err());
        assert!(CloudKind::Cvm.validate_instance_id("ins-abcd1234").is_ok());
        assert!(CloudKind::Cvm.validate_instance_id("ins-abcd123").is_err());
        assert!(CloudKind::Cvm.validate_instance_id("ins-ABCD1234").is_err());
        assert!(CloudKind::Cvm.validate_instance_id("i-abcd1234").is_err());
    }

    #[test]
    fn limits_match_the_apis() {
        assert_eq!(CloudKind::Ecs.limits().delete_batch, 100);
        assert_eq!(CloudKind::Ens.limits().delete_batch, 1);
        assert_eq!(CloudKind::Cvm.limits().delete_batch, 100);
        assert_eq!(CloudKind::Ecs.limits().bind_batch, 50);
        assert_eq!(CloudKind::Ens.limits().bind_batch, 30);
        assert_eq!(CloudKind::Cvm.limits().bind_batch, 100);
        let cvm = CloudKind::Cvm.limits();
        for action in [
            "CreateKeyPair",
            "ImportKeyPair",
            "DescribeKeyPairs",
            "DeleteKeyPairs",
        ] {
            assert_eq!(cvm.rate(action), Some(10), "{action}");
        }
        assert_eq!(cvm.rate("DescribeInstances"), Some(40));
        assert_eq!(CloudKind::Ecs.limits().rate("DescribeKeyPairs"), None);
        assert_eq!(cvm.read_batch(), 100);
        assert_eq!(CloudKind::Ecs.limits().read_batch(), 50);
        assert_eq!(CloudKind::Ens.limits().read_batch(), 50);
    }

    #[test]
    fn tagging_per_cloud() {
        assert!(CloudKind::Ens.limits().tagging.is_none());
        assert_eq!(
            CloudKind::Ecs.limits().tagging.map(|t| t.tags_per_call),
            Some(20)
        );
        let cvm = CloudKind::Cvm.limits().tagging.expect("CVM tags key pairs");
        let TagVia::Service(service) = &cvm.via else {
            panic!("CVM tags through the Tag API");
        };
        assert_eq!(
            service.resource_name("ap-guangzhou", "skey-abcd1234"),
            "qcs::cvm:ap-guangzhou:uin/:keypair/skey-abcd1234"
        );
        assert_eq!(
            CloudKind::Ecs.limits().join_resource_group,
            Some("JoinResourceGroup")
        );
        assert_eq!(CloudKind::Cvm.limits().join_resource_group, None);
    }
}
