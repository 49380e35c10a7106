//! Per-cloud differences as data: actions, parameter names, limits, id shapes, name rules,
//! error codes and statuses.
//!
//! The three key-pair APIs do the same things with different names, limits and error codes.
//! Keeping those differences in one table per cloud lets the operations in [`super::ops`] be
//! written once; only the response shapes, which really differ in structure, are rendered per
//! cloud ([`super::render`]).
//!
//! This table is the emulator's own reading of the clouds' documents, kept apart from the
//! provider's (`crate::cloud::rules`) on purpose: see the [module doc](super).

use serde::{Deserialize, Serialize};

use super::api::Vendor;
pub(crate) use super::ids::IdShape;
use super::keys::PrivateKeyFormat;
pub(crate) use super::names::{NameRule, NameViolation};
use super::wire::ListEncoding;

/// The three emulated key-pair APIs (the STS beside them are [`super::api::Api::Sts`]).
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
    pub(crate) const ALL: [Cloud; 3] = [Cloud::Ecs, Cloud::Ens, Cloud::Cvm];

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
    pub(crate) fn alibaba_by_version(version: &str) -> Option<Cloud> {
        match version {
            "2014-05-26" => Some(Cloud::Ecs),
            "2017-11-10" => Some(Cloud::Ens),
            _ => None,
        }
    }

    /// Whose wire conventions (and whose STS) this cloud follows.
    pub fn vendor(self) -> Vendor {
        match self {
            Cloud::Ecs | Cloud::Ens => Vendor::Alibaba,
            Cloud::Cvm => Vendor::Tencent,
        }
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

/// The static description of one cloud's key-pair API.
#[derive(Debug)]
pub struct Profile {
    /// Which cloud.
    pub cloud: Cloud,
    /// API version string the requests carry.
    pub version: &'static str,
    /// The actions this API has and what each does; any other action is unknown.
    pub actions: &'static [(&'static str, Operation)],
    /// Parameter names that differ between the clouds.
    pub params: ParamNames,
    /// Whether key pairs live per region (ECS, CVM) or once per account (ENS).
    pub regional_keys: bool,
    /// What a key pair's id is.
    pub key_id: KeyId,
    /// The shape instance ids must have, where the API refuses others as malformed (CVM).
    pub instance_id: Option<IdShape>,
    /// How an instance refers to the key pairs it holds.
    pub instances_hold: KeyRef,
    /// Most key pairs one DeleteKeyPairs call may name.
    pub delete_max: usize,
    /// Most instances one attach/detach call may name.
    pub bind_instances_max: usize,
    /// Most key ids one (dis)associate call may name (CVM only).
    pub bind_keys_max: usize,
    /// How DescribeKeyPairs and DescribeInstances page.
    pub paging: Paging,
    /// Page size when the request gives none.
    pub page_default: i64,
    /// Most items one DescribeKeyPairs page may hold (`PageSize` / `Limit`).
    pub page_max: usize,
    /// Most items one DescribeInstances page may hold.
    pub instance_page_max: usize,
    /// Most instance ids one DescribeInstances call may name.
    pub instance_ids_max: usize,
    /// How DescribeKeyPairs narrows its listing.
    pub key_query: KeyQuery,
    /// Whether DescribeKeyPairs `KeyPairName` takes `*` wildcards (ECS) or one exact name
    /// (ENS; CVM filters by `key-name` instead).
    pub name_wildcards: bool,
    /// How DeleteKeyPairs names the key pairs to delete.
    pub delete_by: KeysToDelete,
    /// What DeleteKeyPairs does with bound keys; `None` is ECS, where `--ecs-bound-delete`
    /// picks one of the two behaviours its documents describe.
    pub bound_delete: Option<BoundDelete>,
    /// How AttachKeyPair / DetachKeyPair name their one key pair: the first given wins.
    pub bind_key_by: &'static [KeyParam],
    /// Whether attach/detach takes running instances.
    pub running: RunningInstances,
    /// A Windows instance fails the whole attach/detach (ECS) instead of its own result.
    pub windows_fail_the_call: bool,
    /// Name validation.
    pub name_rule: NameRule,
    /// When DescribeKeyPairs lists a key pair's public key.
    pub listed_public_key: PublicKeyListing,
    /// How the private half of a generated key comes back.
    pub private_key: PrivateKeyFormat,
    /// How list parameters are encoded.
    pub lists: ListEncoding,
    /// The documented per-action request limits (requests per second), enforced unless
    /// `--no-builtin-rates`. Empty for ECS and ENS, whose quotas are per account and unpublished.
    pub builtin_rates: &'static [(&'static str, u32)],
    /// HTTP statuses of refusals.
    pub statuses: Statuses,
    /// Error codes.
    pub codes: Codes,
    /// The message of a missing key pair, `{}` standing for what the request named.
    pub key_not_found_message: &'static str,
    /// The account's default resource group, which a key pair created without
    /// `ResourceGroupId` joins and DescribeKeyPairs then reports (ECS); `None` where key pairs
    /// have no resource group.
    pub default_resource_group: Option<&'static str>,
}

