//! The audit log: JSON lines appended for every decision and every round of enforcement,
//! synced at the end of each round. It is for people and SIEMs; the journal beside it is what
//! enforcement resumes from.
//!
//! **Rotation**: the log is reopened by its path on SIGHUP, as logrotate expects: move the
//! file away, send SIGHUP, and the next line goes to a new file (created 0600). A run that
//! goes on for months keeps no more of it open than the current file.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
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
/// by the run that learns it or, if that run was stopped first, by the next.
pub fn logged_decisions(path: &Path, wanted: &HashSet<u64>) -> Result<HashSet<u64>> {
    if wanted.is_empty() {
        return Ok(HashSet::new());
    }
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(Error::file("read", "audit log", path, e)),
    };
    Ok(text
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .filter(|e| e["event"] == "decision")
        .filter_map(|e| e["decision"].as_u64())
        .filter(|d| wanted.contains(d))
        .collect())
}

/// An open audit log.
#[derive(Debug)]
pub struct Audit {
    file: File,
    path: PathBuf,
    reopen: Arc<AtomicBool>,
}

impl Audit {
    /// Opens (or creates, 0600) the log for appending. A last line cut short (a crash
    /// mid-write) is ended, so the next event is whole.
    pub fn open(path: &Path) -> Result<Audit> {
        let mut audit = Audit {
            file: open(path)?,
            path: path.to_owned(),
            reopen: Arc::new(AtomicBool::new(false)),
        };
        if ends_mid_line(&mut audit.file) {
            audit.file.write_all(b"\n").map_err(|e| audit.fail(e))?;
        }
        Ok(audit)
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
        self.file.write_all(&line).map_err(|e| self.fail(e))
    }

    /// Forces what was written to disk.
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync_data().map_err(|e| self.fail(e))
    }
}

fn open(path: &Path) -> Result<File> {
    files::open_append(path, "audit log").map(|(f, _)| f)
}

/// Whether the file's last byte is not a newline (and it has one).
fn ends_mid_line(f: &mut File) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut last = [0u8];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] != b'\n'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_short_is_ended_and_logged_decisions_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.audit.jsonl");
        let all: HashSet<u64> = (0..10).collect();
        assert!(logged_decisions(&path, &all).unwrap().is_empty());
        std::fs::write(
            &path,
            "{\"event\":\"decision\",\"decision\":3}\n{\"event\":\"round\"}\n{\"event\":\"decision\",\"deci",
        )
        .unwrap();
        let mut audit = Audit::open(&path).unwrap();
        audit
            .write(serde_json::json!({"event": "decision", "decision": 7}))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(
            text.lines()
                .last()
                .unwrap()
                .starts_with("{\"event\":\"decision\",\"decision\":7")
        );
        assert_eq!(
            logged_decisions(&path, &all).unwrap(),
            HashSet::from([3, 7])
        );
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
