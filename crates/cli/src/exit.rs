//! Exit codes, stable and documented in the README, and the one error type every command
//! returns.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | anything else: a local file could not be read or written, an internal error |
//! | 2 | usage: bad arguments, no token, a journal from another run, no confirmation |
//! | 3 | authentication or permission: the token was refused, lacks a scope or an admin role, or its file is readable by others |
//! | 4 | Slack answered with an API error (`user_not_found`, `session_not_found`, …) |
//! | 5 | rate limited, or the retry budget ran out on a transient server error |
//! | 6 | network: no connection, or no usable answer |
//! | 7 | a bulk run finished, but some users were not signed out (Slack refused, or sessions outlasted the verification) |
//! | 8 | a bulk run finished and signed out every user it found, but some lines named nobody (an unknown email, not a user) or the token's own user (left out without `--include-self`) |
//! | 130 | interrupted by Ctrl-C (a bulk run resumes when started again) |

use std::fmt;

use slack_sessions_client::api::ErrorCode;
use slack_sessions_client::{Error, NotSentReason};

/// Success.
pub const OK: u8 = 0;
/// Any other failure (local files, internal errors).
pub const FAILURE: u8 = 1;
/// Bad arguments, a missing token, a journal from another run, no confirmation.
pub const USAGE: u8 = 2;
/// Authentication or permission.
pub const AUTH: u8 = 3;
/// A Slack API error.
pub const API: u8 = 4;
/// Rate limited, or the retry budget exhausted.
pub const RATE_LIMIT: u8 = 5;
/// Network failure.
pub const NETWORK: u8 = 6;
/// A bulk run finished with some users not signed out.
pub const PARTIAL: u8 = 7;
/// A bulk run signed out every user it found, but some lines named nobody (or the token's own
/// user, left out).
pub const LINES_UNUSED: u8 = 8;
/// Interrupted by Ctrl-C.
pub const INTERRUPTED: u8 = 130;

/// A command's failure: an exit code, one readable line, and maybe a hint.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// One line, without the `error: ` prefix.
    pub message: String,
    /// What to do about it, if there is something useful to say.
    pub hint: Option<String>,
}

/// The result of a command: an exit code on success (0, or 7 for a partly failed bulk run).
pub type Result<T> = std::result::Result<T, Failure>;

impl Failure {
    /// A failure with this code and message.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }

    /// A local failure (exit 1).
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(FAILURE, message)
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Wraps a client error, prefixing `context` (what the CLI was doing).
    pub fn api(context: impl fmt::Display, err: &Error) -> Self {
        let mut failure = Failure::from(err);
        failure.message = format!("{context}: {}", failure.message);
        failure
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<slack_sessions_engine::Error> for Failure {
    fn from(err: slack_sessions_engine::Error) -> Self {
        use slack_sessions_engine::Error;
        let hint = err.hint_text().map(str::to_owned);
        let mut failure = match err {
            Error::Refused { message, .. } => Failure::new(USAGE, message),
            Error::Slack { context, source } => return Failure::api(context, &source),
            Error::Unexpected(message) => Failure::new(API, message),
            Error::Local { message, .. } => Failure::new(FAILURE, message),
            Error::Interrupted => Failure::new(
                INTERRUPTED,
                "interrupted; nothing is lost: run the same command again to resume",
            ),
            other => Failure::new(FAILURE, other.to_string()),
        };
        failure.hint = hint;
        failure
    }
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Failure::other(chain(&err))
    }
}

/// An error and its causes on one line, each cause once: a cause whose text its error already
/// shows (`cannot bind 127.0.0.1:8787: Address in use (os error 98)`) is not repeated.
pub fn chain(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// The exit code for a client error.
pub fn code_of(err: &Error) -> u8 {
    match err {
        Error::RateLimited(_) => RATE_LIMIT,
        Error::NotSent(e) if e.reason == NotSentReason::Build => FAILURE,
        Error::NotSent(_) | Error::NoAnswer(_) => NETWORK,
        Error::Http(e) if e.status >= 500 => RATE_LIMIT,
        // The token cannot do this: authentication, scopes, role, plan.
        Error::Slack(e) if e.code.is_auth() || e.code.is_permission() => AUTH,
        // The client retries these: when one comes back, the retry budget ran out.
        Error::Slack(e) if e.code.is_transient() => RATE_LIMIT,
        _ => API,
    }
}

/// The innermost cause of an error (for network errors: "Connection refused (os error 111)").
fn root_cause(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = err.source()?;
    while let Some(next) = source.source() {
        source = next;
    }
    Some(source.to_string())
}

impl From<&Error> for Failure {
    fn from(err: &Error) -> Self {
        let code = code_of(err);
        let mut message = err.to_string();
        if matches!(err, Error::NotSent(_) | Error::NoAnswer(_))
            && let Some(cause) = root_cause(err)
            && !message.contains(&cause)
        {
            message = format!("{message} ({cause})");
        }
        let mut failure = Failure::new(code, message);
        failure.hint = hint_for(err);
        failure
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::from(&err)
    }
}

fn hint_for(err: &Error) -> Option<String> {
    let text = match err {
        Error::RateLimited(_) => {
            "Slack's rate limit held after the retries; wait a minute, or raise --retries"
        }
        Error::NotSent(_) => "check the network and --api-url",
        Error::NoAnswer(_) => {
            "the connection failed after the request was sent; check the network and try again"
        }
        Error::Http(e) if e.status == 404 => "check --api-url (it should end in /api/)",
        Error::Http(_) => "Slack's servers had trouble; try again later",
        Error::Slack(e) => match &e.code {
            ErrorCode::NotAuthed | ErrorCode::InvalidAuth => {
                "check the token (--token, SLACK_TOKEN or --token-file)"
            }
            ErrorCode::TokenRevoked | ErrorCode::TokenExpired | ErrorCode::AccountInactive => {
                "the token no longer works; get a new one from an Org Owner or Admin"
            }
            ErrorCode::MissingScope => {
                "the token needs the scope shown as `needed`; reinstall the app with it"
            }
            ErrorCode::NotAllowedTokenType => {
                "the admin methods take a user token (xoxp-) of an Org Owner or Admin"
            }
            // Only the Audit Logs API answers these.
            ErrorCode::InvalidAuthentication | ErrorCode::MissingAuthentication => {
                "the audit logs take only an Org Owner's user token (xoxp-) with the \
                 auditlogs:read scope, not an Org Admin's; `whoami` shows whether the token can \
                 read them"
            }
            ErrorCode::NotAnAdmin | ErrorCode::RestrictedAction => {
                "the token must belong to an Org Owner or Org Admin"
            }
            ErrorCode::FeatureNotEnabled => "the session methods need an Enterprise Grid org",
            ErrorCode::SessionNotFound => {
                "`sessions list --user USER` shows the user's sessions and their ids"
            }
            ErrorCode::UserNotFound => {
                "check the ID (W…, U…): it must be a user of the token's org (`whoami` shows the org)"
            }
            ErrorCode::TeamNotFound => {
                "give a workspace id (T…) of this org, or its org id (E…); `sessions list` shows them"
            }
            _ => return None,
        },
        _ => return None,
    };
    Some(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(
            [
                OK,
                FAILURE,
                USAGE,
                AUTH,
                API,
                RATE_LIMIT,
                NETWORK,
                PARTIAL,
                LINES_UNUSED,
                INTERRUPTED
            ],
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 130]
        );
    }
}
