//! CreateKeyPair, ImportKeyPair, DescribeKeyPairs and DeleteKeyPairs.

use serde_json::{Map, Value};

use super::{paging, Ctx};
use crate::emulator::keys;
use crate::emulator::profile::{
    BoundDelete, KeyId, KeyQuery, KeysToDelete, NameViolation, PublicKeyListing, TagParams,
};
use crate::emulator::render;
use crate::emulator::store::{KeyPair, Store};
use crate::emulator::wire::ApiError;

/// Creates a key pair: generated when `public_key` is `None`, imported otherwise.
pub(super) fn create(
    ctx: &Ctx<'_>,
    store: &mut Store,
    public_key: Option<String>,
    now: time::OffsetDateTime,
) -> Result<Map<String, Value>, ApiError> {
    let (p, params) = (ctx.p, &ctx.req.params);
    let cloud = ctx.cloud();
    let name_field = p.params.key_name;
    let name = params
        .str(name_field)
        .ok_or_else(|| ApiError::missing(name_field))?;
    check_name(ctx, &name)?;
    let project_id = match p.params.project_id {
        Some(field) => params.int(field)?.ok_or_else(|| ApiError::missing(field))?,
        None => 0,
    };
    if store.key_by_name(cloud, ctx.key_region(), &name).is_some() {
        return Err(ApiError::invalid(
            p.codes.duplicate,
            format!("The key pair \"{name}\" already exists."),
        ));
    }
    let (public, fingerprint, private) = match &public_key {
        Some(text) => {
            let (public, fp) = keys::parse_public(text)
                .map_err(|e| ApiError::invalid(p.codes.public_key_invalid, e.to_string()))?;
            (public, fp, None)
        }
        None => {
            let g = keys::generate(p.private_key)
                .map_err(|e| ApiError::new(500, "InternalError", e.to_string()))?;
            (g.public_openssh, g.fingerprint, Some(g.private_pem))
        }
    };
    let id = match p.key_id {
        KeyId::TheName => name.clone(),
        KeyId::Generated(shape) => loop {
            let id = shape.random();
            if store.key_by_id(cloud, ctx.key_region(), &id).is_none() {
                break id;
            }
        },
    };
    let tag_objects = match p.params.tags {
        TagParams::Flat(name) => params.objects(name),
        TagParams::Specification(name) => params
            .objects(name)
            .iter()
            .flat_map(|spec| match spec.get("Tags") {
                Some(Value::Array(tags)) => tags
                    .iter()
                    .filter_map(|t| t.as_object().cloned())
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            })
            .collect(),
    };
    let tags = tag_objects
        .iter()
        .filter_map(|t| {
            let k = t.get("Key")?.as_str()?.to_string();
            let v = t
                .get("Value")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            Some((k, v))
        })
        .collect();
    let key = KeyPair {
        cloud,
        region: ctx.key_region().to_string(),
        id,
        name,
        fingerprint,
        public_key: public,
        creation_time: render::timestamp(now),
        resource_group_id: params
            .str("ResourceGroupId")
            .or_else(|| p.default_resource_group.map(String::from))
            .unwrap_or_default(),
        tags,
        project_id,
        description: String::new(),
        images: Vec::new(),
    };
    let body = render::created(&key, private.as_deref(), public_key.is_some());
    tracing::info!(cloud = cloud.as_str(), key = %key.name, id = %key.id, "key pair created");
    store.keys.push(key);
    Ok(body)
}

fn check_name(ctx: &Ctx<'_>, name: &str) -> Result<(), ApiError> {
    let c = &ctx.p.codes;
    let code = match ctx.p.name_rule.check(name) {
        Ok(()) => return Ok(()),
        Err(NameViolation::Empty) => c.name_empty,
        Err(NameViolation::Length) => c.name_length,
        Err(NameViolation::Characters) => c.name_invalid,
    };
    Err(ApiError::invalid(
        code,
        format!("The specified key pair name \"{name}\" is not valid."),
    ))
}

/// Lists the key pairs of the request's region that its filters keep, one page of them.
pub(super) fn describe(ctx: &Ctx<'_>, store: &Store) -> Result<Map<String, Value>, ApiError> {
    let page = paging::requested(ctx, ctx.p.page_max)?;
    let mut matched: Vec<&KeyPair> = store.keys_in(ctx.cloud(), ctx.key_region()).collect();
    match ctx.p.key_query {
        KeyQuery::Parameters => filter_by_parameters(ctx, &mut matched),
        KeyQuery::IdsOrFilters => filter_by_ids_or_filters(ctx, &mut matched)?,
    }
    let public_key = lists_public_key(ctx)?;
    let total = matched.len();
    let items: Vec<Value> = matched
        .into_iter()
        .skip(page.skip)
        .take(page.take)
        .map(|k| render::key_item(k, &store.bound_instances(k), public_key))
        .collect();
    Ok(render::key_list(
        ctx.cloud(),
        items,
        total,
        page.start,
        page.size,
    ))
}

/// Whether this listing carries public keys: always, never, or (ECS) when asked.
fn lists_public_key(ctx: &Ctx<'_>) -> Result<bool, ApiError> {
    match ctx.p.listed_public_key {
        PublicKeyListing::Never => Ok(false),
        PublicKeyListing::Always => Ok(true),
        PublicKeyListing::OnRequest(param) => match ctx.req.params.str(param).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::invalid(
                "InvalidParameter",
                format!("The specified parameter {param} ({other:?}) is not valid: it takes true or false."),
            )),
        },
    }
}

