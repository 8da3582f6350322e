//! `GET` and `POST /okta/events`: Okta Event Hooks
//! (<https://developer.okta.com/docs/concepts/event-hooks/>).
//!
//! - Every request must carry the hook's secret as its whole `Authorization` header (Okta
//!   sends the value configured on the hook, "simply a text string you decide on"), compared
//!   in constant time → else `401`. Okta sends it on the verification request too
//!   (<https://support.okta.com/help/s/article/Unable-to-verify-event-hook-Hook-hook-name-execution-failed>).
//! - `GET` with `X-Okta-Verification-Challenge` (Okta's one-time verification) → `200` and
//!   `{"verification": "<that value>"}`.
//! - `POST`: a batch, `data.events[]`, each a System Log event. Its user is the first
//!   `target[]` of `type: User`, by `alternateId` (the Okta login, normally the email); an
//!   event with no such target, or whose `alternateId` is not an email, is accepted as
//!   unmapped. Okta delivers at least once: an event is the same signal by its `uuid`, within
//!   a batch and across batches. An event whose `outcome.result` is not `SUCCESS` (a
//!   suspension that failed) is only recorded. A malformed event (no `uuid` or `eventType`)
//!   is skipped, logged and counted; the others are kept, because Okta does not send a batch
//!   again after a `4xx`. The batch is journaled with one sync, then answered `204` (Okta
//!   waits 3 seconds at most).

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use slack_sessions_engine::listen::{Accepted, Action, Signal, Source, Subject};
use slack_sessions_engine::users::looks_like_email;

use crate::actions::Actions;
use crate::app::{Peer, Section, authorization};
use crate::config::Okta;
use crate::inbox::Inbox;
use crate::metrics::Outcome;
use crate::shown::shown;
use crate::subjects::describe;

/// The largest batch taken.
pub const MAX_BODY: usize = 4 << 20;

/// The verification request's header.
pub const CHALLENGE: &str = "x-okta-verification-challenge";

/// The longest challenge echoed.
const MAX_CHALLENGE: usize = 1024;

/// The longest `uuid` or `eventType` taken.
const MAX_ID: usize = 256;

fn authorized<I: Inbox>(app: &Section<I, Okta>, headers: &HeaderMap, peer: Peer) -> bool {
    let okta = &app.endpoint;
    let ok = okta.authorization.matches(authorization(headers));
    if !ok {
        app.metrics
            .count(Source::Okta, Outcome::Rejected("unauthorized"), 1);
        tracing::warn!(source = "okta", %peer, "refused: the Authorization header is missing or wrong");
    }
    ok
}

pub(crate) async fn verify<I: Inbox>(
    State(app): State<Arc<Section<I, Okta>>>,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    if !authorized(&app, &headers, peer) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let challenge = headers
        .get(CHALLENGE)
        .and_then(|v| v.to_str().ok())
        .filter(|c| !c.is_empty() && c.len() <= MAX_CHALLENGE);
    match challenge {
        Some(challenge) => {
            tracing::info!(source = "okta", %peer, "answered Okta's verification request");
            axum::Json(json!({ "verification": challenge })).into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            format!("a GET here is Okta's verification: it needs the {CHALLENGE} header (at most {MAX_CHALLENGE} bytes)"),
        )
            .into_response(),
    }
}

