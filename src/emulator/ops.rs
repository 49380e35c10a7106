//! The key-pair and instance operations, written once for the three clouds.
//!
//! Limits, name rules and error codes come from each cloud's [`Profile`]; what differs in
//! behaviour (how a bound key is deleted, whether instances must be stopped) is a profile flag or
//! a [`BoundDelete`] policy. Responses are built by [`super::render`].

use serde_json::{Map, Value};

use super::keys;
use super::profile::{is_cvm_instance_id, is_cvm_key_id, Cloud, NameViolation, Profile};
use super::render;
use super::store::{Instance, KeyPair, Os, Status, Store, GLOBAL_REGION};
use super::wire::{ApiError, ApiRequest};

/// What DeleteKeyPairs does with a key that instances still use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoundDelete {
    /// ECS (seed 001): the whole call fails, nothing is deleted.
    #[default]
    Reject,
    /// ECS (seed 000) and ENS: deleted; instances keep the name.
    Allow,
    /// CVM: bound keys are silently kept, unbound ones deleted, the call succeeds.
    KeepSilently,
}

/// Operation settings that come from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpsConfig {
    /// ECS behaviour for bound keys (`--ecs-bound-delete`).
    pub ecs_bound_delete: BoundDelete,
}

impl OpsConfig {
    fn bound_delete(&self, cloud: Cloud) -> BoundDelete {
        match cloud {
            Cloud::Ecs => self.ecs_bound_delete,
            Cloud::Ens => BoundDelete::Allow,
            Cloud::Cvm => BoundDelete::KeepSilently,
        }
    }
}

/// Runs one authenticated call against the store; the returned map is the response body
/// without `RequestId`.
pub fn handle(
    store: &mut Store,
    req: &ApiRequest,
    cfg: &OpsConfig,
    now: time::OffsetDateTime,
) -> Result<Map<String, Value>, ApiError> {
    let p = req.cloud.profile();
    // RebootInstance is addressed by instance id alone on ECS.
    if p.regional_keys && req.region.is_empty() && req.action != "RebootInstance" {
        let name = if req.cloud == Cloud::Cvm {
            "Region"
        } else {
            "RegionId"
        };
        return Err(ApiError::missing(name));
    }
    let ctx = Ctx { p, req };
    match (req.cloud, req.action.as_str()) {
        (_, "CreateKeyPair") => ctx.create(store, None, now),
        (_, "ImportKeyPair") => {
            let field = if req.cloud == Cloud::Cvm {
                "PublicKey"
            } else {
                "PublicKeyBody"
            };
            let body = req
                .params
                .str(field)
                .ok_or_else(|| ApiError::missing(field))?;
            ctx.create(store, Some(body), now)
        }
        (_, "DescribeKeyPairs") => ctx.describe_keys(store),
        (_, "DeleteKeyPairs") => ctx.delete(store, cfg.bound_delete(req.cloud)),
        (Cloud::Ecs | Cloud::Ens, "AttachKeyPair") => ctx.bind_alibaba(store, true),
        (Cloud::Ecs | Cloud::Ens, "DetachKeyPair") => ctx.bind_alibaba(store, false),
        (Cloud::Cvm, "AssociateInstancesKeyPairs") => ctx.bind_cvm(store, true),
        (Cloud::Cvm, "DisassociateInstancesKeyPairs") => ctx.bind_cvm(store, false),
        (_, "DescribeInstances") => ctx.describe_instances(store),
        (Cloud::Ecs, "RebootInstance") => ctx.reboot(store),
        (cloud, action) => Err(unknown_action(cloud, action)),
    }
}

