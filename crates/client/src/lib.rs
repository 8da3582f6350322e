//! Typed async client for Slack's `admin.users.session.*` methods, with `auth.test`,
//! `users.lookupByEmail`, `users.info` and `users.list`.
//!
//! - **One call per method**, with the typed arguments and answers of [`api`] (the same types
//!   the emulator serves): [`Client::reset`], [`Client::list_sessions`], … and the generic
//!   [`Client::call`]. Each method's error codes are listed on its type in [`methods`]
//!   (generated from the catalogue).
//! - **Errors by stage** ([`Error`]): not sent, sent with no usable answer, HTTP error, Slack
//!   `ok:false` with a typed [`ErrorCode`], rate limited with `Retry-After`, or an answer that
//!   did not decode (with its JSON path). [`Error::may_have_been_applied`] says whether a write
//!   may have taken effect; [`Error::is_auth`], [`Error::is_permission`],
//!   [`Error::is_not_found`], [`Error::is_transient`] and [`Error::is_user_refusal`] sort it;
//!   [`RequestId`] gives the server's request id of answers and errors alike, for Slack support.
//! - **Warnings** come back in [`Response::warnings`] and are logged at warn level.
//! - **Retries** ([`retry`]) are plain data and one pure decision function; writes are repeated
//!   after an unknown outcome only where a repeat cannot do harm (reasoned per method).
//! - **Pacing** ([`pacing`]) spreads calls over each method's rate-limit budget, per token,
//!   shared by every clone of a client; a `Retry-After` pauses that method only. The waits are
//!   visible ([`Client::pacing_state`], [`Response::paced`]) and can be bounded: a call's
//!   ([`Pacing::max_wait`]), a bulk run's ([`Bulk::deadline`](batch::Bulk::deadline)).
//! - **Pagination** ([`pagination`]): `list` as a [`Stream`](futures::Stream) of sessions or of
//!   pages that keeps its place across rate limits, stops on a repeated cursor, and asks for a
//!   page only when polled (or ahead, with [`Pages::prefetch`]);
//!   each page keeps its request id ([`Sessions::pages`]). [`Client::user_sessions`] lists one
//!   user's sessions org-wide.
//! - **Bulk writes** ([`batch`]): [`Client::reset_bulk_all`], [`Client::set_settings_all`] and
//!   [`Client::clear_settings_all`] take any number of users, send paced batches of at most
//!   1,000, find the users Slack refuses (with `users.info` where that is cheaper than
//!   halving), report progress, stop at a deadline, and return one outcome per user (done,
//!   refused, failed, not sent).
//! - **History** ([`audit_logs`]): [`Client::audit_logs`] reads Slack's Audit Logs API (sign-ins,
//!   resets, anomalies…) as a [`Stream`](futures::Stream) of typed entries, paced at its
//!   org-wide tier 3, from the Audit Logs API's own host ([`ClientBuilder::audit_url`]).
//! - **The token** ([`Token`]) never appears in `Debug`, `Display`, an error or a log line.
//! - **Matching sessions**: [`Network`] (CIDR, `ActiveSession::in_network`) and [`Version`]
//!   (`4.9` < `4.10`, `ActiveSession::client_version`).
//! - [`prelude`] brings all of it into scope, `futures`' stream traits included; the
//!   [`futures`] crate itself is re-exported, so a program needs no dependency of its own.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use slack_sessions_client::prelude::*;
//!
//! let client = Client::builder()
//!     .token(std::env::var("SLACK_TOKEN")?)
//!     .build()?;
//!
//! // Every session of the org, whatever the number of pages, as CSV-friendly records.
//! let mut sessions = client.list_sessions(ListArgs::new().limit(1000));
//! while let Some(session) = sessions.try_next().await? {
//!     let row = session.flat();
//!     println!("{},{},{},{:?}", row.user_id, row.session_id, row.platform, row.created_ip);
//! }
//!
//! // Sign a user out everywhere.
//! match client.reset(ResetArgs::new("W0123ABC")).await {
//!     Ok(answer) => println!("done after {} attempt(s)", answer.attempts),
//!     Err(e) if e.may_have_been_applied() => println!("outcome unknown: {e}"),
//!     Err(e) => {
//!         eprintln!("request id for Slack support: {:?}", e.request_id());
//!         return Err(e.into());
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Against the emulator
//!
//! Point the client at `slack-sessions serve` (or an embedded emulator) with
//! [`ClientBuilder::base_url`]; plain `http` is accepted for loopback addresses. Pace with
//! [`Pacing::matching`] and the [`RateLimits`] the emulator runs with (`--rate-limits scale=N`
//! is `RateLimits::Scale(N)`), so that the two agree:
//!
//! ```no_run
//! # fn run() -> Result<(), slack_sessions_client::BuildError> {
//! use slack_sessions_client::{Client, Pacing, RateLimits};
//!
//! let client = Client::builder()
//!     .base_url("http://127.0.0.1:8787/api/")
//!     .token("xoxp-…")
//!     .pacing(Pacing::matching(RateLimits::Scale(60)))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! The crate's examples (`examples/`: incident response by email, an audit export through
//! faults, bulk session settings) each run against an embedded emulator.

#![deny(missing_docs)]

mod answer;
pub mod batch;
mod builder;
mod client;
mod error;
mod history;
pub mod pacing;
pub mod pagination;
pub mod prelude;
mod request_id;
mod response;
pub mod retry;
mod token;

/// The `futures` crate the streams implement (`Stream`, `StreamExt`, `TryStreamExt`), so that a
/// program needs no dependency of its own to walk them (the [`prelude`] has the two traits).
///
/// ```
/// use slack_sessions_client::futures::{TryStreamExt, future};
///
/// # async fn run(client: slack_sessions_client::Client) -> Result<(), slack_sessions_client::Error> {
/// let web: Vec<_> = client
///     .list_sessions(slack_sessions_client::methods::ListArgs::new())
///     .try_filter(|s| future::ready(s.platform().as_str() == "web"))
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
pub use futures;
pub use slack_sessions_api as api;
pub use slack_sessions_api::audit_logs;
pub use slack_sessions_api::methods;
pub use slack_sessions_api::{
    CompactString, ErrorCode, Method, MethodInfo, Network, RateLimits, SessionId, TeamId, UserId,
    Version, WarningCode, parse_network,
};

pub use builder::{
    API_URL_ENV, BuildError, ClientBuilder, Encoding, GOV_SLACK_API_URL, GOV_SLACK_AUDIT_URL,
    SLACK_API_URL, SLACK_AUDIT_URL, TOKEN_ENV,
};
pub use client::Client;
pub use error::{
    BoxError, CallInfo, DecodeFailure, Error, HttpError, NoAnswer, NoAnswerReason, NotSent,
    NotSentReason, RateLimited, RepeatedCursor, SlackError,
};
pub use history::{AuditLogEntries, AuditLogPages};
pub use pacing::{Pacing, PacingState, UnknownMethod};
pub use pagination::{Pages, Sessions, Users};
pub use request_id::RequestId;
pub use response::Response;
pub use retry::RetryPolicy;
pub use token::Token;
