//! List resource `sshkey_key_pair` for `terraform query` (Terraform >= 1.14): every key pair in
//! the region that matches the filters, each with its identity so Terraform can generate import
//! blocks.

use async_trait::async_trait;

use crate::provider::diag::Diagnostics;
use crate::provider::key_pair::{KeyPairModel, TYPE_NAME};
use crate::provider::key_pairs::Filter;
use crate::provider::resource::{ListItem, ListResource};
use crate::provider::Ctx;
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

pub(crate) struct KeyPairList {
    schema: Schema,
}

impl Default for KeyPairList {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyPairList {
    pub fn new() -> Self {
        KeyPairList {
            schema: Schema::new(
                0,
                Block::new(
                    "Filters for listing key pairs.",
                    vec![
                        Attribute::optional("name_prefix", Type::String)
                            .describe("Only key pairs whose name starts with this."),
                        Attribute::optional("name_regex", Type::String)
                            .describe("Only key pairs whose name matches this regular expression."),
                    ],
                ),
            ),
        }
    }
}

#[async_trait]
impl ListResource for KeyPairList {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        Filter::from_config(config, diags);
    }
    async fn list(
        &self,
        ctx: &Ctx,
        config: &Value,
        limit: usize,
        diags: &mut Diagnostics,
    ) -> Vec<ListItem> {
        let Some(filter) = Filter::from_config(config, diags) else {
            return Vec::new();
        };
        let Some(found) = filter.run(ctx, diags).await else {
            return Vec::new();
        };
        found
            .into_iter()
            .take(limit)
            .map(|kp| ListItem {
                identity: Value::Object(
                    [("key_id".to_string(), Value::string(&kp.id))]
                        .into_iter()
                        .collect(),
                ),
                display_name: kp.name.clone(),
                state: Some(KeyPairModel::imported(&kp, &ctx.config.default_tags).to_value()),
            })
            .collect()
    }
}
