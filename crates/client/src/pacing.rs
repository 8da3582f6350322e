//! Proactive pacing: calls are spread out to fit Slack's rate limits instead of collecting 429s.
//!
//! Slack counts calls per method, per workspace and per app, per minute, by tier (tier 2 = 20,
//! tier 4 = 100). The pacer keeps one budget per (token, method): a token bucket whose capacity is
//! one window's budget (so the documented bursts go out at once) and which refills at the
//! budget's rate. A call takes a slot before it is sent and waits when none is free; slots are
//! handed out in order, so a burst of a thousand concurrent calls leaves at the budget's pace,
//! first come first served.
//!
//! The state is shared by every clone of a [`Client`](crate::Client) (and by clients made with
//! [`Client::with_token`](crate::Client::with_token)), across tasks.
//!
//! When a call is rate limited anyway, its `Retry-After` pauses that (token, method) only:
//! calls waiting for a slot inside the pause wait for its end, other methods go on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slack_sessions_api::Tier;
use tokio::time::Instant;

use crate::Token;

/// How calls are paced. The default follows Slack's documented budgets with 10% headroom.
///
/// ```
/// use slack_sessions_client::Pacing;
/// use slack_sessions_client::api::Tier;
///
/// // Against `slack-sessions serve --rate-limits scale=10`:
/// let pacing = Pacing::scaled(10.0);
/// assert!(pacing.interval(Tier::Tier2) < Pacing::slack().interval(Tier::Tier2));
/// let off = Pacing::off();
/// assert!(!off.enabled);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Pacing {
    /// Pace at all; when false, calls leave at once and rate limits are met by retries only.
    pub enabled: bool,
    /// Multiplies every tier's budget per window (1 for Slack).
    pub budget_scale: f64,
    /// The window a tier's budget applies to (one minute for Slack).
    pub window: Duration,
    /// The fraction of the budget left unused, for calls made by other programs with the same
    /// token and for clock differences with the server (0.1 by default).
    pub headroom: f64,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing::slack()
    }
}

impl Pacing {
    /// Slack's documented budgets: tier 2 = 20 per minute, tier 4 = 100 per minute.
    pub fn slack() -> Self {
        Pacing {
            enabled: true,
            budget_scale: 1.0,
            window: Duration::from_secs(60),
            headroom: 0.1,
        }
    }

    /// No pacing.
    pub fn off() -> Self {
        Pacing {
            enabled: false,
            ..Self::slack()
        }
    }

    /// Matches an emulator started with `--rate-limits scale=N` (`RateLimits::Scale(N)`): the
    /// same budget per window, with windows of 60/N seconds, so N times Slack's rate and the
    /// same bursts.
    pub fn scaled(n: f64) -> Self {
        let n = if n.is_finite() && n > 0.0 { n } else { 1.0 };
        Pacing {
            window: Duration::from_secs(60).div_f64(n),
            ..Self::slack()
        }
    }

    /// Sets [`Self::budget_scale`]: every tier's budget per window multiplied by `scale` (for a
    /// server whose budgets differ from Slack's documented ones).
    pub fn budget_scale(mut self, scale: f64) -> Self {
        self.budget_scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        self
    }

    /// Sets [`Self::window`].
    pub fn window(mut self, window: Duration) -> Self {
        if !window.is_zero() {
            self.window = window;
        }
        self
    }

    /// Sets [`Self::headroom`] (clamped to `0..=0.9`).
    pub fn headroom(mut self, headroom: f64) -> Self {
        self.headroom = if headroom.is_nan() {
            0.0
        } else {
            headroom.clamp(0.0, 0.9)
        };
        self
    }

    /// The calls of `tier` per window that the pacer uses: the budget less the headroom.
    fn budget(&self, tier: Tier) -> f64 {
        (f64::from(tier.per_minute()) * self.budget_scale * (1.0 - self.headroom)).max(1.0)
    }

    /// The calls of `tier` that may leave at once (the bucket's capacity).
    pub fn burst(&self, tier: Tier) -> u32 {
        // Saturating float-to-int conversion; at least one call per window.
        self.budget(tier).floor() as u32
    }

    /// The time between two calls of `tier` once the burst is spent. It follows the budget
    /// itself, not the whole calls of the burst, so that a headroom of 2% paces at 98% of the
    /// rate rather than at 19 calls of 20.
    pub fn interval(&self, tier: Tier) -> Duration {
        self.window.div_f64(self.budget(tier))
    }
}

#[derive(Debug)]
struct Bucket {
    /// Theoretical arrival time (GCRA): the bucket is full when `tat <= now`.
    tat: Instant,
    /// The end of the latest `Retry-After` pause.
    paused_until: Option<Instant>,
}

