//! Cloud clients: one trait, three clouds.
//!
//! The provider engine and the coalescer speak only [`KeyPairApi`]; [`new_client`] picks the
//! implementation from [`CloudKind`]. The clouds differ in parameter names, limits, error codes
//! and response shapes; those differences live in data ([`rules`]) and small per-cloud functions,
//! while the mechanics are shared:
//!
//! - [`sign`]: request signing (ACS3, V2, TC3), shared with the emulator.
//! - `transport`: HTTP, timeouts, retries with backoff and jitter, the retry deadline.
//! - [`pacer`]: one pacer per account and action, at the cloud's documented rate, slowing down
//!   when throttled anyway.
//! - `alibaba`: ECS and ENS (one RPC transport, two parameter dialects).
//! - `tencent`: CVM, with Tencent's JSON envelope.
//! - [`error`], [`rules`]: the error type and the per-cloud limits and naming rules.

mod alibaba;
pub(crate) mod error;
mod fields;
pub(crate) mod idempotent;
pub(crate) mod pacer;
pub mod public_key;
pub mod rules;
pub mod sign;
pub(crate) mod sts;
mod tencent;
mod transport;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub(crate) use error::{CloudError, ErrorKind};
pub(crate) use rules::{Limits, NameRuleError};

/// The retry deadline of a call is this many request timeouts.
pub(crate) const RETRY_DEADLINE_FACTOR: u32 = 4;

/// The clouds we manage key pairs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CloudKind {
    /// Alibaba Cloud Elastic Compute Service, API 2014-05-26.
    Ecs,
    /// Alibaba Cloud Edge Node Service, API 2017-11-10.
    Ens,
    /// Tencent Cloud Virtual Machine, API 2017-03-12.
    Cvm,
}

impl CloudKind {
    /// Every cloud, for tables and tests.
    pub const ALL: [CloudKind; 3] = [CloudKind::Ecs, CloudKind::Ens, CloudKind::Cvm];

    /// The cloud's API limits.
    pub fn limits(self) -> &'static Limits {
        match self {
            Self::Ecs => &rules::ECS_LIMITS,
            Self::Ens => &rules::ENS_LIMITS,
            Self::Cvm => &rules::CVM_LIMITS,
        }
    }

    /// The cloud's key pair naming rule.
    pub(crate) fn name_rule(self) -> &'static rules::NameRule {
        match self {
            Self::Ecs => &rules::ECS_NAME_RULE,
            Self::Ens => &rules::ENS_NAME_RULE,
            Self::Cvm => &rules::CVM_NAME_RULE,
        }
    }

    /// Checks a key pair name against the cloud's rule.
    pub(crate) fn validate_key_name(self, name: &str) -> Result<(), NameRuleError> {
        self.name_rule().check(self, name)
    }

    /// Checks an instance id's format (`i-...` on Alibaba, `ins-` + 8 on CVM).
    pub fn validate_instance_id(self, id: &str) -> Result<(), String> {
        let rule = match self {
            Self::Ecs | Self::Ens => &rules::ALIBABA_INSTANCE_RULE,
            Self::Cvm => &rules::CVM_INSTANCE_RULE,
        };
        rule.check(self, id)
    }

    /// The lower-case name used in configuration (`ecs`, `ens`, `cvm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ecs => "ecs",
            Self::Ens => "ens",
            Self::Cvm => "cvm",
        }
    }
}

impl fmt::Display for CloudKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown cloud name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown cloud {0:?}: expected one of \"ecs\", \"ens\", \"cvm\"")]
pub struct UnknownCloud(pub String);

impl FromStr for CloudKind {
    type Err = UnknownCloud;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ecs" => Ok(Self::Ecs),
            "ens" => Ok(Self::Ens),
            "cvm" => Ok(Self::Cvm),
            _ => Err(UnknownCloud(s.to_string())),
        }
    }
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: String) -> Self {
        Self(s)
    }
    /// The secret itself; call only where it is used as key material.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The provider's credentials type (Tencent: SecretId / SecretKey).
///
/// [`sign::Credentials`] is the signer's internal view of the same pair; convert with `From`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    /// AccessKeyId / SecretId.
    pub access_key: String,
    /// AccessKeySecret / SecretKey.
    pub secret_key: Secret,
    /// The security token of temporary (STS) credentials.
    pub security_token: Option<Secret>,
}

impl Credentials {
    /// Long-term credentials: an access key pair without a token.
    pub fn long_term(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credentials {
            access_key: access_key.into(),
            secret_key: Secret::new(secret_key.into()),
            security_token: None,
        }
    }
}

