//! Binding key pairs to instances: Alibaba's AttachKeyPair / DetachKeyPair (one key, a result
//! per instance) and Tencent's (Dis)AssociateInstancesKeyPairs (several keys, all or nothing).

use serde_json::{Map, Value};

use super::Ctx;
use crate::emulator::profile::{Binding, RunningInstances};
use crate::emulator::render::{self, BindOutcome};
use crate::emulator::store::{Instance, Os, Status, Store};
use crate::emulator::wire::ApiError;

/// AttachKeyPair / DetachKeyPair: every instance gets its own result; an instance holds at
/// most one key, so attaching replaces whatever it held.
pub(super) fn one_key(
    ctx: &Ctx<'_>,
    store: &mut Store,
    binding: Binding,
) -> Result<Map<String, Value>, ApiError> {
    let (p, cloud) = (ctx.p, ctx.cloud());
    let key_index = ctx.key_named_by(store, p.bind_key_by)?;
    let key = store.keys[key_index].clone();
    let ids = instance_ids(ctx)?;
    let region = ctx.instance_region().map(str::to_string);
    let region = region.as_deref();
    if p.windows_fail_the_call {
        let windows = ids.iter().any(|id| {
            store
                .instance(cloud, region, id)
                .is_some_and(|i| store.instances[i].os == Os::Windows)
        });
        if windows {
            return Err(ApiError::new(
                p.statuses.refused,
                p.codes.windows,
                "The instance creating is windows, cannot use ssh key pair to login.",
            ));
        }
    }
    let mut results: Vec<(String, BindOutcome)> = Vec::with_capacity(ids.len());
    for id in &ids {
        let outcome = match store.instance(cloud, region, id) {
            None => Err((
                p.codes.instance_not_found,
                "The specified instance does not exist.",
            )),
            Some(i) => {
                let inst: &mut Instance = &mut store.instances[i];
                if inst.os == Os::Windows {
                    Err((
                        p.codes.windows,
                        "SSH key pairs are not supported for Windows instances.",
                    ))
                } else if !may_bind(p.running, inst.status, false) {
                    Err((p.codes.instance_state, "The instance must be stopped."))
                } else {
                    let r = key.binding_ref().to_string();
                    match binding {
                        Binding::Attach => inst.keys = vec![r],
                        Binding::Detach => inst.keys.retain(|k| *k != r),
                    }
                    Ok(())
                }
            }
        };
        results.push((id.clone(), outcome));
    }
    Ok(render::bind_results(cloud, &key, &results))
}

/// (Dis)AssociateInstancesKeyPairs: every key on every instance, or nothing changes.
pub(super) fn many_keys(
    ctx: &Ctx<'_>,
    store: &mut Store,
    binding: Binding,
) -> Result<Map<String, Value>, ApiError> {
    let (p, cloud) = (ctx.p, ctx.cloud());
    let ids = instance_ids(ctx)?;
    let key_ids = ctx.required_list("KeyIds", "InvalidParameterValue")?;
    if key_ids.len() > p.bind_keys_max {
        return Err(ApiError::new(
            p.statuses.refused,
            p.codes.bind_limit,
            "The number of key pairs exceeds the limit.",
        ));
    }
    ctx.check_key_ids(&key_ids)?;
    ctx.check_instance_ids(&ids)?;
    if let Some(missing) = key_ids
        .iter()
        .find(|id| store.key_by_id(cloud, ctx.key_region(), id).is_none())
    {
        return Err(ctx.key_not_found(missing));
    }
    let force = ctx.req.params.bool("ForceStop")?.unwrap_or(false);
    let mut indexes = Vec::with_capacity(ids.len());
    for id in &ids {
        let i = store
            .instance(cloud, ctx.instance_region(), id)
            .ok_or_else(|| {
                ApiError::new(
                    p.statuses.not_found,
                    p.codes.instance_not_found,
                    format!("The instance {id} does not exist."),
                )
            })?;
        let inst = &store.instances[i];
        if inst.os == Os::Windows {
            return Err(ApiError::new(
                p.statuses.refused,
                p.codes.windows,
                format!("The instance {id} runs Windows and does not support key pairs."),
            ));
        }
        if !may_bind(p.running, inst.status, force) {
            return Err(ApiError::new(
                p.statuses.refused,
                p.codes.instance_state,
                format!("The instance {id} is running; stop it or set ForceStop."),
            ));
        }
        indexes.push(i);
    }
    for i in indexes {
        let inst = &mut store.instances[i];
        if inst.status == Status::Running {
            // ForceStop: the instance is stopped, changed, and started again.
            inst.reboots += 1;
        }
        match binding {
            Binding::Attach => {
                for k in &key_ids {
                    if !inst.keys.contains(k) {
                        inst.keys.push(k.clone());
                    }
                }
            }
            Binding::Detach => inst.keys.retain(|k| !key_ids.contains(k)),
        }
    }
    Ok(Map::new())
}

/// The `InstanceIds` of a bind call, refusing more than the cloud takes at once.
fn instance_ids(ctx: &Ctx<'_>) -> Result<Vec<String>, ApiError> {
    let p = ctx.p;
    let ids = ctx.required_list("InstanceIds", "InvalidInstanceIds.ValueNotSupported")?;
    if ids.len() > p.bind_instances_max {
        return Err(ApiError::new(
            p.statuses.refused,
            p.codes.bind_limit,
            format!(
                "Exceeding the allowed amount of instances ({}) in one call.",
                p.bind_instances_max
            ),
        ));
    }
    Ok(ids)
}

/// Whether an instance in `status` can take a binding change now.
fn may_bind(running: RunningInstances, status: Status, force_stop: bool) -> bool {
    match running {
        RunningInstances::Bind => true,
        RunningInstances::BindWithForceStop => status == Status::Stopped || force_stop,
        RunningInstances::Refuse => status == Status::Stopped,
    }
}