pub(crate) async fn events<I: Inbox>(
    State(app): State<Arc<Section<I, Okta>>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&app, &headers, peer) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(batch) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.pointer("/data/events").and_then(Value::as_array).cloned())
    else {
        app.metrics
            .count(Source::Okta, Outcome::Rejected("invalid_request"), 1);
        tracing::warn!(source = "okta", %peer, "refused: not an event hook's body (data.events)");
        return (
            StatusCode::BAD_REQUEST,
            "not an Okta event hook's body: JSON with data.events[]",
        )
            .into_response();
    };
    let mut seen = HashSet::new();
    let mut signals = Vec::new();
    for event in &batch {
        match signal_of(&app.actions, event) {
            Ok(signal) => {
                if seen.insert(signal.key.clone()) {
                    signals.push(signal);
                } else {
                    app.metrics.count(Source::Okta, Outcome::Repeat, 1);
                }
            }
            Err(why) => {
                app.metrics
                    .count(Source::Okta, Outcome::Rejected("malformed_event"), 1);
                tracing::warn!(source = "okta", %peer, why, "skipped an event");
            }
        }
    }
    if signals.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let accepted = match app.accept(signals.clone()).await {
        Ok(a) => a,
        Err(e) => {
            app.metrics.count(
                Source::Okta,
                Outcome::Failed("journal"),
                signals.len() as u64,
            );
            tracing::error!(source = "okta", %peer, error = %e, "cannot journal an event hook's batch: answered 500");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    for (signal, accepted) in signals.iter().zip(accepted) {
        match accepted {
            Accepted::New(n) => {
                app.metrics.count(Source::Okta, Outcome::Accepted, 1);
                if matches!(signal.subject, Subject::Unmapped { .. }) {
                    app.metrics.unmapped(Source::Okta);
                }
                tracing::info!(source = "okta", %peer, number = n, key = %shown(&signal.key), event = %shown(&signal.event), subject = %describe(&signal.subject), action = ?signal.action, "accepted an event");
            }
            Accepted::Repeat(n) => {
                app.metrics.count(Source::Okta, Outcome::Repeat, 1);
                tracing::info!(source = "okta", %peer, number = n, key = %shown(&signal.key), "an event accepted before: nothing more to do");
            }
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The signal of one System Log event, or why it has none.
fn signal_of(actions: &Actions, event: &Value) -> Result<Signal, &'static str> {
    let text = |name: &str| event.get(name).and_then(Value::as_str);
    let uuid = text("uuid")
        .filter(|u| !u.is_empty() && u.len() <= MAX_ID)
        .ok_or("no uuid (or one over 256 bytes)")?;
    let event_type = text("eventType")
        .filter(|t| !t.is_empty() && t.len() <= MAX_ID)
        .ok_or("no eventType (or one over 256 bytes)")?;
    let user = event
        .get("target")
        .and_then(Value::as_array)
        .and_then(|targets| {
            targets
                .iter()
                .find(|t| t.get("type").and_then(Value::as_str) == Some("User"))
        });
    let subject = match user.map(|u| u.get("alternateId").and_then(Value::as_str)) {
        Some(Some(id)) if looks_like_email(id) => Subject::Email {
            email: id.to_owned(),
        },
        Some(Some(id)) => Subject::Unmapped {
            described: shown(&format!("okta user {id}")),
        },
        Some(None) => Subject::Unmapped {
            described: "okta user without an alternateId".into(),
        },
        None => Subject::Unmapped {
            described: "no target of type User".into(),
        },
    };
    let result = event.pointer("/outcome/result").and_then(Value::as_str);
    let failed = result.is_some_and(|r| !r.eq_ignore_ascii_case("SUCCESS"));
    let action = if failed {
        Action::Record
    } else {
        actions.decide(event_type, event)
    };
    let event_ms = text("published")
        .and_then(|p| p.parse::<jiff::Timestamp>().ok())
        .and_then(|t| u64::try_from(t.as_millisecond()).ok());
    let mut detail = text("displayMessage").map(shown);
    if failed {
        let outcome = format!("outcome {}", shown(result.unwrap_or_default()));
        detail = Some(match detail {
            Some(d) => format!("{d}; {outcome}"),
            None => outcome,
        });
    }
    Ok(Signal {
        source: Source::Okta,
        key: format!("okta {uuid}"),
        event: event_type.to_owned(),
        subject,
        action,
        event_ms,
        keep_key_until_ms: None,
        detail,
    })
}
