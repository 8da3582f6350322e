//! `offboard FILE`: the shell around the engine's offboarding: the plan from the flags, the
//! confirmation, the printed outcome and the exit code.

use std::time::Instant;

use serde_json::Value;
use slack_sessions_engine::Context;
use slack_sessions_engine::duration::format_elapsed;
use slack_sessions_engine::journal::Devices;
use slack_sessions_engine::offboard::report::{COLUMNS, Line, short};
use slack_sessions_engine::offboard::{self, Hold, Offboarding, Preview, Report};
use slack_sessions_engine::report::Status;

use crate::cli::OffboardFlags;
use crate::exit::{Failure, LINES_UNUSED, OK, PARTIAL, Result};
use crate::output::{Format, ListPrinter, cells, print_outcome, thousands, write_record};
use crate::{plans, ui};

/// Runs `offboard`.
pub(crate) async fn run(ctx: &Context, flags: &OffboardFlags, format: Format) -> Result<u8> {
    let started = Instant::now();
    let plan = plans::offboard(flags)?;
    if flags.dry_run {
        let report = offboard::dry_run(ctx, plan).await?;
        print(&report, format, true)?;
        note_deactivated(&report);
        ui::note("dry run: nothing was changed, and no journal or report was written");
        // The code the run would exit with: a dry run that plans a failure says so.
        return Ok(exit_code(&report.lines));
    }
    let mut run = Offboarding::open(ctx, plan).await?;
    let outcome = match run.resolve().await {
        Ok(()) => {
            let preview = run.preview();
            if preview.to_do > 0
                && !flags.yes
                && let Err(refused) = super::confirm(ctx, &confirmation(&run, &preview))
            {
                run.decline();
                return Err(refused);
            }
            run.carry_out().await
        }
        Err(e) => Err(e),
    };
    let journal = run.plan().report.journal();
    let report = run.finish(outcome.is_ok())?;
    print(&report, format, false)?;
    note_deactivated(&report);
    let path = report.report.as_ref().map(|p| p.display().to_string());
    ui::note(format!(
        "{} in {}; report: {}",
        if outcome.is_ok() {
            "finished"
        } else {
            "stopped"
        },
        format_elapsed(started.elapsed()),
        path.unwrap_or_default()
    ));
    match outcome {
        Ok(()) => Ok(exit_code(&report.lines)),
        Err(e) => Err(super::stopped(&journal, Failure::from(e))),
    }
}

/// Names the users whose accounts were deactivated before the run: their lines are `done`
/// (or `planned`) like the others', and the person running it should know the leaver was
/// gone already.
fn note_deactivated(report: &Report) {
    let users: std::collections::BTreeSet<String> = report
        .lines
        .iter()
        .filter(|l| l.deactivated)
        .filter_map(|l| l.user_id.as_ref().map(ToString::to_string))
        .collect();
    if !users.is_empty() {
        let users: Vec<String> = users.into_iter().collect();
        ui::note(format!(
            "already deactivated (Slack ended their sessions then): {}",
            users.join(", ")
        ));
    }
}

/// The exit code of a finished run: 7 if a user was not signed out, 8 if every user was but
/// some lines named nobody (or the token's own user, left out), 0 otherwise.
fn exit_code(lines: &[Line]) -> u8 {
    if lines.iter().any(|l| l.result.is_failure()) {
        PARTIAL
    } else if lines.iter().any(|l| l.result.is_unused()) {
        LINES_UNUSED
    } else {
        OK
    }
}

fn confirmation(run: &Offboarding, p: &Preview) -> String {
    let plan = run.plan();
    let scope = match plan.devices {
        Devices::Mobile => "their mobile sessions",
        Devices::Web => "their web and desktop sessions",
        Devices::All => "all their sessions",
    };
    let calls = if plan.one_by_one {
        format!("{} reset calls", thousands(p.to_do))
    } else {
        format!("{} resetBulk call(s)", thousands(p.calls))
    };
    let done = p.users - p.to_do;
    let resumed = if done > 0 {
        format!(
            "Resuming: {} of {} users done. ",
            thousands(done),
            thousands(p.users)
        )
    } else {
        String::new()
    };
    let column = match &plan.input.column {
        Some(c) => format!(" Users from column {}.", c.describe()),
        None => String::new(),
    };
    let skipped = match p.unusable {
        0 => String::new(),
        n => format!(
            " {} line(s) name no user: they are only reported.",
            thousands(n)
        ),
    };
    let held = if p.held.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = p
            .held
            .iter()
            .map(|(u, h)| match h {
                Hold::Myself => format!("{u} (you; --include-self to sign yourself out)"),
                Hold::PrimaryOwner => format!("{u} (the primary owner)"),
                Hold::Bot => format!("{u} (a bot)"),
                Hold::NotFound => format!("{u} (not in this org)"),
            })
            .collect();
        format!(" Left out: {}.", names.join(", "))
    };
    format!(
        "{resumed}About to sign out {} user(s) of {} from {scope}, with {calls}.{column}{skipped}{held} \
         Go ahead?",
        thousands(p.to_do),
        run.org().describe(),
    )
}

/// The most problem lines a table shows (the report has them all).
const TABLE_PROBLEMS: usize = 50;

/// Prints the outcome of a run (or a dry run) on standard output: in a table, the run's
/// summary and the lines that need attention (every line for a dry run); otherwise every line.
fn print(report: &Report, format: Format, dry_run: bool) -> Result<()> {
    let doc = report.document();
    let lines = &report.lines;
    print_outcome(format, &doc, lines, &COLUMNS, |mut out| {
        let summary = doc
            .summary
            .iter()
            .map(|(k, v)| format!("{} {k}", thousands(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        let calls: Vec<String> = report
            .calls
            .iter()
            .map(|(m, n)| format!("{} {} call(s)", thousands(*n as usize), short(m)))
            .collect();
        let mut fields = vec![
            (
                "input",
                format!(
                    "{} ({} lines)",
                    report.input.display(),
                    thousands(lines.len())
                ),
            ),
            ("org", report.org.describe()),
            (
                "method",
                format!("{}, {} sessions", short(report.method), doc.scope),
            ),
            ("results", summary),
        ];
        if let Some(column) = &report.column {
            fields.insert(2, ("column", column.describe()));
        }
        if let (Some(r), Some(j)) = (&report.report, &report.journal) {
            fields.push((
                "calls",
                if calls.is_empty() {
                    "none".to_owned()
                } else {
                    calls.join(", ")
                },
            ));
            fields.push(("report", r.display().to_string()));
            fields.push(("journal", j.display().to_string()));
        }
        write_record(&mut out, Format::Table, &Value::Null, &fields)?;
        let shown: Vec<&Line> = if dry_run {
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
            let mut printer = ListPrinter::new(Format::Table, &COLUMNS, &mut out);
            let limit = if dry_run { usize::MAX } else { TABLE_PROBLEMS };
            for l in shown.iter().take(limit) {
                printer.push(&Value::Null, cells(l, &COLUMNS))?;
            }
            let more = shown.len().saturating_sub(limit);
            let tail = (more > 0).then(|| format!("… and {} more in the report", thousands(more)));
            printer.finish(tail.as_deref(), "")?;
        }
        Ok(())
    })
}
