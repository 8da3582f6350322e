//! Policy enforcement: each round walks the org's sessions once, judges each against a
//! policy's rules ([`rules`]), decides within the guardrails ([`mod@decide`]) and acts through the
//! journal; every decision goes to the audit log ([`audit`]). The caller drives the rounds
//! (once, or every interval until a stop).
//!
//! What a run remembers between rounds and across runs is split by lifetime:
//! - the **journal** (beside the audit log) holds what a resumed run needs: decisions whose
//!   outcome is not in the audit log yet, and calls whose answer was lost. It is compacted as
//!   it grows, so memory and replay time stay flat for a run of months;
//! - the **guardrails ledger** ([`crate::guardrails`]) holds the actions of the last hour (or
//!   the longest cooldown) in the org under this policy, whichever run took them.

pub mod audit;
pub mod decide;
pub mod policy;
pub mod rules;
pub mod state;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::ListArgs;

use self::audit::Audit;
use self::decide::{Candidate, Decision, Round, decide};
use self::policy::{Action, Policy};
use self::rules::{breaks, first_breach};
use self::state::{DecisionResult, Reason, Record, State};
use crate::Context;
use crate::base::Base;
use crate::calls::Ended;
use crate::error::Result;
use crate::filter::Filter;
use crate::guardrails::{History, Ledger};
use crate::journal::{Header, RunKind, identity, now_ms, path_beside};
use crate::journaled::Journaled;
use crate::org::Org;
use crate::users::Directory;

/// What an enforcement does, resolved from the command line.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The policy.
    pub policy: Policy,
    /// The policy file as given.
    pub policy_path: PathBuf,
    /// Its text (the run's input).
    pub policy_text: String,
    /// What names the policy for the guardrails ledger (its canonical path): a second audit
    /// log of the same policy shares its cooldowns and caps.
    pub policy_key: String,
    /// The JSON-lines audit log (the journal beside it).
    pub audit_log: PathBuf,
    /// Where the guardrails ledger lives.
    pub state_dir: PathBuf,
    /// Rounds repeat this often (for the audit log's record of the run).
    pub watch: Option<Duration>,
    /// Archive an unfinished run of the journal and start over.
    pub fresh: bool,
}

impl Plan {
    fn header(&self, org: &Org, api_url: &str) -> Header {
        Header::new(
            RunKind::Enforce,
            self.policy_path.display().to_string(),
            self.policy_text.as_bytes(),
            BTreeMap::new(),
            org,
            api_url,
        )
    }

    /// The longest cooldown: how long the guardrails remember each action (the hourly cap
    /// keeps counts of its own).
    fn cooldown_ms(&self) -> u64 {
        let g = &self.policy.guardrails;
        self.policy
            .rules
            .iter()
            .filter_map(|r| r.cooldown)
            .chain([g.cooldown])
            .map(|d| d.as_millis() as u64)
            .max()
            .unwrap_or(0)
    }
}

/// One decision as printed and logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    /// The session.
    pub session_id: u64,
    /// Its user.
    pub user_id: String,
    /// The user's email.
    pub email: String,
    /// The rule it breaks.
    pub rule: String,
    /// Why.
    pub why: String,
    /// `invalidate`, `reset` or `none`.
    pub action: String,
    /// `planned`, `held`, `done`, `failed`, `pending`.
    pub result: String,
    /// Why, in words.
    pub detail: String,
}

/// The columns of a round's decisions.
pub const COLUMNS: [crate::report::Column; 8] = {
    use crate::report::col;
    [
        col("SESSION", "session_id"),
        col("USER", "user_id"),
        col("EMAIL", "email"),
        col("RULE", "rule"),
        col("WHY", "why"),
        col("ACTION", "action"),
        col("RESULT", "result"),
        col("DETAIL", "detail"),
    ]
};

/// What a round did.
#[derive(Debug, Clone)]
pub struct Acted {
    /// Every decision, with what came of it.
    pub lines: Vec<Line>,
    /// Actions Slack refused.
    pub failed: usize,
    /// A stop cut the round short.
    pub stopped: bool,
}