/// What an action does, whatever the cloud calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Generate a key pair.
    CreateKeyPair,
    /// Register a public key.
    ImportKeyPair,
    /// List key pairs.
    DescribeKeyPairs,
    /// Delete key pairs.
    DeleteKeyPairs,
    /// Bind or unbind one key pair, reporting per instance (Alibaba Attach/DetachKeyPair).
    BindOneKey(Binding),
    /// Bind or unbind key pairs, all or nothing (CVM (Dis)AssociateInstancesKeyPairs).
    BindKeys(Binding),
    /// List instances.
    DescribeInstances,
    /// Reboot an instance (ECS), which is when a binding change takes effect there.
    RebootInstance,
    /// Add or overwrite tags of key pairs in the key-pair API itself (ECS TagResources).
    TagResources,
    /// Remove tags of key pairs by key (ECS UntagResources).
    UntagResources,
    /// Move a key pair to another resource group (ECS JoinResourceGroup).
    JoinResourceGroup,
}

/// The direction of a binding change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Attach / associate.
    Attach,
    /// Detach / disassociate.
    Detach,
}

/// Whether a key pair is referred to by name or by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRef {
    /// By name (ECS, ENS).
    Name,
    /// By id (CVM).
    Id,
}

/// A parameter naming one key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyParam {
    /// The parameter holds a name.
    Name(&'static str),
    /// The parameter holds an id.
    Id(&'static str),
}

/// What a key pair's id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyId {
    /// The name itself (ECS).
    TheName,
    /// A random id of this shape, issued at creation.
    Generated(IdShape),
}

impl KeyId {
    /// The prefix every id starts with, when the id is not the name.
    #[cfg(test)]
    pub(crate) fn prefix(&self) -> Option<&'static str> {
        match self {
            KeyId::TheName => None,
            KeyId::Generated(shape) => Some(shape.prefix),
        }
    }
}

/// How listings page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `PageNumber` from 1 and `PageSize` (Alibaba).
    Numbered,
    /// `Offset` from 0 and `Limit` (Tencent).
    Offset,
}

/// How DescribeKeyPairs narrows its listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyQuery {
    /// One parameter per field: `KeyPairName`, `KeyPairFingerPrint`, `KeyPairId`,
    /// `ResourceGroupId` (Alibaba).
    Parameters,
    /// `KeyIds` or `Filters`, never both (Tencent).
    IdsOrFilters,
}

/// How DeleteKeyPairs names the key pairs to delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysToDelete {
    /// A list of names; names that do not exist are skipped, as ECS does.
    Names {
        /// The list parameter.
        param: &'static str,
        /// The code for a list that does not decode.
        invalid_code: &'static str,
        /// The message when the list is longer than the limit.
        over_limit: &'static str,
    },
    /// A list of ids, each of which must exist (CVM).
    Ids {
        /// The list parameter.
        param: &'static str,
        /// The code for a list that does not decode.
        invalid_code: &'static str,
        /// The message when the list is longer than the limit.
        over_limit: &'static str,
    },
    /// One key pair, by the first of these parameters given (ENS).
    One(&'static [KeyParam]),
}

