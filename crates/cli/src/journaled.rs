//! What the journaled runs (offboarding, bulk invalidation, enforcement) share: a journal and
//! the state it replays to, kept in step; and the ways such a run ends (its outcome printed,
//! the note that its journal keeps it).
//!
//! Each run has a state of its own ([`RunState`](crate::offboard::state::RunState),
//! [`SessionRun`](crate::inventory::bulk::state::SessionRun)) over one journal format
//! ([`crate::journal`]). Replaying and recording live here once, so that what a run
//! holds in memory is always what a resumed run would read back from disk.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use slack_sessions_client::api::ErrorCode;

use crate::exit::{Failure, Result, USAGE};
use crate::journal::{Journal, Record};
use crate::output::{Column, Format, ListPrinter, write_failed};
use crate::ui;

/// A run's state as its journal tells it.
pub trait Replay: Default {
    /// Applies one record: on replay, and as the run goes (through [`Journaled::record`]).
    fn apply(&mut self, record: &Record);

    /// Replays a journal from the empty state (the state of a run that has done nothing).
    fn replay(records: &[Record]) -> Self {
        let mut state = Self::default();
        for record in records {
            state.apply(record);
        }
        state
    }
}

/// A run's journal and the state it replays to. Every change of the state goes through
/// [`record`](Journaled::record), so memory never tells more than the journal.
#[derive(Debug)]
pub struct Journaled<S> {
    /// The journal (`None`: nothing is written, for a dry run or a test of the planning).
    pub journal: Option<Journal>,
    /// The run as recorded.
    pub state: S,
}

impl<S: Replay> Journaled<S> {
    /// The run its journal's `records` tell of.
    pub fn resume(journal: Option<Journal>, records: &[Record]) -> Self {
        Journaled {
            journal,
            state: S::replay(records),
        }
    }

    /// Writes a record to the journal (if any), then applies it: a record that cannot be
    /// written is not applied.
    pub fn record(&mut self, record: Record) -> Result<()> {
        if let Some(journal) = &mut self.journal {
            journal.append(&record)?;
        }
        self.state.apply(&record);
        Ok(())
    }

    /// Forces the journal to disk (records that change nothing in Slack are synced in groups).
    pub fn sync(&mut self) -> Result<()> {
        match &mut self.journal {
            Some(journal) => journal.sync(),
            None => Ok(()),
        }
    }
}

/// A Slack error code for a report, with what it means when it is a known one.
pub fn code_detail(code: &str) -> String {
    let described = ErrorCode::parse(code).description();
    if described.is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {described}")
    }
}

/// A file beside `path`, named after its stem (`dir/leavers.txt` → `dir/leavers.SUFFIX`), or
/// after `fallback` if it has none: where a run keeps its report or audit log by default.
pub fn beside(path: &Path, fallback: &str, suffix: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| fallback.to_owned());
    path.with_file_name(format!("{stem}.{suffix}"))
}

/// Prints a run's outcome on standard output: in JSON its report's document, in NDJSON or CSV
/// its rows (one item each, with `cells` in `columns`), in a table what `table` writes (each
/// run has its own summary and picks the rows worth a look).
pub fn print_outcome<D: Serialize, R: Serialize>(
    format: Format,
    doc: &D,
    rows: &[R],
    columns: &[Column],
    cells: impl Fn(&R) -> Vec<String>,
    table: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = (|| -> io::Result<()> {
        match format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut out, doc).map_err(io::Error::from)?;
                writeln!(out)?;
            }
            Format::Ndjson | Format::Csv => {
                let mut printer = ListPrinter::new(format, columns, &mut out);
                for r in rows {
                    let json = serde_json::to_value(r).map_err(io::Error::other)?;
                    printer.push(&json, cells(r))?;
                }
                printer.finish(None, "")?;
            }
            Format::Table => table(&mut out)?,
        }
        out.flush()
    })();
    result.map_err(write_failed)
}

/// The failure of a run that stopped, after a note that its journal keeps it for the same
/// command to resume. A usage failure (a confirmation declined, a journal of another run) gets
/// no note: the run was stopped on purpose or refused, not cut short.
pub fn stopped(journal_path: &Path, failure: Failure) -> Failure {
    if failure.code != USAGE {
        ui::note(format!(
            "the journal {} keeps this run: start the same command again to resume it",
            journal_path.display()
        ));
    }
    failure
}
