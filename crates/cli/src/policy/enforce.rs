//! `enforce POLICY.toml`: each round walks the org's sessions once, judges each against the
//! rules, decides within the guardrails ([`super::plan`]) and acts through the journal (offboarding's,
//! via [`Ender`]); every decision goes to the audit log. With `--watch` rounds repeat until
//! Ctrl-C or SIGTERM, which stop it after the call in progress.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use slack_sessions_client::Client;
use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::{AuthTestResponse, ListArgs};

use super::audit::{self, Audit};
use super::file::{Action, Policy};
use super::plan::{Candidate, Decision, Plan, decide};
use super::rules::first_breach;
use crate::cli::{EnforceArgs, Global};
use crate::commands::{org_of, who};
use crate::exit::{Failure, INTERRUPTED, OK, PARTIAL, Result};
use crate::inventory::bulk::ender::{Ended, Ender};
use crate::inventory::bulk::state::{DecisionResult, SessionRun};
use crate::inventory::filter::Filter;
use crate::inventory::names::Directory;
use crate::journal::journal_path;
use crate::journal::{self, Journal, Options, Reason, Record, VERSION, now_ms};
use crate::journaled::{Journaled, Replay};
use crate::output::{Column, Format, ListPrinter, col, thousands, write_failed};
use crate::{connect, ui};

/// The columns of a round's decisions.
const COLUMNS: [Column; 8] = [
    col("SESSION", "session_id"),
    col("USER", "user_id"),
    col("EMAIL", "email"),
    col("RULE", "rule"),
    col("WHY", "why"),
    col("ACTION", "action"),
    col("RESULT", "result"),
    col("DETAIL", "detail"),
];

/// One decision as printed and logged.
#[derive(Debug, Clone)]
struct Line {
    session_id: u64,
    user_id: String,
    email: String,
    rule: String,
    why: String,
    action: String,
    result: String,
    detail: String,
}

impl Line {
    fn json(&self) -> Value {
        json!({
            "session_id": self.session_id, "user_id": self.user_id, "email": self.email,
            "rule": self.rule, "why": self.why, "action": self.action,
            "result": self.result, "detail": self.detail,
        })
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.session_id.to_string(),
            self.user_id.clone(),
            self.email.clone(),
            self.rule.clone(),
            self.why.clone(),
            self.action.clone(),
            self.result.clone(),
            self.detail.clone(),
        ]
    }
}

/// Set on Ctrl-C or SIGTERM.
fn catch_stop(flag: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        if ui::prompting() {
            eprintln!();
            ui::warn("interrupted at the prompt; nothing was changed");
            std::process::exit(i32::from(INTERRUPTED));
        }
        flag.store(true, Ordering::SeqCst);
        ui::warn("stopping after the call in progress (the journal is safe either way)");
    })
}

/// Runs `enforce`.
pub async fn run(global: &Global, args: &EnforceArgs, format: Format) -> Result<u8> {
    let (policy, text) = super::file::read(&args.policy)?;
    if args.watch.is_some() && !args.yes && !args.dry_run {
        return Err(Failure::usage(
            "--watch acts unattended: give --yes (check the actions first with --dry-run)",
        ));
    }
    let audit_path = args
        .audit_log
        .clone()
        .unwrap_or_else(|| audit::default_path(&args.policy));
    let journal_path = journal_path(&audit_path);
    let client = connect::client(global)?;
    let me = who(&client).await?;
    let start = start_record(&client, &me, args, &text);
    if args.dry_run {
        let records = journal::read(&journal_path)?.unwrap_or_default();
        same_org(&journal_path, &records, &start)?;
        let state = SessionRun::replay(&records);
        let plan = evaluate(&client, &policy, &me, &state).await?;
        let lines = plan_lines(&policy, &plan, now_ms());
        print_round(1, &plan, &lines, format, true)?;
        ui::note("dry run: nothing was changed; these are the actions a run would take now");
        return Ok(OK);
    }
    let (journal, records) = Journal::open(&journal_path)?;
    same_org(&journal_path, &records, &start)?;
    let writer =
        client.with_retry_policy(connect::retry_policy(global).retry_ambiguous_writes(false));
    let mut ender = Ender {
        reader: client.clone(),
        writer,
        org: org_of(&me),
        run: Journaled::resume(Some(journal), &records),
    };
    ender.run.record(start)?;
    let logged = audit::logged_decisions(&audit_path)?;
    let mut audit = Audit::open(&audit_path)?;
    let stop = Arc::new(AtomicBool::new(false));
    let catcher = catch_stop(Arc::clone(&stop));
    let outcome = rounds(
        &mut ender, &mut audit, &logged, &client, &policy, &me, args, format, &stop,
    )
    .await;
    catcher.abort();
    ender.run.sync()?;
    audit.write(
        json!({"event": "stop", "exit_code": outcome.as_ref().map_or_else(|f| f.code, |c| *c)}),
    )?;
    audit.sync()?;
    outcome
}

