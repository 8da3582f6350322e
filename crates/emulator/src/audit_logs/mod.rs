//! Slack's Audit Logs API, served at `/audit/v1/` beside `/api/` as Slack serves it at
//! `https://api.slack.com/audit/v1/` (Slack's reference:
//! <https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference>).
//!
//! - `GET /audit/v1/logs`: the token's org's entries, newest first, filtered and paged by
//!   keyset cursor (see [`crate::store::LogQuery`]). The token must be a user token of an org
//!   **owner** (Slack: "Enterprise organization administrator tokens are not currently
//!   supported") with `auditlogs:read`; anything else is `invalid_authentication`, no token
//!   `missing_authentication`, a workspace outside Enterprise Grid `feature_not_enabled`.
//!   Tier 3 (50 a minute, the burst included) counted for the whole org, every app and token
//!   of it together, under the emulator's `--rate-limits`.
//! - `GET /audit/v1/schemas` and `/actions`: Slack's recorded answers, without a token.
//!
//! Errors are `{"ok":false,"error":"…"}` with an HTTP status (Slack documents the codes, not
//! the statuses): 401 for authentication, 403 `feature_not_enabled`, 400 for a bad filter or
//! cursor, 429 `rate_limited` with `Retry-After`, 404 `bad_endpoint`, 405 for a verb other
//! than GET. A success has no `ok` field, as Slack's has none.
//!
//! Which events write entries is in [`events`]; the entries themselves live in SQLite only
//! ([`crate::store`]), written in the transaction of the change they record.

pub mod events;
pub mod history;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode, Uri, header};
use slack_sessions_api::audit_logs::{
    ACTIONS_JSON, AuditLogs, AuditLogsArgs, SCHEMAS_JSON, is_known_action,
};
use slack_sessions_api::{ErrorCode, Method, MethodInfo, Validate, wire};

pub use events::{Peer, new_id};

use crate::App;
use crate::api::Who;
use crate::cursor::{self, Kind};
use crate::request_log::LoggedRequest;
use crate::seed::{Role, TokenState, TokenType};
use crate::store::{LogQuery, LogRow, OrgView, Position, View};

/// `/logs` as the rate limiter and the request log know it.
static LOGS: MethodInfo = MethodInfo::of::<AuditLogs>();

/// A page of `/logs` without `limit` (Slack does not document its default).
pub const DEFAULT_LIMIT: u32 = 100;

/// The axum handler of `/audit/v1/{*path}`.
pub async fn route(
    State(app): State<Arc<App>>,
    uri: Uri,
    method: HttpMethod,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let path = uri.path().strip_prefix("/audit/v1/").unwrap_or("");
    // One id per request, on its answer and in the request log, as for the API.
    let request_id = format!("{:032x}", rand::random::<u128>());
    let mut response = if method != HttpMethod::GET {
        let mut r = error_response(ErrorAnswer::new(ErrorCode::MethodNotAllowed));
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        r
    } else {
        match path {
            // A page is read from SQLite: off the async workers.
            "logs" => {
                let app = Arc::clone(&app);
                let id = request_id.clone();
                tokio::task::spawn_blocking(move || logs(&app, &headers, query.as_deref(), &id))
                    .await
                    .unwrap_or_else(|err| {
                        tracing::error!(%err, "an audit-log read panicked");
                        error_response(ErrorAnswer::new(ErrorCode::InternalError))
                    })
            }
            "schemas" => json(StatusCode::OK, SCHEMAS_JSON.as_bytes().to_vec()),
            "actions" => json(StatusCode::OK, ACTIONS_JSON.as_bytes().to_vec()),
            _ => error_response(ErrorAnswer::new(ErrorCode::BadEndpoint)),
        }
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&app.limits.mode().to_string()) {
        h.insert("x-slack-sessions-rate-limits", v);
    }
    h.insert(
        "x-slack-req-id",
        HeaderValue::from_str(&request_id).expect("hex is a valid header"),
    );
    response
}

/// An error answer of the Audit Logs API.
#[derive(Debug)]
struct ErrorAnswer {
    code: ErrorCode,
    retry_after: Option<u64>,
}

impl ErrorAnswer {
    fn new(code: ErrorCode) -> Self {
        ErrorAnswer {
            code,
            retry_after: None,
        }
    }

