//! Tagging facts as data: ECS's TagResources / UntagResources (part of the ECS API itself) and
//! Tencent Cloud's Tag API (its own service, `tag.tencentcloudapi.com`, version 2018-08-13),
//! which CVM key pairs are tagged through.
//!
//! Like [`super::profile`], this is the emulator's own reading of the clouds' documents, kept
//! apart from the provider's `crate::cloud::rules` and held to agree by `agreement_tests`.

/// How one cloud tags resources: the actions, their limits and their refusals.
#[derive(Debug)]
pub struct TagProfile {
    /// The action that adds or overwrites tags.
    pub tag_action: &'static str,
    /// The action that removes tags by key.
    pub untag_action: &'static str,
    /// Where the resources are listed: ECS `ResourceId.N` (with `ResourceType`), Tencent
    /// `ResourceList.N` (six-segment resource names).
    pub resources_param: &'static str,
    /// Where the tags are: ECS `Tag.N.Key`/`.Value`, Tencent `Tags.N.TagKey`/`.TagValue`.
    pub tags_param: &'static str,
    /// The key and value fields of one tag object.
    pub tag_fields: (&'static str, &'static str),
    /// Where an untag call lists the keys: ECS `TagKey.N`, Tencent `TagKeys.N`.
    pub keys_param: &'static str,
    /// Most resources per call (ECS 50, Tencent 10).
    pub resources_max: usize,
    /// Most tags (or tag keys) per call (ECS 20, Tencent 10).
    pub tags_max: usize,
    /// Most tags one resource may carry (both: 20 user tags).
    pub per_resource_max: usize,
    /// Tag key prefixes reserved for the vendor's own tags (compared in lower case).
    pub reserved_prefixes: &'static [&'static str],
    /// Documented per-second limits, enforced unless `--no-builtin-rates`.
    pub builtin_rates: &'static [(&'static str, u32)],
    /// Refusals.
    pub codes: TagCodes,
}

/// Error codes of the tagging calls.
#[derive(Debug)]
pub struct TagCodes {
    /// The HTTP status of a missing resource (ECS 404; Tencent answers 200 anyway).
    pub not_found_status: u16,
    /// A resource that does not exist.
    pub resource_not_found: &'static str,
    /// A resource type (ECS) or six-segment name (Tencent) that is not a key pair.
    pub resource_invalid: &'static str,
    /// More resources or tags in one call than allowed.
    pub over_limit: &'static str,
    /// A resource would carry more tags than allowed.
    pub quota: &'static str,
    /// A tag key that is empty or reserved (`acs:`, `aliyun`, `qcloud:`, `tencent:`).
    pub key_invalid: &'static str,
    /// Throttled.
    pub throttled: &'static str,
}

/// ECS 2014-05-26 TagResources / UntagResources (`ResourceType=keypair`). ECS publishes no
/// per-second limits: its quotas are per account.
pub(crate) static ECS_TAGS: TagProfile = TagProfile {
    tag_action: "TagResources",
    untag_action: "UntagResources",
    resources_param: "ResourceId",
    tags_param: "Tag",
    tag_fields: ("Key", "Value"),
    keys_param: "TagKey",
    resources_max: 50,
    tags_max: 20,
    per_resource_max: 20,
    reserved_prefixes: &["aliyun", "acs:"],
    builtin_rates: &[],
    codes: TagCodes {
        not_found_status: 404,
        resource_not_found: "InvalidResourceId.NotFound",
        resource_invalid: "InvalidResourceType.NotFound",
        over_limit: "InvalidParam.TagCount",
        quota: "InvalidTagCount",
        key_invalid: "InvalidTagKey.Malformed",
        throttled: "Throttling.User",
    },
};

