//! The control plane under `/_emulator/`: steer and inspect the emulator from tests.
//! Never reachable under `/api/`. Requests a web page could forge are refused (see
//! [`crate::forgery`]); with a control token, every route demands it as a bearer token.
//! Every answer, errors included, is a JSON object.

use std::sync::Arc;

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use slack_sessions_api::audit_logs::{Entity, Entry, action};
use slack_sessions_api::methods::DeviceRecord;
use subtle::ConstantTimeEq;

use crate::audit_logs::events::{self, Org};
use crate::faults::FaultRule;
use crate::request_log::RequestFilter;
use crate::seed::{
    ClientKind, IndefiniteClient, MAX_SESSION_ID, Seed, SessionSeed, parse_session_client,
    session_client,
};
use crate::store::{AuditEntry, Change, Changes, LogRecord};
use crate::{App, Health};

/// The control routes, relative to `/_emulator`.
pub fn router(app: &Arc<App>) -> Router<Arc<App>> {
    let router = Router::new()
        .route("/health", get(health))
        .route("/ping", get(ping).post(ping))
        .route("/reset", post(reset))
        .route("/state", get(export).put(import))
        .route("/sessions", post(login))
        .route("/sessions/{id}", delete(logout))
        .route("/audit-logs", post(audit_log))
        .route("/requests", get(requests).delete(clear_requests))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/audit", get(audit))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "no such control route") })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this control route does not take that verb",
            )
        })
        // A whole state of a million sessions is a few hundred megabytes of JSON.
        .layer(DefaultBodyLimit::max(crate::MAX_CONTROL_BODY));
    let router = if app.config.control_token.is_some() {
        router.layer(middleware::from_fn_with_state(
            Arc::clone(app),
            require_token,
        ))
    } else {
        router
    };
    // Outermost: what a web page can make a browser send is refused before anything else.
    router.layer(middleware::from_fn_with_state(
        Arc::clone(app),
        crate::forgery::refuse,
    ))
}

async fn require_token(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = app.config.control_token.as_deref().unwrap_or("");
    // An empty token is refused at start; an empty bearer never passes, whatever is configured.
    if !given.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        next.run(request).await
    } else {
        error(
            StatusCode::UNAUTHORIZED,
            "not_authed",
            "the control plane needs its bearer token",
        )
    }
}

