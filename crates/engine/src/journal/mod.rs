//! The journal: an append-only file of JSON lines from which an interrupted run resumes. Every
//! kind of run keeps one, in one format: the engine's own lines ([`Line`]) around the run's
//! records (`R`).
//!
//! # Protocol
//!
//! - The first line ([`Line::Start`]) is the run's [`Header`]: the tool, the kind of run, a
//!   digest of its input and of the options that decide what it does, the org, the admin, the
//!   API. Which run a journal may continue is decided from it ([`identity`]).
//! - Before every call that changes something in Slack, an [`Line::Intent`] names the call's
//!   step and what it acts on; it is written and **fsync'd before the request leaves**. After
//!   the call, a [`Line::Result`] says what came of it, fsync'd as well. A call whose answer
//!   was lost is checked ([`Line::Settled`]) before anything is sent again.
//! - The run's own records (lookups, targets, verifications) change nothing in Slack: they are
//!   written at once (a killed process loses none) but synced in groups.
//! - Each line is one `write`. A line cut short by a crash can only be the last; it is cut off
//!   when the journal is opened again (an intent cut short was never followed by its call).
//! - The file is locked (`flock`) while a run uses it: a second run of it is refused. The lock
//!   goes with the process, even after `kill -9`.
//! - A long-running run folds what is settled into a [`Line::Checkpoint`]: the journal is
//!   rewritten with only what a resume still needs ([`Journaled::compact`](crate::journaled::Journaled::compact)).
//!
//! The token is never written here.

pub mod identity;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use slack_sessions_client::api::UserId;

use crate::error::{Error, Result};
use crate::files;

/// The journal format's version (1 was the CLI's own, before runs shared one engine).
pub const FORMAT: u32 = 2;

/// Unsynced lines kept at most, of those that need no immediate sync.
const SYNC_EVERY: usize = 200;

/// The kind of run a journal is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunKind {
    /// `offboard`: users of a file signed out.
    Offboard,
    /// `sessions invalidate` with filters: the sessions found, ended.
    Invalidate,
    /// `enforce`: a policy's rounds.
    Enforce,
    /// The guardrails' record of actions of an org and a policy.
    Guardrails,
    /// `listen`: signals from an identity provider, acted on as they come; never finished.
    Listen,
}

impl RunKind {
    /// As written in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Offboard => "offboard",
            RunKind::Invalidate => "sessions invalidate",
            RunKind::Enforce => "enforce",
            RunKind::Guardrails => "guardrails",
            RunKind::Listen => "listen",
        }
    }
}

/// What a run is: the first line of its journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`].
    pub format: u32,
    /// The tool and its version.
    pub tool: String,
    /// The kind of run.
    pub kind: RunKind,
    /// The input as the person gave it (a file, the filters).
    pub input: String,
    /// SHA-256 of the input's content and of every option in `options`: two runs with the same
    /// digest do the same thing.
    pub digest: String,
    /// The options that decide what the run does, by flag (`--os` → `windows`), for telling two
    /// runs apart in words.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The org (or workspace) of the token.
    pub org_id: String,
    /// The admin the token belongs to.
    pub admin_user_id: String,
    /// The API's base URL.
    pub api_url: String,
    /// When the run started, in ms since the Unix epoch.
    pub at_ms: u64,
}