impl From<&Credentials> for sign::Credentials {
    fn from(c: &Credentials) -> Self {
        sign::Credentials {
            access_key_id: c.access_key.clone(),
            access_key_secret: c.secret_key.expose().to_string(),
            security_token: c.security_token.as_ref().map(|t| t.expose().to_string()),
        }
    }
}

impl From<sign::Credentials> for Credentials {
    fn from(c: sign::Credentials) -> Self {
        Credentials {
            access_key: c.access_key_id,
            secret_key: Secret::new(c.access_key_secret),
            security_token: c.security_token.map(Secret::new),
        }
    }
}

/// Everything needed to build a client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Which cloud.
    pub kind: CloudKind,
    /// Region, e.g. `cn-hangzhou` or `ap-guangzhou` (ENS ignores it: its API is global).
    pub region: String,
    /// Access key pair.
    pub credentials: Credentials,
    /// Override of the cloud's public endpoint (the emulator, a VPC endpoint).
    pub endpoint: Option<url::Url>,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// Most retries after the first attempt.
    pub max_retries: u32,
    /// No retry starts after this much time since the first attempt.
    pub retry_deadline: Duration,
    /// A role to assume with `credentials`; the client then signs with its temporary ones.
    pub assume_role: Option<AssumeRole>,
    /// Override of the STS endpoint (default: `endpoint` when set, else the public one).
    pub sts_endpoint: Option<url::Url>,
}

/// What STS AssumeRole is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    /// `acs:ram::<account>:role/<name>` or `qcs::cam::uin/<uin>:roleName/<name>`.
    pub role_arn: String,
    /// `RoleSessionName`: who the role's actions are logged as.
    pub session_name: String,
    /// `DurationSeconds` of each set of temporary credentials.
    pub duration: Duration,
    /// `ExternalId`, when the role's trust policy requires one.
    pub external_id: Option<Secret>,
}

/// A key pair as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPair {
    /// The key pair name.
    pub name: String,
    /// The id used for delete/bind calls: ECS the name, ENS `ssh-...`, CVM `skey-...`.
    pub id: String,
    /// Fingerprint as reported (empty when the cloud reports none, as CVM).
    pub fingerprint: String,
    /// Creation time as reported.
    pub created_at: Option<String>,
    /// The generated private key: only in the answer to a create.
    pub private_key: Option<String>,
    /// The public key, when reported.
    pub public_key: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Alibaba resource group.
    pub resource_group_id: Option<String>,
    /// Tencent project.
    pub project_id: Option<i64>,
    /// Bound instances, when the API reports them (CVM `AssociatedInstanceIds`).
    pub instance_ids: Option<Vec<String>>,
}

/// What to create (or import, when `public_key` is set).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeySpec {
    /// Name of the new key pair.
    pub name: String,
    /// OpenSSH public key to import; `None` lets the cloud generate the pair.
    pub public_key: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Alibaba resource group.
    pub resource_group_id: Option<String>,
    /// Tencent project.
    pub project_id: Option<i64>,
}

/// Which key pairs to describe. Every variant returns all pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyQuery {
    /// Every key pair in the region.
    All,
    /// By id (ECS: the names).
    Ids(Vec<String>),
    /// By exact name.
    Names(Vec<String>),
    /// Names starting with a prefix (filtered client-side where the API cannot).
    NamePrefix(String),
}

/// One page of a key pair listing, for reading ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Only names matching this `*` pattern (ECS `KeyPairName`); `None` lists everything.
    pub name_pattern: Option<String>,
    /// Which page, from 0.
    pub index: usize,
    /// Keys per page, at most `limits().describe_page`.
    pub size: usize,
}

/// What one listing page returned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPage {
    /// The keys of this page, in the cloud's order.
    pub keys: Vec<KeyPair>,
    /// How many keys the whole listing holds (`TotalCount`) at the time of this page.
    pub total: usize,
}

/// An instance, reduced to what key bindings need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Instance {
    /// Instance id.
    pub id: String,
    /// Bound key pairs: ECS/ENS the key name, CVM the key ids.
    pub key_ids: Vec<String>,
    /// OS type as reported (`linux`, `windows`).
    pub os: Option<String>,
    /// Status as reported (`Running`, `Stopped`, ...).
    pub status: Option<String>,
}

