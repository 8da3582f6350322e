//! The audit log: JSON lines appended for every decision and every round of enforcement,
//! synced at the end of each round. It is for people and SIEMs; the journal beside it is what
//! enforcement resumes from.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::exit::{Failure, Result};

/// The default audit log of a policy: `NAME.audit.jsonl` beside it.
pub fn default_path(policy: &Path) -> PathBuf {
    crate::journaled::beside(policy, "policy", "audit.jsonl")
}

/// The decisions the log tells of (their `decision` numbers): the outcome of a decision is
/// logged once, by the run that learns it or, if that run was stopped first, by the next.
pub fn logged_decisions(path: &Path) -> Result<HashSet<u64>> {
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => {
            return Err(Failure::other(format!(
                "cannot read the audit log {}: {e}",
                path.display()
            )));
        }
    };
    Ok(text
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .filter(|e| e["event"] == "decision")
        .filter_map(|e| e["decision"].as_u64())
        .collect())
}

/// Whether the file's last byte is not a newline (and it has one).
fn ends_mid_line(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut last = [0u8];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] != b'\n'
}

/// An open audit log.
#[derive(Debug)]
pub struct Audit {
    file: File,
    path: PathBuf,
}

impl Audit {
    /// Opens (or creates) the log for appending.
    pub fn open(path: &Path) -> Result<Audit> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Failure::other(format!("cannot open the audit log {}: {e}", path.display()))
            })?;
        let mut audit = Audit {
            file,
            path: path.to_owned(),
        };
        // A last line cut short (a crash mid-write) is ended, so the next event is whole.
        if ends_mid_line(path) {
            audit.file.write_all(b"\n").map_err(|e| audit.fail(e))?;
        }
        Ok(audit)
    }

    fn fail(&self, e: std::io::Error) -> Failure {
        Failure::other(format!(
            "cannot write the audit log {}: {e}",
            self.path.display()
        ))
    }

    /// Appends one event (an object; `at_ms` is added).
    pub fn write(&mut self, mut event: Value) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_short_is_ended_and_logged_decisions_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.audit.jsonl");
        assert!(logged_decisions(&path).unwrap().is_empty());
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
        assert_eq!(logged_decisions(&path).unwrap(), HashSet::from([3, 7]));
    }
}
