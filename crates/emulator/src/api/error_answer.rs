//! A Slack error answer under construction.

use http::StatusCode;
use slack_sessions_api::{ErrorCode, InvalidArgs};

use crate::store::StoreError;

/// An `ok:false` answer: the code, its details and its HTTP status (200 but for 429 and limits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorAnswer {
    /// The Slack error code.
    pub code: ErrorCode,
    /// HTTP status: Slack answers errors with 200, except rate limits (429).
    pub http: StatusCode,
    /// `response_metadata.messages`.
    pub messages: Vec<String>,
    /// `needed`, for `missing_scope`.
    pub needed: Option<String>,
    /// `provided`, for `missing_scope`.
    pub provided: Option<String>,
    /// `Retry-After` seconds, for 429.
    pub retry_after: Option<u64>,
}

impl ErrorAnswer {
    /// An error answered with HTTP 200.
    pub fn new(code: ErrorCode) -> Self {
        ErrorAnswer {
            code,
            http: StatusCode::OK,
            messages: Vec::new(),
            needed: None,
            provided: None,
            retry_after: None,
        }
    }

    /// Adds an `[ERROR] …` line to `response_metadata.messages`.
    pub fn message(mut self, detail: impl AsRef<str>) -> Self {
        self.messages.push(format!("[ERROR] {}", detail.as_ref()));
        self
    }

    /// HTTP 429 `ratelimited` with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        ErrorAnswer {
            http: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(retry_after.max(1)),
            ..ErrorAnswer::new(ErrorCode::Ratelimited)
        }
    }
}

impl From<StoreError> for ErrorAnswer {
    fn from(err: StoreError) -> Self {
        // Nothing was acknowledged: the transaction did not commit.
        tracing::error!(%err, "storage failed; answering internal_error");
        ErrorAnswer::new(ErrorCode::InternalError)
    }
}

impl From<InvalidArgs> for ErrorAnswer {
    fn from(e: InvalidArgs) -> Self {
        match e.arg {
            Some(arg) => {
                ErrorAnswer::new(e.code).message(format!("{} [json-pointer:/{arg}]", e.detail))
            }
            // Method-specific codes (`missing_team`, …) say it all, as Slack's answers do.
            None => ErrorAnswer::new(e.code),
        }
    }
}
