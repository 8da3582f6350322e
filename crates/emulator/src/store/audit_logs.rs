//! The audit logs of Slack's Audit Logs API, kept in SQLite only: a million entries cost the
//! emulator disk, not memory (pages are read from indexes, a page at a time).
//!
//! Not to be confused with [`super::audit`], the emulator's own record of the changes made
//! through `/api/` (served at `/_emulator/audit`).
//!
//! Each row holds the entry's JSON as served, and the columns the filters need. Pages are
//! keyset scans of `(date_create, seq)`, newest first (`seq`, the insertion order, breaks ties
//! of entries of the same second), so the last page of a million entries costs what the first
//! does. Each filter has its index; a filter on several actions (and nothing else) merges one
//! scan per action instead of sorting every match.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Transaction, params, params_from_iter};
use slack_sessions_api::audit_logs::Entry;

/// The table and its indexes (also run on every open: databases made before it gain it).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_logs (
    seq INTEGER PRIMARY KEY, org_id TEXT NOT NULL, date_create INTEGER NOT NULL,
    action TEXT NOT NULL, actor TEXT NOT NULL, entity TEXT NOT NULL, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_logs_by_date ON audit_logs (org_id, date_create, seq);
CREATE INDEX IF NOT EXISTS audit_logs_by_actor ON audit_logs (org_id, actor, date_create, seq);
CREATE INDEX IF NOT EXISTS audit_logs_by_entity ON audit_logs (org_id, entity, date_create, seq);
CREATE INDEX IF NOT EXISTS audit_logs_by_action ON audit_logs (org_id, action, date_create, seq);
";

/// Drops the indexes of [`SCHEMA`] (which builds them again), for bulk loading.
pub const DROP_INDEXES: &str = "
DROP INDEX IF EXISTS audit_logs_by_date; DROP INDEX IF EXISTS audit_logs_by_actor;
DROP INDEX IF EXISTS audit_logs_by_entity; DROP INDEX IF EXISTS audit_logs_by_action;
";

/// An entry to record, and the org whose log it goes to.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// The org.
    pub org_id: String,
    /// The entry, as it will be served.
    pub entry: Entry,
}

/// A position in an org's log: entries are served in descending order of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// `date_create`.
    pub date: u64,
    /// The row's insertion order.
    pub seq: i64,
}

/// One `/logs` query, checked.
#[derive(Clone, Debug, Default)]
pub struct LogQuery<'a> {
    /// The org.
    pub org_id: &'a str,
    /// Only this actor.
    pub actor: Option<&'a str>,
    /// Only this entity.
    pub entity: Option<&'a str>,
    /// Only these actions (none: every action).
    pub actions: Vec<&'a str>,
    /// Not before (inclusive).
    pub oldest: Option<u64>,
    /// Not after (inclusive).
    pub latest: Option<u64>,
    /// Only entries after this position (the cursor), in serving order.
    pub after: Option<Position>,
    /// At most this many, plus one that tells whether another page follows.
    pub limit: usize,
}

/// An entry as read: its position and its JSON.
#[derive(Clone, Debug)]
pub struct LogRow {
    /// Where it is in the log.
    pub position: Position,
    /// The entry's JSON, as served.
    pub json: String,
}

/// Appends an entry (inside the caller's transaction).
pub fn insert(tx: &Transaction, record: &LogRecord) -> rusqlite::Result<()> {
    let e = &record.entry;
    let json = serde_json::to_string(e).expect("entries serialize");
    tx.prepare_cached(
        "INSERT INTO audit_logs (org_id, date_create, action, actor, entity, entry)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        record.org_id,
        date(e.date_create),
        e.action,
        e.actor.user_id().map_or("", |u| u.as_str()),
        e.entity.id().unwrap_or(""),
        json
    ])?;
    Ok(())
}

/// Dates are SQLite integers; one past `i64::MAX` seconds is not a date anyone stores.
fn date(d: u64) -> i64 {
    i64::try_from(d).unwrap_or(i64::MAX)
}

/// Empties every org's log (inside the caller's transaction).
pub fn clear(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM audit_logs", [])?;
    Ok(())
}

/// The conditions every scan shares: the date range and the position after the cursor.
fn range(q: &LogQuery<'_>, sql: &mut String, args: &mut Vec<SqlValue>) {
    if let Some(oldest) = q.oldest {
        sql.push_str(" AND date_create >= ?");
        args.push(SqlValue::Integer(date(oldest)));
    }
    if let Some(latest) = q.latest {
        sql.push_str(" AND date_create <= ?");
        args.push(SqlValue::Integer(date(latest)));
    }
    if let Some(p) = q.after {
        sql.push_str(" AND (date_create, seq) < (?, ?)");
        args.push(SqlValue::Integer(date(p.date)));
        args.push(SqlValue::Integer(p.seq));
    }
}

