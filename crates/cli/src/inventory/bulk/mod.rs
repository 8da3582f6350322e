//! `sessions invalidate` with filters: end exactly the sessions the filters find, resumably.
//!
//! 1. **Find**: the org's sessions are walked once and each match is written to the journal
//!    ([`Record::Target`]), then [`Record::Selected`]. A resumed run ends that same set: it
//!    does not search again, so nothing found is skipped and nothing new is added.
//! 2. **Show and ask**: the plan (how many sessions, of how many users, of which kinds) is
//!    shown; the dry run lists every session and stops there, writing nothing; on a terminal
//!    the run asks (`--yes` skips).
//! 3. **End**: one `admin.users.session.invalidate` per session (paced to its tier), each with
//!    an fsync'd intent before and a result after, as offboarding does ([`ender`]). A call whose
//!    answer was lost is settled by listing the user's sessions before anything is sent again.
//! 4. **Verify and report**: the ended sessions are looked for until they are gone (or
//!    `--verify-timeout`), and the report (CSV or JSON) has one row per session found.

pub mod ender;
pub mod report;
pub mod state;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use slack_sessions_client::Client;
use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::{ActiveSession, AuthTestResponse, ListArgs};

use self::ender::Ender;
use self::report::{Document, Row};
use self::state::{SessionRun, SessionState};
use super::filter::{Filter, KindCounts};
use super::names::{Directory, Person};
use crate::cli::{Global, InvalidateArgs};
use crate::commands::org_of;
use crate::exit::{Failure, INTERRUPTED, OK, PARTIAL, Result};
use crate::journal::journal_path;
use crate::journal::{self, Journal, Options, Record, VERSION, now_ms};
use crate::journaled::{self, Journaled, Replay};
use crate::offboard::catch_ctrl_c;
use crate::offboard::report::{ReportFormat, Status};
use crate::output::{Format, ListPrinter, plural, thousands, write_record};
use crate::{connect, ui};

/// Slack's method.
const METHOD: &str = "admin.users.session.invalidate";

/// What a run is, worked out before it starts.
struct Prepared {
    filter: Filter,
    filters: String,
    me: AuthTestResponse,
    start: Record,
    report_path: PathBuf,
    report_format: ReportFormat,
    journal_path: PathBuf,
}

/// The filters as the run's input (`--all` for every session).
fn fingerprint(filter: &Filter, all: bool) -> (String, String) {
    let text = if all {
        "--all".to_owned()
    } else {
        filter.describe()
    };
    let sha = Sha256::digest(text.as_bytes());
    let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    (text, hex)
}

fn prepare(
    client: &Client,
    args: &InvalidateArgs,
    filter: Filter,
    me: AuthTestResponse,
) -> Result<Prepared> {
    let (filters, sha) = fingerprint(&filter, args.all);
    let report_path = args
        .report
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("sessions-invalidate-{}.report.csv", &sha[..12])));
    let report_format = ReportFormat::of(&report_path)?;
    let journal_path = journal_path(&report_path);
    let start = Record::Start {
        version: VERSION,
        tool: concat!("slack-sessions ", env!("CARGO_PKG_VERSION")).to_owned(),
        input: format!("sessions invalidate {filters}"),
        input_sha256: sha,
        options: Options {
            method: METHOD.to_owned(),
            batch_size: 1,
            scope: "all".to_owned(),
            team: args.filter.team.clone(),
            api_url: client.base_url().to_owned(),
            column: None,
            include_self: false,
        },
        org_id: org_of(&me).to_string(),
        admin_user_id: me.user_id.to_string(),
        at_ms: now_ms(),
    };
    Ok(Prepared {
        filter,
        filters,
        me,
        start,
        report_path,
        report_format,
        journal_path,
    })
}

