//! Where a client's signing credentials come from: fixed ones (an access key pair, with the
//! token of temporary credentials when the user supplies one), or a role assumed through the
//! cloud's STS with them and renewed before it expires, so a long apply never signs a request
//! with a dead token.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::alibaba::AlibabaRpc;
use super::fields;
use super::rules::Sts;
use super::sign;
use super::tencent::TencentRpc;
use super::{AssumeRole, ClientConfig, CloudError, CloudKind, Credentials, ErrorKind};

/// Temporary credentials are renewed when this much of their life is left, or a quarter of
/// it when they live shorter: long enough for a call signed just before to arrive in time.
const RENEW_MARGIN: Duration = Duration::from_secs(300);
/// After a failed renewal with the old credentials still valid, the next try waits this long,
/// so a struggling STS is not asked again by every call.
const RENEW_RETRY: Duration = Duration::from_secs(10);

/// The credentials of one client.
#[derive(Debug)]
pub(crate) struct Session {
    source: Source,
}

#[derive(Debug)]
enum Source {
    Fixed(sign::Credentials),
    Role(Box<RoleSession>),
}

#[derive(Debug)]
struct RoleSession {
    kind: CloudKind,
    role: AssumeRole,
    sts: StsRpc,
    /// One renewal at a time: concurrent calls wait for it instead of each assuming the role.
    current: tokio::sync::Mutex<Option<Issued>>,
}

#[derive(Debug)]
enum StsRpc {
    Alibaba(AlibabaRpc),
    Tencent(TencentRpc),
}

#[derive(Debug, Clone)]
struct Issued {
    creds: sign::Credentials,
    renew_at: SystemTime,
    expires_at: SystemTime,
}

impl Session {
    /// Signs with `creds` as they are.
    pub(crate) fn fixed(creds: &Credentials) -> Session {
        Session {
            source: Source::Fixed(creds.into()),
        }
    }

    /// The session `cfg` asks for: its credentials, or the role it assumes with them.
    pub(crate) fn new(cfg: &ClientConfig) -> Result<Arc<Session>, CloudError> {
        let Some(role) = &cfg.assume_role else {
            return Ok(Arc::new(Session::fixed(&cfg.credentials)));
        };
        let facts = cfg.kind.limits().sts;
        let endpoint = sts_endpoint(cfg, facts)?;
        let base = Arc::new(Session::fixed(&cfg.credentials));
        let sts = match cfg.kind {
            CloudKind::Ecs | CloudKind::Ens => StsRpc::Alibaba(AlibabaRpc::new(
                cfg,
                facts.version,
                None,
                endpoint,
                facts.rates,
                base,
            )?),
            CloudKind::Cvm => StsRpc::Tencent(TencentRpc::new(
                cfg,
                facts.service,
                facts.version,
                endpoint,
                facts.rates,
                base,
            )?),
        };
        Ok(Arc::new(Session {
            source: Source::Role(Box::new(RoleSession {
                kind: cfg.kind,
                role: role.clone(),
                sts,
                current: tokio::sync::Mutex::new(None),
            })),
        }))
    }

    /// The credentials to sign the next request with.
    pub(crate) async fn credentials(&self) -> Result<sign::Credentials, CloudError> {
        match &self.source {
            Source::Fixed(creds) => Ok(creds.clone()),
            // Boxed: assuming the role calls STS through a transport that asks a (fixed)
            // session for credentials, a cycle in the types if not in the calls.
            Source::Role(role) => Box::pin(role.current()).await,
        }
    }
}

/// `sts_endpoint`, else the configured `endpoint` (the emulator serves STS on the same port),
/// else the public one.
fn sts_endpoint(cfg: &ClientConfig, facts: &Sts) -> Result<url::Url, CloudError> {
    let bad = |e: url::ParseError| {
        CloudError::local(
            cfg.kind,
            "AssumeRole",
            ErrorKind::InvalidInput,
            "InvalidEndpoint",
            format!("invalid STS endpoint: {e}"),
        )
    };
    match cfg.sts_endpoint.as_ref().or(cfg.endpoint.as_ref()) {
        Some(url) => Ok(url.clone()),
        None => url::Url::parse(facts.default_endpoint).map_err(bad),
    }
}

impl RoleSession {
    async fn current(&self) -> Result<sign::Credentials, CloudError> {
        let mut slot = self.current.lock().await;
        let now = SystemTime::now();
        if let Some(issued) = slot.as_ref().filter(|i| now < i.renew_at) {
            return Ok(issued.creds.clone());
        }
        match self.assume().await {
            Ok(issued) => {
                let lifetime = issued
                    .expires_at
                    .duration_since(now)
                    .unwrap_or_default()
                    .as_secs();
                tracing::info!(role = %self.role.role_arn, lifetime_s = lifetime, "assumed role");
                let creds = issued.creds.clone();
                *slot = Some(issued);
                Ok(creds)
            }
            Err(e) => match slot.as_mut().filter(|i| now < i.expires_at) {
                Some(old) => {
                    tracing::warn!(role = %self.role.role_arn, error = %e, "renewing the role's credentials failed; the current ones are still valid");
                    old.renew_at = (now + RENEW_RETRY).min(old.expires_at);
                    Ok(old.creds.clone())
                }
                None => Err(e),
            },
        }
    }