fn filter_by_parameters(ctx: &Ctx<'_>, matched: &mut Vec<&KeyPair>) {
    let params = &ctx.req.params;
    if let Some(name) = params.str("KeyPairName") {
        if ctx.p.name_wildcards {
            matched.retain(|k| glob_match(&name, &k.name));
        } else {
            matched.retain(|k| k.name == name);
        }
    }
    if let Some(fp) = params.str("KeyPairFingerPrint") {
        matched.retain(|k| k.fingerprint == fp);
    }
    if let Some(id) = params.str("KeyPairId") {
        matched.retain(|k| k.id == id);
    }
    if let Some(rg) = params.str("ResourceGroupId") {
        matched.retain(|k| k.resource_group_id == rg);
    }
}

fn filter_by_ids_or_filters(ctx: &Ctx<'_>, matched: &mut Vec<&KeyPair>) -> Result<(), ApiError> {
    let ids = ctx.list("KeyIds", "InvalidParameterValue")?;
    let filters = ctx.req.params.objects("Filters");
    if ids.is_some() && !filters.is_empty() {
        return Err(ApiError::invalid(
            "InvalidParameter",
            "KeyIds and Filters cannot be specified at the same time.",
        ));
    }
    if let Some(ids) = ids {
        ctx.check_key_ids(&ids)?;
        matched.retain(|k| ids.contains(&k.id));
    }
    for f in filters {
        let name = f.get("Name").and_then(Value::as_str).unwrap_or("");
        let values: Vec<String> = f
            .get("Values")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        match name {
            "key-name" => matched.retain(|k| values.contains(&k.name)),
            "key-id" => matched.retain(|k| values.contains(&k.id)),
            "project-id" => matched.retain(|k| values.contains(&k.project_id.to_string())),
            other => {
                return Err(ApiError::invalid(
                    "InvalidFilter",
                    format!("The filter {other} is not supported."),
                ))
            }
        }
    }
    Ok(())
}

/// Deletes the key pairs the request names; bound ones as `policy` says.
pub(super) fn delete(
    ctx: &Ctx<'_>,
    store: &mut Store,
    policy: BoundDelete,
) -> Result<Map<String, Value>, ApiError> {
    let p = ctx.p;
    let (cloud, region) = (ctx.cloud(), ctx.key_region());
    let over_limit =
        |message: &str| ApiError::new(p.statuses.refused, p.codes.delete_limit, message);
    let targets: Vec<usize> = match p.delete_by {
        KeysToDelete::Names {
            param,
            invalid_code,
            over_limit: message,
        } => {
            let names = ctx.required_list(param, invalid_code)?;
            if names.len() > p.delete_max {
                return Err(over_limit(message));
            }
            // Names that do not exist are ignored, as the real API does.
            names
                .iter()
                .filter_map(|n| store.key_by_name(cloud, region, n))
                .collect()
        }
        KeysToDelete::Ids {
            param,
            invalid_code,
            over_limit: message,
        } => {
            let ids = ctx.required_list(param, invalid_code)?;
            if ids.len() > p.delete_max {
                return Err(over_limit(message));
            }
            ctx.check_key_ids(&ids)?;
            ids.iter()
                .map(|id| {
                    store
                        .key_by_id(cloud, region, id)
                        .ok_or_else(|| ctx.key_not_found(id))
                })
                .collect::<Result<_, _>>()?
        }
        KeysToDelete::One(params) => vec![ctx.key_named_by(store, params)?],
    };
    let bound: Vec<usize> = targets
        .iter()
        .copied()
        .filter(|&i| !store.bound_instances(&store.keys[i]).is_empty())
        .collect();
    // "A key pair used by an instance or image cannot be deleted" (CVM), with a success answer.
    let in_use: Vec<usize> = targets
        .iter()
        .copied()
        .filter(|&i| bound.contains(&i) || !store.keys[i].images.is_empty())
        .collect();
    let remove: Vec<usize> = match policy {
        BoundDelete::Reject if !bound.is_empty() => {
            let names: Vec<&str> = bound.iter().map(|&i| store.keys[i].name.as_str()).collect();
            return Err(ApiError::invalid(
                "InvalidParameter.KeypairAlreadyAttachedInstance",
                format!("The key pair is attached to instances: {}", names.join(",")),
            ));
        }
        BoundDelete::Reject | BoundDelete::Allow => targets,
        BoundDelete::KeepSilently => targets
            .into_iter()
            .filter(|i| !in_use.contains(i))
            .collect(),
    };
    let mut index = 0;
    store.keys.retain(|_| {
        let keep = !remove.contains(&index);
        index += 1;
        keep
    });
    tracing::info!(
        cloud = cloud.as_str(),
        deleted = remove.len(),
        kept_bound = bound.len(),
        "key pairs deleted"
    );
    Ok(Map::new())
}

/// `*` matches any run of characters; everything else literally (ECS name filters).
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(pos) => rest = &rest[pos + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob() {
        assert!(glob_match("abc", "abc"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match("ab*", "abcd"));
        assert!(glob_match("*cd", "abcd"));
        assert!(glob_match("a*c*e", "abcde"));
        assert!(!glob_match("a*c*e", "abde"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("ab*ba", "aba"));
    }
}
