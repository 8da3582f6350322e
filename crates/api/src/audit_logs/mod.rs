//! Slack's Audit Logs API (`https://api.slack.com/audit/v1/`): the history of an Enterprise
//! Grid org, read-only, one description for the client and the emulator.
//!
//! Three endpoints, `GET` only ([Slack's reference]):
//!
//! - [`AuditLogs`] (`/logs`): the org's entries, newest first, filtered by [`AuditLogsArgs`]
//!   (`latest`, `oldest`, `limit` ≤ 9,999, `action` a comma list of ≤ 30 names, `actor`,
//!   `entity`, `cursor`); the next page's cursor is `response_metadata.next_cursor`. It needs a
//!   user token of an org **owner** with the `auditlogs:read` scope, and is rate limited at
//!   tier 3 counted for the whole org, not per app;
//! - [`AuditSchemas`] (`/schemas`) and [`AuditActions`] (`/actions`): the kinds of objects and
//!   the action names, without a token.
//!
//! Unlike the Web API, a successful answer carries no `ok` field; an error is
//! `{"ok":false,"error":"…"}` with an HTTP status of its own (`401` for a bad token, `429` with
//! `Retry-After` for the rate limit).
//!
//! The entry types ([`Entry`] and its parts) keep every field they do not model in an `extra`
//! map, as both official SDKs do, because Slack adds fields and actions over time.
//!
//! ```
//! use slack_sessions_api::audit_logs::{AuditLogsArgs, action};
//!
//! let args = AuditLogsArgs::new()
//!     .actor("W0DEMO0005")
//!     .actions([action::USER_LOGIN, action::USER_LOGOUT])
//!     .oldest(1_700_000_000)
//!     .limit(200);
//! assert_eq!(args.action.as_deref(), Some("user_login,user_logout"));
//! ```
//!
//! [Slack's reference]: https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference

mod catalogue;
mod entry;

use serde::{Deserialize, Serialize};

pub use catalogue::{
    ACTIONS_JSON, AuditActionsResponse, AuditSchemasResponse, SCHEMAS_JSON, action,
    is_known_action, known_actions,
};
pub use entry::{
    Actor, Context, ContextSessionId, Details, Entity, Entry, EntryUser, Location, OrgRef,
    client_kind_of_user_agent,
};

use crate::validate::InvalidArgs;
use crate::{ErrorCode, Method, ResponseMetadata, Scope, Tier, UserId, lenient};

/// Slack's Audit Logs API.
pub const SLACK_AUDIT_URL: &str = "https://api.slack.com/audit/v1/";
/// The largest page of `/logs`.
pub const MAX_LIMIT: u32 = 9_999;
/// The most action names one `/logs` call may filter by.
pub const MAX_ACTIONS: usize = 30;
/// The earliest `oldest` Slack accepts: "data is not available prior to March 2018"
/// (2018-03-01T00:00:00Z); earlier is `invalid_range`.
pub const EARLIEST: u64 = 1_519_862_400;

/// `GET /audit/v1/logs`: the org's audit entries, newest first.
///
/// # Errors
///
/// The codes Slack documents for the Audit Logs API (its [`ERRORS`](crate::Method::ERRORS)):
/// - [`MissingAuthentication`](crate::ErrorCode::MissingAuthentication),
///   [`InvalidAuthentication`](crate::ErrorCode::InvalidAuthentication) (also: not an org
///   owner's token, or no `auditlogs:read`);
/// - [`FeatureNotEnabled`](crate::ErrorCode::FeatureNotEnabled) (not Enterprise Grid);
/// - [`InvalidCursor`](crate::ErrorCode::InvalidCursor), [`InvalidRange`](crate::ErrorCode::InvalidRange),
///   [`InvalidAction`](crate::ErrorCode::InvalidAction);
/// - [`RateLimited`](crate::ErrorCode::RateLimited) (HTTP 429);
/// - [`BadEndpoint`](crate::ErrorCode::BadEndpoint), [`InvalidWorkspace`](crate::ErrorCode::InvalidWorkspace),
///   [`MethodNotAllowed`](crate::ErrorCode::MethodNotAllowed),
///   [`TeamNotAuthorized`](crate::ErrorCode::TeamNotAuthorized),
///   [`UserNotAuthorized`](crate::ErrorCode::UserNotAuthorized).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuditLogs;

/// `GET /audit/v1/schemas`: the kinds of objects entries describe. No token needed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuditSchemas;

/// `GET /audit/v1/actions`: the action names, by category. No token needed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuditActions;

