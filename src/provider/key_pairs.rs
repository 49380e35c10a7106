//! Data source `sshkey_key_pairs`: finds key pairs by name prefix, name regex and fingerprint,
//! across every page the cloud returns.

use std::collections::BTreeMap;

use async_trait::async_trait;
use regex::Regex;

use crate::cloud::{KeyPair, KeyQuery};
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

/// The attributes of one found key pair.
pub(crate) fn summary_type() -> Type {
    Type::Object(BTreeMap::from([
        ("name".to_string(), Type::String),
        ("key_id".to_string(), Type::String),
        ("fingerprint".to_string(), Type::String),
        ("created_at".to_string(), Type::String),
    ]))
}

pub(crate) fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Lists key pairs in the provider's region, filtered by name prefix, name regex and fingerprint.",
            vec![
                Attribute::optional("name_prefix", Type::String)
                    .describe("Only key pairs whose name starts with this."),
                Attribute::optional("name_regex", Type::String)
                    .describe("Only key pairs whose name matches this regular expression (Rust regex syntax)."),
                Attribute::optional("fingerprint", Type::String)
                    .describe("Only the key pair with this fingerprint."),
                Attribute::computed("key_pairs", Type::List(Box::new(summary_type())))
                    .describe("The key pairs found, sorted by name."),
                Attribute::computed("names", Type::List(Box::new(Type::String)))
                    .describe("Their names, sorted."),
            ],
        ),
    )
}

/// The filters shared by the data source and the list resource.
pub(crate) struct Filter {
    pub prefix: Option<String>,
    pub regex: Option<Regex>,
    pub fingerprint: Option<String>,
}

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
        Some(Filter {
            prefix: text("name_prefix"),
            regex,
            fingerprint: text("fingerprint"),
        })
    }

    pub(crate) fn query(&self) -> KeyQuery {
        match &self.prefix {
            Some(p) => KeyQuery::NamePrefix(p.clone()),
            None => KeyQuery::All,
        }
    }

    pub(crate) fn matches(&self, kp: &KeyPair) -> bool {
        self.prefix
            .as_ref()
            .is_none_or(|p| kp.name.starts_with(p.as_str()))
            && self.regex.as_ref().is_none_or(|r| r.is_match(&kp.name))
            && self
                .fingerprint
                .as_ref()
                .is_none_or(|f| kp.fingerprint.eq_ignore_ascii_case(f))
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
        let found = Filter::from_config(config, diags)?.run(ctx, diags).await?;
        let summaries = found
            .iter()
            .map(|k| {
                Value::Object(BTreeMap::from([
                    ("name".to_string(), Value::string(&k.name)),
                    ("key_id".to_string(), Value::string(&k.id)),
                    ("fingerprint".to_string(), Value::string(&k.fingerprint)),
                    (
                        "created_at".to_string(),
                        k.created_at
                            .as_deref()
                            .map(Value::string)
                            .unwrap_or(Value::Null),
                    ),
                ]))
            })
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
            fingerprint: None,
        };
        assert!(f.matches(&kp("web-1", "aa")));
        assert!(!f.matches(&kp("web-x", "aa")));
        assert!(!f.matches(&kp("db-1", "aa")));
        let g = Filter {
            prefix: None,
            regex: None,
            fingerprint: Some("AA:bb".into()),
        };
        assert!(g.matches(&kp("x", "aa:BB")));
        assert!(!g.matches(&kp("x", "aa:cc")));
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