impl Header {
    /// A header for a run of `kind` on `input` (its bytes are `content`) with `options`.
    pub fn new(
        kind: RunKind,
        input: impl Into<String>,
        content: &[u8],
        options: BTreeMap<String, String>,
        org: &crate::org::Org,
        api_url: &str,
    ) -> Header {
        use sha2::{Digest, Sha256};
        let mut sha = Sha256::new();
        sha.update(content);
        for (k, v) in &options {
            sha.update([0]);
            sha.update(k.as_bytes());
            sha.update([0]);
            sha.update(v.as_bytes());
        }
        Header {
            format: FORMAT,
            tool: concat!("slack-sessions ", env!("CARGO_PKG_VERSION")).to_owned(),
            kind,
            input: input.into(),
            digest: hex(&sha.finalize()),
            options,
            org_id: org.id.to_string(),
            admin_user_id: org.me.user_id.to_string(),
            api_url: api_url.to_owned(),
            at_ms: now_ms(),
        }
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Which sessions a reset ends (Slack's `mobile_only` and `web_only`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Devices {
    /// Every session.
    #[default]
    All,
    /// Phone and tablet sessions.
    Mobile,
    /// Browser and desktop-app sessions.
    Web,
}

impl Devices {
    /// `all`, `mobile` or `web`.
    pub fn as_str(self) -> &'static str {
        match self {
            Devices::All => "all",
            Devices::Mobile => "mobile",
            Devices::Web => "web",
        }
    }

    /// Whether a session of this platform counts.
    pub fn covers(self, platform: slack_sessions_client::methods::Platform) -> bool {
        let mobile = platform == slack_sessions_client::methods::Platform::Mobile;
        match self {
            Devices::All => true,
            Devices::Mobile => mobile,
            Devices::Web => !mobile,
        }
    }
}

/// A call that changes something in Slack, as its intent names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method")]
pub enum Call {
    /// Ends one session.
    #[serde(rename = "admin.users.session.invalidate")]
    Invalidate {
        /// The session.
        session_id: u64,
        /// Its user.
        user_id: UserId,
    },
    /// Signs one user out.
    #[serde(rename = "admin.users.session.reset")]
    Reset {
        /// The user (one: as a slice, see [`Call::users`]).
        user_ids: Vec<UserId>,
        /// Which sessions.
        #[serde(default)]
        devices: Devices,
    },
    /// Signs users out with one job.
    #[serde(rename = "admin.users.session.resetBulk")]
    ResetBulk {
        /// The users.
        user_ids: Vec<UserId>,
        /// Which sessions.
        #[serde(default)]
        devices: Devices,
    },
}

impl Call {
    /// Slack's method name.
    pub fn method(&self) -> &'static str {
        match self {
            Call::Invalidate { .. } => "admin.users.session.invalidate",
            Call::Reset { .. } => "admin.users.session.reset",
            Call::ResetBulk { .. } => "admin.users.session.resetBulk",
        }
    }

    /// The users it acts on.
    pub fn users(&self) -> &[UserId] {
        match self {
            Call::Invalidate { user_id, .. } => std::slice::from_ref(user_id),
            Call::Reset { user_ids, .. } | Call::ResetBulk { user_ids, .. } => user_ids,
        }
    }

    /// The session it ends, for an invalidation.
    pub fn session(&self) -> Option<u64> {
        match self {
            Call::Invalidate { session_id, .. } => Some(*session_id),
            _ => None,
        }
    }
}

/// What came of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Slack acknowledged it (`ok: true`).
    Ok,
    /// Slack applied it for some users only (`failed_for_some_users`).
    Partial,
    /// Slack refused it before acting, for a reason tied to what it names (`session_not_found`,
    /// `cannot_reset_primary_owner`).
    Refused,
    /// It was certainly not applied (rate limited, not sent, refused for the token).
    NotApplied,
    /// It may have been applied: no usable answer came back.
    Unknown,
}

