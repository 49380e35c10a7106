//! The provider block: its schema, and the one step that turns raw configuration into a checked
//! [`ProviderConfig`]. Limits are checked against the chosen cloud here, so a bad batch size is an
//! error at `terraform plan`, pointing at the attribute, instead of a failed API call at apply.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cloud::{AssumeRole, CloudKind, Credentials};
use crate::provider::credentials::{self, env_names};
use crate::provider::diag::{attr, Diagnostics};
use crate::schema::{Attribute, Block, Schema};
use crate::value::{Type, Value};

pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 8;
pub(crate) const DEFAULT_BATCH_WINDOW: Duration = crate::batch::DEFAULT_GATHER_WINDOW;
/// A batch window longer than this would make every destroy visibly slower.
const MAX_BATCH_WINDOW: Duration = Duration::from_secs(5);

pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Manages SSH key pairs on Alibaba Cloud ECS, Alibaba Cloud ENS or Tencent Cloud CVM.",
            vec![
                Attribute::required("cloud", Type::String)
                    .describe("The cloud API to use: `ecs`, `ens` or `cvm`."),
                Attribute::optional("region", Type::String).describe(
                    "Region, e.g. `cn-hangzhou` or `ap-guangzhou`. Falls back to ALIBABA_CLOUD_REGION or TENCENTCLOUD_REGION.",
                ),
                Attribute::optional("access_key", Type::String).sensitive().describe(
                    "Access key id (Tencent: SecretId). Falls back to ALIBABA_CLOUD_ACCESS_KEY_ID or TENCENTCLOUD_SECRET_ID.",
                ),
                Attribute::optional("secret_key", Type::String).sensitive().describe(
                    "Access key secret (Tencent: SecretKey). Falls back to ALIBABA_CLOUD_ACCESS_KEY_SECRET or TENCENTCLOUD_SECRET_KEY.",
                ),
                Attribute::optional("security_token", Type::String).sensitive().describe(
                    "Security token of temporary (STS) credentials. Falls back to ALIBABA_CLOUD_SECURITY_TOKEN or TENCENTCLOUD_SESSION_TOKEN.",
                ),
                Attribute::optional("profile", Type::String).describe(
                    "Profile of the shared credentials file, read when neither `access_key` nor `secret_key` is set here or in the environment. Falls back to ALIBABA_CLOUD_PROFILE or TENCENTCLOUD_PROFILE, then the file's current profile (Alibaba) or `default` (Tencent).",
                ),
                Attribute::optional("shared_credentials_file", Type::String).describe(
                    "The shared credentials file: the Alibaba Cloud CLI's `~/.aliyun/config.json` (modes AK, StsToken, RamRoleArn) or Tencent Cloud's `~/.tencentcloud/credentials`. Falls back to ALIBABA_CLOUD_CREDENTIALS_FILE or TENCENTCLOUD_CREDENTIALS_FILE.",
                ),
                Attribute::optional("endpoint", Type::String).describe(
                    "API endpoint URL override, e.g. `http://127.0.0.1:8080` for the sshkey emulator.",
                ),
                Attribute::optional("sts_endpoint", Type::String).describe(
                    "STS endpoint URL override for `assume_role`. Default: `endpoint` when set, else the cloud's public STS endpoint.",
                ),
                Attribute::optional("max_delete_batch", Type::Number).describe(
                    "Most key pairs per DeleteKeyPairs call: 1..100 on ecs and cvm, 1 on ens. Default: the cloud's limit.",
                ),
                Attribute::optional("max_detach_batch", Type::Number).describe(
                    "Most instances per attach/detach call: 1..50 on ecs, 1..30 on ens, 1..100 on cvm. Default: the cloud's limit.",
                ),
                Attribute::optional("max_read_batch", Type::Number).describe(
                    "Most key pairs one refresh call reads: listing pages and batched lookups of 1..100 on cvm, 1..50 on ecs and ens. Default: the cloud's limit. 1 reads each key with its own call.",
                ),
                Attribute::optional("batch_window", Type::String).describe(
                    "How long a batch waits for the next delete or detach before it is sent, e.g. `250ms` (default; every arrival restarts it, up to 20 windows). At most 5s.",
                ),
                Attribute::optional("request_timeout", Type::String)
                    .describe("Timeout of one API request, e.g. `30s` (default)."),
                Attribute::optional("max_retries", Type::Number).describe(
                    "Retries of a throttled or failed request, with exponential backoff and jitter. Default 8.",
                ),
            ],
        )
        .with_block("assume_role", assume_role_block())
        .with_block("default_tags", default_tags_block()),
    )
}

