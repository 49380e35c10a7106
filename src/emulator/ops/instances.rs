//! DescribeInstances and RebootInstance. Instances are seeded through the admin API; the cloud
//! APIs only list them and (ECS) reboot them, which is when a binding change takes effect there.

use serde_json::{Map, Value};

use super::{paging, Ctx};
use crate::emulator::render;
use crate::emulator::store::{Instance, Status, Store};
use crate::emulator::wire::ApiError;

/// Lists the instances of the request's region (every region where key pairs are
/// account-wide) that its filters keep, one page of them.
pub(super) fn describe(ctx: &Ctx<'_>, store: &Store) -> Result<Map<String, Value>, ApiError> {
    let (p, params) = (ctx.p, &ctx.req.params);
    let page = paging::requested(ctx, p.instance_page_max)?;
    let ids = ctx.list("InstanceIds", "InvalidInstanceIds.Malformed")?;
    if let Some(ids) = &ids {
        if ids.len() > p.instance_ids_max {
            return Err(ApiError::invalid(
                p.codes.instance_ids_limit,
                format!("At most {} instance ids may be given.", p.instance_ids_max),
            ));
        }
        ctx.check_instance_ids(ids)?;
    }
    let single = params.str("InstanceId");
    let key_name = p
        .params
        .instances_by_key_name
        .and_then(|field| params.str(field));
    let region = ctx.instance_region();
    let matched: Vec<&Instance> = store
        .instances
        .iter()
        .filter(|i| i.cloud == ctx.cloud() && region.is_none_or(|r| i.region == r))
        .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id)))
        .filter(|i| single.as_ref().is_none_or(|s| *s == i.id))
        .filter(|i| key_name.as_ref().is_none_or(|k| i.keys.contains(k)))
        .collect();
    let total = matched.len();
    let items: Vec<Value> = matched
        .into_iter()
        .skip(page.skip)
        .take(page.take)
        .map(render::instance_item)
        .collect();
    Ok(render::instance_list(
        ctx.cloud(),
        items,
        total,
        page.start,
        page.size,
    ))
}

/// Reboots a running instance, found in the request's region or, without one, in any.
pub(super) fn reboot(ctx: &Ctx<'_>, store: &mut Store) -> Result<Map<String, Value>, ApiError> {
    let p = ctx.p;
    let id = ctx
        .req
        .params
        .str("InstanceId")
        .ok_or_else(|| ApiError::missing("InstanceId"))?;
    let region = Some(ctx.req.region.as_str()).filter(|r| !r.is_empty());
    let i = store.instance(ctx.cloud(), region, &id).ok_or_else(|| {
        ApiError::new(
            p.statuses.not_found,
            p.codes.instance_not_found,
            "The specified InstanceId does not exist.",
        )
    })?;
    let inst = &mut store.instances[i];
    if inst.status != Status::Running {
        return Err(ApiError::new(
            p.statuses.refused,
            p.codes.instance_state,
            "The current status of the resource does not support this operation.",
        ));
    }
    inst.reboots += 1;
    Ok(Map::new())
}