/// An enforcement under way.
#[derive(Debug)]
pub struct Enforcement {
    base: Base<State>,
    plan: Plan,
    ledger: Ledger,
    audit: Audit,
    /// The decisions held at the last round, by session and rule: the kind of hold, and the
    /// line logged when it began. A hold is logged when it begins (or changes kind) and when
    /// it ends, not every round; a new run logs the holds it finds once more.
    held: HashMap<(u64, usize), (&'static str, Line)>,
}

impl Enforcement {
    /// Opens the run: the journal beside the audit log (by the rules of [`identity`]), the
    /// guardrails ledger and the audit log; settles what a stopped run left open and logs the
    /// outcomes it did not.
    pub async fn open(ctx: &Context, plan: Plan) -> Result<Enforcement> {
        let org = Org::of(&ctx.client).await?;
        let api_url = ctx.client.base_url().to_owned();
        let header = plan.header(&org, &api_url);
        // The audit log is opened last, but refused (a link, not JSON lines) before the
        // journal and the ledger are touched.
        audit::check(&plan.audit_log)?;
        let run = Journaled::open(
            &path_beside(&plan.audit_log),
            header,
            plan.fresh,
            &ctx.events,
        )?;
        let ledger = Ledger::open(
            &plan.state_dir,
            &org,
            &plan.policy_key,
            &api_url,
            plan.cooldown_ms(),
        )?;
        let audit = Audit::open(&plan.audit_log)?;
        audit.reopen_on_hangup();
        let team = org.id.clone();
        let mut e = Enforcement {
            base: Base::new(ctx, org, team, run),
            plan,
            ledger,
            audit,
            held: HashMap::new(),
        };
        let settled = e.base.writer.settle_open(&mut e.base.run).await?;
        if settled > 0 {
            e.base.ctx.events.note(format!(
                "checked {settled} action(s) whose answer the last run did not get, before anything else"
            ));
        }
        e.close_open()?;
        e.audit.write(json!({
            "event": "start", "policy": e.plan.policy_path.display().to_string(),
            "rules": e.plan.policy.rules.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            "warnings": e.plan.policy.warnings,
            "watch_secs": e.plan.watch.map(|d| d.as_secs()),
        }))?;
        Ok(e)
    }

    /// Closes the decisions a stopped run left open whose outcome is known: each is logged
    /// once (a run stopped between its log line and its close logged it already), and one
    /// that did not take effect no longer counts for the cooldown.
    fn close_open(&mut self) -> Result<()> {
        let open: HashSet<u64> = self.base.run.state.open.keys().copied().collect();
        // A decision's line can only have been logged after its first call's intent; one
        // with no call yet has no line to look for.
        let made = open
            .iter()
            .filter_map(|d| self.base.run.calls.step(*d).map(|s| s.at_ms))
            .min();
        let logged = match made {
            Some(made) => audit::logged_decisions(&self.plan.audit_log, &open, made)?,
            None => HashSet::new(),
        };
        let mut numbers: Vec<u64> = open.into_iter().collect();
        numbers.sort_unstable();
        for d in numbers {
            let result = self.base.run.state.result(d, &self.base.run.calls);
            if result == DecisionResult::Unknown {
                continue;
            }
            let Some(o) = self.base.run.state.open.get(&d).cloned() else {
                continue;
            };
            let last = o.steps.last().and_then(|s| self.base.run.calls.step(*s));
            if last.is_none_or(|s| s.is_void()) {
                self.ledger.void(o.ledger)?;
            }
            let logged_line = match result {
                DecisionResult::Done(how) => Some(("done", format!("{} {how}", o.reason.action))),
                DecisionResult::Failed(code) => Some(("failed", code)),
                DecisionResult::NotCarriedOut | DecisionResult::Unknown => None,
            };
            if let Some((result, detail)) = logged_line
                && !logged.contains(&d)
            {
                let line = reason_line(&o.reason, result, detail);
                log_decision(&mut self.audit, &line, 0, Some(d))?;
            }
            self.base.run.run(Record::Closed { decision: d })?;
        }
        self.base.run.sync()
    }

