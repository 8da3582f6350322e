//! A successful answer: the method's body plus everything else Slack sent with it.

use std::ops::Deref;
use std::time::Duration;

use slack_sessions_api::{ResponseMetadata, WarningCode};

/// A successful answer (`ok: true`).
///
/// Dereferences to the body, so `response.active_sessions` works on a `list` answer. The
/// warnings are never dropped: they are here, and were logged at warn level.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Response<T> {
    /// The method's answer.
    pub body: T,
    /// The warnings (`warning` and `response_metadata.warnings`, without repeats).
    pub warnings: Vec<WarningCode>,
    /// `response_metadata`: the next cursor, warnings and messages as sent.
    pub metadata: ResponseMetadata,
    /// The token's scopes (`x-oauth-scopes`), if the server sent them.
    pub scopes: Option<Vec<String>>,
    /// The scopes the method accepts (`x-accepted-oauth-scopes`), if the server sent them.
    pub accepted_scopes: Option<Vec<String>>,
    /// The server's request id (`x-slack-req-id`, or `x-request-id`), for support requests.
    pub request_id: Option<String>,
    /// The attempts the call took (1 when it succeeded at once).
    pub attempts: u32,
    /// How long the call waited for the pacer in all (every attempt; retry delays not
    /// included). Non-zero when the method's rate-limit budget was spent, or paused by a
    /// `Retry-After`: see [`Client::pacing_state`](crate::Client::pacing_state).
    pub paced: Duration,
}

impl<T> Response<T> {
    /// The body, without the rest.
    pub fn into_body(self) -> T {
        self.body
    }

    /// The cursor of the next `list` page; `None` on the last page.
    pub fn next_cursor(&self) -> Option<&str> {
        self.metadata
            .next_cursor
            .as_deref()
            .filter(|c| !c.is_empty())
    }

    /// `response_metadata.messages`.
    pub fn messages(&self) -> &[String] {
        &self.metadata.messages
    }

    /// The same answer with its body transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            body: f(self.body),
            warnings: self.warnings,
            metadata: self.metadata,
            scopes: self.scopes,
            accepted_scopes: self.accepted_scopes,
            request_id: self.request_id,
            attempts: self.attempts,
            paced: self.paced,
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.body
    }
}
