//! Tencent Cloud CVM (2017-03-12): JSON POST bodies signed with TC3-HMAC-SHA256; every answer
//! is HTTP 200 with `{"Response": {...}}`, errors inside as `Response.Error{Code, Message}`.
//!
//! (Dis)AssociateInstancesKeyPairs are all-or-nothing and report no per-instance result, so a
//! success means every instance succeeded and a failure fails them all.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::error::classify;
use super::fields::{self, items};
use super::idempotent;
use super::rules::{self, TagService, TagVia, Tagging};
use super::sign::{self, tc3};
use super::sts::Session;
use super::transport::{host_header, Attempted, HttpRequest, Transport};
use super::{
    BindOptions, ClientConfig, CloudError, CloudKind, ErrorKind, Instance, InstanceOutcome,
    InstanceQuery, KeyPage, KeyPair, KeyPairApi, KeyQuery, KeySpec, PageRequest,
};

const VERSION: &str = "2017-03-12";
const SERVICE: &str = "cvm";
const DEFAULT_ENDPOINT: &str = "https://cvm.tencentcloudapi.com/";

/// A CVM client.
#[derive(Debug)]
pub(crate) struct TencentClient {
    rpc: TencentRpc,
    /// Tencent's Tag API, where CVM key pairs are tagged after creation.
    tags: TencentRpc,
    region: String,
}

/// CVM's tagging facts: the Tag API (a service of its own) and its per-call limit.
fn tagging() -> (&'static Tagging, &'static TagService) {
    match CloudKind::Cvm.limits().tagging {
        Some(
            t @ Tagging {
                via: TagVia::Service(service),
                ..
            },
        ) => (t, service),
        // The table is static: a CVM row without its tag service is a bug caught by the
        // rules' unit tests, not a runtime condition.
        _ => (&rules::CVM_TAGGING, &rules::TENCENT_TAG_SERVICE),
    }
}

/// One Tencent Cloud API (service and version) at one endpoint: JSON POST bodies signed with
/// TC3-HMAC-SHA256, answers inside `Response`. CVM and STS differ only in these names.
#[derive(Debug)]
pub(crate) struct TencentRpc {
    service: &'static str,
    version: &'static str,
    region: String,
    endpoint: url::Url,
    transport: Transport,
}

impl TencentClient {
    pub fn new(cfg: ClientConfig, session: Arc<Session>) -> Result<Self, CloudError> {
        let endpoint = super::resolve_endpoint(&cfg, DEFAULT_ENDPOINT)?;
        // A configured endpoint (the emulator) serves the Tag API too, as it serves STS.
        let (_, service) = tagging();
        let tag_endpoint = super::resolve_endpoint(&cfg, service.default_endpoint)?;
        Ok(Self {
            tags: TencentRpc::new(
                &cfg,
                service.service,
                service.version,
                tag_endpoint,
                service.rates,
                session.clone(),
            )?,
            rpc: TencentRpc::new(
                &cfg,
                SERVICE,
                VERSION,
                endpoint,
                CloudKind::Cvm.limits().rates,
                session,
            )?,
            region: cfg.region.clone(),
        })
    }

    /// One Tag API call on one resource. The service answers success with `FailedResources`
    /// listing what it could not change; a failed resource is this call's error.
    async fn tag_call(&self, action: &str, body: Value) -> Result<(), CloudError> {
        let v = self.tags.call(action, body).await.result?;
        match items(&v, "FailedResources", "").first() {
            None => Ok(()),
            Some(f) => {
                let code = fields::non_empty(f, "Code").unwrap_or_else(|| "FailedResource".into());
                Err(CloudError {
                    cloud: CloudKind::Cvm,
                    action: action.to_string(),
                    kind: classify(&code, None),
                    message: fields::string(f, "Message").unwrap_or_default(),
                    code,
                    request_id: fields::non_empty(&v, "RequestId"),
                    http_status: Some(200),
                })
            }
        }
    }

    async fn rpc(&self, action: &str, body: Value) -> Attempted<Value> {
        self.rpc.call(action, body).await
    }

    /// One page: (items, TotalCount).
    async fn page(
        &self,
        action: &str,
        mut body: Value,
        list: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Value>, usize), CloudError> {
        body["Offset"] = json!(offset);
        body["Limit"] = json!(limit);
        let v = self.rpc(action, body).await.result?;
        let total = fields::int(&v, "TotalCount").unwrap_or(0).max(0) as usize;
        Ok((items(&v, list, "").to_vec(), total))
    }

