//! The audit log: JSON lines appended for every decision and every round of enforcement,
//! synced at the end of each round. It is for people and SIEMs; the journal beside it is what
//! enforcement resumes from.
//!
//! **Rotation**: the log is reopened by its path on SIGHUP, as logrotate expects: move the
//! file away, send SIGHUP, and the next line goes to a new file (created 0600). A run that
//! goes on for months keeps no more of it open than the current file.
//!
//! **Whole lines only**: a SIEM reads the log as JSON lines, so no record is ever left cut
//! short. A write that fails part-way (a full disk) is cut back off the file at once; a last
//! record torn by a crash or power loss (no newline, or not JSON) is cut off when the log is
//! next opened. A file whose end is not a record at all (some other file given as
//! `--audit-log`) is refused rather than cut.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::files;

/// The default audit log of a policy: `NAME.audit.jsonl` beside it.
pub fn default_path(policy: &Path) -> PathBuf {
    crate::report::beside(policy, "policy", "audit.jsonl")
}

/// Which of `wanted` (decision numbers) the log tells of: a decision's outcome is logged once,
/// by the run that learns it or, if that run was stopped first, by the next. A decision's line
/// is written after the decision was made (`made_ms`, its first call's intent), so the log is
/// read backwards from its end and only as far as that moment (less a minute, for a clock
/// stepped back): a restart costs what the last run wrote after its open decisions, not the
/// whole log of months. Lines are read in chunks: none is held in memory beyond its chunk.
pub fn logged_decisions(path: &Path, wanted: &HashSet<u64>, made_ms: u64) -> Result<HashSet<u64>> {
    const CHUNK: u64 = 64 << 10;
    const CLOCK_SLACK_MS: u64 = 60_000;
    let mut found = HashSet::new();
    if wanted.is_empty() {
        return Ok(found);
    }
    let Some(mut file) = files::open_existing(path, "audit log")? else {
        return Ok(found);
    };
    let fail = |e| Error::file("read", "audit log", path, e);
    let since = made_ms.saturating_sub(CLOCK_SLACK_MS);
    let mut pos = file.seek(SeekFrom::End(0)).map_err(fail)?;
    // The start of a line whose beginning is in the chunk before.
    let mut carry: Vec<u8> = Vec::new();
    while pos > 0 {
        let start = pos.saturating_sub(CHUNK);
        let mut buf = vec![0; (pos - start) as usize];
        file.seek(SeekFrom::Start(start)).map_err(fail)?;
        file.read_exact(&mut buf).map_err(fail)?;
        buf.extend_from_slice(&carry);
        pos = start;
        // Unless the chunk starts the file, its first line may begin in the chunk before.
        let first = match (start, buf.iter().position(|b| *b == b'\n')) {
            (0, _) => 0,
            (_, Some(i)) => i + 1,
            (_, None) => {
                carry = buf;
                continue;
            }
        };
        for line in buf[first..].rsplit(|b| *b == b'\n') {
            let Ok(e) = serde_json::from_slice::<Value>(line) else {
                continue;
            };
            if e["at_ms"].as_u64().is_some_and(|at| at < since) {
                return Ok(found);
            }
            if e["event"] == "decision"
                && let Some(d) = e["decision"].as_u64().filter(|d| wanted.contains(d))
            {
                found.insert(d);
                if found.len() == wanted.len() {
                    return Ok(found);
                }
            }
        }
        buf.truncate(first);
        carry = buf;
    }
    Ok(found)
}

/// What a dry run checks of the log: that the run could use it (no link, a JSON-lines file).
pub fn check(path: &Path) -> Result<()> {
    match files::open_existing(path, "audit log")? {
        Some(mut file) => tail(&mut file, path).map(|_| ()),
        None => Ok(()),
    }
}

/// An open audit log.
#[derive(Debug)]
pub struct Audit {
    file: File,
    path: PathBuf,
    reopen: Arc<AtomicBool>,
}

