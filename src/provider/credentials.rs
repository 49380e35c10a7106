//! Where the provider's credentials come from, in the order the official providers use: the
//! provider block, then the environment, then a profile in the cloud CLI's shared file; and
//! the role to assume with them (`assume_role`, or an Alibaba profile in `RamRoleArn` mode).
//!
//! | What                    | Attribute                 | Alibaba (ecs, ens)                 | Tencent (cvm)                  |
//! |-------------------------|---------------------------|------------------------------------|--------------------------------|
//! | access key id           | `access_key`              | `ALIBABA_CLOUD_ACCESS_KEY_ID`      | `TENCENTCLOUD_SECRET_ID`       |
//! | access key secret       | `secret_key`              | `ALIBABA_CLOUD_ACCESS_KEY_SECRET`  | `TENCENTCLOUD_SECRET_KEY`      |
//! | security token          | `security_token`          | `ALIBABA_CLOUD_SECURITY_TOKEN`     | `TENCENTCLOUD_SESSION_TOKEN`   |
//! | profile name            | `profile`                 | `ALIBABA_CLOUD_PROFILE`            | `TENCENTCLOUD_PROFILE`         |
//! | shared file             | `shared_credentials_file` | `ALIBABA_CLOUD_CREDENTIALS_FILE`   | `TENCENTCLOUD_CREDENTIALS_FILE`|
//!
//! The key pair is taken whole from one place: a profile is read only when neither half is
//! set in the block or the environment, and a token never pairs with keys from elsewhere.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cloud::{AssumeRole, CloudKind, Credentials, Secret};
use crate::provider::diag::{attr, Diagnostics};
use crate::value::{AttributePath, PathStep, Value};

/// The session name when `assume_role` leaves it out.
pub(crate) const DEFAULT_SESSION_NAME: &str = "terraform-provider-sshkey";

/// Environment variables of one cloud family.
pub(crate) struct EnvNames {
    pub access_key: &'static str,
    pub secret_key: &'static str,
    pub security_token: &'static str,
    pub profile: &'static str,
    pub credentials_file: &'static str,
    pub region: &'static str,
}

pub(crate) fn env_names(kind: CloudKind) -> EnvNames {
    match kind {
        CloudKind::Ecs | CloudKind::Ens => EnvNames {
            access_key: "ALIBABA_CLOUD_ACCESS_KEY_ID",
            secret_key: "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            security_token: "ALIBABA_CLOUD_SECURITY_TOKEN",
            profile: "ALIBABA_CLOUD_PROFILE",
            credentials_file: "ALIBABA_CLOUD_CREDENTIALS_FILE",
            region: "ALIBABA_CLOUD_REGION",
        },
        CloudKind::Cvm => EnvNames {
            access_key: "TENCENTCLOUD_SECRET_ID",
            secret_key: "TENCENTCLOUD_SECRET_KEY",
            security_token: "TENCENTCLOUD_SESSION_TOKEN",
            profile: "TENCENTCLOUD_PROFILE",
            credentials_file: "TENCENTCLOUD_CREDENTIALS_FILE",
            region: "TENCENTCLOUD_REGION",
        },
    }
}

/// The shared file's place under the home directory.
fn default_file(kind: CloudKind) -> &'static str {
    match kind {
        CloudKind::Ecs | CloudKind::Ens => ".aliyun/config.json",
        CloudKind::Cvm => ".tencentcloud/credentials",
    }
}

/// What was found: the base credentials, the role to assume with them, and the region a
/// profile names (a fallback after the block and the environment).
#[derive(Debug)]
pub(crate) struct Found {
    pub credentials: Credentials,
    pub assume_role: Option<AssumeRole>,
    pub profile_region: Option<String>,
}

