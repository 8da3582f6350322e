//! When to try a call again: plain data ([`RetryPolicy`]) and one pure function
//! ([`RetryPolicy::decide`]), so that every rule is unit-tested without a network.
//!
//! # Defaults
//!
//! | what happened | decision |
//! |---|---|
//! | HTTP 429 / `ratelimited` | wait `Retry-After` (1 s when absent) plus up to 1 s of jitter, then retry; or give up at once with [`RetryPolicy::wait_on_rate_limit`]` = false` |
//! | could not connect (never sent) | back off exponentially with jitter, retry: always safe |
//! | sent, no usable answer (timeout, reset, empty, non-JSON or truncated body) | back off, retry only if a repeat of the method is harmless ([`repeat_is_harmless`]) |
//! | HTTP 5xx | back off (at least the server's `Retry-After`), retry as above |
//! | `internal_error`, `service_unavailable`, `request_timeout` | back off, retry as above |
//! | any other `ok:false`, any other HTTP status, a decode error | give up |
//!
//! Backoff: `base · 2^(attempt−1)`, capped at `max_backoff`, with "equal jitter" (half fixed,
//! half random). Every retry also respects [`RetryPolicy::max_attempts`] (5) and the total time
//! budget [`RetryPolicy::total_budget`] (2 minutes, counted from the first attempt's send): a
//! retry whose delay would end past the budget is not made. The budget bounds the retry delays;
//! it does not bound waiting for the pacer, which only spreads calls over Slack's budget (a
//! retried call takes the next free slot of its method, behind calls already waiting).
//!
//! # Which writes are retried
//!
//! A write whose outcome is unknown (the request was sent but no usable answer came back) is
//! retried only when repeating it cannot do harm. For the five session writes this holds,
//! because each one sets a state rather than changing it by a step:
//!
//! - `admin.users.session.reset` wipes a user's sessions: wiping them again leaves the same
//!   state. (The only difference: a session the user started between the two attempts is wiped
//!   too, which is what a reset is for.)
//! - `admin.users.session.resetBulk` queues a job that wipes the users' sessions: a second job
//!   does the same as the first.
//! - `admin.users.session.invalidate` revokes one session: revoking it again leaves it revoked.
//!   The repeat may answer `session_not_found` because the first attempt already revoked it;
//!   the error then reports [`crate::CallInfo::earlier_attempt_may_have_applied`].
//! - `admin.users.session.setSettings` writes absolute values (a duration, a flag): writing them
//!   again changes nothing.
//! - `admin.users.session.clearSettings` removes the settings: removing them again changes
//!   nothing.
//!
//! Any other write (a method added later to the catalogue) is not retried after an unknown
//! outcome unless it is added to [`repeat_is_harmless`]. A request that was **not sent** is
//! always safe to retry, and a 429 means Slack refused the call without acting on it.

use std::time::Duration;

use slack_sessions_api::{ErrorCode, MethodInfo};

/// What one attempt of a call came to, as far as retrying is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The request was not sent: a connection could not be made. Always safe to repeat.
    ConnectFailed,
    /// The request was sent but no usable answer came back (timeout, connection lost,
    /// empty, non-JSON or truncated body). It may have been applied.
    NoAnswer,
    /// An HTTP status other than 200 and 429, with the server's `Retry-After` if any.
    Http {
        /// The HTTP status code.
        status: u16,
        /// The `Retry-After` header, if the server sent one.
        retry_after: Option<Duration>,
    },
    /// Rate limited (HTTP 429 or `ratelimited`), with the `Retry-After` header if any.
    RateLimited {
        /// The `Retry-After` header, if the server sent one.
        retry_after: Option<Duration>,
    },
    /// Slack answered `ok:false` with this code.
    Slack(ErrorCode),
    /// Anything that a repeat cannot fix: an answer that did not decode, a request that could
    /// not be built.
    Permanent,
}

/// What to do after an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Try again after this long.
    RetryAfter(Duration),
    /// Stop and return the error.
    GiveUp(GiveUp),
}

/// Why [`RetryPolicy::decide`] gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GiveUp {
    /// The outcome is not one a repeat can fix.
    NotRetryable,
    /// The call was rate limited and the policy returns 429 at once.
    RateLimitNotAwaited,
    /// The request may have been applied and repeating this method is not harmless.
    UnsafeToRepeat,
    /// [`RetryPolicy::max_attempts`] attempts were made.
    AttemptsExhausted,
    /// The next attempt would start after [`RetryPolicy::total_budget`].
    BudgetExhausted,
    /// The next attempt would start after the deadline of the bulk run the call belongs to
    /// ([`Bulk::deadline`](crate::batch::Bulk::deadline)).
    Deadline,
}