    async fn paged(&self, action: &str, body: Value, list: &str) -> Result<Vec<Value>, CloudError> {
        let limit = CloudKind::Cvm.limits().describe_page;
        let mut out = Vec::new();
        loop {
            let (got, total) = self
                .page(action, body.clone(), list, out.len(), limit)
                .await?;
            let short = got.len() < limit;
            out.extend(got);
            if short || out.len() >= total {
                return Ok(out);
            }
        }
    }

    fn key_from(v: &Value) -> KeyPair {
        KeyPair {
            name: fields::string(v, "KeyName").unwrap_or_default(),
            id: fields::string(v, "KeyId").unwrap_or_default(),
            fingerprint: String::new(),
            created_at: fields::non_empty(v, "CreatedTime"),
            private_key: fields::non_empty(v, "PrivateKey"),
            public_key: fields::non_empty(v, "PublicKey"),
            tags: items(v, "Tags", "")
                .iter()
                .filter_map(|t| {
                    Some((
                        fields::string(t, "Key")?,
                        fields::string(t, "Value").unwrap_or_default(),
                    ))
                })
                .collect(),
            resource_group_id: None,
            project_id: fields::int(v, "ProjectId"),
            instance_ids: Some(fields::strings(v, "AssociatedInstanceIds")),
        }
    }

    fn instance_from(v: &Value) -> Instance {
        Instance {
            id: fields::string(v, "InstanceId").unwrap_or_default(),
            key_ids: v
                .get("LoginSettings")
                .map(|l| fields::strings(l, "KeyIds"))
                .unwrap_or_default(),
            os: fields::non_empty(v, "OsName"),
            status: fields::non_empty(v, "InstanceState"),
        }
    }

    async fn bind(
        &self,
        action: &str,
        key_id: &str,
        instances: &[String],
        opts: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        let body =
            json!({"InstanceIds": instances, "KeyIds": [key_id], "ForceStop": opts.force_stop});
        self.rpc(action, body).await.result?;
        Ok(instances
            .iter()
            .map(|i| InstanceOutcome {
                instance_id: i.clone(),
                result: Ok(()),
            })
            .collect())
    }
}

impl TencentRpc {
    /// `service` at `version` on `endpoint`, signing with what `session` holds and pacing at
    /// `rates`.
    pub(crate) fn new(
        cfg: &ClientConfig,
        service: &'static str,
        version: &'static str,
        endpoint: url::Url,
        rates: &'static [(&'static str, u32)],
        session: Arc<Session>,
    ) -> Result<Self, CloudError> {
        Ok(Self {
            service,
            version,
            region: cfg.region.clone(),
            transport: Transport::new(cfg, &endpoint, rates, session)?,
            endpoint,
        })
    }

    /// Runs one action with retries (see [`Transport::call`]).
    pub(crate) async fn call(&self, action: &str, body: Value) -> Attempted<Value> {
        self.transport
            .call(
                action,
                |creds| self.build(action, &body, creds),
                |s, b| Self::parse(action, s, b),
            )
            .await
    }

    fn build(
        &self,
        action: &str,
        body: &Value,
        creds: &sign::Credentials,
    ) -> Result<HttpRequest, CloudError> {
        let payload = body.to_string().into_bytes();
        let host = host_header(&self.endpoint);
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let headers = tc3::sign_request(
            &tc3::SignInput {
                host: &host,
                service: self.service,
                action,
                version: self.version,
                region: &self.region,
                timestamp,
                payload: &payload,
            },
            creds,
        );
        Ok(HttpRequest {
            url: self.endpoint.clone(),
            headers,
            body: payload,
        })
    }

    fn parse(action: &str, status: u16, body: &[u8]) -> Result<Value, CloudError> {
        let err = |kind, code: &str, message: String| CloudError {
            cloud: CloudKind::Cvm,
            action: action.to_string(),
            code: code.to_string(),
            message,
            request_id: None,
            http_status: Some(status),
            kind,
        };
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) if status >= 500 => {
                return Err(err(
                    ErrorKind::Server,
                    &format!("HTTP{status}"),
                    "no JSON answer".into(),
                ))
            }
            Err(e) => {
                return Err(err(
                    ErrorKind::Server,
                    "InvalidResponse",
                    format!("the answer is not JSON: {e}"),
                ))
            }
        };
        let Some(resp) = v.get("Response") else {
            let kind = if status >= 500 {
                ErrorKind::Server
            } else {
                ErrorKind::Other
            };
            return Err(err(
                kind,
                &format!("HTTP{status}"),
                "the answer has no Response".into(),
            ));
        };
        if let Some(e) = resp.get("Error") {
            let code = fields::non_empty(e, "Code").unwrap_or_else(|| "Unknown".into());
            return Err(CloudError {
                kind: classify(&code, Some(status)),
                message: fields::string(e, "Message").unwrap_or_default(),
                request_id: fields::non_empty(resp, "RequestId"),
                code,
                ..err(ErrorKind::Other, "", String::new())
            });
        }
        if status >= 500 {
            return Err(err(
                ErrorKind::Server,
                &format!("HTTP{status}"),
                "server error".into(),
            ));
        }
        Ok(resp.clone())
    }
}

