//! Typed async client for Slack's `admin.users.session.*` methods, with `auth.test` and
//! `users.lookupByEmail`.
//!
//! - **One call per method**, with the typed arguments and answers of [`api`] (the same types
//!   the emulator serves): [`Client::reset`], [`Client::list_sessions`], … and the generic
//!   [`Client::call`].
//! - **Errors by stage** ([`Error`]): not sent, sent with no usable answer, HTTP error, Slack
//!   `ok:false` with a typed [`ErrorCode`](api::ErrorCode), rate limited with `Retry-After`, or an
//!   answer that did not decode (with its JSON path). [`Error::may_have_been_applied`] says
//!   whether a write may have taken effect.
//! - **Warnings** come back in [`Response::warnings`] and are logged at warn level.
//! - **Retries** ([`retry`]) are plain data and one pure decision function; writes are repeated
//!   after an unknown outcome only where a repeat cannot do harm (reasoned per method).
//! - **Pacing** ([`pacing`]) spreads calls over each method's rate-limit budget, per token,
//!   shared by every clone of a client; a `Retry-After` pauses that method only.
//! - **Pagination** ([`pagination`]): `list` as a [`Stream`](futures::Stream) of sessions or of
//!   pages that keeps its place across rate limits and stops on a repeated cursor.
//! - **The token** ([`Token`]) never appears in `Debug`, `Display`, an error or a log line.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use slack_sessions_client::{Client, Error, methods::{ListArgs, ResetArgs}};
//!
//! let client = Client::builder()
//!     .token(std::env::var("SLACK_TOKEN")?)
//!     .build()?;
//!
//! // Every session of the org, whatever the number of pages.
//! let mut sessions = client.list_sessions(ListArgs::new().limit(1000));
//! while let Some(session) = sessions.try_next().await? {
//!     println!("{} {}", session.user_id, session.session_id);
//! }
//!
//! // Sign a user out everywhere.
//! match client.reset(ResetArgs::new("W0123ABC")).await {
//!     Ok(answer) => println!("done after {} attempt(s)", answer.attempts),
//!     Err(e) if e.may_have_been_applied() => println!("outcome unknown: {e}"),
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(()) }
//! ```
//!
//! # Against the emulator
//!
//! Point the client at `slack-sessions serve` (or an embedded emulator) with
//! [`ClientBuilder::base_url`]; plain `http` is accepted for loopback addresses. When the emulator
//! scales its rate limits (`--rate-limits scale=N`), scale the pacing to match with
//! [`Pacing::scaled`]:
//!
//! ```no_run
//! # fn run() -> Result<(), slack_sessions_client::BuildError> {
//! use slack_sessions_client::{Client, Pacing};
//!
//! let client = Client::builder()
//!     .base_url("http://127.0.0.1:8787/api/")
//!     .token("xoxp-…")
//!     .pacing(Pacing::scaled(60.0))
//!     .build()?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod batch;
mod builder;
mod client;
mod error;
pub mod pacing;
pub mod pagination;
pub mod prelude;
mod request_id;
mod response;
pub mod retry;
mod token;

pub use slack_sessions_api as api;
pub use slack_sessions_api::methods;
pub use slack_sessions_api::{
    ErrorCode, Method, MethodInfo, RateLimits, SessionId, TeamId, UserId, WarningCode,
};

pub use builder::{
    API_URL_ENV, BuildError, ClientBuilder, Encoding, GOV_SLACK_API_URL, SLACK_API_URL, TOKEN_ENV,
};
pub use client::Client;
pub use error::{
    BoxError, CallInfo, DecodeFailure, Error, HttpError, NoAnswer, NoAnswerReason, NotSent,
    NotSentReason, RateLimited, RepeatedCursor, SlackError,
};
pub use pacing::{Pacing, PacingState};
pub use pagination::{Pages, Sessions, Users};
pub use request_id::RequestId;
pub use response::Response;
pub use retry::RetryPolicy;
pub use token::Token;
