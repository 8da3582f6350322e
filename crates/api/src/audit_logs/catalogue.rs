//! The action names and object schemas of the Audit Logs API.
//!
//! `actions.json` and `schemas.json` are what Slack's `GET /audit/v1/actions` and
//! `GET /audit/v1/schemas` answer (recorded 2026-08 and published by Slack in its Java SDK,
//! `slackapi/java-slack-sdk`, `json-logs/raw/audit/v1/`); the actions are those of Slack's
//! reference (<https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference>).
//! The emulator serves them as they are and refuses other names in a `/logs` filter
//! (`invalid_action`).

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The body of `GET /audit/v1/actions`, as Slack answers it.
pub const ACTIONS_JSON: &str = include_str!("actions.json");
/// The body of `GET /audit/v1/schemas`, as Slack answers it.
pub const SCHEMAS_JSON: &str = include_str!("schemas.json");

static KNOWN: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let answer: AuditActionsResponse =
        serde_json::from_str(ACTIONS_JSON).expect("actions.json is an /actions answer");
    answer.actions.into_values().flatten().collect()
});

/// Whether Slack's `/actions` lists `name`.
pub fn is_known_action(name: &str) -> bool {
    KNOWN.contains(name)
}

/// Every name Slack's `/actions` lists, each once, in no particular order (to suggest the
/// names closest to one that is not).
pub fn known_actions() -> impl Iterator<Item = &'static str> {
    KNOWN.iter().map(String::as_str)
}

/// The body of `GET /audit/v1/actions`: action names by category (`user`, `workspace_or_org`,
/// `anomaly`, …).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditActionsResponse {
    /// Category → action names.
    #[serde(default)]
    pub actions: BTreeMap<String, Vec<String>>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `GET /audit/v1/schemas`: the kinds of objects entries describe.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditSchemasResponse {
    /// One per kind: `{"type": "user", "user": {"id": "string", …}}`.
    #[serde(default)]
    pub schemas: Vec<Map<String, Value>>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The session-related action names (Slack's reference; [`SESSION_ACTIONS`](action::SESSION_ACTIONS)
/// lists them together, as a user's session history asks for them).
pub mod action {
    /// "A team member logged in."
    pub const USER_LOGIN: &str = "user_login";
    /// "A team member failed to login."
    pub const USER_LOGIN_FAILED: &str = "user_login_failed";
    /// "A team member logged out."
    pub const USER_LOGOUT: &str = "user_logout";
    /// "A team member logged out due to a compromised device."
    pub const USER_LOGOUT_COMPROMISED: &str = "user_logout_compromised";
    /// "A team member logged out due to a non-compliant mobile app version."
    pub const USER_LOGOUT_NON_COMPLIANT_MOBILE_APP_VERSION: &str =
        "user_logout_non_compliant_mobile_app_version";
    /// "A team member's session was invalidated." (`admin.users.session.invalidate`)
    pub const USER_SESSION_INVALIDATED: &str = "user_session_invalidated";
    /// "A team member's session was reset by an admin." (`admin.users.session.reset`)
    pub const USER_SESSION_RESET_BY_ADMIN: &str = "user_session_reset_by_admin";
    /// "Admin has bulk reset user sessions." (`admin.users.session.resetBulk`)
    pub const BULK_SESSION_RESET_BY_ADMIN: &str = "bulk_session_reset_by_admin";
    /// "A team member's sessions were reset by the anomaly event response feature."
    pub const USER_SESSIONS_RESET_BY_ANOMALY_EVENT_RESPONSE: &str =
        "user_sessions_reset_by_anomaly_event_response";
    /// A team member's sessions were reset by the circuit breaker.
    pub const USER_SESSIONS_RESET_BY_CIRCUIT_BREAKER: &str =
        "user_sessions_reset_by_circuit_breaker";
    /// "A team member's session settings were changed." (`admin.users.session.setSettings`,
    /// `clearSettings`)
    pub const USER_SESSION_SETTINGS_CHANGED: &str = "user_session_settings_changed";
    /// "An anomalous user behavior was detected."
    pub const ANOMALY: &str = "anomaly";

    /// Every action above: a user's session history.
    pub const SESSION_ACTIONS: [&str; 12] = [
        USER_LOGIN,
        USER_LOGIN_FAILED,
        USER_LOGOUT,
        USER_LOGOUT_COMPROMISED,
        USER_LOGOUT_NON_COMPLIANT_MOBILE_APP_VERSION,
        USER_SESSION_INVALIDATED,
        USER_SESSION_RESET_BY_ADMIN,
        BULK_SESSION_RESET_BY_ADMIN,
        USER_SESSIONS_RESET_BY_ANOMALY_EVENT_RESPONSE,
        USER_SESSIONS_RESET_BY_CIRCUIT_BREAKER,
        USER_SESSION_SETTINGS_CHANGED,
        ANOMALY,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_answers_decode_and_name_the_session_actions() {
        let actions: AuditActionsResponse = serde_json::from_str(ACTIONS_JSON).unwrap();
        assert!(actions.actions["user"].iter().any(|a| a == "user_login"));
        for name in action::SESSION_ACTIONS {
            assert!(is_known_action(name), "{name}");
        }
        assert!(!is_known_action("user_teleported"));
        assert_eq!(known_actions().count(), KNOWN.len());
        assert!(known_actions().any(|a| a == "bulk_session_reset_by_admin"));
        let schemas: AuditSchemasResponse = serde_json::from_str(SCHEMAS_JSON).unwrap();
        assert!(schemas.schemas.iter().any(|s| s["type"] == "user"));
    }
}
