//! The report: one row per input line (comments, blank lines and the header aside): what was
//! written, the user, what was done, the result and the sessions left. CSV or JSON, by the
//! report file's extension; written whole to a temporary file and renamed into place, so a
//! report on disk is never half-written.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use slack_sessions_client::api::UserId;

use super::input::{Entry, Kind, UserColumn};
use super::state::{Hold, RunState, UserState};
use crate::exit::{Failure, Result};
use crate::journal::short;
use crate::journaled::{self, code_detail};
use crate::output::{Column, Format, ListPrinter, col, thousands, write_record};
use serde_json::Value;

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
            _ => Err(Failure::usage(format!(
                "--report {}: the name must end in .csv or .json",
                path.display()
            ))),
        }
    }
}

/// The default report path: next to the input, `NAME.report.csv`.
pub fn default_path(input: &Path) -> PathBuf {
    journaled::beside(input, "offboard", "report.csv")
}

/// What a line came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Sessions ended, and none is left.
    Done,
    /// Slack acknowledged the reset; not verified (`--no-verify`).
    Reset,
    /// What a dry run would do.
    Planned,
    /// Slack refused, or sessions were still there when the verification timed out.
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

    /// A user Slack did not sign out (exit code 7).
    pub fn is_failure(self) -> bool {
        self == Status::Failed
    }

    /// A line that named no user to sign out, or one left out (exit code 8 when nothing
    /// failed).
    pub fn is_unused(self) -> bool {
        matches!(self, Status::NotFound | Status::Invalid | Status::Skipped)
    }
}

/// One row of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    /// Line number in the input.
    pub line: u64,
    /// As written.
    pub input: String,
    /// The user, when known.
    pub user_id: Option<UserId>,
    /// What was done: `resetBulk`, `reset`, `lookup`, `none`.
    pub action: String,
    /// The result.
    pub result: Status,
    /// Sessions (of the run's scope) left, when counted.
    pub sessions_left: Option<u64>,
    /// Why, in words.
    pub detail: String,
}

/// How the run was set up, for the wording of the report.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The method used to reset.
    pub method: String,
    /// `--no-verify` was given.
    pub verified: bool,
    /// The verification timeout, as written.
    pub verify_timeout: String,
    /// A dry run: the plan, with each user's call number and current sessions.
    pub plan: Option<Plan>,
}

/// What a dry run would do.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// For each user to reset, its call (1-based) and the number of calls.
    pub call_of: HashMap<UserId, (usize, usize)>,
    /// Sessions each user has now.
    pub sessions_now: HashMap<UserId, u64>,
    /// Users the dry run's list calls found Slack would refuse, with the code a reset gets.
    pub refused: HashMap<UserId, &'static str>,
}

/// Builds the report's rows.
pub fn build(entries: &[Entry], state: &RunState, setup: &Setup) -> Vec<Line> {
    let mut first_line: HashMap<UserId, u64> = HashMap::new();
    let mut lines = Vec::with_capacity(entries.len());
    for e in entries {
        let (user, lookup_failed) = match &e.kind {
            Kind::Invalid(why) => {
                lines.push(Line {
                    line: e.line,
                    input: e.text.clone(),
                    user_id: None,
                    action: "none".into(),
                    result: Status::Invalid,
                    sessions_left: None,
                    detail: why.clone(),
                });
                continue;
            }
            Kind::Id(id) => (Some(id.clone()), false),
            Kind::Email(email) => match state.resolved.get(&email.to_ascii_lowercase()) {
                Some(Some(id)) => (Some(id.clone()), false),
                Some(None) => (None, true),
                None => (None, false),
            },
        };
        let Some(user) = user else {
            lines.push(Line {
                line: e.line,
                input: e.text.clone(),
                user_id: None,
                action: "lookup".into(),
                result: if lookup_failed {
                    Status::NotFound
                } else {
                    Status::Pending
                },
                sessions_left: None,
                detail: if lookup_failed {
                    "users_not_found: no Slack user has this email address".into()
                } else {
                    "not looked up yet; run the same command again to resume".into()
                },
            });
            continue;
        };
        let mut line = user_line(e, &user, state, setup);
        match first_line.get(&user) {
            Some(first) => {
                line.detail = format!("same user as line {first}; {}", line.detail);
            }
            None => {
                first_line.insert(user.clone(), e.line);
            }
        }
        lines.push(line);
    }
    lines
}

