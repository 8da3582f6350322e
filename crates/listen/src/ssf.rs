//! `POST /ssf/events`: OpenID Shared Signals push delivery (RFC 8935,
//! <https://www.rfc-editor.org/rfc/rfc8935>; SSF 1.0,
//! <https://openid.net/specs/openid-sharedsignals-framework-1_0.html>).
//!
//! 1. If `authorization_env` is configured, the `Authorization` header must be exactly its
//!    value (the stream's `authorization_header`, SSF 1.0 §Push Delivery), compared in
//!    constant time → else `401`.
//! 2. `Content-Type: application/secevent+jwt` (RFC 8935 §2), a body of at most
//!    [`MAX_BODY`] → else `400 invalid_request` (`413` past the limit).
//! 3. The token verified ([`crate::jose`]); `jti`, `iat` and `events` (a non-empty object of
//!    event objects) required (RFC 8417 §2.2) → else `400` with RFC 8935's code.
//! 4. The subject: the top-level `sub_id`; else the event's own `subject`, the shape CAEP and
//!    RISC events had before SSF 1.0 and Okta still sends. `sub` is never used (SSF 1.0 says it
//!    must not be present). A SET with neither is `400 invalid_request`; a subject that names
//!    no email is accepted as [`Subject::Unmapped`](slack_sessions_engine::listen::Subject).
//! 5. The event: SSF asks for one per SET; should there be several, the first that `[actions]`
//!    resets for is taken, else the first. The SSF `verification` event is recorded.
//! 6. Journaled (synced) → `202`; a SET whose `iss` and `jti` were accepted before answers
//!    `202` again and does nothing more (RFC 8935 §2: "as it would if the SET had not been
//!    previously received"). A journal that cannot be written is `500`, never `202`.
//!
//! Errors are `400` with `Content-Type: application/json`, `Content-Language: en` and
//! `{"err": …, "description": …}` (RFC 8935 §2.3). `iat` is not checked for age: a
//! transmitter's redelivery keeps the SET's first `iat`, and SSF defines no window.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value, json};
use slack_sessions_engine::Result;
use slack_sessions_engine::listen::{Accepted, Action, Signal, Source, Subject};

use crate::app::{Peer, Section, authorization, media_type};
use crate::config::Ssf;
use crate::events;
use crate::inbox::Inbox;
use crate::jose::{Code, Expect, Keys, Rejection};
use crate::metrics::Outcome;
use crate::shown::shown;
use crate::subjects::{describe, subject_of};

/// The largest SET taken: a SET is a few kilobytes.
pub const MAX_BODY: usize = 64 << 10;

/// The media type of a SET (RFC 8417 §2.3).
pub const CONTENT_TYPE: &str = "application/secevent+jwt";

/// The longest `jti` taken (it is journaled and logged).
pub const MAX_JTI: usize = 256;

/// The longest event-type URI taken.
const MAX_EVENT_TYPE: usize = 256;

/// `event_timestamp` at or above this is in milliseconds (1e11 s is the year 5138; 1e11 ms
/// is 1973): CAEP says seconds, Okta sends milliseconds.
const MS_FROM: f64 = 1e11;

/// `[ssf]` and its keys.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub config: Ssf,
    /// Shared with the server, which fetches them at start.
    pub keys: Arc<Keys>,
}

impl Endpoint {
    pub fn new(config: Ssf) -> Result<Endpoint> {
        Ok(Endpoint {
            keys: Arc::new(Keys::new(&config.keys)?),
            config,
        })
    }
}

pub(crate) async fn events<I: Inbox>(
    State(app): State<Arc<Section<I, Endpoint>>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ssf = &app.endpoint;
    if let Some(secret) = &ssf.config.authorization
        && !secret.matches(authorization(&headers))
    {
        app.metrics
            .count(Source::Ssf, Outcome::Rejected("unauthorized"), 1);
        tracing::warn!(source = "ssf", %peer, "refused: the Authorization header is missing or wrong");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let signal = match signal_of(&app, ssf, &headers, &body).await {
        Ok(signal) => signal,
        Err(r) => {
            tracing::warn!(source = "ssf", %peer, err = r.code.as_str(), description = %r.description, "refused a SET");
            if r.code == Code::KeysUnavailable {
                app.metrics
                    .count(Source::Ssf, Outcome::Failed(r.code.as_str()), 1);
                return (StatusCode::SERVICE_UNAVAILABLE, error_body(&r)).into_response();
            }
            app.metrics
                .count(Source::Ssf, Outcome::Rejected(r.code.as_str()), 1);
            return (StatusCode::BAD_REQUEST, error_body(&r)).into_response();
        }
    };
    let unmapped = matches!(signal.subject, Subject::Unmapped { .. });
    let logged = signal.clone();
    match app.accept(vec![signal]).await.map(|a| a[0]) {
        Ok(Accepted::New(n)) => {
            app.metrics.count(Source::Ssf, Outcome::Accepted, 1);
            if unmapped {
                app.metrics.unmapped(Source::Ssf);
            }
            tracing::info!(source = "ssf", %peer, number = n, key = %shown(&logged.key), event = %shown(&logged.event), subject = %describe(&logged.subject), action = ?logged.action, "accepted a SET");
            StatusCode::ACCEPTED.into_response()
        }
        Ok(Accepted::Repeat(n)) => {
            app.metrics.count(Source::Ssf, Outcome::Repeat, 1);
            tracing::info!(source = "ssf", %peer, number = n, key = %shown(&logged.key), "a SET accepted before: nothing more to do");
            StatusCode::ACCEPTED.into_response()
        }
        Err(e) => {
            app.metrics
                .count(Source::Ssf, Outcome::Failed("journal"), 1);
            tracing::error!(source = "ssf", %peer, error = %e, "cannot journal a SET: answered 500");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// RFC 8935 §2.3's error response body and headers.
fn error_body(r: &Rejection) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_LANGUAGE, "en"),
        ],
        json!({ "err": r.code.as_str(), "description": r.description }).to_string(),
    )
}

