//! The control plane under `/_emulator/`: steer and inspect the emulator from tests.
//! Never reachable under `/api/`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use slack_sessions_api::methods::DeviceRecord;

use crate::App;
use crate::seed::{ClientKind, SessionSeed};
use crate::store::{AuditEntry, Change, Plan};

/// The control routes, relative to `/_emulator`.
pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/reset", post(reset))
        .route("/sessions", post(login))
}

fn error(status: StatusCode, code: &str, detail: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"ok": false, "error": code, "detail": detail.into()})),
    )
        .into_response()
}

async fn reset(State(app): State<Arc<App>>) -> Response {
    app.limits.clear();
    match app.store.reset() {
        Ok(()) => Json(json!({"ok": true})).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            e.to_string(),
        ),
    }
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
    #[serde(flatten)]
    device: DeviceRecord,
}

async fn login(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let login: Login = match serde_json::from_slice(&body) {
        Ok(l) => l,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()),
    };
    let client = match login.client.as_deref().map(ClientKind::parse) {
        None => ClientKind::Web,
        Some(Some(c)) => c,
        Some(None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "client must be web, desktop or mobile",
            );
        }
    };
    let result = app.store.write(|state| {
        let Some(org_idx) = state
            .orgs
            .iter()
            .position(|o| o.users.contains_key(&login.user_id))
        else {
            return Err(ControlError::new(
                StatusCode::NOT_FOUND,
                "user_not_found",
                "no org has this user",
            ));
        };
        let org = &state.orgs[org_idx];
        if !org.has_team(&login.team_id) {
            return Err(ControlError::new(
                StatusCode::NOT_FOUND,
                "team_not_found",
                "the team is not in the user's org",
            ));
        }
        let id = match login.session_id {
            Some(0) => {
                return Err(ControlError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_session_id",
                    "session ids are positive",
                ));
            }
            Some(id) if id > i64::MAX as u64 || state.session_exists(id) => {
                return Err(ControlError::new(
                    StatusCode::CONFLICT,
                    "session_exists",
                    "the session id is taken or too large",
                ));
            }
            Some(id) => id,
            None => state.max_session_id().max(1_000_000_000_000) + 1,
        };
        let session = SessionSeed {
            session_id: id,
            user_id: login.user_id.clone(),
            team_id: login.team_id.clone(),
            client,
            created: login.device.clone(),
            recent: None,
        };
        Ok(Plan {
            value: id,
            changes: vec![Change::AddSession {
                org: org_idx,
                session: Box::new(session),
            }],
            audit: Some(AuditEntry::now(
                &org.id,
                "emulator",
                "_emulator/sessions",
                vec![login.user_id.clone()],
                vec![id],
            )),
        })
    });
    match result {
        Ok(id) => Json(json!({"ok": true, "session_id": id})).into_response(),
        Err(e) => error(e.status, e.code, e.detail),
    }
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

impl From<crate::store::StoreError> for ControlError {
    fn from(e: crate::store::StoreError) -> Self {
        ControlError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            detail: e.to_string(),
        }
    }
}
