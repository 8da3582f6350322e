//! The store: one module boundary around all state.
//!
//! Reads are served from an in-memory image ([`State`]); every change is a list of [`Change`]s
//! committed to SQLite in one transaction and only then applied to the image, so an answer of
//! `ok:true` is never given for a change that is not on disk. A PostgreSQL store would replace
//! [`sqlite`] behind the same [`Store`] API.

mod audit;
mod audit_logs;
mod compact;
pub mod generate;
mod sqlite;
mod state;
mod view;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use rusqlite::Connection;

pub use audit::AuditEntry;
pub use audit_logs::{LogQuery, LogRecord, LogRow, Position};
pub use state::{Change, Job};
pub use view::{OrgView, SessionFilter, TokenView, View};

use crate::seed::{Seed, SeedError};
use state::State;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// The database file cannot be served: damaged, not ours, or empty where data was expected.
    #[error("{path}: {problem}")]
    Unusable {
        /// The file.
        path: PathBuf,
        /// What is wrong with it and what to do.
        problem: String,
    },
    /// Another process holds the database file's lock: another emulator serves it.
    #[error("{} is in use by another emulator (another process holds its lock)", path.display())]
    InUse {
        /// The file.
        path: PathBuf,
    },
    /// A seed was refused.
    #[error(transparent)]
    Seed(#[from] SeedError),
}

/// What a handler asks the store to write, computed under the write lock: changes to commit, an
/// audit entry, audit-log entries, and a value to return once they are committed.
#[derive(Debug)]
pub struct Changes<T> {
    /// Returned to the caller once committed.
    pub value: T,
    /// Committed together, then applied.
    pub changes: Vec<Change>,
    /// Recorded in the same transaction.
    pub audit: Option<AuditEntry>,
    /// Entries of the orgs' audit logs (Slack's Audit Logs API), in the same transaction.
    pub audit_logs: Vec<LogRecord>,
}

impl<T> Changes<T> {
    /// Nothing to write: only `value` to return.
    pub fn nothing(value: T) -> Self {
        Changes {
            value,
            changes: Vec::new(),
            audit: None,
            audit_logs: Vec::new(),
        }
    }
}

/// The audit logs, read under the same state as the caller's authentication
/// ([`Store::read_audit_logs`]).
#[derive(Debug)]
pub struct LogReader<'a> {
    conn: &'a Connection,
}

impl LogReader<'_> {
    /// One page of `query`: at most its limit plus one entries, newest first.
    pub fn page(&self, query: &LogQuery<'_>) -> Result<Vec<LogRow>, StoreError> {
        Ok(audit_logs::page(self.conn, query)?)
    }
}

/// The emulator's state, in memory and on disk.
#[derive(Debug)]
pub struct Store {
    state: RwLock<State>,
    db: Mutex<Connection>,
    next_job: AtomicU64,
    kept: bool,
}

fn json(seed: &Seed) -> String {
    serde_json::to_string(seed).expect("seed serializes")
}

const SEED_KEY: &str = "seed";
const GENERATED_KEY: &str = "generated";

/// What a new database is filled with.
enum Initial<'a> {
    Seed(Option<&'a Seed>),
    Generated(generate::Sizes),
}

impl Store {
    /// Opens the database at `path` (`None`: in memory).
    ///
    /// A new database is filled from `seed`. An existing one keeps its state, so that a restart
    /// loses nothing and duplicates nothing; `seed` then only becomes what
    /// [`reset`](Self::reset) restores.
    pub fn open(path: Option<&Path>, seed: Option<&Seed>) -> Result<Store, StoreError> {
        Self::open_with(path, Initial::Seed(seed))
    }

    /// Opens the database at `path`, filling a new one with [`generate::fill`]`(sizes)`
    /// (which is also what [`reset`](Self::reset) restores).
    pub fn open_generated(
        path: Option<&Path>,
        sizes: generate::Sizes,
    ) -> Result<Store, StoreError> {
        Self::open_with(path, Initial::Generated(sizes))
    }

    fn open_with(path: Option<&Path>, initial: Initial<'_>) -> Result<Store, StoreError> {
        let sqlite::Opened { mut conn, new } = sqlite::open(path)?;
        if !new {
            // Files made before the audit logs existed gain their table (a no-op otherwise;
            // a new file gets it with the others, in the transaction that fills it).
            conn.execute_batch(audit_logs::SCHEMA)?;
        }
        let seed = match initial {
            Initial::Seed(seed) => seed,
            Initial::Generated(..) => None,
        };
        if new {
            // Tables, contents and the `initialized` mark commit together: a file is either
            // empty or complete.
            let tx = conn.transaction()?;
            sqlite::create(&tx)?;
            match initial {
                Initial::Generated(sizes) => {
                    generate::fill(&tx, sizes)?;
                    sqlite::set_meta(&tx, GENERATED_KEY, &sizes.to_string())?;
                }
                Initial::Seed(seed) => {
                    let seed = seed.cloned().unwrap_or_default();
                    sqlite::replace_all(&tx, &seed)?;
                    sqlite::set_meta(&tx, SEED_KEY, &json(&seed))?;
                }
            }
            tx.commit()?;
        } else if seed.is_some() {
            tracing::info!(
                "database already holds state: keeping it (POST /_emulator/reset restores the seed)"
            );
        }
        let state = sqlite::load(&conn)
            .map_err(|e| match (path, e.sqlite_error_code()) {
                (Some(p), Some(rusqlite::ErrorCode::DatabaseCorrupt)) => StoreError::Unusable {
                    path: p.to_owned(),
                    problem: format!(
                        "the database is damaged ({e}): restore it from a backup, or delete it \
                         to start again from the seed"
                    ),
                },
                _ => StoreError::Db(e),
            })?
            .unwrap_or_default();
        if let Some(seed) = seed {
            sqlite::set_meta(&conn, SEED_KEY, &json(seed))?;
        }
        let next_job = state.jobs.keys().next_back().map_or(1, |id| id + 1);
        Ok(Store {
            state: RwLock::new(state),
            db: Mutex::new(conn),
            next_job: AtomicU64::new(next_job),
            kept: !new,
        })
    }