    fn status(&self) -> StatusCode {
        match self.code {
            ErrorCode::MissingAuthentication | ErrorCode::InvalidAuthentication => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::FeatureNotEnabled => StatusCode::FORBIDDEN,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::BadEndpoint => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<crate::store::StoreError> for ErrorAnswer {
    fn from(err: crate::store::StoreError) -> Self {
        tracing::error!(%err, "reading the audit logs failed");
        ErrorAnswer::new(ErrorCode::InternalError)
    }
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// `f` as a response: `{"ok":false,"error":…}`, its HTTP status, `Retry-After` for a 429.
fn error_response(f: ErrorAnswer) -> Response {
    let body = serde_json::to_vec(&serde_json::json!({"ok": false, "error": f.code.as_str()}))
        .expect("an error body serializes");
    let mut r = json(f.status(), body);
    if let Some(secs) = f.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// The bearer token of the `Authorization` header, the only place the Audit Logs API takes it.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The org whose log `token` may read: a valid user token of an owner of a Grid org, with
/// `auditlogs:read`.
fn owners_org<'s>(view: View<'s>, token: Option<&str>) -> Result<OrgView<'s>, ErrorAnswer> {
    let token = token.ok_or(ErrorAnswer::new(ErrorCode::MissingAuthentication))?;
    let invalid = || ErrorAnswer::new(ErrorCode::InvalidAuthentication);
    let record = view.token(token).ok_or_else(invalid)?;
    let org = record.org;
    let user = org
        .user(&record.seed.user_id)
        .filter(|u| !u.deleted)
        .ok_or_else(invalid)?;
    if record.seed.state != TokenState::Active || record.seed.kind() != TokenType::User {
        return Err(invalid());
    }
    if !org.grid() {
        return Err(ErrorAnswer::new(ErrorCode::FeatureNotEnabled));
    }
    let owner = matches!(user.role, Role::Owner | Role::PrimaryOwner);
    let scope = AuditLogs::SCOPE.map(|s| s.as_str());
    let scoped = record.seed.scopes.iter().any(|s| Some(s.as_str()) == scope);
    if !owner || !scoped {
        return Err(invalid());
    }
    Ok(org)
}

/// `GET /audit/v1/logs`, logged like an API call (method `audit/v1/logs`).
fn logs(app: &App, headers: &HeaderMap, query: Option<&str>, request_id: &str) -> Response {
    let started = Instant::now();
    let mut logged = LoggedRequest::new(crate::clock::now_ms(), LOGS.name, request_id);
    let token = bearer(headers);
    let raw = wire::decode_body(None, query, b"");
    if let Ok(raw) = &raw {
        logged.set_args(&raw.args);
    }
    let answer = app.store.read_audit_logs(|view, reader| {
        logged.set_who(Who::of(view, token).as_ref());
        let org = owners_org(view, token)?;
        // Counted for the whole org: every app and token of it share one budget.
        app.limits
            .check(&LOGS, org.id(), "")
            .map_err(|f| ErrorAnswer {
                code: ErrorCode::RateLimited,
                retry_after: f.retry_after,
            })?;
        let args: AuditLogsArgs = raw
            .map_err(|_| ErrorAnswer::new(ErrorCode::InvalidArguments))
            .and_then(|raw| {
                wire::args_from_map(raw.args)
                    .map_err(|_| ErrorAnswer::new(ErrorCode::InvalidArguments))
            })?;
        args.validate().map_err(|e| ErrorAnswer::new(e.code))?;
        let now = events::now();
        if args.oldest.is_some_and(|t| t > now) || args.latest.is_some_and(|t| t > now) {
            return Err(ErrorAnswer::new(ErrorCode::InvalidRange));
        }
        let mut actions: Vec<&str> = args.action_names().collect();
        if actions.iter().any(|a| !is_known_action(a)) {
            return Err(ErrorAnswer::new(ErrorCode::InvalidAction));
        }
        actions.sort_unstable();
        // The cursor is bound to the org and to every filter but the page size.
        let scope = format!(
            "{}|{}|{}|{}|{:?}|{:?}",
            org.id(),
            args.actor.as_ref().map_or("", |a| a.as_str()),
            args.entity.as_deref().unwrap_or(""),
            actions.join(","),
            args.oldest,
            args.latest,
        );
        let after = match args.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                cursor::decode(c, Kind::AuditLog, &scope)
                    .and_then(|p| parse_position(&p))
                    .ok_or(ErrorAnswer::new(ErrorCode::InvalidCursor))?,
            ),
        };
        let limit = args.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let mut rows = reader.page(&LogQuery {
            org_id: org.id(),
            actor: args.actor.as_ref().map(|a| a.as_str()),
            entity: args.entity.as_deref(),
            actions,
            oldest: args.oldest,
            latest: args.latest,
            after,
            limit,
        })?;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            let last = rows.last().map(|r| r.position).expect("a full page");
            cursor::encode(
                Kind::AuditLog,
                &format!("{}:{}", last.date, last.seq),
                &scope,
            )
        } else {
            String::new()
        };
        Ok(page_json(&rows, &next))
    });
    let response = match answer {
        Ok(body) => {
            logged.status = 200;
            json(StatusCode::OK, body)
        }
        Err(f) => {
            logged.status = f.status().as_u16();
            logged.error = Some(f.code.as_str().to_owned());
            error_response(f)
        }
    };
    app.requests.record(logged, started);
    response
}

/// A page's body: the entries' JSON as stored, spliced in (nothing is decoded), and the next
/// cursor.
fn page_json(rows: &[LogRow], next: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(rows.iter().map(|r| r.json.len() + 1).sum::<usize>() + 96);
    body.extend_from_slice(b"{\"entries\":[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(row.json.as_bytes());
    }
    body.extend_from_slice(b"],\"response_metadata\":{\"next_cursor\":");
    body.extend_from_slice(
        serde_json::to_string(next)
            .expect("a string serializes")
            .as_bytes(),
    );
    body.extend_from_slice(b"}}");
    body
}

/// A position of the log as a cursor carries it: `date_create:seq`.
fn parse_position(s: &str) -> Option<Position> {
    let (date, seq) = s.split_once(':')?;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(date) || !digits(seq) {
        return None;
    }
    Some(Position {
        date: date.parse().ok()?,
        seq: seq.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_garbage_is_refused() {
        assert_eq!(
            parse_position("1700000000:42"),
            Some(Position {
                date: 1_700_000_000,
                seq: 42
            })
        );
        for bad in [
            "",
            ":",
            "1:",
            ":1",
            "-1:2",
            "1:-2",
            "a:1",
            "1:2:3",
            "99999999999999999999:1",
        ] {
            assert_eq!(parse_position(bad), None, "{bad}");
        }
    }
}
