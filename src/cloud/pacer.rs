//! Pacing: every API call waits for its slot, so the provider never provokes a cloud's request
//! limit, and slows down by itself when something else sharing the account does.
//!
//! There is one [`ActionPacer`] per (cloud, endpoint, credentials, region, action) in the whole
//! process, found through a registry, so two clients built for the same account and region
//! (a provider configured twice, a test building clients side by side) share one budget, as the
//! cloud counts it.
//!
//! - The starting rate is the cloud's documented one ([`super::Limits::rates`]); an action
//!   without a published limit starts unpaced.
//! - Calls are spaced evenly at a little more than `1/rate` seconds. Servers count in sliding
//!   one-second windows; even spacing never puts more than `rate` calls into one, whereas a
//!   bursting token bucket can put twice that into a window straddling a refill.
//! - A throttling answer cuts the rate to [`DECREASE`] of itself (of what was actually sent in
//!   the last second when the action was unpaced), at most once per [`DECREASE_GAP`] so one
//!   burst of refusals counts once. Each second without a refusal then adds a tenth, up to the documented rate; an
//!   undocumented action becomes unpaced again once it climbs past [`UNPACED_ABOVE`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use super::{ClientConfig, CloudKind};

/// Spacing margin over `1/rate`, for clock granularity and jitter between our send and the
/// server's count: 8 % tolerates 80 ms of jitter at 10 requests/s, and keeps 1000 calls at
/// 10/s within 108 s of the 100 s floor. 5 % was measured first: on a 2-core machine running
/// two Terraform applies at once, 4 of 200 imports were throttled.
const MARGIN: f64 = 1.08;
/// Rate decreases closer together than this are one event.
pub(crate) const DECREASE_GAP: Duration = Duration::from_millis(500);
/// Lowest rate a pacer slows down to, in requests per second.
const MIN_RATE: f64 = 1.0;
/// Growth per second without a throttle, well below the knee and near it.
const FAST_RECOVERY: f64 = 0.20;
const SLOW_RECOVERY: f64 = 0.03;
/// "Well below the knee": under this share of the rate last refused.
const NEAR_KNEE: f64 = 0.85;
/// An undocumented action whose recovered rate passes this is unpaced again.
const UNPACED_ABOVE: f64 = 1000.0;

/// Who the cloud counts requests against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Account {
    cloud: CloudKind,
    endpoint: String,
    access_key: String,
    region: String,
}

type Registry = Mutex<HashMap<(Account, String), Arc<ActionPacer>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The pacers of one client: its account, resolved once; one [`ActionPacer`] per action.
#[derive(Debug)]
pub(crate) struct Pacers {
    account: Account,
    rates: &'static [(&'static str, u32)],
}

impl Pacers {
    /// The pacers for the account `cfg` talks to, at `endpoint` (the resolved URL), whose
    /// documented rates are `rates`.
    pub fn new(
        cfg: &ClientConfig,
        endpoint: &url::Url,
        rates: &'static [(&'static str, u32)],
    ) -> Self {
        Self {
            account: Account {
                cloud: cfg.kind,
                endpoint: endpoint.as_str().to_string(),
                access_key: cfg.credentials.access_key.clone(),
                region: cfg.region.clone(),
            },
            rates,
        }
    }

    /// The process-wide pacer of `action` for this account.
    pub(crate) fn action(&self, action: &str) -> Arc<ActionPacer> {
        // A poisoned lock only means another caller panicked mid-insert; the map is usable.
        let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
        map.entry((self.account.clone(), action.to_string()))
            .or_insert_with(|| {
                let rate = self.rates.iter().find(|(a, _)| *a == action);
                Arc::new(ActionPacer::new(rate.map(|(_, n)| f64::from(*n))))
            })
            .clone()
    }
}

#[derive(Debug)]
struct State {
    /// Current rate; `None` sends at once.
    rate: Option<f64>,
    next_slot: Instant,
    /// Send times within the last second, to know the real rate when a throttle comes.
    recent: VecDeque<Instant>,
    last_decrease: Option<Instant>,
    last_recovery: Instant,
    /// The rate the cloud last refused.
    knee: f64,
    throttles: u64,
}