type Key = (Token, &'static str);

/// The shared pacing state of a client and its clones.
#[derive(Debug)]
pub(crate) struct Pacer {
    pacing: Pacing,
    buckets: Mutex<HashMap<Key, Bucket>>,
}

/// Buckets idle for this long are forgotten once the map grows past `PRUNE_ABOVE` entries.
const PRUNE_ABOVE: usize = 1024;

impl Pacer {
    pub(crate) fn new(pacing: Pacing) -> Arc<Self> {
        Arc::new(Pacer {
            pacing,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn pacing(&self) -> &Pacing {
        &self.pacing
    }

    fn params(&self, tier: Tier) -> (Duration, Duration) {
        let interval = self.pacing.interval(tier);
        let tolerance = interval * (self.pacing.burst(tier) - 1);
        (interval, tolerance)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Bucket>> {
        // The map holds plain numbers; a panic elsewhere cannot leave it inconsistent.
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a slot for the next call, returning when it is due. Returns how long it waited.
    pub(crate) async fn acquire(
        &self,
        token: &Token,
        method: &'static str,
        tier: Tier,
    ) -> Duration {
        if !self.pacing.enabled {
            return Duration::ZERO;
        }
        let started = Instant::now();
        let (interval, tolerance) = self.params(tier);
        loop {
            let at = {
                let mut map = self.lock();
                let now = Instant::now();
                if map.len() > PRUNE_ABOVE {
                    map.retain(|_, b| b.tat > now || b.paused_until.is_some_and(|p| p > now));
                }
                let bucket = map.entry((token.clone(), method)).or_insert(Bucket {
                    tat: now,
                    paused_until: None,
                });
                let tat = bucket.tat.max(now);
                let mut at = tat.checked_sub(tolerance).unwrap_or(now).max(now);
                if let Some(paused) = bucket.paused_until {
                    at = at.max(paused);
                }
                bucket.tat = tat.max(at) + interval;
                at
            };
            tokio::time::sleep_until(at).await;
            // A pause that began after the slot was taken and covers it sends us to the back.
            let still_valid = {
                let map = self.lock();
                map.get(&(token.clone(), method))
                    .and_then(|b| b.paused_until)
                    .is_none_or(|paused| at >= paused)
            };
            if still_valid {
                return started.elapsed();
            }
        }
    }

    /// Pauses `method` for `token` until `wait` from now (a `Retry-After`): slots inside the pause
    /// are not used, and the budget restarts empty at its end.
    pub(crate) fn pause(&self, token: &Token, method: &'static str, tier: Tier, wait: Duration) {
        if !self.pacing.enabled {
            return;
        }
        let (_, tolerance) = self.params(tier);
        let mut map = self.lock();
        let now = Instant::now();
        let until = now + wait;
        let bucket = map.entry((token.clone(), method)).or_insert(Bucket {
            tat: now,
            paused_until: None,
        });
        bucket.paused_until = Some(bucket.paused_until.map_or(until, |p| p.max(until)));
        bucket.tat = bucket.tat.max(until + tolerance);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::join_all;

    const T2: Tier = Tier::Tier2;
    const MS: fn(u64) -> Duration = Duration::from_millis;
    const S: fn(u64) -> Duration = Duration::from_secs;

    fn exact() -> Pacing {
        Pacing::slack().headroom(0.0)
    }

    #[test]
    fn budgets_follow_the_tiers() {
        let p = exact();
        assert_eq!(p.burst(Tier::Tier2), 20);
        assert_eq!(p.interval(Tier::Tier2), S(3));
        assert_eq!(p.burst(Tier::Tier4), 100);
        assert_eq!(p.interval(Tier::Tier4), MS(600));
        let p = Pacing::slack();
        assert_eq!(p.burst(Tier::Tier2), 18);
        assert_eq!(p.burst(Tier::Tier1), 1);
        // The rate follows the budget less the headroom, not the whole calls of the burst.
        let p = Pacing::slack().headroom(0.02);
        assert_eq!(p.burst(Tier::Tier2), 19);
        assert_eq!(p.interval(Tier::Tier2).as_millis(), 3061);
        let p = Pacing::scaled(10.0).headroom(0.0);
        assert_eq!(p.burst(Tier::Tier2), 20);
        assert_eq!(p.window, S(6));
        assert_eq!(p.interval(Tier::Tier2), MS(300));
        let p = Pacing::slack()
            .headroom(0.0)
            .budget_scale(2.0)
            .window(S(30));
        assert_eq!(p.burst(Tier::Tier4), 200);
        assert_eq!(p.interval(Tier::Tier4), MS(150));
        // Nonsense scales fall back to Slack's.
        assert_eq!(Pacing::scaled(0.0).window, S(60));
        assert_eq!(Pacing::scaled(f64::NAN).budget_scale, 1.0);
    }

    /// Acquires `n` slots one after another, returning when each was granted (from the start).
    async fn sequential(
        pacer: &Pacer,
        token: &Token,
        method: &'static str,
        n: usize,
    ) -> Vec<Duration> {
        let start = Instant::now();
        let mut out = Vec::new();
        for _ in 0..n {
            pacer.acquire(token, method, T2).await;
            out.push(start.elapsed());
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_one_per_interval() {
        let pacer = Pacer::new(exact());
        let token = Token::new("xoxp-a");
        let times = sequential(&pacer, &token, "m", 24).await;
        assert!(
            times[..20].iter().all(|t| *t == Duration::ZERO),
            "{times:?}"
        );
        assert_eq!(&times[20..], &[S(3), S(6), S(9), S(12)]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_bucket_refills_while_idle() {
        let pacer = Pacer::new(exact());
        let token = Token::new("xoxp-a");
        sequential(&pacer, &token, "m", 20).await;
        tokio::time::sleep(S(30)).await; // 10 slots come back
        let times = sequential(&pacer, &token, "m", 11).await;
        assert!(
            times[..10].iter().all(|t| *t == Duration::ZERO),
            "{times:?}"
        );
        assert_eq!(times[10], S(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_thousand_concurrent_calls_are_spread_in_order() {
        let pacer = Pacer::new(exact());
        let token = Token::new("xoxp-a");
        let start = Instant::now();
        let granted = join_all((0..1000).map(|_| async {
            pacer.acquire(&token, "m", T2).await;
            start.elapsed()
        }))
        .await;
        let mut sorted = granted.clone();
        sorted.sort();
        // 20 at once, then one every 3 s: never more than 20 + elapsed/3 s.
        for (i, t) in sorted.iter().enumerate() {
            let expected = if i < 20 {
                Duration::ZERO
            } else {
                S(3) * (i as u32 - 19)
            };
            assert_eq!(*t, expected, "call {i}");
        }
        // Slots are granted in arrival order.
        assert_eq!(granted, sorted);
    }

    #[tokio::test(start_paused = true)]
    async fn methods_and_tokens_have_their_own_budgets() {
        let pacer = Pacer::new(exact());
        let a = Token::new("xoxp-a");
        let b = Token::new("xoxp-b");
        sequential(&pacer, &a, "m", 20).await;
        let start = Instant::now();
        pacer.acquire(&a, "other", T2).await;
        pacer.acquire(&b, "m", T2).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        pacer.acquire(&a, "m", T2).await;
        assert_eq!(start.elapsed(), S(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_that_method_only_and_restarts_empty() {
        let pacer = Pacer::new(exact());
        let token = Token::new("xoxp-a");
        pacer.pause(&token, "m", T2, S(30));
        let start = Instant::now();
        pacer.acquire(&token, "other", T2).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        let times = sequential(&pacer, &token, "m", 3).await;
        assert_eq!(times, vec![S(30), S(33), S(36)]);
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_inside_a_later_pause_wait_for_its_end() {
        let pacer = Arc::new(Pacer::new(exact()));
        let token = Token::new("xoxp-a");
        sequential(&pacer, &token, "m", 20).await; // budget spent: next slots at 3, 6, 9 s
        let start = Instant::now();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let pacer = Arc::clone(&pacer);
                let token = token.clone();
                tokio::spawn(async move {
                    pacer.acquire(&token, "m", T2).await;
                    start.elapsed()
                })
            })
            .collect();
        tokio::time::sleep(S(1)).await;
        // A 429 arrives at 1 s with Retry-After 10 s: nobody may go before 11 s. The slots the
        // waiters held (3, 6, 9 s) still count, so the budget's next free slot is 12 s.
        pacer.pause(&token, "m", T2, S(10));
        let mut times = Vec::new();
        for w in waiters {
            times.push(w.await.unwrap());
        }
        times.sort();
        assert_eq!(times, vec![S(12), S(15), S(18)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_shorter_than_the_queue_keeps_later_slots() {
        let pacer = Pacer::new(exact());
        let token = Token::new("xoxp-a");
        sequential(&pacer, &token, "m", 20).await;
        pacer.pause(&token, "m", T2, S(1));
        let times = sequential(&pacer, &token, "m", 2).await;
        assert_eq!(times, vec![S(3), S(6)]);
    }

    #[tokio::test(start_paused = true)]
    async fn off_never_waits() {
        let pacer = Pacer::new(Pacing::off());
        let token = Token::new("xoxp-a");
        pacer.pause(&token, "m", T2, S(30));
        let times = sequential(&pacer, &token, "m", 100).await;
        assert!(times.iter().all(|t| *t == Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_buckets_are_pruned() {
        let pacer = Pacer::new(exact());
        for i in 0..(PRUNE_ABOVE + 10) {
            pacer
                .acquire(&Token::new(format!("xoxp-{i}")), "m", T2)
                .await;
        }
        tokio::time::sleep(S(120)).await;
        pacer.acquire(&Token::new("xoxp-new"), "m", T2).await;
        assert!(pacer.lock().len() <= 2, "{}", pacer.lock().len());
    }
}
