//! Tagging key pairs and moving them between resource groups: ECS's TagResources,
//! UntagResources and JoinResourceGroup (`ResourceType=keypair`, in the ECS API itself), and
//! Tencent's Tag API TagResources / UnTagResources, a service of its own that names CVM key
//! pairs by six-segment resource names.
//!
//! The two vendors' calls check and change the same thing, so the checks ([`check_set`],
//! [`check_removal`]) and the change ([`set_tags`], [`remove_tags`]) are written once against
//! a [`TagProfile`]; only how resources are named and how a missing one is reported differ
//! (ECS fails the call, Tencent lists it under `FailedResources`).

use serde_json::{json, Map, Value};

use super::Ctx;
use crate::emulator::profile::Cloud;
use crate::emulator::store::{KeyPair, Store};
use crate::emulator::tag_profile::{KeyPairResource, TagProfile, ECS_TAGS, TENCENT_TAGS};
use crate::emulator::wire::{ApiError, ApiRequest, ListEncoding, Params};

/// The only resource type the emulator tags (ECS `ResourceType`).
const KEYPAIR: &str = "keypair";

/// ECS TagResources.
pub(super) fn ecs_tag(ctx: &Ctx<'_>, store: &mut Store) -> Result<Map<String, Value>, ApiError> {
    let t = &ECS_TAGS;
    let targets = ecs_targets(ctx, store, t)?;
    let tags = tags_of(&ctx.req.params, t)?;
    check_set(t, &tags)?;
    for &i in &targets {
        check_quota(t, &store.keys[i], &tags)?;
    }
    for &i in &targets {
        set_tags(&mut store.keys[i], &tags);
    }
    tracing::info!(
        keys = targets.len(),
        tags = tags.len(),
        "ecs key pairs tagged"
    );
    Ok(Map::new())
}

/// ECS UntagResources: the keys of `TagKey.N`, or every tag with `All=true` and no key.
pub(super) fn ecs_untag(ctx: &Ctx<'_>, store: &mut Store) -> Result<Map<String, Value>, ApiError> {
    let t = &ECS_TAGS;
    let targets = ecs_targets(ctx, store, t)?;
    let keys = keys_of(&ctx.req.params, t)?;
    check_removal(t, &keys)?;
    let all = ctx.req.params.bool("All")?.unwrap_or(false);
    for &i in &targets {
        let key = &mut store.keys[i];
        if keys.is_empty() && all {
            key.tags.clear();
        } else {
            remove_tags(key, &keys);
        }
    }
    tracing::info!(keys = targets.len(), "ecs key pairs untagged");
    Ok(Map::new())
}

/// ECS JoinResourceGroup: one key pair into the group `ResourceGroupId`.
pub(super) fn join_resource_group(
    ctx: &Ctx<'_>,
    store: &mut Store,
) -> Result<Map<String, Value>, ApiError> {
    let params = &ctx.req.params;
    resource_type(params)?;
    let group = params
        .str("ResourceGroupId")
        .ok_or_else(|| ApiError::missing("ResourceGroupId"))?;
    // Alibaba resource group ids are `rg-` and an account-unique suffix; the emulated account
    // has every such group.
    if !group.starts_with("rg-") || group.len() < 4 {
        return Err(ApiError::new(
            404,
            "InvalidResourceGroupId.NotFound",
            format!("The specified resource group {group} does not exist."),
        ));
    }
    let id = params
        .str("ResourceId")
        .ok_or_else(|| ApiError::missing("ResourceId"))?;
    let index = store
        .key_by_name(Cloud::Ecs, ctx.key_region(), &id)
        .ok_or_else(|| not_found(&ECS_TAGS, &id))?;
    store.keys[index].resource_group_id = group;
    Ok(Map::new())
}

/// `ResourceType` must be `keypair`: the other ECS resource types are not emulated.
fn resource_type(params: &Params) -> Result<(), ApiError> {
    let ty = params
        .str("ResourceType")
        .ok_or_else(|| ApiError::missing("ResourceType"))?;
    if ty.eq_ignore_ascii_case(KEYPAIR) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            ECS_TAGS.codes.resource_invalid,
            format!("The specified ResourceType {ty} is not supported."),
        ))
    }
}

