//! What went wrong, and at which stage: the first question after a failed write is
//! "may it have been applied?", and [`Error::may_have_been_applied`] answers it.

use std::fmt;
use std::time::Duration;

use slack_sessions_api::{ErrorCode, WarningCode};

use crate::retry::{Outcome, code_may_have_applied};

/// A boxed error source (the transport's own error).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The longest part of an unusable body kept in an error.
pub(crate) const SNIPPET: usize = 512;

/// Which call failed, after how many attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallInfo {
    /// Slack's method name.
    pub method: &'static str,
    /// Attempts made, the failed last one included.
    pub attempts: u32,
    /// An earlier attempt of this call ended in a way that leaves open whether it was applied
    /// (no usable answer, a 5xx, `internal_error`, …). A later error such as
    /// `session_not_found` may then be the consequence of that earlier attempt's success.
    pub earlier_attempt_may_have_applied: bool,
    /// The server's request id of the last answer (`x-slack-req-id`, or `x-request-id`), when
    /// one came: what Slack support asks for. Also through [`RequestId`](crate::RequestId).
    pub request_id: Option<String>,
    /// How long the call waited for the pacer in all (every attempt), retry delays not
    /// included.
    pub paced: Duration,
}

impl CallInfo {
    pub(crate) fn new(method: &'static str) -> Self {
        CallInfo {
            method,
            attempts: 1,
            earlier_attempt_may_have_applied: false,
            request_id: None,
            paced: Duration::ZERO,
        }
    }
}

impl fmt::Display for CallInfo {
    /// `admin.users.session.reset (attempt 2, request 5f2b…)`: the method, the attempt when it
    /// was not the first, and the server's request id when an answer carried one, so that an
    /// error printed anywhere (`?` into `anyhow`, a log line) names the request for Slack
    /// support.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method)?;
        match (self.attempts > 1, &self.request_id) {
            (true, Some(id)) => write!(f, " (attempt {}, request {id})", self.attempts),
            (true, None) => write!(f, " (attempt {})", self.attempts),
            (false, Some(id)) => write!(f, " (request {id})"),
            (false, None) => Ok(()),
        }
    }
}

/// Why a request was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotSentReason {
    /// The request could not be built.
    Build,
    /// No connection could be made (refused, unreachable, TLS handshake failed).
    Connect,
    /// Connecting took longer than the connect timeout.
    ConnectTimeout,
    /// The pacer would have held the call longer than
    /// [`Pacing::max_wait`](crate::Pacing::max_wait) for its method's rate-limit budget.
    PacingWait {
        /// How long the call would have waited.
        wait: Duration,
    },
    /// The call's rate-limit slot comes after the deadline of the bulk run it belongs to
    /// ([`Bulk::deadline`](crate::batch::Bulk::deadline)).
    Deadline {
        /// How long the call would have waited.
        wait: Duration,
    },
}

impl fmt::Display for NotSentReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotSentReason::Build => f.write_str("the request could not be built"),
            NotSentReason::Connect => f.write_str("could not connect"),
            NotSentReason::ConnectTimeout => f.write_str("connecting timed out"),
            NotSentReason::PacingWait { wait } => write!(
                f,
                "its rate-limit budget is spent for {:.1} s, longer than the pacing's max_wait",
                wait.as_secs_f64()
            ),
            NotSentReason::Deadline { wait } => write!(
                f,
                "its rate-limit slot ({:.1} s away) comes after the run's deadline",
                wait.as_secs_f64()
            ),
        }
    }
}

/// Why a sent request has no usable answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoAnswerReason {
    /// No complete answer within the request timeout.
    Timeout,
    /// The connection was reset or closed before a complete answer.
    ConnectionLost,
    /// An answer with an empty body.
    EmptyBody,
    /// An answer whose body is not JSON.
    NotJson,
    /// An answer whose JSON body ends early.
    TruncatedBody,
}

