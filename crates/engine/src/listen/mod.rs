//! The listener's run: signals from an identity provider (OpenID Shared Signals, Okta Event
//! Hooks, Global Token Revocation), each journaled and synced *before* it is acknowledged, then
//! acted on by a worker that resolves its subject, applies the guardrails and signs the user
//! out through the engine's write protocol ([`crate::calls`]). A restart resumes what was
//! pending. The HTTP side (verification of tokens, the wire formats) is not here: it lives in
//! the `slack-sessions-listen` crate, which turns requests into [`Signal`]s.
//!
//! INTERFACE (fixed for the receiver crate; bodies to be written).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use slack_sessions_client::api::UserId;

use crate::Context;
use crate::error::Result;

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
    _todo: (),
}

/// The worker that acts on accepted signals; run it on a task of its own.
#[derive(Debug)]
pub struct Worker {
    _todo: (),
}

impl Listener {
    /// Opens (or resumes) the listener's journal and its guardrails ledger, checks the token
    /// (`auth.test`), and returns the receiver's side and the worker.
    pub async fn open(_ctx: &Context, _plan: Plan) -> Result<(Listener, Worker)> {
        todo!()
    }

    /// Journals the new ones of `signals` and syncs the journal once, before returning: a
    /// caller may acknowledge them as soon as this returns `Ok`.
    pub fn accept(&self, _signals: Vec<Signal>) -> Result<Vec<Accepted>> {
        todo!()
    }

    /// Looks `email` up (cached), for a caller that answers by it before accepting (GTR).
    pub async fn lookup(&self, _email: &str) -> Result<Lookup> {
        todo!()
    }

    /// Where things stand.
    pub fn status(&self) -> Status {
        todo!()
    }

    /// Resumes a tripped circuit breaker (journaled).
    pub fn resume_breaker(&self) -> Result<()> {
        todo!()
    }
}

impl Worker {
    /// Acts on accepted signals, in order, until the context's stop is asked.
    pub async fn run(self) -> Result<()> {
        todo!()
    }
}