/// A text attribute of the block, empty meaning unset.
fn text(block: &Value, name: &str) -> Option<String> {
    block
        .attr(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

pub(crate) fn nested(block: &str, name: &str) -> AttributePath {
    AttributePath(vec![
        PathStep::Attribute(block.to_string()),
        PathStep::Attribute(name.to_string()),
    ])
}

/// Checks `assume_role` against the cloud's STS rules (ValidateProviderConfig).
pub(crate) fn validate_assume_role(config: &Value, kind: CloudKind, diags: &mut Diagnostics) {
    let Some(block) = config.attr("assume_role").filter(|b| !b.is_null()) else {
        return;
    };
    let sts = kind.limits().sts;
    if let Some(arn) = block.attr("role_arn").and_then(Value::as_str) {
        if !arn.starts_with(sts.role_arn_prefix) {
            diags.attribute_error(
                nested("assume_role", "role_arn"),
                "Invalid role ARN",
                format!(
                    "A {kind} role ARN starts with `{}`, such as {}; got {arn:?}.",
                    sts.role_arn_prefix, sts.role_arn_example
                ),
            );
        }
    }
    if let Some(name) = block.attr("session_name").and_then(Value::as_str) {
        if let Some(problem) = sts.session_name_problem(name) {
            diags.attribute_error(
                nested("assume_role", "session_name"),
                "Invalid session name",
                format!("`assume_role.session_name` {problem}."),
            );
        }
    }
    if let Some(text) = block.attr("duration").and_then(Value::as_str) {
        let (min, max) = sts.duration_secs;
        match super::config::parse_duration(text) {
            Ok(d) if d.subsec_nanos() == 0 && (min..=max).contains(&d.as_secs()) => {}
            Ok(_) => diags.attribute_error(
                nested("assume_role", "duration"),
                "Role session duration out of range",
                format!("`assume_role.duration` must be whole seconds from {min}s to {max}s on {kind}; got {text:?}."),
            ),
            Err(e) => diags.attribute_error(
                nested("assume_role", "duration"),
                "Invalid duration",
                format!("`assume_role.duration`: {e}"),
            ),
        }
    }
}

/// Resolves the credentials for ConfigureProvider; `None` with errors in `diags` when
/// something is missing or unreadable.
pub(crate) fn resolve(
    config: &Value,
    kind: CloudKind,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<Found> {
    let names = env_names(kind);
    let from =
        |name: &str, var: &str| text(config, name).or_else(|| env(var).filter(|s| !s.is_empty()));
    let access_key = from("access_key", names.access_key);
    let secret_key = from("secret_key", names.secret_key);
    let block_role = assume_role(config, kind);
    let (credentials, profile_role, profile_region) = match (access_key, secret_key) {
        (Some(id), Some(secret)) => {
            let token = from("security_token", names.security_token);
            let creds = Credentials {
                security_token: token.map(Secret::new),
                ..Credentials::long_term(id, secret)
            };
            (creds, None, None)
        }
        (None, None) => match profile(config, kind, env, diags)? {
            Some(p) => (p.credentials, p.assume_role, p.region),
            None => {
                for (name, var) in [
                    ("access_key", names.access_key),
                    ("secret_key", names.secret_key),
                ] {
                    diags.attribute_error(
                        attr(name),
                        "Missing credentials",
                        format!(
                            "Set `{name}` in the provider block or the {var} environment variable, or name a profile of ~/{} with `profile` ({}).",
                            default_file(kind),
                            names.profile
                        ),
                    );
                }
                return None;
            }
        },
        (id, _) => {
            let (name, var) = match id {
                Some(_) => ("secret_key", names.secret_key),
                None => ("access_key", names.access_key),
            };
            diags.attribute_error(
                attr(name),
                "Missing credentials",
                format!("Set `{name}` in the provider block or the {var} environment variable: the other half of the key pair is set, and a key pair is never split between places."),
            );
            return None;
        }
    };
    Some(Found {
        credentials,
        assume_role: block_role.or(profile_role),
        profile_region,
    })
}

fn assume_role(config: &Value, kind: CloudKind) -> Option<AssumeRole> {
    let block = config.attr("assume_role").filter(|b| !b.is_null())?;
    let sts = kind.limits().sts;
    let duration = text(block, "duration")
        .and_then(|t| super::config::parse_duration(&t).ok())
        .unwrap_or(Duration::from_secs(sts.default_duration_secs));
    Some(AssumeRole {
        role_arn: text(block, "role_arn")?,
        session_name: text(block, "session_name").unwrap_or_else(|| DEFAULT_SESSION_NAME.into()),
        duration,
        external_id: text(block, "external_id").map(Secret::new),
    })
}

/// What a profile holds.
#[derive(Debug)]
struct Profile {
    credentials: Credentials,
    assume_role: Option<AssumeRole>,
    region: Option<String>,
}

/// The profile to use, `Ok(None)` when none is configured and the default file is absent.
/// `None` (outer) with an error when a named profile or file cannot be used.
fn profile(
    config: &Value,
    kind: CloudKind,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<Option<Profile>> {
    let names = env_names(kind);
    let var = |v: &str| env(v).filter(|s| !s.is_empty());
    let named = text(config, "profile").or_else(|| var(names.profile));
    let explicit_file = text(config, "shared_credentials_file")
        .or_else(|| var(names.credentials_file))
        .map(|p| expand_home(&p, env));
    let file = match explicit_file.clone() {
        Some(f) => f,
        None => match var("HOME") {
            Some(home) => Path::new(&home).join(default_file(kind)),
            None => return Some(None),
        },
    };
    // Where an error points: the attribute (or its variable) that chose what failed.
    let file_attr = || attr("shared_credentials_file");
    let content = match std::fs::read_to_string(&file) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit_file.is_none() => {
            if named.is_some() {
                diags.attribute_error(
                    attr("profile"),
                    "Profile file not found",
                    format!("`profile` names a profile, but {} does not exist; set `shared_credentials_file` ({}) to the file that holds it.", file.display(), names.credentials_file),
                );
                return None;
            }
            return Some(None);
        }
        Err(e) => {
            diags.attribute_error(
                file_attr(),
                "Cannot read the shared credentials file",
                format!("{}: {e}", file.display()),
            );
            return None;
        }
    };
    let parsed = match kind {
        CloudKind::Ecs | CloudKind::Ens => alibaba_profile(&content, named.as_deref(), kind),
        CloudKind::Cvm => tencent_profile(&content, named.as_deref().unwrap_or("default")),
    };
    match parsed {
        Ok(p) => Some(Some(p)),
        Err(ProfileError::NotFound(name)) => {
            diags.attribute_error(
                attr("profile"),
                "Profile not found",
                format!("{} holds no profile named {name:?}.", file.display()),
            );
            None
        }
        Err(ProfileError::Invalid(why)) => {
            diags.attribute_error(
                file_attr(),
                "Unusable shared credentials file",
                format!("{}: {why}", file.display()),
            );
            None
        }
    }
}

fn expand_home(path: &str, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match (path.strip_prefix("~/"), env("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[derive(Debug, PartialEq)]
enum ProfileError {
    NotFound(String),
    Invalid(String),
}

/// The Alibaba Cloud CLI's `config.json`: `current` and `profiles[]` with `name`, `mode` and
/// the mode's keys. Modes `AK`, `StsToken` and `RamRoleArn` are read; the others need a
/// metadata service or a browser and are refused by name.
fn alibaba_profile(
    content: &str,
    named: Option<&str>,
    kind: CloudKind,
) -> Result<Profile, ProfileError> {
    let json: serde_json::Value = serde_json::from_str(content)
        .map_err(|e| ProfileError::Invalid(format!("not JSON: {e}")))?;
    let field = |p: &serde_json::Value, k: &str| {
        p.get(k)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let name = named
        .map(str::to_string)
        .or_else(|| field(&json, "current"))
        .unwrap_or_else(|| "default".into());
    let p = json
        .get("profiles")
        .and_then(serde_json::Value::as_array)
        .and_then(|all| {
            all.iter()
                .find(|p| p.get("name").and_then(serde_json::Value::as_str) == Some(&name))
        })
        .ok_or_else(|| ProfileError::NotFound(name.clone()))?;
    let need = |k: &str| {
        field(p, k).ok_or_else(|| ProfileError::Invalid(format!("profile {name:?} has no `{k}`")))
    };
    let mode = field(p, "mode").unwrap_or_else(|| "AK".into());
    let base = || -> Result<Credentials, ProfileError> {
        Ok(Credentials::long_term(
            need("access_key_id")?,
            need("access_key_secret")?,
        ))
    };
    let (credentials, assume_role) = match mode.as_str() {
        "AK" => (base()?, None),
        "StsToken" => (
            Credentials {
                security_token: Some(Secret::new(need("sts_token")?)),
                ..base()?
            },
            None,
        ),
        "RamRoleArn" => {
            let sts = kind.limits().sts;
            let seconds = p
                .get("expired_seconds")
                .and_then(serde_json::Value::as_u64)
                .filter(|s| *s > 0)
                .unwrap_or(sts.default_duration_secs);
            let role = AssumeRole {
                role_arn: need("ram_role_arn")?,
                session_name: field(p, "ram_session_name")
                    .unwrap_or_else(|| DEFAULT_SESSION_NAME.into()),
                duration: Duration::from_secs(seconds),
                external_id: field(p, "external_id").map(Secret::new),
            };
            (base()?, Some(role))
        }
        other => {
            return Err(ProfileError::Invalid(format!(
                "profile {name:?} is in mode {other:?}; the provider reads modes AK, StsToken and RamRoleArn"
            )))
        }
    };
    Ok(Profile {
        credentials,
        assume_role,
        region: field(p, "region_id"),
    })
}

/// Tencent Cloud's `credentials` file, as its SDKs read it: INI sections named after
/// profiles, with `secret_id`, `secret_key` and an optional `token`.
fn tencent_profile(content: &str, name: &str) -> Result<Profile, ProfileError> {
    let mut section: Option<&str> = None;
    let mut found = false;
    let mut keys = std::collections::HashMap::new();
    for line in content.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(s.trim());
            found |= s.trim() == name;
            continue;
        }
        if section != Some(name) {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            keys.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    if !found {
        return Err(ProfileError::NotFound(name.to_string()));
    }
    let need = |k: &str| {
        keys.get(k)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| ProfileError::Invalid(format!("profile [{name}] has no `{k}`")))
    };
    Ok(Profile {
        credentials: Credentials {
            security_token: keys
                .get("token")
                .filter(|t| !t.is_empty())
                .cloned()
                .map(Secret::new),
            ..Credentials::long_term(need("secret_id")?, need("secret_key")?)
        },
        assume_role: None,
        region: keys.get("region").filter(|r| !r.is_empty()).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::config;
    use std::collections::BTreeMap;

    fn provider(pairs: &[(&str, Value)]) -> Value {
        let Some(crate::value::Type::Object(fields)) = Some(config::schema().value_type()) else {
            unreachable!()
        };
        let mut map: BTreeMap<String, Value> =
            fields.keys().map(|k| (k.clone(), Value::Null)).collect();
        for (k, v) in pairs {
            map.insert(k.to_string(), v.clone());
        }
        Value::Object(map)
    }

    fn role(pairs: &[(&str, &str)]) -> Value {
        let mut map: BTreeMap<String, Value> =
            ["role_arn", "session_name", "duration", "external_id"]
                .iter()
                .map(|k| (k.to_string(), Value::Null))
                .collect();
        for (k, v) in pairs {
            map.insert(k.to_string(), Value::string(*v));
        }
        Value::Object(map)
    }

    fn paths(d: &Diagnostics) -> Vec<AttributePath> {
        d.iter().filter_map(|x| x.path.clone()).collect()
    }

    #[test]
    fn block_then_environment_then_profile() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials");
        std::fs::write(&file, "[default]\nsecret_id = FILE\nsecret_key = K\n").unwrap();
        let file_env = file.display().to_string();
        let env_with_keys = |name: &str| match name {
            "TENCENTCLOUD_SECRET_ID" => Some("ENV".to_string()),
            "TENCENTCLOUD_SECRET_KEY" => Some("K".to_string()),
            "TENCENTCLOUD_SESSION_TOKEN" => Some("ENVTOKEN".to_string()),
            "TENCENTCLOUD_CREDENTIALS_FILE" => Some(file_env.clone()),
            _ => None,
        };
        let env_file_only = |name: &str| match name {
            "TENCENTCLOUD_CREDENTIALS_FILE" => Some(file_env.clone()),
            _ => None,
        };
        let base = [
            ("cloud", Value::string("cvm")),
            ("region", Value::string("ap-guangzhou")),
        ];
        let mut d = Diagnostics::new();
        let mut block = base.to_vec();
        block.extend([
            ("access_key", Value::string("BLOCK")),
            ("secret_key", Value::string("K")),
        ]);
        let c = config::build(&provider(&block), &env_with_keys, &mut d).expect("block");
        assert_eq!(c.credentials.access_key, "BLOCK");
        // A token goes with the keys: the block's keys with the environment's token.
        assert_eq!(
            c.credentials.security_token,
            Some(Secret::new("ENVTOKEN".into()))
        );
        let c = config::build(&provider(&base), &env_with_keys, &mut d).expect("env");
        assert_eq!(c.credentials.access_key, "ENV");
        let c = config::build(&provider(&base), &env_file_only, &mut d).expect("profile");
        assert_eq!(c.credentials.access_key, "FILE");
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn a_named_profile_that_is_missing_points_at_profile() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), ALIYUN).unwrap();
        let file = dir.path().join("config.json").display().to_string();
        let env = |name: &str| (name == "ALIBABA_CLOUD_CREDENTIALS_FILE").then(|| file.clone());
        let mut d = Diagnostics::new();
        let cfg = provider(&[
            ("cloud", Value::string("ecs")),
            ("profile", Value::string("absent")),
        ]);
        assert!(config::build(&cfg, &env, &mut d).is_none());
        assert!(paths(&d).contains(&attr("profile")), "{d:?}");
        // The profile's region fills in a missing region.
        let mut d = Diagnostics::new();
        let cfg = provider(&[
            ("cloud", Value::string("ecs")),
            ("profile", Value::string("default")),
        ]);
        let c = config::build(&cfg, &env, &mut d).expect("config");
        assert_eq!(c.region, "cn-hangzhou");
        assert_eq!(c.credentials.access_key, "AK1");
        // A RamRoleArn profile assumes its role.
        let cfg = provider(&[
            ("cloud", Value::string("ecs")),
            ("region", Value::string("cn-beijing")),
            ("profile", Value::string("role")),
        ]);
        let c = config::build(&cfg, &env, &mut d).expect("config");
        assert_eq!(c.assume_role.expect("role").role_arn, "acs:ram::1:role/r");
        // A file that is named but absent points at the file.
        let mut d = Diagnostics::new();
        let cfg = provider(&[
            ("cloud", Value::string("cvm")),
            ("region", Value::string("ap-guangzhou")),
            (
                "shared_credentials_file",
                Value::string("/nonexistent/credentials"),
            ),
        ]);
        assert!(config::build(&cfg, &|_| None, &mut d).is_none());
        assert!(
            paths(&d).contains(&attr("shared_credentials_file")),
            "{d:?}"
        );
    }

    #[test]
    fn half_a_key_pair_is_never_completed_from_elsewhere() {
        let env = |name: &str| (name == "ALIBABA_CLOUD_ACCESS_KEY_SECRET").then(|| "S".to_string());
        let mut d = Diagnostics::new();
        let cfg = provider(&[
            ("cloud", Value::string("ecs")),
            ("region", Value::string("cn-hangzhou")),
        ]);
        assert!(config::build(&cfg, &env, &mut d).is_none());
        assert_eq!(paths(&d), vec![attr("access_key")]);
    }

    #[test]
    fn assume_role_is_checked_against_the_clouds_sts_at_plan() {
        let mut d = Diagnostics::new();
        let cfg = provider(&[
            ("cloud", Value::string("cvm")),
            (
                "assume_role",
                role(&[
                    ("role_arn", "acs:ram::1:role/wrong-cloud"),
                    ("session_name", "has space"),
                    ("duration", "13h"),
                ]),
            ),
        ]);
        config::validate(&cfg, &mut d);
        let got = paths(&d);
        for name in ["role_arn", "session_name", "duration"] {
            assert!(got.contains(&nested("assume_role", name)), "{name}: {d:?}");
        }
        let mut d = Diagnostics::new();
        let cfg = provider(&[
            ("cloud", Value::string("ecs")),
            (
                "assume_role",
                role(&[("role_arn", "acs:ram::1:role/r"), ("duration", "10m")]),
            ),
        ]);
        config::validate(&cfg, &mut d);
        // 10 minutes is below Alibaba STS's 900 s; fine on Tencent.
        assert_eq!(paths(&d), vec![nested("assume_role", "duration")]);
        let mut d = Diagnostics::new();
        let cfg = provider(&[
            ("cloud", Value::string("ecs")),
            ("region", Value::string("cn-hangzhou")),
            ("access_key", Value::string("A")),
            ("secret_key", Value::string("S")),
            ("assume_role", role(&[("role_arn", "acs:ram::1:role/r")])),
        ]);
        let c = config::build(&cfg, &|_| None, &mut d).expect("config");
        let r = c.assume_role.expect("role");
        assert_eq!(r.session_name, DEFAULT_SESSION_NAME);
        assert_eq!(r.duration, Duration::from_secs(3600));
    }

    const ALIYUN: &str = r#"{
      "current": "ci",
      "profiles": [
        {"name": "default", "mode": "AK", "access_key_id": "AK1", "access_key_secret": "S1", "region_id": "cn-hangzhou"},
        {"name": "ci", "mode": "StsToken", "access_key_id": "STS.2", "access_key_secret": "S2", "sts_token": "T2"},
        {"name": "role", "mode": "RamRoleArn", "access_key_id": "AK3", "access_key_secret": "S3",
         "ram_role_arn": "acs:ram::1:role/r", "ram_session_name": "me", "expired_seconds": 900},
        {"name": "vm", "mode": "EcsRamRole", "ram_role_name": "x"}
      ]}"#;

    #[test]
    fn alibaba_profiles_by_mode() {
        let current = alibaba_profile(ALIYUN, None, CloudKind::Ecs).unwrap();
        assert_eq!(current.credentials.access_key, "STS.2");
        assert_eq!(
            current.credentials.security_token,
            Some(Secret::new("T2".into()))
        );
        let ak = alibaba_profile(ALIYUN, Some("default"), CloudKind::Ecs).unwrap();
        assert_eq!(ak.credentials.security_token, None);
        assert_eq!(ak.region.as_deref(), Some("cn-hangzhou"));
        let role = alibaba_profile(ALIYUN, Some("role"), CloudKind::Ens).unwrap();
        let r = role.assume_role.expect("role");
        assert_eq!(
            (r.role_arn.as_str(), r.session_name.as_str()),
            ("acs:ram::1:role/r", "me")
        );
        assert_eq!(r.duration, Duration::from_secs(900));
        let vm = alibaba_profile(ALIYUN, Some("vm"), CloudKind::Ecs).unwrap_err();
        assert!(matches!(vm, ProfileError::Invalid(m) if m.contains("EcsRamRole")));
        assert_eq!(
            alibaba_profile(ALIYUN, Some("nope"), CloudKind::Ecs).unwrap_err(),
            ProfileError::NotFound("nope".into())
        );
    }

    #[test]
    fn tencent_profiles_are_ini_sections() {
        let ini = "# comment\n[default]\nsecret_id = AKID1\nsecret_key = K1\n\n[ci]\nsecret_id=AKID2\nsecret_key=K2\ntoken=T2\n";
        let d = tencent_profile(ini, "default").unwrap();
        assert_eq!(d.credentials.access_key, "AKID1");
        assert_eq!(d.credentials.security_token, None);
        let ci = tencent_profile(ini, "ci").unwrap();
        assert_eq!(
            ci.credentials.security_token,
            Some(Secret::new("T2".into()))
        );
        assert_eq!(
            tencent_profile(ini, "x").unwrap_err(),
            ProfileError::NotFound("x".into())
        );
        assert!(matches!(
            tencent_profile("[default]\nsecret_id=a\n", "default").unwrap_err(),
            ProfileError::Invalid(m) if m.contains("secret_key")
        ));
    }
}