#[async_trait]
impl KeyPairApi for TencentClient {
    fn kind(&self) -> CloudKind {
        CloudKind::Cvm
    }

    async fn create_key_pair(&self, spec: &KeySpec) -> Result<KeyPair, CloudError> {
        let project = spec.project_id.unwrap_or(0);
        let (action, mut body) = match &spec.public_key {
            Some(pk) => (
                "ImportKeyPair",
                json!({"KeyName": spec.name, "ProjectId": project, "PublicKey": pk}),
            ),
            None => (
                "CreateKeyPair",
                json!({"KeyName": spec.name, "ProjectId": project}),
            ),
        };
        if !spec.tags.is_empty() {
            let tags: Vec<Value> = spec
                .tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            body["TagSpecification"] = json!([{"ResourceType": "keypair", "Tags": tags}]);
        }
        // Ownership of a key found after a lost answer is judged against this time.
        let sent_at = time::OffsetDateTime::now_utc();
        let Attempted {
            result,
            may_have_committed,
        } = self.rpc(action, body).await;
        match result {
            Ok(v) => {
                let mut key = match v.get("KeyPair") {
                    Some(k) => Self::key_from(k),
                    None => KeyPair {
                        id: fields::string(&v, "KeyId").unwrap_or_default(),
                        ..KeyPair::default()
                    },
                };
                if key.name.is_empty() {
                    key.name = spec.name.clone();
                }
                key.public_key = key.public_key.or_else(|| spec.public_key.clone());
                key.project_id = Some(project);
                key.tags = spec.tags.clone();
                key.instance_ids = Some(Vec::new());
                Ok(key)
            }
            Err(e) if may_have_committed && idempotent::is_duplicate(&e) => {
                let found = self
                    .describe_key_pairs(&KeyQuery::Names(vec![spec.name.clone()]))
                    .await?;
                idempotent::resolve_duplicate(spec, found.into_iter().next(), e, sent_at)
            }
            Err(e) => Err(e),
        }
    }