impl Method for AuditLogs {
    const NAME: &'static str = "audit/v1/logs";
    const SCOPE: Option<Scope> = Some(Scope::AuditLogsRead);
    // "Tier 3: up to 50 calls per minute", counted for the whole organization.
    const TIER: Tier = Tier::Tier3;
    // Not an `admin.*` method: its own rules (an org owner's user token) apply.
    const ADMIN: bool = false;
    const WRITES: bool = false;
    const IDEMPOTENT: bool = true;
    const ERRORS: &'static [ErrorCode] = &[
        ErrorCode::BadEndpoint,
        ErrorCode::FeatureNotEnabled,
        ErrorCode::InvalidAction,
        ErrorCode::InvalidAuthentication,
        ErrorCode::InvalidCursor,
        ErrorCode::InvalidRange,
        ErrorCode::InvalidWorkspace,
        ErrorCode::MethodNotAllowed,
        ErrorCode::MissingAuthentication,
        ErrorCode::RateLimited,
        ErrorCode::TeamNotAuthorized,
        ErrorCode::UserNotAuthorized,
    ];
    type Args = AuditLogsArgs;
    type Response = AuditLogsResponse;
}

impl Method for AuditSchemas {
    const NAME: &'static str = "audit/v1/schemas";
    const SCOPE: Option<Scope> = None;
    const TIER: Tier = Tier::Tier3;
    const ADMIN: bool = false;
    const WRITES: bool = false;
    const IDEMPOTENT: bool = true;
    type Args = crate::methods::Empty;
    type Response = AuditSchemasResponse;
}

impl Method for AuditActions {
    const NAME: &'static str = "audit/v1/actions";
    const SCOPE: Option<Scope> = None;
    const TIER: Tier = Tier::Tier3;
    const ADMIN: bool = false;
    const WRITES: bool = false;
    const IDEMPOTENT: bool = true;
    type Args = crate::methods::Empty;
    type Response = AuditActionsResponse;
}

/// The path of an Audit Logs endpoint relative to the API's base URL (`logs` for
/// [`AuditLogs`]).
pub fn path_of<M: Method>() -> &'static str {
    M::NAME.strip_prefix("audit/v1/").unwrap_or(M::NAME)
}

/// The filter of `/logs` (query-string arguments, all optional and combined with AND).
///
/// `action` travels as Slack takes it, one comma-separated string; [`action`](Self::action)
/// and [`actions`](Self::actions) add names to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditLogsArgs {
    /// The most recent event to include, Unix seconds (inclusive).
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub latest: Option<u64>,
    /// The least recent event to include, Unix seconds (inclusive); not before March 2018.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub oldest: Option<u64>,
    /// Entries per page, 1 to 9,999 ("optimistically": a page may hold fewer with more to come).
    #[serde(
        default,
        deserialize_with = "lenient::opt_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<u32>,
    /// Action names, comma-separated, at most 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The user who acted (`USLACKSECURITY` when Slack Security did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<UserId>,
    /// The id of what was acted on: a user, workspace, org, channel, file…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The previous page's `response_metadata.next_cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl AuditLogsArgs {
    /// Every entry of the org.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only entries at or before `unix_seconds`.
    pub fn latest(mut self, unix_seconds: u64) -> Self {
        self.latest = Some(unix_seconds);
        self
    }

    /// Only entries at or after `unix_seconds`.
    pub fn oldest(mut self, unix_seconds: u64) -> Self {
        self.oldest = Some(unix_seconds);
        self
    }

    /// Entries per page, 1 to 9,999.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Adds one action name to the filter (see [`action`] for the session-related ones).
    pub fn action(self, name: impl AsRef<str>) -> Self {
        self.actions([name])
    }

    /// Adds action names to the filter.
    pub fn actions<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, names: I) -> Self {
        let mut list: Vec<String> = self.action_names().map(str::to_owned).collect();
        for name in names {
            let name = name.as_ref().trim();
            if !name.is_empty() && !list.iter().any(|n| n == name) {
                list.push(name.to_owned());
            }
        }
        self.action = (!list.is_empty()).then(|| list.join(","));
        self
    }

    /// Only entries whose actor is `user`.
    pub fn actor(mut self, user: impl Into<UserId>) -> Self {
        self.actor = Some(user.into());
        self
    }

    /// Only entries about `id` (a user, workspace, org, channel…).
    pub fn entity(mut self, id: impl Into<String>) -> Self {
        self.entity = Some(id.into());
        self
    }

    /// Continue from a previous page's `next_cursor`.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// The action names of the filter, each once, in the order given.
    pub fn action_names(&self) -> impl Iterator<Item = &str> {
        let mut seen = std::collections::HashSet::new();
        self.action
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(move |n| !n.is_empty() && seen.insert(*n))
    }

    /// The arguments as query-string pairs (a GET carries no body).
    pub fn to_query(&self) -> Vec<(String, String)> {
        crate::wire::to_form(self)
    }
}

