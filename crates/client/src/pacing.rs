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
//! # After a 429
//!
//! When a call is rate limited anyway, its `Retry-After` pauses that (token, method) only:
//! calls waiting for a slot inside the pause wait for its end, other methods go on. The budget
//! then restarts **empty**: a 429 means Slack's own bucket for the method is empty, and it
//! refills at the tier's rate, so after the pause calls leave one per interval (tier 2: about
//! 3.3 s) until the bucket has refilled, about a window (a minute) later. That is what keeps a
//! program from meeting 429 after 429, and it is why one 429 slows a method down for a while.
//!
//! # Seeing and bounding the waits
//!
//! - [`Client::pacing_state`](crate::Client::pacing_state) (`client.pacing_state::<List>()`)
//!   shows a method's budget: the calls
//!   that may leave now, the wait of the next one, a `Retry-After` pause, the 429s met.
//! - [`Response::paced`](crate::Response::paced) and
//!   [`CallInfo::paced`](crate::CallInfo::paced) say how long a call waited for the pacer.
//! - [`Pacing::max_wait`] bounds one wait: a call whose slot is further away fails at once with
//!   [`NotSentReason::PacingWait`](crate::NotSentReason::PacingWait) instead of waiting. That
//!   suits an interactive tool's single calls; a bulk run is bounded with
//!   [`Bulk::deadline`](crate::batch::Bulk::deadline) instead (with `max_wait`, its first
//!   call that would wait ends it).
//! - The first long wait of a method is logged at info level, and a 429 met although the
//!   pacing had budget left (the pacing does not match the server) at warn level.
//! - Pacer waits are **outside** the retry budget ([`RetryPolicy::total_budget`](crate::RetryPolicy::total_budget)
//!   bounds retry delays and attempts, not time spent queueing for the rate limit); bound
//!   them with `max_wait`, or a bulk run's with its deadline.
//!
//! # Against the emulator
//!
//! [`Pacing::matching`] paces to the emulator's [`RateLimits`], the value the emulator is
//! started with, so that the two cannot disagree.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slack_sessions_api::{RateLimits, Tier};
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
///
/// // The same value the emulator is started with:
/// use slack_sessions_client::api::RateLimits;
/// assert_eq!(Pacing::matching(RateLimits::Scale(10)), Pacing::scaled(10.0));
/// assert_eq!(Pacing::matching(RateLimits::Off), Pacing::off());
///
/// // An interactive tool: fail fast rather than queue for the budget.
/// let quick = Pacing::slack().max_wait(std::time::Duration::from_secs(5));
/// assert_eq!(quick.max_wait, Some(std::time::Duration::from_secs(5)));
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
    /// The longest a call waits for its slot; a call that would wait longer fails at once with
    /// [`NotSentReason::PacingWait`](crate::NotSentReason::PacingWait). `None` (the default):
    /// calls wait as long as the budget requires, as a bulk run wants. It bounds each call,
    /// not a run: to bound a bulk run, use [`Bulk::deadline`](crate::batch::Bulk::deadline).
    pub max_wait: Option<Duration>,
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
            max_wait: None,
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

    /// The pacing that fits a server applying `limits`: [`Pacing::slack`] for
    /// [`RateLimits::Slack`], [`Pacing::off`] for [`RateLimits::Off`], and
    /// [`Pacing::scaled`]`(n)` for [`RateLimits::Scale`]`(n)`. Give it the value the emulator
    /// is started with, so that the two sides cannot disagree.
    pub fn matching(limits: RateLimits) -> Self {
        match limits {
            RateLimits::Off => Pacing::off(),
            RateLimits::Scale(n) => Pacing::scaled(f64::from(n)),
            _ => Pacing::slack(),
        }
    }

    /// Sets [`Self::max_wait`].
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = Some(max_wait);
        self
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

impl From<RateLimits> for Pacing {
    fn from(limits: RateLimits) -> Self {
        Pacing::matching(limits)
    }
}

/// Where one method's budget stands for one token; from
/// [`Client::pacing_state`](crate::Client::pacing_state).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PacingState {
    /// Whether calls are paced at all.
    pub enabled: bool,
    /// The calls that may leave at once when the budget is full.
    pub burst: u32,
    /// The time between two calls once the burst is spent.
    pub interval: Duration,
    /// The calls that may leave now without waiting.
    pub available: u32,
    /// How long a call made now would wait for its slot.
    pub next_call_wait: Duration,
    /// What is left of a `Retry-After` pause, if one is running.
    pub paused_for: Option<Duration>,
    /// The rate limits (429) this method met with this token.
    pub rate_limited: u32,
}