/// What DeleteKeyPairs does with a key that instances still use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoundDelete {
    /// ECS (seed 001): the whole call fails, nothing is deleted.
    #[default]
    Reject,
    /// ECS (seed 000) and ENS: deleted; instances keep the name.
    Allow,
    /// CVM: bound keys are silently kept, unbound ones deleted, the call succeeds.
    KeepSilently,
}

/// Whether attach and detach take running instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunningInstances {
    /// Yes; the change takes effect at the next reboot (ECS).
    Bind,
    /// Only with `ForceStop`, which stops and restarts them (CVM).
    BindWithForceStop,
    /// No, they must be stopped first (ENS).
    Refuse,
}

/// Parameter names that differ between the clouds.
#[derive(Debug)]
pub struct ParamNames {
    /// The region (`RegionId` / `Region`).
    pub region: &'static str,
    /// A key pair's name in create and import.
    pub key_name: &'static str,
    /// The public key of an import.
    pub public_key: &'static str,
    /// The project a key pair is created in, where it is required (CVM).
    pub project_id: Option<&'static str>,
    /// The DescribeInstances filter by key pair name, where there is one (ECS).
    pub instances_by_key_name: Option<&'static str>,
    /// How create and import carry tags: Alibaba `Tag.N.Key`/`Tag.N.Value` (objects under
    /// `Tag`), CVM `TagSpecification.N.Tags.N.Key`/`.Value` (objects under the first
    /// specification's `Tags`).
    pub tags: TagParams,
}

/// When DescribeKeyPairs carries a key pair's public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKeyListing {
    /// Never (ENS: its answers have no public key field).
    Never,
    /// Only when this boolean request parameter is `true` (ECS `IncludePublicKey`), as the
    /// `PublicKey` field.
    OnRequest(&'static str),
    /// Always, as `PublicKey` (CVM).
    Always,
}

