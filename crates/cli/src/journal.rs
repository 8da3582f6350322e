//! The journal: an append-only file of JSON lines next to the report, from which an
//! interrupted run resumes. Offboarding, bulk invalidation and enforcement each keep one
//! ([`crate::journaled`] replays it and writes to it).
//!
//! # Protocol
//!
//! - The first record ([`Record::Start`]) fingerprints the run: the input file's SHA-256, the
//!   options that decide what is done, the API URL and the org. A run started with anything
//!   different is refused rather than mixed into this one.
//! - Before every state-changing call, an [`Record::Intent`] names the call's step number,
//!   method and users; it is written and **fsync'd before the request leaves**. After the call,
//!   a [`Record::Result`] says what came of it, fsync'd as well.
//! - Lookups and verifications are recorded too, so a resumed run does not repeat them; they
//!   change nothing in Slack, so they are written at once (a killed process loses none) but
//!   synced in groups (an OS crash may lose the last few, which are then simply redone).
//! - Each record is one `write` of one line. A line cut short by a crash can only be the last
//!   one; it is dropped when the journal is opened again. An intent that was cut short was
//!   never followed by its call.
//! - The file is locked (an advisory `flock`) while a run uses it: two runs of the same
//!   run at once are refused. The lock goes with the process, even after `kill -9`.
//!
//! The token is never written here.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::ActiveSession;

use crate::exit::{Failure, Result, USAGE};

/// The journal format's version.
pub const VERSION: u32 = 1;

/// Records kept unsynced at most, for the records that need no immediate sync.
const SYNC_EVERY: usize = 200;

/// What decides what a run does: a resumed run must have the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// `resetBulk` or `reset` (`--one-by-one`).
    pub method: String,
    /// Users per `resetBulk` call.
    pub batch_size: u32,
    /// `all`, `mobile` or `web`.
    pub scope: String,
    /// The team id given with `--team`, if any.
    pub team: Option<String>,
    /// The API's base URL.
    pub api_url: String,
    /// The input's column (`--column`, or the one found), for a file of several columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// `--include-self`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_self: bool,
}

/// What a lookup tells of a user, known before any reset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// A bot user (`cannot_reset_bot`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
    /// The org's primary owner (`cannot_reset_primary_owner`, unless the token is theirs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub primary_owner: bool,
}

