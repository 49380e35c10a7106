//! Response bodies in each cloud's real shape and types.
//!
//! Where the clouds differ in structure rather than in names, the difference is spelled out here
//! once: ECS wraps lists (`KeyPairs.KeyPair[]`, `Results.Result[]`) and types the bind results
//! as strings; ENS uses a flat `Results[]` with integers and booleans; CVM puts everything under
//! `Response` with `KeyPairSet[]` / `InstanceSet[]` (names as in the official SDK models).
//! AssumeRole answers in each STS's shape: Alibaba `AssumedRoleUser` and
//! `Credentials{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`, Tencent
//! `Credentials{Token, TmpSecretId, TmpSecretKey}` with `ExpiredTime` and `Expiration`.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::cloud::sign::Credentials;

use super::api::Vendor;
use super::profile::Cloud;
use super::store::{Instance, KeyPair, Os, Status};

/// RFC 3339 UTC with seconds, as all three clouds print creation times.
pub(crate) fn timestamp(t: time::OffsetDateTime) -> String {
    crate::cloud::sign::acs3::format_date(t)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// CreateKeyPair / ImportKeyPair answer.
pub(crate) fn created(
    key: &KeyPair,
    private_pem: Option<&str>,
    imported: bool,
) -> Map<String, Value> {
    match key.cloud {
        Cloud::Ecs | Cloud::Ens => {
            let mut m = obj(json!({
                "KeyPairName": key.name,
                "KeyPairFingerPrint": key.fingerprint,
            }));
            if key.cloud == Cloud::Ens && !imported {
                m.insert("KeyPairId".into(), json!(key.id));
            }
            if let Some(pem) = private_pem {
                m.insert("PrivateKeyBody".into(), json!(pem));
            }
            m
        }
        Cloud::Cvm if imported => obj(json!({ "KeyId": key.id })),
        Cloud::Cvm => {
            let mut item = key_item(key, &[], true);
            if let (Value::Object(m), Some(pem)) = (&mut item, private_pem) {
                m.insert("PrivateKey".into(), json!(pem));
            }
            obj(json!({ "KeyPair": item }))
        }
    }
}

/// One key pair as DescribeKeyPairs lists it; `public_key` says whether the request asked for
/// the public key where the cloud lists it only on request (ECS).
pub(crate) fn key_item(key: &KeyPair, bound_instances: &[String], public_key: bool) -> Value {
    match key.cloud {
        Cloud::Ecs => {
            let mut item = json!({
                "KeyPairName": key.name,
                "KeyPairFingerPrint": key.fingerprint,
                "CreationTime": key.creation_time,
                "ResourceGroupId": key.resource_group_id,
                "Tags": { "Tag": key.tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>() },
            });
            if let (Value::Object(m), true) = (&mut item, public_key) {
                m.insert("PublicKey".into(), json!(key.public_key));
            }
            item
        }
        Cloud::Ens => json!({
            "KeyPairName": key.name,
            "KeyPairId": key.id,
            "KeyPairFingerPrint": key.fingerprint,
            "CreationTime": key.creation_time,
        }),
        Cloud::Cvm => json!({
            "KeyId": key.id,
            "KeyName": key.name,
            "ProjectId": key.project_id,
            "Description": key.description,
            "PublicKey": key.public_key,
            "AssociatedInstanceIds": bound_instances,
            "CreatedTime": key.creation_time,
            "Tags": key.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        }),
    }
}

/// The DescribeKeyPairs envelope; `a`/`b` are PageNumber/PageSize (Alibaba) or unused (CVM).
pub(crate) fn key_list(
    cloud: Cloud,
    items: Vec<Value>,
    total: usize,
    a: i64,
    b: i64,
) -> Map<String, Value> {
    match cloud {
        Cloud::Ecs | Cloud::Ens => obj(json!({
            "KeyPairs": { "KeyPair": items },
            "TotalCount": total,
            "PageNumber": a,
            "PageSize": b,
        })),
        Cloud::Cvm => obj(json!({ "TotalCount": total, "KeyPairSet": items })),
    }
}

/// Per-instance outcome of an attach/detach: `Err((code, message))` on failure.
pub(crate) type BindOutcome = Result<(), (&'static str, &'static str)>;

/// AttachKeyPair / DetachKeyPair answer (ECS strings, ENS numbers).
pub(crate) fn bind_results(
    cloud: Cloud,
    key: &KeyPair,
    results: &[(String, BindOutcome)],
) -> Map<String, Value> {
    let fail = results.iter().filter(|(_, r)| r.is_err()).count();
    let total = results.len();
    if cloud == Cloud::Ecs {
        let items: Vec<Value> = results
            .iter()
            .map(|(id, r)| match r {
                Ok(()) => json!({"InstanceId": id, "Success": "true", "Code": "200", "Message": "successful"}),
                Err((code, msg)) => json!({"InstanceId": id, "Success": "false", "Code": code, "Message": msg}),
            })
            .collect();
        obj(json!({
            "KeyPairName": key.name,
            "TotalCount": total.to_string(),
            "FailCount": fail.to_string(),
            "Results": { "Result": items },
        }))
    } else {
        let items: Vec<Value> = results
            .iter()
            .map(|(id, r)| match r {
                Ok(()) => json!({"InstanceId": id, "Success": true, "Code": 200, "Message": "success"}),
                Err((code, msg)) => json!({"InstanceId": id, "Success": false, "Code": 400, "Message": format!("{code}: {msg}")}),
            })
            .collect();
        obj(json!({
            "KeyPairId": key.id,
            "KeyPairName": key.name,
            "TotalCount": total,
            "FailCount": fail,
            "Results": items,
        }))
    }
}

/// One instance as DescribeInstances lists it.
pub(crate) fn instance_item(inst: &Instance) -> Value {
    let status = match inst.status {
        Status::Running => "Running",
        Status::Stopped => "Stopped",
    };
    let os = match inst.os {
        Os::Linux => "linux",
        Os::Windows => "windows",
    };
    let key_name = inst.keys.first().cloned().unwrap_or_default();
    match inst.cloud {
        Cloud::Ecs => json!({
            "InstanceId": inst.id,
            "RegionId": inst.region,
            "Status": status,
            "OSType": os,
            "KeyPairName": key_name,
        }),
        Cloud::Ens => json!({
            "InstanceId": inst.id,
            "EnsRegionId": inst.region,
            "Status": status,
            "OSName": os,
            "KeyPairName": key_name,
        }),
        Cloud::Cvm => json!({
            "InstanceId": inst.id,
            "InstanceState": status.to_ascii_uppercase(),
            "OsName": os,
            "Placement": { "Zone": format!("{}-1", inst.region), "ProjectId": 0 },
            "LoginSettings": { "KeyIds": inst.keys },
        }),
    }
}

/// The DescribeInstances envelope.
pub(crate) fn instance_list(
    cloud: Cloud,
    items: Vec<Value>,
    total: usize,
    a: i64,
    b: i64,
) -> Map<String, Value> {
    match cloud {
        Cloud::Ecs | Cloud::Ens => obj(json!({
            "Instances": { "Instance": items },
            "TotalCount": total,
            "PageNumber": a,
            "PageSize": b,
        })),
        Cloud::Cvm => obj(json!({ "TotalCount": total, "InstanceSet": items })),
    }
}

/// A role assumed: what AssumeRole answers about it.
#[derive(Debug)]
pub(crate) struct AssumedRole<'a> {
    /// The role's ARN.
    pub arn: &'a str,
    /// The request's `RoleSessionName`.
    pub session: &'a str,
    /// The issued key, secret and token.
    pub credentials: &'a Credentials,
    /// When they expire.
    pub expires_at: time::OffsetDateTime,
}

