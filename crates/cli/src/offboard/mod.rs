//! `offboard FILE`: sign a list of users out everywhere, in bulk, and survive any interruption.
//!
//! 1. **Resolve**: emails are looked up with `users.lookupByEmail` (those not found are
//!    reported); IDs are taken as they are.
//! 2. **Reset**: `admin.users.session.resetBulk` in batches of at most 1,000 (or one
//!    `admin.users.session.reset` per user with `--one-by-one`). A batch Slack refuses because
//!    of one user in it (the primary owner, a bot, an unknown ID) is split in halves until that
//!    user is found; the others are reset.
//! 3. **Verify**: `resetBulk` only queues a job, so each user's sessions are listed until none
//!    is left or `--verify-timeout` passes.
//! 4. **Report**: one row per input line: the user, what was done, the result, sessions left.
//!
//! # Surviving interruption
//!
//! Everything goes through the [journal](crate::journal) first. Before each reset call, an *intent*
//! record (step, method, users) is written and fsync'd; after it, a *result* record. A run that
//! stops for any reason — Ctrl-C, `kill -9`, a lost network, an exhausted retry budget —
//! resumes from the journal when started again with the same arguments; a journal from other
//! arguments or another input file is refused.
//!
//! **The crash window.** Between "intent written" and "answer received" the call may or may not
//! have reached Slack: the process may die after sending, or the answer may be lost. Sending it
//! again blindly would be harmless for Slack (a second reset leaves the same state), but it
//! would reset those users twice, and a run must not. So an intent without a result is
//! *settled* first: its users' sessions are listed. A user with no session left is done — the
//! call was applied (or there was nothing to end, and there is nothing to do either way). A user
//! who still has sessions is reset again: the call never took effect for them. For `resetBulk`,
//! which queues a job, the check waits up to `--verify-timeout` for the job to run before it
//! concludes that the call was not applied. The one case where a user is sent two resets is a
//! user who signed in again between the lost call and the check: then the second reset is
//! needed for the offboarding to hold.
//!
//! The same rule applies within a run: resets are sent with a retry policy that never repeats a
//! call whose outcome is unknown (a timeout, a truncated answer); the run settles it instead.

pub mod input;
pub mod report;
pub mod run;
pub mod state;
pub mod verify;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use slack_sessions_client::api::{ErrorCode, Method, TeamId, UserId};
use slack_sessions_client::methods::{AuthTestResponse, Reset, ResetBulk};

use self::input::Input;
use self::report::{Line, Plan, ReportFormat, RunInfo, Setup};
use self::run::Runner;
use self::state::{Hold, RunState, UserState};
use self::verify::Verifier;
use crate::cli::{Global, OffboardArgs};
use crate::commands::{org_of, who};
use crate::duration::{format_elapsed, format_secs};
use crate::exit::{Failure, LINES_UNUSED, OK, PARTIAL, Result, USAGE};
use crate::journal::{Journal, Options, Record, VERSION, check_same_run, journal_path, now_ms};
use crate::journaled::{self, Journaled, Replay};
use crate::output::{Format, thousands};
use crate::{connect, ui};

/// Everything a run needs to know, worked out before it starts.
struct Prepared {
    input: Input,
    report_path: PathBuf,
    report_format: ReportFormat,
    journal_path: PathBuf,
    me: AuthTestResponse,
    start: Record,
    method: &'static str,
}