impl fmt::Display for NoAnswerReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoAnswerReason::Timeout => "timed out",
            NoAnswerReason::ConnectionLost => "connection lost",
            NoAnswerReason::EmptyBody => "empty body",
            NoAnswerReason::NotJson => "the body is not JSON",
            NoAnswerReason::TruncatedBody => "the JSON body is truncated",
        })
    }
}

/// The request was not sent, so nothing was applied. Always safe to try again.
#[derive(Debug, thiserror::Error)]
#[error("{call}: not sent, {reason}; nothing was applied")]
#[non_exhaustive]
pub struct NotSent {
    /// The call.
    pub call: CallInfo,
    /// Why.
    pub reason: NotSentReason,
    /// The transport's error.
    #[source]
    pub source: Option<BoxError>,
}

/// The request was sent but no usable answer came back: it **may have been applied**.
#[derive(Debug, thiserror::Error)]
#[error("{call}: sent, but no usable answer ({reason}); the request may have been applied")]
#[non_exhaustive]
pub struct NoAnswer {
    /// The call.
    pub call: CallInfo,
    /// Why the answer is unusable.
    pub reason: NoAnswerReason,
    /// The HTTP status, when an answer began.
    pub status: Option<u16>,
    /// The start of the body, when one came (at most 512 bytes, lossily decoded).
    pub body_snippet: Option<String>,
    /// The transport's error.
    #[source]
    pub source: Option<BoxError>,
}

/// The server answered with an HTTP status other than 200 and 429.
///
/// Slack answers its errors with HTTP 200, so this comes from the infrastructure in front of it
/// (a 5xx during an outage) or from a wrong base URL (404).
#[derive(Debug, thiserror::Error)]
#[error("{call}: HTTP status {status}{}", describe_status(*.status))]
#[non_exhaustive]
pub struct HttpError {
    /// The call.
    pub call: CallInfo,
    /// The HTTP status code.
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<Duration>,
    /// The start of the body (at most 512 bytes, lossily decoded).
    pub body_snippet: String,
}

fn describe_status(status: u16) -> &'static str {
    if status >= 500 {
        "; the request may have been applied"
    } else {
        ""
    }
}

/// Slack answered `ok:false`.
#[derive(Debug, thiserror::Error)]
#[error("{call}: Slack answered `{code}`{}", details(.needed, .provided, .messages))]
#[non_exhaustive]
pub struct SlackError {
    /// The call.
    pub call: CallInfo,
    /// The error code.
    pub code: ErrorCode,
    /// For `missing_scope`: the scope the method needs.
    pub needed: Option<String>,
    /// For `missing_scope`: the token's scopes, comma-separated.
    pub provided: Option<String>,
    /// `response_metadata.messages`, such as `[ERROR] missing required argument [json-pointer:/user_id]`.
    pub messages: Vec<String>,
    /// Warnings that came with the error.
    pub warnings: Vec<WarningCode>,
    /// The HTTP status (200 for Slack's errors).
    pub status: u16,
    /// The body as received.
    pub raw_body: String,
}

fn details(needed: &Option<String>, provided: &Option<String>, messages: &[String]) -> String {
    let mut out = String::new();
    if let Some(needed) = needed {
        out.push_str(&format!(" (needed: {needed}"));
        if let Some(provided) = provided {
            out.push_str(&format!("; provided: {provided}"));
        }
        out.push(')');
    }
    for message in messages {
        out.push_str(&format!("; {message}"));
    }
    out
}

/// Slack refused the call for its rate limit (HTTP 429, `ratelimited`); nothing was applied.
#[derive(Debug, thiserror::Error)]
#[error("{call}: rate limited{}", describe_retry_after(.retry_after))]
#[non_exhaustive]
pub struct RateLimited {
    /// The call.
    pub call: CallInfo,
    /// When a call will pass again (the `Retry-After` header), if given.
    pub retry_after: Option<Duration>,
    /// The HTTP status (429, or 200 for a `ratelimited` answer without one).
    pub status: u16,
    /// The body as received.
    pub raw_body: String,
}

fn describe_retry_after(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!("; retry after {} s", d.as_secs_f64()),
        None => String::new(),
    }
}

