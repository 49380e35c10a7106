//! Data source `sshkey_key_pairs`: finds key pairs by ids, name prefix, name regex,
//! fingerprint, tags, resource group or project, across every page the cloud returns, with
//! their public keys, tags and the instances that hold them.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use regex::Regex;

use crate::cloud::public_key::parse_public_key;
use crate::cloud::{CloudKind, InstanceQuery, KeyPair, KeyQuery};
use crate::provider::diag::{attr, Diagnostics};
use crate::provider::resource::DataSource;
use crate::provider::Ctx;
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

pub(crate) struct KeyPairsDataSource {
    schema: Schema,
}

impl Default for KeyPairsDataSource {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyPairsDataSource {
    pub fn new() -> Self {
        KeyPairsDataSource { schema: schema() }
    }
}

fn strings() -> Type {
    Type::List(Box::new(Type::String))
}

fn string_map() -> Type {
    Type::Map(Box::new(Type::String))
}

/// The attributes of one found key pair.
pub(crate) fn summary_type() -> Type {
    Type::Object(BTreeMap::from([
        ("name".to_string(), Type::String),
        ("key_id".to_string(), Type::String),
        ("fingerprint".to_string(), Type::String),
        ("created_at".to_string(), Type::String),
        ("public_key".to_string(), Type::String),
        ("tags".to_string(), string_map()),
        ("resource_group_id".to_string(), Type::String),
        ("project_id".to_string(), Type::Number),
        ("instance_ids".to_string(), strings()),
    ]))
}

pub(crate) fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Lists key pairs in the provider's region, filtered by ids, name prefix, name regex, fingerprint, tags, resource group or project.",
            vec![
                Attribute::optional("ids", Type::Set(Box::new(Type::String)))
                    .describe("Only key pairs with these cloud ids (the names on ECS)."),
                Attribute::optional("name_prefix", Type::String)
                    .describe("Only key pairs whose name starts with this."),
                Attribute::optional("name_regex", Type::String)
                    .describe("Only key pairs whose name matches this regular expression (Rust regex syntax)."),
                Attribute::optional("fingerprint", Type::String)
                    .describe("Only the key pair with this fingerprint."),
                Attribute::optional("tags", string_map())
                    .describe("Only key pairs holding all these tags (ECS and CVM)."),
                Attribute::optional("resource_group_id", Type::String)
                    .describe("Only key pairs in this resource group (ECS)."),
                Attribute::optional("project_id", Type::Number)
                    .describe("Only key pairs in this project (CVM)."),
                Attribute::computed("key_pairs", Type::List(Box::new(summary_type())))
                    .describe("The key pairs found, sorted by name."),
                Attribute::computed("names", Type::List(Box::new(Type::String)))
                    .describe("Their names, sorted."),
            ],
        ),
    )
}

/// The filters shared by the data source and the list resource (which has the name filters
/// only: what its schema lacks reads as unset).
#[derive(Default)]
pub(crate) struct Filter {
    pub ids: Option<BTreeSet<String>>,
    pub prefix: Option<String>,
    pub regex: Option<Regex>,
    pub fingerprint: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub resource_group_id: Option<String>,
    pub project_id: Option<i64>,
}

/// Which clouds know each optional filter, as the resource's attributes.
const CLOUD_FILTERS: &[(&str, &[CloudKind])] = &[
    ("tags", &[CloudKind::Ecs, CloudKind::Cvm]),
    ("resource_group_id", &[CloudKind::Ecs]),
    ("project_id", &[CloudKind::Cvm]),
];

