//! Slack's tier rate limits: a token bucket per method × workspace (or org) × app, as Slack
//! counts them ("per API method per workspace per app"): two tokens of one app share a budget.
//!
//! Each bucket holds one window's budget (tier 2: 20 calls, tier 4: 100), so a burst of a
//! minute's budget passes and further calls wait for the refill, as Slack's "short bursts"
//! allow. An empty bucket answers HTTP 429 with the whole seconds until a call will pass.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use slack_sessions_api::MethodInfo;

use crate::api::Failure;

/// How the emulator applies rate limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimits {
    /// Slack's budgets per minute (the default).
    #[default]
    Slack,
    /// No limits: for functional tests.
    Off,
    /// Windows of 60/N seconds with the same per-window budget: N times Slack's rate, so a
    /// pacing test runs in seconds.
    Scale(u32),
}

/// A rate-limit mode that is not `slack`, `off` or `scale=N` (1..=3600).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected slack, off or scale=N (1..=3600), got {0:?}")]
pub struct BadRateLimits(String);

impl std::str::FromStr for RateLimits {
    type Err = BadRateLimits;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "slack" => Ok(RateLimits::Slack),
            "off" => Ok(RateLimits::Off),
            other => other
                .strip_prefix("scale=")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=3600).contains(n))
                .map(RateLimits::Scale)
                .ok_or_else(|| BadRateLimits(other.to_owned())),
        }
    }
}

impl RateLimits {
    /// The window over which a tier's budget refills.
    pub fn window(self) -> Option<Duration> {
        match self {
            RateLimits::Slack => Some(Duration::from_secs(60)),
            RateLimits::Off => None,
            RateLimits::Scale(n) => Some(Duration::from_secs(60) / n.max(1)),
        }
    }
}

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
    pub fn check(&self, method: &MethodInfo, team: &str, app: &str) -> Result<(), Failure> {
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
            Err(Failure::rate_limited(wait.ceil() as u64))
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
    fn parses_modes() {
        assert_eq!("slack".parse(), Ok(RateLimits::Slack));
        assert_eq!("off".parse(), Ok(RateLimits::Off));
        assert_eq!("scale=10".parse(), Ok(RateLimits::Scale(10)));
        assert!("scale=0".parse::<RateLimits>().is_err());
        assert!("fast".parse::<RateLimits>().is_err());
    }

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