fn start_record(client: &Client, me: &AuthTestResponse, args: &EnforceArgs, text: &str) -> Record {
    let sha: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Record::Start {
        version: VERSION,
        tool: concat!("slack-sessions ", env!("CARGO_PKG_VERSION")).to_owned(),
        input: args.policy.display().to_string(),
        input_sha256: sha,
        options: Options {
            method: "enforce".into(),
            batch_size: 1,
            scope: "all".into(),
            team: None,
            api_url: client.base_url().to_owned(),
            column: None,
            include_self: false,
        },
        org_id: org_of(me).to_string(),
        admin_user_id: me.user_id.to_string(),
        at_ms: now_ms(),
    }
}

/// A journal of enforcement in another org (or against another API) is refused; one of
/// another policy is fine (a policy is edited over time; cooldowns and caps carry on).
fn same_org(path: &std::path::Path, records: &[Record], now: &Record) -> Result<()> {
    let (
        Some(Record::Start {
            org_id: a,
            options: oa,
            ..
        }),
        Record::Start {
            org_id: b,
            options: ob,
            ..
        },
    ) = (records.first(), now)
    else {
        return Ok(());
    };
    if oa.method != "enforce" {
        return Err(Failure::usage(format!(
            "the journal {} is not enforcement's (it is of {}): give another --audit-log",
            path.display(),
            oa.method
        )));
    }
    if a != b || oa.api_url != ob.api_url {
        return Err(Failure::usage(format!(
            "the journal {} is of enforcement in another org or API (journal: {a} at {}, now: {b} at {})",
            path.display(),
            oa.api_url,
            ob.api_url
        ))
        .hint("give another --audit-log for this org"));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn rounds(
    ender: &mut Ender,
    audit: &mut Audit,
    logged: &HashSet<u64>,
    client: &Client,
    policy: &Policy,
    me: &AuthTestResponse,
    args: &EnforceArgs,
    format: Format,
    stop: &Arc<AtomicBool>,
) -> Result<u8> {
    let settled = ender.settle_in_flight().await?;
    if settled > 0 {
        ui::note(format!(
            "checked {settled} action(s) whose answer the last run did not get, before anything else"
        ));
    }
    // A decision is logged once its outcome is in; a run stopped in between left it out.
    for (d, reason) in &ender.run.state.decided {
        if logged.contains(d) {
            continue;
        }
        let Some(result) = ender.run.state.decision_results.get(d) else {
            continue; // not carried out: judged again this round
        };
        let (result, detail) = match result {
            DecisionResult::Done(how) => ("done", format!("{} {how}", reason.action)),
            DecisionResult::Failed(code) => ("failed", code.clone()),
        };
        let line = Line {
            session_id: reason.session_id,
            user_id: reason.user_id.to_string(),
            email: reason.email.clone().unwrap_or_default(),
            rule: reason.rule.clone(),
            why: reason.why.clone(),
            action: reason.action.clone(),
            result: result.to_owned(),
            detail,
        };
        log_decision(audit, &line, 0, Some(*d))?;
    }
    audit.write(
        json!({"event": "start", "policy": args.policy.display().to_string(),
        "rules": policy.rules.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        "watch_secs": args.watch.map(|d| d.as_secs())}),
    )?;
    let mut round = 0u64;
    loop {
        round += 1;
        let began = Instant::now();
        let plan = evaluate(client, policy, me, &ender.run.state).await?;
        if round == 1 && !args.yes && plan.actions().next().is_some() {
            let lines = plan_lines(policy, &plan, now_ms());
            print_round(round, &plan, &lines, format, true)?;
            let question = format!(
                "About to take the {} action(s) above in {} ({}). Go ahead?",
                plan.actions().count(),
                me.team,
                org_of(me)
            );
            if !ui::confirm(&question)? {
                return Err(Failure::usage("not confirmed; nothing was changed"));
            }
        }
        let (lines, failed, stopped) = act(ender, audit, policy, &plan, round, stop).await?;
        audit.write(
            json!({"event": "round", "round": round, "sessions": plan.total,
            "breaches": plan.decisions.len(), "actions": plan.actions().count(),
            "failed": failed, "breaker": plan.breaker, "stopped": stopped}),
        )?;
        audit.sync()?;
        ender.run.sync()?;
        print_round(round, &plan, &lines, format, false)?;
        if let Some(reason) = &plan.breaker {
            ui::warn(format!("circuit breaker: {reason}"));
        }
        let code = if plan.breaker.is_some() || failed > 0 {
            PARTIAL
        } else {
            OK
        };
        let Some(every) = args.watch else {
            return if stopped {
                Err(Failure::new(
                    INTERRUPTED,
                    "interrupted; the journal keeps what was done: run the same command again",
                ))
            } else {
                Ok(code)
            };
        };
        if stopped || !wait(every.saturating_sub(began.elapsed()), stop).await {
            ui::note(format!("stopped after {round} round(s)"));
            return Ok(OK);
        }
    }
}

/// Waits `d`, or less if a stop is asked for: `false` then.
async fn wait(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50).min(until - Instant::now())).await;
    }
    !stop.load(Ordering::SeqCst)
}