impl Filter {
    /// Reads the filter attributes present in `config`, reporting a bad regex at its attribute.
    pub(crate) fn from_config(config: &Value, diags: &mut Diagnostics) -> Option<Filter> {
        let text = |n: &str| config.attr(n).and_then(Value::as_str).map(str::to_string);
        let regex = match text("name_regex") {
            Some(r) => match Regex::new(&r) {
                Ok(re) => Some(re),
                Err(e) => {
                    diags.attribute_error(
                        attr("name_regex"),
                        "Invalid regular expression",
                        format!("`name_regex`: {e}"),
                    );
                    return None;
                }
            },
            None => None,
        };
        let ids = match config.attr("ids") {
            Some(Value::Set(items) | Value::List(items)) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            ),
            _ => None,
        };
        let tags = match config.attr("tags") {
            Some(Value::Map(m)) => Some(
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect(),
            ),
            _ => None,
        };
        Some(Filter {
            ids,
            prefix: text("name_prefix"),
            regex,
            fingerprint: text("fingerprint"),
            tags,
            resource_group_id: text("resource_group_id"),
            project_id: config.attr("project_id").and_then(Value::as_i64),
        })
    }

    /// Reports a filter the cloud has no notion of, at its attribute.
    pub(crate) fn check_cloud(config: &Value, kind: CloudKind, diags: &mut Diagnostics) {
        for (name, clouds) in CLOUD_FILTERS {
            if config.attr(name).is_some_and(|v| !v.is_null()) && !clouds.contains(&kind) {
                diags.attribute_error(
                    attr(name),
                    "Filter not supported by this cloud",
                    format!("`{name}` is not supported on {kind}; remove it."),
                );
            }
        }
    }

    pub(crate) fn query(&self) -> KeyQuery {
        match (&self.ids, &self.prefix) {
            (Some(ids), _) => KeyQuery::Ids(ids.iter().cloned().collect()),
            (None, Some(p)) => KeyQuery::NamePrefix(p.clone()),
            (None, None) => KeyQuery::All,
        }
    }

    pub(crate) fn matches(&self, kp: &KeyPair) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&kp.id))
            && self
                .tags
                .as_ref()
                .is_none_or(|want| want.iter().all(|(k, v)| kp.tags.get(k) == Some(v)))
            && self
                .resource_group_id
                .as_ref()
                .is_none_or(|g| kp.resource_group_id.as_ref() == Some(g))
            && self.project_id.is_none_or(|p| kp.project_id == Some(p))
            && self
                .prefix
                .as_ref()
                .is_none_or(|p| kp.name.starts_with(p.as_str()))
            && self.regex.as_ref().is_none_or(|r| r.is_match(&kp.name))
            && self
                .fingerprint
                .as_ref()
                .is_none_or(|f| fingerprint(kp).eq_ignore_ascii_case(f))
    }

    /// Every matching key pair, sorted by name.
    pub(crate) async fn run(&self, ctx: &Ctx, diags: &mut Diagnostics) -> Option<Vec<KeyPair>> {
        match ctx.api.describe_key_pairs(&self.query()).await {
            Ok(all) => {
                let mut found: Vec<KeyPair> = all.into_iter().filter(|k| self.matches(k)).collect();
                found.sort_by(|a, b| a.name.cmp(&b.name));
                Some(found)
            }
            Err(e) => {
                diags.error("Cannot list key pairs", e.to_string());
                None
            }
        }
    }
}

#[async_trait]
impl DataSource for KeyPairsDataSource {
    fn type_name(&self) -> &'static str {
        "sshkey_key_pairs"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        Filter::from_config(config, diags);
    }
    async fn read(&self, ctx: &Ctx, config: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let kind = ctx.config.cloud;
        Filter::check_cloud(config, kind, diags);
        if diags.has_errors() {
            return None;
        }
        let found = Filter::from_config(config, diags)?.run(ctx, diags).await?;
        let holders = holders(ctx, kind, &found, diags).await?;
        let summaries = found
            .iter()
            .map(|k| summary(k, holders.get(&k.id)))
            .collect();
        let names = found.iter().map(|k| Value::string(&k.name)).collect();
        let mut state = match config {
            Value::Object(m) => m.clone(),
            _ => BTreeMap::new(),
        };
        state.insert("key_pairs".to_string(), Value::List(summaries));
        state.insert("names".to_string(), Value::List(names));
        Some(Value::Object(state))
    }
}

/// The fingerprint as the cloud reports it, or, where it reports none (CVM), the same MD5 form
/// ECS shows, computed from the public key.
fn fingerprint(kp: &KeyPair) -> String {
    if !kp.fingerprint.is_empty() {
        return kp.fingerprint.clone();
    }
    kp.public_key
        .as_deref()
        .and_then(|k| parse_public_key(k).ok())
        .map(|k| k.md5_fingerprint())
        .unwrap_or_default()
}