/// The key pairs an ECS tagging call names; every one must exist.
fn ecs_targets(ctx: &Ctx<'_>, store: &Store, t: &TagProfile) -> Result<Vec<usize>, ApiError> {
    resource_type(&ctx.req.params)?;
    let ids = ctx
        .req
        .params
        .list(
            t.resources_param,
            "InvalidResourceId.Malformed",
            ListEncoding::Array,
        )?
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| ApiError::missing(&format!("{}.1", t.resources_param)))?;
    if ids.len() > t.resources_max {
        return Err(over_limit(t, t.resources_param, t.resources_max));
    }
    ids.iter()
        .map(|id| {
            store
                .key_by_name(Cloud::Ecs, ctx.key_region(), id)
                .ok_or_else(|| not_found(t, id))
        })
        .collect()
}

/// Tencent Tag API TagResources / UnTagResources on CVM key pairs.
pub(crate) fn tencent(store: &mut Store, req: &ApiRequest) -> Result<Map<String, Value>, ApiError> {
    let t = &TENCENT_TAGS;
    let tagging = if req.action == t.tag_action {
        true
    } else if req.action == t.untag_action {
        false
    } else {
        return Err(super::unknown_action(req.cloud, &req.action));
    };
    let names = req
        .params
        .list(
            t.resources_param,
            "InvalidParameterValue",
            ListEncoding::Array,
        )?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::missing(t.resources_param))?;
    if names.len() > t.resources_max {
        return Err(over_limit(t, t.resources_param, t.resources_max));
    }
    let resources = names
        .iter()
        .map(|n| {
            KeyPairResource::parse(n).ok_or_else(|| {
                ApiError::invalid(
                    t.codes.resource_invalid,
                    format!("The resource description {n} is not valid."),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (tags, keys) = if tagging {
        let tags = tags_of(&req.params, t)?;
        check_set(t, &tags)?;
        (tags, Vec::new())
    } else {
        let keys = keys_of(&req.params, t)?;
        if keys.is_empty() {
            return Err(ApiError::missing(t.keys_param));
        }
        check_removal(t, &keys)?;
        (Vec::new(), keys)
    };
    // A resource that does not exist fails alone, listed in the answer; the others change.
    let mut failed = Vec::new();
    let mut targets = Vec::new();
    for (name, r) in names.iter().zip(&resources) {
        match store.key_by_id(Cloud::Cvm, &r.region, &r.key_id) {
            Some(i) => match check_quota(t, &store.keys[i], &tags) {
                Ok(()) => targets.push(i),
                Err(e) => {
                    failed.push(json!({"Resource": name, "Code": e.code, "Message": e.message}))
                }
            },
            None => {
                let e = not_found(t, &r.key_id);
                failed.push(json!({"Resource": name, "Code": e.code, "Message": e.message}));
            }
        }
    }
    for i in targets {
        if tagging {
            set_tags(&mut store.keys[i], &tags);
        } else {
            remove_tags(&mut store.keys[i], &keys);
        }
    }
    tracing::info!(action = %req.action, resources = names.len(), failed = failed.len(), "cvm key pairs tagged through the Tag API");
    let mut body = Map::new();
    body.insert("FailedResources".into(), Value::Array(failed));
    Ok(body)
}

/// The `{key, value}` objects of a tagging call, in order.
fn tags_of(params: &Params, t: &TagProfile) -> Result<Vec<(String, String)>, ApiError> {
    let (key_field, value_field) = t.tag_fields;
    params
        .objects(t.tags_param)
        .iter()
        .map(|o| {
            let key = o
                .get(key_field)
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::missing(&format!("{}.N.{key_field}", t.tags_param)))?;
            let value = o.get(value_field).and_then(Value::as_str).unwrap_or("");
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

/// The tag keys of an untag call.
fn keys_of(params: &Params, t: &TagProfile) -> Result<Vec<String>, ApiError> {
    Ok(params
        .list(t.keys_param, "InvalidTagKey.Malformed", ListEncoding::Array)?
        .unwrap_or_default())
}

fn check_set(t: &TagProfile, tags: &[(String, String)]) -> Result<(), ApiError> {
    if tags.is_empty() {
        return Err(ApiError::missing(t.tags_param));
    }
    if tags.len() > t.tags_max {
        return Err(over_limit(t, t.tags_param, t.tags_max));
    }
    check_keys(t, tags.iter().map(|(k, _)| k.as_str()))
}

fn check_removal(t: &TagProfile, keys: &[String]) -> Result<(), ApiError> {
    if keys.len() > t.tags_max {
        return Err(over_limit(t, t.keys_param, t.tags_max));
    }
    check_keys(t, keys.iter().map(String::as_str))
}

fn check_keys<'a>(t: &TagProfile, mut keys: impl Iterator<Item = &'a str>) -> Result<(), ApiError> {
    match keys.find(|k| t.reserved_key(k)) {
        Some(k) => Err(ApiError::invalid(
            t.codes.key_invalid,
            format!("The tag key {k:?} is empty or reserved."),
        )),
        None => Ok(()),
    }
}

/// A key pair may carry at most `per_resource_max` tags after the change.
fn check_quota(t: &TagProfile, key: &KeyPair, tags: &[(String, String)]) -> Result<(), ApiError> {
    let added = tags
        .iter()
        .filter(|(k, _)| !key.tags.iter().any(|(have, _)| have == k))
        .count();
    if key.tags.len() + added > t.per_resource_max {
        return Err(ApiError::invalid(
            t.codes.quota,
            format!(
                "A resource can have at most {} tags; {} has {}.",
                t.per_resource_max,
                key.id,
                key.tags.len()
            ),
        ));
    }
    Ok(())
}

/// Adds each tag, overwriting the value of a key the key pair already has.
fn set_tags(key: &mut KeyPair, tags: &[(String, String)]) {
    for (k, v) in tags {
        match key.tags.iter_mut().find(|(have, _)| have == k) {
            Some(slot) => slot.1 = v.clone(),
            None => key.tags.push((k.clone(), v.clone())),
        }
    }
}

/// Removes the tags of these keys; keys the key pair has not are no error.
fn remove_tags(key: &mut KeyPair, keys: &[String]) {
    key.tags.retain(|(k, _)| !keys.contains(k));
}

fn over_limit(t: &TagProfile, param: &str, max: usize) -> ApiError {
    ApiError::invalid(
        t.codes.over_limit,
        format!("The parameter {param} may hold at most {max} items."),
    )
}

fn not_found(t: &TagProfile, id: &str) -> ApiError {
    ApiError::new(
        t.codes.not_found_status,
        t.codes.resource_not_found,
        format!("The specified resource {id} does not exist."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> KeyPair {
        KeyPair {
            cloud: Cloud::Cvm,
            region: "ap-guangzhou".into(),
            id: "skey-abcd1234".into(),
            name: "k".into(),
            fingerprint: String::new(),
            public_key: String::new(),
            creation_time: String::new(),
            resource_group_id: String::new(),
            tags: vec![("a".into(), "1".into())],
            project_id: 0,
            description: String::new(),
            images: vec![],
        }
    }

    #[test]
    fn set_overwrites_and_remove_ignores_missing_keys() {
        let mut k = key();
        set_tags(
            &mut k,
            &[("a".into(), "2".into()), ("b".into(), "3".into())],
        );
        assert_eq!(
            k.tags,
            vec![("a".into(), "2".into()), ("b".into(), "3".into())]
        );
        remove_tags(&mut k, &["a".into(), "zz".into()]);
        assert_eq!(k.tags, vec![("b".into(), "3".into())]);
    }

    #[test]
    fn limits_and_reserved_keys_are_refused() {
        let many: Vec<(String, String)> =
            (0..11).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(
            check_set(&TENCENT_TAGS, &many).unwrap_err().code,
            TENCENT_TAGS.codes.over_limit
        );
        assert!(check_set(&ECS_TAGS, &many).is_ok(), "ECS takes 20 per call");
        assert_eq!(
            check_set(&ECS_TAGS, &[("acs:x".into(), String::new())])
                .unwrap_err()
                .code,
            ECS_TAGS.codes.key_invalid
        );
        assert!(check_set(&ECS_TAGS, &[]).is_err());
        let mut full = key();
        full.tags = (0..20).map(|i| (format!("t{i}"), String::new())).collect();
        assert!(check_quota(&ECS_TAGS, &full, &[("t1".into(), "x".into())]).is_ok());
        assert_eq!(
            check_quota(&ECS_TAGS, &full, &[("new".into(), "x".into())])
                .unwrap_err()
                .code,
            ECS_TAGS.codes.quota
        );
    }
}
