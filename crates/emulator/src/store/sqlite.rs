//! The durable half of the store: SQLite tables that mirror the seed's shape.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::StoreError;
use super::audit::AuditEntry;
use super::audit_logs::{self, LogRecord};
use super::compact::{Device, Session};
use super::state::{Change, Job, State};
use crate::seed::*;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
    pos INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    grid INTEGER NOT NULL, teams TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, org_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    session_id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, user_id TEXT NOT NULL,
    team_id TEXT NOT NULL, client TEXT NOT NULL,
    c_hardware TEXT, c_os TEXT, c_os_version TEXT, c_version TEXT, c_ip TEXT,
    has_recent INTEGER NOT NULL,
    r_hardware TEXT, r_os TEXT, r_os_version TEXT, r_version TEXT, r_ip TEXT);
CREATE TABLE IF NOT EXISTS settings (
    user_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, duration INTEGER, quit INTEGER);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, user_ids TEXT NOT NULL,
    mobile_only INTEGER NOT NULL, web_only INTEGER NOT NULL, due_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, org_id TEXT NOT NULL,
    actor TEXT NOT NULL, method TEXT NOT NULL, users TEXT NOT NULL, sessions TEXT NOT NULL);
";

/// Marks a database file as the emulator's (`PRAGMA application_id`, "SLSS").
const APPLICATION_ID: i32 = 0x534C_5353;

/// An opened database: new (nothing in it yet) or the emulator's, checked.
#[derive(Debug)]
pub struct Opened {
    /// The connection, with the emulator's settings.
    pub conn: Connection,
    /// Nothing is in it yet: [`create`] and fill it in one transaction.
    pub new: bool,
}