#[derive(Debug)]
struct Bucket {
    /// Theoretical arrival time (GCRA): the bucket is full when `tat <= now`.
    tat: Instant,
    /// The end of the latest `Retry-After` pause.
    paused_until: Option<Instant>,
    /// 429s met.
    rate_limited: u32,
    /// A long wait was logged at info level already.
    told_wait: bool,
}

impl Bucket {
    fn new(now: Instant) -> Self {
        Bucket {
            tat: now,
            paused_until: None,
            rate_limited: 0,
            told_wait: false,
        }
    }
}

/// A wait from which the first one of a method is logged at info level.
const LONG_WAIT: Duration = Duration::from_secs(1);

type Key = (Token, &'static str);

/// A method name that is not in the catalogue
/// ([`Client::pacing_state_by_name`](crate::Client::pacing_state_by_name)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown method `{0}`: not one this client calls (see slack_sessions_client::methods)")]
pub struct UnknownMethod(pub String);

/// Why the pacer let a call go without a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The wait would exceed [`Pacing::max_wait`].
    MaxWait(Duration),
    /// The slot comes after the deadline of the call's bulk run.
    Deadline(Duration),
}

/// The shared pacing state of a client and its clones.
#[derive(Debug)]
pub(crate) struct Pacer {
    pacing: Pacing,
    buckets: Mutex<HashMap<Key, Bucket>>,
    /// Set once a server said it applies other limits than the pacing assumes.
    mismatch_warned: std::sync::atomic::AtomicBool,
}

/// Buckets idle for this long are forgotten once the map grows past `PRUNE_ABOVE` entries.
const PRUNE_ABOVE: usize = 1024;