/// One line of a journal: the engine's own, or the run's (`R`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line<R> {
    /// The run's header; always the first line.
    Start(Header),
    /// The run was started again.
    Resume {
        /// When.
        at_ms: u64,
    },
    /// What was settled before this line was folded away: steps continue after `last_step`.
    Checkpoint {
        /// The last step number used.
        last_step: u64,
        /// State-changing calls made before, by method.
        #[serde(default)]
        calls: BTreeMap<String, u64>,
        /// When.
        at_ms: u64,
    },
    /// A state-changing call is about to be sent.
    Intent {
        /// Its step number (rising).
        step: u64,
        /// The call.
        call: Call,
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
    /// A call whose answer was lost, checked by listing: for `done` users it took effect (or
    /// there was nothing left to end); for `resend` users it did not.
    Settled {
        /// The step.
        step: u64,
        /// Users (or the one session's user) it holds for.
        done: Vec<UserId>,
        /// Users whose sessions are still there.
        resend: Vec<UserId>,
        /// When.
        at_ms: u64,
    },
    /// The run finished: the same command starts a new run.
    Finished {
        /// When.
        at_ms: u64,
    },
    /// A record of the run's own.
    #[serde(untagged)]
    Run(R),
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A time in ms since the epoch as UTC, to the second (`2026-12-03T04:55:12Z`).
pub fn utc(at_ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(at_ms);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The journal of a report: `REPORT.journal`.
pub fn path_beside(report: &Path) -> PathBuf {
    let mut name = report.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// An open, locked journal.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    unsynced: usize,
    created: bool,
}

/// Parses a journal's text: every complete line, and the length of the valid prefix (a last
/// line without its newline, cut short by a crash, is left out).
pub fn parse<R: DeserializeOwned>(path: &Path, text: &[u8]) -> Result<(Vec<Line<R>>, u64)> {
    let mut lines = Vec::new();
    let mut valid = 0u64;
    let mut start = 0usize;
    let mut number = 0usize;
    while let Some(pos) = text[start..].iter().position(|b| *b == b'\n') {
        let line = &text[start..start + pos];
        number += 1;
        if !line.iter().all(u8::is_ascii_whitespace) {
            let parsed: Line<R> = serde_json::from_slice(line).map_err(|e| {
                Error::local(format!(
                    "the journal {} is damaged at line {number}: {}",
                    path.display(),
                    if e.is_data() {
                        "not a record this version knows".to_owned()
                    } else {
                        e.to_string()
                    }
                ))
                .hint("move it away to start over (what it did would be done again)")
            })?;
            lines.push(parsed);
        }
        start += pos + 1;
        valid = start as u64;
    }
    Ok((lines, valid))
}

impl Journal {
    /// Opens (or creates) and locks the journal at `path`; returns it and its bytes (a line cut
    /// short at the end is cut off the file first).
    pub fn open(path: &Path) -> Result<(Journal, Vec<u8>)> {
        let (mut file, created) = files::open_append(path, "journal")?;
        lock(&file, path)?;
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(|e| Error::file("read", "journal", path, e))?;
        if let Some(last_newline) = bytes.iter().rposition(|b| *b == b'\n') {
            if last_newline + 1 < bytes.len() {
                truncate(&file, path, last_newline as u64 + 1)?;
                bytes.truncate(last_newline + 1);
            }
        } else if !bytes.is_empty() {
            truncate(&file, path, 0)?;
            bytes.clear();
        }
        Ok((
            Journal {
                file,
                path: path.to_owned(),
                unsynced: 0,
                created,
            },
            bytes,
        ))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this run created the file.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Appends a line; `sync`: fsync'd before this returns.
    pub fn append<R: Serialize>(&mut self, line: &Line<R>, sync: bool) -> Result<()> {
        let mut bytes = serde_json::to_vec(line)
            .map_err(|e| Error::local(format!("cannot encode a journal line: {e}")))?;
        bytes.push(b'\n');
        self.file
            .write_all(&bytes)
            .map_err(|e| Error::file("write", "journal", &self.path, e))?;
        self.unsynced += 1;
        if sync || self.unsynced >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// Forces what was written to disk.
    pub fn sync(&mut self) -> Result<()> {
        if self.unsynced > 0 {
            self.file
                .sync_data()
                .map_err(|e| Error::file("sync", "journal", &self.path, e))?;
            self.unsynced = 0;
        }
        Ok(())
    }

    /// Replaces the journal's content with `lines`, whole or not at all: a new file beside it,
    /// locked, synced, renamed over it.
    pub fn replace<R: Serialize>(&mut self, lines: &[Line<R>]) -> Result<()> {
        let fail = |e: std::io::Error| Error::file("rewrite", "journal", &self.path, e);
        let mut tmp = files::temp_beside(&self.path).map_err(fail)?;
        lock(tmp.as_file(), &self.path)?;
        for line in lines {
            let mut bytes = serde_json::to_vec(line)
                .map_err(|e| Error::local(format!("cannot encode a journal line: {e}")))?;
            bytes.push(b'\n');
            tmp.write_all(&bytes).map_err(fail)?;
        }
        tmp.as_file().sync_all().map_err(fail)?;
        let file = tmp.persist(&self.path).map_err(|e| fail(e.error))?;
        files::sync_dir(&self.path);
        // The new file is the journal now; the old one's lock goes with its handle.
        let mut file = file;
        file.seek(SeekFrom::End(0)).map_err(fail)?;
        self.file = file;
        self.unsynced = 0;
        Ok(())
    }

    /// Removes the journal (a run declined before it changed anything).
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }

    /// Closes the journal and renames it to the first free name of `names(1)`, `names(2)`, …
    /// (never over an existing file or link).
    pub fn archive(self, names: impl Fn(usize) -> PathBuf) -> Result<PathBuf> {
        let path = self.path.clone();
        drop(self);
        files::archive(&path, names, "journal")
    }
}

fn lock(file: &File, path: &Path) -> Result<()> {
    match fs4::FileExt::try_lock(file) {
        Ok(()) => Ok(()),
        Err(fs4::TryLockError::WouldBlock) => Err(Error::refused(format!(
            "another run is using the journal {} right now",
            path.display()
        ))
        .hint("wait for it to finish; two runs of one journal at once are refused")),
        Err(fs4::TryLockError::Error(e)) => Err(Error::file("lock", "journal", path, e)),
    }
}

fn truncate(file: &File, path: &Path, len: u64) -> Result<()> {
    file.set_len(len)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::file("repair", "journal", path, e))
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A header of `kind` on `input` for org E1.
    pub fn header(kind: RunKind, digest: &str) -> Header {
        Header {
            format: FORMAT,
            tool: "t".into(),
            kind,
            input: "in.txt".into(),
            digest: digest.into(),
            options: BTreeMap::from([("--os".to_owned(), "windows".to_owned())]),
            org_id: "E1".into(),
            admin_user_id: "W1".into(),
            api_url: "http://127.0.0.1/api/".into(),
            at_ms: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::header;
    use super::*;

    type L = Line<serde_json::Value>;

    #[test]
    fn lines_survive_reopening_and_a_torn_last_line_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (mut j, bytes) = Journal::open(&path).unwrap();
        assert!(bytes.is_empty() && j.created());
        let intent: L = Line::Intent {
            step: 1,
            call: Call::ResetBulk {
                user_ids: vec![UserId::new("W2")],
                devices: Devices::Mobile,
            },
            at_ms: 2,
        };
        j.append(&L::Start(header(RunKind::Offboard, "ab")), true)
            .unwrap();
        j.append(&intent, true).unwrap();
        drop(j);
        let mut text = std::fs::read(&path).unwrap();
        text.extend_from_slice(br#"{"type":"result","st"#);
        std::fs::write(&path, &text).unwrap();
        let (j, bytes) = Journal::open(&path).unwrap();
        assert!(!j.created());
        let (lines, _) = parse::<serde_json::Value>(&path, &bytes).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1], intent);
        assert!(
            String::from_utf8(bytes)
                .unwrap()
                .contains(r#""call":{"method":"admin.users.session.resetBulk","user_ids":["W2"],"devices":"mobile"}"#)
        );
    }

    #[test]
    fn a_damaged_middle_line_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let text = b"{\"type\":\"resume\",\"at_ms\":1}\nnot json\n{}\n";
        let err = parse::<serde_json::Value>(&path, text).unwrap_err();
        assert!(err.to_string().contains("damaged at line 2"), "{err}");
    }

    #[test]
    fn a_second_run_is_locked_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (_first, _) = Journal::open(&path).unwrap();
        let err = Journal::open(&path).unwrap_err();
        assert!(matches!(err, Error::Refused { .. }), "{err}");
        assert!(err.to_string().contains("another run"), "{err}");
    }

    #[test]
    fn a_replaced_journal_keeps_its_lock_and_only_the_new_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (mut j, _) = Journal::open(&path).unwrap();
        for at_ms in 0..10 {
            j.append(&L::Resume { at_ms }, false).unwrap();
        }
        j.replace(&[L::Resume { at_ms: 99 }]).unwrap();
        j.append(&L::Finished { at_ms: 100 }, true).unwrap();
        assert!(Journal::open(&path).is_err(), "still locked");
        drop(j);
        let (_, bytes) = Journal::open(&path).unwrap();
        let (lines, _) = parse::<serde_json::Value>(&path, &bytes).unwrap();
        assert_eq!(lines, [L::Resume { at_ms: 99 }, L::Finished { at_ms: 100 }]);
    }
}