/// A JSON answer that does not have the expected shape.
#[derive(Debug, thiserror::Error)]
#[error("{call}: cannot decode the answer at `{path}`: {message}")]
#[non_exhaustive]
pub struct DecodeFailure {
    /// The call.
    pub call: CallInfo,
    /// The JSON path that failed, e.g. `active_sessions[3].session_id` (`.` for the root).
    pub path: String,
    /// What was wrong there.
    pub message: String,
    /// The answer's `ok`, if that much decoded: `Some(true)` means the call was applied.
    pub ok: Option<bool>,
    /// The body as received.
    pub raw_body: String,
}

/// A `list` walk was handed a cursor it had already followed: Slack (or the server) would send it
/// round in a loop, so the walk stops.
#[derive(Debug, thiserror::Error)]
#[error("{call}: the cursor {cursor:?} came back a second time (page {page}); stopping the walk")]
#[non_exhaustive]
pub struct RepeatedCursor {
    /// The call.
    pub call: CallInfo,
    /// The cursor seen twice.
    pub cursor: String,
    /// The page (1-based) that carried it the second time.
    pub page: u64,
}

/// A failed call, by the stage that failed.
///
/// Every variant knows whether the request may have been applied
/// ([`Error::may_have_been_applied`]), which matters for the admin writes.
///
/// ```no_run
/// # async fn run(client: slack_sessions_client::Client) {
/// use slack_sessions_client::{Error, api::{ErrorCode, methods::ResetArgs}};
///
/// match client.reset(ResetArgs::new("W0123ABC")).await {
///     Ok(_) => println!("reset"),
///     Err(Error::Slack(e)) if e.code == ErrorCode::UserNotFound => println!("no such user"),
///     Err(e) if e.may_have_been_applied() => println!("unknown outcome, check: {e}"),
///     Err(e) => println!("not applied: {e}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not sent (could not build or connect): nothing was applied.
    #[error(transparent)]
    NotSent(Box<NotSent>),
    /// Sent, no usable answer: may have been applied.
    #[error(transparent)]
    NoAnswer(Box<NoAnswer>),
    /// An HTTP status other than 200 and 429.
    #[error(transparent)]
    Http(Box<HttpError>),
    /// Slack answered `ok:false` with a typed code.
    #[error(transparent)]
    Slack(Box<SlackError>),
    /// Rate limited, with the `Retry-After`.
    #[error(transparent)]
    RateLimited(Box<RateLimited>),
    /// The answer did not decode; names the JSON path.
    #[error(transparent)]
    Decode(Box<DecodeFailure>),
    /// A `list` walk met a cursor a second time.
    #[error(transparent)]
    RepeatedCursor(Box<RepeatedCursor>),
}

impl Error {
    /// The call that failed.
    pub fn call(&self) -> &CallInfo {
        match self {
            Error::NotSent(e) => &e.call,
            Error::NoAnswer(e) => &e.call,
            Error::Http(e) => &e.call,
            Error::Slack(e) => &e.call,
            Error::RateLimited(e) => &e.call,
            Error::Decode(e) => &e.call,
            Error::RepeatedCursor(e) => &e.call,
        }
    }

    pub(crate) fn call_mut(&mut self) -> &mut CallInfo {
        match self {
            Error::NotSent(e) => &mut e.call,
            Error::NoAnswer(e) => &mut e.call,
            Error::Http(e) => &mut e.call,
            Error::Slack(e) => &mut e.call,
            Error::RateLimited(e) => &mut e.call,
            Error::Decode(e) => &mut e.call,
            Error::RepeatedCursor(e) => &mut e.call,
        }
    }