/// Spaces the calls of one action of one account.
#[derive(Debug)]
pub(crate) struct ActionPacer {
    documented: Option<f64>,
    state: Mutex<State>,
}

impl ActionPacer {
    /// A pacer starting at `documented` requests per second (unpaced when `None`).
    pub fn new(documented: Option<f64>) -> Self {
        let now = Instant::now();
        Self {
            documented: documented.filter(|r| *r > 0.0),
            state: Mutex::new(State {
                rate: documented.filter(|r| *r > 0.0),
                next_slot: now,
                recent: VecDeque::new(),
                last_decrease: None,
                last_recovery: now,
                knee: 0.0,
                throttles: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for this call's slot and reserves it.
    #[cfg(test)]
    pub(crate) async fn acquire(&self) {
        tokio::time::sleep_until(self.reserve()).await;
    }

    /// Reserves the next slot and says when it is, without waiting for it.
    pub(crate) fn reserve(&self) -> Instant {
        {
            let mut s = self.lock();
            let now = Instant::now();
            self.recover(&mut s, now);
            let slot = match s.rate {
                None => now,
                Some(rate) => {
                    let slot = s.next_slot.max(now);
                    s.next_slot = slot + Duration::from_secs_f64(MARGIN / rate);
                    slot
                }
            };
            while s
                .recent
                .front()
                .is_some_and(|t| slot.saturating_duration_since(*t) >= Duration::from_secs(1))
            {
                s.recent.pop_front();
            }
            s.recent.push_back(slot);
            slot
        }
    }

    /// The cloud refused a call for its rate: slow down.
    pub(crate) fn throttled(&self) {
        let mut s = self.lock();
        let now = Instant::now();
        if s.last_decrease
            .is_some_and(|t| now.duration_since(t) < DECREASE_GAP)
        {
            return;
        }
        let sent_last_second = s
            .recent
            .iter()
            .filter(|t| now.saturating_duration_since(**t) < Duration::from_secs(1))
            .count() as f64;
        let base = s.rate.unwrap_or(sent_last_second.max(1.0));
        let rate = (base / 2.0).max(MIN_RATE);
        s.knee = base;
        s.rate = Some(rate);
        s.last_decrease = Some(now);
        s.last_recovery = now;
        s.throttles += 1;
        // The calls already reserved ahead were planned at the old rate: start over from now.
        s.next_slot = now + Duration::from_secs_f64(MARGIN / rate);
        tracing::info!(
            rate_per_sec = rate,
            documented = self.documented,
            "throttled by the cloud; slowing down"
        );
    }

    fn recover(&self, s: &mut State, now: Instant) {
        let Some(rate) = s.rate else { return };
        if s.last_decrease.is_none() {
            return;
        }
        let elapsed = now.duration_since(s.last_recovery).as_secs_f64();
        if elapsed < 1.0 {
            return;
        }
        let mut grown = rate;
        for _ in 0..(elapsed.floor() as u32).min(1000) {
            let step = if grown < NEAR_KNEE * s.knee {
                FAST_RECOVERY
            } else {
                SLOW_RECOVERY
            };
            grown *= 1.0 + step;
        }
        s.last_recovery = now;
        s.rate = match self.documented {
            Some(cap) if grown >= cap => {
                s.last_decrease = None;
                Some(cap)
            }
            Some(_) => Some(grown),
            None if grown > UNPACED_ABOVE => {
                s.last_decrease = None;
                None
            }
            None => Some(grown),
        };
    }

    /// The rate calls are spaced at now (`None`: unpaced).
    #[cfg(test)]
    pub(crate) fn rate(&self) -> Option<f64> {
        self.lock().rate
    }

    /// How many times this pacer slowed down.
    #[cfg(test)]
    pub(crate) fn throttles(&self) -> u64 {
        self.lock().throttles
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Credentials;

    fn cfg(kind: CloudKind, access_key: &str) -> ClientConfig {
        ClientConfig {
            kind,
            region: "r".into(),
            credentials: Credentials::long_term(access_key, "s"),
            endpoint: None,
            request_timeout: Duration::from_secs(1),
            max_retries: 0,
            retry_deadline: Duration::from_secs(1),
            assume_role: None,
            sts_endpoint: None,
        }
    }

    const CVM_RATES: &[(&str, u32)] = crate::cloud::rules::CVM_LIMITS.rates;

    fn url() -> url::Url {
        url::Url::parse("http://127.0.0.1:1/").unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn documented_rate_spaces_calls_evenly() {
        let p = ActionPacer::new(Some(10.0));
        let start = Instant::now();
        for _ in 0..11 {
            p.acquire().await;
        }
        // 11 calls, 10 gaps of 108 ms: never 11 in one second.
        assert_eq!(start.elapsed(), Duration::from_millis(1080));
    }

    #[tokio::test(start_paused = true)]
    async fn unpaced_never_waits() {
        let p = ActionPacer::new(None);
        let start = Instant::now();
        for _ in 0..100 {
            p.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn throttle_halves_once_per_burst_and_recovers_to_the_documented_rate() {
        let p = ActionPacer::new(Some(10.0));
        p.acquire().await;
        for _ in 0..10 {
            p.throttled();
        }
        assert_eq!(p.rate(), Some(5.0), "a burst of refusals is one decrease");
        assert_eq!(p.throttles(), 1);
        tokio::time::advance(Duration::from_secs(3)).await;
        p.acquire().await;
        let r = p.rate().unwrap();
        // 5 -> 6 -> 7.2 fast (under 0.85 of the refused 10), then 3 %: 8.64 would be fast too.
        assert!((r - 5.0 * 1.2f64.powi(3)).abs() < 1e-9, "{r}");
        tokio::time::advance(Duration::from_secs(1)).await;
        p.acquire().await;
        let near = p.rate().unwrap();
        assert!((near - r * 1.03).abs() < 1e-9, "slow near the knee: {near}");
        tokio::time::advance(Duration::from_secs(30)).await;
        p.acquire().await;
        assert_eq!(p.rate(), Some(10.0), "capped at the documented rate");
    }

    #[tokio::test(start_paused = true)]
    async fn undocumented_action_slows_from_what_was_sent_and_unpaces_again() {
        let p = ActionPacer::new(None);
        for _ in 0..40 {
            p.acquire().await;
        }
        p.throttled();
        assert_eq!(
            p.rate(),
            Some(20.0),
            "half of the 40 sent in the last second"
        );
        let start = Instant::now();
        for _ in 0..3 {
            p.acquire().await;
        }
        assert!(start.elapsed() >= Duration::from_millis(100), "now paced");
        // 20 -> 34 quickly, then 3 % a second: past 1000/s within about two minutes.
        tokio::time::advance(Duration::from_secs(60)).await;
        p.acquire().await;
        assert!(p.rate().is_some_and(|r| r > 100.0), "{:?}", p.rate());
        tokio::time::advance(Duration::from_secs(120)).await;
        p.acquire().await;
        assert_eq!(p.rate(), None);
    }

    #[test]
    fn one_pacer_per_account_and_action() {
        let a = Pacers::new(&cfg(CloudKind::Cvm, "pacer-test-a"), &url(), CVM_RATES);
        let a2 = Pacers::new(&cfg(CloudKind::Cvm, "pacer-test-a"), &url(), CVM_RATES);
        let b = Pacers::new(&cfg(CloudKind::Cvm, "pacer-test-b"), &url(), CVM_RATES);
        assert!(Arc::ptr_eq(
            &a.action("ImportKeyPair"),
            &a2.action("ImportKeyPair")
        ));
        assert!(!Arc::ptr_eq(
            &a.action("ImportKeyPair"),
            &b.action("ImportKeyPair")
        ));
        assert!(!Arc::ptr_eq(
            &a.action("ImportKeyPair"),
            &a.action("DescribeKeyPairs")
        ));
        assert_eq!(a.action("DescribeInstances").rate(), Some(40.0));
        let ecs = Pacers::new(&cfg(CloudKind::Ecs, "pacer-test-a"), &url(), &[]);
        assert_eq!(ecs.action("DescribeKeyPairs").rate(), None);
    }
}