/// Where a create's tags are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagParams {
    /// Objects `{Key, Value}` under this parameter.
    Flat(&'static str),
    /// `{ResourceType, Tags: [{Key, Value}]}` objects under this parameter.
    Specification(&'static str),
}

/// HTTP statuses of refusals: ECS tells "not found" (404) from "not allowed" (403); ENS and
/// CVM answer 400 to both (CVM's errors travel in an HTTP 200 anyway).
#[derive(Debug)]
pub struct Statuses {
    /// A key pair or instance that does not exist.
    pub not_found: u16,
    /// A call over a limit or on an instance that cannot take it.
    pub refused: u16,
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
    /// Too many instance ids in one DescribeInstances.
    pub instance_ids_limit: &'static str,
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

/// The actions ECS and ENS share.
const ALIBABA_KEY_PAIR_ACTIONS: [(&str, Operation); 7] = [
    ("CreateKeyPair", Operation::CreateKeyPair),
    ("ImportKeyPair", Operation::ImportKeyPair),
    ("DescribeKeyPairs", Operation::DescribeKeyPairs),
    ("DeleteKeyPairs", Operation::DeleteKeyPairs),
    ("AttachKeyPair", Operation::BindOneKey(Binding::Attach)),
    ("DetachKeyPair", Operation::BindOneKey(Binding::Detach)),
    ("DescribeInstances", Operation::DescribeInstances),
];

/// ECS: the shared actions, RebootInstance, and the tagging and resource group calls (ENS has
/// none of these for key pairs).
const ECS_ACTIONS: [(&str, Operation); 11] = {
    let [a, b, c, d, e, f, g] = ALIBABA_KEY_PAIR_ACTIONS;
    [
        a,
        b,
        c,
        d,
        e,
        f,
        g,
        ("RebootInstance", Operation::RebootInstance),
        ("TagResources", Operation::TagResources),
        ("UntagResources", Operation::UntagResources),
        ("JoinResourceGroup", Operation::JoinResourceGroup),
    ]
};

const ALIBABA_PARAMS: ParamNames = ParamNames {
    region: "RegionId",
    key_name: "KeyPairName",
    public_key: "PublicKeyBody",
    project_id: None,
    instances_by_key_name: None,
    tags: TagParams::Flat("Tag"),
};

/// 2-128 characters, starting with a letter, letters digits `:` `_` `-`, not `http://` or
/// `https://` (the documents spell them in lower case).
const ALIBABA_NAMES: NameRule = NameRule {
    min_len: 2,
    max_len: 128,
    first_letter: true,
    chinese: false,
    punctuation: ":_-",
    refused_prefixes: &["http://", "https://"],
    empty_is_own_violation: false,
};

const ALIBABA_NOT_FOUND: &str = "The specified key pair {} does not exist.";

/// ECS 2014-05-26.
pub(crate) static ECS: Profile = Profile {
    cloud: Cloud::Ecs,
    version: "2014-05-26",
    actions: &ECS_ACTIONS,
    params: ParamNames {
        instances_by_key_name: Some("KeyPairName"),
        tags: TagParams::Flat("Tag"),
        ..ALIBABA_PARAMS
    },
    regional_keys: true,
    key_id: KeyId::TheName,
    instance_id: None,
    instances_hold: KeyRef::Name,
    delete_max: 100,
    bind_instances_max: 50,
    bind_keys_max: 1,
    paging: Paging::Numbered,
    page_default: 10,
    page_max: 50,
    instance_page_max: 100,
    instance_ids_max: 100,
    key_query: KeyQuery::Parameters,
    name_wildcards: true,
    delete_by: KeysToDelete::Names {
        param: "KeyPairNames",
        invalid_code: "InvalidKeyPairNames.ValueNotSupported",
        over_limit: "Exceeding the allowed amount of instance which will be deleted.",
    },
    bound_delete: None,
    bind_key_by: &[KeyParam::Name("KeyPairName")],
    running: RunningInstances::Bind,
    windows_fail_the_call: true,
    name_rule: NameRule {
        chinese: true,
        ..ALIBABA_NAMES
    },
    listed_public_key: PublicKeyListing::OnRequest("IncludePublicKey"),
    private_key: PrivateKeyFormat::RsaPem,
    lists: ListEncoding::JsonString,
    builtin_rates: &[],
    statuses: Statuses {
        not_found: 404,
        refused: 403,
    },
    codes: Codes {
        name_invalid: "InvalidKeyPairName.Malformed",
        name_length: "InvalidKeyPairName.Malformed",
        name_empty: "MissingParameter",
        duplicate: "KeyPair.AlreadyExist",
        key_not_found: "InvalidKeyPairName.NotFound",
        public_key_invalid: "InvalidPublicKeyBody.Malformed",
        delete_limit: "InstanceKeyPairLimitExceeded",
        bind_limit: "InstanceKeyPairLimitExceeded",
        instance_ids_limit: "InvalidInstanceIds.Malformed",
        instance_not_found: "InvalidInstanceId.NotFound",
        windows: "DependencyViolation.WindowsInstance",
        instance_state: "IncorrectInstanceStatus",
        throttled: "Throttling.User",
        page_size: "InvalidParameter.PageSize",
    },
    key_not_found_message: ALIBABA_NOT_FOUND,
    default_resource_group: Some(ECS_DEFAULT_RESOURCE_GROUP),
};

/// The emulated account's default resource group (Alibaba's ids are `rg-` + 15 characters).
pub const ECS_DEFAULT_RESOURCE_GROUP: &str = "rg-acfmdefault0000";

/// ENS 2017-11-10.
pub(crate) static ENS: Profile = Profile {
    cloud: Cloud::Ens,
    version: "2017-11-10",
    actions: &ALIBABA_KEY_PAIR_ACTIONS,
    params: ALIBABA_PARAMS,
    regional_keys: false,
    key_id: KeyId::Generated(IdShape {
        prefix: "ssh-",
        len: 23,
    }),
    instance_id: None,
    instances_hold: KeyRef::Name,
    delete_max: 1,
    bind_instances_max: 30,
    bind_keys_max: 1,
    paging: Paging::Numbered,
    page_default: 10,
    page_max: 50,
    instance_page_max: 100,
    instance_ids_max: 100,
    key_query: KeyQuery::Parameters,
    name_wildcards: false,
    delete_by: KeysToDelete::One(&[KeyParam::Id("KeyPairId"), KeyParam::Name("KeyPairName")]),
    bound_delete: Some(BoundDelete::Allow),
    bind_key_by: &[KeyParam::Name("KeyPairName"), KeyParam::Id("KeyPairId")],
    running: RunningInstances::Refuse,
    windows_fail_the_call: false,
    name_rule: ALIBABA_NAMES,
    listed_public_key: PublicKeyListing::Never,
    private_key: PrivateKeyFormat::Pkcs8Pem,
    lists: ListEncoding::JsonString,
    builtin_rates: &[],
    statuses: Statuses {
        not_found: 400,
        refused: 400,
    },
    codes: Codes {
        name_invalid: "InvalidParameter.KeyPairName",
        name_length: "InvalidParameter.KeyPairName",
        name_empty: "MissingParameter",
        duplicate: "PubKeyNameExisted",
        key_not_found: "PubKeyNameNotExist",
        public_key_invalid: "InvalidPubKeyBody",
        delete_limit: "InvalidParameter",
        bind_limit: "InvalidParameter.InstanceIds",
        instance_ids_limit: "InvalidInstanceIds.Malformed",
        instance_not_found: "InstanceNotFound",
        windows: "InvalidParameter.OsType",
        instance_state: "IncorrectInstanceStatus",
        throttled: "Throttling.User",
        page_size: "InvalidParameter.PageSize",
    },
    key_not_found_message: ALIBABA_NOT_FOUND,
    default_resource_group: None,
};

/// CVM 2017-03-12.
pub(crate) static CVM: Profile = Profile {
    cloud: Cloud::Cvm,
    version: "2017-03-12",
    actions: &[
        ("CreateKeyPair", Operation::CreateKeyPair),
        ("ImportKeyPair", Operation::ImportKeyPair),
        ("DescribeKeyPairs", Operation::DescribeKeyPairs),
        ("DeleteKeyPairs", Operation::DeleteKeyPairs),
        (
            "AssociateInstancesKeyPairs",
            Operation::BindKeys(Binding::Attach),
        ),
        (
            "DisassociateInstancesKeyPairs",
            Operation::BindKeys(Binding::Detach),
        ),
        ("DescribeInstances", Operation::DescribeInstances),
    ],
    params: ParamNames {
        region: "Region",
        key_name: "KeyName",
        public_key: "PublicKey",
        project_id: Some("ProjectId"),
        instances_by_key_name: None,
        tags: TagParams::Specification("TagSpecification"),
    },
    regional_keys: true,
    key_id: KeyId::Generated(CVM_KEY_ID),
    instance_id: Some(CVM_INSTANCE_ID),
    instances_hold: KeyRef::Id,
    delete_max: 100,
    bind_instances_max: 100,
    bind_keys_max: 100,
    paging: Paging::Offset,
    page_default: 20,
    page_max: 100,
    instance_page_max: 100,
    instance_ids_max: 100,
    key_query: KeyQuery::IdsOrFilters,
    name_wildcards: false,
    delete_by: KeysToDelete::Ids {
        param: "KeyIds",
        invalid_code: "InvalidParameterValue",
        over_limit: "The number of key pairs exceeds the limit.",
    },
    bound_delete: Some(BoundDelete::KeepSilently),
    bind_key_by: &[],
    running: RunningInstances::BindWithForceStop,
    windows_fail_the_call: false,
    name_rule: NameRule {
        min_len: 1,
        max_len: 25,
        first_letter: false,
        chinese: false,
        punctuation: "_",
        refused_prefixes: &[],
        empty_is_own_violation: true,
    },
    listed_public_key: PublicKeyListing::Always,
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
    statuses: Statuses {
        not_found: 400,
        refused: 400,
    },
    codes: Codes {
        name_invalid: "InvalidKeyPairNameIncludeIllegalChar",
        name_length: "InvalidKeyPairNameTooLong",
        name_empty: "InvalidKeyPairNameEmpty",
        duplicate: "InvalidKeyPairName.Duplicate",
        key_not_found: "InvalidKeyPairId.NotFound",
        public_key_invalid: "InvalidPublicKey.Malformed",
        delete_limit: "InvalidKeyPair.LimitExceeded",
        bind_limit: "InvalidParameterValue.LimitExceeded",
        instance_ids_limit: "InvalidParameterValue.LimitExceeded",
        instance_not_found: "InvalidInstanceId.NotFound",
        windows: "InvalidParameterValue.KeyPairNotSupported",
        instance_state: "UnsupportedOperation.InstanceStateRunning",
        throttled: "RequestLimitExceeded",
        page_size: "InvalidParameterValue.LimitExceeded",
    },
    key_not_found_message: "The key pair id {} does not exist.",
    default_resource_group: None,
};

const CVM_KEY_ID: IdShape = IdShape {
    prefix: "skey-",
    len: 8,
};
const CVM_INSTANCE_ID: IdShape = IdShape {
    prefix: "ins-",
    len: 8,
};

impl Profile {
    /// The documented limit of `action` in requests per second, if this cloud publishes one.
    pub(crate) fn builtin_rate(&self, action: &str) -> Option<u32> {
        self.builtin_rates
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, n)| *n)
    }

    /// What `action` does on this cloud; `None` when the API has no such action.
    pub(crate) fn operation(&self, action: &str) -> Option<Operation> {
        self.actions
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, op)| *op)
    }
}

