//! The listener's run: signals from an identity provider (OpenID Shared Signals, Okta Event
//! Hooks, Global Token Revocation), each journaled and synced *before* it is acknowledged, then
//! acted on by a worker that resolves its subject, applies the guardrails and signs the user
//! out through the engine's write protocol ([`crate::calls`]). A restart resumes what was
//! pending. The HTTP side (verification of tokens, the wire formats) is not here: it lives in
//! the `slack-sessions-listen` crate, which turns requests into [`Signal`]s.
//!
//! # What is kept where
//!
//! - The listener's **journal** ([`state`]; `Plan::journal`) holds every signal from the moment
//!   it is accepted: [`Listener::accept`] writes a batch and syncs it once, before the receiver
//!   answers `202`/`204`. It is never finished: a restart resumes it, whatever the config now
//!   says. Compaction keeps it bounded: pending signals, resets under way, the breaker, and the
//!   keys of the last [`KEEP_KEYS_MS`] (a week).
//! - The **guardrails ledger** ([`crate::guardrails`], keyed by `Plan::key`) holds the
//!   sign-outs of the last hour, whichever run of this listener made them: the hourly cap and
//!   the circuit breaker count from it.
//!
//! # The worker
//!
//! It takes the pending signals in the order they were accepted. A record-only signal is
//! settled `recorded`, one whose subject names no user `unmapped`. A reset looks its address
//! up (cached for [`CACHE_FOR`]): no active user has it → `not_found`; a bot or the primary
//! owner → `refused`, without a call; the token's owner or one of `exempt_users` → `exempt`.
//! Then the guardrails: past `max_actions_per_hour` sign-outs within the hour, resets wait until
//! a slot frees; if one more user signed out within the hour (since the breaker was last
//! resumed) would pass `max_share` of the org's active users, the circuit breaker trips and
//! resets wait until an admin resumes it. Waiting signals stay pending, in the journal;
//! record-only and unmapped ones are settled meanwhile. Then the action goes into the ledger,
//! and the reset goes through the write protocol ([`crate::calls`]): its intent is synced
//! before the call. A reset that took effect settles its signal `reset`, and as `covered` the
//! other pending resets of the same user accepted before it was decided. A Slack error other
//! than a refusal leaves the signal pending; the worker tries again after a pause.
//!
//! # What can be reset twice
//!
//! Nothing is sent again while it may have taken effect: a reset whose answer was lost (a
//! timeout, a cut connection, or a crash between the call and its result, which a restart finds
//! as an intent without a result) is *settled* by listing the user's sessions before anything
//! else is sent. No session left: it took effect, and the signal is settled `reset`. Sessions
//! there: it is taken not to have, and is sent once more. So one signal signs its user out
//! twice only when the first reset's answer was lost **and** the user had sessions again when
//! they were listed: they signed in again in between (the second reset ends those sessions
//! too), or the first reset did not take effect. A key repeated more than [`KEEP_KEYS_MS`]
//! after its signal was accepted is a new signal.

mod resolve;
pub mod state;
mod worker;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use slack_sessions_client::api::Method;
use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::{List, LookupByEmail, Reset, UsersList};
use tokio::sync::Notify;

pub use self::resolve::CACHE_FOR;
use self::resolve::Cache;
pub use self::state::{KEEP_KEYS_MS, Outcome};
use self::state::{Record, State};
use crate::Context;
use crate::error::{Error, Result};
use crate::guardrails::{HOUR_MS, Ledger};
use crate::journal::{Header, RunKind, now_ms};
use crate::journaled::{COMPACT_AFTER, Shared};
use crate::org::Org;

/// Where a signal came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// OpenID Shared Signals push (RFC 8935): a Security Event Token.
    Ssf,
    /// An Okta Event Hook.
    Okta,
    /// Global Token Revocation (draft-parecki-oauth-global-token-revocation).
    Gtr,
}

impl Source {
    /// As written in logs and metrics: `ssf`, `okta`, `gtr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ssf => "ssf",
            Source::Okta => "okta",
            Source::Gtr => "gtr",
        }
    }
}

/// Whom a signal is about, as the receiver could tell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// An email address (an `email` subject, an `iss_sub` mapped to one, Okta's `alternateId`).
    Email {
        /// The address as sent (compared case-insensitively).
        email: String,
    },
    /// A subject no Slack user can be found for (an unmapped `iss_sub`, an `opaque` id, a
    /// format not handled): accepted, recorded and counted, never acted on.
    Unmapped {
        /// What it was, for the log (`iss_sub https://idp/ 00u1…`), control characters shown.
        described: String,
    },
}

/// What a signal asks for, by the config's `[actions]` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Sign the user out of every session (`admin.users.session.reset`).
    Reset,
    /// Record it only.
    Record,
}

