//! `/api/<method>`: the request path, one straight line that no method skips:
//! decode → authenticate and authorize → rate limit → decode arguments → execute → encode.

mod auth;
mod failure;
pub mod handlers;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode, header};
use serde_json::{Map, Value};
use slack_sessions_api::methods::*;
use slack_sessions_api::{ErrorCode, Method, MethodInfo, Status, WarningCode, envelope, wire};

pub use auth::Caller;
pub use failure::Failure;
use handlers::Handler;

use crate::App;
use crate::faults::{Call, Effect, FaultRule};
use crate::journal::JournalEntry;
use crate::net::ConnHandle;

/// An answer: HTTP status and JSON body, plus the scope headers.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub http: StatusCode,
    /// The JSON body.
    pub body: Vec<u8>,
    /// `x-oauth-scopes`, when the token is known.
    pub scopes: Option<String>,
    /// `x-accepted-oauth-scopes`, when the method is known.
    pub accepted: Option<&'static str>,
    /// `retry-after` seconds.
    pub retry_after: Option<u64>,
    /// The Slack error code, for the journal.
    pub error: Option<ErrorCode>,
}

fn failure_answer(f: Failure, warnings: &[WarningCode]) -> Answer {
    let mut status = Status::failure(f.code.clone());
    status.needed = f.needed;
    status.provided = f.provided;
    status.add_warnings(warnings);
    for m in f.messages {
        status.add_message(m);
    }
    Answer {
        http: f.http,
        body: envelope::encode::<()>(&status, None),
        scopes: None,
        accepted: None,
        retry_after: f.retry_after,
        error: Some(f.code),
    }
}

fn run<M: Handler>(
    app: &App,
    caller: &Caller,
    args: Map<String, Value>,
    warnings: &[WarningCode],
) -> Result<Vec<u8>, Failure> {
    let args: M::Args = wire::args_from_map(args)
        .map_err(|e| Failure::new(ErrorCode::InvalidArguments).message(e.to_string()))?;
    let reply = M::handle(app, caller, args)?;
    let mut status = Status::success(warnings);
    if let Some(cursor) = reply.next_cursor {
        status.metadata_mut().next_cursor = Some(cursor);
    }
    Ok(M::encode(&status, &reply.body))
}

fn dispatch(
    app: &App,
    method: &MethodInfo,
    caller: &Caller,
    args: Map<String, Value>,
    warnings: &[WarningCode],
) -> Result<Vec<u8>, Failure> {
    macro_rules! route {
        ($($m:ty),* $(,)?) => {
            $(if method.name == <$m>::NAME {
                return run::<$m>(app, caller, args, warnings);
            })*
        };
    }
    route!(
        Invalidate,
        Reset,
        ResetBulk,
        List,
        GetSettings,
        SetSettings,
        ClearSettings,
        AuthTest,
        LookupByEmail,
    );
    Err(Failure::new(ErrorCode::UnknownMethod))
}

/// A request, decoded but not yet answered.
#[derive(Debug)]
pub struct Request {
    /// The method, if known.
    pub method: Option<&'static MethodInfo>,
    /// The decoded arguments, or the error the body earned.
    pub raw: Result<wire::RawArgs, wire::WireError>,
    /// The token, from wherever it came.
    pub token: Option<String>,
}