/// Why a file cannot be served (the message names no path: the caller adds it).
fn unusable(path: &Path, problem: impl Into<String>) -> StoreError {
    StoreError::Unusable {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

/// Opens the database at `path` (an in-memory one for `None`) and checks that it is the
/// emulator's and undamaged: a file that is empty (0 bytes), not SQLite, another application's
/// database, or fails SQLite's `quick_check` is refused with what to do about it. Only a path
/// that does not exist yet, or an SQLite file without tables, becomes a new database.
///
/// WAL with `synchronous=NORMAL`: a commit is in the WAL file before `ok` is answered, which
/// survives the process being killed (`kill -9`); only an OS crash or power loss could lose the
/// last commits.
pub fn open(path: Option<&Path>) -> Result<Opened, StoreError> {
    let conn = match path {
        Some(p) => {
            if std::fs::metadata(p).is_ok_and(|m| m.len() == 0) {
                return Err(unusable(
                    p,
                    "the file is empty (0 bytes), so it is no database, and a truncated one would \
                     look the same: delete it, or give a path that does not exist yet, to start \
                     from the seed",
                ));
            }
            Connection::open(p)?
        }
        None => Connection::open_in_memory()?,
    };
    // Another emulator holds the file's exclusive lock for as long as it runs: waiting for it
    // (rusqlite's default busy timeout is 5 s) only delays the refusal.
    conn.busy_timeout(std::time::Duration::ZERO)?;
    let not_sqlite = |e: rusqlite::Error| match (path, e.sqlite_error_code()) {
        (
            Some(p),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked),
        ) => StoreError::InUse { path: p.to_owned() },
        (Some(p), Some(rusqlite::ErrorCode::NotADatabase)) => unusable(
            p,
            "this is not an SQLite database: give the path of an emulator database, or one that \
             does not exist yet",
        ),
        (Some(p), Some(rusqlite::ErrorCode::DatabaseCorrupt)) => damaged(p, &e.to_string()),
        _ => StoreError::Db(e),
    };
    // One process owns the file: exclusive locking spares a file lock and a shared-memory
    // index update per transaction, and makes a second emulator on the same file fail fast.
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(not_sqlite)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(not_sqlite)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(not_sqlite)?;
    // A checkpoint syncs the files; every 10,000 pages (~40 MB of WAL) instead of SQLite's
    // default 1,000 keeps that cost off nine in ten of the writes that would have paid it.
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    // Room for the writes' statements beside the audit log's page queries (one per filter
    // shape), so that reading logs never evicts what every write prepares.
    conn.set_prepared_statement_cache_capacity(64);
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(not_sqlite)?;
    if tables.is_empty() {
        return Ok(Opened { conn, new: true });
    }
    let Some(path) = path else {
        return Ok(Opened { conn, new: false });
    };
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    // Files written before the application id was set are known by their meta row.
    let ours = app_id == APPLICATION_ID
        || (app_id == 0
            && tables.iter().any(|t| t == "meta")
            && meta(&conn, "initialized")?.is_some());
    if !ours {
        return Err(unusable(
            path,
            format!(
                "this is not a slack-sessions database (it holds the tables {}): give the path of \
                 an emulator database, or one that does not exist yet",
                tables.join(", ")
            ),
        ));
    }
    let problems: Vec<String> = conn
        .prepare("PRAGMA quick_check(3)")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(not_sqlite)?;
    if problems != ["ok"] {
        return Err(damaged(path, &problems.join("; ")));
    }
    if meta(&conn, "initialized").map_err(not_sqlite)?.is_none() {
        return Err(damaged(path, "the emulator's meta row is missing"));
    }
    Ok(Opened { conn, new: false })
}

fn damaged(path: &Path, found: &str) -> StoreError {
    unusable(
        path,
        format!(
            "the database is damaged ({found}): restore it from a backup, or delete it to start \
             again from the seed"
        ),
    )
}

/// Creates the emulator's tables in a new database (inside the transaction that fills them, so
/// a file is either empty or complete).
pub fn create(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(super::audit_logs::SCHEMA)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("seed types serialize infallibly")
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Reads a `meta` value.
pub fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

/// Writes a `meta` value.
pub fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// The `meta` key of the highest session id ever given out ([`Seed::last_session_id`]).
const LAST_SESSION_ID: &str = "last_session_id";

/// Raises the stored highest session id to `id` (never lowers it).
pub fn raise_last_session_id(conn: &Connection, id: u64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE
         SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
    )?
    .execute(params![LAST_SESSION_ID, id as i64])?;
    Ok(())
}

/// Replaces the whole state with `seed`, the orgs' audit logs included (pending jobs are
/// dropped; the emulator's own record of API changes, `audit`, and the highest session id ever
/// given out are kept).
pub fn replace_all(tx: &Transaction, seed: &Seed) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DELETE FROM orgs; DELETE FROM users; DELETE FROM tokens; DELETE FROM sessions;
         DELETE FROM settings; DELETE FROM jobs;",
    )?;
    audit_logs::clear(tx)?;
    let mut org_stmt =
        tx.prepare("INSERT INTO orgs (pos, id, name, grid, teams) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    let mut user_stmt = tx.prepare("INSERT INTO users (id, org_id, body) VALUES (?1, ?2, ?3)")?;
    let mut token_stmt =
        tx.prepare("INSERT INTO tokens (token, org_id, body) VALUES (?1, ?2, ?3)")?;
    for (pos, org) in seed.orgs.iter().enumerate() {
        org_stmt.execute(params![
            pos as i64,
            org.id,
            org.name,
            org.grid,
            json(&org.teams)
        ])?;
        for u in &org.users {
            user_stmt.execute(params![u.id, org.id, json(u)])?;
        }
        for t in &org.tokens {
            token_stmt.execute(params![t.token, org.id, json(t)])?;
        }
        for s in &org.sessions {
            insert_session(tx, &org.id, s)?;
        }
        for s in &org.session_settings {
            put_settings(tx, &org.id, s)?;
        }
        // Oldest first, so that entries of the same second keep the seed's order.
        let mut entries: Vec<_> = org.audit_logs.iter().collect();
        entries.sort_by_key(|e| e.date_create);
        for entry in entries {
            let mut entry = entry.clone();
            if entry.id.is_empty() {
                entry.id = crate::audit_logs::new_id(&mut rand::rng());
            }
            audit_logs::insert(
                tx,
                &LogRecord {
                    org_id: org.id.clone(),
                    entry,
                },
            )?;
        }
    }
    let highest = seed
        .orgs
        .iter()
        .flat_map(|o| &o.sessions)
        .map(|s| s.session_id);
    raise_last_session_id(tx, highest.chain(seed.last_session_id).max().unwrap_or(0))?;
    set_meta(tx, "initialized", "1")
}