/// The error for an action this cloud does not have.
pub fn unknown_action(cloud: Cloud, action: &str) -> ApiError {
    if cloud.is_alibaba() {
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

    fn instance_region(&self) -> Option<&str> {
        self.p.regional_keys.then_some(self.req.region.as_str())
    }

    fn name_param(&self) -> &'static str {
        if self.cloud() == Cloud::Cvm {
            "KeyName"
        } else {
            "KeyPairName"
        }
    }

    fn not_found(&self, what: &str) -> ApiError {
        let status = if self.cloud() == Cloud::Ecs { 404 } else { 400 };
        ApiError::new(
            status,
            self.p.codes.key_not_found,
            format!("The specified key pair {what} does not exist."),
        )
    }

    fn check_name(&self, name: &str) -> Result<(), ApiError> {
        let c = &self.p.codes;
        let code = match self.p.name_rule.check(name) {
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

    fn create(
        &self,
        store: &mut Store,
        public_key: Option<String>,
        now: time::OffsetDateTime,
    ) -> Result<Map<String, Value>, ApiError> {
        let params = &self.req.params;
        let name_field = self.name_param();
        let name = params
            .str(name_field)
            .ok_or_else(|| ApiError::missing(name_field))?;
        self.check_name(&name)?;
        let project_id = if self.cloud() == Cloud::Cvm {
            params
                .int("ProjectId")?
                .ok_or_else(|| ApiError::missing("ProjectId"))?
        } else {
            0
        };
        if store
            .key_by_name(self.cloud(), self.key_region(), &name)
            .is_some()
        {
            return Err(ApiError::invalid(
                self.p.codes.duplicate,
                format!("The key pair \"{name}\" already exists."),
            ));
        }
        let (public, fingerprint, private) = match &public_key {
            Some(text) => {
                let (public, fp) = keys::parse_public(text).map_err(|e| {
                    ApiError::invalid(self.p.codes.public_key_invalid, e.to_string())
                })?;
                (public, fp, None)
            }
            None => {
                let g = keys::generate(self.p.private_key)
                    .map_err(|e| ApiError::new(500, "InternalError", e.to_string()))?;
                (g.public_openssh, g.fingerprint, Some(g.private_pem))
            }
        };
        let id = match self.cloud() {
            Cloud::Ecs => name.clone(),
            Cloud::Ens => format!("ssh-{}", random_id(23)),
            Cloud::Cvm => loop {
                let id = format!("skey-{}", random_id(8));
                if store
                    .key_by_id(Cloud::Cvm, self.key_region(), &id)
                    .is_none()
                {
                    break id;
                }
            },
        };
        let tags = params
            .objects("Tag")
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
            cloud: self.cloud(),
            region: self.key_region().to_string(),
            id,
            name,
            fingerprint,
            public_key: public,
            creation_time: render::timestamp(now),
            resource_group_id: params.str("ResourceGroupId").unwrap_or_default(),
            tags,
            project_id,
            description: String::new(),
        };
        let body = render::created(&key, private.as_deref(), public_key.is_some());
        tracing::info!(cloud = self.cloud().as_str(), key = %key.name, id = %key.id, "key pair created");
        store.keys.push(key);
        Ok(body)
    }

    // Returns (skip, take, PageNumber or Offset, PageSize or Limit).
    fn page(&self, default_size: i64, max: usize) -> Result<(usize, usize, i64, i64), ApiError> {
        let params = &self.req.params;
        let size_error = || {
            ApiError::invalid(
                self.p.codes.page_size,
                format!("The page size must be between 1 and {max}."),
            )
        };
        if self.cloud() == Cloud::Cvm {
            let offset = params.int("Offset")?.unwrap_or(0).max(0);
            let limit = params.int("Limit")?.unwrap_or(default_size);
            if limit < 1 || limit as usize > max {
                return Err(size_error());
            }
            Ok((offset as usize, limit as usize, offset, limit))
        } else {
            let number = params.int("PageNumber")?.unwrap_or(1).max(1);
            let size = params.int("PageSize")?.unwrap_or(default_size);
            if size < 1 || size as usize > max {
                return Err(size_error());
            }
            Ok((
                usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX),
                size as usize,
                number,
                size,
            ))
        }
    }

    fn describe_keys(&self, store: &Store) -> Result<Map<String, Value>, ApiError> {
        let params = &self.req.params;
        let default = if self.cloud() == Cloud::Cvm { 20 } else { 10 };
        let (skip, take, a, b) = self.page(default, self.p.page_max)?;
        let mut matched: Vec<&KeyPair> = store.keys_in(self.cloud(), self.key_region()).collect();
        match self.cloud() {
            Cloud::Ecs | Cloud::Ens => {
                if let Some(name) = params.str("KeyPairName") {
                    if self.p.name_wildcards {
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
            Cloud::Cvm => {
                let ids = params.list("KeyIds", "InvalidParameterValue", self.p.lists)?;
                let filters = params.objects("Filters");
                if ids.is_some() && !filters.is_empty() {
                    return Err(ApiError::invalid(
                        "InvalidParameter",
                        "KeyIds and Filters cannot be specified at the same time.",
                    ));
                }
                if let Some(ids) = ids {
                    self.check_cvm_key_ids(&ids)?;
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
                        "project-id" => {
                            matched.retain(|k| values.contains(&k.project_id.to_string()))
                        }
                        other => {
                            return Err(ApiError::invalid(
                                "InvalidFilter",
                                format!("The filter {other} is not supported."),
                            ))
                        }
                    }
                }
            }
        }
        let total = matched.len();
        let page: Vec<Value> = matched
            .into_iter()
            .skip(skip)
            .take(take)
            .map(|k| render::key_item(k, &store.bound_instances(k)))
            .collect();
        Ok(render::key_list(self.cloud(), page, total, a, b))
    }

    fn check_cvm_key_ids(&self, ids: &[String]) -> Result<(), ApiError> {
        match ids.iter().find(|id| !is_cvm_key_id(id)) {
            Some(bad) => Err(ApiError::invalid(
                "InvalidKeyPairId.Malformed",
                format!("The key pair id {bad} is malformed."),
            )),
            None => Ok(()),
        }
    }

    fn delete(
        &self,
        store: &mut Store,
        policy: BoundDelete,
    ) -> Result<Map<String, Value>, ApiError> {
        let params = &self.req.params;
        let cloud = self.cloud();
        let region = self.key_region().to_string();
        let targets: Vec<usize> = match cloud {
            Cloud::Ecs => {
                let names = params
                    .list(
                        "KeyPairNames",
                        "InvalidKeyPairNames.ValueNotSupported",
                        self.p.lists,
                    )?
                    .ok_or_else(|| ApiError::missing("KeyPairNames"))?;
                if names.len() > self.p.delete_max {
                    return Err(ApiError::new(
                        403,
                        self.p.codes.delete_limit,
                        "Exceeding the allowed amount of instance which will be deleted.",
                    ));
                }
                // Names that do not exist are ignored, as the real API does.
                names
                    .iter()
                    .filter_map(|n| store.key_by_name(cloud, &region, n))
                    .collect()
            }
            Cloud::Ens => {
                let found = match (params.str("KeyPairId"), params.str("KeyPairName")) {
                    (Some(id), _) => store
                        .key_by_id(cloud, &region, &id)
                        .ok_or_else(|| self.not_found(&id))?,
                    (None, Some(name)) => store
                        .key_by_name(cloud, &region, &name)
                        .ok_or_else(|| self.not_found(&name))?,
                    (None, None) => return Err(ApiError::missing("KeyPairName")),
                };
                vec![found]
            }
            Cloud::Cvm => {
                let ids = params
                    .list("KeyIds", "InvalidParameterValue", self.p.lists)?
                    .ok_or_else(|| ApiError::missing("KeyIds"))?;
                if ids.len() > self.p.delete_max {
                    return Err(ApiError::invalid(
                        self.p.codes.delete_limit,
                        "The number of key pairs exceeds the limit.",
                    ));
                }
                self.check_cvm_key_ids(&ids)?;
                let mut found = Vec::with_capacity(ids.len());
                for id in &ids {
                    found.push(store.key_by_id(cloud, &region, id).ok_or_else(|| {
                        ApiError::invalid(
                            self.p.codes.key_not_found,
                            format!("The key pair id {id} does not exist."),
                        )
                    })?);
                }
                found
            }
        };
        let bound: Vec<usize> = targets
            .iter()
            .copied()
            .filter(|&i| !store.bound_instances(&store.keys[i]).is_empty())
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
            BoundDelete::KeepSilently => {
                targets.into_iter().filter(|i| !bound.contains(i)).collect()
            }
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

    fn instance_ids(&self) -> Result<Vec<String>, ApiError> {
        let ids = self
            .req
            .params
            .list(
                "InstanceIds",
                "InvalidInstanceIds.ValueNotSupported",
                self.p.lists,
            )?
            .ok_or_else(|| ApiError::missing("InstanceIds"))?;
        if ids.len() > self.p.bind_instances_max {
            let status = if self.cloud() == Cloud::Ecs { 403 } else { 400 };
            return Err(ApiError::new(
                status,
                self.p.codes.bind_limit,
                format!(
                    "Exceeding the allowed amount of instances ({}) in one call.",
                    self.p.bind_instances_max
                ),
            ));
        }
        Ok(ids)
    }

    fn bind_alibaba(
        &self,
        store: &mut Store,
        attach: bool,
    ) -> Result<Map<String, Value>, ApiError> {
        let params = &self.req.params;
        let cloud = self.cloud();
        let region = self.key_region().to_string();
        let key_index = match (params.str("KeyPairName"), params.str("KeyPairId")) {
            (Some(name), _) => store
                .key_by_name(cloud, &region, &name)
                .ok_or_else(|| self.not_found(&name))?,
            (None, Some(id)) if cloud == Cloud::Ens => store
                .key_by_id(cloud, &region, &id)
                .ok_or_else(|| self.not_found(&id))?,
            _ => return Err(ApiError::missing("KeyPairName")),
        };
        let key = store.keys[key_index].clone();
        let ids = self.instance_ids()?;
        let inst_region = self.instance_region().map(str::to_string);
        if cloud == Cloud::Ecs {
            let windows = ids.iter().any(|id| {
                store
                    .instance(cloud, inst_region.as_deref(), id)
                    .is_some_and(|i| store.instances[i].os == Os::Windows)
            });
            if windows {
                return Err(ApiError::new(
                    403,
                    self.p.codes.windows,
                    "The instance creating is windows, cannot use ssh key pair to login.",
                ));
            }
        }
        let mut results = Vec::with_capacity(ids.len());
        for id in &ids {
            let outcome = match store.instance(cloud, inst_region.as_deref(), id) {
                None => Err((
                    self.p.codes.instance_not_found,
                    "The specified instance does not exist.",
                )),
                Some(i) => {
                    let inst: &mut Instance = &mut store.instances[i];
                    if inst.os == Os::Windows {
                        Err((
                            self.p.codes.windows,
                            "SSH key pairs are not supported for Windows instances.",
                        ))
                    } else if self.p.bind_needs_stopped && inst.status != Status::Stopped {
                        Err((self.p.codes.instance_state, "The instance must be stopped."))
                    } else {
                        let r = key.binding_ref().to_string();
                        if attach {
                            inst.keys = vec![r];
                        } else {
                            inst.keys.retain(|k| *k != r);
                        }
                        Ok(())
                    }
                }
            };
            results.push((id.clone(), outcome));
        }
        Ok(render::bind_results(cloud, &key, &results))
    }

    fn bind_cvm(&self, store: &mut Store, associate: bool) -> Result<Map<String, Value>, ApiError> {
        let params = &self.req.params;
        let region = self.req.region.clone();
        let ids = self.instance_ids()?;
        let key_ids = params
            .list("KeyIds", "InvalidParameterValue", self.p.lists)?
            .ok_or_else(|| ApiError::missing("KeyIds"))?;
        if key_ids.len() > self.p.bind_keys_max {
            return Err(ApiError::invalid(
                self.p.codes.bind_limit,
                "The number of key pairs exceeds the limit.",
            ));
        }
        self.check_cvm_key_ids(&key_ids)?;
        if let Some(bad) = ids.iter().find(|id| !is_cvm_instance_id(id)) {
            return Err(ApiError::invalid(
                "InvalidInstanceId.Malformed",
                format!("The instance id {bad} is malformed."),
            ));
        }
        for id in &key_ids {
            if store.key_by_id(Cloud::Cvm, &region, id).is_none() {
                return Err(ApiError::invalid(
                    self.p.codes.key_not_found,
                    format!("The key pair id {id} does not exist."),
                ));
            }
        }
        let force = params.bool("ForceStop")?.unwrap_or(false);
        let mut indexes = Vec::with_capacity(ids.len());
        for id in &ids {
            let i = store
                .instance(Cloud::Cvm, Some(&region), id)
                .ok_or_else(|| {
                    ApiError::invalid(
                        self.p.codes.instance_not_found,
                        format!("The instance {id} does not exist."),
                    )
                })?;
            let inst = &store.instances[i];
            if inst.os == Os::Windows {
                return Err(ApiError::invalid(
                    self.p.codes.windows,
                    format!("The instance {id} runs Windows and does not support key pairs."),
                ));
            }
            if inst.status == Status::Running && !force {
                return Err(ApiError::invalid(
                    self.p.codes.instance_state,
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
            if associate {
                for k in &key_ids {
                    if !inst.keys.contains(k) {
                        inst.keys.push(k.clone());
                    }
                }
            } else {
                inst.keys.retain(|k| !key_ids.contains(k));
            }
        }
        Ok(Map::new())
    }

    fn describe_instances(&self, store: &Store) -> Result<Map<String, Value>, ApiError> {
        let params = &self.req.params;
        let cloud = self.cloud();
        let default = if cloud == Cloud::Cvm { 20 } else { 10 };
        // Instance listings allow 100 per page on every cloud.
        let (skip, take, a, b) = self.page(default, 100)?;
        let ids = params.list("InstanceIds", "InvalidInstanceIds.Malformed", self.p.lists)?;
        if ids.as_ref().is_some_and(|ids| ids.len() > 100) {
            return Err(ApiError::invalid(
                if cloud == Cloud::Cvm {
                    "InvalidParameterValue.LimitExceeded"
                } else {
                    "InvalidInstanceIds.Malformed"
                },
                "At most 100 instance ids may be given.",
            ));
        }
        if cloud == Cloud::Cvm {
            if let Some(bad) = ids.iter().flatten().find(|id| !is_cvm_instance_id(id)) {
                return Err(ApiError::invalid(
                    "InvalidInstanceId.Malformed",
                    format!("The instance id {bad} is malformed."),
                ));
            }
        }
        let single = params.str("InstanceId");
        let key_name = if cloud == Cloud::Ecs {
            params.str("KeyPairName")
        } else {
            None
        };
        let region = self.instance_region();
        let matched: Vec<&Instance> = store
            .instances
            .iter()
            .filter(|i| i.cloud == cloud && region.is_none_or(|r| i.region == r))
            .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id)))
            .filter(|i| single.as_ref().is_none_or(|s| *s == i.id))
            .filter(|i| key_name.as_ref().is_none_or(|k| i.keys.contains(k)))
            .collect();
        let total = matched.len();
        let page: Vec<Value> = matched
            .into_iter()
            .skip(skip)
            .take(take)
            .map(render::instance_item)
            .collect();
        Ok(render::instance_list(cloud, page, total, a, b))
    }

    fn reboot(&self, store: &mut Store) -> Result<Map<String, Value>, ApiError> {
        let id = self
            .req
            .params
            .str("InstanceId")
            .ok_or_else(|| ApiError::missing("InstanceId"))?;
        let i = store
            .instance(
                Cloud::Ecs,
                Some(self.req.region.as_str()).filter(|r| !r.is_empty()),
                &id,
            )
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "InvalidInstanceId.NotFound",
                    "The specified InstanceId does not exist.",
                )
            })?;
        let inst = &mut store.instances[i];
        if inst.status != Status::Running {
            return Err(ApiError::new(
                403,
                "IncorrectInstanceStatus",
                "The current status of the resource does not support this operation.",
            ));
        }
        inst.reboots += 1;
        Ok(Map::new())
    }
}

/// `*` matches any run of characters; everything else literally (ECS name filters).
pub fn glob_match(pattern: &str, text: &str) -> bool {
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

fn random_id(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
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

    #[test]
    fn random_ids_have_the_cvm_shape() {
        for _ in 0..100 {
            assert!(is_cvm_key_id(&format!("skey-{}", random_id(8))));
        }
    }
}