impl Audit {
    /// Opens (or creates, 0600) the log for appending. A last record cut short (a crash
    /// mid-write) is cut off, so the file holds whole records only.
    pub fn open(path: &Path) -> Result<Audit> {
        let mut file = open(path)?;
        if let Some(at) = tail(&mut file, path)? {
            file.set_len(at)
                .map_err(|e| Error::file("cut a torn record off", "audit log", path, e))?;
        }
        Ok(Audit {
            file,
            path: path.to_owned(),
            reopen: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Reopens the log by its path on every SIGHUP (within a tokio runtime).
    pub fn reopen_on_hangup(&self) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                return;
            };
            let flag = Arc::clone(&self.reopen);
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    flag.store(true, Ordering::SeqCst);
                }
            });
        }
    }

    fn fail(&self, e: std::io::Error) -> Error {
        Error::file("write", "audit log", &self.path, e)
    }

    /// Appends one event (an object; `at_ms` is added).
    pub fn write(&mut self, mut event: Value) -> Result<()> {
        if self.reopen.swap(false, Ordering::SeqCst) {
            let _ = self.file.sync_data();
            self.file = open(&self.path)?;
        }
        if let Value::Object(map) = &mut event {
            map.insert("at_ms".into(), crate::journal::now_ms().into());
        }
        let mut line = serde_json::to_vec(&event).map_err(|e| self.fail(e.into()))?;
        line.push(b'\n');
        let end = self.file.metadata().map_err(|e| self.fail(e))?.len();
        self.file.write_all(&line).map_err(|e| {
            // Part of the line may be in: cut it back, so the log ends with a whole record.
            let _ = self.file.set_len(end);
            self.fail(e)
        })
    }

    /// Forces what was written to disk.
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync_data().map_err(|e| self.fail(e))
    }
}

fn open(path: &Path) -> Result<File> {
    files::open_append(path, "audit log").map(|(f, _)| f)
}

/// The longest last line looked at: a record is far shorter (the longest, a run's start,
/// names every rule of a policy, itself capped at [`super::policy::MAX_BYTES`]).
const MAX_RECORD: u64 = 4 * super::policy::MAX_BYTES;

/// Where the log's torn last record starts, if it has one; an error if its end is not a
/// record of ours at all.
fn tail(f: &mut File, path: &Path) -> Result<Option<u64>> {
    let fail = |e| Error::file("read", "audit log", path, e);
    let len = f.seek(SeekFrom::End(0)).map_err(fail)?;
    if len == 0 {
        return Ok(None);
    }
    // The last line: from after the newline before it (or the start) to the end.
    let from = len.saturating_sub(MAX_RECORD);
    f.seek(SeekFrom::Start(from)).map_err(fail)?;
    let mut end = Vec::new();
    f.take(MAX_RECORD).read_to_end(&mut end).map_err(fail)?;
    let whole = end.last() == Some(&b'\n');
    let body = if whole {
        &end[..end.len() - 1]
    } else {
        &end[..]
    };
    let start = match body.iter().rposition(|b| *b == b'\n') {
        Some(i) => i + 1,
        None if from == 0 => 0,
        None => return Err(foreign(path)),
    };
    let last = &body[start..];
    let record = serde_json::from_slice::<Value>(last).is_ok_and(|v| v.is_object());
    if whole && record {
        return Ok(None);
    }
    if last.trim_ascii().is_empty() || last.starts_with(b"{") {
        return Ok(Some(from + start as u64));
    }
    Err(foreign(path))
}

