//! The audit log: every change made through the API, kept in the database.

use serde::{Deserialize, Serialize};

/// One change made through the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Rising id (0 before it is stored).
    pub id: u64,
    /// When, in ms since the Unix epoch.
    pub at_ms: u64,
    /// The org changed.
    pub org_id: String,
    /// Who: the token's user, or `emulator` for queued jobs and the control plane.
    pub actor: String,
    /// The method, e.g. `admin.users.session.reset`.
    pub method: String,
    /// The users affected.
    pub users: Vec<String>,
    /// The sessions ended or created.
    pub sessions: Vec<u64>,
}

impl AuditEntry {
    /// An entry stamped now.
    pub fn now(
        org_id: &str,
        actor: &str,
        method: &str,
        users: Vec<String>,
        sessions: Vec<u64>,
    ) -> Self {
        AuditEntry {
            id: 0,
            at_ms: crate::clock::now_ms(),
            org_id: org_id.to_owned(),
            actor: actor.to_owned(),
            method: method.to_owned(),
            users,
            sessions,
        }
    }
}