/// Inserts a session row (used by seeding, the API, and the bulk generator).
pub fn insert_session(tx: &Transaction, org_id: &str, s: &SessionSeed) -> rusqlite::Result<()> {
    let r = s.recent.as_ref();
    tx.prepare_cached(
        "INSERT INTO sessions (session_id, org_id, user_id, team_id, client,
             c_hardware, c_os, c_os_version, c_version, c_ip,
             has_recent, r_hardware, r_os, r_os_version, r_version, r_ip)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        s.session_id as i64,
        org_id,
        s.user_id,
        s.team_id,
        s.client.as_str(),
        s.created.device_hardware.as_deref(),
        s.created.os.as_deref(),
        s.created.os_version.as_deref(),
        s.created.slack_client_version.as_deref(),
        s.created.ip.as_deref(),
        r.is_some(),
        r.and_then(|r| r.device_hardware.as_deref()),
        r.and_then(|r| r.os.as_deref()),
        r.and_then(|r| r.os_version.as_deref()),
        r.and_then(|r| r.slack_client_version.as_deref()),
        r.and_then(|r| r.ip.as_deref()),
    ])?;
    Ok(())
}

fn put_settings(tx: &Transaction, org_id: &str, s: &SettingsSeed) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO settings (user_id, org_id, duration, quit) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(user_id) DO UPDATE SET duration = excluded.duration, quit = excluded.quit",
    )?
    .execute(params![
        s.user_id,
        org_id,
        s.duration.map(|d| d as i64),
        s.desktop_app_browser_quit
    ])?;
    Ok(())
}

/// Writes one change (inside the caller's transaction).
pub fn persist(tx: &Transaction, state: &State, change: &Change) -> rusqlite::Result<()> {
    match change {
        Change::RemoveSessions { ids, .. } => {
            let mut stmt = tx.prepare_cached("DELETE FROM sessions WHERE session_id = ?1")?;
            for id in ids {
                stmt.execute([*id as i64])?;
            }
        }
        Change::AddSession { org, session } => {
            insert_session(tx, &state.orgs[org.0].id, session)?;
            raise_last_session_id(tx, session.session_id)?;
        }
        Change::PutSettings { org, settings } => {
            for s in settings {
                put_settings(tx, &state.orgs[org.0].id, s)?;
            }
        }
        Change::DeleteSettings { users, .. } => {
            let mut stmt = tx.prepare_cached("DELETE FROM settings WHERE user_id = ?1")?;
            for u in users {
                stmt.execute([u])?;
            }
        }
        Change::AddJob(job) => {
            tx.prepare_cached(
                "INSERT INTO jobs (id, org_id, user_ids, mobile_only, web_only, due_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                job.id as i64,
                job.org_id,
                json(&job.user_ids),
                job.mobile_only,
                job.web_only,
                job.due_ms as i64
            ])?;
        }
        Change::FinishJob(id) => {
            tx.prepare_cached("DELETE FROM jobs WHERE id = ?1")?
                .execute([*id as i64])?;
        }
    }
    Ok(())
}

/// Appends an audit entry (inside the caller's transaction).
pub fn insert_audit(tx: &Transaction, e: &AuditEntry) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit (at_ms, org_id, actor, method, users, sessions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        e.at_ms as i64,
        e.org_id,
        e.actor,
        e.method,
        json(&e.users),
        json(&e.sessions)
    ])?;
    Ok(())
}

/// Audit entries with id above `after`, oldest first, at most `limit`.
pub fn read_audit(conn: &Connection, after: u64, limit: u32) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at_ms, org_id, actor, method, users, sessions FROM audit
         WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    // Ids are positive i64s: past i64::MAX nothing follows (a cast would wrap to "everything").
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(AuditEntry {
            id: r.get::<_, i64>(0)? as u64,
            at_ms: r.get::<_, i64>(1)? as u64,
            org_id: r.get(2)?,
            actor: r.get(3)?,
            method: r.get(4)?,
            users: from_json(&r.get::<_, String>(5)?)?,
            sessions: from_json(&r.get::<_, String>(6)?)?,
        })
    })?;
    rows.collect()
}

