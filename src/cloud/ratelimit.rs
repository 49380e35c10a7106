//! A client-side rate limiter per action, so we stay under a cloud's documented request rate
//! (CVM: 10 requests/s for DeleteKeyPairs and (Dis)AssociateInstancesKeyPairs) instead of
//! provoking throttling and paying for it with backoff.
//!
//! Calls are spaced evenly at a little more than `1/rate` seconds: servers count in sliding
//! one-second windows, and even spacing never puts more than `rate` calls in any such window,
//! whereas a bursting bucket can put up to twice that in a window straddling the refill.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces calls of each action.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Option<Duration>,
    next_slot: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    /// A limiter allowing `per_sec` calls per second per action; `None` never waits.
    pub fn new(per_sec: Option<u32>) -> Self {
        // 5 % margin for clock granularity and network jitter between us and the server.
        let interval = per_sec
            .filter(|r| *r > 0)
            .map(|r| Duration::from_secs(1).mul_f64(1.05) / r);
        Self {
            interval,
            next_slot: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until `action` may be called, reserving the slot.
    pub async fn acquire(&self, action: &str) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            // A poisoned lock only means another caller panicked mid-update; the map is still usable.
            let mut slots = self.next_slot.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let next = slots.entry(action.to_string()).or_insert(now);
            let slot = (*next).max(now);
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_calls_per_action() {
        let rl = RateLimiter::new(Some(10));
        let start = Instant::now();
        for _ in 0..11 {
            rl.acquire("DeleteKeyPairs").await;
        }
        // 11 calls need 10 intervals of 105 ms: never more than 10 in one second.
        assert_eq!(start.elapsed(), Duration::from_millis(1050));
        let other = Instant::now();
        rl.acquire("DescribeKeyPairs").await;
        assert_eq!(other.elapsed(), Duration::ZERO, "actions are independent");
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let rl = RateLimiter::new(None);
        let start = Instant::now();
        for _ in 0..100 {
            rl.acquire("X").await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
