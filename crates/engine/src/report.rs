//! A run's report: one row per thing it acted on, CSV or JSON by the file's extension, written
//! whole or not at all ([`files::write_atomic`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::files;
use crate::journaled::{Journaled, Replay};

/// The report's file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// `.csv`
    Csv,
    /// `.json`
    Json,
}

impl ReportFormat {
    /// The format for a path, by its extension.
    pub fn of(path: &Path) -> Result<ReportFormat> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(ReportFormat::Csv),
            Some("json") => Ok(ReportFormat::Json),
            _ => Err(Error::refused(format!(
                "--report {}: the name must end in .csv or .json",
                path.display()
            ))),
        }
    }
}

/// Where a run keeps its report: the path, and its format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPath {
    /// The path.
    pub path: PathBuf,
    /// Its format.
    pub format: ReportFormat,
}

impl ReportPath {
    /// The report at `path` (`.csv` or `.json`).
    pub fn new(path: PathBuf) -> Result<ReportPath> {
        let format = ReportFormat::of(&path)?;
        Ok(ReportPath { path, format })
    }

    /// The journal beside it.
    pub fn journal(&self) -> PathBuf {
        crate::journal::path_beside(&self.path)
    }

    /// Ends a run that keeps this report: writes it, then, if the run is `complete`, records
    /// its end (the same command starts a new run from then on).
    pub fn conclude<S: Replay, D: Serialize, T: Serialize>(
        &self,
        run: &mut Journaled<S>,
        doc: &D,
        (columns, rows): (&[Column], &[T]),
        complete: bool,
    ) -> Result<()> {
        run.sync()?;
        self.write(doc, columns, rows)?;
        if complete {
            run.finish()?;
        }
        Ok(())
    }

    /// Renders `doc` (JSON) or the `columns` of `rows` (CSV) and writes it.
    pub fn write<D: Serialize, T: Serialize>(
        &self,
        doc: &D,
        columns: &[Column],
        rows: &[T],
    ) -> Result<()> {
        let fail = |e: String| Error::local(format!("cannot encode the report: {e}"));
        let bytes = match self.format {
            ReportFormat::Json => {
                let mut out = serde_json::to_vec_pretty(doc).map_err(|e| fail(e.to_string()))?;
                out.push(b'\n');
                out
            }
            ReportFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record(columns.iter().map(|c| c.name))
                    .map_err(|e| fail(e.to_string()))?;
                for row in rows {
                    w.write_record(cells(row, columns))
                        .map_err(|e| fail(e.to_string()))?;
                }
                w.into_inner().map_err(|e| fail(e.to_string()))?
            }
        };
        files::write_atomic(&self.path, &bytes)
            .map_err(|e| Error::file("write", "report", &self.path, e))
    }
}

/// A column of a report or a list: its table header and its CSV (and JSON) name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Header in a table (`SESSION`).
    pub header: &'static str,
    /// Name in CSV and JSON (`session_id`).
    pub name: &'static str,
}

/// Shorthand for a [`Column`].
pub const fn col(header: &'static str, name: &'static str) -> Column {
    Column { header, name }
}

/// A JSON value as one cell of a table or a CSV file: a string as it is, null as empty, a list
/// joined by spaces, anything else as JSON.
pub fn cell(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// A row's cells in the order of `columns`, read from its JSON form by the columns' names:
/// the CSV and the JSON of a row cannot disagree.
pub fn cells<T: Serialize>(row: &T, columns: &[Column]) -> Vec<String> {
    let json = serde_json::to_value(row).unwrap_or_default();
    columns.iter().map(|c| cell(&json[c.name])).collect()
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

/// What a row of a report came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Done, and checked: nothing is left.
    Done,
    /// Slack acknowledged it; not checked (`--no-verify`).
    Reset,
    /// What a dry run would do.
    Planned,
    /// Slack refused, or what was ended was still there when the check timed out.
    Failed,
    /// No Slack user has this email.
    NotFound,
    /// The line is neither an email address nor a user ID.
    Invalid,
    /// Left out on purpose: the token's own user, without `--include-self`.
    Skipped,
    /// Not reached yet: the run stopped before it.
    Pending,
}

impl Status {
    /// As written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Reset => "reset",
            Status::Planned => "planned",
            Status::Failed => "failed",
            Status::NotFound => "not_found",
            Status::Invalid => "invalid",
            Status::Skipped => "skipped",
            Status::Pending => "pending",
        }
    }

    /// Something Slack did not do (the run's exit says so).
    pub fn is_failure(self) -> bool {
        self == Status::Failed
    }

    /// A row that named nobody to act on, or one left out.
    pub fn is_unused(self) -> bool {
        matches!(self, Status::NotFound | Status::Invalid | Status::Skipped)
    }

    /// Still to do (a stopped run's, or a dry run's plan).
    pub fn is_open(self) -> bool {
        matches!(self, Status::Pending | Status::Planned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_paths() {
        assert_eq!(
            ReportFormat::of(Path::new("a/b.CSV")).unwrap(),
            ReportFormat::Csv
        );
        assert_eq!(
            ReportFormat::of(Path::new("b.json")).unwrap(),
            ReportFormat::Json
        );
        assert!(ReportFormat::of(Path::new("b.txt")).is_err());
        assert_eq!(
            beside(Path::new("dir/leavers.txt"), "x", "report.csv"),
            PathBuf::from("dir/leavers.report.csv")
        );
        assert_eq!(
            ReportPath::new("out/l.report.csv".into())
                .unwrap()
                .journal(),
            PathBuf::from("out/l.report.csv.journal")
        );
    }
}