/// One signal, as the receiver accepted it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Where it came from.
    pub source: Source,
    /// What makes it the same signal when sent again: `ssf <iss> <jti>`, `okta <uuid>`,
    /// `gtr <iss> <jti>`.
    pub key: String,
    /// Its event, as configured in `[actions]`: a CAEP/RISC/SSF event name
    /// (`session-revoked`, `verification`), an Okta event type (`user.session.clear`), `gtr`.
    pub event: String,
    /// Whom it is about.
    pub subject: Subject,
    /// What it asks for.
    pub action: Action,
    /// When the identity provider says it happened (ms), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ms: Option<u64>,
    /// Until when its key must be remembered at least (a GTR token's `exp`), in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_key_until_ms: Option<u64>,
    /// A word for the log (the admin's reason, a risk level), control characters shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The listener's guardrails (the config's `[guardrails]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Guardrails {
    /// Sign-outs per rolling hour; past it, signals wait (journaled).
    pub max_actions_per_hour: u64,
    /// The circuit breaker: once this share of the org's users was signed out within the hour,
    /// no more sign-outs until an admin resumes.
    pub max_share: f64,
    /// Users never signed out (the token's owner never is either).
    pub exempt_users: Vec<UserId>,
}

impl Default for Guardrails {
    fn default() -> Guardrails {
        Guardrails {
            max_actions_per_hour: 100,
            max_share: 0.2,
            exempt_users: Vec::new(),
        }
    }
}

/// How to run a listener.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Its journal.
    pub journal: PathBuf,
    /// What names this listener in the guardrails ledger (the config file's absolute path).
    pub key: String,
    /// Its guardrails.
    pub guardrails: Guardrails,
    /// Resume a tripped circuit breaker at start.
    pub resume_breaker: bool,
}

/// What came of accepting a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// New: journaled (and synced) under this number.
    New(u64),
    /// Its key was accepted before (under this number): nothing more is done.
    Repeat(u64),
}

/// A user looked up by email, for a caller that must answer before journaling (GTR's 404/422).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A user Slack can sign out.
    User(UserId),
    /// A user Slack refuses to sign out (`primary owner`, `bot`), with the word.
    Refused(UserId, &'static str),
    /// No Slack user has the address (or it is deactivated).
    NotFound,
}

/// What the listener is doing, for `/healthz`, `/metrics` and the log.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// The journal is open and writable.
    pub journal_open: bool,
    /// The token answered `auth.test` at start and the last call did not fail for the token.
    pub token_ok: bool,
    /// Signals accepted and not yet settled.
    pub pending: u64,
    /// The circuit breaker's reason, while it is tripped.
    pub breaker: Option<String>,
    /// Settled signals by outcome (`reset`, `recorded`, `unmapped`, `not_found`, `exempt`,
    /// `refused`, `covered` (another signal's reset of the same user covered it)).
    pub settled: BTreeMap<String, u64>,
    /// `admin.users.session.reset` calls made.
    pub actions: u64,
    /// Calls that waited for Slack's rate limit (the client's pacing or a 429).
    pub rate_limit_waits: u64,
}

/// The listener's side that the receiver calls: cheap to clone, safe to share.
#[derive(Clone, Debug)]
pub struct Listener {
    inner: Arc<Inner>,
}

/// The worker that acts on accepted signals; run it on a task of its own.
#[derive(Debug)]
pub struct Worker {
    inner: Arc<Inner>,
    writer: crate::calls::Writer,
    ledger: Ledger,
    guardrails: Guardrails,
    /// The org's active users, and when they were counted.
    humans: Option<(u64, std::time::Instant)>,
    compact_after: usize,
    /// The hourly cap's hold was told (once per hold).
    told_cap: bool,
}

/// What the receiver's side and the worker share.
#[derive(Debug)]
struct Inner {
    ctx: Context,
    org: Org,
    run: Shared<State>,
    /// Rung by a new signal and by a resumed breaker.
    wake: Notify,
    cache: Cache,
    token_ok: AtomicBool,
    journal_open: AtomicBool,
    /// Calls that found their method's pacing budget spent and waited for it.
    paced: AtomicU64,
}