impl Request {
    /// Decodes a request (never fails: errors are kept for the answer).
    pub fn decode(
        http_method: &HttpMethod,
        name: &str,
        headers: &HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Self {
        let method = MethodInfo::find(name);
        let raw = if http_method == HttpMethod::GET {
            wire::decode_body(None, query, b"")
        } else {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            wire::decode_body(content_type, query, body)
        };
        // A JSON body's token must come in the Authorization header (contract §1.1).
        let form_token = raw
            .as_ref()
            .ok()
            .filter(|r| !r.json)
            .and_then(|r| r.token.as_deref());
        let token = auth::token(headers, form_token).map(str::to_owned);
        Request { method, raw, token }
    }
}

/// Answers one API call (everything but the transport).
pub fn answer(
    app: &App,
    http_method: &HttpMethod,
    name: &str,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Answer {
    respond(
        app,
        name,
        Request::decode(http_method, name, headers, query, body),
    )
}

/// Answers a decoded request: authenticate, authorize, rate-limit, execute, encode.
pub fn respond(app: &App, name: &str, request: Request) -> Answer {
    let Some(method) = request.method else {
        return failure_answer(
            Failure::new(ErrorCode::UnknownMethod).message(format!("unknown method {name:?}")),
            &[],
        );
    };
    let accepted = method.scope.map(|s| s.as_str());
    let raw = match request.raw {
        Ok(raw) => raw,
        Err(e) => {
            let mut a = failure_answer(Failure::new(e.code).message(e.detail), &[]);
            a.accepted = accepted;
            return a;
        }
    };
    let token = request.token.as_deref();
    let (caller, scopes) = {
        let state = app.store.read();
        (
            auth::authorize(&state, token, method),
            auth::scopes_of(&state, token),
        )
    };
    let result = caller.and_then(|caller| {
        if let Some(token) = token
            && app.limits.mode() != crate::RateLimits::Off
        {
            let state = app.store.read();
            app.limits
                .check(method, &state.orgs[caller.org].id, token)?;
        }
        dispatch(app, method, &caller, raw.args, &raw.warnings)
    });
    let mut answer = match result {
        Ok(body) => Answer {
            http: StatusCode::OK,
            body,
            scopes: None,
            accepted: None,
            retry_after: None,
            error: None,
        },
        Err(f) => failure_answer(f, &raw.warnings),
    };
    answer.scopes = scopes;
    answer.accepted = accepted;
    answer
}

/// An answer for a fault that replaces the call's own.
fn fault_answer(effect: &Effect, accepted: Option<&'static str>) -> Option<Answer> {
    let failure = match effect {
        Effect::Error(code) => Failure::new(ErrorCode::parse(code)),
        Effect::RateLimited(secs) => Failure::rate_limited(*secs),
        _ => return None,
    };
    let mut answer = failure_answer(failure, &[]);
    answer.accepted = accepted;
    Some(answer)
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.http, self.body).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        // On every answer, empty when the token or the method is unknown.
        let scopes = self.scopes.and_then(|s| HeaderValue::from_str(&s).ok());
        h.insert(
            "x-oauth-scopes",
            scopes.unwrap_or(HeaderValue::from_static("")),
        );
        h.insert(
            "x-accepted-oauth-scopes",
            HeaderValue::from_static(self.accepted.unwrap_or("")),
        );
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        h.insert(
            "x-slack-req-id",
            HeaderValue::from_str(&request_id()).expect("hex is a valid header"),
        );
        response
    }
}

fn request_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The axum handler of `/api/{method}`: faults first, then the answer, then the journal.
#[allow(clippy::too_many_arguments)]
pub async fn route(
    State(app): State<Arc<App>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    Path(name): Path<String>,
    http_method: HttpMethod,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let started = Instant::now();
    let at_ms = crate::clock::now_ms();
    let body = match read_body(&app, &headers, body).await {
        Ok(body) => body,
        Err(answer) => return answer.into_response(),
    };
    let request = Request::decode(&http_method, &name, &headers, query.as_deref(), &body);
    let (org_id, user_id) = identify(&app, request.token.as_deref());
    let fault = if app.faults.is_empty() {
        None
    } else {
        let teams = teams_of(&app, request.token.as_deref());
        app.faults.pick(&Call {
            method: &name,
            token: request.token.as_deref(),
            teams: teams.iter().map(String::as_str).collect(),
        })
    };
    if let Some(latency) = fault.as_ref().and_then(FaultRule::latency) {
        tokio::time::sleep(latency).await;
    }
    // From here on the call is Slack's to finish. A read answers without awaiting anything.
    // A write waits for the store's write lock and its SQLite commit, so it runs on the
    // blocking pool (no async worker is parked behind another call's commit), where it also
    // runs to the end and is journaled when its client hangs up: hyper drops this future then.
    let writes = request.method.is_some_and(|m| m.writes);
    let handled = Handled {
        name,
        request,
        fault,
        org_id,
        user_id,
        started,
        at_ms,
    };
    if !writes {
        return handled.answer(&app, &conn);
    }
    tokio::task::spawn_blocking(move || handled.answer(&app, &conn))
        .await
        .unwrap_or_else(|err| {
            tracing::error!(%err, "a write panicked");
            failure_answer(Failure::new(ErrorCode::InternalError), &[]).into_response()
        })
}

/// A call past its faults' latency: everything needed to answer it and journal it.
struct Handled {
    name: String,
    request: Request,
    fault: Option<FaultRule>,
    org_id: Option<String>,
    user_id: Option<String>,
    started: Instant,
    at_ms: u64,
}

