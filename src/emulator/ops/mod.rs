//! The key-pair and instance operations, written once for the three clouds.
//!
//! [`handle`] looks the action up in the cloud's [`Profile`] and runs the operation it names.
//! Limits, parameter names, error codes and statuses come from the profile; where the APIs
//! differ in the shape of a call rather than in names (DeleteKeyPairs by a list of names, a
//! list of ids or one key; one key per attach or several), the profile names the shape and the
//! operation follows it. One module per family: `key_pairs`, `bindings`, `instances`;
//! `paging` is shared by the listings. Responses are built by [`super::render`].
//!
//! `tags` holds ECS's tagging and resource group calls and [`tags::tencent`], Tencent's Tag
//! API, which changes CVM key pairs from another service.
//!
//! [`sts`] is the STS's AssumeRole, the one operation that is no key-pair call: it issues keys
//! rather than changing the store, so it is run by [`super::state`] with the key ring and the
//! configured roles instead of through [`handle`].

mod bindings;
mod instances;
mod key_pairs;
mod paging;
pub(crate) mod sts;
pub(crate) mod tags;

use serde_json::{Map, Value};

use super::api::Api;
pub(crate) use super::profile::BoundDelete;
use super::profile::{Cloud, KeyId, KeyParam, Operation, Profile};
use super::store::{Store, GLOBAL_REGION};
use super::wire::{ApiError, ApiRequest};

/// Operation settings that come from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OpsConfig {
    /// ECS behaviour for bound keys (`--ecs-bound-delete`).
    pub ecs_bound_delete: BoundDelete,
}

/// Actions addressed by instance id alone, so a missing region is no error (ECS
/// RebootInstance). Checked before the action is looked up, as the clouds' gateways do.
const REGIONLESS_ACTIONS: &[&str] = &["RebootInstance"];

/// Runs one authenticated call against the store; the returned map is the response body
/// without `RequestId`.
pub(crate) fn handle(
    store: &mut Store,
    req: &ApiRequest,
    cfg: &OpsConfig,
    now: time::OffsetDateTime,
) -> Result<Map<String, Value>, ApiError> {
    // STS calls are served by `sts`; one that reaches here has no key-pair action to run.
    let Some(cloud) = req.cloud.key_pairs() else {
        return Err(unknown_action(req.cloud, &req.action));
    };
    let p = cloud.profile();
    if p.regional_keys
        && req.region.is_empty()
        && !REGIONLESS_ACTIONS.contains(&req.action.as_str())
    {
        return Err(ApiError::missing(p.params.region));
    }
    let op = p
        .operation(&req.action)
        .ok_or_else(|| unknown_action(req.cloud, &req.action))?;
    let ctx = Ctx { p, req };
    match op {
        Operation::CreateKeyPair => key_pairs::create(&ctx, store, None, now),
        Operation::ImportKeyPair => {
            let field = p.params.public_key;
            let body = req
                .params
                .str(field)
                .ok_or_else(|| ApiError::missing(field))?;
            key_pairs::create(&ctx, store, Some(body), now)
        }
        Operation::DescribeKeyPairs => key_pairs::describe(&ctx, store),
        Operation::DeleteKeyPairs => {
            key_pairs::delete(&ctx, store, p.bound_delete.unwrap_or(cfg.ecs_bound_delete))
        }
        Operation::BindOneKey(binding) => bindings::one_key(&ctx, store, binding),
        Operation::BindKeys(binding) => bindings::many_keys(&ctx, store, binding),
        Operation::DescribeInstances => instances::describe(&ctx, store),
        Operation::RebootInstance => instances::reboot(&ctx, store),
        Operation::TagResources => tags::ecs_tag(&ctx, store),
        Operation::UntagResources => tags::ecs_untag(&ctx, store),
        Operation::JoinResourceGroup => tags::join_resource_group(&ctx, store),
    }
}

/// The error for an action this API does not have.
pub(crate) fn unknown_action(api: Api, action: &str) -> ApiError {
    if api.is_alibaba() {
        ApiError::new(
            404,
            "InvalidAction.NotFound",
            format!("Specified api {action} is not found, please check your url and method."),
        )
    } else {
        ApiError::invalid(
            "InvalidAction",
            format!("The action {action} is not supported."),
        )
    }
}

/// One call: the cloud's profile and the request. The helpers here are the checks and
/// lookups more than one operation family shares.
struct Ctx<'a> {
    p: &'static Profile,
    req: &'a ApiRequest,
}

impl Ctx<'_> {
    fn cloud(&self) -> Cloud {
        self.p.cloud
    }

    fn key_region(&self) -> &str {
        if self.p.regional_keys {
            &self.req.region
        } else {
            GLOBAL_REGION
        }
    }

    /// The region instances are looked up in; `None` (every region) where key pairs are
    /// account-wide.
    fn instance_region(&self) -> Option<&str> {
        self.p.regional_keys.then_some(self.req.region.as_str())
    }

    fn list(&self, name: &str, invalid_code: &str) -> Result<Option<Vec<String>>, ApiError> {
        self.req.params.list(name, invalid_code, self.p.lists)
    }

    fn required_list(&self, name: &str, invalid_code: &str) -> Result<Vec<String>, ApiError> {
        self.list(name, invalid_code)?
            .ok_or_else(|| ApiError::missing(name))
    }

    fn key_not_found(&self, what: &str) -> ApiError {
        ApiError::new(
            self.p.statuses.not_found,
            self.p.codes.key_not_found,
            self.p.key_not_found_message.replace("{}", what),
        )
    }

    /// The one key pair the first given of `params` names.
    fn key_named_by(&self, store: &Store, params: &[KeyParam]) -> Result<usize, ApiError> {
        let (cloud, region) = (self.cloud(), self.key_region());
        for param in params {
            let (index, given) = match *param {
                KeyParam::Name(p) => match self.req.params.str(p) {
                    Some(name) => (store.key_by_name(cloud, region, &name), name),
                    None => continue,
                },
                KeyParam::Id(p) => match self.req.params.str(p) {
                    Some(id) => (store.key_by_id(cloud, region, &id), id),
                    None => continue,
                },
            };
            return index.ok_or_else(|| self.key_not_found(&given));
        }
        Err(ApiError::missing(self.p.params.key_name))
    }

    /// Refuses key ids of another shape than the ones this cloud issues.
    fn check_key_ids(&self, ids: &[String]) -> Result<(), ApiError> {
        let KeyId::Generated(shape) = self.p.key_id else {
            return Ok(());
        };
        match ids.iter().find(|id| !shape.matches(id)) {
            Some(bad) => Err(ApiError::invalid(
                "InvalidKeyPairId.Malformed",
                format!("The key pair id {bad} is malformed."),
            )),
            None => Ok(()),
        }
    }

    /// Refuses instance ids of another shape, where the cloud checks the shape (CVM).
    fn check_instance_ids(&self, ids: &[String]) -> Result<(), ApiError> {
        let Some(shape) = self.p.instance_id else {
            return Ok(());
        };
        match ids.iter().find(|id| !shape.matches(id)) {
            Some(bad) => Err(ApiError::invalid(
                "InvalidInstanceId.Malformed",
                format!("The instance id {bad} is malformed."),
            )),
            None => Ok(()),
        }
    }
}