    /// Slack's method name.
    pub fn method(&self) -> &'static str {
        self.call().method
    }

    /// Whether the request may have been applied by this attempt or an earlier one of the
    /// same call. False means it certainly was not: it was never sent, or Slack refused it
    /// before acting (a rate limit, an authentication or argument error).
    pub fn may_have_been_applied(&self) -> bool {
        self.call().earlier_attempt_may_have_applied || self.this_attempt_may_have_applied()
    }

    pub(crate) fn this_attempt_may_have_applied(&self) -> bool {
        match self {
            Error::NotSent(_) | Error::RateLimited(_) | Error::RepeatedCursor(_) => false,
            Error::NoAnswer(_) | Error::Decode(_) => true,
            Error::Http(e) => e.status >= 500,
            Error::Slack(e) => code_may_have_applied(&e.code),
        }
    }

    /// The Slack error code: the `ok:false` code, or `ratelimited`.
    pub fn code(&self) -> Option<&ErrorCode> {
        const RATELIMITED: &ErrorCode = &ErrorCode::Ratelimited;
        match self {
            Error::Slack(e) => Some(&e.code),
            Error::RateLimited(_) => Some(RATELIMITED),
            _ => None,
        }
    }

    /// The server's `Retry-After`, for a rate limit or an HTTP error that carried one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited(e) => e.retry_after,
            Error::Http(e) => e.retry_after,
            _ => None,
        }
    }

    /// True for a rate limit.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Error::RateLimited(_))
    }

    /// The server's request id of the last answer, if one came (for Slack support).
    pub fn request_id(&self) -> Option<&str> {
        self.call().request_id.as_deref()
    }

    /// Slack refused the token itself ([`ErrorCode::is_auth`]): missing, invalid, revoked,
    /// expired, or of a kind the method does not take.
    pub fn is_auth(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_auth)
    }

    /// The token may not do this ([`ErrorCode::is_permission`]): a missing scope, not an Org
    /// Owner or Admin, not an Enterprise Grid org, a policy.
    pub fn is_permission(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_permission)
    }

    /// Something the call names does not exist ([`ErrorCode::is_not_found`]): a user
    /// (`user_not_found` for an id, `users_not_found` for an email address), a session, a
    /// workspace.
    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_not_found)
    }

    /// The same call may pass later: a rate limit, a connection that failed, no usable answer,
    /// an HTTP 5xx, or a transient Slack code ([`ErrorCode::is_transient`]). Returned after the
    /// retry policy gave up. A write may still have been applied: see
    /// [`may_have_been_applied`](Self::may_have_been_applied).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::RateLimited(_) | Error::NoAnswer(_) => true,
            Error::NotSent(e) => {
                matches!(
                    e.reason,
                    NotSentReason::Connect | NotSentReason::ConnectTimeout
                )
            }
            Error::Http(e) => e.status >= 500,
            Error::Slack(e) => e.code.is_transient(),
            Error::Decode(_) | Error::RepeatedCursor(_) => false,
        }
    }

    /// Slack refused the call because of one of the users it names, before acting on any
    /// ([`ErrorCode::is_user_refusal`], and no earlier attempt may have been applied): the
    /// other users can be sent again without that one. [`Batches`](crate::batch::Batches)
    /// splits such a batch to find the user.
    pub fn is_user_refusal(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_user_refusal) && !self.may_have_been_applied()
    }

    /// This error as an input of [`RetryPolicy::decide`](crate::RetryPolicy::decide).
    pub fn outcome(&self) -> Outcome {
        match self {
            Error::NotSent(e)
                if matches!(
                    e.reason,
                    NotSentReason::Build
                        | NotSentReason::PacingWait { .. }
                        | NotSentReason::Deadline { .. }
                ) =>
            {
                Outcome::Permanent
            }
            Error::NotSent(_) => Outcome::ConnectFailed,
            Error::NoAnswer(_) => Outcome::NoAnswer,
            Error::Http(e) => Outcome::Http {
                status: e.status,
                retry_after: e.retry_after,
            },
            Error::Slack(e) => Outcome::Slack(e.code.clone()),
            Error::RateLimited(e) => Outcome::RateLimited {
                retry_after: e.retry_after,
            },
            Error::Decode(_) | Error::RepeatedCursor(_) => Outcome::Permanent,
        }
    }
}

/// How an answer that is not Slack's success failed, the same for the Web API and the Audit
/// Logs API (their envelopes differ; these stages do not).
impl Error {
    /// A 429, or Slack's `ratelimited` code.
    pub(crate) fn rate_limited(
        call: CallInfo,
        retry_after: Option<Duration>,
        status: u16,
        body: &[u8],
    ) -> Error {
        Error::RateLimited(Box::new(RateLimited {
            call,
            retry_after,
            status,
            raw_body: String::from_utf8_lossy(body).into_owned(),
        }))
    }