/// One page: at most `limit + 1` entries of the query, newest first.
pub fn page(conn: &Connection, q: &LogQuery<'_>) -> rusqlite::Result<Vec<LogRow>> {
    let take = q.limit.saturating_add(1);
    if q.actor.is_none() && q.entity.is_none() && q.actions.len() > 1 {
        return merged(conn, q, take);
    }
    // The most selective index that the filter pins down: actor, entity, one action, or the
    // date alone. The other filters are checked on the rows it yields.
    let (index, first) = match (q.actor, q.entity, q.actions.as_slice()) {
        (Some(actor), _, _) => ("audit_logs_by_actor", Some(("actor", actor))),
        (None, Some(entity), _) => ("audit_logs_by_entity", Some(("entity", entity))),
        (None, None, [action]) => ("audit_logs_by_action", Some(("action", *action))),
        _ => ("audit_logs_by_date", None),
    };
    let mut sql = format!(
        "SELECT date_create, seq, entry FROM audit_logs INDEXED BY {index} WHERE org_id = ?"
    );
    let mut args = vec![SqlValue::Text(q.org_id.to_owned())];
    if let Some((column, value)) = first {
        sql.push_str(&format!(" AND {column} = ?"));
        args.push(SqlValue::Text(value.to_owned()));
    }
    if first.is_some_and(|(column, _)| column == "actor")
        && let Some(entity) = q.entity
    {
        sql.push_str(" AND entity = ?");
        args.push(SqlValue::Text(entity.to_owned()));
    }
    if first.is_some_and(|(column, _)| column != "action") && !q.actions.is_empty() {
        sql.push_str(" AND action IN (");
        for (i, action) in q.actions.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
            args.push(SqlValue::Text((*action).to_owned()));
        }
        sql.push(')');
    }
    range(q, &mut sql, &mut args);
    sql.push_str(" ORDER BY date_create DESC, seq DESC LIMIT ?");
    args.push(SqlValue::Integer(take as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(LogRow {
            position: Position {
                date: r.get::<_, i64>(0)? as u64,
                seq: r.get(1)?,
            },
            json: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// Several actions and no other index to drive the scan: the newest `take` positions of each
/// action (from its index alone), merged, then the entries of the `take` newest.
fn merged(conn: &Connection, q: &LogQuery<'_>, take: usize) -> rusqlite::Result<Vec<LogRow>> {
    let mut positions = Vec::new();
    for action in &q.actions {
        let mut sql = "SELECT date_create, seq FROM audit_logs INDEXED BY audit_logs_by_action \
                       WHERE org_id = ? AND action = ?"
            .to_owned();
        let mut args = vec![
            SqlValue::Text(q.org_id.to_owned()),
            SqlValue::Text((*action).to_owned()),
        ];
        range(q, &mut sql, &mut args);
        sql.push_str(" ORDER BY date_create DESC, seq DESC LIMIT ?");
        args.push(SqlValue::Integer(take as i64));
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            Ok(Position {
                date: r.get::<_, i64>(0)? as u64,
                seq: r.get(1)?,
            })
        })?;
        for p in rows {
            positions.push(p?);
        }
    }
    positions.sort_unstable_by(|a, b| b.cmp(a));
    positions.truncate(take);
    let mut stmt = conn.prepare_cached("SELECT entry FROM audit_logs WHERE seq = ?1")?;
    positions
        .into_iter()
        .map(|position| {
            Ok(LogRow {
                position,
                json: stmt.query_row([position.seq], |r| r.get(0))?,
            })
        })
        .collect()
}

/// Every entry of an org, oldest first (for an export: imported back in this order, ties keep
/// their order).
pub fn all(conn: &Connection, org_id: &str) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT entry FROM audit_logs INDEXED BY audit_logs_by_date WHERE org_id = ?1
         ORDER BY date_create, seq",
    )?;
    let rows = stmt.query_map([org_id], |r| {
        let json: String = r.get(0)?;
        serde_json::from_str::<Entry>(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    })?;
    rows.collect()
}

/// How many entries every org holds together.
pub fn count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT count(*) FROM audit_logs", [], |r| {
        r.get::<_, i64>(0).map(|n| n as u64)
    })
}
