//! `sessions history`: users' session history (or the org's) from Slack's audit logs, newest
//! first, in any output format. The engine's [`history`] reads and merges; this prints.

use std::collections::HashMap;

use serde_json::Value;
use slack_sessions_client::Client;
use slack_sessions_client::api::{SessionId, UserId};
use slack_sessions_client::methods::ActiveSession;
use slack_sessions_engine::Context;
use slack_sessions_engine::{history, journal};

use crate::cli::HistoryFlags;
use crate::exit::{Failure, OK, Result};
use crate::output::{Column, Format, ListPrinter, cells, col, plural, write_failed};

/// The columns of a history, in a table and in CSV; JSON has the entry's id, its Unix time
/// and its details besides.
const COLUMNS: [Column; 7] = [
    col("TIME", "time"),
    col("ACTION", "action"),
    col("IP", "ip"),
    col("CLIENT", "client"),
    col("SESSION", "session_id"),
    col("ACTOR", "actor"),
    col("ENTITY", "entity"),
];

/// Runs `sessions history`.
pub(crate) async fn run(ctx: &Context, args: &HistoryFlags, format: Format) -> Result<u8> {
    let plan = crate::plans::history(args)?;
    let rows = history::run(ctx, &plan).await?;
    let mut printer = ListPrinter::stdout(format, &COLUMNS);
    for row in &rows {
        let json = serde_json::to_value(row)
            .map_err(|e| Failure::other(format!("cannot encode an entry: {e}")))?;
        printer
            .push(&json, cells(row, &COLUMNS))
            .map_err(write_failed)?;
    }
    let whose = if plan.users.is_empty() {
        "of the org".to_owned()
    } else {
        format!("for {}", plan.users.join(", "))
    };
    let summary = format!(
        "{} {whose}, newest first",
        plural(rows.len(), "entry", "entries")
    );
    printer
        .finish(Some(&summary), "no entries")
        .map_err(write_failed)?;
    Ok(OK)
}

/// `sessions list --user USER --last-login`: when each of the user's sessions last signed in,
/// read from the audit logs once for the user, not once per session.
#[derive(Debug)]
pub(crate) struct LastLogins(HashMap<SessionId, u64>);

impl LastLogins {
    /// The column it adds to a session list.
    pub(crate) const COLUMN: Column = col("LAST LOGIN", "last_login");

    /// The last sign-in of each of `user`'s sessions.
    pub(crate) async fn of(client: &Client, user: &UserId) -> Result<LastLogins> {
        Ok(LastLogins(history::last_logins(client, user).await?))
    }

    /// Adds a session's last sign-in (UTC; empty, or null, when the logs have none) to its
    /// row.
    pub(crate) fn add(&self, s: &ActiveSession, json: &mut Value, cells: &mut Vec<String>) {
        let at = self
            .0
            .get(&s.session_id)
            .map(|secs| journal::utc(secs.saturating_mul(1_000)));
        cells.push(at.clone().unwrap_or_default());
        if let Value::Object(map) = json {
            map.insert(
                Self::COLUMN.name.to_owned(),
                at.map_or(Value::Null, Value::from),
            );
        }
    }
}
