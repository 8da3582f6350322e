//! The audit log: JSON lines appended for every decision and every round of enforcement,
//! synced at the end of each round. It is for people and SIEMs; the journal beside it is what
//! enforcement resumes from.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::exit::{Failure, Result};

/// The default audit log of a policy: `NAME.audit.jsonl` beside it.
pub fn default_path(policy: &Path) -> PathBuf {
    crate::journaled::beside(policy, "policy", "audit.jsonl")
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
        Ok(Audit {
            file,
            path: path.to_owned(),
        })
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
            map.insert("at_ms".into(), crate::offboard::journal::now_ms().into());
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