/// The benchmarks' baseline: the same server and router, no work.
async fn ping() -> Response {
    (
        [(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        r#"{"ok":true}"#,
    )
        .into_response()
}

/// The counts `GET /_emulator/health` reports.
pub fn health_of(app: &App) -> Health {
    app.store.read(|v| Health {
        orgs: v.orgs().count(),
        users: v.orgs().map(|o| o.user_count()).sum(),
        sessions: v.orgs().map(|o| o.session_count()).sum(),
        pending_jobs: v.jobs().count(),
        audit_logs: app.store.audit_log_count().unwrap_or(0),
    })
}

/// A body, or the JSON error of one that could not be read (too large, cut short).
fn body_or_error(
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<axum::body::Bytes, ControlError> {
    body.map_err(|e| {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "request_too_large"
        } else {
            "invalid_body"
        };
        ControlError::new(status, code, &e.body_text())
    })
}

/// A query, or the JSON error of one that does not parse.
fn query_or_error<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ControlError> {
    q.map(|Query(q)| q)
        .map_err(|e| ControlError::new(StatusCode::BAD_REQUEST, "invalid_query", &e.body_text()))
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let h = health_of(&app);
    Json(json!({
        "ok": true,
        "version": env!("CARGO_PKG_VERSION"),
        "orgs": h.orgs,
        "users": h.users,
        "sessions": h.sessions,
        "pending_jobs": h.pending_jobs,
        "audit_logs": h.audit_logs,
        "rate_limits": format!("{:?}", app.limits.mode()).to_lowercase(),
    }))
    .into_response()
}

async fn export(State(app): State<Arc<App>>) -> Result<Response, ControlError> {
    Ok(Json(app.store.export()?).into_response())
}

async fn import(
    State(app): State<Arc<App>>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let seed = Seed::from_json_bytes(&body_or_error(body)?).map_err(bad("invalid_state"))?;
    app.limits.clear();
    app.store.replace(&seed)?;
    Ok(Json(json!({"ok": true})).into_response())
}

/// `?method=&since=&status=&after=ID&limit=N` for the request log.
/// (No `#[serde(flatten)]` of the filter: query strings carry numbers as text, which a
/// flattened struct cannot parse.)
#[derive(Debug, Deserialize)]
struct RequestsQuery {
    method: Option<String>,
    since: Option<u64>,
    status: Option<u16>,
    after: Option<u64>,
    #[serde(default = "requests_limit")]
    limit: usize,
}

fn requests_limit() -> usize {
    1_000
}

/// A page of the request log; `next_after` (when more entries match) is the `after` of the next.
async fn requests(
    State(app): State<Arc<App>>,
    q: Result<Query<RequestsQuery>, QueryRejection>,
) -> Result<Response, ControlError> {
    let q = query_or_error(q)?;
    let filter = RequestFilter {
        method: q.method,
        since: q.since,
        status: q.status,
        after: q.after,
    };
    let (page, more) = app.requests.page(&filter, q.limit.clamp(1, 10_000));
    let next_after = more.then(|| page.last().map(|e| e.id)).flatten();
    Ok(Json(json!({"ok": true, "requests": page, "next_after": next_after})).into_response())
}

async fn clear_requests(State(app): State<Arc<App>>) -> Response {
    app.requests.clear();
    Json(json!({"ok": true})).into_response()
}

async fn list_faults(State(app): State<Arc<App>>) -> Response {
    Json(json!({"ok": true, "faults": app.faults.list()})).into_response()
}

async fn add_fault(
    State(app): State<Arc<App>>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let rule: FaultRule =
        serde_json::from_slice(&body_or_error(body)?).map_err(bad("invalid_fault"))?;
    let rule = app.faults.add(rule).map_err(bad("invalid_fault"))?;
    Ok(Json(json!({"ok": true, "fault": rule})).into_response())
}

async fn clear_faults(State(app): State<Arc<App>>) -> Response {
    app.faults.clear();
    Json(json!({"ok": true})).into_response()
}

/// `?after=ID&limit=N` for the audit log.
#[derive(Debug, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    after: u64,
    #[serde(default = "audit_limit")]
    limit: u32,
}

fn audit_limit() -> u32 {
    10_000
}

async fn audit(
    State(app): State<Arc<App>>,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ControlError> {
    let q = query_or_error(q)?;
    let entries = app.store.audit(q.after, q.limit.min(100_000))?;
    Ok(Json(json!({"ok": true, "audit": entries})).into_response())
}

/// A control-plane error: `{"ok":false,"error":code,"detail":…}` with `status`.
pub(crate) fn error(status: StatusCode, code: &str, detail: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"ok": false, "error": code, "detail": detail.into()})),
    )
        .into_response()
}

async fn reset(State(app): State<Arc<App>>) -> Result<Response, ControlError> {
    app.limits.clear();
    app.store.reset()?;
    Ok(Json(json!({"ok": true})).into_response())
}

/// A simulated sign-in.
#[derive(Debug, Deserialize)]
struct Login {
    user_id: String,
    team_id: String,
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    session_id: Option<u64>,
    /// The client's user agent, for the audit log's `user_login` (default: one made for the
    /// client and device).
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(flatten)]
    device: DeviceRecord,
}

async fn login(
    State(app): State<Arc<App>>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let login: Login =
        serde_json::from_slice(&body_or_error(body)?).map_err(bad("invalid_json"))?;
    // `unknown` is no session's client: refused as any other name is.
    let client = match login.client.as_deref().map(parse_session_client) {
        None => ClientKind::Web,
        Some(Some(c)) => c,
        Some(None) => return Err(invalid_client(IndefiniteClient)),
    };
    let session = SessionSeed {
        session_id: login.session_id.unwrap_or(0),
        user_id: login.user_id,
        team_id: login.team_id,
        client,
        created: login.device,
        recent: None,
    };
    let id = insert_session(&app, session, login.user_agent)?;
    Ok(Json(json!({"ok": true, "session_id": id})).into_response())
}