fn foreign(path: &Path) -> Error {
    Error::refused(format!(
        "the audit log {} does not end with a JSON line: refusing to append to it",
        path.display()
    ))
    .hint("is it the right file? give another --audit-log, or move it away")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_record_is_cut_off_and_logged_decisions_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.audit.jsonl");
        let all: HashSet<u64> = (0..10).collect();
        assert!(logged_decisions(&path, &all, 0).unwrap().is_empty());
        let whole = "{\"event\":\"decision\",\"decision\":3}\n{\"event\":\"round\"}\n";
        for torn in ["{\"event\":\"decis", "{\"event\":\"decis\n", "\n", "{}{\n"] {
            std::fs::write(&path, format!("{whole}{torn}")).unwrap();
            check(&path).unwrap();
            let mut audit = Audit::open(&path).unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), whole, "{torn:?}");
            audit
                .write(serde_json::json!({"event": "decision", "decision": 7}))
                .unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(text.lines().count(), 3, "{text}");
            assert!(
                text.lines()
                    .all(|l| serde_json::from_str::<Value>(l).is_ok())
            );
            assert_eq!(
                logged_decisions(&path, &all, 0).unwrap(),
                HashSet::from([3, 7])
            );
        }
        // A whole log is left as it is.
        let before = std::fs::read_to_string(&path).unwrap();
        Audit::open(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn logged_decisions_are_read_back_from_the_end_only_as_far_as_needed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.audit.jsonl");
        // 20,000 decisions a tenth of a second apart, lines of every length across chunk edges.
        let mut text = String::new();
        for d in 0..20_000u64 {
            let pad = "x".repeat((d % 97) as usize);
            text.push_str(&format!(
                "{{\"event\":\"decision\",\"decision\":{d},\"why\":\"{pad}\",\"at_ms\":{}}}\n",
                1_000_000 + 100 * d
            ));
            if d % 1000 == 0 {
                text.push_str("{\"event\":\"round\"}\n");
            }
        }
        std::fs::write(&path, &text).unwrap();
        let all: HashSet<u64> = [3, 19_990, 19_999, 25_000].into();
        // Open decisions made just before the end: only the end is read, and an old logged
        // decision (3) is not looked for.
        let made = 1_000_000 + 100 * 19_990;
        assert_eq!(
            logged_decisions(&path, &all, made).unwrap(),
            HashSet::from([19_990, 19_999])
        );
        // Made at the start: the whole log is read, and every line is found whole.
        assert_eq!(
            logged_decisions(&path, &all, 0).unwrap(),
            HashSet::from([3, 19_990, 19_999])
        );
        let every: HashSet<u64> = (0..20_000).collect();
        assert_eq!(logged_decisions(&path, &every, 0).unwrap(), every);
    }

    #[test]
    fn a_file_that_is_not_json_lines_is_refused_not_cut() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "notes\nmore notes",
            "notes\n",
            "{\"event\":\"round\"}\n[1]\n",
        ] {
            let path = dir.path().join("notes.txt");
            std::fs::write(&path, text).unwrap();
            let err = Audit::open(&path).unwrap_err().to_string();
            assert!(
                err.contains("notes.txt does not end with a JSON line"),
                "{err}"
            );
            assert!(check(&path).is_err());
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_that_fails_part_way_leaves_no_part_of_its_record() {
        // /dev/full fails every write with ENOSPC, as a full disk does; the cut-back is the
        // same call whatever the file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let mut audit = Audit::open(&path).unwrap();
        audit.write(serde_json::json!({"event": "one"})).unwrap();
        let whole = std::fs::read_to_string(&path).unwrap();
        // Part of a record in, then the disk is full.
        audit.file.write_all(b"{\"event\":\"tw").unwrap();
        let end = whole.len() as u64;
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut torn = std::mem::replace(&mut audit.file, full);
        let err = audit
            .write(serde_json::json!({"event": "two"}))
            .unwrap_err();
        assert!(err.to_string().contains("No space left"), "{err}");
        // The next open cuts the torn part off.
        torn.flush().unwrap();
        drop(torn);
        assert!(std::fs::metadata(&path).unwrap().len() > end);
        Audit::open(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), whole);
    }

    #[test]
    fn a_moved_log_is_reopened_by_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let mut audit = Audit::open(&path).unwrap();
        audit.write(serde_json::json!({"event": "one"})).unwrap();
        std::fs::rename(&path, dir.path().join("a.jsonl.1")).unwrap();
        audit.reopen.store(true, Ordering::SeqCst); // as SIGHUP does
        audit.write(serde_json::json!({"event": "two"})).unwrap();
        let new = std::fs::read_to_string(&path).unwrap();
        let old = std::fs::read_to_string(dir.path().join("a.jsonl.1")).unwrap();
        assert!(old.contains("\"one\"") && !old.contains("\"two\""));
        assert!(new.contains("\"two\"") && !new.contains("\"one\""));
    }
}
