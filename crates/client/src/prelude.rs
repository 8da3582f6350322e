//! What a program using the client needs in scope, in one line:
//! `use slack_sessions_client::prelude::*;`.
//!
//! The client and its errors, the argument builders and answers of every method (the audit
//! logs' filter [`AuditLogsArgs`] and their [`action`] names too), the id types
//! and error codes, the [`Method`] and [`RequestId`] traits, and `futures`' [`StreamExt`] and
//! [`TryStreamExt`] for the `list` streams.
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

pub use crate::audit_logs::{AuditLogsArgs, action};
pub use crate::batch::{BulkReport, UserOutcome};
pub use crate::methods::*;
pub use crate::{
    Client, Error, ErrorCode, Method, Pacing, RateLimits, RequestId, Response, RetryPolicy,
    SessionId, TeamId, UserId,
};