impl Pacer {
    pub(crate) fn new(pacing: Pacing) -> Arc<Self> {
        Arc::new(Pacer {
            pacing,
            buckets: Mutex::new(HashMap::new()),
            mismatch_warned: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Compares the limits a server says it applies (the emulator's
    /// `x-slack-sessions-rate-limits` header; Slack sends none) with the pacing, and warns once
    /// per client when they differ: a client paced for Slack against an emulator scaled 60
    /// times runs 60 times slower than it could, and one paced faster meets 429s.
    pub(crate) fn observe_server_limits(&self, header: &str) {
        let Ok(limits) = header.parse::<RateLimits>() else {
            return;
        };
        let fits = Pacing::matching(limits);
        let same = self.pacing.enabled == fits.enabled
            && (!fits.enabled || self.pacing.window == fits.window);
        if same
            || self
                .mismatch_warned
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        tracing::warn!(
            server = header,
            pacing_window_ms = self.pacing.window.as_millis() as u64,
            pacing_enabled = self.pacing.enabled,
            "the server applies other rate limits than the client paces for: use \
             Pacing::matching(RateLimits::{limits:?}) (the CLI: --pacing {header})"
        );
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

    /// Takes a slot for the next call, returning when it is due with how long it waited; or,
    /// without taking one, why not: the wait would exceed [`Pacing::max_wait`], or end after
    /// `deadline`.
    pub(crate) async fn acquire(
        &self,
        token: &Token,
        method: &'static str,
        tier: Tier,
        deadline: Option<Instant>,
    ) -> Result<Duration, Refused> {
        let started = Instant::now();
        if deadline.is_some_and(|d| started >= d) {
            return Err(Refused::Deadline(Duration::ZERO));
        }
        if !self.pacing.enabled {
            return Ok(Duration::ZERO);
        }
        let (interval, tolerance) = self.params(tier);
        loop {
            let (at, tell) = {
                let mut map = self.lock();
                let now = Instant::now();
                if map.len() > PRUNE_ABOVE {
                    map.retain(|_, b| b.tat > now || b.paused_until.is_some_and(|p| p > now));
                }
                let bucket = map
                    .entry((token.clone(), method))
                    .or_insert_with(|| Bucket::new(now));
                let tat = bucket.tat.max(now);
                let mut at = tat.checked_sub(tolerance).unwrap_or(now).max(now);
                if let Some(paused) = bucket.paused_until {
                    at = at.max(paused);
                }
                let wait = at.saturating_duration_since(started);
                if self.pacing.max_wait.is_some_and(|max| wait > max) {
                    return Err(Refused::MaxWait(wait));
                }
                if deadline.is_some_and(|d| at > d) {
                    return Err(Refused::Deadline(wait));
                }
                bucket.tat = tat.max(at) + interval;
                let tell = wait >= LONG_WAIT && !bucket.told_wait;
                bucket.told_wait |= tell;
                (at, tell.then_some(wait))
            };
            if let Some(wait) = tell {
                tracing::info!(
                    method,
                    wait_ms = wait.as_millis() as u64,
                    burst = self.pacing.burst(tier),
                    window_ms = self.pacing.window.as_millis() as u64,
                    "pacing holds this call for the method's rate-limit budget (see \
                     Client::pacing_state; bound it with Pacing::max_wait; against an emulator \
                     with scaled limits, use Pacing::matching)"
                );
            }
            tokio::time::sleep_until(at).await;
            // A pause that began after the slot was taken and covers it sends us to the back.
            let still_valid = {
                let map = self.lock();
                map.get(&(token.clone(), method))
                    .and_then(|b| b.paused_until)
                    .is_none_or(|paused| at >= paused)
            };
            if still_valid {
                return Ok(started.elapsed());
            }
        }
    }

    /// Where the budget of `method` stands for `token`.
    pub(crate) fn state(&self, token: &Token, method: &'static str, tier: Tier) -> PacingState {
        let (interval, tolerance) = self.params(tier);
        let burst = self.pacing.burst(tier);
        let mut state = PacingState {
            enabled: self.pacing.enabled,
            burst,
            interval,
            available: burst,
            next_call_wait: Duration::ZERO,
            paused_for: None,
            rate_limited: 0,
        };
        if !self.pacing.enabled {
            return state;
        }
        let map = self.lock();
        let Some(bucket) = map.get(&(token.clone(), method)) else {
            return state;
        };
        let now = Instant::now();
        let tat = bucket.tat.max(now);
        let mut at = tat.checked_sub(tolerance).unwrap_or(now).max(now);
        state.rate_limited = bucket.rate_limited;
        if let Some(paused) = bucket.paused_until.filter(|p| *p > now) {
            state.paused_for = Some(paused - now);
            at = at.max(paused);
        }
        state.next_call_wait = at - now;
        state.available = if at > now {
            0
        } else {
            let slack = (now + tolerance).saturating_duration_since(tat);
            let n = slack.as_nanos() / interval.as_nanos().max(1) + 1;
            u32::try_from(n).unwrap_or(u32::MAX).min(burst)
        };
        state
    }

    /// Pauses `method` for `token` until `wait` from now (a `Retry-After`): slots inside the pause
    /// are not used, and the budget restarts empty at its end (see the [module docs](self)).
    pub(crate) fn pause(&self, token: &Token, method: &'static str, tier: Tier, wait: Duration) {
        if !self.pacing.enabled {
            return;
        }
        let (_, tolerance) = self.params(tier);
        let first = {
            let mut map = self.lock();
            let now = Instant::now();
            let until = now + wait;
            let bucket = map
                .entry((token.clone(), method))
                .or_insert_with(|| Bucket::new(now));
            bucket.paused_until = Some(bucket.paused_until.map_or(until, |p| p.max(until)));
            bucket.tat = bucket.tat.max(until + tolerance);
            bucket.rate_limited += 1;
            bucket.rate_limited == 1
        };
        let burst = self.pacing.burst(tier);
        let window_ms = self.pacing.window.as_millis() as u64;
        let retry_after_ms = wait.as_millis() as u64;
        if first {
            tracing::warn!(
                method,
                retry_after_ms,
                burst,
                window_ms,
                "rate limited although paced: the server allows fewer calls than the pacing \
                 assumes (another program spending the same budget, or a pacing that does not \
                 match the server: against an emulator started with RateLimits::Scale(n), use \
                 Pacing::matching)"
            );
        } else {
            tracing::debug!(method, retry_after_ms, "rate limited; method paused");
        }
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
            pacer.acquire(token, method, T2, None).await.unwrap();
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
            pacer.acquire(&token, "m", T2, None).await.unwrap();
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
        pacer.acquire(&a, "other", T2, None).await.unwrap();
        pacer.acquire(&b, "m", T2, None).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        pacer.acquire(&a, "m", T2, None).await.unwrap();
        assert_eq!(start.elapsed(), S(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_that_method_only_and_restarts_empty() {
        let pacer = Pacer::new(exact());
        let token = Token::new("xoxp-a");
        pacer.pause(&token, "m", T2, S(30));
        let start = Instant::now();
        pacer.acquire(&token, "other", T2, None).await.unwrap();
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
                    pacer.acquire(&token, "m", T2, None).await.unwrap();
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
                .acquire(&Token::new(format!("xoxp-{i}")), "m", T2, None)
                .await
                .unwrap();
        }
        tokio::time::sleep(S(120)).await;
        pacer
            .acquire(&Token::new("xoxp-new"), "m", T2, None)
            .await
            .unwrap();
        assert!(pacer.lock().len() <= 2, "{}", pacer.lock().len());
    }

    #[tokio::test(start_paused = true)]
    async fn the_state_shows_the_budget_a_pause_and_the_429s() {
        let pacer = Pacer::new(exact());
        let token = Token::new("xoxp-a");
        let fresh = pacer.state(&token, "m", T2);
        assert_eq!((fresh.available, fresh.burst), (20, 20));
        assert_eq!(fresh.next_call_wait, Duration::ZERO);
        sequential(&pacer, &token, "m", 15).await;
        assert_eq!(pacer.state(&token, "m", T2).available, 5);
        sequential(&pacer, &token, "m", 5).await;
        let spent = pacer.state(&token, "m", T2);
        assert_eq!(spent.available, 0);
        assert_eq!(spent.next_call_wait, S(3));
        tokio::time::sleep(S(6)).await;
        assert_eq!(pacer.state(&token, "m", T2).available, 2);
        pacer.pause(&token, "m", T2, S(10));
        let paused = pacer.state(&token, "m", T2);
        assert_eq!(paused.paused_for, Some(S(10)));
        assert_eq!(paused.available, 0);
        assert_eq!(paused.rate_limited, 1);
        // After the pause the budget restarts empty: one call per interval.
        assert_eq!(paused.next_call_wait, S(10));
        tokio::time::sleep(S(10)).await;
        let after = pacer.state(&token, "m", T2);
        assert_eq!((after.available, after.paused_for), (1, None));
        let off = Pacer::new(Pacing::off()).state(&token, "m", T2);
        assert!(!off.enabled);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_longer_than_max_wait_fails_at_once_without_taking_a_slot() {
        let pacer = Pacer::new(exact().max_wait(S(4)));
        let token = Token::new("xoxp-a");
        sequential(&pacer, &token, "m", 20).await;
        let start = Instant::now();
        // Three calls at once: slots at 3, 6 and 9 s; those past 4 s are refused, at once.
        let results = join_all((0..3).map(|_| pacer.acquire(&token, "m", T2, None))).await;
        let over = Err(Refused::MaxWait(S(6)));
        assert_eq!(results, [Ok(S(3)), over, over]);
        assert_eq!(start.elapsed(), S(3));
        // The refused calls took no slot: the next one is 3 s away again.
        assert_eq!(pacer.state(&token, "m", T2).next_call_wait, S(3));
        assert_eq!(pacer.acquire(&token, "m", T2, None).await, Ok(S(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_after_the_deadline_is_refused_at_once_without_taking_it() {
        let pacer = Pacer::new(exact());
        let token = Token::new("xoxp-a");
        sequential(&pacer, &token, "m", 20).await;
        let start = Instant::now();
        let deadline = Some(start + S(4));
        let results = join_all((0..2).map(|_| pacer.acquire(&token, "m", T2, deadline))).await;
        assert_eq!(results, [Ok(S(3)), Err(Refused::Deadline(S(6)))]);
        assert_eq!(start.elapsed(), S(3));
        assert_eq!(pacer.state(&token, "m", T2).next_call_wait, S(3));
        // Past the deadline nothing leaves, pacing or not.
        tokio::time::advance(S(2)).await;
        let off = Pacer::new(Pacing::off());
        assert_eq!(
            off.acquire(&token, "m", T2, deadline).await,
            Err(Refused::Deadline(S(0)))
        );
    }

    #[test]
    fn matching_follows_the_emulators_modes() {
        assert_eq!(Pacing::matching(RateLimits::Slack), Pacing::slack());
        assert_eq!(Pacing::matching(RateLimits::Off), Pacing::off());
        assert_eq!(Pacing::from(RateLimits::Scale(60)).window, S(1));
    }
}