/// Whether a second attempt of `method` can do no harm even if the first one was applied:
/// the method's declared [`Method::IDEMPOTENT`](slack_sessions_api::Method::IDEMPOTENT) (true
/// for every read and for the five session writes, see the [module docs](self) for the
/// reasoning per method).
pub fn repeat_is_harmless(method: &MethodInfo) -> bool {
    method.idempotent
}

/// Whether an `ok:false` answer with `code` leaves open that the call was applied, in whole
/// or in part. Conservative: unknown codes count as "may have been applied".
pub fn code_may_have_applied(code: &ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::FatalError
            | ErrorCode::InternalError
            | ErrorCode::ServiceUnavailable
            | ErrorCode::FailedForSomeUsers
            | ErrorCode::UnableToUpdateExistingSessions
            | ErrorCode::Other(_)
    )
}

/// Retry rules as plain data. See the [module docs](self) for the defaults.
///
/// ```
/// use std::time::Duration;
/// use slack_sessions_client::RetryPolicy;
///
/// // An interactive tool: a few quick tries, and a 429 straight back to the user.
/// let policy = RetryPolicy::default()
///     .max_attempts(3)
///     .total_budget(Duration::from_secs(10))
///     .wait_on_rate_limit(false);
/// assert_eq!(policy.max_attempts, 3);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// No retry is scheduled to start later than this after the first attempt was sent
    /// (waits for the pacer come on top; see the [module docs](self)).
    pub total_budget: Duration,
    /// The first backoff delay (before jitter).
    pub base_backoff: Duration,
    /// The longest backoff delay (before jitter).
    pub max_backoff: Duration,
    /// Wait for `Retry-After` and retry on 429; false returns the 429 at once.
    ///
    /// The `Retry-After` still pauses the method in the pacer, so with pacing on, the next call
    /// of that method waits for the pause instead of meeting another 429. Turn pacing off too
    /// ([`Pacing::off`](crate::Pacing::off)) for calls that must never wait.
    pub wait_on_rate_limit: bool,
    /// The wait when a 429 carries no usable `Retry-After`.
    pub default_retry_after: Duration,
    /// The most random time added to a `Retry-After`, so that waiting callers do not all come
    /// back in the same instant.
    pub rate_limit_jitter: Duration,
    /// Retry writes after an unknown outcome when [`repeat_is_harmless`] says so; false never
    /// repeats a write that may have been applied.
    pub retry_ambiguous_writes: bool,
    /// The `ok:false` codes worth another attempt.
    pub retryable_codes: Vec<ErrorCode>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            total_budget: Duration::from_secs(120),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            wait_on_rate_limit: true,
            default_retry_after: Duration::from_secs(1),
            rate_limit_jitter: Duration::from_secs(1),
            retry_ambiguous_writes: true,
            retryable_codes: vec![
                ErrorCode::InternalError,
                ErrorCode::ServiceUnavailable,
                ErrorCode::RequestTimeout,
            ],
        }
    }
}

impl RetryPolicy {
    /// Never retry: every error is returned as it happens.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets [`Self::max_attempts`] (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets [`Self::total_budget`].
    pub fn total_budget(mut self, budget: Duration) -> Self {
        self.total_budget = budget;
        self
    }