    /// The org the token acts in.
    pub fn org(&self) -> &Org {
        &self.base.org
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// One walk of the org: the sessions that break a rule, decided within the guardrails.
    pub async fn judge(&mut self) -> Result<Round> {
        // The users are read afresh each round: a run of months sees who joined or changed.
        let b = &mut self.base;
        b.directory = directory(&b.ctx, &b.org);
        let history = self.ledger.history();
        evaluate(&b.ctx, &self.plan.policy, &b.org, history, &mut b.directory).await
    }

    /// Takes a round's actions, logging each decision and the round; returns the lines.
    pub async fn act(&mut self, round: &Round, number: u64) -> Result<Acted> {
        let mut lines = Vec::with_capacity(round.decisions.len());
        let mut failed = 0;
        let mut stopped = false;
        let now = now_ms();
        let policy = self.plan.policy.clone();
        let mut held = HashMap::new();
        for d in &round.decisions {
            let l = match &d.outcome {
                Err(h) => {
                    let l = line(&policy, d, "held", h.describe(now));
                    let key = (d.candidate.session.session_id.0, d.candidate.breach.rule);
                    let began = self.held.remove(&key).is_none_or(|(k, _)| k != h.kind());
                    if began {
                        log_decision(&mut self.audit, &l, number, None)?;
                    }
                    held.insert(key, (h.kind(), l.clone()));
                    l
                }
                Ok(_) if stopped || self.base.ctx.stop.asked() => {
                    stopped = true;
                    let l = line(&policy, d, "pending", "stopped before this action".into());
                    log_decision(&mut self.audit, &l, number, None)?;
                    l
                }
                Ok(action) => {
                    let (l, refused) = self.take(&policy, d, *action, number).await?;
                    failed += usize::from(refused);
                    l
                }
            };
            lines.push(l);
        }
        self.log_holds_ended(round, held, number)?;
        self.audit.write(json!({
            "event": "round", "round": number, "sessions": round.total,
            "breaches": round.decisions.len(), "actions": round.actions().count(),
            "failed": failed, "breaker": round.breaker, "stopped": stopped,
        }))?;
        self.audit.sync()?;
        self.base.run.sync()?;
        self.base.run.compact()?;
        self.ledger.compact()?;
        Ok(Acted {
            lines,
            failed,
            stopped,
        })
    }

    /// Logs the end of each hold of the last round that this round does not hold (`held`),
    /// and keeps this round's.
    fn log_holds_ended(
        &mut self,
        round: &Round,
        held: HashMap<(u64, usize), (&'static str, Line)>,
        number: u64,
    ) -> Result<()> {
        let ended = std::mem::replace(&mut self.held, held);
        let acted: HashSet<u64> = round
            .actions()
            .map(|(c, _)| c.session.session_id.0)
            .collect();
        let mut ended: Vec<_> = ended.into_iter().collect();
        ended.sort_unstable_by_key(|(key, _)| *key);
        for ((session, _), (_, l)) in ended {
            let detail = if acted.contains(&session) {
                "no longer held: this round acts on it"
            } else {
                "no longer held: the session is gone, or no longer breaks this rule first"
            };
            let mut event = serde_json::to_value(&l).unwrap_or_default();
            if let Value::Object(m) = &mut event {
                m.insert("event".into(), "hold_end".into());
                m.insert("result".into(), "released".into());
                m.insert("detail".into(), detail.into());
                m.insert("round".into(), number.into());
            }
            self.audit.write(event)?;
        }
        Ok(())
    }

    /// Takes one action: its ledger entry and decision first, then the call, then its line in
    /// the audit log and the decision's close. Returns the line and whether Slack refused.
    async fn take(
        &mut self,
        policy: &Policy,
        d: &Decision,
        action: Action,
        round: u64,
    ) -> Result<(Line, bool)> {
        let c = &d.candidate;
        let s = &c.session;
        let decision = self.base.run.calls.next_step();
        let ledger = self.ledger.taken(&s.user_id)?;
        self.base.run.run(Record::Decided {
            decision,
            ledger,
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
            Action::Invalidate => {
                self.base
                    .writer
                    .end_session(&mut self.base.run, s.session_id.0, &s.user_id)
                    .await?
            }
            Action::Reset => {
                self.base
                    .writer
                    .reset_user(&mut self.base.run, &s.user_id)
                    .await?
            }
        };
        let (l, refused) = match &ended {
            Ended::Done => (
                line(policy, d, "done", format!("{} sent", action.as_str())),
                false,
            ),
            Ended::AlreadyGone => (
                line(
                    policy,
                    d,
                    "done",
                    "had ended already (session_not_found)".into(),
                ),
                false,
            ),
            Ended::Refused(code) => (line(policy, d, "failed", code.clone()), true),
        };
        if ended != Ended::Done {
            self.ledger.void(ledger)?;
        }
        log_decision(&mut self.audit, &l, round, Some(decision))?;
        self.base.run.run(Record::Closed { decision })?;
        Ok((l, refused))
    }

    /// Leaves the run before it changed anything (declined at the prompt): a journal this run
    /// created goes.
    pub fn decline(mut self) {
        self.base.run.discard();
    }

    /// Ends the run: its last line in the audit log, and, if `complete` (it stopped between
    /// rounds or after its last), the journal's end, so the same command starts a new run.
    pub fn finish(mut self, exit_code: u8, complete: bool) -> Result<()> {
        self.base.run.sync()?;
        self.audit
            .write(json!({"event": "stop", "exit_code": exit_code}))?;
        self.audit.sync()?;
        if complete {
            self.base.run.finish()?;
        }
        Ok(())
    }
}

fn directory(ctx: &Context, org: &Org) -> Directory {
    Directory::new(
        &ctx.client,
        org.id.clone(),
        ctx.events.clone(),
        ctx.stop.clone(),
    )
}

/// One walk of the org: the sessions that break a rule, decided within the guardrails.
async fn evaluate(
    ctx: &Context,
    policy: &Policy,
    org: &Org,
    history: &History,
    directory: &mut Directory,
) -> Result<Round> {
    let mut total = 0u64;
    let mut per_user: HashMap<UserId, u64> = HashMap::new();
    let mut found = Vec::new();
    // The rules no session has broken yet: each session is judged against these too, which
    // costs no more than judging it against every rule, and less as they match.
    let mut unmatched: Vec<usize> = (0..policy.rules.len()).collect();
    crate::filter::walk(
        &ctx.client,
        &Filter::default(),
        ListArgs::new().limit(1000),
        async |s| {
            total += 1;
            *per_user.entry(s.user_id.clone()).or_default() += 1;
            unmatched.retain(|r| breaks(&policy.rules[*r], &s).is_none());
            if let Some(breach) = first_breach(policy, &s) {
                found.push((s, breach));
            }
            Ok(true)
        },
    )
    .await?;
    // Emails: for email exemptions, and to say whose sessions they are.
    let mut candidates = Vec::with_capacity(found.len());
    for (session, breach) in found {
        let email = directory
            .person(&session.user_id)
            .await?
            .and_then(|p| p.email);
        candidates.push(Candidate {
            session,
            breach,
            email,
        });
    }
    let mut round = decide(
        policy,
        candidates,
        total,
        history,
        &per_user,
        &org.me.user_id,
        now_ms(),
    );
    round.unmatched = unmatched;
    Ok(round)
}

fn reason_line(r: &Reason, result: &str, detail: String) -> Line {
    Line {
        session_id: r.session_id,
        user_id: r.user_id.to_string(),
        email: r.email.clone().unwrap_or_default(),
        rule: r.rule.clone(),
        why: r.why.clone(),
        action: r.action.clone(),
        result: result.to_owned(),
        detail,
    }
}

fn line(policy: &Policy, d: &Decision, result: &str, detail: String) -> Line {
    let c = &d.candidate;
    Line {
        session_id: c.session.session_id.0,
        user_id: c.session.user_id.to_string(),
        email: c.email.clone().unwrap_or_default(),
        rule: policy.rules[c.breach.rule].name.clone(),
        why: c.breach.why.clone(),
        action: match &d.outcome {
            Ok(a) => a.as_str().to_owned(),
            Err(_) => "none".to_owned(),
        },
        result: result.to_owned(),
        detail,
    }
}

/// A round's decisions as a dry run (or the confirmation before a run) shows them.
pub fn planned(policy: &Policy, round: &Round) -> Vec<Line> {
    let now = now_ms();
    round
        .decisions
        .iter()
        .map(|d| match &d.outcome {
            Ok(a) => line(policy, d, "planned", format!("would {}", a.as_str())),
            Err(h) => line(policy, d, "held", h.describe(now)),
        })
        .collect()
}

/// Appends a decision to the audit log: its line, its round, and (for an action) its number.
fn log_decision(audit: &mut Audit, l: &Line, round: u64, decision: Option<u64>) -> Result<()> {
    let mut event = serde_json::to_value(l).unwrap_or_default();
    if let Value::Object(m) = &mut event {
        m.insert("event".into(), "decision".into());
        m.insert("round".into(), round.into());
        if let Some(d) = decision {
            m.insert("decision".into(), d.into());
        }
    }
    audit.write(event)
}

/// The dry run: exactly the round a run would take now, and nothing taken. It refuses what
/// the run would refuse, and reads the guardrails ledger without locking it.
pub async fn dry_run(ctx: &Context, plan: &Plan) -> Result<Round> {
    let org = Org::of(&ctx.client).await?;
    let api_url = ctx.client.base_url().to_owned();
    let header = plan.header(&org, &api_url);
    identity::check::<Record>(
        &path_beside(&plan.audit_log),
        &header,
        plan.fresh,
        &ctx.events,
    )?;
    audit::check(&plan.audit_log)?;
    let history = Ledger::peek(
        &plan.state_dir,
        &org,
        &plan.policy_key,
        &api_url,
        plan.cooldown_ms(),
    )?;
    let mut users = directory(ctx, &org);
    evaluate(ctx, &plan.policy, &org, &history, &mut users).await
}