/// Streams the session rows straight into the compact indexes (no intermediate copy, so a
/// million sessions load in bounded memory).
fn load_sessions(conn: &Connection, state: &mut State) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT org_id, session_id, user_id, team_id, client,
                c_hardware, c_os, c_os_version, c_version, c_ip,
                has_recent, r_hardware, r_os, r_os_version, r_version, r_ip
         FROM sessions ORDER BY session_id",
    )?;
    let mut rows = stmt.query([])?;
    let mut last: Option<(String, usize)> = None;
    while let Some(r) = rows.next()? {
        let org_id = r.get_ref(0)?.as_str()?;
        let idx = match &last {
            Some((id, idx)) if id == org_id => *idx,
            _ => match state.org_key(org_id).map(|k| k.0) {
                Some(idx) => {
                    last = Some((org_id.to_owned(), idx));
                    idx
                }
                None => continue,
            },
        };
        let text =
            |i: usize| -> rusqlite::Result<Option<&str>> { Ok(r.get_ref(i)?.as_str_or_null()?) };
        let org = &mut state.orgs[idx];
        let strings = &mut org.strings;
        let user = strings.intern(r.get_ref(2)?.as_str()?);
        let team = strings.intern(r.get_ref(3)?.as_str()?);
        // Written as its name (`web`, `desktop`, `mobile`); a name of no such kind reads as web.
        let client = parse_session_client(r.get_ref(4)?.as_str()?).unwrap_or(ClientKind::Web);
        let created =
            Device::from_parts(strings, [text(5)?, text(6)?, text(7)?, text(8)?], text(9)?);
        let recent = if r.get::<_, bool>(10)? {
            Some(Device::from_parts(
                strings,
                [text(11)?, text(12)?, text(13)?, text(14)?],
                text(15)?,
            ))
        } else {
            None
        };
        let id = r.get::<_, i64>(1)? as u64;
        org.insert_session(
            id,
            Session {
                user,
                team,
                client,
                created,
                recent,
            },
        );
    }
    Ok(())
}

/// Loads the whole state, or `None` when the database has never been initialized.
pub fn load(conn: &Connection) -> rusqlite::Result<Option<State>> {
    if meta(conn, "initialized")?.is_none() {
        return Ok(None);
    }
    let mut seed = Seed::default();
    {
        let mut stmt = conn.prepare("SELECT id, name, grid, teams FROM orgs ORDER BY pos")?;
        let rows = stmt.query_map([], |r| {
            Ok(OrgSeed {
                id: r.get(0)?,
                name: r.get(1)?,
                grid: r.get(2)?,
                teams: from_json(&r.get::<_, String>(3)?)?,
                users: vec![],
                tokens: vec![],
                sessions: vec![],
                session_settings: vec![],
                audit_logs: vec![],
            })
        })?;
        for org in rows {
            seed.orgs.push(org?);
        }
    }
    let pos = |seed: &Seed, id: &str| seed.orgs.iter().position(|o| o.id == id);
    let mut stmt = conn.prepare("SELECT org_id, body FROM users ORDER BY id")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(i) = pos(&seed, &r.get::<_, String>(0)?) {
            seed.orgs[i].users.push(from_json(&r.get::<_, String>(1)?)?);
        }
    }
    let mut stmt = conn.prepare("SELECT org_id, body FROM tokens ORDER BY token")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(i) = pos(&seed, &r.get::<_, String>(0)?) {
            seed.orgs[i]
                .tokens
                .push(from_json(&r.get::<_, String>(1)?)?);
        }
    }
    let mut stmt =
        conn.prepare("SELECT org_id, user_id, duration, quit FROM settings ORDER BY user_id")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(i) = pos(&seed, &r.get::<_, String>(0)?) {
            seed.orgs[i].session_settings.push(SettingsSeed {
                user_id: r.get(1)?,
                duration: r.get::<_, Option<i64>>(2)?.map(|d| d as u64),
                desktop_app_browser_quit: r.get(3)?,
            });
        }
    }
    let mut state = State::from_seed(seed);
    load_sessions(conn, &mut state)?;
    // Databases written before the mark was kept have none: their highest id stands for it.
    let mark = meta(conn, LAST_SESSION_ID)?.and_then(|v| v.parse::<u64>().ok());
    state.last_session_id = state.max_session_id().max(mark.unwrap_or(0));
    let mut stmt = conn.prepare(
        "SELECT id, org_id, user_ids, mobile_only, web_only, due_ms FROM jobs ORDER BY id",
    )?;
    let jobs = stmt.query_map([], |r| {
        Ok(Job {
            id: r.get::<_, i64>(0)? as u64,
            org_id: r.get(1)?,
            user_ids: from_json(&r.get::<_, String>(2)?)?,
            mobile_only: r.get(3)?,
            web_only: r.get(4)?,
            due_ms: r.get::<_, i64>(5)? as u64,
        })
    })?;
    for job in jobs {
        let job = job?;
        state.jobs.insert(job.id, job);
    }
    Ok(Some(state))
}
