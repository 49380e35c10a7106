//! The three clouds as the tests and benchmarks see them, in one table: where keys live, what
//! the bind calls are named, how many instances one call takes, what instance ids look like and
//! how an attachment refers to its key.
//!
//! What the provider states itself is read from its table ([`CloudKind::limits`]): the cloud's
//! name, instances per bind call, whether running instances take a key. Where keys live is the
//! emulator's ([`sshkey::emulator::profile::Profile`]). Only what neither states is written
//! here: the region the tests use, the bind calls' names, the shape of the instance ids the
//! tests make (checked against the provider's rule) and which attribute names an attachment's
//! key.

use sshkey::cloud::rules::BindRunning;
use sshkey::cloud::CloudKind;
use sshkey::emulator::store::GLOBAL_REGION;

/// One cloud's test-facing facts.
#[derive(Clone, Copy, Debug)]
pub struct Cloud {
    pub kind: CloudKind,
    /// The region the tests use.
    pub region: &'static str,
    pub detach: &'static str,
    pub attach: &'static str,
    /// Instance ids are this prefix and eight digits (`i-` takes letters and digits; CVM's
    /// `ins-` exactly eight lower-case letters or digits).
    instance_prefix: &'static str,
    /// Whether an attachment names its key by name (ECS) rather than by id.
    key_by_name: bool,
}

pub const ECS: Cloud = Cloud {
    kind: CloudKind::Ecs,
    region: "cn-hangzhou",
    detach: "DetachKeyPair",
    attach: "AttachKeyPair",
    instance_prefix: "i-",
    key_by_name: true,
};

pub const ENS: Cloud = Cloud {
    kind: CloudKind::Ens,
    region: "cn-hangzhou",
    detach: "DetachKeyPair",
    attach: "AttachKeyPair",
    instance_prefix: "i-",
    key_by_name: false,
};

pub const CVM: Cloud = Cloud {
    kind: CloudKind::Cvm,
    region: "ap-guangzhou",
    detach: "DisassociateInstancesKeyPairs",
    attach: "AssociateInstancesKeyPairs",
    instance_prefix: "ins-",
    key_by_name: false,
};

/// Every cloud, in [`CloudKind::ALL`]'s order.
pub const ALL: [Cloud; 3] = [ECS, ENS, CVM];

/// The row of `kind`.
pub fn of(kind: CloudKind) -> Cloud {
    ALL.into_iter()
        .find(|c| c.kind == kind)
        .unwrap_or_else(|| panic!("no test row for {kind}"))
}

/// The row of the cloud named `name` (`ecs`, `ens` or `cvm`).
pub fn named(name: &str) -> Cloud {
    ALL.into_iter()
        .find(|c| c.name() == name)
        .unwrap_or_else(|| panic!("no cloud named {name:?}"))
}

impl Cloud {
    /// The provider's `cloud` value and the emulator's state key.
    pub fn name(&self) -> &'static str {
        self.kind.as_str()
    }

    /// Instances per attach/detach call.
    pub fn bind_limit(&self) -> usize {
        self.kind.limits().bind_batch
    }

    /// An instance status the cloud binds keys in without `force_stop` (ENS and CVM want
    /// stopped instances).
    pub fn bind_status(&self) -> &'static str {
        match self.kind.limits().bind_running {
            BindRunning::Yes => "Running",
            BindRunning::WithForceStop | BindRunning::No => "Stopped",
        }
    }

    /// The region the emulator keeps this cloud's keys under: the test region, or
    /// [`GLOBAL_REGION`] for ENS, whose key pairs are account-wide.
    pub fn key_region(&self) -> &'static str {
        let emulated = sshkey::emulator::Cloud::parse(self.name()).expect("an emulated cloud");
        if emulated.profile().regional_keys {
            self.region
        } else {
            GLOBAL_REGION
        }
    }

    /// The `i`-th instance id.
    pub fn instance_id(&self, i: usize) -> String {
        let id = format!("{}{i:08}", self.instance_prefix);
        if let Err(e) = self.kind.validate_instance_id(&id) {
            panic!("a test instance id the provider refuses: {e}");
        }
        id
    }

    /// The first `n` instance ids.
    pub fn instance_ids(&self, n: usize) -> Vec<String> {
        (0..n).map(|i| self.instance_id(i)).collect()
    }

    /// The HCL `format()` pattern that yields [`Cloud::instance_id`].
    pub fn instance_format(&self) -> String {
        format!("{}%08d", self.instance_prefix)
    }

    /// The attachment argument that refers to key pair resource `resource`.
    pub fn key_ref(&self, resource: &str) -> String {
        if self.key_by_name {
            format!("key_pair_name = sshkey_key_pair.{resource}.name")
        } else {
            format!("key_id = sshkey_key_pair.{resource}.key_id")
        }
    }
}

impl super::Emulator {
    /// Seeds `n` instances of cloud `c` in its test region, in the state binds need (ENS:
    /// stopped); those at the positions in `windows` run Windows. Their ids, in order.
    pub fn seed_instances(&self, c: &Cloud, n: usize, windows: &[usize]) -> Vec<String> {
        let ids = c.instance_ids(n);
        let instances: Vec<serde_json::Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let os = if windows.contains(&i) {
                    "windows"
                } else {
                    "linux"
                };
                serde_json::json!({"id": id, "os": os, "status": c.bind_status()})
            })
            .collect();
        self.instances(
            serde_json::json!({"cloud": c.name(), "region": c.region, "instances": instances}),
        );
        ids
    }

    /// The instances of cloud `c` that the emulator says hold a key, sorted: what the cloud
    /// holds, not what Terraform's state says.
    pub fn bound_instances(&self, c: &Cloud) -> Vec<String> {
        let mut ids: Vec<String> = self.state()[c.name()][c.region]["instances"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|i| i["keys"].as_array().is_some_and(|k| !k.is_empty()))
            .filter_map(|i| i["id"].as_str().map(String::from))
            .collect();
        ids.sort();
        ids
    }
}
