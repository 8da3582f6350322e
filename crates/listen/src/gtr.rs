//! `POST /global-token-revocation`: Global Token Revocation
//! (draft-parecki-oauth-global-token-revocation,
//! <https://datatracker.ietf.org/doc/draft-parecki-oauth-global-token-revocation/>), the request
//! an identity provider sends to sign a user out of an application (Okta's Universal Logout).
//!
//! - Authentication (§3.5): a private-key JWT as `Authorization: Bearer <jwt>`, verified
//!   against `[gtr]`'s keys ([`crate::jose`]): `iss` the configured issuer, `aud` this
//!   endpoint (the configured audience), `exp` present and not past, `iat`, `sub` and `jti`
//!   present; a `jti` is never taken twice (kept in memory until its token expires, and in the
//!   journal once accepted) → else `401`.
//! - The body (§3.1): `{"sub_id": {"format": "email", "email": …}}`, or the older
//!   `{"subject": …}` Okta's guide still shows; only `email` subjects name a Slack user →
//!   else `400`.
//! - `404` when no Slack user has the email, `422` when Slack would refuse to sign them out
//!   (the primary owner, a bot) (§3.4); both before anything is journaled.
//! - Journaled (synced), then `204`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use slack_sessions_engine::Result;
use slack_sessions_engine::listen::{Accepted, Lookup, Signal, Source, Subject};
use slack_sessions_engine::users::looks_like_email;

use crate::app::{Peer, Section, media_type};
use crate::config::Gtr;
use crate::events;
use crate::inbox::Inbox;
use crate::jose::{Code, Expect, Keys};
use crate::metrics::Outcome;
use crate::shown::shown;

/// The largest request body taken.
pub const MAX_BODY: usize = 16 << 10;

/// The longest `jti` taken.
const MAX_JTI: usize = 256;

/// `[gtr]`, its keys, and the `jti`s seen.
#[derive(Debug)]
pub(crate) struct Endpoint {
    pub config: Gtr,
    /// Shared with the server, which fetches them at start.
    pub keys: Arc<Keys>,
    /// `jti` → its token's `exp` (s).
    seen: Mutex<HashMap<String, u64>>,
}

impl Endpoint {
    pub fn new(config: Gtr) -> Result<Endpoint> {
        Ok(Endpoint {
            keys: Arc::new(Keys::new(&config.keys)?),
            config,
            seen: Mutex::new(HashMap::new()),
        })
    }

    /// Takes `jti` as used; false if it was (and its token has not expired since).
    fn first_use(&self, jti: &str, exp: u64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        // A token past its exp (and the skew allowed) is refused anyway: forget its jti.
        let now = slack_sessions_engine::journal::now_ms() / 1000;
        seen.retain(|_, until| until.saturating_add(120) >= now);
        if seen.contains_key(jti) {
            return false;
        }
        seen.insert(jti.to_owned(), exp);
        true
    }
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        )],
    )
        .into_response()
}

fn bad_request(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": "invalid_request", "error_description": description}).to_string(),
    )
        .into_response()
}