/// Whether `id` has CVM's `skey-` + 8 lower-case alphanumerics shape.
pub fn is_cvm_key_id(id: &str) -> bool {
    CVM_KEY_ID.matches(id)
}

/// Whether `id` has CVM's `ins-` + 8 lower-case alphanumerics shape.
#[cfg(test)]
pub(crate) fn is_cvm_instance_id(id: &str) -> bool {
    CVM_INSTANCE_ID.matches(id)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn random_ids_have_the_cvm_shape() {
        let KeyId::Generated(shape) = CVM.key_id else {
            panic!("CVM issues its own key ids");
        };
        for _ in 0..100 {
            assert!(is_cvm_key_id(&shape.random()));
        }
    }

    #[test]
    fn actions_per_cloud() {
        assert_eq!(
            ECS.operation("RebootInstance"),
            Some(Operation::RebootInstance)
        );
        assert_eq!(ENS.operation("RebootInstance"), None);
        assert_eq!(ECS.operation("TagResources"), Some(Operation::TagResources));
        assert_eq!(ENS.operation("TagResources"), None);
        assert_eq!(
            CVM.operation("TagResources"),
            None,
            "CVM tags through the Tag API"
        );
        assert_eq!(
            ENS.operation("DetachKeyPair"),
            Some(Operation::BindOneKey(Binding::Detach))
        );
        assert_eq!(CVM.operation("AttachKeyPair"), None);
        assert_eq!(
            CVM.operation("AssociateInstancesKeyPairs"),
            Some(Operation::BindKeys(Binding::Attach))
        );
        for p in [&ECS, &ENS, &CVM] {
            assert_eq!(p.cloud.profile().cloud, p.cloud);
            for (action, _) in p.actions {
                assert!(p.operation(action).is_some(), "{action}");
            }
        }
    }
}