/// AssumeRole's answer, in `vendor`'s shape.
pub(crate) fn assumed_role(vendor: Vendor, role: &AssumedRole<'_>) -> Map<String, Value> {
    let c = role.credentials;
    let token = c.security_token.as_deref().unwrap_or_default();
    let expiration = timestamp(role.expires_at);
    match vendor {
        Vendor::Alibaba => obj(json!({
            "AssumedRoleUser": {
                "Arn": format!("{}/{}", role.arn, role.session),
                "AssumedRoleId": format!("{}:{}", role_id(role.arn), role.session),
            },
            "Credentials": {
                "AccessKeyId": c.access_key_id,
                "AccessKeySecret": c.access_key_secret,
                "SecurityToken": token,
                "Expiration": expiration,
            },
        })),
        Vendor::Tencent => obj(json!({
            "Credentials": {
                "Token": token,
                "TmpSecretId": c.access_key_id,
                "TmpSecretKey": c.access_key_secret,
            },
            "ExpiredTime": role.expires_at.unix_timestamp(),
            "Expiration": expiration,
        })),
    }
}

/// A role's id as Alibaba shows it (17 digits, e.g. `34458433936495123`): the same for every
/// session of one role, as a real role's id is, so derived from its ARN.
fn role_id(arn: &str) -> String {
    let digest = Sha256::digest(arn.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    format!(
        "{:017}",
        u64::from_be_bytes(first) % 100_000_000_000_000_000
    )
}