fn user_line(e: &Entry, user: &UserId, state: &RunState, setup: &Setup) -> Line {
    let method = state
        .method_of
        .get(user)
        .cloned()
        .unwrap_or_else(|| setup.method.clone());
    let (result, sessions_left, detail) = match state.of(user) {
        UserState::Verified { sessions_left: 0 } => {
            (Status::Done, Some(0), "no sessions left".to_owned())
        }
        UserState::Verified { sessions_left } => (
            Status::Failed,
            Some(sessions_left),
            format!(
                "{sessions_left} session(s) still active {} after the reset",
                setup.verify_timeout
            ),
        ),
        UserState::Reconciled => (
            Status::Done,
            Some(0),
            "the reset's answer was lost (interrupted); checked afterwards: no sessions left"
                .to_owned(),
        ),
        UserState::Sent if !setup.verified => (
            Status::Reset,
            None,
            "acknowledged by Slack; not verified (--no-verify)".to_owned(),
        ),
        UserState::Sent => (
            Status::Pending,
            None,
            "reset acknowledged, not verified yet; run the same command again to resume".to_owned(),
        ),
        UserState::Refused { code } => (Status::Failed, None, code_detail(&code)),
        UserState::InFlight { .. } => (
            Status::Pending,
            None,
            "reset sent, answer not received; the next run checks it before sending again"
                .to_owned(),
        ),
        UserState::Pending if state.hold(user).is_some() => {
            let hold = state.hold(user).unwrap_or(Hold::Myself);
            match hold.code() {
                Some(code) => (
                    Status::Failed,
                    None,
                    format!(
                        "{}; known from Slack's user record, so not sent",
                        code_detail(code)
                    ),
                ),
                None => (
                    Status::Skipped,
                    None,
                    "the token's own user: not signed out without --include-self".to_owned(),
                ),
            }
        }
        UserState::Pending => match &setup.plan {
            Some(plan) if plan.refused.contains_key(user) => (
                Status::Failed,
                None,
                format!(
                    "{}; the dry run's list call said so",
                    code_detail(plan.refused[user])
                ),
            ),
            Some(plan) => {
                let (call, calls) = plan.call_of.get(user).copied().unwrap_or((0, 0));
                let now = plan.sessions_now.get(user).copied();
                return Line {
                    line: e.line,
                    input: e.text.clone(),
                    user_id: Some(user.clone()),
                    action: short(&method),
                    result: Status::Planned,
                    sessions_left: now,
                    detail: format!(
                        "would be reset by call {call} of {calls}; sessions now: {}",
                        now.map_or_else(|| "?".to_owned(), |n| n.to_string())
                    ),
                };
            }
            None => (
                Status::Pending,
                None,
                "not reset yet; run the same command again to resume".to_owned(),
            ),
        },
    };
    Line {
        line: e.line,
        input: e.text.clone(),
        user_id: Some(user.clone()),
        action: short(&method),
        result,
        sessions_left,
        detail,
    }
}

/// Lines by result.
pub fn tally(lines: &[Line]) -> BTreeMap<Status, usize> {
    let mut counts = BTreeMap::new();
    for l in lines {
        *counts.entry(l.result).or_default() += 1;
    }
    counts
}

/// The report as a JSON document.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    /// The input file.
    pub input: String,
    /// The org.
    pub org_id: String,
    /// `resetBulk` or `reset`.
    pub method: String,
    /// `all`, `mobile` or `web`.
    pub scope: String,
    /// The input's column, for a file of several columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<UserColumn>,
    /// Whether the run is over (nothing pending).
    pub complete: bool,
    /// Lines by result.
    pub summary: BTreeMap<&'static str, usize>,
    /// Every line.
    pub lines: &'a [Line],
}

/// The CSV header.
pub const CSV_HEADER: [&str; 7] = [
    "line",
    "input",
    "user_id",
    "action",
    "result",
    "sessions_left",
    "detail",
];

/// A line's CSV cells.
pub fn csv_cells(l: &Line) -> Vec<String> {
    vec![
        l.line.to_string(),
        l.input.clone(),
        l.user_id
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_default(),
        l.action.clone(),
        l.result.as_str().to_owned(),
        l.sessions_left.map(|n| n.to_string()).unwrap_or_default(),
        l.detail.clone(),
    ]
}