/// What came of a state-changing call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Slack acknowledged it (`ok: true`).
    Ok,
    /// Slack applied it for some users only (`failed_for_some_users`).
    Partial,
    /// Slack refused it before acting, for a reason tied to a user in it (e.g.
    /// `cannot_reset_primary_owner`): split the batch, or fail the one user.
    Refused,
    /// It was certainly not applied (rate limited, not sent, refused for the token).
    NotApplied,
    /// It may have been applied: no usable answer came back.
    Unknown,
}

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The run's fingerprint; always the first line.
    Start {
        /// [`VERSION`].
        version: u32,
        /// The tool and its version.
        tool: String,
        /// The input file as given.
        input: String,
        /// SHA-256 of the input file.
        input_sha256: String,
        /// The options that decide what is done.
        options: Options,
        /// The org (or workspace) of the token.
        org_id: String,
        /// The admin the token belongs to.
        admin_user_id: String,
        /// When, in ms since the Unix epoch.
        at_ms: u64,
    },
    /// The run was started again.
    Resume {
        /// When.
        at_ms: u64,
    },
    /// An email address was looked up.
    Resolved {
        /// The address, as written in the input.
        email: String,
        /// The user, or `None` if no user has it.
        user_id: Option<UserId>,
        /// What the lookup said of the user that decides whether Slack signs them out.
        #[serde(default, flatten)]
        facts: Facts,
    },
    /// A user given by ID was read (`users.info`, or found or not in a `users.list` walk).
    Known {
        /// The user.
        user_id: UserId,
        /// Whether the token's org has the user (`false`: `user_not_found`).
        found: bool,
        /// What Slack's user record says that decides whether Slack signs them out.
        #[serde(default, flatten)]
        facts: Facts,
    },
    /// A state-changing call is about to be sent.
    Intent {
        /// Its step number (rising).
        step: u64,
        /// Slack's method name.
        method: String,
        /// The users it acts on.
        user_ids: Vec<UserId>,
        /// When.
        at_ms: u64,
    },
    /// What came of the call of `step`.
    Result {
        /// The step.
        step: u64,
        /// The outcome.
        outcome: Outcome,
        /// Slack's error code or the error, if it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// When.
        at_ms: u64,
    },
    /// A call whose outcome was unknown, checked by listing its users' sessions: `done` had
    /// none left (the call was applied, or there was nothing to end), `resend` still had some.
    Reconciled {
        /// The step.
        step: u64,
        /// Users with no sessions left.
        done: Vec<UserId>,
        /// Users whose sessions are still there: they are reset again.
        resend: Vec<UserId>,
        /// When.
        at_ms: u64,
    },
    /// A user's sessions were counted after the reset.
    Verified {
        /// The user.
        user_id: UserId,
        /// Sessions (of the run's scope) still there; 0 means done.
        sessions_left: u64,
    },
    /// A session a run on sessions (`sessions invalidate` with filters, `enforce`) is to end,
    /// as its filters found it.
    Target {
        /// The session as listed.
        session: ActiveSession,
    },
    /// Every target of the run is recorded: the search is over and is not made again.
    Selected {
        /// How many sessions.
        count: u64,
        /// When.
        at_ms: u64,
    },
    /// Why enforcement is about to act on a session, written before the action's intent: an
    /// action whose answer a stop lost is then still reported under its rule.
    Decided {
        /// The decision's number: the step its first call takes (so it is unique, and the
        /// audit log's line for it can be found).
        decision: u64,
        /// What was decided, and why.
        #[serde(flatten)]
        reason: Reason,
    },
    /// An `invalidate` call is about to be sent for one session.
    SessionIntent {
        /// Its step number (rising; shared with [`Record::Intent`]).
        step: u64,
        /// The session.
        session_id: u64,
        /// Its user.
        user_id: UserId,
        /// When.
        at_ms: u64,
    },
    /// A session call whose outcome was unknown was checked by listing its user's sessions.
    SessionSettled {
        /// The step.
        step: u64,
        /// The session was no longer listed (the call was applied, or it ended anyway).
        gone: bool,
        /// When.
        at_ms: u64,
    },
    /// A session was looked for after it was ended.
    SessionVerified {
        /// The session.
        session_id: u64,
        /// It was no longer listed.
        gone: bool,
    },
    /// The run finished.
    Finished {
        /// Its exit code.
        exit_code: u8,
        /// When.
        at_ms: u64,
    },
}

impl Record {
    /// Whether the record must be on disk before the program goes on.
    fn must_sync(&self) -> bool {
        !matches!(
            self,
            Record::Resolved { .. }
                | Record::Known { .. }
                | Record::Verified { .. }
                | Record::Target { .. }
                | Record::SessionVerified { .. }
                | Record::Decided { .. }
        )
    }
}

/// The journal of a report: `REPORT.journal`.
pub fn journal_path(report: &Path) -> PathBuf {
    let mut name = report.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// A method's name without `admin.users.session.` (`reset`, `resetBulk`), for reports.
pub fn short(method: &str) -> String {
    method.trim_start_matches("admin.users.session.").to_owned()
}

/// Why enforcement acts on a session ([`Record::Decided`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The session that broke the rule.
    pub session_id: u64,
    /// Its user.
    pub user_id: UserId,
    /// The rule's name.
    pub rule: String,
    /// Why, in words.
    pub why: String,
    /// The user's email, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `invalidate` or `reset`.
    pub action: String,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// An open, locked journal.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    unsynced: usize,
}

fn io_failure(path: &Path, what: &str, err: io::Error) -> Failure {
    Failure::other(format!(
        "cannot {what} the journal {}: {err}",
        path.display()
    ))
}

/// Parses a journal's text: every complete line, and the length of the valid prefix (a last
/// line without its newline, cut short by a crash, is left out).
pub fn parse(path: &Path, text: &[u8]) -> Result<(Vec<Record>, u64)> {
    let mut records = Vec::new();
    let mut valid = 0u64;
    let mut start = 0usize;
    while let Some(pos) = text[start..].iter().position(|b| *b == b'\n') {
        let line = &text[start..start + pos];
        let number = records.len() + 1;
        if !line.iter().all(u8::is_ascii_whitespace) {
            let record: Record = serde_json::from_slice(line).map_err(|e| {
                Failure::other(format!(
                    "the journal {} is damaged at line {number}: {e}",
                    path.display()
                ))
                .hint("move it away to start over (users already reset would be reset again)")
            })?;
            records.push(record);
        }
        start += pos + 1;
        valid = start as u64;
    }
    Ok((records, valid))
}