pub(crate) async fn revoke<I: Inbox>(
    State(app): State<Arc<Section<I, Endpoint>>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let gtr = &app.endpoint;
    let refuse = |reason: &'static str, why: &str| {
        app.metrics.count(Source::Gtr, Outcome::Rejected(reason), 1);
        tracing::warn!(source = "gtr", %peer, reason, why, "refused a revocation request");
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = bearer else {
        refuse("unauthorized", "no Authorization: Bearer token");
        return unauthorized();
    };
    let expect = Expect {
        issuer: &gtr.config.issuer,
        audience: &gtr.config.audience,
        set: false,
        exp: true,
    };
    let claims = match gtr.keys.verify(token, expect).await {
        Ok(c) => c,
        Err(r) if r.code == Code::KeysUnavailable => {
            app.metrics
                .count(Source::Gtr, Outcome::Failed(r.code.as_str()), 1);
            tracing::warn!(source = "gtr", %peer, description = %r.description, "cannot verify a revocation request");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Err(r) => {
            refuse(r.code.as_str(), &r.description);
            return unauthorized();
        }
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let Some(jti) = text("jti").filter(|j| !j.is_empty() && j.len() <= MAX_JTI) else {
        refuse(
            "invalid_request",
            "the token has no jti (or one over 256 bytes)",
        );
        return unauthorized();
    };
    if text("sub").is_none_or(str::is_empty) || !claims.get("iat").is_some_and(Value::is_number) {
        refuse("invalid_request", "the token has no sub or iat");
        return unauthorized();
    }
    // A NumericDate may have a fraction (RFC 7519 §2); the crate has checked it is not past.
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .map_or(0, |e| e.max(0.0) as u64);
    if !gtr.first_use(jti, exp) {
        refuse("replayed", "the token's jti was used before");
        return unauthorized();
    }
    if media_type(&headers).as_deref() != Some("application/json") {
        refuse(
            "invalid_request",
            "the Content-Type is not application/json",
        );
        return bad_request("the Content-Type must be application/json");
    }
    let email = match email_of(&body) {
        Ok(email) => email,
        Err(why) => {
            refuse("bad_subject", why);
            return bad_request(why);
        }
    };
    let user = match app.inbox.lookup(&email).await {
        Ok(Lookup::User(user)) => user,
        Ok(Lookup::NotFound) => {
            refuse("not_found", "no Slack user has the email");
            return StatusCode::NOT_FOUND.into_response();
        }
        Ok(Lookup::Refused(user, why)) => {
            refuse("refused", why);
            tracing::info!(source = "gtr", %peer, user = %user, why, "Slack would refuse to sign this user out: answered 422");
            return StatusCode::UNPROCESSABLE_ENTITY.into_response();
        }
        Err(e) => {
            app.metrics.count(Source::Gtr, Outcome::Failed("lookup"), 1);
            tracing::error!(source = "gtr", %peer, error = %e, "cannot look the user up: answered 503");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let signal = Signal {
        source: Source::Gtr,
        key: format!("gtr {} {jti}", gtr.config.issuer),
        event: events::GTR.to_owned(),
        subject: Subject::Email {
            email: email.clone(),
        },
        action: app.actions.decide(events::GTR, &Value::Null),
        event_ms: claims
            .get("iat")
            .and_then(Value::as_u64)
            .map(|s| s.saturating_mul(1000)),
        keep_key_until_ms: Some(exp.saturating_mul(1000)),
        detail: None,
    };
    let key = shown(&signal.key);
    match app.accept(vec![signal]).await.map(|a| a[0]) {
        Ok(Accepted::New(n)) => {
            app.metrics.count(Source::Gtr, Outcome::Accepted, 1);
            tracing::info!(source = "gtr", %peer, number = n, %key, email = %shown(&email), user = %user, "accepted a revocation request");
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Accepted::Repeat(_)) => {
            // Its jti was accepted before this process started.
            refuse("replayed", "the token's jti was accepted before");
            unauthorized()
        }
        Err(e) => {
            app.metrics
                .count(Source::Gtr, Outcome::Failed("journal"), 1);
            tracing::error!(source = "gtr", %peer, error = %e, "cannot journal a revocation request: answered 500");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The email a request's body names, or why it names none.
fn email_of(body: &[u8]) -> std::result::Result<String, &'static str> {
    let body: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
    let id = body
        .get("sub_id")
        .or_else(|| body.get("subject"))
        .ok_or("the body has no sub_id")?;
    match id.get("format").and_then(Value::as_str) {
        Some("email") => match id.get("email").and_then(Value::as_str) {
            Some(email) if looks_like_email(email) => Ok(email.to_owned()),
            _ => Err("the sub_id's email is not an email address"),
        },
        Some(_) => Err("only email subjects are supported"),
        None => Err("the sub_id has no format"),
    }
}
