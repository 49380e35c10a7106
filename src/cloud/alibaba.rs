//! Alibaba Cloud ECS (2014-05-26) and ENS (2017-11-10): one RPC transport (ACS3-HMAC-SHA256,
//! parameters in the query, JSON answers, errors as 4xx/5xx with `{Code, Message, RequestId}`),
//! two dialects. What differs - version, endpoint, whether keys are regional, how a key is named
//! in delete and bind calls - is the [`Dialect`] table; the operations are written once.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::error::classify;
use super::fields::{self, items};
use super::idempotent;
use super::rules::{PublicKeyListed, ReadAhead, TagVia};
use super::sign::{self, acs3, encode};
use super::sts::Session;
use super::transport::{host_header, Attempted, HttpRequest, Transport};
use super::{
    BindOptions, ClientConfig, CloudError, CloudKind, ErrorKind, Instance, InstanceOutcome,
    InstanceQuery, KeyPage, KeyPair, KeyPairApi, KeyQuery, KeySpec, PageRequest,
};

/// How one Alibaba product spells the same operations.
#[derive(Debug)]
pub(crate) struct Dialect {
    version: &'static str,
    /// `{region}` is replaced by the configured region.
    default_endpoint: &'static str,
    /// ECS keys live in a region (`RegionId` on every call); ENS keys are global.
    regional: bool,
    /// Parameter naming a key in delete and bind calls.
    key_param: &'static str,
    /// ENS reports an id distinct from the name.
    has_key_id: bool,
    /// Instance field holding the OS.
    os_field: &'static str,
}

static ECS: Dialect = Dialect {
    version: "2014-05-26",
    default_endpoint: "https://ecs.{region}.aliyuncs.com/",
    regional: true,
    key_param: "KeyPairName",
    has_key_id: false,
    os_field: "OSType",
};

static ENS: Dialect = Dialect {
    version: "2017-11-10",
    default_endpoint: "https://ens.aliyuncs.com/",
    regional: false,
    key_param: "KeyPairId",
    has_key_id: true,
    os_field: "OSName",
};

/// An ECS or ENS client.
#[derive(Debug)]
pub(crate) struct AlibabaClient {
    kind: CloudKind,
    dialect: &'static Dialect,
    rpc: AlibabaRpc,
}

/// One Alibaba RPC-style API at one endpoint: ACS3-signed POSTs with the parameters in the
/// query, JSON answers, errors as 4xx/5xx with `{Code, Message, RequestId}`. ECS, ENS and STS
/// differ only in version, endpoint and whether calls carry `RegionId`.
#[derive(Debug)]
pub(crate) struct AlibabaRpc {
    kind: CloudKind,
    version: &'static str,
    /// Sent as `RegionId` on every call, for APIs whose objects live in a region.
    region: Option<String>,
    endpoint: url::Url,
    transport: Transport,
}

type Params = Vec<(String, String)>;