/// Renders the report.
pub fn render(format: ReportFormat, doc: &Document<'_>) -> Result<Vec<u8>> {
    match format {
        ReportFormat::Json => {
            let mut out = serde_json::to_vec_pretty(doc)
                .map_err(|e| Failure::other(format!("cannot encode the report: {e}")))?;
            out.push(b'\n');
            Ok(out)
        }
        ReportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let fail = |e: csv::Error| Failure::other(format!("cannot encode the report: {e}"));
            w.write_record(CSV_HEADER).map_err(fail)?;
            for l in doc.lines {
                w.write_record(csv_cells(l)).map_err(fail)?;
            }
            w.into_inner()
                .map_err(|e| Failure::other(format!("cannot encode the report: {e}")))
        }
    }
}

/// Writes the report atomically: a temporary file beside it, synced, then renamed.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| {
        Failure::other(format!("cannot write the report {}: {e}", path.display()))
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&tmp).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(fail)
}

/// What the printed outcome and the report say about the run, besides its lines.
#[derive(Debug)]
pub struct RunInfo<'a> {
    /// The input file.
    pub input: &'a Path,
    /// The org's name.
    pub org_name: &'a str,
    /// The org's id.
    pub org_id: String,
    /// Slack's method name of the resets.
    pub method: &'a str,
    /// `all`, `mobile` or `web`.
    pub scope: &'a str,
    /// A dry run: every line is shown, and no report or journal is named.
    pub dry_run: bool,
    /// State-changing calls made, by method.
    pub calls: &'a HashMap<String, u64>,
    /// The report's path.
    pub report_path: &'a Path,
    /// The journal's path.
    pub journal_path: &'a Path,
    /// The input's column, for a file of several columns.
    pub column: Option<&'a UserColumn>,
}

/// The report as a JSON document.
pub fn document<'a>(info: &RunInfo<'_>, lines: &'a [Line]) -> Document<'a> {
    let counts = tally(lines);
    Document {
        input: info.input.display().to_string(),
        org_id: info.org_id.clone(),
        method: short(info.method),
        scope: info.scope.to_owned(),
        column: info.column.cloned(),
        complete: !counts.contains_key(&Status::Pending) && !counts.contains_key(&Status::Planned),
        summary: counts.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
        lines,
    }
}

const LINE_COLUMNS: [Column; 7] = [
    col("LINE", "line"),
    col("INPUT", "input"),
    col("USER", "user_id"),
    col("ACTION", "action"),
    col("RESULT", "result"),
    col("LEFT", "sessions_left"),
    col("DETAIL", "detail"),
];

/// The most problem lines a table shows (the report has them all).
const TABLE_PROBLEMS: usize = 50;

