//! `/api/<method>`: the request path, one straight line that no method skips.
//!
//! 1. [`route`]: the verb, the method's name, the body (bounded in size and time);
//! 2. [`Request::decode`]: content type, charset, arguments, the token;
//! 3. faults: a matching rule may delay the call, or answer in its place;
//! 4. [`respond`], on one view of the state (the write lock for a write, so nothing comes
//!    between what it read and what it changes): authenticate → rate limit → validate the
//!    arguments → execute (a [`handlers::Handler`]) → encode;
//! 5. commit (a write's changes reach SQLite before its answer is sent), schedule any job;
//! 6. the request log.

mod auth;
mod error_answer;
mod handlers;
mod user_object;

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode, Uri, header};
use serde_json::{Map, Value};
use slack_sessions_api::{
    ErrorCode, Method, MethodInfo, Status, Validate, WarningCode, envelope, for_each_method, wire,
};

pub use auth::Who;
pub use error_answer::ErrorAnswer;
use handlers::{Call, Done, Handler};

use crate::App;
use crate::audit_logs::Peer;
use crate::faults::{Effect, FaultRule};
use crate::net::ConnHandle;
use crate::request_log::LoggedRequest;
use crate::store::{Changes, View};

/// The axum handler of `/api/{method}`: steps 1–6. Every answer also says which rate limits
/// the emulator applies (`x-slack-sessions-rate-limits: slack|off|scale=N`; Slack sends no such
/// header), so that a client paced for other limits can say so.
pub async fn route(
    State(app): State<Arc<App>>,
    conn: Option<Extension<ConnectInfo<ConnHandle>>>,
    uri: Uri,
    http_method: HttpMethod,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let limits = app.limits.mode();
    // One id per request, on every answer (faults' included) and in the request log.
    let request_id = format!("{:032x}", rand::random::<u128>());
    let mut response = answer_call(
        app,
        conn,
        uri,
        http_method,
        headers,
        query,
        body,
        &request_id,
    )
    .await;
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&limits.to_string()) {
        h.insert("x-slack-sessions-rate-limits", v);
    }
    h.insert(
        "x-slack-req-id",
        HeaderValue::from_str(&request_id).expect("hex is a valid header"),
    );
    response
}