    /// Whether the database already held state at start-up (which was kept, whatever the seed).
    pub fn kept_existing_state(&self) -> bool {
        self.kept
    }

    /// Runs `f` on one consistent view of the state (under the read lock: keep it short, and
    /// never await inside).
    pub fn read<T>(&self, f: impl FnOnce(View<'_>) -> T) -> T {
        f(View::new(&self.state.read()))
    }

    /// Runs `f` under the write lock, commits the [`Changes`] it asks for, applies them, returns
    /// their value. Nothing another call does can come between what `f` read and what it
    /// changes.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(View<'_>) -> Result<Changes<T>, E>,
    ) -> Result<T, E> {
        let mut state = self.state.write();
        let asked = f(View::new(&state))?;
        if asked.changes.is_empty() && asked.audit.is_none() && asked.audit_logs.is_empty() {
            return Ok(asked.value);
        }
        {
            let mut db = self.db.lock();
            let tx = db.transaction().map_err(StoreError::from)?;
            for change in &asked.changes {
                sqlite::persist(&tx, &state, change).map_err(StoreError::from)?;
            }
            if let Some(entry) = &asked.audit {
                sqlite::insert_audit(&tx, entry).map_err(StoreError::from)?;
            }
            for record in &asked.audit_logs {
                audit_logs::insert(&tx, record).map_err(StoreError::from)?;
            }
            tx.commit().map_err(StoreError::from)?;
        }
        for change in asked.changes {
            state.apply(change);
        }
        Ok(asked.value)
    }

    /// A fresh id for a `resetBulk` job.
    pub fn next_job_id(&self) -> u64 {
        self.next_job.fetch_add(1, Ordering::Relaxed)
    }

    /// Restores the seed the emulator was started with (pending jobs are dropped).
    pub fn reset(&self) -> Result<(), StoreError> {
        let generated = sqlite::meta(&self.db.lock(), GENERATED_KEY)?;
        if let Some(sizes) = generated {
            let sizes = sizes.parse().unwrap_or_default();
            let mut state = self.state.write();
            let mut db = self.db.lock();
            let tx = db.transaction()?;
            generate::fill(&tx, sizes)?;
            tx.commit()?;
            *state = sqlite::load(&db)?.unwrap_or_default();
            return Ok(());
        }
        let seed = {
            let db = self.db.lock();
            match sqlite::meta(&db, SEED_KEY)? {
                Some(json) => Seed::from_json_bytes(json.as_bytes())?,
                None => Seed::default(),
            }
        };
        self.replace(&seed)
    }

    /// Replaces the whole state with `seed` (the seed to reset to is unchanged).
    pub fn replace(&self, seed: &Seed) -> Result<(), StoreError> {
        seed.validate()?;
        // The new indexes are built before the lock is taken: calls go on meanwhile.
        let mut fresh = State::from_seed(seed.clone());
        let mut state = self.state.write();
        // No id is given twice: a state whose ids are lower does not lower the mark.
        fresh.last_session_id = fresh.last_session_id.max(state.last_session_id);
        {
            let mut db = self.db.lock();
            let tx = db.transaction()?;
            sqlite::replace_all(&tx, seed)?;
            tx.commit()?;
        }
        *state = fresh;
        Ok(())
    }

    /// The whole state in the seed's shape, audit logs included.
    pub fn export(&self) -> Result<Seed, StoreError> {
        let state = self.state.read();
        let mut seed = View::new(&state).to_seed();
        let db = self.db.lock();
        for org in &mut seed.orgs {
            org.audit_logs = audit_logs::all(&db, &org.id)?;
        }
        Ok(seed)
    }

    /// Runs `f` on one consistent view of the state and the audit logs that go with it: a
    /// `/logs` call reads the logs of the org its token was checked against, even while the
    /// state is replaced. Keep it short (it holds the read lock and the database).
    pub fn read_audit_logs<T>(&self, f: impl FnOnce(View<'_>, LogReader<'_>) -> T) -> T {
        let state = self.state.read();
        let db = self.db.lock();
        f(View::new(&state), LogReader { conn: &db })
    }

    /// How many audit-log entries every org holds together.
    pub fn audit_log_count(&self) -> Result<u64, StoreError> {
        Ok(audit_logs::count(&self.db.lock())?)
    }

    /// Audit entries after id `after`, oldest first, at most `limit`.
    pub fn audit(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(sqlite::read_audit(&self.db.lock(), after, limit)?)
    }
}