impl Inner {
    /// Counts a call of `M` about to be made that will wait for Slack's rate limit (the
    /// client's pacing budget is spent, or a `Retry-After` pause runs).
    fn note_pacing<M: slack_sessions_client::api::Method>(&self) {
        let state = self.ctx.client.pacing_state::<M>();
        if !state.next_call_wait.is_zero() || state.paused_for.is_some() {
            self.paced.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Notes what a failed call says of the token (and of nothing else).
    fn failed(&self, err: &Error) {
        if let Error::Slack { source, .. } = err
            && (source.is_auth() || source.is_permission())
        {
            self.token_ok.store(false, Ordering::Relaxed);
        }
    }

    /// Notes that a call went through.
    fn answered(&self) {
        self.token_ok.store(true, Ordering::Relaxed);
    }

    /// Notes a journal that failed: it is no longer open for signals.
    fn journal_failed<T>(&self, result: Result<T>) -> Result<T> {
        if result.is_err() {
            self.journal_open.store(false, Ordering::Relaxed);
        }
        result
    }
}

impl Listener {
    /// Opens (or resumes) the listener's journal and its guardrails ledger, checks the token
    /// (`auth.test`), and returns the receiver's side and the worker.
    pub async fn open(ctx: &Context, plan: Plan) -> Result<(Listener, Worker)> {
        let dir = crate::guardrails::state_dir()?;
        Listener::open_in(ctx, plan, &dir, State::default()).await
    }

    /// [`open`](Self::open) with the guardrails ledger in `state_dir`, replaying onto `state`.
    pub(crate) async fn open_in(
        ctx: &Context,
        plan: Plan,
        state_dir: &Path,
        state: State,
    ) -> Result<(Listener, Worker)> {
        let org = Org::of(&ctx.client).await?;
        let api_url = ctx.client.base_url().to_owned();
        let header = Header::new(
            RunKind::Listen,
            plan.key.clone(),
            b"",
            BTreeMap::new(),
            &org,
            &api_url,
        );
        let mut run = state::open(&plan.journal, header, state, &ctx.events)?;
        let ledger = Ledger::open(state_dir, &org, &plan.key, &api_url, HOUR_MS)?;
        if plan.resume_breaker
            && let Some(reason) = run.state.breaker.clone()
        {
            run.run(Record::Resumed { at_ms: now_ms() })?;
            ctx.events.note(format!(
                "the circuit breaker is resumed (it had tripped: {reason})"
            ));
        }
        run.compact()?;
        let inner = Arc::new(Inner {
            ctx: ctx.clone(),
            org,
            run: Shared::new(run),
            wake: Notify::new(),
            cache: Cache::default(),
            token_ok: AtomicBool::new(true),
            journal_open: AtomicBool::new(true),
            paced: AtomicU64::new(0),
        });
        let worker = Worker {
            writer: crate::calls::Writer::new(ctx, inner.org.id.clone()),
            inner: Arc::clone(&inner),
            ledger,
            guardrails: plan.guardrails,
            humans: None,
            compact_after: COMPACT_AFTER,
            told_cap: false,
        };
        Ok((Listener { inner }, worker))
    }

    /// Journals the new ones of `signals` and syncs the journal once, before returning: a
    /// caller may acknowledge them as soon as this returns `Ok`.
    pub fn accept(&self, signals: Vec<Signal>) -> Result<Vec<Accepted>> {
        let inner = &self.inner;
        let mut accepted = Vec::with_capacity(signals.len());
        let mut new = false;
        {
            let mut run = inner.run.lock();
            for signal in signals {
                if let Some(n) = run.state.repeat(&signal.key) {
                    accepted.push(Accepted::Repeat(n));
                    continue;
                }
                let n = run.state.last_n + 1;
                let at_ms = now_ms();
                inner.journal_failed(run.run(Record::Signal { n, at_ms, signal }))?;
                accepted.push(Accepted::New(n));
                new = true;
            }
            // Always: a repeat of a signal written but not yet synced (its batch's sync
            // failed) is answered only once it is on disk.
            inner.journal_failed(run.sync())?;
        }
        if new {
            inner.wake.notify_one();
        }
        Ok(accepted)
    }

    /// Looks `email` up (cached), for a caller that answers by it before accepting (GTR).
    pub async fn lookup(&self, email: &str) -> Result<Lookup> {
        self.inner.lookup(email).await
    }

    /// Where things stand.
    pub fn status(&self) -> Status {
        let inner = &self.inner;
        let client = &inner.ctx.client;
        let limited = client.pacing_state::<Reset>().rate_limited
            + client.pacing_state::<LookupByEmail>().rate_limited
            + client.pacing_state::<UsersList>().rate_limited
            + client.pacing_state::<List>().rate_limited;
        let run = inner.run.lock();
        Status {
            journal_open: inner.journal_open.load(Ordering::Relaxed),
            token_ok: inner.token_ok.load(Ordering::Relaxed),
            pending: run.state.pending.len() as u64,
            breaker: run.state.breaker.clone(),
            settled: run.state.settled.clone(),
            actions: run.calls.made().get(Reset::NAME).copied().unwrap_or(0),
            rate_limit_waits: inner.paced.load(Ordering::Relaxed) + u64::from(limited),
        }
    }

    /// Resumes a tripped circuit breaker (journaled).
    pub fn resume_breaker(&self) -> Result<()> {
        let inner = &self.inner;
        let reason = {
            let mut run = inner.run.lock();
            let Some(reason) = run.state.breaker.clone() else {
                return Ok(());
            };
            inner.journal_failed(run.run(Record::Resumed { at_ms: now_ms() }))?;
            reason
        };
        inner.ctx.events.note(format!(
            "the circuit breaker is resumed (it had tripped: {reason}); signals pending are acted on"
        ));
        inner.wake.notify_one();
        Ok(())
    }
}