/// Tencent Cloud Tag API 2018-08-13: TagResources / UnTagResources, 20 requests per second
/// each, `ResourceList.N` and `Tags.N` / `TagKeys.N` with N in 0..=9.
pub(crate) static TENCENT_TAGS: TagProfile = TagProfile {
    tag_action: "TagResources",
    untag_action: "UnTagResources",
    resources_param: "ResourceList",
    tags_param: "Tags",
    tag_fields: ("TagKey", "TagValue"),
    keys_param: "TagKeys",
    resources_max: 10,
    tags_max: 10,
    per_resource_max: 50,
    reserved_prefixes: &["qcloud:", "tencent:"],
    builtin_rates: &[("TagResources", 20), ("UnTagResources", 20)],
    codes: TagCodes {
        not_found_status: 400,
        resource_not_found: "ResourceNotFound",
        resource_invalid: "InvalidParameterValue.ResourceDescriptionError",
        over_limit: "InvalidParameterValue.LimitExceeded",
        quota: "LimitExceeded.ResourceAttachedTags",
        key_invalid: "InvalidParameterValue.ReservedTagKey",
        throttled: "RequestLimitExceeded",
    },
};

/// The Tag API's version, product code (host name and TC3 scope) and the resource prefix CVM
/// key pairs have in six-segment names.
pub const TENCENT_TAG_VERSION: &str = "2018-08-13";
pub const TENCENT_TAG_PRODUCT: &str = "tag";

impl TagProfile {
    /// The documented limit of `action` in requests per second, if any.
    pub(crate) fn builtin_rate(&self, action: &str) -> Option<u32> {
        self.builtin_rates
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, n)| *n)
    }

    /// Whether `key` may not be set by users: the vendors reserve prefixes for their own tags.
    pub(crate) fn reserved_key(&self, key: &str) -> bool {
        let lower = key.to_ascii_lowercase();
        key.is_empty() || self.reserved_prefixes.iter().any(|p| lower.starts_with(p))
    }
}

/// A CVM key pair's six-segment resource name, parsed: `qcs::cvm:<region>:uin/<uin>:keypair/<id>`.
/// The account may be empty (`uin/`), which means the caller's own account: that is what the
/// official Terraform provider sends, since a key pair's owner uin is not known to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyPairResource {
    pub region: String,
    pub key_id: String,
}

impl KeyPairResource {
    /// Parses a six-segment name; `None` unless it names a CVM key pair.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("qcs::cvm:")?;
        let (region, rest) = rest.split_once(':')?;
        let (account, resource) = rest.split_once(':')?;
        let uin = account.strip_prefix("uin/")?;
        if !uin.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let key_id = resource.strip_prefix("keypair/")?;
        (!region.is_empty() && !key_id.is_empty()).then(|| KeyPairResource {
            region: region.to_string(),
            key_id: key_id.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_segment_names() {
        assert_eq!(
            KeyPairResource::parse("qcs::cvm:ap-guangzhou:uin/:keypair/skey-abcd1234"),
            Some(KeyPairResource {
                region: "ap-guangzhou".into(),
                key_id: "skey-abcd1234".into()
            })
        );
        assert!(
            KeyPairResource::parse("qcs::cvm:ap-guangzhou:uin/100000:keypair/skey-1").is_some()
        );
        for bad in [
            "qcs::cvm:ap-guangzhou:uin/:instance/ins-1",
            "qcs::cvm::uin/:keypair/skey-1",
            "qcs::cos:ap-guangzhou:uid/:keypair/skey-1",
            "qcs::cvm:ap-guangzhou:uin/abc:keypair/skey-1",
            "skey-1",
        ] {
            assert_eq!(KeyPairResource::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn reserved_keys_and_rates() {
        assert!(TENCENT_TAGS.reserved_key("qcloud:x"));
        assert!(ECS_TAGS.reserved_key("acs:x"));
        assert!(ECS_TAGS.reserved_key(""));
        assert!(!ECS_TAGS.reserved_key("team"));
        assert!(
            !ECS_TAGS.reserved_key("qcloud:x"),
            "each vendor reserves its own prefixes"
        );
        assert_eq!(TENCENT_TAGS.builtin_rate("UnTagResources"), Some(20));
        assert_eq!(ECS_TAGS.builtin_rate("TagResources"), None);
    }
}
