//! `GET /healthz` and `GET /metrics`.
//!
//! `/healthz` answers `200` while the journal is open and the Slack token works, else `503`,
//! with the listener's state as JSON. A tripped circuit breaker shows there (`breaker`) but
//! does not make it `503`: signals are still journaled while it is tripped, and a load
//! balancer that took the listener out would lose them instead.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde_json::json;

use crate::app::Shared;
use crate::inbox::Inbox;
use crate::metrics;

pub(crate) async fn healthz<I: Inbox>(State(app): State<Arc<Shared<I>>>) -> Response {
    let s = app.inbox.status();
    let ok = s.journal_open && s.token_ok;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "journal_open": s.journal_open,
        "token_ok": s.token_ok,
        "pending": s.pending,
        "breaker": s.breaker,
    });
    (status, axum::Json(body)).into_response()
}

pub(crate) async fn metrics<I: Inbox>(State(app): State<Arc<Shared<I>>>) -> Response {
    let text = app.metrics.render(&app.inbox.status());
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}
