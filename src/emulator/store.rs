//! The emulated clouds' data: key pairs and instances, per cloud and region.
//!
//! The store knows nothing about the wire: the operations in [`super::ops`] translate requests
//! into these plain reads and writes. It is serializable so `--state-file` can keep it across
//! restarts.

use serde::{Deserialize, Serialize};

use super::profile::{Cloud, KeyRef};

/// The region under which account-wide key pairs (ENS) are stored.
pub const GLOBAL_REGION: &str = "global";

/// A key pair as the clouds store it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyPair {
    /// Owning cloud.
    pub cloud: Cloud,
    /// Region (or [`GLOBAL_REGION`]).
    pub region: String,
    /// Cloud-side id: the name on ECS, `ssh-...` on ENS, `skey-xxxxxxxx` on CVM.
    pub id: String,
    /// User-chosen name.
    pub name: String,
    /// MD5 fingerprint of the public key blob.
    pub fingerprint: String,
    /// OpenSSH public key line.
    pub public_key: String,
    /// Creation time, RFC 3339 UTC.
    pub creation_time: String,
    /// ECS resource group.
    #[serde(default)]
    pub resource_group_id: String,
    /// ECS tags.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// CVM project.
    #[serde(default)]
    pub project_id: i64,
    /// CVM description.
    #[serde(default)]
    pub description: String,
    /// Custom images made from instances holding this key (CVM keeps such keys on delete).
    /// Set through a snapshot (`POST /_emulator/snapshot`): the emulator has no image API.
    #[serde(default)]
    pub images: Vec<String>,
}

impl KeyPair {
    /// What an instance stores to reference this key: the id on CVM, the name on Alibaba.
    pub(crate) fn binding_ref(&self) -> &str {
        match self.cloud.profile().instances_hold {
            KeyRef::Id => &self.id,
            KeyRef::Name => &self.name,
        }
    }
}

/// Instance operating system family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// SSH keys work.
    Linux,
    /// SSH keys are refused.
    Windows,
}

/// Instance power state. The admin API takes each cloud's spelling: `Running` (ECS, ENS),
/// `RUNNING` (CVM's `InstanceState`), or lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Running.
    #[serde(alias = "RUNNING", alias = "running")]
    Running,
    /// Stopped.
    #[serde(alias = "STOPPED", alias = "stopped")]
    Stopped,
}

/// An instance seeded through the admin API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Owning cloud.
    pub cloud: Cloud,
    /// Region.
    pub region: String,
    /// Instance id.
    pub id: String,
    /// OS family.
    pub os: Os,
    /// Power state.
    pub status: Status,
    /// Bound keys: at most one name on ECS/ENS, any number of key ids on CVM.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Reboots (ECS) or forced stops (CVM) so far: tests check that binding changes took effect.
    #[serde(default)]
    pub reboots: u32,
}

/// All key pairs and instances.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Store {
    /// Key pairs in creation order.
    pub keys: Vec<KeyPair>,
    /// Instances in seeding order.
    pub instances: Vec<Instance>,
}

impl Store {
    /// The key pairs of one cloud and key region, in creation order.
    pub(crate) fn keys_in<'a>(
        &'a self,
        cloud: Cloud,
        region: &'a str,
    ) -> impl Iterator<Item = &'a KeyPair> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.cloud == cloud && k.region == region)
    }

    /// Index of the key named `name`.
    pub(crate) fn key_by_name(&self, cloud: Cloud, region: &str, name: &str) -> Option<usize> {
        self.keys
            .iter()
            .position(|k| k.cloud == cloud && k.region == region && k.name == name)
    }

    /// Index of the key with id `id`.
    pub(crate) fn key_by_id(&self, cloud: Cloud, region: &str, id: &str) -> Option<usize> {
        self.keys
            .iter()
            .position(|k| k.cloud == cloud && k.region == region && k.id == id)
    }

    /// Index of instance `id`; `region` `None` searches every region of the cloud.
    pub(crate) fn instance(&self, cloud: Cloud, region: Option<&str>, id: &str) -> Option<usize> {
        self.instances
            .iter()
            .position(|i| i.cloud == cloud && i.id == id && region.is_none_or(|r| i.region == r))
    }

    /// Ids of the instances of `cloud` that reference `key` (by [`KeyPair::binding_ref`]).
    pub(crate) fn bound_instances(&self, key: &KeyPair) -> Vec<String> {
        let r = key.binding_ref();
        self.instances
            .iter()
            .filter(|i| {
                i.cloud == key.cloud
                    && (!key_is_regional(key) || i.region == key.region)
                    && i.keys.iter().any(|k| k == r)
            })
            .map(|i| i.id.clone())
            .collect()
    }

    /// Adds or replaces instances (same cloud, region and id).
    pub(crate) fn upsert_instance(&mut self, inst: Instance) {
        match self.instance(inst.cloud, Some(&inst.region), &inst.id) {
            Some(i) => self.instances[i] = inst,
            None => self.instances.push(inst),
        }
    }
}