    async fn assume(&self) -> Result<Issued, CloudError> {
        let role = &self.role;
        let duration = role.duration.as_secs().to_string();
        let answer = match &self.sts {
            StsRpc::Alibaba(rpc) => {
                let mut params = vec![
                    ("RoleArn".to_string(), role.role_arn.clone()),
                    ("RoleSessionName".to_string(), role.session_name.clone()),
                    ("DurationSeconds".to_string(), duration),
                ];
                if let Some(id) = &role.external_id {
                    params.push(("ExternalId".to_string(), id.expose().to_string()));
                }
                rpc.call("AssumeRole", params).await.result
            }
            StsRpc::Tencent(rpc) => {
                let mut body = json!({
                    "RoleArn": role.role_arn,
                    "RoleSessionName": role.session_name,
                    "DurationSeconds": role.duration.as_secs(),
                });
                if let Some(id) = &role.external_id {
                    body["ExternalId"] = json!(id.expose());
                }
                rpc.call("AssumeRole", body).await.result
            }
        }
        .map_err(|mut e| {
            e.message = format!("assuming role {}: {}", role.role_arn, e.message);
            e
        })?;
        let issued = match &self.sts {
            StsRpc::Alibaba(_) => alibaba_credentials(&answer),
            StsRpc::Tencent(_) => tencent_credentials(&answer),
        };
        issued.ok_or_else(|| {
            CloudError::local(
                self.kind,
                "AssumeRole",
                ErrorKind::Server,
                "InvalidResponse",
                format!(
                    "the AssumeRole answer for {} holds no usable credentials",
                    role.role_arn
                ),
            )
        })
    }
}

/// `Credentials{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`.
fn alibaba_credentials(answer: &Value) -> Option<Issued> {
    let c = answer.get("Credentials")?;
    let expires = fields::string(c, "Expiration")
        .and_then(|t| sign::acs3::parse_date(&t))
        .map(SystemTime::from)?;
    issued(
        fields::non_empty(c, "AccessKeyId")?,
        fields::non_empty(c, "AccessKeySecret")?,
        fields::non_empty(c, "SecurityToken")?,
        expires,
    )
}

/// `Credentials{TmpSecretId, TmpSecretKey, Token}` and `ExpiredTime` (unix seconds).
fn tencent_credentials(answer: &Value) -> Option<Issued> {
    let c = answer.get("Credentials")?;
    let expires = u64::try_from(fields::int(answer, "ExpiredTime")?).ok()?;
    issued(
        fields::non_empty(c, "TmpSecretId")?,
        fields::non_empty(c, "TmpSecretKey")?,
        fields::non_empty(c, "Token")?,
        SystemTime::UNIX_EPOCH + Duration::from_secs(expires),
    )
}

fn issued(id: String, secret: String, token: String, expires_at: SystemTime) -> Option<Issued> {
    let lifetime = expires_at.duration_since(SystemTime::now()).ok()?;
    Some(Issued {
        creds: sign::Credentials::new(id, secret).with_token(token),
        renew_at: expires_at - RENEW_MARGIN.min(lifetime / 4),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(t: SystemTime) -> i64 {
        t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64
    }

    #[test]
    fn alibaba_answer_gives_temporary_credentials() {
        let expires = SystemTime::now() + Duration::from_secs(3600);
        let stamp = time::OffsetDateTime::from_unix_timestamp(unix(expires)).unwrap();
        let answer = json!({"Credentials": {
            "AccessKeyId": "STS.a", "AccessKeySecret": "s", "SecurityToken": "t",
            "Expiration": sign::acs3::format_date(stamp),
        }});
        let i = alibaba_credentials(&answer).expect("credentials");
        assert_eq!(i.creds.access_key_id, "STS.a");
        assert_eq!(i.creds.security_token.as_deref(), Some("t"));
        // An hour's credentials are renewed five minutes before they expire.
        assert_eq!(unix(i.expires_at) - unix(i.renew_at), 300);
    }

    #[test]
    fn short_lived_credentials_are_renewed_at_three_quarters_of_their_life() {
        let expires = unix(SystemTime::now()) + 40;
        let answer = json!({"ExpiredTime": expires, "Credentials": {
            "TmpSecretId": "AKIDtmp", "TmpSecretKey": "k", "Token": "tok"}});
        let i = tencent_credentials(&answer).expect("credentials");
        let margin = unix(i.expires_at) - unix(i.renew_at);
        assert!((9..=10).contains(&margin), "margin {margin}");
    }

    #[test]
    fn incomplete_or_expired_answers_are_refused() {
        let past = unix(SystemTime::now()) - 1;
        let answer = json!({"ExpiredTime": past, "Credentials": {
            "TmpSecretId": "a", "TmpSecretKey": "k", "Token": "t"}});
        assert!(tencent_credentials(&answer).is_none());
        let no_token = json!({"ExpiredTime": past + 3600, "Credentials": {
            "TmpSecretId": "a", "TmpSecretKey": "k", "Token": ""}});
        assert!(tencent_credentials(&no_token).is_none());
        assert!(alibaba_credentials(&json!({"Credentials": {}})).is_none());
    }
}