/// One walk of the org: the sessions that break a rule, decided within the guardrails.
async fn evaluate(
    client: &Client,
    policy: &Policy,
    me: &AuthTestResponse,
    state: &SessionRun,
) -> Result<Plan> {
    let mut total = 0u64;
    let mut per_user: HashMap<UserId, u64> = HashMap::new();
    let mut found = Vec::new();
    crate::inventory::walk(
        client,
        &Filter::default(),
        ListArgs::new().limit(1000),
        async |s| {
            total += 1;
            *per_user.entry(s.user_id.clone()).or_default() += 1;
            if let Some(breach) = first_breach(policy, &s) {
                found.push((s, breach));
            }
            Ok(true)
        },
    )
    .await?;
    // Emails: for email exemptions, and to say whose sessions they are.
    let mut directory = if !found.is_empty() {
        Directory::new(client, org_of(me))
    } else {
        Directory::none()
    };
    let mut candidates = Vec::with_capacity(found.len());
    for (session, breach) in found {
        let email = directory.get(&session.user_id).await?.email.clone();
        candidates.push(Candidate {
            session,
            breach,
            email,
        });
    }
    Ok(decide(
        policy,
        candidates,
        total,
        &state.history(),
        &per_user,
        &me.user_id,
        now_ms(),
    ))
}

fn line(policy: &Policy, d: &Decision, result: &str, detail: String) -> Line {
    let c = &d.candidate;
    let rule = &policy.rules[c.breach.rule];
    Line {
        session_id: c.session.session_id.0,
        user_id: c.session.user_id.to_string(),
        email: c.email.clone().unwrap_or_default(),
        rule: rule.name.clone(),
        why: c.breach.why.clone(),
        action: match &d.outcome {
            Ok(a) => a.as_str().to_owned(),
            Err(_) => "none".to_owned(),
        },
        result: result.to_owned(),
        detail,
    }
}

/// The decisions as a dry run shows them.
fn plan_lines(policy: &Policy, plan: &Plan, now: u64) -> Vec<Line> {
    plan.decisions
        .iter()
        .map(|d| match &d.outcome {
            Ok(a) => line(policy, d, "planned", format!("would {}", a.as_str())),
            Err(h) => line(policy, d, "held", h.describe(now)),
        })
        .collect()
}