    async fn describe_key_pairs(&self, q: &KeyQuery) -> Result<Vec<KeyPair>, CloudError> {
        let mut out = Vec::new();
        match q {
            KeyQuery::Ids(ids) => {
                for chunk in ids.chunks(CloudKind::Cvm.limits().lookup_batch) {
                    let list = self
                        .paged("DescribeKeyPairs", json!({"KeyIds": chunk}), "KeyPairSet")
                        .await;
                    match list {
                        Ok(list) => out.extend(list.iter().map(Self::key_from)),
                        // An unknown id can fail the whole call: ask for each id alone, so one
                        // missing key costs its own lookup instead of hiding its neighbours.
                        Err(e) if e.kind == ErrorKind::NotFound && chunk.len() > 1 => {
                            for id in chunk {
                                let one = self
                                    .paged(
                                        "DescribeKeyPairs",
                                        json!({"KeyIds": [id]}),
                                        "KeyPairSet",
                                    )
                                    .await;
                                match one {
                                    Ok(list) => out.extend(list.iter().map(Self::key_from)),
                                    Err(e) if e.kind == ErrorKind::NotFound => {}
                                    Err(e) => return Err(e),
                                }
                            }
                        }
                        Err(e) if e.kind == ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            KeyQuery::Names(names) => {
                for chunk in names.chunks(CloudKind::Cvm.limits().lookup_batch) {
                    let body = json!({"Filters": [{"Name": "key-name", "Values": chunk}]});
                    let list = self.paged("DescribeKeyPairs", body, "KeyPairSet").await?;
                    out.extend(list.iter().map(Self::key_from));
                }
            }
            KeyQuery::All | KeyQuery::NamePrefix(_) => {
                let list = self
                    .paged("DescribeKeyPairs", json!({}), "KeyPairSet")
                    .await?;
                out.extend(list.iter().map(Self::key_from).filter(|k| match q {
                    KeyQuery::NamePrefix(prefix) => k.name.starts_with(prefix.as_str()),
                    _ => true,
                }));
            }
        }
        Ok(out)
    }

    async fn list_key_pairs(&self, page: &PageRequest) -> Result<KeyPage, CloudError> {
        if page.name_pattern.is_some() {
            return Err(CloudError::local(
                CloudKind::Cvm,
                "DescribeKeyPairs",
                ErrorKind::InvalidInput,
                "Unsupported",
                "CVM key-name filters match whole names only; a name pattern cannot be listed",
            ));
        }
        let (got, total) = self
            .page(
                "DescribeKeyPairs",
                json!({}),
                "KeyPairSet",
                page.index * page.size,
                page.size,
            )
            .await?;
        Ok(KeyPage {
            keys: got.iter().map(Self::key_from).collect(),
            total,
        })
    }

    async fn delete_key_pairs(&self, ids: &[String]) -> Result<(), CloudError> {
        if ids.is_empty() {
            return Ok(());
        }
        let limit = CloudKind::Cvm.limits().delete_batch;
        if ids.len() > limit {
            return Err(CloudError::local(
                CloudKind::Cvm,
                "DeleteKeyPairs",
                ErrorKind::InvalidInput,
                "TooManyKeys",
                format!(
                    "{} keys in one call; cvm accepts at most {limit}",
                    ids.len()
                ),
            ));
        }
        let a = self.rpc("DeleteKeyPairs", json!({"KeyIds": ids})).await;
        idempotent::delete_outcome(a.result.map(|_| ()), a.may_have_committed)
    }

    async fn attach(
        &self,
        key_id: &str,
        instances: &[String],
        opts: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        self.bind("AssociateInstancesKeyPairs", key_id, instances, opts)
            .await
    }

    async fn detach(
        &self,
        key_id: &str,
        instances: &[String],
        opts: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        self.bind("DisassociateInstancesKeyPairs", key_id, instances, opts)
            .await
    }

    async fn describe_instances(&self, q: &InstanceQuery) -> Result<Vec<Instance>, CloudError> {
        match q {
            InstanceQuery::Ids(ids) => {
                let mut out = Vec::new();
                for chunk in ids.chunks(CloudKind::Cvm.limits().instance_batch) {
                    let list = self
                        .paged(
                            "DescribeInstances",
                            json!({"InstanceIds": chunk}),
                            "InstanceSet",
                        )
                        .await?;
                    out.extend(list.iter().map(Self::instance_from));
                }
                Ok(out)
            }
            InstanceQuery::BoundTo(key_id) => {
                let list = self
                    .paged("DescribeInstances", json!({}), "InstanceSet")
                    .await?;
                Ok(list
                    .iter()
                    .map(Self::instance_from)
                    .filter(|i| i.key_ids.contains(key_id))
                    .collect())
            }
            InstanceQuery::All => Ok(self
                .paged("DescribeInstances", json!({}), "InstanceSet")
                .await?
                .iter()
                .map(Self::instance_from)
                .collect()),
        }
    }

    async fn reboot_instance(&self, _id: &str) -> Result<(), CloudError> {
        Err(CloudError::local(
            CloudKind::Cvm,
            "RebootInstance",
            ErrorKind::InvalidInput,
            "Unsupported",
            "CVM binding changes take effect through ForceStop; reboot is not used",
        ))
    }

    async fn tag_key_pair(
        &self,
        key_id: &str,
        set: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), CloudError> {
        let (tagging, service) = tagging();
        let resource = service.resource_name(&self.region, key_id);
        let per_call = tagging.tags_per_call.max(1);
        let set: Vec<Value> = set
            .iter()
            .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
            .collect();
        for chunk in set.chunks(per_call) {
            let body = json!({"ResourceList": [resource], "Tags": chunk});
            self.tag_call(tagging.tag_action, body).await?;
        }
        for chunk in remove.chunks(per_call) {
            let body = json!({"ResourceList": [resource], "TagKeys": chunk});
            self.tag_call(tagging.untag_action, body).await?;
        }
        Ok(())
    }
}
