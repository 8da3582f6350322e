//! Slack's tier rate limits: a token bucket per method × workspace (or org) × app, as Slack
//! counts them ("per API method per workspace per app"): two tokens of one app share a budget.
//!
//! Each bucket holds one window's budget (tier 2: 20 calls, tier 4: 100), so a burst of a
//! minute's budget passes and further calls wait for the refill, as Slack's "short bursts"
//! allow. An empty bucket answers HTTP 429 with the whole seconds until a call will pass.

use std::collections::HashMap;
use std::time::Instant;

use parking_lot::Mutex;
use slack_sessions_api::MethodInfo;

use crate::api::ErrorAnswer;

/// Defined in `slack-sessions-api` so that the client's `Pacing::matching` takes the same value.
pub use slack_sessions_api::RateLimits;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The buckets of one emulator.
#[derive(Debug, Default)]
pub struct Limiter {
    mode: RateLimits,
    buckets: Mutex<HashMap<(&'static str, String, String), Bucket>>,
}

impl Limiter {
    /// A limiter in `mode`.
    pub fn new(mode: RateLimits) -> Self {
        Limiter {
            mode,
            buckets: Mutex::default(),
        }
    }

    /// The mode.
    pub fn mode(&self) -> RateLimits {
        self.mode
    }

    /// Takes one call from the bucket of (method, team, app), or says how long to wait.
    pub fn check(&self, method: &MethodInfo, team: &str, app: &str) -> Result<(), ErrorAnswer> {
        let Some(window) = self.mode.window() else {
            return Ok(());
        };
        let capacity = f64::from(method.tier.per_minute());
        let per_sec = capacity / window.as_secs_f64();
        let now = Instant::now();
        let mut buckets = self.buckets.lock();
        let bucket = buckets
            .entry((method.name, team.to_owned(), app.to_owned()))
            .or_insert(Bucket {
                tokens: capacity,
                last: now,
            });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_sec).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_sec;
            Err(ErrorAnswer::rate_limited(wait.ceil() as u64))
        }
    }

    /// Forgets every bucket (on a control-plane reset).
    pub fn clear(&self) {
        self.buckets.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_sessions_api::methods::{GetSettings, List};

    #[test]
    fn tier_budgets_and_independence() {
        let limiter = Limiter::new(RateLimits::Slack);
        let list = MethodInfo::of::<List>();
        let get = MethodInfo::of::<GetSettings>();
        for _ in 0..20 {
            limiter.check(&list, "E1", "t").unwrap();
        }
        let f = limiter.check(&list, "E1", "t").unwrap_err();
        assert_eq!(f.http, http::StatusCode::TOO_MANY_REQUESTS);
        assert!(
            (1..=3).contains(&f.retry_after.unwrap()),
            "{:?}",
            f.retry_after
        );
        limiter.check(&list, "E2", "t").unwrap();
        limiter.check(&list, "E1", "another-app").unwrap();
        for _ in 0..100 {
            limiter.check(&get, "E1", "t").unwrap();
        }
        assert!(limiter.check(&get, "E1", "t").is_err());
    }
}