/// The signal a request carries, or why it carries none.
async fn signal_of<I: Inbox>(
    app: &Section<I, Endpoint>,
    ssf: &Endpoint,
    headers: &HeaderMap,
    body: &[u8],
) -> std::result::Result<Signal, Rejection> {
    let invalid = |what: String| Err(Rejection::new(Code::InvalidRequest, what));
    if media_type(headers).as_deref() != Some(CONTENT_TYPE) {
        return invalid(format!("the Content-Type must be {CONTENT_TYPE}"));
    }
    let Ok(token) = std::str::from_utf8(body) else {
        return invalid("the body is not a JWT (not UTF-8)".into());
    };
    let claims = ssf
        .keys
        .verify(
            token.trim(),
            Expect {
                issuer: &ssf.config.issuer,
                audience: &ssf.config.audience,
                set: true,
                exp: false,
            },
        )
        .await?;
    let jti = match claims.get("jti").and_then(Value::as_str) {
        Some(j) if !j.is_empty() && j.len() <= MAX_JTI => j,
        Some(_) => return invalid(format!("jti must be 1 to {MAX_JTI} bytes")),
        None => return invalid("the SET has no jti".into()),
    };
    if !claims.get("iat").is_some_and(Value::is_number) {
        return invalid("the SET has no iat".into());
    }
    let Some(events) = claims
        .get("events")
        .and_then(Value::as_object)
        .filter(|e| !e.is_empty())
    else {
        return invalid("the SET has no events".into());
    };
    let mut chosen: Option<(&str, &Map<String, Value>, Action)> = None;
    for (uri, event) in events {
        let Some(event) = event.as_object() else {
            return invalid(format!("the event {} is not an object", shown(uri)));
        };
        if uri.len() > MAX_EVENT_TYPE || uri.chars().any(slack_sessions_engine::text::is_control) {
            return invalid(format!("the event type {} is not a URI", shown(uri)));
        }
        let name = events::name_of(uri);
        let action = app.actions.decide(name, &Value::Object(event.clone()));
        if chosen.is_none()
            || (action == Action::Reset && chosen.is_some_and(|c| c.2 != Action::Reset))
        {
            chosen = Some((name, event, action));
        }
    }
    let (name, event, action) = chosen.expect("events is not empty");
    if events.len() > 1 {
        tracing::info!(source = "ssf", events = events.len(), chosen = %shown(name), "a SET with several events: one is acted on");
    }
    let map = ssf.config.subject_map.as_deref();
    let subject = match claims.get("sub_id").or_else(|| event.get("subject")) {
        Some(id) => subject_of(id, map),
        None => return invalid("the SET has no subject (sub_id)".into()),
    };
    Ok(Signal {
        source: Source::Ssf,
        key: format!("ssf {} {jti}", ssf.config.issuer),
        event: name.to_owned(),
        subject,
        action,
        event_ms: event.get("event_timestamp").and_then(millis),
        keep_key_until_ms: None,
        detail: detail(event),
    })
}

/// An `event_timestamp` in ms, given in seconds or milliseconds.
fn millis(v: &Value) -> Option<u64> {
    let t = v.as_f64().filter(|t| t.is_finite() && *t >= 0.0)?;
    Some(if t < MS_FROM { t * 1000.0 } else { t } as u64)
}

/// A few words for the log: the admin's reason and the members a condition would look at.
fn detail(event: &Map<String, Value>) -> Option<String> {
    let mut words = Vec::new();
    if let Some(reason) = event.get("reason_admin").and_then(Value::as_object) {
        let text = reason
            .get("en")
            .or_else(|| reason.values().next())
            .and_then(Value::as_str);
        if let Some(text) = text {
            words.push(shown(text));
        }
    }
    for member in [
        "current_level",
        "current_status",
        "credential_type",
        "change_type",
        "initiating_entity",
    ] {
        if let Some(v) = event.get(member).and_then(Value::as_str) {
            words.push(format!("{member} {}", shown(v)));
        }
    }
    (!words.is_empty()).then(|| words.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_seconds_or_milliseconds() {
        assert_eq!(millis(&json!(1615304991)), Some(1_615_304_991_000));
        assert_eq!(millis(&json!(1615304991643_u64)), Some(1_615_304_991_643));
        assert_eq!(millis(&json!(1615304991.5)), Some(1_615_304_991_500));
        assert_eq!(millis(&json!(-1)), None);
        assert_eq!(millis(&json!("1615304991")), None);
    }
}