impl Instance {
    /// Whether this instance holds the key pair `key_id` named `key_name`, as `kind` reports it.
    pub(crate) fn holds(&self, kind: CloudKind, key_id: &str, key_name: &str) -> bool {
        let wanted = match kind.limits().instance_key {
            rules::InstanceKey::Name => key_name,
            rules::InstanceKey::Id => key_id,
        };
        self.key_ids.iter().any(|k| k == wanted)
    }

    /// Why `kind` will not (dis)associate a key pair with this instance, as described, if it
    /// will not: the one rule the plan-time check and the apply-time split of a refused call
    /// both read.
    pub(crate) fn refusal(&self, kind: CloudKind, force_stop: bool) -> Option<Refusal> {
        let windows = self
            .os
            .as_deref()
            .is_some_and(|os| os.to_ascii_lowercase().contains("windows"));
        let running = self
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("running"));
        if windows {
            return Some(Refusal::Windows);
        }
        if !running {
            return None;
        }
        match kind.limits().bind_running {
            rules::BindRunning::Yes => None,
            rules::BindRunning::WithForceStop if force_stop => None,
            rules::BindRunning::WithForceStop => Some(Refusal::Running { force_stop: true }),
            rules::BindRunning::No => Some(Refusal::Running { force_stop: false }),
        }
    }
}

/// Why a cloud refuses to bind a key pair to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// It runs Windows, which takes no SSH key pair.
    Windows,
    /// It is running where the cloud binds stopped instances; `force_stop` says whether
    /// setting `force_stop = true` would let the cloud stop it (CVM) or it must be stopped
    /// first (ENS).
    Running { force_stop: bool },
}

/// Which instances to describe. Every variant returns all pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceQuery {
    /// By id.
    Ids(Vec<String>),
    /// Instances bound to this key id.
    BoundTo(String),
    /// Every instance in the region (one paged listing).
    All,
}

/// Options of an attach or detach call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BindOptions {
    /// CVM `ForceStop`: stop running instances so the binding can change.
    pub force_stop: bool,
}

/// The result of an attach/detach for one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceOutcome {
    /// The instance.
    pub instance_id: String,
    /// Ok, or the cloud's per-instance error.
    pub result: Result<(), CloudError>,
}

