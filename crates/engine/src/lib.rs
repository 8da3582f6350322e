//! `slack-sessions-engine`: journaled runs on a Slack Enterprise Grid org's sessions, as a
//! library. The command line (`slack-sessions`) is one shell over it; a long-running service
//! or a Rust program drives the same runs and sees the same progress.
//!
//! # The runs
//!
//! | run | module | what it does |
//! |---|---|---|
//! | offboarding | [`offboard`] | signs the users of a file out everywhere (`resetBulk` or `reset`), verifies, reports each line |
//! | bulk invalidation | [`invalidate`] | ends the sessions a [`filter`] finds, one `invalidate` each, verifies, reports each session |
//! | enforcement | [`enforce`] | judges every session against a policy's rules, round after round, and acts within [`guardrails`] |
//! | listener | [`listen`] | journals an identity provider's signals before they are acknowledged, then signs their users out within [`guardrails`] |
//!
//! Beside the runs, [`history`] reads a user's (or the org's) session history from Slack's
//! Audit Logs API: no journal, it only reads.
//!
//! Each takes a typed `Plan` (built once from the command line by the binary), opens its
//! journal by the rules of [`journal::identity`], and never imports another run.
//!
//! # What every run shares
//!
//! - [`journal`]: one format, the engine's lines around the run's own records; fsync'd
//!   intents before every write, results after; a run identified by a header (kind, input
//!   digest, options, org, admin, API). A finished run is never resumed: the same command
//!   starts a new run over what matches now.
//! - [`journaled`]: the journal and the state it replays to, kept in step, with compaction
//!   for runs that go on for months.
//! - [`calls`]: the write protocol (intent, call, result; a lost answer settled by listing
//!   before anything is sent again).
//! - [`stop`]: one stop signal for SIGINT and SIGTERM alike.
//! - [`org`] and [`users`]: who the token is, and the one user resolver (lookups, a walk of
//!   `users.list`, or both).
//! - [`events`]: progress as typed events; the engine draws nothing.
//! - [`files`]: every file written 0600, whole or appended, never through a planted link.
//!
//! Arrows run one way: the binary → this crate → the client → the API model.

pub mod base;
pub mod calls;
pub mod count;
pub mod duration;
pub mod enforce;
pub mod error;
pub mod events;
pub mod files;
pub mod filter;
pub mod guardrails;
pub mod history;
pub mod invalidate;
pub mod journal;
pub mod journaled;
pub mod listen;
pub mod offboard;
pub mod org;
pub mod report;
pub mod stop;
pub mod text;
pub mod users;
pub mod when;

pub use error::{Error, Result};

use slack_sessions_client::Client;

use crate::events::Events;
use crate::stop::Stop;

/// What every run is given: the client (its token, API, pacing and retries), where its events
/// go, and its stop signal.
#[derive(Clone, Debug)]
pub struct Context {
    /// The client.
    pub client: Client,
    /// Where the run's events go.
    pub events: Events,
    /// The run's stop signal.
    pub stop: Stop,
}

impl Context {
    /// A context with silent events and a stop only [`Stop::ask`] sets.
    pub fn new(client: Client) -> Context {
        Context {
            client,
            events: Events::silent(),
            stop: Stop::new(),
        }
    }
}