/// Runs `offboard`.
pub async fn run(global: &Global, args: &OffboardArgs, format: Format) -> Result<u8> {
    let started = Instant::now();
    let input = input::read(&args.file, args.column.as_deref())?;
    let report_path = args
        .report
        .clone()
        .unwrap_or_else(|| report::default_path(&args.file));
    let report_format = ReportFormat::of(&report_path)?;
    let journal_path = journal_path(&report_path);
    let client = connect::client(global)?;
    let me = who(&client).await?;
    let org = org_of(&me);
    if let Some(team) = &args.team {
        crate::commands::check_team(&client, &me, team).await?;
    }
    let method = if args.one_by_one {
        Reset::NAME
    } else {
        ResetBulk::NAME
    };
    let start = Record::Start {
        version: VERSION,
        tool: concat!("slack-sessions ", env!("CARGO_PKG_VERSION")).to_owned(),
        input: args.file.display().to_string(),
        input_sha256: input.sha256.clone(),
        options: Options {
            method: method.to_owned(),
            batch_size: args.batch_size,
            scope: args.scope.name().to_owned(),
            team: args.team.clone(),
            api_url: client.base_url().to_owned(),
            column: input.column.as_ref().map(input::UserColumn::key),
            include_self: args.include_self,
        },
        org_id: org.to_string(),
        admin_user_id: me.user_id.to_string(),
        at_ms: now_ms(),
    };
    let verifier = Verifier {
        client: client.clone(),
        team: args
            .team
            .as_deref()
            .map(TeamId::new)
            .unwrap_or_else(|| org.clone()),
        scope: args.scope,
        by: args.verify_by,
    };
    let writer =
        client.with_retry_policy(connect::retry_policy(global).retry_ambiguous_writes(false));
    let prep = Prepared {
        input,
        report_path,
        report_format,
        journal_path,
        me,
        start,
        method,
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let (journal, records, fresh) = open_journal(&prep)?;
    let mut runner = Runner {
        client,
        writer,
        run: Journaled::resume(Some(journal), &records),
        entries: prep.input.entries.clone(),
        method,
        batch_size: args.batch_size as usize,
        scope: args.scope,
        verify_timeout: args.verify_timeout,
        verifier,
        interrupted: Arc::clone(&interrupted),
        resolve_by: args.resolve_by,
        users_team: args
            .team
            .as_deref()
            .map(TeamId::new)
            .unwrap_or_else(|| org.clone()),
    };
    if records.is_empty() {
        runner.run.record(prep.start.clone())?;
    }
    if args.dry_run {
        return dry_run(&mut runner, &prep, args, format).await;
    }
    if let Some(code) = runner.run.state.finished {
        ui::note(format!(
            "this offboarding finished already (journal {}); writing its report again",
            prep.journal_path.display()
        ));
        let lines = write_report(&runner, &prep, args)?;
        print_outcome(&prep, &runner, &lines, format, args)?;
        return Ok(code);
    }
    if !records.is_empty() {
        if runner.run.state.calls.is_empty() {
            ui::note(format!(
                "using the {} lookup(s) kept in {}",
                thousands(runner.run.state.resolved.len()),
                prep.journal_path.display()
            ));
        } else {
            ui::note(format!(
                "resuming the run kept in {}",
                prep.journal_path.display()
            ));
        }
        runner.run.record(Record::Resume { at_ms: now_ms() })?;
    }

    let catch = tokio::spawn(catch_ctrl_c(Arc::clone(&interrupted)));
    let outcome = carry_out(&mut runner, &prep, args).await;
    catch.abort();
    runner.run.sync()?;
    if let Err(failure) = &outcome
        && failure.code == USAGE
        && runner.run.state.calls.is_empty()
    {
        // Declined before anything changed: a journal this run created goes (one kept from
        // a dry run stays, with its lookups).
        if fresh && let Some(journal) = runner.run.journal.take() {
            journal.discard();
        }
        return outcome.map(|()| OK);
    }
    let lines = report::build(
        &runner.entries,
        &runner.run.state,
        &setup(args, method, None),
    );
    let code = match &outcome {
        Ok(()) => exit_code(&lines),
        Err(f) => f.code,
    };
    if outcome.is_ok() {
        runner.finish(code)?;
    }
    let lines = write_report(&runner, &prep, args)?;
    print_outcome(&prep, &runner, &lines, format, args)?;
    ui::note(format!(
        "{} in {}; report: {}",
        if outcome.is_ok() {
            "finished"
        } else {
            "stopped"
        },
        format_elapsed(started.elapsed()),
        prep.report_path.display()
    ));
    outcome
        .map(|()| code)
        .map_err(|failure| journaled::stopped(&prep.journal_path, failure))
}

/// The exit code of a finished run: 7 if a user was not signed out, 8 if every user was but
/// some lines named nobody (or the token's own user, left out), 0 otherwise.
pub fn exit_code(lines: &[Line]) -> u8 {
    if lines.iter().any(|l| l.result.is_failure()) {
        PARTIAL
    } else if lines.iter().any(|l| l.result.is_unused()) {
        LINES_UNUSED
    } else {
        OK
    }
}

/// Opens (and locks) the journal. One of another run is refused if that run changed
/// something; if it changed nothing it gives way, keeping its lookups when it read the same
/// input in the same org. Returns the records to go on from, and whether the file is new.
fn open_journal(prep: &Prepared) -> Result<(Journal, Vec<Record>, bool)> {
    let fresh = !prep.journal_path.exists();
    let (mut journal, records) = Journal::open(&prep.journal_path)?;
    let Some(first) = records.first() else {
        return Ok((journal, records, fresh));
    };
    let Err(refusal) = check_same_run(&prep.journal_path, first, &prep.start) else {
        return Ok((journal, records, fresh));
    };
    if !RunState::replay(&records).calls.is_empty() {
        return Err(refusal);
    }
    ui::note(format!(
        "the journal {} is of another run that changed nothing; starting over",
        prep.journal_path.display()
    ));
    let same_lookups = match (first, &prep.start) {
        (
            Record::Start {
                input_sha256: a,
                org_id: org_a,
                options: o_a,
                ..
            },
            Record::Start {
                input_sha256: b,
                org_id: org_b,
                options: o_b,
                ..
            },
        ) => a == b && org_a == org_b && o_a.api_url == o_b.api_url,
        _ => false,
    };
    let kept: Vec<Record> = if same_lookups {
        records
            .into_iter()
            .filter(|r| matches!(r, Record::Resolved { .. } | Record::Known { .. }))
            .collect()
    } else {
        Vec::new()
    };
    journal.clear()?;
    let mut records = Vec::with_capacity(kept.len() + 1);
    records.push(prep.start.clone());
    journal.append(&prep.start)?;
    for r in kept {
        journal.append(&r)?;
        records.push(r);
    }
    journal.sync()?;
    Ok((journal, records, fresh))
}

/// Sets `flag` on Ctrl-C (a second Ctrl-C, or one at the prompt, ends the program at once).
pub async fn catch_ctrl_c(flag: Arc<AtomicBool>) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    if ui::prompting() {
        eprintln!();
        ui::warn("interrupted at the prompt; nothing was changed");
        std::process::exit(i32::from(crate::exit::INTERRUPTED));
    }
    flag.store(true, Ordering::SeqCst);
    ui::warn(
        "stopping after the call in progress (Ctrl-C again to stop at once; the journal is safe either way)",
    );
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(i32::from(crate::exit::INTERRUPTED));
    }
}

