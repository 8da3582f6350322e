//! What a program using the client needs in scope, in one line:
//! `use slack_sessions_client::prelude::*;`.
//!
//! The client and its errors, the argument builders and answers of every method (the audit
//! logs' filter [`AuditLogsArgs`] and their [`action`] names too), the id types and error
//! codes, [`Network`] and [`Version`], the [`Method`] and [`RequestId`] traits, and
//! `futures`' [`StreamExt`] and [`TryStreamExt`] for the `list` streams.
//!
//! **Its `Error` is the client's [`Error`]**, and hides `std::error::Error` in a
//! module that glob-imports the prelude: write `Box<dyn std::error::Error>` in full (as below),
//! or import the trait under another name (`use std::error::Error as StdError;`).
//!
//! ```no_run
//! use slack_sessions_client::prelude::*;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?;
//! let mut sessions = client.list_sessions(ListArgs::new());
//! while let Some(session) = sessions.try_next().await? {
//!     println!("{}", session.user_id);
//! }
//! # Ok(()) }
//! ```

pub use futures::{StreamExt, TryStreamExt};

/// The client's error, not `std::error::Error`, which a glob import of the prelude hides:
/// name that one in full (`Box<dyn std::error::Error>`) or as `use std::error::Error as
/// StdError;`.
pub use crate::Error;
pub use crate::audit_logs::{AuditLogsArgs, action};
pub use crate::batch::{BulkReport, Progress, UserOutcome};
pub use crate::methods::*;
pub use crate::{
    Client, ErrorCode, Method, Network, Pacing, RateLimits, RequestId, Response, RetryPolicy,
    SessionId, TeamId, UserId, Version,
};