    /// Sets the first and the longest backoff delay.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_backoff = base;
        self.max_backoff = max.max(base);
        self
    }

    /// Sets [`Self::wait_on_rate_limit`].
    pub fn wait_on_rate_limit(mut self, wait: bool) -> Self {
        self.wait_on_rate_limit = wait;
        self
    }

    /// Sets [`Self::rate_limit_jitter`].
    pub fn rate_limit_jitter(mut self, jitter: Duration) -> Self {
        self.rate_limit_jitter = jitter;
        self
    }

    /// Sets [`Self::retry_ambiguous_writes`].
    pub fn retry_ambiguous_writes(mut self, retry: bool) -> Self {
        self.retry_ambiguous_writes = retry;
        self
    }

    /// Also retries `ok:false` answers with `code`.
    pub fn retry_on(mut self, code: ErrorCode) -> Self {
        if !self.retryable_codes.contains(&code) {
            self.retryable_codes.push(code);
        }
        self
    }

    /// The backoff before attempt `attempt + 1`, for a `jitter` in `[0, 1)`.
    pub fn backoff_delay(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let full = self
            .base_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(clamp_unit(jitter))
    }

    /// The decision after attempt number `attempt` (1 for the first) of `method` ended in
    /// `outcome`, `elapsed` after the first attempt was sent.
    ///
    /// `jitter` is a number in `[0, 1)` supplied by the caller (the client draws it at random;
    /// tests pass fixed values), so the function itself is deterministic.
    ///
    /// ```
    /// use std::time::Duration;
    /// use slack_sessions_client::api::{MethodInfo, methods::Reset};
    /// use slack_sessions_client::retry::{Decision, Outcome, RetryPolicy};
    ///
    /// let policy = RetryPolicy::default();
    /// let limited = Outcome::RateLimited { retry_after: Some(Duration::from_secs(30)) };
    /// let decision = policy.decide(&MethodInfo::of::<Reset>(), 1, &limited, Duration::ZERO, 0.0);
    /// assert_eq!(decision, Decision::RetryAfter(Duration::from_secs(30)));
    /// ```
    pub fn decide(
        &self,
        method: &MethodInfo,
        attempt: u32,
        outcome: &Outcome,
        elapsed: Duration,
        jitter: f64,
    ) -> Decision {
        let backoff = || self.backoff_delay(attempt, jitter);
        let (delay, may_have_applied) = match outcome {
            Outcome::RateLimited { retry_after } => {
                if !self.wait_on_rate_limit {
                    return Decision::GiveUp(GiveUp::RateLimitNotAwaited);
                }
                let wait = retry_after.unwrap_or(self.default_retry_after);
                (
                    wait + self.rate_limit_jitter.mul_f64(clamp_unit(jitter)),
                    false,
                )
            }
            Outcome::ConnectFailed => (backoff(), false),
            Outcome::NoAnswer => (backoff(), true),
            Outcome::Http {
                status,
                retry_after,
            } if *status >= 500 => (backoff().max(retry_after.unwrap_or_default()), true),
            Outcome::Slack(code) if self.retryable_codes.contains(code) => {
                (backoff(), code_may_have_applied(code))
            }
            Outcome::Http { .. } | Outcome::Slack(_) | Outcome::Permanent => {
                return Decision::GiveUp(GiveUp::NotRetryable);
            }
        };
        if may_have_applied
            && method.writes
            && !(self.retry_ambiguous_writes && repeat_is_harmless(method))
        {
            return Decision::GiveUp(GiveUp::UnsafeToRepeat);
        }
        if attempt >= self.max_attempts {
            return Decision::GiveUp(GiveUp::AttemptsExhausted);
        }
        if elapsed.saturating_add(delay) > self.total_budget {
            return Decision::GiveUp(GiveUp::BudgetExhausted);
        }
        Decision::RetryAfter(delay)
    }
}

