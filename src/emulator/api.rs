//! Which emulated API a call is for: one of the three key-pair APIs, or a vendor's STS.
//!
//! Everything between the socket and the operation (routing, authentication, rate windows, the
//! error envelope, the call log) works the same for a vendor's key-pair API and its STS, so it
//! is written against [`Api`]; only the operations tell the two apart. [`Cloud`] stays the
//! three key-pair APIs with their [`Profile`](super::profile::Profile)s, and [`Vendor`] names
//! the two wire conventions (Alibaba's and Tencent's) and their STS
//! ([`StsProfile`](super::sts_profile::StsProfile)).

use serde::{Serialize, Serializer};

use super::profile::Cloud;
use super::sts_profile::StsProfile;
use super::tag_profile::{TENCENT_TAGS, TENCENT_TAG_PRODUCT, TENCENT_TAG_VERSION};

/// Whose wire conventions a request follows: signatures, envelopes, error statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Vendor {
    /// Alibaba Cloud: ACS3 or V2 signatures, errors with HTTP statuses.
    Alibaba,
    /// Tencent Cloud: TC3 signatures, errors inside an HTTP 200.
    Tencent,
}

impl Vendor {
    /// This vendor's STS and temporary credentials.
    pub fn sts(self) -> &'static StsProfile {
        match self {
            Vendor::Alibaba => &super::sts_profile::ALIBABA_STS,
            Vendor::Tencent => &super::sts_profile::TENCENT_STS,
        }
    }
}

/// One of the six APIs the emulator serves on its one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Api {
    /// A key-pair API: ECS, ENS or CVM.
    KeyPairs(Cloud),
    /// A vendor's Security Token Service (AssumeRole).
    Sts(Vendor),
    /// Tencent Cloud's Tag API (2018-08-13), which tags CVM key pairs. ECS tags through its
    /// own API, so this is Tencent's only.
    TencentTag,
}

impl From<Cloud> for Api {
    fn from(cloud: Cloud) -> Self {
        Api::KeyPairs(cloud)
    }
}

impl Api {
    /// The name in the call log and in logs: `ecs`, `ens`, `cvm`, `alibaba-sts`,
    /// `tencent-sts`, `tencent-tag`.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::KeyPairs(cloud) => cloud.as_str(),
            Api::Sts(Vendor::Alibaba) => "alibaba-sts",
            Api::Sts(Vendor::Tencent) => "tencent-sts",
            Api::TencentTag => "tencent-tag",
        }
    }

    /// Whose wire conventions the API follows.
    pub fn vendor(self) -> Vendor {
        match self {
            Api::KeyPairs(cloud) => cloud.vendor(),
            Api::Sts(vendor) => vendor,
            Api::TencentTag => Vendor::Tencent,
        }
    }

    /// Whether this API speaks the Alibaba wire format (errors with HTTP statuses).
    pub(crate) fn is_alibaba(self) -> bool {
        self.vendor() == Vendor::Alibaba
    }

    /// The product code that names the real endpoint (`ecs` in `ecs.aliyuncs.com`, `sts` in
    /// `sts.tencentcloudapi.com` and in TC3 credential scopes).
    pub(crate) fn product(self) -> &'static str {
        match self {
            Api::KeyPairs(cloud) => cloud.as_str(),
            Api::Sts(vendor) => vendor.sts().product,
            Api::TencentTag => TENCENT_TAG_PRODUCT,
        }
    }

    /// The API version string requests carry.
    pub(crate) fn version(self) -> &'static str {
        match self {
            Api::KeyPairs(cloud) => cloud.profile().version,
            Api::Sts(vendor) => vendor.sts().version,
            Api::TencentTag => TENCENT_TAG_VERSION,
        }
    }

    /// The key-pair cloud, when this is a key-pair API.
    pub(crate) fn key_pairs(self) -> Option<Cloud> {
        match self {
            Api::KeyPairs(cloud) => Some(cloud),
            Api::Sts(_) | Api::TencentTag => None,
        }
    }

    /// The documented per-second limit of `action`, if this API publishes one.
    pub(crate) fn builtin_rate(self, action: &str) -> Option<u32> {
        match self {
            Api::KeyPairs(cloud) => cloud.profile().builtin_rate(action),
            Api::Sts(vendor) => vendor.sts().builtin_rate(action),
            Api::TencentTag => TENCENT_TAGS.builtin_rate(action),
        }
    }

    /// The cloud's throttling code.
    pub(crate) fn throttled_code(self) -> &'static str {
        match self {
            Api::KeyPairs(cloud) => cloud.profile().codes.throttled,
            Api::Sts(vendor) => vendor.sts().codes.throttled,
            Api::TencentTag => TENCENT_TAGS.codes.throttled,
        }
    }

    /// The Alibaba API whose version is `version`: ECS, ENS or STS (`None` for others).
    pub(crate) fn alibaba_by_version(version: &str) -> Option<Api> {
        if version == Vendor::Alibaba.sts().version {
            return Some(Api::Sts(Vendor::Alibaba));
        }
        Cloud::alibaba_by_version(version).map(Api::KeyPairs)
    }

    /// The Tencent API a TC3 credential scope names: STS and Tag for their product codes, CVM
    /// otherwise (the emulator never checked CVM's scope, and clients that sign `cvm` keep
    /// working). The real hosts differ (`sts.`, `tag.`, `cvm.tencentcloudapi.com`); on the
    /// emulator's one port the signed scope is what tells them apart.
    pub(crate) fn tencent_by_service(service: &str) -> Api {
        if service == Vendor::Tencent.sts().product {
            Api::Sts(Vendor::Tencent)
        } else if service == TENCENT_TAG_PRODUCT {
            Api::TencentTag
        } else {
            Api::KeyPairs(Cloud::Cvm)
        }
    }
}