fn p(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

fn json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

impl AlibabaClient {
    pub fn new(cfg: ClientConfig, session: Arc<Session>) -> Result<Self, CloudError> {
        let dialect = match cfg.kind {
            CloudKind::Ecs => &ECS,
            CloudKind::Ens => &ENS,
            CloudKind::Cvm => {
                return Err(CloudError::local(
                    cfg.kind,
                    "Configure",
                    ErrorKind::InvalidInput,
                    "WrongCloud",
                    "the Alibaba client serves ecs and ens only",
                ))
            }
        };
        let endpoint = super::resolve_endpoint(&cfg, dialect.default_endpoint)?;
        let region = dialect.regional.then(|| cfg.region.clone());
        Ok(Self {
            kind: cfg.kind,
            dialect,
            rpc: AlibabaRpc::new(
                &cfg,
                dialect.version,
                region,
                endpoint,
                cfg.kind.limits().rates,
                session,
            )?,
        })
    }

    async fn rpc(&self, action: &str, params: Params) -> Attempted<Value> {
        self.rpc.call(action, params).await
    }

    /// One page (numbered from 1): (items, TotalCount).
    async fn page(
        &self,
        action: &str,
        mut params: Params,
        number: usize,
        page_size: usize,
        (list, inner): (&str, &str),
    ) -> Result<(Vec<Value>, usize), CloudError> {
        params.push(p("PageNumber", number.to_string()));
        params.push(p("PageSize", page_size.to_string()));
        let v = self.rpc(action, params).await.result?;
        let total = fields::int(&v, "TotalCount").unwrap_or(0).max(0) as usize;
        Ok((items(&v, list, inner).to_vec(), total))
    }

    /// All pages of a paged list.
    async fn paged(
        &self,
        action: &str,
        params: Params,
        page_size: usize,
        list: &str,
        inner: &str,
    ) -> Result<Vec<Value>, CloudError> {
        let mut out = Vec::new();
        for number in 1.. {
            let (got, total) = self
                .page(action, params.clone(), number, page_size, (list, inner))
                .await?;
            let short = got.len() < page_size;
            out.extend(got);
            if short || out.len() >= total {
                break;
            }
        }
        Ok(out)
    }

    /// Listings carry public keys where the API reports them only on request (ECS), so
    /// refresh sees a key replaced outside Terraform and import records the key.
    fn ask_for_public_keys(&self, params: &mut Params) {
        if let PublicKeyListed::OnRequest(param) = self.kind.limits().public_key_listed {
            params.push(p(param, "true"));
        }
    }

    fn key_from(&self, v: &Value) -> KeyPair {
        let name = fields::string(v, "KeyPairName").unwrap_or_default();
        let id = if self.dialect.has_key_id {
            fields::non_empty(v, "KeyPairId").unwrap_or_else(|| name.clone())
        } else {
            name.clone()
        };
        let tags: BTreeMap<String, String> = items(v, "Tags", "Tag")
            .iter()
            .filter_map(|t| {
                Some((
                    fields::string(t, "TagKey")?,
                    fields::string(t, "TagValue").unwrap_or_default(),
                ))
            })
            .collect();
        KeyPair {
            name,
            id,
            fingerprint: fields::string(v, "KeyPairFingerPrint").unwrap_or_default(),
            created_at: fields::non_empty(v, "CreationTime"),
            private_key: fields::non_empty(v, "PrivateKeyBody"),
            public_key: fields::non_empty(v, "PublicKey"),
            tags,
            resource_group_id: fields::non_empty(v, "ResourceGroupId"),
            project_id: None,
            instance_ids: None,
        }
    }

    /// One bind call. A whole-call refusal caused by some instances (Windows) is handled once,
    /// for every cloud, by [`crate::batch::bind::bind_chunk`].
    async fn bind(
        &self,
        action: &str,
        key_id: &str,
        instances: &[String],
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        let params = vec![
            p(self.dialect.key_param, key_id),
            p("InstanceIds", json_list(instances)),
        ];
        let v = self.rpc(action, params).await.result?;
        Ok(instances
            .iter()
            .map(|id| {
                let item = items(&v, "Results", "Result")
                    .iter()
                    .find(|r| fields::string(r, "InstanceId").as_deref() == Some(id));
                let result = match item {
                    None => Err(CloudError::local(
                        self.kind,
                        action,
                        ErrorKind::Other,
                        "NoResult",
                        format!("the answer has no result for instance {id}"),
                    )),
                    Some(r) if fields::boolean(r, "Success") == Some(true) => Ok(()),
                    Some(r) => Err(self.instance_error(action, r)),
                };
                InstanceOutcome {
                    instance_id: id.clone(),
                    result,
                }
            })
            .collect())
    }

    /// A per-instance failure. ENS puts the HTTP-like status in `Code` and `code: text` in
    /// `Message`; ECS puts the real code in `Code`.
    fn instance_error(&self, action: &str, r: &Value) -> CloudError {
        let raw_code = fields::string(r, "Code").unwrap_or_default();
        let raw_msg = fields::string(r, "Message").unwrap_or_default();
        let (code, message) = match raw_msg.split_once(": ") {
            Some((c, m)) if raw_code.chars().all(|ch| ch.is_ascii_digit()) && !c.contains(' ') => {
                (c.to_string(), m.to_string())
            }
            _ => (raw_code, raw_msg),
        };
        CloudError {
            cloud: self.kind,
            action: action.to_string(),
            kind: classify(&code, None),
            code,
            message,
            request_id: None,
            http_status: None,
        }
    }

    fn instance_from(&self, v: &Value) -> Instance {
        Instance {
            id: fields::string(v, "InstanceId").unwrap_or_default(),
            key_ids: fields::non_empty(v, "KeyPairName").into_iter().collect(),
            os: fields::non_empty(v, self.dialect.os_field).map(|s| s.to_ascii_lowercase()),
            status: fields::non_empty(v, "Status"),
        }
    }

    async fn all_instances(&self, params: Params) -> Result<Vec<Instance>, CloudError> {
        let list = self
            .paged(
                "DescribeInstances",
                params,
                self.kind.limits().instance_batch,
                "Instances",
                "Instance",
            )
            .await?;
        Ok(list.iter().map(|v| self.instance_from(v)).collect())
    }
}

impl AlibabaRpc {
    /// The API `version` at `endpoint`, signing with what `session` holds and pacing at
    /// `rates`.
    pub(crate) fn new(
        cfg: &ClientConfig,
        version: &'static str,
        region: Option<String>,
        endpoint: url::Url,
        rates: &'static [(&'static str, u32)],
        session: Arc<Session>,
    ) -> Result<Self, CloudError> {
        Ok(Self {
            kind: cfg.kind,
            version,
            region,
            transport: Transport::new(cfg, &endpoint, rates, session)?,
            endpoint,
        })
    }

    /// Runs one action with retries (see [`Transport::call`]).
    pub(crate) async fn call(&self, action: &str, params: Params) -> Attempted<Value> {
        self.transport
            .call(
                action,
                |creds| self.build(action, &params, creds),
                |s, b| self.parse(action, s, b),
            )
            .await
    }

    fn build(
        &self,
        action: &str,
        params: &Params,
        creds: &sign::Credentials,
    ) -> Result<HttpRequest, CloudError> {
        let mut query = params.clone();
        if let Some(region) = &self.region {
            query.push(p("RegionId", region.clone()));
        }
        let mut url = self.endpoint.clone();
        url.set_query(Some(&encode::encode_query(
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )));
        let host = host_header(&url);
        let date = acs3::format_date(time::OffsetDateTime::now_utc());
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let headers = acs3::sign_request(
            &acs3::SignInput {
                method: "POST",
                host: &host,
                query: &query,
                body: b"",
                action,
                version: self.version,
                date: &date,
                nonce: &nonce,
            },
            creds,
        );
        Ok(HttpRequest {
            url,
            headers,
            body: Vec::new(),
        })
    }

    fn parse(&self, action: &str, status: u16, body: &[u8]) -> Result<Value, CloudError> {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        if (200..300).contains(&status) {
            return json.ok_or_else(|| {
                CloudError::local(
                    self.kind,
                    action,
                    ErrorKind::Server,
                    "InvalidResponse",
                    "the answer is not JSON",
                )
            });
        }
        let v = json.unwrap_or(Value::Null);
        let code = fields::non_empty(&v, "Code").unwrap_or_else(|| format!("HTTP{status}"));
        let message = fields::non_empty(&v, "Message")
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
        Err(CloudError {
            cloud: self.kind,
            action: action.to_string(),
            kind: classify(&code, Some(status)),
            code,
            message,
            request_id: fields::non_empty(&v, "RequestId"),
            http_status: Some(status),
        })
    }
}