fn clamp_unit(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_sessions_api::methods::{self, Empty};
    use slack_sessions_api::{CATALOGUE, Method, Scope, Tier};

    /// A write this version knows nothing about.
    struct UnknownWrite;
    impl Method for UnknownWrite {
        const NAME: &'static str = "admin.users.session.someNewWrite";
        const SCOPE: Option<Scope> = None;
        const TIER: Tier = Tier::Tier2;
        const ADMIN: bool = true;
        const WRITES: bool = true;
        const IDEMPOTENT: bool = false;
        type Args = Empty;
        type Response = Empty;
    }

    fn reset() -> MethodInfo {
        MethodInfo::of::<methods::Reset>()
    }
    fn list() -> MethodInfo {
        MethodInfo::of::<methods::List>()
    }
    fn unknown_write() -> MethodInfo {
        MethodInfo::of::<UnknownWrite>()
    }
    const S: fn(u64) -> Duration = Duration::from_secs;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn rate_limit_waits_retry_after_plus_jitter() {
        let p = RetryPolicy::default();
        let o = Outcome::RateLimited {
            retry_after: Some(S(30)),
        };
        assert_eq!(
            p.decide(&reset(), 1, &o, S(0), 0.0),
            Decision::RetryAfter(S(30))
        );
        assert_eq!(
            p.decide(&reset(), 1, &o, S(0), 0.5),
            Decision::RetryAfter(MS(30_500))
        );
        // Jitter is bounded by rate_limit_jitter, even for out-of-range inputs.
        assert_eq!(
            p.decide(&reset(), 1, &o, S(0), 7.0),
            Decision::RetryAfter(S(31))
        );
        assert_eq!(
            p.decide(&reset(), 1, &o, S(0), f64::NAN),
            Decision::RetryAfter(S(30))
        );
    }

    #[test]
    fn rate_limit_without_header_waits_the_default() {
        let p = RetryPolicy::default();
        let o = Outcome::RateLimited { retry_after: None };
        assert_eq!(
            p.decide(&list(), 1, &o, S(0), 0.0),
            Decision::RetryAfter(S(1))
        );
    }

    #[test]
    fn rate_limit_can_be_returned_at_once() {
        let p = RetryPolicy::default().wait_on_rate_limit(false);
        let o = Outcome::RateLimited {
            retry_after: Some(S(1)),
        };
        assert_eq!(
            p.decide(&list(), 1, &o, S(0), 0.0),
            Decision::GiveUp(GiveUp::RateLimitNotAwaited)
        );
    }

    #[test]
    fn rate_limit_is_safe_for_any_write() {
        // A 429 means Slack did not act, so even an unknown write waits and retries.
        let p = RetryPolicy::default();
        let o = Outcome::RateLimited {
            retry_after: Some(S(2)),
        };
        assert_eq!(
            p.decide(&unknown_write(), 1, &o, S(0), 0.0),
            Decision::RetryAfter(S(2))
        );
    }

    #[test]
    fn backoff_is_exponential_capped_and_jittered() {
        let p = RetryPolicy::default().backoff(MS(100), MS(1000));
        // jitter 0 gives the fixed half, jitter →1 the full delay.
        assert_eq!(p.backoff_delay(1, 0.0), MS(50));
        assert_eq!(p.backoff_delay(1, 1.0), MS(100));
        assert_eq!(p.backoff_delay(2, 0.0), MS(100));
        assert_eq!(p.backoff_delay(3, 0.0), MS(200));
        assert_eq!(p.backoff_delay(4, 0.5), MS(600));
        assert_eq!(p.backoff_delay(5, 1.0), MS(1000));
        assert_eq!(p.backoff_delay(50, 1.0), MS(1000));
        for attempt in 1..40 {
            for jitter in [0.0, 0.3, 0.999] {
                let d = p.backoff_delay(attempt, jitter);
                assert!(d <= MS(1000) && d >= MS(50), "{attempt} {jitter} {d:?}");
            }
        }
    }

    #[test]
    fn connection_failures_retry_even_unknown_writes() {
        let p = RetryPolicy::default();
        let d = p.decide(&unknown_write(), 1, &Outcome::ConnectFailed, S(0), 0.0);
        assert_eq!(d, Decision::RetryAfter(MS(250)));
    }

    #[test]
    fn unknown_outcomes_retry_reads_and_harmless_writes_only() {
        let p = RetryPolicy::default();
        for o in [
            Outcome::NoAnswer,
            Outcome::Http {
                status: 503,
                retry_after: None,
            },
            Outcome::Slack(ErrorCode::InternalError),
        ] {
            assert!(
                matches!(p.decide(&list(), 1, &o, S(0), 0.0), Decision::RetryAfter(_)),
                "{o:?}"
            );
            assert!(
                matches!(
                    p.decide(&reset(), 1, &o, S(0), 0.0),
                    Decision::RetryAfter(_)
                ),
                "{o:?}"
            );
            assert_eq!(
                p.decide(&unknown_write(), 1, &o, S(0), 0.0),
                Decision::GiveUp(GiveUp::UnsafeToRepeat),
                "{o:?}"
            );
            let strict = RetryPolicy::default().retry_ambiguous_writes(false);
            assert_eq!(
                strict.decide(&reset(), 1, &o, S(0), 0.0),
                Decision::GiveUp(GiveUp::UnsafeToRepeat),
                "{o:?}"
            );
            assert!(matches!(
                strict.decide(&list(), 1, &o, S(0), 0.0),
                Decision::RetryAfter(_)
            ));
        }
    }

    #[test]
    fn request_timeout_code_is_safe_to_repeat() {
        // Slack says the POST data was missing or truncated: it did not act.
        let p = RetryPolicy::default();
        let o = Outcome::Slack(ErrorCode::RequestTimeout);
        assert!(matches!(
            p.decide(&unknown_write(), 1, &o, S(0), 0.0),
            Decision::RetryAfter(_)
        ));
    }

    #[test]
    fn server_retry_after_on_5xx_is_respected() {
        let p = RetryPolicy::default();
        let o = Outcome::Http {
            status: 503,
            retry_after: Some(S(7)),
        };
        assert_eq!(
            p.decide(&list(), 1, &o, S(0), 0.0),
            Decision::RetryAfter(S(7))
        );
    }

    #[test]
    fn permanent_outcomes_give_up() {
        let p = RetryPolicy::default();
        for o in [
            Outcome::Slack(ErrorCode::InvalidAuth),
            Outcome::Slack(ErrorCode::MissingScope),
            Outcome::Slack(ErrorCode::UserNotFound),
            Outcome::Slack(ErrorCode::FatalError),
            Outcome::Slack(ErrorCode::Other("brand_new".into())),
            Outcome::Http {
                status: 404,
                retry_after: None,
            },
            Outcome::Http {
                status: 400,
                retry_after: Some(S(1)),
            },
            Outcome::Permanent,
        ] {
            assert_eq!(
                p.decide(&list(), 1, &o, S(0), 0.0),
                Decision::GiveUp(GiveUp::NotRetryable),
                "{o:?}"
            );
        }
    }

    #[test]
    fn extra_codes_can_be_made_retryable() {
        let p = RetryPolicy::default().retry_on(ErrorCode::TeamAddedToOrg);
        let o = Outcome::Slack(ErrorCode::TeamAddedToOrg);
        assert!(matches!(
            p.decide(&list(), 1, &o, S(0), 0.0),
            Decision::RetryAfter(_)
        ));
    }

    #[test]
    fn attempts_are_capped() {
        let p = RetryPolicy::default().max_attempts(3);
        let o = Outcome::ConnectFailed;
        assert!(matches!(
            p.decide(&list(), 2, &o, S(0), 0.0),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            p.decide(&list(), 3, &o, S(0), 0.0),
            Decision::GiveUp(GiveUp::AttemptsExhausted)
        );
        assert_eq!(
            RetryPolicy::never().decide(&list(), 1, &o, S(0), 0.0),
            Decision::GiveUp(GiveUp::AttemptsExhausted)
        );
        let limited = Outcome::RateLimited {
            retry_after: Some(S(1)),
        };
        assert_eq!(
            p.decide(&list(), 3, &limited, S(0), 0.0),
            Decision::GiveUp(GiveUp::AttemptsExhausted)
        );
    }

    #[test]
    fn the_time_budget_is_capped() {
        let p = RetryPolicy::default().total_budget(S(60));
        let o = Outcome::RateLimited {
            retry_after: Some(S(30)),
        };
        assert_eq!(
            p.decide(&list(), 1, &o, S(30), 0.0),
            Decision::RetryAfter(S(30))
        );
        assert_eq!(
            p.decide(&list(), 1, &o, S(31), 0.0),
            Decision::GiveUp(GiveUp::BudgetExhausted)
        );
        // A Retry-After longer than the whole budget is returned at once.
        let long = Outcome::RateLimited {
            retry_after: Some(S(600)),
        };
        assert_eq!(
            p.decide(&list(), 1, &long, S(0), 0.0),
            Decision::GiveUp(GiveUp::BudgetExhausted)
        );
    }

    #[test]
    fn every_catalogue_method_is_classified() {
        for m in CATALOGUE {
            assert!(
                repeat_is_harmless(m),
                "{} is in the catalogue but not reasoned about in repeat_is_harmless",
                m.name
            );
        }
        assert!(!repeat_is_harmless(&unknown_write()));
    }

    #[test]
    fn may_have_applied_codes() {
        assert!(code_may_have_applied(&ErrorCode::FatalError));
        assert!(code_may_have_applied(&ErrorCode::FailedForSomeUsers));
        assert!(code_may_have_applied(&ErrorCode::Other("x".into())));
        assert!(!code_may_have_applied(&ErrorCode::InvalidAuth));
        assert!(!code_may_have_applied(&ErrorCode::RequestTimeout));
        assert!(!code_may_have_applied(&ErrorCode::Ratelimited));
    }
}