    /// An HTTP status that is neither a success nor a 429.
    pub(crate) fn http(
        call: CallInfo,
        status: u16,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> Error {
        Error::Http(Box::new(HttpError {
            call,
            status,
            retry_after,
            body_snippet: snippet(body),
        }))
    }

    /// A body that is no answer at all (empty, not JSON, cut short).
    pub(crate) fn no_answer(
        call: CallInfo,
        reason: NoAnswerReason,
        status: u16,
        body: &[u8],
    ) -> Error {
        Error::NoAnswer(Box::new(NoAnswer {
            call,
            reason,
            status: Some(status),
            body_snippet: Some(snippet(body)),
            source: None,
        }))
    }
}

/// The start of `body`, lossily decoded, at most [`SNIPPET`] bytes.
pub(crate) fn snippet(body: &[u8]) -> String {
    let cut = &body[..body.len().min(SNIPPET)];
    String::from_utf8_lossy(cut).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> CallInfo {
        CallInfo::new("admin.users.session.reset")
    }

    fn slack(code: ErrorCode) -> Error {
        Error::Slack(Box::new(SlackError {
            call: call(),
            code,
            needed: None,
            provided: None,
            messages: vec![],
            warnings: vec![],
            status: 200,
            raw_body: String::new(),
        }))
    }

    fn no_answer(reason: NoAnswerReason) -> Error {
        Error::NoAnswer(Box::new(NoAnswer {
            call: call(),
            reason,
            status: Some(200),
            body_snippet: None,
            source: None,
        }))
    }

    #[test]
    fn stages_say_whether_the_request_may_have_been_applied() {
        let not_sent = Error::NotSent(Box::new(NotSent {
            call: call(),
            reason: NotSentReason::Connect,
            source: None,
        }));
        assert!(!not_sent.may_have_been_applied());
        assert_eq!(not_sent.outcome(), Outcome::ConnectFailed);
        for reason in [
            NoAnswerReason::Timeout,
            NoAnswerReason::ConnectionLost,
            NoAnswerReason::EmptyBody,
            NoAnswerReason::NotJson,
            NoAnswerReason::TruncatedBody,
        ] {
            let e = no_answer(reason);
            assert!(e.may_have_been_applied(), "{reason:?}");
            assert!(e.to_string().contains("may have been applied"), "{e}");
        }
        let limited = Error::RateLimited(Box::new(RateLimited {
            call: call(),
            retry_after: Some(Duration::from_secs(3)),
            status: 429,
            raw_body: String::new(),
        }));
        assert!(!limited.may_have_been_applied());
        assert_eq!(limited.code(), Some(&ErrorCode::Ratelimited));
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(
            limited.to_string(),
            "admin.users.session.reset: rate limited; retry after 3 s"
        );
        assert!(!slack(ErrorCode::UserNotFound).may_have_been_applied());
        assert!(slack(ErrorCode::FatalError).may_have_been_applied());
        let http = |status| {
            Error::Http(Box::new(HttpError {
                call: call(),
                status,
                retry_after: None,
                body_snippet: String::new(),
            }))
        };
        assert!(http(503).may_have_been_applied());
        assert!(!http(404).may_have_been_applied());
        let decode = Error::Decode(Box::new(DecodeFailure {
            call: call(),
            path: "active_sessions[0].session_id".into(),
            message: "invalid type".into(),
            ok: Some(true),
            raw_body: String::new(),
        }));
        assert!(decode.may_have_been_applied());
        assert_eq!(decode.outcome(), Outcome::Permanent);
        assert!(decode.to_string().contains("active_sessions[0].session_id"));
    }

    #[test]
    fn an_earlier_ambiguous_attempt_carries_over() {
        let mut e = slack(ErrorCode::SessionNotFound);
        assert!(!e.may_have_been_applied());
        e.call_mut().earlier_attempt_may_have_applied = true;
        e.call_mut().attempts = 2;
        assert!(e.may_have_been_applied());
        assert_eq!(
            e.to_string(),
            "admin.users.session.reset (attempt 2): Slack answered `session_not_found`"
        );
    }

    #[test]
    fn slack_errors_show_scopes_and_messages() {
        let e = Error::Slack(Box::new(SlackError {
            call: call(),
            code: ErrorCode::MissingScope,
            needed: Some("admin.users:write".into()),
            provided: Some("admin.users:read".into()),
            messages: vec!["[ERROR] nope".into()],
            warnings: vec![],
            status: 200,
            raw_body: String::new(),
        }));
        assert_eq!(
            e.to_string(),
            "admin.users.session.reset: Slack answered `missing_scope` (needed: admin.users:write; \
             provided: admin.users:read); [ERROR] nope"
        );
        assert_eq!(e.code(), Some(&ErrorCode::MissingScope));
    }

    #[test]
    fn categories_and_request_ids() {
        assert!(slack(ErrorCode::InvalidAuth).is_auth());
        assert!(slack(ErrorCode::NotAnAdmin).is_permission());
        assert!(slack(ErrorCode::UsersNotFound).is_not_found());
        assert!(slack(ErrorCode::ServiceUnavailable).is_transient());
        assert!(no_answer(NoAnswerReason::Timeout).is_transient());
        assert!(slack(ErrorCode::CannotResetBot).is_user_refusal());
        let mut refused = slack(ErrorCode::UserNotFound);
        assert!(refused.is_user_refusal());
        refused.call_mut().earlier_attempt_may_have_applied = true;
        assert!(
            !refused.is_user_refusal(),
            "an earlier attempt may have acted"
        );
        assert!(!slack(ErrorCode::FatalError).is_transient());
        let mut e = slack(ErrorCode::UserNotFound);
        assert_eq!(e.request_id(), None);
        e.call_mut().request_id = Some("req-9".into());
        assert_eq!(e.request_id(), Some("req-9"));
        let paced = Error::NotSent(Box::new(NotSent {
            call: call(),
            reason: NotSentReason::PacingWait {
                wait: Duration::from_secs(3),
            },
            source: None,
        }));
        assert_eq!(paced.outcome(), Outcome::Permanent);
        assert!(!paced.may_have_been_applied());
        assert!(paced.to_string().contains("max_wait"), "{paced}");
    }

    #[test]
    fn every_error_with_a_request_id_shows_it() {
        let with_id = |mut e: Error| {
            e.call_mut().request_id = Some("5f2b9e".into());
            e.to_string()
        };
        let errors = [
            slack(ErrorCode::UserNotFound),
            no_answer(NoAnswerReason::Timeout),
            Error::Http(Box::new(HttpError {
                call: call(),
                status: 503,
                retry_after: None,
                body_snippet: String::new(),
            })),
            Error::RateLimited(Box::new(RateLimited {
                call: call(),
                retry_after: None,
                status: 429,
                raw_body: String::new(),
            })),
            Error::Decode(Box::new(DecodeFailure {
                call: call(),
                path: ".".into(),
                message: "x".into(),
                ok: None,
                raw_body: String::new(),
            })),
        ];
        for e in errors {
            assert!(!e.to_string().contains("(request "), "{e}");
            let shown = with_id(e);
            assert!(shown.contains("(request 5f2b9e)"), "{shown}");
        }
        let mut e = slack(ErrorCode::UserNotFound);
        e.call_mut().attempts = 3;
        assert_eq!(
            with_id(e),
            "admin.users.session.reset (attempt 3, request 5f2b9e): Slack answered `user_not_found`"
        );
    }

    #[test]
    fn errors_stay_small() {
        assert!(std::mem::size_of::<Error>() <= 16);
    }

    #[test]
    fn snippets_are_bounded() {
        assert_eq!(snippet(&[b'a'; 2000]).len(), SNIPPET);
        assert_eq!(snippet(b"\xffok"), "\u{fffd}ok");
    }
}