/// The instances holding each found key, by key id. CVM lists them with the key; ECS and ENS
/// do not, so their instances are listed once for all keys, not once per key.
async fn holders(
    ctx: &Ctx,
    kind: CloudKind,
    found: &[KeyPair],
    diags: &mut Diagnostics,
) -> Option<BTreeMap<String, Vec<String>>> {
    let mut by_key: BTreeMap<String, Vec<String>> = found
        .iter()
        .filter_map(|k| k.instance_ids.clone().map(|ids| (k.id.clone(), ids)))
        .collect();
    if found.iter().all(|k| by_key.contains_key(&k.id)) {
        return Some(by_key);
    }
    let instances = match ctx.api.describe_instances(&InstanceQuery::All).await {
        Ok(all) => all,
        Err(e) => {
            diags.error(
                "Cannot list the instances holding the key pairs",
                e.to_string(),
            );
            return None;
        }
    };
    for k in found.iter().filter(|k| k.instance_ids.is_none()) {
        let holding = instances
            .iter()
            .filter(|i| i.holds(kind, &k.id, &k.name))
            .map(|i| i.id.clone())
            .collect();
        by_key.insert(k.id.clone(), holding);
    }
    Some(by_key)
}

fn summary(k: &KeyPair, holders: Option<&Vec<String>>) -> Value {
    let text = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::string);
    let mut instances: Vec<String> = holders.cloned().unwrap_or_default();
    instances.sort();
    Value::Object(BTreeMap::from([
        ("name".to_string(), Value::string(&k.name)),
        ("key_id".to_string(), Value::string(&k.id)),
        ("fingerprint".to_string(), Value::string(fingerprint(k))),
        ("created_at".to_string(), text(&k.created_at)),
        ("public_key".to_string(), text(&k.public_key)),
        (
            "tags".to_string(),
            Value::Map(
                k.tags
                    .iter()
                    .map(|(t, v)| (t.clone(), Value::string(v)))
                    .collect(),
            ),
        ),
        ("resource_group_id".to_string(), text(&k.resource_group_id)),
        (
            "project_id".to_string(),
            k.project_id
                .map_or(Value::Null, |p| Value::Number(crate::value::Number::Int(p))),
        ),
        (
            "instance_ids".to_string(),
            Value::List(instances.iter().map(Value::string).collect()),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kp(name: &str, fp: &str) -> KeyPair {
        KeyPair {
            name: name.into(),
            id: name.into(),
            fingerprint: fp.into(),
            created_at: None,
            private_key: None,
            public_key: None,
            tags: BTreeMap::new(),
            resource_group_id: None,
            project_id: None,
            instance_ids: None,
        }
    }

    #[test]
    fn filters_combine() {
        let f = Filter {
            prefix: Some("web".into()),
            regex: Regex::new("-[0-9]+$").ok(),
            ..Filter::default()
        };
        assert!(f.matches(&kp("web-1", "aa")));
        assert!(!f.matches(&kp("web-x", "aa")));
        assert!(!f.matches(&kp("db-1", "aa")));
        let g = Filter {
            fingerprint: Some("AA:bb".into()),
            ..Filter::default()
        };
        assert!(g.matches(&kp("x", "aa:BB")));
        assert!(!g.matches(&kp("x", "aa:cc")));
        let mut tagged = kp("t", "aa");
        tagged.tags = BTreeMap::from([("env".into(), "prod".into()), ("team".into(), "a".into())]);
        tagged.project_id = Some(7);
        let h = Filter {
            ids: Some(BTreeSet::from(["t".to_string()])),
            tags: Some(BTreeMap::from([("env".into(), "prod".into())])),
            project_id: Some(7),
            ..Filter::default()
        };
        assert!(h.matches(&tagged));
        assert!(!h.matches(&kp("t", "aa")), "untagged");
        let other_project = Filter {
            project_id: Some(8),
            ..Filter::default()
        };
        assert!(!other_project.matches(&tagged));
    }

    #[test]
    fn a_missing_fingerprint_is_computed_in_the_ecs_form() {
        // `ssh-keygen -E md5 -lf` says MD5:7a:a7:...:3b for this key; ECS shows the hex pairs.
        let mut k = kp("c", "");
        k.public_key = Some(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDCcFpznKoTlbrTPIcaAUb+CTZR27XzI2XKcjlBfKrZc"
                .to_string(),
        );
        assert_eq!(
            fingerprint(&k),
            "7a:a7:f9:d3:0e:ec:04:fa:1f:ba:13:89:7f:3c:62:3b"
        );
        // A reported fingerprint is kept as reported.
        assert_eq!(fingerprint(&kp("e", "aa:bb")), "aa:bb");
    }

    #[test]
    fn bad_regex_points_at_the_attribute() {
        let mut d = Diagnostics::new();
        let cfg = Value::Object(BTreeMap::from([(
            "name_regex".to_string(),
            Value::string("("),
        )]));
        assert!(Filter::from_config(&cfg, &mut d).is_none());
        assert_eq!(d.0[0].path, Some(attr("name_regex")));
    }
}