/// Prints the outcome of a run (or a dry run) on standard output: in a table, the run's
/// summary and the lines that need attention (every line for a dry run); otherwise every line.
pub fn print(info: &RunInfo<'_>, lines: &[Line], format: Format) -> Result<()> {
    let doc = document(info, lines);
    journaled::print_outcome(format, &doc, lines, &LINE_COLUMNS, csv_cells, |mut out| {
        let summary = doc
            .summary
            .iter()
            .map(|(k, v)| format!("{} {k}", thousands(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        let calls: Vec<String> = info
            .calls
            .iter()
            .map(|(m, n)| format!("{} {} call(s)", thousands(*n as usize), short(m)))
            .collect();
        let mut fields = vec![
            (
                "input",
                format!(
                    "{} ({} lines)",
                    info.input.display(),
                    thousands(lines.len())
                ),
            ),
            ("org", format!("{} ({})", info.org_name, info.org_id)),
            (
                "method",
                format!("{}, {} sessions", short(info.method), doc.scope),
            ),
            ("results", summary),
        ];
        if let Some(column) = info.column {
            fields.insert(2, ("column", column.describe()));
        }
        if !info.dry_run {
            fields.push((
                "calls",
                if calls.is_empty() {
                    "none".to_owned()
                } else {
                    calls.join(", ")
                },
            ));
            fields.push(("report", info.report_path.display().to_string()));
            fields.push(("journal", info.journal_path.display().to_string()));
        }
        write_record(&mut out, Format::Table, &Value::Null, &fields)?;
        let shown: Vec<&Line> = if info.dry_run {
            lines.iter().collect()
        } else {
            lines
                .iter()
                .filter(|l| {
                    l.result.is_failure() || l.result.is_unused() || l.result == Status::Pending
                })
                .collect()
        };
        if !shown.is_empty() {
            writeln!(out)?;
            let mut printer = ListPrinter::new(Format::Table, &LINE_COLUMNS, &mut out);
            let limit = if info.dry_run {
                usize::MAX
            } else {
                TABLE_PROBLEMS
            };
            for l in shown.iter().take(limit) {
                printer.push(&Value::Null, csv_cells(l))?;
            }
            let more = shown.len().saturating_sub(limit);
            let tail = (more > 0).then(|| format!("… and {} more in the report", thousands(more)));
            printer.finish(tail.as_deref(), "")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Outcome, Record};
    use crate::journaled::Replay;

    fn entry(line: u64, text: &str, kind: Kind) -> Entry {
        Entry {
            line,
            text: text.into(),
            kind,
        }
    }

    #[test]
    fn every_line_is_accounted_for() {
        let w = |s: &str| UserId::new(s);
        let entries = vec![
            entry(1, "W1", Kind::Id(w("W1"))),
            entry(2, "ada@x.org", Kind::Email("ada@x.org".into())),
            entry(3, "ghost@x.org", Kind::Email("ghost@x.org".into())),
            entry(4, "bob", Kind::Invalid("not a user".into())),
            entry(5, "W1", Kind::Id(w("W1"))),
            entry(6, "W9", Kind::Id(w("W9"))),
            entry(7, "later@x.org", Kind::Email("later@x.org".into())),
        ];
        let state = RunState::replay(&[
            Record::Resolved {
                email: "Ada@x.org".into(),
                user_id: Some(w("W2")),
                facts: Default::default(),
            },
            Record::Resolved {
                email: "ghost@x.org".into(),
                user_id: None,
                facts: Default::default(),
            },
            Record::Intent {
                step: 1,
                method: "admin.users.session.resetBulk".into(),
                user_ids: vec![w("W1"), w("W2")],
                at_ms: 0,
            },
            Record::Result {
                step: 1,
                outcome: Outcome::Ok,
                error: None,
                at_ms: 0,
            },
            Record::Verified {
                user_id: w("W1"),
                sessions_left: 0,
            },
            Record::Verified {
                user_id: w("W2"),
                sessions_left: 3,
            },
        ]);
        let setup = Setup {
            method: "admin.users.session.resetBulk".into(),
            verified: true,
            verify_timeout: "2m".into(),
            plan: None,
        };
        let lines = build(&entries, &state, &setup);
        let results: Vec<_> = lines.iter().map(|l| (l.line, l.result)).collect();
        assert_eq!(
            results,
            vec![
                (1, Status::Done),
                (2, Status::Failed),
                (3, Status::NotFound),
                (4, Status::Invalid),
                (5, Status::Done),
                (6, Status::Pending),
                (7, Status::Pending),
            ]
        );
        assert_eq!(lines[1].sessions_left, Some(3));
        assert!(lines[4].detail.starts_with("same user as line 1"));
        assert_eq!(lines[0].action, "resetBulk");
        let counts = tally(&lines);
        assert_eq!(counts[&Status::Pending], 2);
        let doc = Document {
            input: "in".into(),
            org_id: "E1".into(),
            method: "resetBulk".into(),
            scope: "all".into(),
            column: None,
            complete: false,
            summary: counts.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
            lines: &lines,
        };
        let csv = String::from_utf8(render(ReportFormat::Csv, &doc).unwrap()).unwrap();
        assert_eq!(csv.lines().count(), 8);
        assert!(csv.starts_with(
            "line,input,user_id,action,result,sessions_left,detail\n1,W1,W1,resetBulk,done,0,"
        ));
        let json: serde_json::Value =
            serde_json::from_slice(&render(ReportFormat::Json, &doc).unwrap()).unwrap();
        assert_eq!(json["lines"].as_array().unwrap().len(), 7);
        assert_eq!(json["lines"][2]["result"], "not_found");
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
            default_path(Path::new("dir/leavers.txt")),
            PathBuf::from("dir/leavers.report.csv")
        );
    }
}