/// Runs `sessions invalidate` without a session id.
pub async fn run(
    global: &Global,
    client: &Client,
    args: &InvalidateArgs,
    format: Format,
) -> Result<u8> {
    if !args.filter.any() && !args.all {
        return Err(Failure::usage(
            "no filter: ending sessions in bulk needs at least one of --ip, --os, --client, \
             --client-version-below, --team (or --all for every session of the org)",
        )
        .hint("to end one session, give its id and --user; `sessions list` with the same filters shows what they find"));
    }
    if args.all && args.filter.any() {
        return Err(Failure::usage(
            "--all ends every session of the org: give it without filters, or give filters without --all",
        ));
    }
    let (filter, me) = super::filter_of(client, &args.filter).await?;
    let prep = prepare(client, args, filter, me)?;
    let writer =
        client.with_retry_policy(connect::retry_policy(global).retry_ambiguous_writes(false));
    let mut directory = if args.no_names {
        Directory::none()
    } else {
        Directory::new(client, org_of(&prep.me))
    };
    if args.dry_run {
        return dry_run(client, &prep, &mut directory, format).await;
    }
    let (journal, records) = Journal::open(&prep.journal_path)?;
    let fresh = records.is_empty();
    if let Some(first) = records.first() {
        journal::check_same_run(&prep.journal_path, first, &prep.start)?;
    }
    let mut ender = Ender {
        reader: client.clone(),
        writer,
        org: org_of(&prep.me),
        run: Journaled::resume(Some(journal), &records),
    };
    if fresh {
        ender.run.record(prep.start.clone())?;
    } else if ender.run.state.finished.is_some() {
        ui::note(format!(
            "this invalidation finished already (journal {}); writing its report again",
            prep.journal_path.display()
        ));
        let code = ender.run.state.finished.unwrap_or(OK);
        let rows = finish_report(&ender.run.state, &prep, &mut directory).await?;
        print_outcome(&prep, &ender.run.state, &rows, format)?;
        return Ok(code);
    } else {
        ui::note(format!(
            "resuming the invalidation kept in {}",
            prep.journal_path.display()
        ));
        ender.run.record(Record::Resume { at_ms: now_ms() })?;
    }
    if !ender.run.state.selected {
        select(&mut ender, client, &prep.filter).await?;
    }
    let to_do = ender
        .run
        .state
        .select(|s| matches!(s, SessionState::Pending | SessionState::InFlight { .. }));
    if !to_do.is_empty() && !args.yes {
        let question = confirmation(&prep, &ender.run.state, &to_do);
        let refusal = match ui::confirm(&question) {
            Ok(true) => None,
            Ok(false) => Some(Failure::usage("not confirmed; nothing was changed")),
            Err(failure) => Some(failure),
        };
        if let Some(failure) = refusal {
            // Declined before anything changed: a journal this run created goes.
            if fresh
                && ender.run.state.calls == 0
                && let Some(j) = ender.run.journal.take()
            {
                j.discard();
            }
            return Err(failure);
        }
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    let catch = tokio::spawn(catch_ctrl_c(Arc::clone(&interrupted)));
    let outcome = carry_out(&mut ender, &interrupted, args).await;
    catch.abort();
    ender.run.sync()?;
    let rows = build_rows(&ender.run.state, &mut directory, false).await?;
    let code = match &outcome {
        Ok(()) if rows.iter().any(|r| r.result == Status::Failed) => PARTIAL,
        Ok(()) => OK,
        Err(f) => f.code,
    };
    if outcome.is_ok() {
        ender.run.record(Record::Finished {
            exit_code: code,
            at_ms: now_ms(),
        })?;
    }
    write_report(&prep, &rows)?;
    print_outcome(&prep, &ender.run.state, &rows, format)?;
    match outcome {
        Ok(()) => {
            ui::note(format!("report: {}", prep.report_path.display()));
            Ok(code)
        }
        Err(failure) => Err(journaled::stopped(&prep.journal_path, failure)),
    }
}

/// Walks the org once, recording each session the filters find.
async fn select(ender: &mut Ender, client: &Client, filter: &Filter) -> Result<()> {
    ui::note("finding the sessions the filters match (one walk of the org's sessions)");
    let mut found = 0u64;
    super::walk(client, filter, ListArgs::new().limit(1000), async |s| {
        found += 1;
        ender.run.record(Record::Target { session: s })?;
        Ok(true)
    })
    .await?;
    let count = ender.run.state.targets.len() as u64;
    ender.run.record(Record::Selected {
        count,
        at_ms: now_ms(),
    })?;
    let _ = found;
    ender.run.sync()
}

fn confirmation(prep: &Prepared, run: &SessionRun, to_do: &[ActiveSession]) -> String {
    let users: std::collections::HashSet<&UserId> = to_do.iter().map(|s| &s.user_id).collect();
    let kinds: KindCounts = to_do.iter().collect();
    let done = run.targets.len() - to_do.len();
    let resumed = if done > 0 {
        format!(
            "Resuming: {} of {} sessions done. ",
            thousands(done),
            thousands(run.targets.len())
        )
    } else {
        String::new()
    };
    format!(
        "{resumed}About to end {} of {} in {} ({}) ({kinds}), found by {}, with one invalidate call each. Go ahead?",
        plural(to_do.len(), "session", "sessions"),
        plural(users.len(), "user", "users"),
        prep.me.team,
        org_of(&prep.me),
        prep.filters,
    )
}

async fn carry_out(
    ender: &mut Ender,
    interrupted: &Arc<AtomicBool>,
    args: &InvalidateArgs,
) -> Result<()> {
    let settled = ender.settle_in_flight().await?;
    if settled > 0 {
        ui::note(format!(
            "checked {} call(s) whose answer the last run did not get, before sending anything again",
            thousands(settled)
        ));
    }
    let pending = ender.run.state.select(|s| *s == SessionState::Pending);
    if !pending.is_empty() {
        ui::note(format!(
            "ending {} with one invalidate call each",
            plural(pending.len(), "session", "sessions")
        ));
    }
    let progress = ui::Progress::for_calls("ending", pending.len() as u64, METHOD, 1);
    for s in &pending {
        if interrupted.load(Ordering::SeqCst) {
            return Err(Failure::new(
                INTERRUPTED,
                "interrupted; nothing is lost: run the same command again to resume",
            ));
        }
        ui::waiting(&progress, METHOD, ender.end(s)).await?;
        progress.inc(1);
    }
    progress.finish();
    let flag = Arc::clone(interrupted);
    ender
        .verify(args.verify_timeout, &move || flag.load(Ordering::SeqCst))
        .await
}

/// Names and emails of the targets' users (read once each).
async fn people(run: &SessionRun, directory: &mut Directory) -> Result<HashMap<UserId, Person>> {
    let mut out = HashMap::new();
    for s in &run.targets {
        if !out.contains_key(&s.user_id) {
            let p = directory.get(&s.user_id).await?.clone();
            out.insert(s.user_id.clone(), p);
        }
    }
    Ok(out)
}

async fn build_rows(
    run: &SessionRun,
    directory: &mut Directory,
    dry_run: bool,
) -> Result<Vec<Row>> {
    let people = people(run, directory).await?;
    let none = Person::default();
    Ok(report::rows(
        run,
        &|s| people.get(&s.user_id).unwrap_or(&none).clone(),
        dry_run,
    ))
}

async fn finish_report(
    run: &SessionRun,
    prep: &Prepared,
    directory: &mut Directory,
) -> Result<Vec<Row>> {
    let rows = build_rows(run, directory, false).await?;
    write_report(prep, &rows)?;
    Ok(rows)
}

fn document<'a>(prep: &'a Prepared, org: &'a str, rows: &'a [Row]) -> Document<'a> {
    let summary = report::tally(rows);
    Document {
        filters: &prep.filters,
        org_id: org,
        complete: !summary.contains_key("pending") && !summary.contains_key("planned"),
        summary,
        sessions: rows,
    }
}