/// Takes the plan's actions; returns the lines, the failures, and whether a stop cut it short.
async fn act(
    ender: &mut Ender,
    audit: &mut Audit,
    policy: &Policy,
    plan: &Plan,
    round: u64,
    stop: &AtomicBool,
) -> Result<(Vec<Line>, usize, bool)> {
    let mut lines = Vec::with_capacity(plan.decisions.len());
    let mut failed = 0;
    let mut stopped = false;
    let now = now_ms();
    for d in &plan.decisions {
        let mut decision = None;
        let l = match &d.outcome {
            Err(h) => line(policy, d, "held", h.describe(now)),
            Ok(_) if stopped || stop.load(Ordering::SeqCst) => {
                stopped = true;
                line(policy, d, "pending", "stopped before this action".into())
            }
            Ok(action) => {
                let s = &d.candidate.session;
                let c = &d.candidate;
                decision = Some(ender.run.state.next_step());
                ender.run.record(Record::Decided {
                    decision: ender.run.state.next_step(),
                    reason: Reason {
                        session_id: s.session_id.0,
                        user_id: s.user_id.clone(),
                        rule: policy.rules[c.breach.rule].name.clone(),
                        why: c.breach.why.clone(),
                        email: c.email.clone(),
                        action: action.as_str().to_owned(),
                    },
                })?;
                let ended = match action {
                    Action::Invalidate => ender.end(s).await?,
                    Action::Reset => ender.reset(&s.user_id).await?,
                };
                match ended {
                    Ended::Done => line(policy, d, "done", format!("{} sent", action.as_str())),
                    Ended::AlreadyGone => line(
                        policy,
                        d,
                        "done",
                        "had ended already (session_not_found)".into(),
                    ),
                    Ended::Refused(code) => {
                        failed += 1;
                        line(policy, d, "failed", code)
                    }
                }
            }
        };
        log_decision(audit, &l, round, decision)?;
        lines.push(l);
    }
    Ok((lines, failed, stopped))
}

/// Appends a decision to the audit log: its line, its round, and (for an action) its number.
fn log_decision(audit: &mut Audit, l: &Line, round: u64, decision: Option<u64>) -> Result<()> {
    let mut event = l.json();
    if let Value::Object(m) = &mut event {
        m.insert("event".into(), "decision".into());
        m.insert("round".into(), round.into());
        if let Some(d) = decision {
            m.insert("decision".into(), d.into());
        }
    }
    audit.write(event)
}

fn print_round(
    round: u64,
    plan: &Plan,
    lines: &[Line],
    format: Format,
    dry_run: bool,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = (|| -> std::io::Result<()> {
        use std::io::Write;
        match format {
            Format::Json => {
                let doc = json!({
                    "round": round, "dry_run": dry_run, "sessions": plan.total,
                    "breaches": plan.decisions.len(), "breaker": plan.breaker,
                    "decisions": lines.iter().map(Line::json).collect::<Vec<_>>(),
                });
                serde_json::to_writer_pretty(&mut out, &doc).map_err(std::io::Error::from)?;
                writeln!(out)?;
            }
            Format::Ndjson | Format::Csv => {
                let mut printer = ListPrinter::new(format, &COLUMNS, &mut out);
                for l in lines {
                    printer.push(&l.json(), l.cells())?;
                }
                printer.finish(None, "")?;
            }
            Format::Table => {
                let acted = lines.iter().filter(|l| l.action != "none").count();
                writeln!(
                    out,
                    "round {round}{}: {} sessions, {} break a rule, {} {}",
                    if dry_run { " (dry run)" } else { "" },
                    thousands(plan.total as usize),
                    thousands(lines.len()),
                    thousands(acted),
                    if dry_run { "to act on" } else { "acted on" },
                )?;
                if let Some(reason) = &plan.breaker {
                    writeln!(out, "circuit breaker: {reason}")?;
                }
                if !lines.is_empty() {
                    let mut printer = ListPrinter::new(Format::Table, &COLUMNS, &mut out);
                    for l in lines {
                        printer.push(&Value::Null, l.cells())?;
                    }
                    printer.finish(None, "")?;
                }
            }
        }
        out.flush()
    })();
    result.map_err(write_failed)
}
