//! `sessions invalidate` with filters: the shell around the engine's bulk invalidation.

use serde_json::Value;
use slack_sessions_engine::Context;
use slack_sessions_engine::invalidate::report::{COLUMNS, Row};
use slack_sessions_engine::invalidate::{self, Invalidation, Preview, Report};
use slack_sessions_engine::report::Status;

use crate::cli::InvalidateFlags;
use crate::exit::{Failure, OK, PARTIAL, Result};
use crate::output::{Format, ListPrinter, cells, plural, print_outcome, thousands, write_record};
use crate::{plans, ui};

/// Runs `sessions invalidate` without a session id.
pub(crate) async fn run(ctx: &Context, flags: &InvalidateFlags, format: Format) -> Result<u8> {
    let plan = plans::invalidate(flags)?;
    if flags.dry_run {
        let report = invalidate::dry_run(ctx, plan).await?;
        print(&report, format)?;
        ui::note("dry run: nothing was changed, and no journal or report was written");
        return Ok(exit_code(&report));
    }
    let mut run = Invalidation::open(ctx, plan).await?;
    let outcome = match run.select().await {
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
    let report = run.finish(outcome.is_ok()).await?;
    print(&report, format)?;
    match outcome {
        Ok(()) => {
            // A table names the report already; the other formats carry rows only.
            if let (Some(path), false) = (&report.report, format == Format::Table) {
                ui::note(format!("report: {}", path.display()));
            }
            Ok(exit_code(&report))
        }
        Err(e) => Err(super::stopped(&journal, Failure::from(e))),
    }
}

/// The exit code of a finished run, or of its dry run: 7 if a session was (or would be) left.
fn exit_code(report: &Report) -> u8 {
    if report.rows.iter().any(|r| r.result == Status::Failed) {
        PARTIAL
    } else {
        OK
    }
}

fn confirmation(run: &Invalidation, p: &Preview) -> String {
    let done = p.found - p.to_do;
    let resumed = if done > 0 {
        format!(
            "Resuming: {} of {} sessions done. ",
            thousands(done),
            thousands(p.found)
        )
    } else {
        String::new()
    };
    format!(
        "{resumed}About to end {} of {} in {} ({}), found by {}, with one invalidate call each. Go ahead?",
        plural(p.to_do, "session", "sessions"),
        plural(p.users, "user", "users"),
        run.org().describe(),
        p.kinds,
        run.plan().filters(),
    )
}

fn print(report: &Report, format: Format) -> Result<()> {
    let doc = report.document();
    let rows = &report.rows;
    print_outcome(format, &doc, rows, &COLUMNS, |mut out| {
        let summary: Vec<String> = doc
            .summary
            .iter()
            .map(|(k, v)| format!("{} {k}", thousands(*v)))
            .collect();
        let mut fields = vec![
            ("filters", report.filters.clone()),
            ("org", report.org.describe()),
            (
                "sessions",
                if summary.is_empty() {
                    "none matched".to_owned()
                } else {
                    summary.join(", ")
                },
            ),
        ];
        if let Some(path) = &report.report {
            fields.push((
                "calls",
                format!("{} invalidate", thousands(report.calls as usize)),
            ));
            fields.push(("report", path.display().to_string()));
        }
        write_record(&mut out, Format::Table, &Value::Null, &fields)?;
        let dry_run = report.is_dry_run();
        let shown: Vec<&Row> = rows
            .iter()
            .filter(|r| dry_run || r.result != Status::Done)
            .collect();
        if !shown.is_empty() {
            writeln!(out)?;
            let mut printer = ListPrinter::new(Format::Table, &COLUMNS, &mut out);
            for r in shown {
                printer.push(&Value::Null, cells(r, &COLUMNS))?;
            }
            printer.finish(None, "")?;
        }
        Ok(())
    })
}
