//! HTTP with timeouts, retries, backoff with jitter, a retry deadline and rate limiting: the
//! mechanics every cloud shares. The per-cloud modules only build signed requests and parse
//! answers; they hand both to [`Transport::call`] as closures, so every attempt is signed afresh
//! (new nonce and timestamp: the clouds reject replays and stale signatures).

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::ratelimit::RateLimiter;
use super::{ClientConfig, CloudError, CloudKind, ErrorKind};

/// First backoff delay; doubled per retry.
const BASE_BACKOFF: Duration = Duration::from_millis(200);
/// Largest backoff delay.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A fully built request.
#[derive(Debug, Clone)]
pub(crate) struct HttpRequest {
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The outcome of [`Transport::call`], remembering whether an earlier attempt may have run:
/// the idempotence rules (NotFound after a retried delete is success) need to know.
#[derive(Debug)]
pub(crate) struct Attempted<T> {
    pub result: Result<T, CloudError>,
    /// An earlier attempt failed in a way that may have left its effect behind.
    pub may_have_committed: bool,
}

/// Shared HTTP client plus retry policy for one cloud client.
#[derive(Debug)]
pub(crate) struct Transport {
    kind: CloudKind,
    http: reqwest::Client,
    max_retries: u32,
    retry_deadline: Duration,
    limiter: RateLimiter,
}

impl Transport {
    pub(crate) fn new(cfg: &ClientConfig) -> Result<Self, CloudError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .connect_timeout(cfg.request_timeout.min(Duration::from_secs(10)))
            .user_agent(concat!(
                "terraform-provider-sshkey/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| {
                CloudError::local(
                    cfg.kind,
                    "Configure",
                    ErrorKind::Other,
                    "HttpClient",
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(Self {
            kind: cfg.kind,
            http,
            max_retries: cfg.max_retries,
            retry_deadline: cfg.retry_deadline,
            limiter: RateLimiter::new(cfg.kind.limits().rate_per_sec),
        })
    }

    /// Runs one API action with retries. `build` signs a fresh request per attempt; `parse`
    /// turns (HTTP status, body) into a value or the cloud's error.
    pub(crate) async fn call<T>(
        &self,
        action: &str,
        build: impl Fn() -> Result<HttpRequest, CloudError>,
        parse: impl Fn(u16, &[u8]) -> Result<T, CloudError>,
    ) -> Attempted<T> {
        let start = Instant::now();
        let mut may_have_committed = false;
        let mut attempt = 0u32;
        loop {
            self.limiter.acquire(action).await;
            let result = match build() {
                Ok(req) => self
                    .send_once(action, req)
                    .await
                    .and_then(|(s, b)| parse(s, &b)),
                Err(e) => Err(e),
            };
            let err = match result {
                Ok(v) => {
                    return Attempted {
                        result: Ok(v),
                        may_have_committed,
                    }
                }
                Err(e) => e,
            };
            let delay = backoff(attempt);
            let retry = err.kind.is_retryable()
                && attempt < self.max_retries
                && start.elapsed() + delay <= self.retry_deadline;
            if !retry {
                return Attempted {
                    result: Err(err),
                    may_have_committed,
                };
            }
            // Throttled requests were refused before doing anything; the others may have run.
            may_have_committed |= err.kind != ErrorKind::Throttled;
            tracing::info!(cloud = %self.kind, action, attempt = attempt + 1, delay_ms = delay.as_millis() as u64, error = %err, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        action: &str,
        req: HttpRequest,
    ) -> Result<(u16, Vec<u8>), CloudError> {
        let mut builder = self.http.post(req.url);
        for (name, value) in &req.headers {
            // reqwest derives Host from the URL exactly as we signed it.
            if !name.eq_ignore_ascii_case("host") {
                builder = builder.header(name, value);
            }
        }
        let transport = |e: reqwest::Error| {
            let what = if e.is_timeout() {
                "timed out"
            } else {
                "failed"
            };
            CloudError::local(
                self.kind,
                action,
                ErrorKind::Transport,
                "Transport",
                format!("request {what}: {e}"),
            )
        };
        let resp = builder.body(req.body).send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(transport)?;
        tracing::debug!(cloud = %self.kind, action, status, bytes = body.len(), "response");
        Ok((status, body.to_vec()))
    }
}

/// Exponential backoff with jitter in [d/2, d], so concurrent clients do not retry in lockstep.
fn backoff(attempt: u32) -> Duration {
    let full = BASE_BACKOFF
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_BACKOFF);
    let half = full / 2;
    let jitter_ms = rand::rng().random_range(0..=half.as_millis() as u64);
    half + Duration::from_millis(jitter_ms)
}

/// The `host[:port]` the HTTP client will send for `url`, which is what must be signed.
pub(crate) fn host_header(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        for attempt in 0..20 {
            let d = backoff(attempt);
            let full = BASE_BACKOFF
                .saturating_mul(1 << attempt.min(16))
                .min(MAX_BACKOFF);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn host_keeps_non_default_ports() {
        let u = url::Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(host_header(&u), "127.0.0.1:8080");
        let u = url::Url::parse("https://ecs.cn-hangzhou.aliyuncs.com/").unwrap();
        assert_eq!(host_header(&u), "ecs.cn-hangzhou.aliyuncs.com");
    }
}
