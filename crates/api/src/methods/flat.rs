//! A session as one flat record, for CSV files and spreadsheets.

use serde::{Deserialize, Serialize};

use super::{ActiveSession, DeviceRecord, Platform};
use crate::{CompactString, SessionId, TeamId, UserId};

/// One session as a record of plain fields: `created` and `recent` spelled out as `created_os`,
/// `recent_ip`, … so that it serializes to one CSV row (the `csv` crate does not take nested
/// structs or `#[serde(flatten)]`) and to a flat JSON object.
///
/// Made with [`ActiveSession::flat`]; a `recent_*` field is empty when Slack sent no `recent`
/// record (the device is unchanged since `created`).
///
/// ```
/// use slack_sessions_api::methods::{ActiveSession, DeviceRecord};
///
/// let created = DeviceRecord::new("Intel", "OS X", "10.15.7", "4.29.149", "203.0.113.7");
/// let session = ActiveSession::new("W1".into(), "T1".into(), 42.into(), created, None);
/// let row = serde_json::to_value(session.flat()).unwrap();
/// assert_eq!(row["session_id"], 42);
/// assert_eq!(row["platform"], "web");
/// assert_eq!(row["created_os"], "OS X");
/// assert!(row["recent_os"].is_null());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FlatSession {
    /// The user signed in.
    pub user_id: UserId,
    /// The workspace, or the enterprise id for an org-level sign-in.
    pub team_id: TeamId,
    /// The session.
    pub session_id: SessionId,
    /// Mobile or web, judged from the latest device record ([`ActiveSession::platform`]).
    pub platform: Platform,
    /// `created.device_hardware`.
    pub created_device_hardware: Option<CompactString>,
    /// `created.os`.
    pub created_os: Option<CompactString>,
    /// `created.os_version`.
    pub created_os_version: Option<CompactString>,
    /// `created.slack_client_version`.
    pub created_slack_client_version: Option<CompactString>,
    /// `created.ip`.
    pub created_ip: Option<CompactString>,
    /// `recent.device_hardware`.
    pub recent_device_hardware: Option<CompactString>,
    /// `recent.os`.
    pub recent_os: Option<CompactString>,
    /// `recent.os_version`.
    pub recent_os_version: Option<CompactString>,
    /// `recent.slack_client_version`.
    pub recent_slack_client_version: Option<CompactString>,
    /// `recent.ip`.
    pub recent_ip: Option<CompactString>,
}

impl From<&ActiveSession> for FlatSession {
    fn from(s: &ActiveSession) -> Self {
        let empty = DeviceRecord::default();
        let created = &s.created;
        let recent = s.recent.as_ref().unwrap_or(&empty);
        FlatSession {
            user_id: s.user_id.clone(),
            team_id: s.team_id.clone(),
            session_id: s.session_id,
            platform: s.platform(),
            created_device_hardware: created.device_hardware.clone(),
            created_os: created.os.clone(),
            created_os_version: created.os_version.clone(),
            created_slack_client_version: created.slack_client_version.clone(),
            created_ip: created.ip.clone(),
            recent_device_hardware: recent.device_hardware.clone(),
            recent_os: recent.os.clone(),
            recent_os_version: recent.os_version.clone(),
            recent_slack_client_version: recent.slack_client_version.clone(),
            recent_ip: recent.ip.clone(),
        }
    }
}

impl From<ActiveSession> for FlatSession {
    fn from(s: ActiveSession) -> Self {
        FlatSession::from(&s)
    }
}

impl ActiveSession {
    /// This session as one flat record ([`FlatSession`]), e.g. a CSV row.
    pub fn flat(&self) -> FlatSession {
        FlatSession::from(self)
    }
}