/// Steps 1–6 of one call.
#[allow(clippy::too_many_arguments)] // axum's extractors, passed on
async fn answer_call(
    app: Arc<App>,
    conn: Option<Extension<ConnectInfo<ConnHandle>>>,
    uri: Uri,
    http_method: HttpMethod,
    headers: HeaderMap,
    query: Option<String>,
    body: Body,
    request_id: &str,
) -> Response {
    let started = Instant::now();
    let at_ms = crate::clock::now_ms();
    let name = method_name(&uri);
    let mut logged = LoggedRequest::new(at_ms, &name, request_id);
    // Slack answers GET and POST; anything else (HEAD included) changes nothing.
    if http_method != HttpMethod::GET && http_method != HttpMethod::POST {
        let answer = Answer::of_error(
            ErrorAnswer::new(ErrorCode::Other("method_not_allowed".into()))
                .message(format!("{http_method} is not accepted: use POST or GET")),
            &[],
        )
        .with_status(StatusCode::METHOD_NOT_ALLOWED);
        logged.status = 405;
        logged.error = answer.error.as_ref().map(|e| e.as_str().to_owned());
        app.requests.record(logged, started);
        let mut response = answer.into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    let body = match read_body(&app, &headers, body).await {
        Ok(body) => body,
        Err(answer) => {
            logged.status = answer.http.as_u16();
            logged.error = answer.error.as_ref().map(|e| e.as_str().to_owned());
            app.requests.record(logged, started);
            return answer.into_response();
        }
    };
    // An unknown method's body is never decoded: junk costs nothing to refuse.
    let Some(method) = MethodInfo::find(&name) else {
        let answer = Answer::of_error(
            ErrorAnswer::new(ErrorCode::UnknownMethod).message(format!("unknown method {name:?}")),
            &[],
        );
        logged.status = 200;
        logged.error = Some(ErrorCode::UnknownMethod.as_str().to_owned());
        app.requests.record(logged, started);
        return answer.into_response();
    };
    let mut request = Request::decode(method, &http_method, &headers, query.as_deref(), &body);
    drop(body);
    // Where the call came from, for the audit log's entries of writes.
    request.peer = Peer {
        ip: conn
            .as_ref()
            .map(|Extension(ConnectInfo(c))| c.peer().ip().to_canonical().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    if let Ok(raw) = &request.raw {
        logged.set_args(&raw.args);
    }
    let fault = pick_fault(&app, &name, request.token.as_deref(), &mut logged);
    if let Some(latency) = fault.as_ref().and_then(FaultRule::latency) {
        tokio::time::sleep(latency).await;
    }
    // From here on the call is Slack's to finish. A read answers without awaiting anything.
    // A write waits for the store's write lock and its SQLite commit, so it runs on the
    // blocking pool (no async worker is parked behind another call's commit), where it also
    // runs to the end and is logged when its client hangs up: hyper drops this future then.
    let conn = conn.map(|Extension(ConnectInfo(c))| c);
    let handled = Handled {
        request,
        fault,
        logged,
        started,
    };
    if !method.writes {
        return handled.answer(&app, conn.as_ref());
    }
    tokio::task::spawn_blocking(move || handled.answer(&app, conn.as_ref()))
        .await
        .unwrap_or_else(|err| {
            tracing::error!(%err, "a write panicked");
            Answer::of_error(ErrorAnswer::new(ErrorCode::InternalError), &[]).into_response()
        })
}

/// The method name of a `/api/…` path, percent-decoded (an undecodable name is simply unknown).
fn method_name(uri: &Uri) -> String {
    let raw = uri.path().strip_prefix("/api/").unwrap_or("");
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

/// Step 3: the first fault rule that matches the call, if any. Matching a rule's `team` needs the
/// token's org, read here for that alone (the call itself authenticates on its own view).
fn pick_fault(
    app: &App,
    name: &str,
    token: Option<&str>,
    logged: &mut LoggedRequest,
) -> Option<FaultRule> {
    if app.faults.is_empty() {
        return None;
    }
    let (who, teams) = match app.store.read(|view| Who::with_teams(view, token)) {
        Some((who, teams)) => (Some(who), teams),
        None => (None, Vec::new()),
    };
    let fault = app.faults.pick(&crate::faults::Call {
        method: name,
        token,
        teams: teams.iter().map(String::as_str).collect(),
    });
    if fault.is_some() {
        logged.set_who(who.as_ref());
    }
    fault
}

/// A call past its faults' latency: everything needed to answer it and log it.
struct Handled {
    request: Request,
    fault: Option<FaultRule>,
    logged: LoggedRequest,
    started: Instant,
}

impl Handled {
    fn answer(mut self, app: &App, conn: Option<&ConnHandle>) -> Response {
        let accepted = self.request.method.scope.map(|s| s.as_str());
        let effect = self.fault.as_ref().map(|f| f.effect.clone());
        let (response, status, error) = match effect {
            Some(Effect::HttpStatus(code)) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
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
                // Without a connection (the router driven in-process) there is nothing to reset.
                if let Some(conn) = conn {
                    conn.reset();
                }
                (StatusCode::OK.into_response(), 0, None)
            }
            Some(Effect::Error(code)) => {
                let mut answer = Answer::of_error(ErrorAnswer::new(code), &[]);
                answer.accepted = accepted;
                let error = answer.error.clone();
                (answer.into_response(), 200, error)
            }
            Some(Effect::RateLimited(secs)) => {
                let mut answer = Answer::of_error(ErrorAnswer::rate_limited(secs), &[]);
                answer.accepted = accepted;
                let (status, error) = (answer.http.as_u16(), answer.error.clone());
                (answer.into_response(), status, error)
            }
            Some(Effect::TruncatedJson) => {
                let (mut answer, who) = respond(app, self.request);
                self.logged.set_who(who.as_ref());
                answer.accepted = accepted;
                let keep = answer.body.len() / 2;
                answer.body.truncate(keep);
                let (status, error) = (answer.http.as_u16(), answer.error.clone());
                (answer.into_response(), status, error)
            }
            None | Some(Effect::LatencyMs(_)) => {
                let (mut answer, who) = respond(app, self.request);
                self.logged.set_who(who.as_ref());
                answer.accepted = accepted;
                let (status, error) = (answer.http.as_u16(), answer.error.clone());
                (answer.into_response(), status, error)
            }
        };
        tracing::debug!(method = %self.logged.method, status, error = ?error, fault = ?self.fault.as_ref().map(|f| &f.effect), "api call");
        self.logged.status = status;
        self.logged.error = error.map(|e| e.as_str().to_owned());
        self.logged.fault = self.fault.map(|f| {
            serde_json::to_value(&f.effect)
                .map(|v| v.to_string())
                .unwrap_or_default()
        });
        app.requests.record(self.logged, self.started);
        response
    }
}

/// Steps 4 and 5: answers a decoded request on one consistent state.
fn respond(app: &App, request: Request) -> (Answer, Option<Who>) {
    let method = request.method;
    let raw = match request.raw {
        Ok(raw) => raw,
        Err(e) => {
            return (
                Answer::of_error(ErrorAnswer::new(e.code).message(e.detail), &[]),
                None,
            );
        }
    };
    let warnings = raw.warnings.clone();
    let token = request.token.as_deref();
    let peer = &request.peer;
    let mut who = None;
    let result = if method.writes {
        app.store
            .write(|view| execute(app, view, method, token, peer, raw, &mut who))
    } else {
        app.store.read(|view| {
            execute(app, view, method, token, peer, raw, &mut who).map(|asked| {
                debug_assert!(asked.changes.is_empty(), "a read changed the state");
                asked.value
            })
        })
    };
    let mut answer = match result {
        Ok(done) => {
            if let Some(job) = done.job {
                app.jobs.schedule(job);
            }
            Answer::ok(done.body)
        }
        Err(f) => Answer::of_error(f, &warnings),
    };
    answer.scopes = who.as_ref().map(|w| w.scopes.clone());
    (answer, who)
}

/// Step 4 on one view: authenticate, rate limit, validate, execute. `who` is filled in as soon
/// as the token is known, whatever the outcome.
fn execute(
    app: &App,
    view: View<'_>,
    method: &'static MethodInfo,
    token: Option<&str>,
    peer: &Peer,
    raw: wire::RawArgs,
    who: &mut Option<Who>,
) -> Result<Changes<Done>, ErrorAnswer> {
    *who = Who::of(view, token);
    let caller = auth::authenticate(view, token, method)?;
    if app.limits.mode() != crate::RateLimits::Off {
        app.limits
            .check(method, caller.org.id(), &caller.app_id())?;
    }
    let call = Call {
        app,
        caller,
        warnings: &raw.warnings,
        peer,
    };
    dispatch(&call, method.name, raw.args)
}

/// Decodes, validates and executes `M` (steps 4's last three).
fn run<M: Handler>(
    call: &Call<'_>,
    args: Map<String, Value>,
) -> Result<Changes<Done>, ErrorAnswer> {
    let args: M::Args = wire::args_from_map(args)
        .map_err(|e| ErrorAnswer::new(ErrorCode::InvalidArguments).message(e.to_string()))?;
    args.validate()?;
    M::handle(call, args)
}

macro_rules! dispatch_table {
    ($($m:path),* $(,)?) => {
        /// Runs the handler of the method `name` (generated from the catalogue: a method without
        /// a handler does not compile).
        fn dispatch(
            call: &Call<'_>,
            name: &str,
            args: Map<String, Value>,
        ) -> Result<Changes<Done>, ErrorAnswer> {
            $(if name == <$m as Method>::NAME {
                return run::<$m>(call, args);
            })*
            Err(ErrorAnswer::new(ErrorCode::UnknownMethod))
        }
    };
}
for_each_method!(dispatch_table);

/// A request, decoded but not yet answered.
#[derive(Debug)]
struct Request {
    method: &'static MethodInfo,
    /// The decoded arguments, or the error the body earned.
    raw: Result<wire::RawArgs, wire::WireError>,
    token: Option<String>,
    /// The client's address and user agent.
    peer: Peer,
}

impl Request {
    /// Decodes a request to a known method (never fails: errors are kept for the answer).
    fn decode(
        method: &'static MethodInfo,
        http_method: &HttpMethod,
        headers: &HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Self {
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
        Request {
            method,
            raw,
            token,
            peer: Peer::default(),
        }
    }
}

/// An answer: HTTP status and JSON body, plus the scope headers.
#[derive(Debug)]
struct Answer {
    http: StatusCode,
    body: Vec<u8>,
    /// `x-oauth-scopes`, when the token is known.
    scopes: Option<String>,
    /// `x-accepted-oauth-scopes`, when the method is known.
    accepted: Option<&'static str>,
    retry_after: Option<u64>,
    /// The Slack error code, for the request log.
    error: Option<ErrorCode>,
}

impl Answer {
    fn ok(body: Vec<u8>) -> Self {
        Answer {
            http: StatusCode::OK,
            body,
            scopes: None,
            accepted: None,
            retry_after: None,
            error: None,
        }
    }

    fn of_error(f: ErrorAnswer, warnings: &[WarningCode]) -> Self {
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

    fn with_status(mut self, http: StatusCode) -> Self {
        self.http = http;
        self
    }
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
        response
    }
}

/// Reads the body, at most [`MAX_BODY`](crate::MAX_BODY) bytes within the body timeout. A body
/// over the limit is 413 `request_too_large`; one that breaks off or is malformed on the wire
/// (bad chunking, shorter than its `Content-Length`) is 400 `request_timeout`, Slack's code for
/// "POST data missing or truncated".
async fn read_body(app: &App, headers: &HeaderMap, body: Body) -> Result<Bytes, Answer> {
    let too_large = || {
        Answer::of_error(
            ErrorAnswer::new(ErrorCode::Other("request_too_large".into())).message(format!(
                "the request body exceeds {} bytes",
                crate::MAX_BODY
            )),
            &[],
        )
        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
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
        Ok(Err(err)) => {
            if is_length_limit(&err) {
                return Err(too_large());
            }
            Err(Answer::of_error(
                ErrorAnswer::new(ErrorCode::RequestTimeout)
                    .message(format!("the request body could not be read: {err}")),
                &[],
            )
            .with_status(StatusCode::BAD_REQUEST))
        }
        Err(_) => Err(Answer::of_error(
            ErrorAnswer::new(ErrorCode::RequestTimeout)
                .message("the request body did not arrive in time"),
            &[],
        )
        .with_status(StatusCode::REQUEST_TIMEOUT)),
    }
}

/// Whether a body error is the size limit (and not a broken body).
fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}