/// The key-pair API of one cloud, region and set of credentials.
#[async_trait]
pub trait KeyPairApi: Send + Sync + 'static {
    /// Which cloud this client talks to.
    fn kind(&self) -> CloudKind;
    /// Creates a key pair, or imports `spec.public_key` when set. A generated key comes back
    /// without `private_key` only when the cloud created it but the answer was lost (see
    /// [`idempotent::resolve_duplicate`]): the key exists and its private half is gone.
    async fn create_key_pair(&self, spec: &KeySpec) -> Result<KeyPair, CloudError>;
    /// Describes key pairs (all pages).
    async fn describe_key_pairs(&self, q: &KeyQuery) -> Result<Vec<KeyPair>, CloudError>;
    /// Fetches ONE page of a key pair listing. Pages shift while keys come and go: a key
    /// missing from a page is not proof that it is gone.
    async fn list_key_pairs(&self, page: &PageRequest) -> Result<KeyPage, CloudError>;
    /// Deletes key pairs in ONE call; `ids.len()` must not exceed `limits().delete_batch`.
    async fn delete_key_pairs(&self, ids: &[String]) -> Result<(), CloudError>;
    /// Binds a key pair to instances in ONE call (at most `limits().bind_batch`).
    async fn attach(
        &self,
        key_id: &str,
        instances: &[String],
        o: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError>;
    /// Unbinds a key pair from instances in ONE call (at most `limits().bind_batch`).
    async fn detach(
        &self,
        key_id: &str,
        instances: &[String],
        o: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError>;
    /// Describes instances (all pages).
    async fn describe_instances(&self, q: &InstanceQuery) -> Result<Vec<Instance>, CloudError>;
    /// Reboots an instance so a binding change takes effect (ECS only).
    async fn reboot_instance(&self, id: &str) -> Result<(), CloudError>;
    /// Changes the tags of key pair `key_id` in place: adds or overwrites `set`, removes the
    /// keys in `remove`, in as many calls as the cloud's per-call limit needs
    /// (`limits().tagging`). Clouds without tags refuse.
    async fn tag_key_pair(
        &self,
        key_id: &str,
        set: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), CloudError> {
        let _ = (key_id, set, remove);
        Err(unsupported(self.kind(), "TagResources", "tags"))
    }
    /// Moves key pair `key_id` to resource group `group` (`limits().join_resource_group`).
    async fn join_resource_group(&self, key_id: &str, group: &str) -> Result<(), CloudError> {
        let _ = (key_id, group);
        Err(unsupported(
            self.kind(),
            "JoinResourceGroup",
            "resource groups",
        ))
    }
}

/// The error of a call a cloud does not have.
pub(crate) fn unsupported(kind: CloudKind, action: &str, what: &str) -> CloudError {
    CloudError::local(
        kind,
        action,
        ErrorKind::InvalidInput,
        "Unsupported",
        format!("{kind} key pairs have no {what}"),
    )
}

/// Builds the client for `cfg.kind`.
pub fn new_client(cfg: ClientConfig) -> Result<Arc<dyn KeyPairApi>, CloudError> {
    if cfg.credentials.access_key.is_empty() || cfg.credentials.secret_key.expose().is_empty() {
        return Err(CloudError::local(
            cfg.kind,
            "Configure",
            ErrorKind::Auth,
            "MissingCredentials",
            "access key and secret key must both be set",
        ));
    }
    let session = sts::Session::new(&cfg)?;
    Ok(match cfg.kind {
        CloudKind::Ecs | CloudKind::Ens => Arc::new(alibaba::AlibabaClient::new(cfg, session)?),
        CloudKind::Cvm => Arc::new(tencent::TencentClient::new(cfg, session)?),
    })
}

/// The configured endpoint, or the cloud's public one (`{region}` filled in).
fn resolve_endpoint(cfg: &ClientConfig, default: &str) -> Result<url::Url, CloudError> {
    let bad = |msg: String| {
        CloudError::local(
            cfg.kind,
            "Configure",
            ErrorKind::InvalidInput,
            "InvalidEndpoint",
            msg,
        )
    };
    let url = match &cfg.endpoint {
        Some(u) => u.clone(),
        None => {
            if cfg.region.is_empty() && default.contains("{region}") {
                return Err(bad(format!("{} needs a region", cfg.kind)));
            }
            url::Url::parse(&default.replace("{region}", &cfg.region))
                .map_err(|e| bad(format!("invalid region {:?}: {e}", cfg.region)))?
        }
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad(format!(
            "endpoint {url} must be an http(s) URL with a host"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_kind_round_trip() {
        for k in CloudKind::ALL {
            assert_eq!(k.to_string().parse::<CloudKind>(), Ok(k));
        }
        assert_eq!("ECS".parse::<CloudKind>(), Ok(CloudKind::Ecs));
        assert!("aws".parse::<CloudKind>().is_err());
    }

    #[test]
    fn refusal_follows_each_clouds_rule_for_running_instances() {
        let inst = |os: &str, status: &str| Instance {
            id: "i-1".into(),
            os: Some(os.into()),
            status: Some(status.into()),
            ..Instance::default()
        };
        let running = inst("linux", "RUNNING");
        assert_eq!(running.refusal(CloudKind::Ecs, false), None);
        assert_eq!(running.refusal(CloudKind::Cvm, true), None);
        assert_eq!(
            running.refusal(CloudKind::Cvm, false),
            Some(Refusal::Running { force_stop: true })
        );
        assert_eq!(
            running.refusal(CloudKind::Ens, false),
            Some(Refusal::Running { force_stop: false }),
            "ENS binds stopped instances only, whatever force_stop says"
        );
        for kind in CloudKind::ALL {
            assert_eq!(inst("linux", "Stopped").refusal(kind, false), None);
            assert_eq!(
                inst("Windows Server 2022", "Stopped").refusal(kind, true),
                Some(Refusal::Windows)
            );
        }
        assert_eq!(Instance::default().refusal(CloudKind::Ens, false), None);
    }

    #[test]
    fn secret_is_not_debug_printed() {
        let c = Credentials {
            security_token: Some(Secret::new("tokentoken".into())),
            ..Credentials::long_term("AK", "topsecret")
        };
        let s = format!("{c:?}");
        assert!(s.contains("AK") && s.contains("***") && !s.contains("topsecret"));
        assert!(!s.contains("tokentoken"), "{s}");
        let shown = format!("{:?}", sign::Credentials::from(&c));
        assert!(
            !shown.contains("topsecret") && !shown.contains("tokentoken"),
            "{shown}"
        );
        let signer: sign::Credentials = (&c).into();
        assert_eq!(signer.access_key_secret, "topsecret");
        assert_eq!(Credentials::from(signer), c);
    }
}