/// Reads a journal without locking or changing it (for `--dry-run`); `None` if there is none.
pub fn read(path: &Path) -> Result<Option<Vec<Record>>> {
    match std::fs::read(path) {
        Ok(bytes) => parse(path, &bytes).map(|(records, _)| Some(records)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_failure(path, "read", e)),
    }
}

impl Journal {
    /// Opens (or creates) and locks the journal, returning what it already holds.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Record>)> {
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| io_failure(path, "open", e))?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(Failure::usage(format!(
                    "another run is using the journal {} right now",
                    path.display()
                ))
                .hint("wait for it to finish; two runs of one offboarding at once are refused"));
            }
            Err(fs4::TryLockError::Error(e)) => return Err(io_failure(path, "lock", e)),
        }
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(|e| io_failure(path, "read", e))?;
        let (records, valid) = parse(path, &bytes)?;
        if valid < bytes.len() as u64 {
            // A last line cut short by a crash: its call was never made (intents are synced
            // before the call), so it is dropped.
            file.set_len(valid)
                .and_then(|()| file.sync_all())
                .map_err(|e| io_failure(path, "repair", e))?;
        }
        if !existed {
            sync_dir(path);
        }
        Ok((
            Journal {
                file,
                path: path.to_owned(),
                unsynced: 0,
            },
            records,
        ))
    }

    /// Appends a record; intents, results and the run's start and end are fsync'd before this
    /// returns.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record)
            .map_err(|e| Failure::other(format!("cannot encode a journal record: {e}")))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(|e| io_failure(&self.path, "write", e))?;
        self.unsynced += 1;
        if record.must_sync() || self.unsynced >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// Forces what was written to disk.
    pub fn sync(&mut self) -> Result<()> {
        if self.unsynced > 0 {
            self.file
                .sync_data()
                .map_err(|e| io_failure(&self.path, "sync", e))?;
            self.unsynced = 0;
        }
        Ok(())
    }

    /// Empties the journal (of a run that changed nothing).
    pub fn clear(&mut self) -> Result<()> {
        self.file
            .set_len(0)
            .and_then(|()| self.file.sync_all())
            .map_err(|e| io_failure(&self.path, "clear", e))?;
        self.unsynced = 0;
        Ok(())
    }

    /// Removes the journal (a run declined before it changed anything).
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Makes a new file's name durable.
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Compares a journal's fingerprint with this run's.
pub fn check_same_run(journal: &Path, first: &Record, now: &Record) -> Result<()> {
    let (
        Record::Start {
            version: v0,
            input_sha256: sha0,
            options: o0,
            org_id: org0,
            input: in0,
            ..
        },
        Record::Start {
            input_sha256: sha1,
            options: o1,
            org_id: org1,
            input: in1,
            ..
        },
    ) = (first, now)
    else {
        return Err(Failure::other(format!(
            "the journal {} does not start with a run record",
            journal.display()
        )));
    };
    let mut diffs = Vec::new();
    if *v0 != VERSION {
        diffs.push(format!(
            "it was written by another version (format {v0}, this is {VERSION})"
        ));
    }
    if sha0 != sha1 {
        diffs.push(format!(
            "the input file differs (journal: {in0}, sha256 {}…; now: {in1}, sha256 {}…)",
            &sha0[..12.min(sha0.len())],
            &sha1[..12.min(sha1.len())]
        ));
    }
    if o0.method != o1.method {
        diffs.push(format!(
            "--one-by-one differs (journal: {}, now: {})",
            short(&o0.method),
            short(&o1.method)
        ));
    }
    if o0.batch_size != o1.batch_size {
        diffs.push(format!(
            "--batch-size differs (journal: {}, now: {})",
            o0.batch_size, o1.batch_size
        ));
    }
    if o0.scope != o1.scope {
        diffs.push(format!(
            "--mobile-only/--web-only differ (journal: {} sessions, now: {})",
            o0.scope, o1.scope
        ));
    }
    if o0.team != o1.team {
        diffs.push(format!(
            "--team differs (journal: {}, now: {})",
            o0.team.as_deref().unwrap_or("none"),
            o1.team.as_deref().unwrap_or("none")
        ));
    }
    if o0.column != o1.column {
        diffs.push(format!(
            "--column differs (journal: {}, now: {})",
            o0.column.as_deref().unwrap_or("none"),
            o1.column.as_deref().unwrap_or("none")
        ));
    }
    if o0.include_self != o1.include_self {
        diffs.push(format!(
            "--include-self differs (journal: {}, now: {})",
            o0.include_self, o1.include_self
        ));
    }
    if o0.api_url != o1.api_url {
        diffs.push(format!(
            "--api-url differs (journal: {}, now: {})",
            o0.api_url, o1.api_url
        ));
    }
    if org0 != org1 {
        diffs.push(format!(
            "the token belongs to another org (journal: {org0}, now: {org1})"
        ));
    }
    if diffs.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        USAGE,
        format!(
            "the journal {} belongs to another run: {}",
            journal.display(),
            diffs.join("; ")
        ),
    )
    .hint(
        "resume that run with its own input file and options, or give another --report path \
         to start a new run (a new run resets again users the old one already reset)",
    ))
}

