//! The report of a bulk invalidation: one row per session found, with what came of it.

use std::collections::BTreeMap;

use serde::Serialize;
use slack_sessions_client::methods::ActiveSession;

use super::state::{SessionState, State};
use crate::calls::code_detail;
use crate::filter::latest;
use crate::journaled::Calls;
use crate::report::{Column, Status, col};
use crate::users::Person;

/// One row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The session.
    pub session_id: u64,
    /// Its user.
    pub user_id: String,
    /// The user's name (empty with `--no-names`).
    pub name: String,
    /// The user's email.
    pub email: String,
    /// The workspace (or org).
    pub team_id: String,
    /// `mobile` or `web`.
    pub client: String,
    /// The OS as last seen.
    pub os: String,
    /// Its version.
    pub os_version: String,
    /// The Slack client version as last seen.
    pub slack_client_version: String,
    /// The IP when the session began.
    pub created_ip: String,
    /// The IP as last seen (empty: unchanged).
    pub recent_ip: String,
    /// What came of it.
    pub result: Status,
    /// Why, in words.
    pub detail: String,
}

/// The columns (table headers and CSV names).
pub const COLUMNS: [Column; 13] = [
    col("SESSION", "session_id"),
    col("USER", "user_id"),
    col("NAME", "name"),
    col("EMAIL", "email"),
    col("TEAM", "team_id"),
    col("CLIENT", "client"),
    col("OS", "os"),
    col("OS VERSION", "os_version"),
    col("SLACK VERSION", "slack_client_version"),
    col("CREATED IP", "created_ip"),
    col("RECENT IP", "recent_ip"),
    col("RESULT", "result"),
    col("DETAIL", "detail"),
];

/// What a session's state comes to in the report (`planned` for a dry run's pending ones).
pub fn outcome(state: &SessionState, dry_run: bool) -> (Status, String) {
    match state {
        SessionState::Verified { gone: true } => (Status::Done, "ended; no longer listed".into()),
        SessionState::Verified { gone: false } => (
            Status::Failed,
            "invalidate acknowledged, but the session was still listed when the verification timed out".into(),
        ),
        SessionState::Settled => (
            Status::Done,
            "the call's answer was lost (interrupted); checked afterwards: no longer listed".into(),
        ),
        SessionState::AlreadyGone => (
            Status::Done,
            "had ended already (session_not_found)".into(),
        ),
        SessionState::Ended => (
            Status::Pending,
            "invalidate acknowledged, not verified yet; run the same command again to resume".into(),
        ),
        SessionState::Refused { code } => (Status::Failed, code_detail(code)),
        SessionState::InFlight { .. } if dry_run => (
            Status::Planned,
            "sent by an interrupted run, answer lost: the run checks it before sending again".into(),
        ),
        SessionState::InFlight { .. } => (
            Status::Pending,
            "invalidate sent, answer not received; the next run checks it before sending again".into(),
        ),
        SessionState::Pending if dry_run => (Status::Planned, "would be ended".into()),
        SessionState::Pending => (
            Status::Pending,
            "not ended yet; run the same command again to resume".into(),
        ),
    }
}

/// A row for a session.
pub fn row(s: &ActiveSession, person: &Person, state: &SessionState, dry_run: bool) -> Row {
    let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
    let (result, detail) = outcome(state, dry_run);
    Row {
        session_id: s.session_id.0,
        user_id: s.user_id.to_string(),
        name: person.name.clone(),
        email: person.email.clone().unwrap_or_default(),
        team_id: s.team_id.to_string(),
        client: s.client_kind().to_string(),
        os: text(latest(s, |d| d.os.as_ref())),
        os_version: text(latest(s, |d| d.os_version.as_ref())),
        slack_client_version: text(latest(s, |d| d.slack_client_version.as_ref())),
        created_ip: text(s.created.ip.as_deref()),
        recent_ip: text(s.recent.as_ref().and_then(|r| r.ip.as_deref())),
        result,
        detail,
    }
}

/// Rows by result.
pub fn tally(rows: &[Row]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for r in rows {
        *counts.entry(r.result.as_str()).or_default() += 1;
    }
    counts
}

/// The report as a JSON document.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    /// The filters, as flags.
    pub filters: &'a str,
    /// The org.
    pub org_id: &'a str,
    /// Whether every session is accounted for (nothing pending).
    pub complete: bool,
    /// Sessions by result.
    pub summary: BTreeMap<&'static str, usize>,
    /// Every session.
    pub sessions: &'a [Row],
}

/// The rows of a run, for every target, with names from `person`.
pub fn rows(
    state: &State,
    calls: &Calls,
    person: &dyn Fn(&ActiveSession) -> Option<Person>,
    dry_run: bool,
) -> Vec<Row> {
    state
        .targets
        .iter()
        .map(|s| {
            let p = person(s).unwrap_or_default();
            row(s, &p, &state.of(s.session_id.0, calls), dry_run)
        })
        .collect()
}
