//! A run's report: one row per thing it acted on, CSV or JSON by the file's extension, written
//! whole or not at all ([`files::write_atomic`]); and the one CSV writer ([`csv_line`]) every
//! CSV the tool writes goes through, reports and `-o csv` alike.

use std::borrow::Cow;
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
                let mut out = csv_line(columns.iter().map(|c| c.name)).map_err(fail)?;
                for row in rows {
                    out.extend(csv_line(cells(row, columns)).map_err(fail)?);
                }
                out
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

/// One CSV record (RFC 4180 quoting), every cell first made [`spreadsheet_safe`]: the only
/// way the tool writes CSV.
pub fn csv_line<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> Result<Vec<u8>, String> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(
        cells
            .into_iter()
            .map(|c| spreadsheet_safe(c.as_ref()).into_owned()),
    )
    .map_err(|e| e.to_string())?;
    w.into_inner().map_err(|e| e.to_string())
}

/// A cell that a spreadsheet cannot take for a formula (OWASP's rule against CSV injection,
/// <https://owasp.org/www-community/attacks/CSV_Injection>): one that begins with `=`, `+`,
/// `-`, `@`, TAB or CR gets a `'` in front, which spreadsheets read as "this is text".
/// Names, emails, OS and version strings come from Slack's members and clients, so a
/// `=HYPERLINK(…)` there would otherwise run when the admin opens the file.
///
/// One exception: a cell that is nothing but a decimal number (`-12`, `-0.5`) is left as it
/// is: a spreadsheet reads it as that number, never as a formula, and a negative count or
/// offset stays a number to sum. Programs that want every value as sent read JSON or NDJSON.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if !is_number(cell) => {
            Cow::Owned(format!("'{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// `-12`, `-0.5`, `7`: an optional minus, digits, and at most one point between digits.
fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction)
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
    fn csv_cells_cannot_be_formulas() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://evil\")",
                "'=HYPERLINK(\"http://evil\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-3+4@h.example", "'-3+4@h.example"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("-.5", "'-.5"),
            ("-1e5", "'-1e5"),
            ("-1.", "'-1."),
            // Numbers stay numbers; text that only contains the characters is as it was.
            ("-3", "-3"),
            ("-0.25", "-0.25"),
            ("42", "42"),
            ("ada@x.example", "ada@x.example"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), written, "{cell:?}");
        }
        let line = csv_line(["=1+1", "a,b", "-3", "x"]).unwrap();
        assert_eq!(String::from_utf8(line).unwrap(), "'=1+1,\"a,b\",-3,x\n");
    }

    #[test]
    fn a_csv_report_is_written_safe() {
        #[derive(Serialize)]
        struct R {
            name: &'static str,
            left: i64,
        }
        let dir = tempfile::tempdir().unwrap();
        let path = ReportPath::new(dir.path().join("r.csv")).unwrap();
        let rows = [R {
            name: "@SUM(1)",
            left: -2,
        }];
        let columns = [col("NAME", "name"), col("LEFT", "left")];
        path.write(&(), &columns, &rows).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path.path).unwrap(),
            "name,left\n'@SUM(1),-2\n"
        );
    }

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
