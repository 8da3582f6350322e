//! `enforce POLICY.toml`: the shell around the engine's enforcement: the rounds (once, or every
//! `--watch` interval until a stop), the confirmation before the first, and each round printed.

use std::io::Write;
use std::time::Instant;

use serde_json::{Value, json};
use slack_sessions_engine::Context;
use slack_sessions_engine::enforce::decide::Round;
use slack_sessions_engine::enforce::{self, COLUMNS, Enforcement, Line};

use crate::cli::EnforceFlags;
use crate::exit::{Failure, INTERRUPTED, OK, PARTIAL, Result, USAGE};
use crate::output::{Format, ListPrinter, cells, thousands, write_failed};
use crate::{plans, ui};

/// Runs `enforce`.
pub(crate) async fn run(ctx: &Context, flags: &EnforceFlags, format: Format) -> Result<u8> {
    let plan = plans::enforce(flags)?;
    if flags.watch.is_some() && !flags.yes && !flags.dry_run {
        return Err(Failure::usage(
            "--watch acts unattended: give --yes (check the actions first with --dry-run)",
        ));
    }
    for w in &plan.policy.warnings {
        ui::warn(w);
    }
    if flags.dry_run {
        let round = enforce::dry_run(ctx, &plan).await?;
        let lines = enforce::planned(&plan.policy, &round);
        print_round(1, &round, &lines, format, true)?;
        note_unmatched(&plan.policy, &round);
        if let Some(reason) = &round.breaker {
            ui::warn(format!("circuit breaker: {reason}"));
        }
        ui::note("dry run: nothing was changed; these are the actions a run would take now");
        // The code the run would exit with: a tripped circuit breaker is 7 either way.
        return Ok(if round.breaker.is_some() { PARTIAL } else { OK });
    }
    let mut run = Enforcement::open(ctx, plan).await?;
    let outcome = rounds(ctx, &mut run, flags, format).await;
    match &outcome {
        Err(f) if f.code == USAGE => run.decline(),
        Ok(code) => run.finish(*code, true)?,
        Err(f) => run.finish(f.code, f.code == INTERRUPTED)?,
    }
    outcome
}

async fn rounds(
    ctx: &Context,
    run: &mut Enforcement,
    flags: &EnforceFlags,
    format: Format,
) -> Result<u8> {
    let mut number = 0u64;
    loop {
        number += 1;
        let began = Instant::now();
        let round = run.judge().await?;
        if number == 1 && !flags.yes && round.actions().next().is_some() {
            let lines = enforce::planned(&run.plan().policy, &round);
            print_round(number, &round, &lines, format, true)?;
            let question = format!(
                "About to take the {} action(s) above in {}. Go ahead?",
                round.actions().count(),
                run.org().describe()
            );
            super::confirm(ctx, &question)?;
        }
        let acted = run.act(&round, number).await?;
        print_round(number, &round, &acted.lines, format, false)?;
        if let Some(reason) = &round.breaker {
            ui::warn(format!("circuit breaker: {reason}"));
        }
        let code = if round.breaker.is_some() || acted.failed > 0 {
            PARTIAL
        } else {
            OK
        };
        let Some(every) = flags.watch else {
            return if acted.stopped {
                Err(Failure::new(
                    INTERRUPTED,
                    "interrupted; the journal keeps what was done: run the same command again",
                ))
            } else {
                Ok(code)
            };
        };
        if acted.stopped || !ctx.stop.sleep(every.saturating_sub(began.elapsed())).await {
            ui::note(format!("stopped after {number} round(s)"));
            return Ok(OK);
        }
    }
}

/// The rules no session breaks (a typo matches nothing): the first few by name.
fn note_unmatched(policy: &enforce::policy::Policy, round: &Round) {
    const SHOWN: usize = 10;
    for r in round.unmatched.iter().take(SHOWN) {
        let rule = &policy.rules[*r];
        ui::note(format!(
            "rule {:?} matched no session (line {})",
            rule.name, rule.line
        ));
    }
    if round.unmatched.len() > SHOWN {
        ui::note(format!(
            "and {} more rules matched no session",
            thousands(round.unmatched.len() - SHOWN)
        ));
    }
}

fn print_round(
    number: u64,
    round: &Round,
    lines: &[Line],
    format: Format,
    dry_run: bool,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = (|| -> std::io::Result<()> {
        match format {
            Format::Json => {
                let doc = json!({
                    "round": number, "dry_run": dry_run, "sessions": round.total,
                    "breaches": round.decisions.len(), "breaker": round.breaker,
                    "decisions": lines,
                });
                serde_json::to_writer_pretty(&mut out, &doc).map_err(std::io::Error::from)?;
                writeln!(out)?;
            }
            Format::Ndjson | Format::Csv => {
                let mut printer = ListPrinter::new(format, &COLUMNS, &mut out);
                for l in lines {
                    let json = serde_json::to_value(l).map_err(std::io::Error::other)?;
                    printer.push(&json, cells(l, &COLUMNS))?;
                }
                printer.finish(None, "")?;
            }
            Format::Table => {
                let acted = lines.iter().filter(|l| l.action != "none").count();
                writeln!(
                    out,
                    "round {number}{}: {} sessions, {} break a rule, {} {}",
                    if dry_run { " (dry run)" } else { "" },
                    thousands(round.total as usize),
                    thousands(lines.len()),
                    thousands(acted),
                    if dry_run { "to act on" } else { "acted on" },
                )?;
                if let Some(reason) = &round.breaker {
                    writeln!(out, "circuit breaker: {}", crate::output::visible(reason))?;
                }
                if !lines.is_empty() {
                    let mut printer = ListPrinter::new(Format::Table, &COLUMNS, &mut out);
                    for l in lines {
                        printer.push(&Value::Null, cells(l, &COLUMNS))?;
                    }
                    printer.finish(None, "")?;
                }
            }
        }
        out.flush()
    })();
    result.map_err(write_failed)
}