impl Handled {
    fn answer(self, app: &App, conn: &ConnHandle) -> Response {
        let args = self
            .request
            .raw
            .as_ref()
            .map(|r| r.args.clone())
            .unwrap_or_default();
        let accepted = self
            .request
            .method
            .and_then(|m| m.scope)
            .map(|s| s.as_str());
        let effect = self.fault.as_ref().map(|f| &f.effect);
        let (response, status, error) = match effect {
            Some(Effect::HttpStatus(code)) => {
                let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let text = status.canonical_reason().unwrap_or("Server Error");
                (
                    (status, [(header::CONTENT_TYPE, "text/plain")], text).into_response(),
                    status.as_u16(),
                    None,
                )
            }
            Some(Effect::EmptyBody) => (
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                )
                    .into_response(),
                200,
                None,
            ),
            Some(Effect::NonJson) => (
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body><h1>Slack is temporarily unavailable</h1></body></html>",
                )
                    .into_response(),
                200,
                None,
            ),
            Some(Effect::ResetConnection) => {
                conn.reset();
                (StatusCode::OK.into_response(), 0, None)
            }
            Some(e @ (Effect::Error(_) | Effect::RateLimited(_))) => {
                let answer = fault_answer(e, accepted).expect("error effects have answers");
                let (status, error) = (answer.http.as_u16(), answer.error.clone());
                (answer.into_response(), status, error)
            }
            Some(Effect::TruncatedJson) => {
                let mut answer = respond(app, &self.name, self.request);
                let keep = answer.body.len() / 2;
                answer.body.truncate(keep);
                let (status, error) = (answer.http.as_u16(), answer.error.clone());
                (answer.into_response(), status, error)
            }
            None | Some(Effect::LatencyMs(_)) => {
                let answer = respond(app, &self.name, self.request);
                let (status, error) = (answer.http.as_u16(), answer.error.clone());
                (answer.into_response(), status, error)
            }
        };
        tracing::debug!(method = %self.name, status, error = ?error, fault = ?self.fault.as_ref().map(|f| &f.effect), "api call");
        app.journal.record(JournalEntry {
            id: 0,
            at_ms: self.at_ms,
            method: self.name,
            org_id: self.org_id,
            user_id: self.user_id,
            args,
            status,
            error: error.map(|e| e.as_str().to_owned()),
            fault: self.fault.map(|f| {
                serde_json::to_value(&f.effect)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            }),
            duration_us: self.started.elapsed().as_micros() as u64,
        });
        response
    }
}

/// Reads the body, at most [`MAX_BODY`](crate::MAX_BODY) bytes within the body timeout.
async fn read_body(app: &App, headers: &HeaderMap, body: Body) -> Result<Bytes, Answer> {
    let too_large = || {
        let mut a = failure_answer(
            Failure::new(ErrorCode::Other("request_too_large".into())).message(format!(
                "the request body exceeds {} bytes",
                crate::MAX_BODY
            )),
            &[],
        );
        a.http = StatusCode::PAYLOAD_TOO_LARGE;
        a
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > crate::MAX_BODY as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(
        app.config.body_timeout,
        axum::body::to_bytes(body, crate::MAX_BODY),
    )
    .await
    {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(too_large()),
        Err(_) => {
            let mut a = failure_answer(
                Failure::new(ErrorCode::RequestTimeout)
                    .message("the request body did not arrive in time"),
                &[],
            );
            a.http = StatusCode::REQUEST_TIMEOUT;
            Err(a)
        }
    }
}

/// The org and user ids of a token, for the journal.
fn identify(app: &App, token: Option<&str>) -> (Option<String>, Option<String>) {
    let state = app.store.read();
    match token.and_then(|t| state.tokens.get(t)) {
        Some(t) => (
            Some(state.orgs[t.org].id.clone()),
            Some(t.seed.user_id.clone()),
        ),
        None => (None, None),
    }
}

/// The org id and team ids of a token's org, for fault rules that name a team.
fn teams_of(app: &App, token: Option<&str>) -> Vec<String> {
    let state = app.store.read();
    let Some(t) = token.and_then(|t| state.tokens.get(t)) else {
        return Vec::new();
    };
    let org = &state.orgs[t.org];
    std::iter::once(org.id.clone())
        .chain(org.teams.iter().map(|t| t.id.clone()))
        .collect()
}