#[async_trait]
impl KeyPairApi for AlibabaClient {
    fn kind(&self) -> CloudKind {
        self.kind
    }

    async fn create_key_pair(&self, spec: &KeySpec) -> Result<KeyPair, CloudError> {
        let mut params = vec![p("KeyPairName", spec.name.clone())];
        let action = match &spec.public_key {
            Some(pk) => {
                params.push(p("PublicKeyBody", pk.clone()));
                "ImportKeyPair"
            }
            None => "CreateKeyPair",
        };
        if let Some(rg) = &spec.resource_group_id {
            params.push(p("ResourceGroupId", rg.clone()));
        }
        for (i, (k, v)) in spec.tags.iter().enumerate() {
            params.push(p(&format!("Tag.{}.Key", i + 1), k.clone()));
            params.push(p(&format!("Tag.{}.Value", i + 1), v.clone()));
        }
        // Ownership of a key found after a lost answer is judged against this time.
        let sent_at = time::OffsetDateTime::now_utc();
        let Attempted {
            result,
            may_have_committed,
        } = self.rpc(action, params).await;
        match result {
            Ok(v) => {
                let mut key = self.key_from(&v);
                if key.name.is_empty() {
                    key.name = spec.name.clone();
                    if key.id.is_empty() {
                        key.id = spec.name.clone();
                    }
                }
                if self.dialect.has_key_id && key.id == key.name {
                    // ENS ImportKeyPair answers without the new key's id.
                    let found = self
                        .describe_key_pairs(&KeyQuery::Names(vec![key.name.clone()]))
                        .await?;
                    if let Some(k) = found.into_iter().next() {
                        key.id = k.id;
                        key.created_at = k.created_at;
                    }
                }
                key.public_key = key.public_key.or_else(|| spec.public_key.clone());
                key.tags = spec.tags.clone();
                key.resource_group_id = spec.resource_group_id.clone();
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
        // The API filters by one name pattern (or one ENS id); lists are filtered here.
        let mut params = Vec::new();
        match q {
            KeyQuery::Names(n) | KeyQuery::Ids(n) if n.is_empty() => return Ok(Vec::new()),
            KeyQuery::Names(n) if n.len() == 1 => params.push(p("KeyPairName", n[0].clone())),
            KeyQuery::Ids(n) if n.len() == 1 => {
                params.push(p(self.dialect.key_param, n[0].clone()))
            }
            // ENS matches names exactly: its prefix queries list everything and filter here.
            KeyQuery::NamePrefix(prefix)
                if self.kind.limits().read_ahead == ReadAhead::NamePattern =>
            {
                params.push(p("KeyPairName", format!("{prefix}*")))
            }
            _ => {}
        }
        self.ask_for_public_keys(&mut params);
        let page = self.kind.limits().describe_page;
        let list = self
            .paged("DescribeKeyPairs", params, page, "KeyPairs", "KeyPair")
            .await?;
        Ok(list
            .iter()
            .map(|v| self.key_from(v))
            .filter(|k| match q {
                KeyQuery::All => true,
                KeyQuery::Ids(ids) => ids.contains(&k.id),
                KeyQuery::Names(names) => names.contains(&k.name),
                KeyQuery::NamePrefix(prefix) => k.name.starts_with(prefix.as_str()),
            })
            .collect())
    }

    async fn list_key_pairs(&self, page: &PageRequest) -> Result<KeyPage, CloudError> {
        let mut params = Vec::new();
        if let Some(pattern) = &page.name_pattern {
            if self.kind.limits().read_ahead != ReadAhead::NamePattern {
                return Err(CloudError::local(
                    self.kind,
                    "DescribeKeyPairs",
                    ErrorKind::InvalidInput,
                    "Unsupported",
                    format!(
                        "{} matches exact names only; a name pattern cannot be listed",
                        self.kind
                    ),
                ));
            }
            params.push(p("KeyPairName", pattern.clone()));
        }
        self.ask_for_public_keys(&mut params);
        let (got, total) = self
            .page(
                "DescribeKeyPairs",
                params,
                page.index + 1,
                page.size,
                ("KeyPairs", "KeyPair"),
            )
            .await?;
        Ok(KeyPage {
            keys: got.iter().map(|v| self.key_from(v)).collect(),
            total,
        })
    }

    async fn delete_key_pairs(&self, ids: &[String]) -> Result<(), CloudError> {
        let limit = self.kind.limits().delete_batch;
        if ids.is_empty() {
            return Ok(());
        }
        if ids.len() > limit {
            return Err(CloudError::local(
                self.kind,
                "DeleteKeyPairs",
                ErrorKind::InvalidInput,
                "TooManyKeys",
                format!(
                    "{} keys in one call; {} accepts at most {limit}",
                    ids.len(),
                    self.kind
                ),
            ));
        }
        let params = if self.dialect.has_key_id {
            vec![p("KeyPairId", ids[0].clone())]
        } else {
            vec![p("KeyPairNames", json_list(ids))]
        };
        let a = self.rpc("DeleteKeyPairs", params).await;
        idempotent::delete_outcome(a.result.map(|_| ()), a.may_have_committed)
    }

    async fn attach(
        &self,
        key_id: &str,
        instances: &[String],
        _o: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        self.bind("AttachKeyPair", key_id, instances).await
    }

    async fn detach(
        &self,
        key_id: &str,
        instances: &[String],
        _o: &BindOptions,
    ) -> Result<Vec<InstanceOutcome>, CloudError> {
        self.bind("DetachKeyPair", key_id, instances).await
    }

    async fn describe_instances(&self, q: &InstanceQuery) -> Result<Vec<Instance>, CloudError> {
        match q {
            InstanceQuery::Ids(ids) => {
                let mut out = Vec::new();
                for chunk in ids.chunks(self.kind.limits().instance_batch) {
                    out.extend(
                        self.all_instances(vec![p("InstanceIds", json_list(chunk))])
                            .await?,
                    );
                }
                Ok(out)
            }
            InstanceQuery::BoundTo(key_id) => {
                // Instances report the key by name; ENS ids must be resolved to a name first.
                let name = if self.dialect.has_key_id {
                    let keys = self
                        .describe_key_pairs(&KeyQuery::Ids(vec![key_id.clone()]))
                        .await?;
                    match keys.into_iter().next() {
                        Some(k) => k.name,
                        None => return Ok(Vec::new()),
                    }
                } else {
                    key_id.clone()
                };
                // ECS filters server-side; ENS has no such filter.
                let params = if self.kind == CloudKind::Ecs {
                    vec![p("KeyPairName", name.clone())]
                } else {
                    Vec::new()
                };
                let all = self.all_instances(params).await?;
                Ok(all
                    .into_iter()
                    .filter(|i| i.key_ids.contains(&name))
                    .collect())
            }
            InstanceQuery::All => self.all_instances(Vec::new()).await,
        }
    }

    async fn reboot_instance(&self, id: &str) -> Result<(), CloudError> {
        if self.kind != CloudKind::Ecs {
            return Err(CloudError::local(
                self.kind,
                "RebootInstance",
                ErrorKind::InvalidInput,
                "Unsupported",
                "ENS binding changes need stopped instances; reboot is not used",
            ));
        }
        self.rpc("RebootInstance", vec![p("InstanceId", id)])
            .await
            .result
            .map(|_| ())
    }

    async fn tag_key_pair(
        &self,
        key_id: &str,
        set: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), CloudError> {
        let Some(tagging) = self.kind.limits().tagging else {
            return Err(super::unsupported(self.kind, "TagResources", "tags"));
        };
        let TagVia::KeyPairApi { resource_type } = tagging.via else {
            return Err(super::unsupported(
                self.kind,
                "TagResources",
                "tags in this API",
            ));
        };
        let target = || vec![p("ResourceType", resource_type), p("ResourceId.1", key_id)];
        let set: Vec<(&String, &String)> = set.iter().collect();
        for chunk in set.chunks(tagging.tags_per_call.max(1)) {
            let mut params = target();
            for (i, (k, v)) in chunk.iter().enumerate() {
                params.push(p(&format!("Tag.{}.Key", i + 1), k.as_str()));
                params.push(p(&format!("Tag.{}.Value", i + 1), v.as_str()));
            }
            self.rpc(tagging.tag_action, params).await.result?;
        }
        for chunk in remove.chunks(tagging.tags_per_call.max(1)) {
            let mut params = target();
            for (i, k) in chunk.iter().enumerate() {
                params.push(p(&format!("TagKey.{}", i + 1), k.as_str()));
            }
            self.rpc(tagging.untag_action, params).await.result?;
        }
        Ok(())
    }

    async fn join_resource_group(&self, key_id: &str, group: &str) -> Result<(), CloudError> {
        let (Some(action), Some(tagging)) = (
            self.kind.limits().join_resource_group,
            self.kind.limits().tagging,
        ) else {
            return Err(super::unsupported(
                self.kind,
                "JoinResourceGroup",
                "resource groups",
            ));
        };
        let TagVia::KeyPairApi { resource_type } = tagging.via else {
            return Err(super::unsupported(self.kind, action, "resource groups"));
        };
        let params = vec![
            p("ResourceType", resource_type),
            p("ResourceId", key_id),
            p("ResourceGroupId", group),
        ];
        self.rpc(action, params).await.result.map(|_| ())
    }
}