fn setup(args: &OffboardArgs, method: &str, plan: Option<Plan>) -> Setup {
    Setup {
        method: method.to_owned(),
        verified: !args.no_verify,
        verify_timeout: format_secs(args.verify_timeout.as_secs()),
        plan,
    }
}

/// Lines that name no user to sign out: invalid, or an email no user has.
fn unusable(runner: &Runner) -> usize {
    runner
        .entries
        .iter()
        .filter(|e| match &e.kind {
            input::Kind::Invalid(_) => true,
            input::Kind::Email(email) => matches!(
                runner.run.state.resolved.get(&email.to_ascii_lowercase()),
                Some(None)
            ),
            input::Kind::Id(_) => false,
        })
        .count()
}

/// Users the input names who are held back, each once.
fn held(runner: &Runner) -> Vec<(UserId, Hold)> {
    let mut seen = std::collections::HashSet::new();
    runner
        .named()
        .filter_map(|u| runner.run.state.hold(&u).map(|h| (u, h)))
        .filter(|(u, _)| seen.insert(u.clone()))
        .collect()
}

/// Resolve, confirm, settle, reset, verify.
async fn carry_out(runner: &mut Runner, prep: &Prepared, args: &OffboardArgs) -> Result<()> {
    runner.resolve().await?;
    let order = runner.users();
    let to_do = runner
        .run
        .state
        .select(&order, |s| {
            matches!(s, UserState::Pending | UserState::InFlight { .. })
        })
        .len();
    if to_do > 0 && !args.yes {
        let question = confirmation(prep, runner, &order, to_do, args);
        if !ui::confirm(&question)? {
            return Err(Failure::usage("not confirmed; nothing was changed"));
        }
    }
    runner.settle_in_flight(&order).await?;
    runner.reset(&order).await?;
    // Users of a call Slack answered `failed_for_some_users` are verified one by one even
    // with --no-verify: the answer does not say which of them were signed out.
    runner.verify(&order, args.no_verify).await?;
    Ok(())
}

fn confirmation(
    prep: &Prepared,
    runner: &Runner,
    order: &[UserId],
    to_do: usize,
    args: &OffboardArgs,
) -> String {
    let scope = match args.scope.name() {
        "mobile" => "their mobile sessions",
        "web" => "their web and desktop sessions",
        _ => "all their sessions",
    };
    let calls = if args.one_by_one {
        format!("{} reset calls", thousands(to_do))
    } else {
        format!(
            "{} resetBulk call(s)",
            thousands(to_do.div_ceil(args.batch_size as usize))
        )
    };
    let done = order.len() - to_do;
    let resumed = if done > 0 {
        format!(
            "Resuming: {} of {} users done. ",
            thousands(done),
            thousands(order.len())
        )
    } else {
        String::new()
    };
    let column = match &prep.input.column {
        Some(c) => format!(" Users from column {}.", c.describe()),
        None => String::new(),
    };
    let skipped = match unusable(runner) {
        0 => String::new(),
        n => format!(
            " {} line(s) name no user: they are only reported.",
            thousands(n)
        ),
    };
    let held = held(runner);
    let held = if held.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = held
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
        "{resumed}About to sign out {} user(s) of {} ({}) from {scope}, with {calls}.{column}{skipped}{held} \
         Go ahead?",
        thousands(to_do),
        prep.me.team,
        org_of(&prep.me),
    )
}