fn key_is_regional(key: &KeyPair) -> bool {
    key.region != GLOBAL_REGION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_in_every_cloud_s_spelling() {
        for (text, status) in [
            ("Running", Status::Running),
            ("RUNNING", Status::Running),
            ("running", Status::Running),
            ("Stopped", Status::Stopped),
            ("STOPPED", Status::Stopped),
        ] {
            let parsed: Status = serde_json::from_value(serde_json::json!(text)).unwrap();
            assert_eq!(parsed, status, "{text}");
        }
        assert!(serde_json::from_value::<Status>(serde_json::json!("Sleeping")).is_err());
    }

    fn key(cloud: Cloud, region: &str, id: &str, name: &str) -> KeyPair {
        KeyPair {
            cloud,
            region: region.into(),
            id: id.into(),
            name: name.into(),
            fingerprint: String::new(),
            public_key: String::new(),
            creation_time: String::new(),
            resource_group_id: String::new(),
            tags: vec![],
            project_id: 0,
            description: String::new(),
            images: vec![],
        }
    }

    fn inst(cloud: Cloud, region: &str, id: &str, keys: &[&str]) -> Instance {
        Instance {
            cloud,
            region: region.into(),
            id: id.into(),
            os: Os::Linux,
            status: Status::Running,
            keys: keys.iter().map(|k| k.to_string()).collect(),
            reboots: 0,
        }
    }

    #[test]
    fn bindings_follow_cloud_and_region() {
        let mut s = Store::default();
        s.keys.push(key(Cloud::Ecs, "r1", "k", "k"));
        s.keys.push(key(Cloud::Cvm, "r1", "skey-00000001", "k"));
        s.keys.push(key(Cloud::Ens, GLOBAL_REGION, "ssh-1", "e"));
        s.upsert_instance(inst(Cloud::Ecs, "r1", "i-1", &["k"]));
        s.upsert_instance(inst(Cloud::Ecs, "r2", "i-2", &["k"]));
        s.upsert_instance(inst(Cloud::Cvm, "r1", "ins-1", &["skey-00000001"]));
        s.upsert_instance(inst(Cloud::Ens, "x", "i-e", &["e"]));
        assert_eq!(s.bound_instances(&s.keys[0]), vec!["i-1"]);
        assert_eq!(s.bound_instances(&s.keys[1]), vec!["ins-1"]);
        assert_eq!(s.bound_instances(&s.keys[2]), vec!["i-e"]);
        assert_eq!(s.key_by_name(Cloud::Ecs, "r1", "k"), Some(0));
        assert_eq!(s.key_by_id(Cloud::Cvm, "r1", "skey-00000001"), Some(1));
        assert_eq!(s.instance(Cloud::Ecs, None, "i-2"), Some(1));
        assert_eq!(s.instance(Cloud::Ecs, Some("r1"), "i-2"), None);
        s.upsert_instance(inst(Cloud::Ecs, "r1", "i-1", &[]));
        assert_eq!(s.instances.len(), 4);
        assert!(s.bound_instances(&s.keys[0]).is_empty());
    }
}