/// A simulated sign-out.
async fn logout(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ControlError> {
    let id: u64 = id.parse().map_err(|_| {
        ControlError::new(
            StatusCode::BAD_REQUEST,
            "invalid_session_id",
            "a session id is a positive integer",
        )
    })?;
    remove_session(&app, id)?;
    Ok(Json(json!({"ok": true})).into_response())
}

/// An entry for an org's audit log.
async fn audit_log(
    State(app): State<Arc<App>>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<Response, ControlError> {
    let value: Value =
        serde_json::from_slice(&body_or_error(body)?).map_err(bad("invalid_json"))?;
    let id = insert_audit_log(&app, value)?;
    Ok(Json(json!({"ok": true, "id": id})).into_response())
}

/// A simulated sign-in: adds `session` to its user's org, with a fresh id when its id is 0.
pub fn add_session(app: &App, session: SessionSeed) -> Result<u64, SignInError> {
    insert_session(app, session, None).map_err(SignInError::from)
}

/// A simulated sign-out.
pub fn sign_out(app: &App, session_id: u64) -> Result<(), SignInError> {
    remove_session(app, session_id).map_err(SignInError::from)
}

/// Adds an entry to an org's audit log.
pub fn add_audit_log(app: &App, entry: Value) -> Result<String, SignInError> {
    insert_audit_log(app, entry).map_err(SignInError::from)
}

/// Why a simulated sign-in or sign-out, or an audit-log entry, was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
#[non_exhaustive]
pub struct SignInError {
    /// `invalid_client`, `user_not_found`, `team_not_found`, `session_exists`,
    /// `session_ids_exhausted`, `session_not_found`, `org_not_found`, `invalid_entry` or
    /// `internal_error`.
    pub code: &'static str,
    /// What was wrong.
    pub detail: String,
}

impl From<ControlError> for SignInError {
    fn from(e: ControlError) -> Self {
        SignInError {
            code: e.code,
            detail: e.detail,
        }
    }
}

/// Ends a session and records its `user_logout`.
fn remove_session(app: &App, id: u64) -> Result<(), ControlError> {
    app.store.write(|view| {
        let found = view
            .orgs()
            .find_map(|org| org.session_seed(id).map(|s| (org, s)));
        let Some((org, session)) = found else {
            return Err(ControlError::new(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "no org has this session",
            ));
        };
        let user = org.user(&session.user_id).ok_or_else(|| {
            ControlError::new(
                StatusCode::NOT_FOUND,
                "user_not_found",
                "the session's user is gone",
            )
        })?;
        let device = session.recent.as_ref().unwrap_or(&session.created);
        let context = events::session_context(org.into(), &session, device, None);
        let entity = Entity::user(events::user(org.into(), user));
        let logout = events::record(org.into(), action::USER_LOGOUT, user, entity, context);
        Ok(Changes {
            value: (),
            changes: vec![Change::RemoveSessions {
                org: org.key(),
                ids: vec![id],
            }],
            audit: Some(AuditEntry::now(
                org.id(),
                "emulator",
                "_emulator/sessions (sign-out)",
                vec![session.user_id.clone()],
                vec![id],
            )),
            audit_logs: vec![logout],
        })
    })
}

/// Completes and records an entry given to `POST /_emulator/audit-logs`:
/// - `org_id` (not part of the entry) names the org; without it, the org of the actor's user;
/// - `actor` and `entity` may be a bare user id (`"actor": "W0123"`), and a user object with
///   only an `id` is completed from the org's users;
/// - without `entity`, the actor is the entity (a sign-in, a failed sign-in, an anomaly);
/// - without `context.location`, the org; without `id`, a fresh one; without `date_create`,
///   now.
fn insert_audit_log(app: &App, value: Value) -> Result<String, ControlError> {
    let invalid =
        |detail: &str| ControlError::new(StatusCode::BAD_REQUEST, "invalid_entry", detail);
    let Value::Object(mut map) = value else {
        return Err(invalid("an entry is a JSON object"));
    };
    let org_id = match map.remove("org_id") {
        None => None,
        Some(Value::String(id)) => Some(id),
        Some(_) => return Err(invalid("org_id is a string")),
    };
    // A bare user id stands for a user object.
    for key in ["actor", "entity"] {
        if let Some(Value::String(id)) = map.get(key) {
            let id = id.clone();
            map.insert(key.into(), json!({"type": "user", "user": {"id": id}}));
        }
    }
    let actor_id = map
        .get("actor")
        .and_then(|a| a.pointer("/user/id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    app.store.write(|view| {
        let org = match (&org_id, &actor_id) {
            (Some(id), _) => view.org_by_id(id),
            (None, Some(user)) => view.org_of_user(user),
            (None, None) => None,
        }
        .ok_or_else(|| {
            ControlError::new(
                StatusCode::NOT_FOUND,
                "org_not_found",
                "give org_id, or an actor who is a user of an org",
            )
        })?;
        let o = Org::from(org);
        if !map.contains_key("entity")
            && let Some(actor) = map.get("actor").cloned()
        {
            map.insert("entity".into(), actor);
        }
        for key in ["actor", "entity"] {
            let Some(user) = map.get_mut(key).and_then(|v| v.get_mut("user")) else {
                continue;
            };
            let known = user
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| org.user(id));
            if let (Some(known), Some(given)) = (known, user.as_object_mut()) {
                let full = serde_json::to_value(events::user(o, known)).unwrap_or_default();
                for (k, v) in full.as_object().into_iter().flatten() {
                    given.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        let context = map.entry("context").or_insert_with(|| json!({}));
        if let Some(context) = context.as_object_mut() {
            context.entry("location").or_insert_with(|| {
                serde_json::to_value(events::org_location(o)).unwrap_or_default()
            });
        }
        map.entry("date_create")
            .or_insert_with(|| events::now().into());
        let mut entry: Entry = serde_json::from_value(Value::Object(map.clone()))
            .map_err(|e| invalid(&e.to_string()))?;
        if entry.action.trim().is_empty() {
            return Err(invalid("an entry needs an action"));
        }
        if entry.id.is_empty() {
            entry.id = events::new_id(&mut rand::rng());
        }
        let id = entry.id.clone();
        let mut asked = Changes::nothing(id);
        asked.audit_logs.push(LogRecord {
            org_id: org.id().to_owned(),
            entry,
        });
        Ok(asked)
    })
}

fn insert_session(
    app: &App,
    mut session: SessionSeed,
    user_agent: Option<String>,
) -> Result<u64, ControlError> {
    // A stored session always has a definite kind (this is `Emulator::add_session`'s check).
    session_client(session.client).map_err(invalid_client)?;
    app.store.write(|view| {
        let Some(org) = view.org_of_user(&session.user_id) else {
            return Err(ControlError::new(
                StatusCode::NOT_FOUND,
                "user_not_found",
                "no org has this user",
            ));
        };
        if !org.has_team(&session.team_id) {
            return Err(ControlError::new(
                StatusCode::NOT_FOUND,
                "team_not_found",
                "the team is not in the user's org",
            ));
        }
        // Ids are SQLite integers: at most i64::MAX, so that an export always imports back.
        // An automatic id is above every id ever given out (Slack never reuses one); an
        // explicit one is the caller's choice, refused only while it is taken.
        let id = match session.session_id {
            0 => {
                let next = view.last_session_id().max(1_000_000_000_000) + 1;
                if next > MAX_SESSION_ID {
                    return Err(ControlError::new(
                        StatusCode::CONFLICT,
                        "session_ids_exhausted",
                        "no session id is left above the highest one: give session_id",
                    ));
                }
                next
            }
            id if id > MAX_SESSION_ID => {
                return Err(ControlError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_session_id",
                    "session_id must be at most 9223372036854775807",
                ));
            }
            id if view.session_exists(id) => {
                return Err(ControlError::new(
                    StatusCode::CONFLICT,
                    "session_exists",
                    "the session id is taken",
                ));
            }
            id => id,
        };
        session.session_id = id;
        let audit = AuditEntry::now(
            org.id(),
            "emulator",
            "_emulator/sessions",
            vec![session.user_id.clone()],
            vec![id],
        );
        let login = org.user(&session.user_id).map(|user| {
            let context =
                events::session_context(org.into(), &session, &session.created, user_agent);
            let entity = Entity::user(events::user(org.into(), user));
            events::record(org.into(), action::USER_LOGIN, user, entity, context)
        });
        Ok(Changes {
            value: id,
            changes: vec![Change::AddSession {
                org: org.key(),
                session: Box::new(session),
            }],
            audit: Some(audit),
            audit_logs: login.into_iter().collect(),
        })
    })
}

/// A control-plane error, small enough to pass through [`crate::store::Store::write`].
#[derive(Debug)]
struct ControlError {
    status: StatusCode,
    code: &'static str,
    detail: String,
}

impl ControlError {
    fn new(status: StatusCode, code: &'static str, detail: &str) -> Self {
        ControlError {
            status,
            code,
            detail: detail.to_owned(),
        }
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        error(self.status, self.code, self.detail)
    }
}

/// The 400 `invalid_client` of a sign-in on no session's client (`unknown`, or no kind at all).
fn invalid_client(e: IndefiniteClient) -> ControlError {
    ControlError::new(StatusCode::BAD_REQUEST, "invalid_client", &e.to_string())
}

/// A 400 with `code` for an input the control plane cannot use.
fn bad<E: std::fmt::Display>(code: &'static str) -> impl Fn(E) -> ControlError {
    move |e| ControlError::new(StatusCode::BAD_REQUEST, code, &e.to_string())
}

impl From<crate::store::StoreError> for ControlError {
    fn from(e: crate::store::StoreError) -> Self {
        ControlError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            detail: e.to_string(),
        }
    }
}