async fn dry_run(
    runner: &mut Runner,
    prep: &Prepared,
    args: &OffboardArgs,
    format: Format,
) -> Result<u8> {
    if !runner.run.state.calls.is_empty() {
        ui::note(format!(
            "a run is kept in {}: showing what resuming it would do",
            prep.journal_path.display()
        ));
    }
    runner.resolve().await?;
    runner.run.sync()?;
    let order = runner.users();
    let to_do: Vec<UserId> = runner
        .run
        .state
        .select(&order, |s| {
            matches!(s, UserState::Pending | UserState::InFlight { .. })
        })
        .into_iter()
        .cloned()
        .collect();
    let mut plan = Plan::default();
    if !to_do.is_empty() {
        ui::note(format!(
            "counting the current sessions of {} user(s)",
            thousands(to_do.len())
        ));
        // Users given by ID are not known from a lookup: a list call of their own tells
        // whether Slack would refuse them (a bot, another org's user) and counts them.
        let (by_id, looked_up): (Vec<UserId>, Vec<UserId>) = to_do
            .iter()
            .cloned()
            .partition(|u| !runner.run.state.facts.contains_key(u));
        for u in &by_id {
            match runner.verifier.count_one(u).await {
                Ok(n) => {
                    plan.sessions_now.insert(u.clone(), n);
                }
                Err(e) => match e.code() {
                    Some(ErrorCode::BotsNotAllowed | ErrorCode::CannotResetBot) => {
                        plan.refused.insert(u.clone(), "cannot_reset_bot");
                    }
                    Some(ErrorCode::UserNotFound) => {
                        plan.refused.insert(u.clone(), "user_not_found");
                    }
                    _ => return Err(Failure::api(format!("cannot list the sessions of {u}"), &e)),
                },
            }
        }
        let counted = runner
            .verifier
            .count(&looked_up)
            .await
            .map_err(|e| Failure::api("cannot list sessions", &e))?;
        plan.sessions_now.extend(counted);
    }
    let planned: Vec<&UserId> = to_do
        .iter()
        .filter(|u| !plan.refused.contains_key(*u))
        .collect();
    let size = if args.one_by_one {
        1
    } else {
        args.batch_size as usize
    };
    let calls = planned.len().div_ceil(size);
    for (i, chunk) in planned.chunks(size).enumerate() {
        for u in chunk {
            plan.call_of.insert((*u).clone(), (i + 1, calls));
        }
    }
    // Users in flight are shown as planned: a resumed run checks them before sending.
    for u in &to_do {
        runner.run.state.users.insert(u.clone(), UserState::Pending);
    }
    let lines = report::build(
        &runner.entries,
        &runner.run.state,
        &setup(args, prep.method, Some(plan)),
    );
    print_outcome(prep, runner, &lines, format, args)?;
    ui::note(format!(
        "dry run: nothing was changed and no report was written; the lookups are kept in {} for the run",
        prep.journal_path.display()
    ));
    Ok(OK)
}

fn info<'a>(prep: &'a Prepared, runner: &'a Runner, args: &'a OffboardArgs) -> RunInfo<'a> {
    RunInfo {
        input: &args.file,
        org_name: &prep.me.team,
        org_id: org_of(&prep.me).to_string(),
        method: prep.method,
        scope: args.scope.name(),
        dry_run: args.dry_run,
        calls: &runner.run.state.calls,
        report_path: &prep.report_path,
        journal_path: &prep.journal_path,
        column: prep.input.column.as_ref(),
    }
}

fn print_outcome(
    prep: &Prepared,
    runner: &Runner,
    lines: &[Line],
    format: Format,
    args: &OffboardArgs,
) -> Result<()> {
    report::print(&info(prep, runner, args), lines, format)
}

fn write_report(runner: &Runner, prep: &Prepared, args: &OffboardArgs) -> Result<Vec<Line>> {
    let lines = report::build(
        &runner.entries,
        &runner.run.state,
        &setup(args, prep.method, None),
    );
    let bytes = report::render(
        prep.report_format,
        &report::document(&info(prep, runner, args), &lines),
    )?;
    report::write(&prep.report_path, &bytes)?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_sits_next_to_the_report() {
        assert_eq!(
            journal_path(std::path::Path::new("out/leavers.report.csv")),
            PathBuf::from("out/leavers.report.csv.journal")
        );
    }
}
