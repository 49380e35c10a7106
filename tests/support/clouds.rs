//! The three clouds as acceptance tests and benchmarks see them, in one table: where keys live,
//! what the bind calls are named, how many instances one call takes, what instance ids look
//! like and how an attachment refers to its key.

/// One cloud's test-facing facts.
#[derive(Clone, Copy, Debug)]
pub struct Cloud {
    /// The provider's `cloud` value and the emulator's state key.
    pub name: &'static str,
    pub region: &'static str,
    pub detach: &'static str,
    pub attach: &'static str,
    /// Instances per attach/detach call.
    pub bind_limit: usize,
    /// An instance status the cloud binds keys in (ENS and CVM want stopped instances).
    pub bind_status: &'static str,
    /// Instance ids are this prefix and eight digits (`i-` takes letters and digits; CVM's
    /// `ins-` exactly eight lower-case letters or digits).
    instance_prefix: &'static str,
    /// Whether an attachment names its key by name (ECS) rather than by id.
    key_by_name: bool,
}

pub const ECS: Cloud = Cloud {
    name: "ecs",
    region: "cn-hangzhou",
    detach: "DetachKeyPair",
    attach: "AttachKeyPair",
    bind_limit: 50,
    bind_status: "Running",
    instance_prefix: "i-",
    key_by_name: true,
};

pub const ENS: Cloud = Cloud {
    name: "ens",
    region: "cn-hangzhou",
    detach: "DetachKeyPair",
    attach: "AttachKeyPair",
    bind_limit: 30,
    bind_status: "Stopped",
    instance_prefix: "i-",
    key_by_name: false,
};

pub const CVM: Cloud = Cloud {
    name: "cvm",
    region: "ap-guangzhou",
    detach: "DisassociateInstancesKeyPairs",
    attach: "AssociateInstancesKeyPairs",
    bind_limit: 100,
    bind_status: "Stopped",
    instance_prefix: "ins-",
    key_by_name: false,
};

impl Cloud {
    /// The `i`-th instance id.
    pub fn instance_id(&self, i: usize) -> String {
        format!("{}{i:08}", self.instance_prefix)
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