impl crate::Validate for AuditLogsArgs {
    /// The checks that need no state: `limit` 1 to 9,999 (`invalid_arguments`), at most 30
    /// action names (`invalid_action`), `oldest` not after `latest` and not before March 2018
    /// (`invalid_range`). Unknown names and a range in the future are the server's to judge.
    fn validate(&self) -> Result<(), InvalidArgs> {
        crate::validate::page_limit(self.limit, MAX_LIMIT)?;
        let names = self.action_names().count();
        if names > MAX_ACTIONS {
            return Err(InvalidArgs::code(
                ErrorCode::InvalidAction,
                format!("at most {MAX_ACTIONS} actions, got {names}"),
            ));
        }
        if let (Some(oldest), Some(latest)) = (self.oldest, self.latest)
            && oldest > latest
        {
            return Err(InvalidArgs::code(
                ErrorCode::InvalidRange,
                "oldest is after latest",
            ));
        }
        if self.oldest.is_some_and(|o| o < EARLIEST) {
            return Err(InvalidArgs::code(
                ErrorCode::InvalidRange,
                "no data before March 2018",
            ));
        }
        Ok(())
    }
}

/// A page of `/logs`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditLogsResponse {
    /// The entries, newest first.
    #[serde(default)]
    pub entries: Vec<Entry>,
    /// `next_cursor`: `""` (or absent) on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_metadata: Option<ResponseMetadata>,
}

impl AuditLogsResponse {
    /// A page with its next cursor (`""` on the last page).
    pub fn new(entries: Vec<Entry>, next_cursor: impl Into<String>) -> Self {
        AuditLogsResponse {
            entries,
            response_metadata: Some(ResponseMetadata {
                next_cursor: Some(next_cursor.into()),
                ..ResponseMetadata::default()
            }),
        }
    }

    /// The next page's cursor; `None` on the last page (`""`, null or absent).
    pub fn next_cursor(&self) -> Option<&str> {
        self.response_metadata
            .as_ref()
            .and_then(|m| m.next_cursor.as_deref())
            .filter(|c| !c.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Validate;

    #[test]
    fn the_filter_builds_a_comma_list_and_checks_itself() {
        let args =
            AuditLogsArgs::new()
                .action("user_login")
                .actions(["user_logout", "user_login", " "]);
        assert_eq!(args.action.as_deref(), Some("user_login,user_logout"));
        assert_eq!(
            args.action_names().collect::<Vec<_>>(),
            ["user_login", "user_logout"]
        );
        assert!(args.validate().is_ok());
        let many = AuditLogsArgs::new().actions((0..31).map(|i| format!("a{i}")));
        assert_eq!(many.validate().unwrap_err().code, ErrorCode::InvalidAction);
        assert_eq!(
            AuditLogsArgs::new()
                .limit(10_000)
                .validate()
                .unwrap_err()
                .code,
            ErrorCode::InvalidArguments
        );
        assert!(AuditLogsArgs::new().limit(9_999).validate().is_ok());
        let backwards = AuditLogsArgs::new().oldest(EARLIEST + 10).latest(EARLIEST);
        assert_eq!(
            backwards.validate().unwrap_err().code,
            ErrorCode::InvalidRange
        );
        let early = AuditLogsArgs::new().oldest(EARLIEST - 1);
        assert_eq!(early.validate().unwrap_err().code, ErrorCode::InvalidRange);
    }

    #[test]
    fn the_query_string_is_slacks() {
        let args = AuditLogsArgs::new()
            .limit(2)
            .actor("W1")
            .actions(["user_login", "anomaly"])
            .cursor("abc=");
        assert_eq!(
            args.to_query(),
            [
                ("limit".to_owned(), "2".to_owned()),
                ("action".to_owned(), "user_login,anomaly".to_owned()),
                ("actor".to_owned(), "W1".to_owned()),
                ("cursor".to_owned(), "abc=".to_owned()),
            ]
        );
        assert_eq!(path_of::<AuditLogs>(), "logs");
        assert_eq!(path_of::<AuditActions>(), "actions");
    }
}