fn write_report(prep: &Prepared, rows: &[Row]) -> Result<()> {
    let org = org_of(&prep.me).to_string();
    let bytes = report::render(prep.report_format, &document(prep, &org, rows))?;
    crate::offboard::report::write(&prep.report_path, &bytes)
}

/// The dry run: the run minus the writes. The sessions are found as the run would find them
/// (or taken from the journal of a run in progress, read without changing it) and listed.
async fn dry_run(
    client: &Client,
    prep: &Prepared,
    directory: &mut Directory,
    format: Format,
) -> Result<u8> {
    let mut run = match journal::read(&prep.journal_path)? {
        Some(records) if !records.is_empty() => {
            journal::check_same_run(&prep.journal_path, &records[0], &prep.start)?;
            ui::note(format!(
                "a run is kept in {}: showing what resuming it would do",
                prep.journal_path.display()
            ));
            SessionRun::replay(&records)
        }
        _ => SessionRun::replay(&[]),
    };
    if !run.selected {
        let mut ender = Ender {
            reader: client.clone(),
            writer: client.clone(),
            org: org_of(&prep.me),
            run: Journaled {
                journal: None,
                state: run,
            },
        };
        select(&mut ender, client, &prep.filter).await?;
        run = ender.run.state;
    }
    let rows = build_rows(&run, directory, true).await?;
    print_outcome(prep, &run, &rows, format)?;
    ui::note("dry run: nothing was changed, no journal or report was written");
    Ok(OK)
}

fn print_outcome(prep: &Prepared, run: &SessionRun, rows: &[Row], format: Format) -> Result<()> {
    let org = org_of(&prep.me).to_string();
    let doc = document(prep, &org, rows);
    journaled::print_outcome(
        format,
        &doc,
        rows,
        &report::COLUMNS,
        report::cells,
        |mut out| {
            let summary: Vec<String> = doc
                .summary
                .iter()
                .map(|(k, v)| format!("{} {k}", thousands(*v)))
                .collect();
            let fields = vec![
                ("filters", prep.filters.clone()),
                ("org", format!("{} ({org})", prep.me.team)),
                (
                    "sessions",
                    if summary.is_empty() {
                        "none matched".to_owned()
                    } else {
                        summary.join(", ")
                    },
                ),
                (
                    "calls",
                    format!("{} invalidate", thousands(run.calls as usize)),
                ),
                ("report", prep.report_path.display().to_string()),
            ];
            let dry_run = rows.iter().any(|r| r.result == Status::Planned);
            let fields: Vec<(&str, String)> = fields
                .into_iter()
                .filter(|(k, _)| !dry_run || !matches!(*k, "calls" | "report"))
                .collect();
            write_record(&mut out, Format::Table, &serde_json::Value::Null, &fields)?;
            let shown: Vec<&Row> = rows
                .iter()
                .filter(|r| dry_run || r.result != Status::Done)
                .collect();
            if !shown.is_empty() {
                writeln!(out)?;
                let mut printer = ListPrinter::new(Format::Table, &report::COLUMNS, &mut out);
                for r in shown {
                    printer.push(&serde_json::Value::Null, report::cells(r))?;
                }
                printer.finish(None, "")?;
            }
            Ok(())
        },
    )
}