fn default_tags_block() -> Block {
    Block::new(
        "Tags every `sshkey_key_pair` of this provider gets (ecs and cvm). A resource's own `tags` win over these; the merged map is the resource's `tags_all`.",
        vec![Attribute::optional("tags", Type::Map(Box::new(Type::String)))
            .describe("The tags, e.g. `{ team = \"platform\" }`.")],
    )
}

/// The tags of the `default_tags` block, when known: an absent block or a null map is none.
pub(crate) fn default_tags(config: &Value) -> Option<BTreeMap<String, String>> {
    match config.attr("default_tags") {
        None | Some(Value::Null) => Some(BTreeMap::new()),
        Some(block) => match block.attr("tags") {
            None | Some(Value::Null) => Some(BTreeMap::new()),
            Some(Value::Map(m)) => m
                .iter()
                .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
            Some(_) => None,
        },
    }
}

fn assume_role_block() -> Block {
    Block::new(
        "Assume a role with the credentials above (STS AssumeRole) and sign every call with its temporary credentials, renewed before they expire.",
        vec![
            Attribute::required("role_arn", Type::String).describe(
                "The role: `acs:ram::<account>:role/<name>` (ecs, ens) or `qcs::cam::uin/<uin>:roleName/<name>` (cvm).",
            ),
            Attribute::optional("session_name", Type::String).describe(
                "RoleSessionName, shown in the cloud's audit logs. Default `terraform-provider-sshkey`.",
            ),
            Attribute::optional("duration", Type::String).describe(
                "Lifetime of each set of temporary credentials, e.g. `1h`: 900s to 12h on ecs and ens (default 1h), up to 12h on cvm (default 2h).",
            ),
            Attribute::optional("external_id", Type::String).sensitive().describe(
                "ExternalId, when the role's trust policy requires one.",
            ),
        ],
    )
}

/// The checked provider configuration.
#[derive(Debug, Clone)]
pub(crate) struct ProviderConfig {
    pub cloud: CloudKind,
    pub region: String,
    pub credentials: Credentials,
    pub endpoint: Option<url::Url>,
    pub assume_role: Option<AssumeRole>,
    pub sts_endpoint: Option<url::Url>,
    pub max_delete_batch: usize,
    pub max_detach_batch: usize,
    pub max_read_batch: usize,
    pub batch_window: Duration,
    pub request_timeout: Duration,
    pub max_retries: u32,
    /// `default_tags.tags`: merged under every key pair's own tags.
    pub default_tags: BTreeMap<String, String>,
}

/// Checks what can be checked from the configuration alone (ValidateProviderConfig). Unknown
/// values are skipped: they are checked again at ConfigureProvider.
pub(crate) fn validate(config: &Value, diags: &mut Diagnostics) {
    let cloud = cloud_of(config, diags);
    if let Some(endpoint) = config
        .attr("endpoint")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    {
        check_endpoint("endpoint", endpoint, diags);
    }
    if let Some(endpoint) = config
        .attr("sts_endpoint")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    {
        check_endpoint("sts_endpoint", endpoint, diags);
    }
    for name in ["batch_window", "request_timeout"] {
        if let Some(text) = config.attr(name).and_then(Value::as_str) {
            check_duration(name, text, diags);
        }
    }
    if let Some(v) = config.attr("max_retries") {
        if !v.is_null() && !v.is_unknown() {
            check_range(v, "max_retries", 0, 100, "", diags);
        }
    }
    if let Some(kind) = cloud {
        check_batches(config, kind, diags);
        credentials::validate_assume_role(config, kind, diags);
        check_default_tags(config, kind, diags);
    }
}

/// Default tags on a cloud whose key pairs have none would be silently dropped: refuse them
/// at plan time, naming the attribute, as `tags` on the resource is refused.
fn check_default_tags(config: &Value, kind: CloudKind, diags: &mut Diagnostics) {
    if kind.limits().tagging.is_some() {
        return;
    }
    if default_tags(config).is_some_and(|t| t.is_empty()) {
        return;
    }
    diags.attribute_error(
        credentials::nested("default_tags", "tags"),
        "Attribute not supported by this cloud",
        format!("`default_tags.tags` is not supported on {kind}: its key pairs have no tags; remove the `default_tags` block."),
    );
}

