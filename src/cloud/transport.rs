//! HTTP with timeouts, retries, backoff with jitter, a retry deadline and pacing: the
//! mechanics every cloud shares. The per-cloud modules only build signed requests and parse
//! answers; they hand both to [`Transport::call`] as closures, so every attempt is signed afresh
//! (new nonce and timestamp: the clouds reject replays and stale signatures).

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use super::pacer::Pacers;
use super::sign;
use super::sts::Session;
use super::{ClientConfig, CloudError, CloudKind, ErrorKind, RETRY_DEADLINE_FACTOR};

/// First backoff delay; doubled per retry.
const BASE_BACKOFF: Duration = Duration::from_millis(200);
/// Largest backoff delay.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Most extra pause after a throttling answer; the pacer's new spacing does the real waiting,
/// this only keeps the refused callers from coming back in lockstep.
const THROTTLE_JITTER: Duration = Duration::from_millis(100);

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
    pacers: Pacers,
    session: Arc<Session>,
}

impl Transport {
    /// The transport of a client of `cfg` talking to `endpoint`, whose documented rates are
    /// `rates`, signing with what `session` holds.
    pub fn new(
        cfg: &ClientConfig,
        endpoint: &url::Url,
        rates: &'static [(&'static str, u32)],
        session: Arc<Session>,
    ) -> Result<Self, CloudError> {
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
            pacers: Pacers::new(cfg, endpoint, rates),
            session,
        })
    }

    /// Runs one API action with retries. `build` signs a fresh request per attempt with the
    /// session's current credentials (temporary ones may have been renewed since the last
    /// attempt); `parse` turns (HTTP status, body) into a value or the cloud's error.
    ///
    /// Every attempt waits for the action's pacer first. A throttling answer slows the pacer
    /// down and is retried until the retry deadline (it never ran, so it uses no retry); other
    /// transient failures are retried `max_retries` times with backoff, within the deadline. The
    /// deadline counts from the first attempt, not from the wait for a slot.
    pub(crate) async fn call<T>(
        &self,
        action: &str,
        build: impl Fn(&sign::Credentials) -> Result<HttpRequest, CloudError>,
        parse: impl Fn(u16, &[u8]) -> Result<T, CloudError>,
    ) -> Attempted<T> {
        let pacer = self.pacers.action(action);
        let mut first_attempt: Option<Instant> = None;
        let mut may_have_committed = false;
        let mut attempts = 0u32;
        let mut failures = 0u32;
        let mut last_err: Option<CloudError> = None;
        loop {
            let slot = pacer.reserve();
            if let (Some(start), Some(err)) = (first_attempt, last_err.take()) {
                // A slowed-down pacer's next slot may lie past the deadline: give up now.
                if slot > start + self.retry_deadline {
                    return Attempted {
                        result: Err(self.gave_up(err, attempts, start.elapsed(), false)),
                        may_have_committed,
                    };
                }
            }
            tokio::time::sleep_until(slot).await;
            let start = *first_attempt.get_or_insert_with(Instant::now);
            attempts += 1;
            // Credentials that cannot be had are final here: assuming the role was already
            // retried by the STS client's own transport.
            let creds = match self.session.credentials().await {
                Ok(creds) => creds,
                Err(e) => {
                    return Attempted {
                        result: Err(e),
                        may_have_committed,
                    }
                }
            };
            let result = match build(&creds) {
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
            let throttled = err.kind == ErrorKind::Throttled;
            let delay = if throttled {
                pacer.throttled();
                jitter(THROTTLE_JITTER)
            } else {
                backoff(failures)
            };
            let in_deadline = start.elapsed() + delay <= self.retry_deadline;
            let retries_left = throttled || failures < self.max_retries;
            if !(err.kind.is_retryable() && in_deadline && retries_left) {
                let err = if err.kind.is_retryable() {
                    self.gave_up(err, attempts, start.elapsed(), in_deadline)
                } else {
                    err
                };
                return Attempted {
                    result: Err(err),
                    may_have_committed,
                };
            }
            // Throttled requests were refused before doing anything; the others may have run.
            may_have_committed |= !throttled;
            failures += u32::from(!throttled);
            tracing::info!(cloud = %self.kind, action, attempt = attempts, delay_ms = delay.as_millis() as u64, error = %err, "retrying");
            tokio::time::sleep(delay).await;
            last_err = Some(err);
        }
    }

    /// Says how long a failed call was retried and which setting bounds that.
    fn gave_up(
        &self,
        mut err: CloudError,
        attempts: u32,
        spent: Duration,
        in_deadline: bool,
    ) -> CloudError {
        let deadline = format!(
            "the retry deadline, {} s ({RETRY_DEADLINE_FACTOR} x `request_timeout`)",
            self.retry_deadline.as_secs()
        );
        let bound = if err.kind == ErrorKind::Throttled {
            format!("the cloud kept throttling until {deadline} was spent; raise `request_timeout`, run Terraform with a lower -parallelism, or ask the cloud for a higher quota")
        } else if in_deadline {
            format!(
                "`max_retries` = {} bounds the retries; raise it to keep trying",
                self.max_retries
            )
        } else {
            format!("{deadline} was spent; raise `request_timeout` to keep trying")
        };
        err.message = format!(
            "{}; gave up after {attempts} attempt(s) over {:.1} s: {bound}",
            err.message,
            spent.as_secs_f64()
        );
        err
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
                format!("request {what}: {}", with_causes(&e)),
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
    half + jitter(half)
}

/// An error and every cause under it: reqwest's own text ("error sending request for url")
/// leaves out what the user needs (connection refused, timed out, a TLS failure).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// A random pause in [0, max].
fn jitter(max: Duration) -> Duration {
    Duration::from_millis(rand::rng().random_range(0..=max.as_millis() as u64))
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
    use crate::cloud::Credentials;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A transport with pacers of its own: `account` must differ between tests, which run
    /// side by side with paused clocks of their own.
    fn transport(account: &str, max_retries: u32, deadline_ms: u64) -> Transport {
        let endpoint = url::Url::parse("http://127.0.0.1:1/").unwrap();
        Transport::new(
            &ClientConfig {
                kind: CloudKind::Ecs,
                region: "cn-hangzhou".into(),
                credentials: Credentials::long_term(account, "s"),
                endpoint: Some(endpoint.clone()),
                request_timeout: Duration::from_secs(1),
                max_retries,
                retry_deadline: Duration::from_millis(deadline_ms),
                assume_role: None,
                sts_endpoint: None,
            },
            &endpoint,
            &[],
            Arc::new(Session::fixed(&Credentials::long_term(account, "s"))),
        )
        .unwrap()
    }

    /// Fails every attempt with `kind` (before any network I/O) and counts the attempts.
    async fn failing(t: &Transport, kind: ErrorKind) -> (u32, Attempted<()>) {
        let attempts = AtomicU32::new(0);
        let a = t
            .call(
                "DeleteKeyPairs",
                |_| {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    Err(CloudError::local(
                        CloudKind::Ecs,
                        "DeleteKeyPairs",
                        kind,
                        "X",
                        "x",
                    ))
                },
                |_, _| Ok(()),
            )
            .await;
        (attempts.load(Ordering::SeqCst), a)
    }

    #[tokio::test(start_paused = true)]
    async fn retries_are_bounded_by_count_and_deadline() {
        let (n, a) = failing(&transport("count", 3, 60_000), ErrorKind::Server).await;
        assert_eq!(n, 4, "first try + 3 retries");
        assert!(a.may_have_committed);
        let message = a.result.unwrap_err().message;
        assert!(
            message.contains("gave up after 4 attempt(s)") && message.contains("`max_retries` = 3"),
            "{message}"
        );

        let start = Instant::now();
        let (n, a) = failing(&transport("deadline", 100, 2_000), ErrorKind::Transport).await;
        assert!(
            start.elapsed() <= Duration::from_millis(2_000),
            "{:?}",
            start.elapsed()
        );
        assert!((3..=8).contains(&n), "{n} attempts within 2 s");
        let message = a.result.unwrap_err().message;
        assert!(
            message.contains("retry deadline, 2 s") && message.contains("raise `request_timeout`"),
            "{message}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_is_retried_until_the_deadline_and_slows_the_pacer() {
        let t = transport("throttle", 2, 30_000);
        let start = Instant::now();
        let (n, a) = failing(&t, ErrorKind::Throttled).await;
        assert!(n > 3, "throttled attempts use no retries: {n}");
        assert!(start.elapsed() <= Duration::from_secs(30));
        assert!(!a.may_have_committed, "throttled calls never ran");
        let message = a.result.unwrap_err().message;
        assert!(
            message.contains("kept throttling") && message.contains("-parallelism"),
            "{message}"
        );
        let pacer = t.pacers.action("DeleteKeyPairs");
        assert!(
            pacer.rate().is_some(),
            "an unpaced action is paced after a throttle"
        );
        assert!(pacer.throttles() >= 1);
    }

    #[tokio::test(start_paused = true)]
    async fn only_transient_errors_are_retried() {
        let (n, a) = failing(&transport("input", 5, 60_000), ErrorKind::InvalidInput).await;
        assert_eq!(n, 1);
        assert!(!a.may_have_committed);
        assert_eq!(
            a.result.unwrap_err().message,
            "x",
            "a refusal is not retried"
        );
    }

    #[tokio::test]
    async fn transport_errors_name_their_cause() {
        // Nothing listens on port 1.
        let t = transport("refused", 0, 1_000);
        let a = t
            .call(
                "DescribeKeyPairs",
                |_| {
                    Ok(HttpRequest {
                        url: url::Url::parse("http://127.0.0.1:1/").unwrap(),
                        headers: Vec::new(),
                        body: Vec::new(),
                    })
                },
                |_, _| Ok(()),
            )
            .await;
        let e = a.result.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Transport);
        assert!(
            e.message.to_lowercase().contains("refused"),
            "{}",
            e.message
        );
    }

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