// The call log shows the name only, as it did when every API was a key-pair cloud.
impl Serialize for Api {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_by_version_and_scope() {
        assert_eq!(
            Api::alibaba_by_version("2015-04-01"),
            Some(Api::Sts(Vendor::Alibaba))
        );
        assert_eq!(
            Api::alibaba_by_version("2014-05-26"),
            Some(Api::KeyPairs(Cloud::Ecs))
        );
        assert_eq!(Api::alibaba_by_version("2018-08-13"), None);
        assert_eq!(Api::tencent_by_service("sts"), Api::Sts(Vendor::Tencent));
        assert_eq!(Api::tencent_by_service("cvm"), Api::KeyPairs(Cloud::Cvm));
        assert_eq!(Api::tencent_by_service("tag"), Api::TencentTag);
        assert_eq!(Api::TencentTag.version(), "2018-08-13");
        assert!(!Api::TencentTag.is_alibaba());
    }

    #[test]
    fn names_and_vendors() {
        let all = [
            Api::KeyPairs(Cloud::Ecs),
            Api::KeyPairs(Cloud::Ens),
            Api::KeyPairs(Cloud::Cvm),
            Api::Sts(Vendor::Alibaba),
            Api::Sts(Vendor::Tencent),
        ];
        let names: Vec<&str> = all.iter().map(|a| a.as_str()).collect();
        assert_eq!(names, ["ecs", "ens", "cvm", "alibaba-sts", "tencent-sts"]);
        let alibaba: Vec<bool> = all.iter().map(|a| a.is_alibaba()).collect();
        assert_eq!(alibaba, [true, true, false, true, false]);
        assert_eq!(
            serde_json::to_value(Api::Sts(Vendor::Alibaba)).unwrap(),
            "alibaba-sts"
        );
        assert_eq!(Api::Sts(Vendor::Alibaba).product(), "sts");
    }

    #[test]
    fn documented_rates_per_api() {
        assert_eq!(
            Api::Sts(Vendor::Tencent).builtin_rate("AssumeRole"),
            Some(600)
        );
        assert_eq!(
            Api::Sts(Vendor::Alibaba).builtin_rate("AssumeRole"),
            Some(100)
        );
        assert_eq!(Api::KeyPairs(Cloud::Cvm).builtin_rate("AssumeRole"), None);
        assert_eq!(Api::TencentTag.builtin_rate("TagResources"), Some(20));
        assert_eq!(Api::KeyPairs(Cloud::Cvm).builtin_rate("TagResources"), None);
        assert_eq!(
            Api::KeyPairs(Cloud::Cvm).builtin_rate("DeleteKeyPairs"),
            Some(10)
        );
    }
}