/// Records for the tests of the states that replay a journal.
#[cfg(test)]
pub mod fixtures {
    use super::{Outcome, Record};

    /// What came of the call of `step` (at time 0).
    pub fn result(step: u64, outcome: Outcome, error: Option<&str>) -> Record {
        Record::Result {
            step,
            outcome,
            error: error.map(Into::into),
            at_ms: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Record {
        Record::Start {
            version: VERSION,
            tool: "t".into(),
            input: "in.txt".into(),
            input_sha256: "ab".into(),
            options: Options {
                method: "admin.users.session.resetBulk".into(),
                batch_size: 1000,
                scope: "all".into(),
                team: None,
                api_url: "http://127.0.0.1/api/".into(),
                column: None,
                include_self: false,
            },
            org_id: "E1".into(),
            admin_user_id: "W1".into(),
            at_ms: 1,
        }
    }

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (mut j, old) = Journal::open(&path).unwrap();
        assert!(old.is_empty());
        let intent = Record::Intent {
            step: 1,
            method: "admin.users.session.resetBulk".into(),
            user_ids: vec![UserId::new("W2")],
            at_ms: 2,
        };
        j.append(&start()).unwrap();
        j.append(&intent).unwrap();
        j.append(&Record::Verified {
            user_id: UserId::new("W2"),
            sessions_left: 0,
        })
        .unwrap();
        drop(j);
        let (_j, again) = Journal::open(&path).unwrap();
        assert_eq!(again.len(), 3);
        assert_eq!(again[0], start());
        assert_eq!(again[1], intent);
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_the_file_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let mut text = serde_json::to_string(&start()).unwrap();
        text.push('\n');
        text.push_str(r#"{"type":"intent","step":1,"meth"#);
        std::fs::write(&path, &text).unwrap();
        let (mut j, records) = Journal::open(&path).unwrap();
        assert_eq!(records, vec![start()]);
        j.append(&Record::Resume { at_ms: 5 }).unwrap();
        drop(j);
        let (_j, records) = Journal::open(&path).unwrap();
        assert_eq!(records, vec![start(), Record::Resume { at_ms: 5 }]);
    }

    #[test]
    fn a_damaged_middle_line_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        std::fs::write(&path, "{\"type\":\"resume\",\"at_ms\":1}\nnot json\n{}\n").unwrap();
        let err = Journal::open(&path).unwrap_err();
        assert!(err.message.contains("damaged at line 2"), "{}", err.message);
    }

    #[test]
    fn a_second_run_is_locked_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (_first, _) = Journal::open(&path).unwrap();
        let err = Journal::open(&path).unwrap_err();
        assert_eq!(err.code, crate::exit::USAGE);
        assert!(err.message.contains("another run"), "{}", err.message);
    }

    fn start_of(sha: &str, scope: &str, org: &str) -> Record {
        let Record::Start { options, .. } = start() else {
            unreachable!()
        };
        Record::Start {
            version: VERSION,
            tool: "t".into(),
            input: "in.txt".into(),
            input_sha256: sha.into(),
            options: Options {
                scope: scope.into(),
                ..options
            },
            org_id: org.into(),
            admin_user_id: "W1".into(),
            at_ms: 1,
        }
    }

    #[test]
    fn another_run_is_refused_with_the_differences() {
        let p = Path::new("r.csv.journal");
        assert!(
            check_same_run(
                p,
                &start_of("aa", "all", "E1"),
                &start_of("aa", "all", "E1")
            )
            .is_ok()
        );
        let err = check_same_run(
            p,
            &start_of("aa", "all", "E1"),
            &start_of("bb", "mobile", "E2"),
        )
        .unwrap_err();
        assert_eq!(err.code, crate::exit::USAGE);
        for part in ["input file differs", "--mobile-only", "another org"] {
            assert!(err.message.contains(part), "{part}: {}", err.message);
        }
    }
}