/// Builds the configuration for ConfigureProvider, reading environment fallbacks through `env`
/// so tests need not touch the process environment.
pub(crate) fn build(
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<ProviderConfig> {
    validate(config, diags);
    // An empty string is unset, as in the official providers: `region = ""` falls back to the
    // environment and gets the same errors as a missing region.
    let known = |name: &str| -> Option<String> {
        config
            .attr(name)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    for name in [
        "cloud",
        "region",
        "access_key",
        "secret_key",
        "security_token",
        "profile",
        "shared_credentials_file",
        "endpoint",
        "sts_endpoint",
        "assume_role",
        "max_delete_batch",
        "max_detach_batch",
        "max_read_batch",
        "batch_window",
        "request_timeout",
        "max_retries",
    ] {
        if config.attr(name).is_some_and(Value::is_unknown) {
            diags.attribute_error(
                attr(name),
                "Provider attribute not known until apply",
                format!("`{name}` depends on a value that is only known after apply; the provider needs it to plan. Use a literal, a variable or a data source."),
            );
        }
    }
    if default_tags(config).is_none() {
        diags.attribute_error(
            credentials::nested("default_tags", "tags"),
            "Provider attribute not known until apply",
            "`default_tags.tags` depends on a value that is only known after apply; the provider needs it to plan every key pair's `tags_all`.",
        );
    }
    if let Some(Value::Object(role)) = config.attr("assume_role") {
        for (name, _) in role.iter().filter(|(_, v)| v.is_unknown()) {
            diags.attribute_error(
                credentials::nested("assume_role", name),
                "Provider attribute not known until apply",
                format!("`assume_role.{name}` depends on a value that is only known after apply; the provider needs it to plan."),
            );
        }
    }
    let kind = cloud_of(config, &mut Diagnostics::new())?;
    let names = env_names(kind);
    let found = credentials::resolve(config, kind, env, diags);
    let region = known("region")
        .or_else(|| env(names.region).filter(|s| !s.is_empty()))
        .or_else(|| found.as_ref().and_then(|f| f.profile_region.clone()));
    if region.is_none() {
        diags.attribute_error(
            attr("region"),
            "Missing region",
            format!(
                "Set `region` in the provider block or the {} environment variable.",
                names.region
            ),
        );
    }
    if diags.has_errors() {
        return None;
    }
    let found = found?;
    let limits = kind.limits();
    let number = |name: &str, default: usize| {
        config
            .attr(name)
            .and_then(Value::as_i64)
            .map(|n| n as usize)
            .unwrap_or(default)
    };
    let duration = |name: &str, default: Duration| {
        known(name)
            .and_then(|t| parse_duration(&t).ok())
            .unwrap_or(default)
    };
    Some(ProviderConfig {
        cloud: kind,
        region: region?,
        credentials: found.credentials,
        endpoint: known("endpoint").and_then(|e| url::Url::parse(&e).ok()),
        assume_role: found.assume_role,
        sts_endpoint: known("sts_endpoint").and_then(|e| url::Url::parse(&e).ok()),
        max_delete_batch: number("max_delete_batch", limits.delete_batch),
        max_detach_batch: number("max_detach_batch", limits.bind_batch),
        max_read_batch: number("max_read_batch", limits.read_batch()),
        batch_window: duration("batch_window", DEFAULT_BATCH_WINDOW),
        request_timeout: duration("request_timeout", DEFAULT_REQUEST_TIMEOUT),
        max_retries: config
            .attr("max_retries")
            .and_then(Value::as_i64)
            .map(|n| n as u32)
            .unwrap_or(DEFAULT_MAX_RETRIES),
        default_tags: default_tags(config).unwrap_or_default(),
    })
}

fn cloud_of(config: &Value, diags: &mut Diagnostics) -> Option<CloudKind> {
    let text = config.attr("cloud").and_then(Value::as_str)?;
    match text.parse::<CloudKind>() {
        Ok(kind) => Some(kind),
        Err(_) => {
            diags.attribute_error(
                attr("cloud"),
                "Unsupported cloud",
                format!("`cloud` must be one of \"ecs\", \"ens\", \"cvm\"; got {text:?}."),
            );
            None
        }
    }
}

fn check_batches(config: &Value, kind: CloudKind, diags: &mut Diagnostics) {
    let limits = kind.limits();
    let delete_rule = format!(
        "DeleteKeyPairs on {kind} accepts at most {} key pair(s) per call.",
        limits.delete_batch
    );
    let bind_rule = format!(
        "Attach/detach calls on {kind} accept at most {} instance(s) per call.",
        limits.bind_batch
    );
    if let Some(v) = config.attr("max_delete_batch") {
        check_range(
            v,
            "max_delete_batch",
            1,
            limits.delete_batch as i64,
            &delete_rule,
            diags,
        );
    }
    if let Some(v) = config.attr("max_detach_batch") {
        check_range(
            v,
            "max_detach_batch",
            1,
            limits.bind_batch as i64,
            &bind_rule,
            diags,
        );
    }
    if let Some(v) = config.attr("max_read_batch") {
        let read_rule = format!(
            "DescribeKeyPairs on {kind} lists at most {} key pair(s) per page.",
            limits.read_batch()
        );
        check_range(
            v,
            "max_read_batch",
            1,
            limits.read_batch() as i64,
            &read_rule,
            diags,
        );
    }
}

fn check_range(v: &Value, name: &str, min: i64, max: i64, rule: &str, diags: &mut Diagnostics) {
    if v.is_null() || v.is_unknown() {
        return;
    }
    match v.as_i64() {
        Some(n) if (min..=max).contains(&n) => {}
        Some(n) => diags.attribute_error(
            attr(name),
            format!("`{name}` out of range"),
            format!("`{name}` must be between {min} and {max}; got {n}. {rule}")
                .trim_end()
                .to_string(),
        ),
        None => diags.attribute_error(
            attr(name),
            format!("`{name}` must be a whole number"),
            format!("`{name}` must be a whole number between {min} and {max}."),
        ),
    }
}

fn check_endpoint(name: &str, text: &str, diags: &mut Diagnostics) {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => diags.attribute_error(
            attr(name),
            "Invalid endpoint",
            format!("`{name}` must be an http:// or https:// URL with a host, such as http://127.0.0.1:8080; got {text:?}."),
        ),
    }
}

fn check_duration(name: &str, text: &str, diags: &mut Diagnostics) {
    match parse_duration(text) {
        Ok(d) if name == "batch_window" && d > MAX_BATCH_WINDOW => diags.attribute_error(
            attr(name),
            "Batch window too long",
            format!("`{name}` must be at most 5s; got {text:?}."),
        ),
        Ok(d) if name == "request_timeout" && d.is_zero() => diags.attribute_error(
            attr(name),
            "Invalid request timeout",
            format!("`{name}` must be greater than zero; got {text:?}."),
        ),
        Ok(_) => {}
        Err(e) => diags.attribute_error(attr(name), "Invalid duration", format!("`{name}`: {e}")),
    }
}

/// Parses Go-style durations as Terraform users write them: `250ms`, `30s`, `2m`, `1m30s`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration such as \"10ms\", \"30s\" or \"1m30s\"");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ms" => number / 1000.0,
            "s" => number,
            "m" => number * 60.0,
            "h" => number * 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += Duration::try_from_secs_f64(seconds).map_err(|_| bad())?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut map: BTreeMap<String, Value> = schema()
            .block
            .attributes
            .iter()
            .map(|a| (a.name.to_string(), Value::Null))
            .collect();
        for (k, v) in pairs {
            map.insert(k.to_string(), v.clone());
        }
        Value::Object(map)
    }

    fn num(n: i64) -> Value {
        Value::Number(crate::value::Number::Int(n))
    }

    #[test]
    fn delete_batch_over_the_cloud_limit_points_at_the_attribute() {
        let mut d = Diagnostics::new();
        validate(
            &config(&[
                ("cloud", Value::string("ecs")),
                ("max_delete_batch", num(500)),
            ]),
            &mut d,
        );
        assert!(d.has_errors());
        assert_eq!(d.0[0].path, Some(attr("max_delete_batch")));
        assert!(d.0[0].detail.contains("at most 100"), "{}", d.0[0].detail);
    }

    #[test]
    fn ens_deletes_one_key_per_call() {
        let mut d = Diagnostics::new();
        validate(
            &config(&[
                ("cloud", Value::string("ens")),
                ("max_delete_batch", num(2)),
            ]),
            &mut d,
        );
        assert!(d.has_errors());
        let mut ok = Diagnostics::new();
        validate(
            &config(&[
                ("cloud", Value::string("ens")),
                ("max_delete_batch", num(1)),
            ]),
            &mut ok,
        );
        assert!(!ok.has_errors());
    }

    #[test]
    fn detach_limits_follow_the_cloud() {
        for (cloud, max) in [("ecs", 50), ("ens", 30), ("cvm", 100)] {
            let mut d = Diagnostics::new();
            validate(
                &config(&[
                    ("cloud", Value::string(cloud)),
                    ("max_detach_batch", num(max)),
                ]),
                &mut d,
            );
            assert!(!d.has_errors(), "{cloud} {max}");
            let mut d = Diagnostics::new();
            validate(
                &config(&[
                    ("cloud", Value::string(cloud)),
                    ("max_detach_batch", num(max + 1)),
                ]),
                &mut d,
            );
            assert_eq!(d.0.len(), 1, "{cloud}");
            assert_eq!(d.0[0].path, Some(attr("max_detach_batch")));
        }
    }

    #[test]
    fn read_batch_limits_follow_the_cloud() {
        for (cloud, max) in [("ecs", 50), ("ens", 50), ("cvm", 100)] {
            for (n, ok) in [(1, true), (max, true), (max + 1, false), (0, false)] {
                let mut d = Diagnostics::new();
                validate(
                    &config(&[("cloud", Value::string(cloud)), ("max_read_batch", num(n))]),
                    &mut d,
                );
                assert_eq!(!d.has_errors(), ok, "{cloud} {n}");
                if !ok {
                    assert_eq!(d.0[0].path, Some(attr("max_read_batch")));
                    assert!(
                        d.0[0].detail.contains(&format!("between 1 and {max}")),
                        "{}",
                        d.0[0].detail
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_cloud_is_named() {
        let mut d = Diagnostics::new();
        validate(&config(&[("cloud", Value::string("aws"))]), &mut d);
        assert_eq!(d.0[0].path, Some(attr("cloud")));
    }

    #[test]
    fn credentials_fall_back_to_the_cloud_specific_environment() {
        let env = |name: &str| match name {
            "TENCENTCLOUD_SECRET_ID" => Some("id".to_string()),
            "TENCENTCLOUD_SECRET_KEY" => Some("key".to_string()),
            _ => None,
        };
        let mut d = Diagnostics::new();
        let cfg = build(
            &config(&[
                ("cloud", Value::string("cvm")),
                ("region", Value::string("ap-guangzhou")),
            ]),
            &env,
            &mut d,
        )
        .expect("config");
        assert!(!d.has_errors());
        assert_eq!(cfg.credentials.access_key, "id");
        assert_eq!(cfg.max_delete_batch, 100);
        assert_eq!(cfg.max_detach_batch, 100);
        assert_eq!(cfg.max_read_batch, 100);
        // Alibaba variables do not leak into a Tencent configuration.
        let mut d = Diagnostics::new();
        let none = build(
            &config(&[
                ("cloud", Value::string("ecs")),
                ("region", Value::string("cn-hangzhou")),
            ]),
            &env,
            &mut d,
        );
        assert!(none.is_none());
        assert!(d.iter().any(|x| x.path == Some(attr("access_key"))));
    }

    #[test]
    fn empty_strings_are_unset() {
        let mut d = Diagnostics::new();
        let none = build(
            &config(&[
                ("cloud", Value::string("ecs")),
                ("region", Value::string("")),
                ("access_key", Value::string(" ")),
                ("secret_key", Value::string("s")),
                ("endpoint", Value::string("")),
            ]),
            &|_| None,
            &mut d,
        );
        assert!(none.is_none());
        let region = d
            .iter()
            .find(|x| x.path == Some(attr("region")))
            .expect("region error");
        assert!(
            region.detail.contains("ALIBABA_CLOUD_REGION"),
            "{}",
            region.detail
        );
        let key = d
            .iter()
            .find(|x| x.path == Some(attr("access_key")))
            .expect("access_key error");
        assert!(
            key.detail.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"),
            "{}",
            key.detail
        );
        assert!(
            !d.iter().any(|x| x.path == Some(attr("endpoint"))),
            "empty endpoint is the default"
        );

        // And an empty attribute falls back to the environment like an unset one.
        let mut d = Diagnostics::new();
        let cfg = build(
            &config(&[
                ("cloud", Value::string("cvm")),
                ("region", Value::string("")),
                ("access_key", Value::string("")),
                ("secret_key", Value::string("")),
            ]),
            &|name| Some(format!("env-{name}")),
            &mut d,
        )
        .expect("config from the environment");
        assert_eq!(cfg.region, "env-TENCENTCLOUD_REGION");
        assert_eq!(cfg.credentials.access_key, "env-TENCENTCLOUD_SECRET_ID");
        assert!(cfg.endpoint.is_none());
    }

    #[test]
    fn unknown_values_are_reported_at_configure() {
        let mut d = Diagnostics::new();
        let none = build(
            &config(&[
                ("cloud", Value::string("ecs")),
                ("region", Value::unknown()),
            ]),
            &|_| Some("x".into()),
            &mut d,
        );
        assert!(none.is_none());
        assert_eq!(d.0[0].path, Some(attr("region")));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        for bad in ["", "10", "s", "10x", "-1s", "1s2"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
