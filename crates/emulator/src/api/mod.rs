//! `/api/<method>`: the request path, one straight line that no method skips:
//! decode → authenticate and authorize → rate limit → decode arguments → execute → encode.

mod auth;
mod failure;
pub mod handlers;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode, header};
use serde_json::{Map, Value};
use slack_sessions_api::methods::*;
use slack_sessions_api::{ErrorCode, Method, MethodInfo, Status, WarningCode, envelope, wire};

pub use auth::Caller;
pub use failure::Failure;
use handlers::Handler;

use crate::App;

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
    Ok(envelope::encode(&status, Some(&reply.body)))
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

/// Answers one API call (everything but the transport).
pub fn answer(
    app: &App,
    http_method: &HttpMethod,
    name: &str,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Answer {
    let Some(method) = MethodInfo::find(name) else {
        return failure_answer(
            Failure::new(ErrorCode::UnknownMethod).message(format!("unknown method {name:?}")),
            &[],
        );
    };
    let accepted = method.scope.map(|s| s.as_str());
    let raw = if http_method == HttpMethod::GET {
        wire::decode_body(None, query, b"")
    } else {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        wire::decode_body(content_type, query, body)
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            let mut a = failure_answer(Failure::new(e.code).message(e.detail), &[]);
            a.accepted = accepted;
            return a;
        }
    };
    // A JSON body's token must come in the Authorization header (contract §1.1).
    let form_token = if raw.json { None } else { raw.token.as_deref() };
    let token = auth::token(headers, form_token);
    let (caller, scopes) = {
        let state = app.store.read();
        (
            auth::authorize(&state, token, method),
            auth::scopes_of(&state, token),
        )
    };
    let result = caller.and_then(|caller| {
        if let Some(token) = token {
            app.limits
                .check(method, &app.store.read().orgs[caller.org].id, token)?;
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

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.http, self.body).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Some(v) = self.scopes.and_then(|s| HeaderValue::from_str(&s).ok()) {
            h.insert("x-oauth-scopes", v);
        }
        if let Some(s) = self.accepted {
            h.insert("x-accepted-oauth-scopes", HeaderValue::from_static(s));
        }
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

/// The axum handler of `/api/{method}`.
pub async fn route(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    http_method: HttpMethod,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    answer(&app, &http_method, &name, &headers, query.as_deref(), &body).into_response()
}
