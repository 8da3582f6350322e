//! Offboarding: sign a list of users out everywhere, in bulk, and survive any interruption.
//!
//! 1. **Resolve**: emails and IDs are found with the org's
//!    [`Directory`](crate::users::Directory) (single calls, a walk of `users.list`, or both);
//!    each answer is journaled, so a resumed run asks nothing twice.
//! 2. **Reset**: `admin.users.session.resetBulk` in batches of at most 1,000 (or one
//!    `admin.users.session.reset` per user). A batch Slack refuses because of one user in it
//!    (the primary owner, a bot, an unknown ID) is split in halves until that user is found;
//!    the others are reset.
//! 3. **Verify**: `resetBulk` only queues a job, so each user's sessions are counted until
//!    none is left or the verification times out.
//! 4. **Report**: one row per input line: the user, what was done, the result, sessions left.
//!
//! Every call goes through the journal ([`crate::calls`]): an intent is synced before it, a
//! result after; a call whose answer was lost is settled by counting its users' sessions
//! before anything is sent again. The one case where a user is sent two resets is a user who
//! signed in again between the lost call and the check: the second reset is then needed for
//! the offboarding to hold.

pub mod input;
pub mod report;
pub mod state;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use slack_sessions_client::api::{ErrorCode, Method, TeamId, UserId};
use slack_sessions_client::batch::Batches;
use slack_sessions_client::methods::{Reset, ResetBulk};

use self::input::{Input, Kind, UserColumn};
use self::report::{Forecast, Line, Setup};
use self::state::{Facts, Record, State, UserState};
use crate::Context;
use crate::base::Base;
use crate::calls::{Answer, MAX_UNKNOWN_IN_A_ROW};
use crate::count::{CountBy, Counter};
use crate::duration::format_secs;
use crate::error::{Error, Result};
use crate::events::{Pace, Task};
use crate::journal::{Call, Devices, Header, RunKind, identity};
use crate::journaled::Journaled;
use crate::org::Org;
use crate::report::ReportPath;
use crate::text::thousands;
use crate::users::{Found, ResolveBy};

/// What an offboarding does, resolved from the command line.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The input file, read.
    pub input: Input,
    /// The input file as given.
    pub input_path: PathBuf,
    /// Where the report goes (the journal beside it).
    pub report: ReportPath,
    /// One `reset` per user instead of `resetBulk`.
    pub one_by_one: bool,
    /// Users per `resetBulk` call (1 to 1,000).
    pub batch_size: usize,
    /// Which sessions.
    pub devices: Devices,
    /// The team (or org) whose users are walked and with which sessions are listed (default:
    /// the token's org).
    pub team: Option<TeamId>,
    /// How long to wait for a user's sessions to be gone.
    pub verify_timeout: Duration,
    /// Whether sessions are counted after the reset.
    pub verify: bool,
    /// How they are counted.
    pub count_by: CountBy,
    /// How users are found.
    pub resolve_by: ResolveBy,
    /// Sign out the token's own user too.
    pub include_self: bool,
    /// Archive an unfinished run of the journal and start over.
    pub fresh: bool,
}

impl Plan {
    fn method(&self) -> &'static str {
        if self.one_by_one {
            Reset::NAME
        } else {
            ResetBulk::NAME
        }
    }

    fn batch(&self) -> usize {
        if self.one_by_one { 1 } else { self.batch_size }
    }

    /// The options that decide what the run does, by flag, for its identity.
    fn options(&self) -> BTreeMap<String, String> {
        let given = || "given".to_owned();
        let mut o = BTreeMap::new();
        if self.one_by_one {
            o.insert("--one-by-one".into(), given());
        } else {
            o.insert("--batch-size".into(), self.batch_size.to_string());
        }
        match self.devices {
            Devices::All => {}
            Devices::Mobile => {
                o.insert("--mobile-only".into(), given());
            }
            Devices::Web => {
                o.insert("--web-only".into(), given());
            }
        }
        if let Some(t) = &self.team {
            o.insert("--team".into(), t.to_string());
        }
        if let Some(c) = &self.input.column {
            o.insert("--column".into(), c.key());
        }
        if self.include_self {
            o.insert("--include-self".into(), given());
        }
        o
    }

    fn header(&self, org: &Org, api_url: &str) -> Header {
        Header::new(
            RunKind::Offboard,
            self.input_path.display().to_string(),
            self.input.sha256.as_bytes(),
            self.options(),
            org,
            api_url,
        )
    }
}

/// Why a user named in the input is not sent a reset: known before any reset, from
/// `auth.test` (the token's own user) and the lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    /// The token's own user, without `--include-self`.
    Myself,
    /// The primary owner: only their own token may sign them out.
    PrimaryOwner,
    /// A bot: Slack signs no bot out.
    Bot,
    /// Given by ID, but the token's org has no such user (another org's, or none).
    NotFound,
}

impl Hold {
    /// Why Slack would refuse to reset a user (not the token's own) whose record says `facts`.
    pub fn of(facts: Facts) -> Option<Hold> {
        if facts.bot {
            Some(Hold::Bot)
        } else if facts.primary_owner {
            Some(Hold::PrimaryOwner)
        } else {
            None
        }
    }

    /// Slack's error code for what a reset would get.
    pub fn code(self) -> &'static str {
        match self {
            Hold::Myself => "",
            Hold::PrimaryOwner => "cannot_reset_primary_owner",
            Hold::Bot => "cannot_reset_bot",
            Hold::NotFound => "user_not_found",
        }
    }
}

/// What a run is about to do, for the person to confirm.
#[derive(Clone, Debug)]
pub struct Preview {
    /// Users to sign out (or to check, for calls whose answer was lost).
    pub to_do: usize,
    /// Users the input names (each once), less those held back.
    pub users: usize,
    /// `resetBulk` or `reset` calls it takes.
    pub calls: usize,
    /// Lines that name nobody (invalid, or an email no user has).
    pub unusable: usize,
    /// Users held back, each once, with why.
    pub held: Vec<(UserId, Hold)>,
}

/// The outcome of a run (or a dry run), for printing.
#[derive(Clone, Debug)]
pub struct Report {
    /// One line per input line.
    pub lines: Vec<Line>,
    /// The input file as given.
    pub input: PathBuf,
    /// The org.
    pub org: Org,
    /// Slack's method name of the resets.
    pub method: &'static str,
    /// Which sessions.
    pub devices: Devices,
    /// State-changing calls made, by method.
    pub calls: BTreeMap<String, u64>,
    /// The input's column, for a file of several columns.
    pub column: Option<UserColumn>,
    /// The report's path (none for a dry run).
    pub report: Option<PathBuf>,
    /// The journal's path (none for a dry run).
    pub journal: Option<PathBuf>,
}

impl Report {
    /// The report as a JSON document.
    pub fn document(&self) -> report::Document<'_> {
        let counts = report::tally(&self.lines);
        report::Document {
            input: self.input.display().to_string(),
            org_id: self.org.id.to_string(),
            method: report::short(self.method),
            scope: self.devices.as_str().to_owned(),
            column: self.column.clone(),
            complete: !counts.keys().any(|s| s.is_open()),
            summary: counts.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
            lines: &self.lines,
        }
    }
}

/// An offboarding under way.
#[derive(Debug)]
pub struct Offboarding {
    base: Base<State>,
    plan: Plan,
    counter: Counter,
}

/// Sets up the parts of a run: its org, directory and counters.
async fn set_up(ctx: &Context, plan: &Plan) -> Result<(Org, TeamId)> {
    let org = Org::of(&ctx.client).await?;
    if let Some(team) = &plan.team {
        org.check_team(&ctx.client, team).await?;
    }
    let team = plan.team.clone().unwrap_or_else(|| org.id.clone());
    Ok((org, team))
}

impl Offboarding {
    /// Opens the run: checks the token and `--team`, and opens the journal beside the report
    /// by the rules of [`identity`] (a finished run's is archived; an unfinished run of the
    /// same command resumes; another's is refused).
    pub async fn open(ctx: &Context, plan: Plan) -> Result<Offboarding> {
        let (org, team) = set_up(ctx, &plan).await?;
        let header = plan.header(&org, ctx.client.base_url());
        let run = Journaled::open(&plan.report.journal(), header, plan.fresh, &ctx.events)?;
        Ok(Offboarding::with(ctx, plan, org, team, run))
    }

    fn with(ctx: &Context, plan: Plan, org: Org, team: TeamId, run: Journaled<State>) -> Self {
        let mut base = Base::new(ctx, org, team, run);
        base.writer = base.writer.job_wait(plan.verify_timeout);
        Offboarding {
            counter: base.writer.counter(plan.devices, plan.count_by),
            base,
            plan,
        }
    }

    /// Emails not looked up yet, each once.
    fn unresolved_emails(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.plan
            .input
            .entries
            .iter()
            .filter_map(|e| match &e.kind {
                Kind::Email(email) => Some(email.clone()),
                _ => None,
            })
            .filter(|email| {
                let key = email.to_ascii_lowercase();
                !self.base.run.state.resolved.contains_key(&key) && seen.insert(key)
            })
            .collect()
    }

    /// Users given by ID that no read has told of yet, each once.
    fn unknown_ids(&self) -> Vec<UserId> {
        let mut seen = HashSet::new();
        self.plan
            .input
            .entries
            .iter()
            .filter_map(|e| match &e.kind {
                Kind::Id(id) => Some(id.clone()),
                _ => None,
            })
            .filter(|id| {
                !self.base.run.state.facts.contains_key(id)
                    && !self.base.run.state.missing.contains(id)
                    && seen.insert(id.clone())
            })
            .collect()
    }

    /// Resolves every email not resolved yet, and reads every user given by ID (so the plan
    /// knows the primary owner, bots and other orgs' users before any reset). Each answer is
    /// journaled as it comes.
    pub async fn resolve(&mut self) -> Result<()> {
        let (emails, ids) = (self.unresolved_emails(), self.unknown_ids());
        let run = &mut self.base.run;
        self.base
            .directory
            .resolve(emails, ids, self.plan.resolve_by, &mut |found| {
                run.run(match found {
                    Found::Email {
                        email,
                        user,
                        listed,
                    } => Record::Resolved {
                        email,
                        facts: user.as_ref().map(Facts::from).unwrap_or_default(),
                        listed: listed && user.is_none(),
                        user_id: user.map(|p| p.id),
                    },
                    Found::Id { id, user } => Record::Known {
                        user_id: id,
                        found: user.is_some(),
                        facts: user.as_ref().map(Facts::from).unwrap_or_default(),
                    },
                })
            })
            .await?;
        self.base.run.sync()
    }

    /// Why a user is not sent a reset, if so. The token's own user may be the primary owner:
    /// then `--include-self` lets them be reset (the primary owner may reset themself).
    pub fn hold(&self, user: &UserId) -> Option<Hold> {
        hold(
            &self.base.run.state,
            user,
            &self.base.org.me.user_id,
            self.plan.include_self,
        )
    }

    /// The users the input's lines name, in input order, repeats included (an email not looked
    /// up yet, or that no user has, names nobody).
    fn named(&self) -> impl Iterator<Item = UserId> + '_ {
        self.plan
            .input
            .entries
            .iter()
            .filter_map(|e| match &e.kind {
                Kind::Id(id) => Some(id.clone()),
                Kind::Email(email) => self
                    .base
                    .run
                    .state
                    .resolved
                    .get(&email.to_ascii_lowercase())
                    .cloned()
                    .flatten(),
                Kind::Invalid(_) => None,
            })
    }

    /// The users to act on, each once, in input order: those the input names, less those held
    /// back.
    fn users(&self) -> Vec<UserId> {
        let mut seen = HashSet::new();
        self.named()
            .filter(|u| self.hold(u).is_none() && seen.insert(u.clone()))
            .collect()
    }

    /// Users still to sign out (or to check), in input order.
    fn to_do(&self, order: &[UserId]) -> Vec<UserId> {
        self.base
            .run
            .state
            .select(order, &self.base.run.calls, |s| {
                matches!(s, UserState::Pending | UserState::InFlight { .. })
            })
            .into_iter()
            .cloned()
            .collect()
    }

    /// What the run is about to do (after [`resolve`](Self::resolve)).
    pub fn preview(&self) -> Preview {
        let order = self.users();
        let to_do = self.to_do(&order).len();
        let mut seen = HashSet::new();
        let held = self
            .named()
            .filter_map(|u| self.hold(&u).map(|h| (u, h)))
            .filter(|(u, _)| seen.insert(u.clone()))
            .collect();
        let unusable = self
            .plan
            .input
            .entries
            .iter()
            .filter(|e| match &e.kind {
                Kind::Invalid(_) => true,
                Kind::Email(email) => matches!(
                    self.base
                        .run
                        .state
                        .resolved
                        .get(&email.to_ascii_lowercase()),
                    Some(None)
                ),
                Kind::Id(_) => false,
            })
            .count();
        Preview {
            to_do,
            users: order.len(),
            calls: to_do.div_ceil(self.plan.batch()),
            unusable,
            held,
        }
    }

    /// The org the token acts in.
    pub fn org(&self) -> &Org {
        &self.base.org
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Settles the calls an earlier run left without an answer, resets every pending user and
    /// verifies. Users of a call Slack answered `failed_for_some_users` are verified even
    /// without verification: the answer does not say which of them were signed out.
    pub async fn carry_out(&mut self) -> Result<()> {
        let order = self.users();
        self.settle_open().await?;
        self.reset(&order).await?;
        self.verify(&order, !self.plan.verify).await
    }

    async fn settle_open(&mut self) -> Result<()> {
        let open = self.base.run.calls.open();
        if open.is_empty() {
            return Ok(());
        }
        let users: usize = open
            .iter()
            .filter_map(|s| self.base.run.calls.step(*s))
            .map(|s| s.call.users().len())
            .sum();
        self.base.ctx.events.note(format!(
            "the last run stopped before the answer to {} call(s) came back ({} users): \
             checking their sessions before sending anything again",
            open.len(),
            thousands(users)
        ));
        let progress = self
            .base
            .ctx
            .events
            .task(Task::Checking, users as u64, None);
        for step in open {
            let (done, resend) = self.base.writer.settle(&mut self.base.run, step).await?;
            progress.advance((done.len() + resend.len()) as u64);
            if !resend.is_empty() {
                self.base.ctx.events.note(format!(
                    "{} user(s) of call {step} still have sessions: they will be reset again",
                    thousands(resend.len())
                ));
            }
        }
        Ok(())
    }

    fn call(&self, users: Vec<UserId>) -> Call {
        if self.plan.one_by_one {
            Call::Reset {
                user_ids: users,
                devices: self.plan.devices,
            }
        } else {
            Call::ResetBulk {
                user_ids: users,
                devices: self.plan.devices,
            }
        }
    }

    /// Resets every pending user.
    async fn reset(&mut self, order: &[UserId]) -> Result<()> {
        let pending: Vec<UserId> = self
            .base
            .run
            .state
            .select(order, &self.base.run.calls, |s| *s == UserState::Pending)
            .into_iter()
            .cloned()
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        let size = self.plan.batch();
        let method = self.plan.method();
        let mut queue = Batches::new(&pending, size);
        self.base.ctx.events.note(format!(
            "resetting {} user(s) with {} {} call(s)",
            thousands(pending.len()),
            thousands(queue.len()),
            report::short(method)
        ));
        let pace = Pace {
            method,
            per_call: size as u64,
        };
        let progress = self
            .base
            .ctx
            .events
            .task(Task::Resetting, pending.len() as u64, Some(pace));
        let mut unknown_in_a_row = 0;
        while let Some(group) = queue.pop() {
            self.base.ctx.stop.check()?;
            let call = self.call(group.clone());
            let answer = progress
                .waiting(method, self.base.writer.send(&mut self.base.run, call))
                .await?;
            match answer {
                Answer::Ok | Answer::Partial => {
                    unknown_in_a_row = 0;
                    progress.advance(group.len() as u64);
                }
                // Nothing was applied: find the user(s) Slack refuses by halves.
                Answer::Refused(_) => {
                    if !queue.split(group) {
                        progress.advance(1);
                    }
                }
                Answer::Settled {
                    done,
                    resend,
                    cause,
                } => {
                    progress.advance(done.len() as u64);
                    if resend.is_empty() {
                        unknown_in_a_row = 0;
                        continue;
                    }
                    unknown_in_a_row += 1;
                    if unknown_in_a_row >= MAX_UNKNOWN_IN_A_ROW {
                        return Err(Error::slack(
                            format!("{unknown_in_a_row} resets in a row got no usable answer"),
                            cause,
                        ));
                    }
                    self.base.ctx.events.note(format!(
                        "{cause}: {} user(s) still have sessions; resetting them again",
                        resend.len()
                    ));
                    queue.push_front(resend);
                }
            }
        }
        Ok(())
    }

    /// Counts the sessions of every user reset and not verified yet (with `partial_only`, of
    /// those whose call Slack answered `failed_for_some_users`), until none is left or the
    /// timeout passes.
    async fn verify(&mut self, order: &[UserId], partial_only: bool) -> Result<()> {
        let sent: Vec<UserId> = self
            .base
            .run
            .state
            .select(order, &self.base.run.calls, |s| *s == UserState::Sent)
            .into_iter()
            .filter(|u| !partial_only || self.base.run.state.partial.contains(*u))
            .cloned()
            .collect();
        if sent.is_empty() {
            return Ok(());
        }
        self.base.ctx.events.note(format!(
            "verifying that the sessions of {} user(s) are gone (up to {})",
            thousands(sent.len()),
            format_secs(self.plan.verify_timeout.as_secs())
        ));
        let progress = self
            .base
            .ctx
            .events
            .task(Task::Verifying, sent.len() as u64, None);
        let run = &mut self.base.run;
        let left = self
            .counter
            .wait_until_gone(
                &sent,
                self.plan.verify_timeout,
                &self.base.ctx.stop,
                &mut |u| {
                    run.run(Record::Verified {
                        user_id: u.clone(),
                        sessions_left: 0,
                    })?;
                    progress.advance(1);
                    Ok(())
                },
            )
            .await?;
        for u in order {
            if let Some(n) = left.get(u) {
                self.base.run.run(Record::Verified {
                    user_id: u.clone(),
                    sessions_left: *n,
                })?;
            }
        }
        self.base.run.sync()
    }

    fn setup(&self, forecast: Option<Forecast>) -> Setup {
        Setup {
            method: self.plan.method(),
            verified: self.plan.verify,
            verify_timeout: format_secs(self.plan.verify_timeout.as_secs()),
            forecast,
        }
    }

    fn report_of(&self, setup: &Setup, written: bool) -> Report {
        let me = self.base.org.me.user_id.clone();
        let include_self = self.plan.include_self;
        let state = &self.base.run.state;
        let lines = report::build(
            &self.plan.input.entries,
            state,
            &self.base.run.calls,
            &|u| hold(state, u, &me, include_self),
            setup,
        );
        Report {
            lines,
            input: self.plan.input_path.clone(),
            org: self.base.org.clone(),
            method: self.plan.method(),
            devices: self.plan.devices,
            calls: self.base.run.calls.made().clone(),
            column: self.plan.input.column.clone(),
            report: written.then(|| self.plan.report.path.clone()),
            journal: written.then(|| self.plan.report.journal()),
        }
    }

    /// Ends the run: writes its report and, if `complete` (it was carried out to the end),
    /// records that it finished, so the same command starts a new run. A run that stopped
    /// keeps its journal for the same command to resume.
    pub fn finish(mut self, complete: bool) -> Result<Report> {
        let report = self.report_of(&self.setup(None), true);
        let table = (&report::COLUMNS[..], &report.lines[..]);
        (self.plan.report).conclude(&mut self.base.run, &report.document(), table, complete)?;
        Ok(report)
    }

    /// Leaves the run before it changed anything (declined at the prompt): a journal this run
    /// created goes.
    pub fn decline(mut self) {
        self.base.run.discard();
    }
}

fn hold(state: &State, user: &UserId, me: &UserId, include_self: bool) -> Option<Hold> {
    if user == me {
        return (!include_self).then_some(Hold::Myself);
    }
    if state.missing.contains(user) {
        return Some(Hold::NotFound);
    }
    Hold::of(state.facts.get(user).copied().unwrap_or_default())
}

/// The dry run: the run minus the writes. It refuses what the run would refuse (the journal's
/// rules), resolves the users and counts their sessions now, and reports what each line would
/// get; nothing is written.
pub async fn dry_run(ctx: &Context, plan: Plan) -> Result<Report> {
    let (org, team) = set_up(ctx, &plan).await?;
    let header = plan.header(&org, ctx.client.base_url());
    identity::check::<Record>(&plan.report.journal(), &header, plan.fresh, &ctx.events)?;
    let mut off = Offboarding::with(ctx, plan, org, team, Journaled::dry(header));
    off.resolve().await?;
    let order = off.users();
    let to_do = off.to_do(&order);
    let mut preview = Forecast::default();
    if !to_do.is_empty() {
        ctx.events.note(format!(
            "counting the current sessions of {} user(s)",
            thousands(to_do.len())
        ));
        // Users given by ID are not known from a lookup: a list call of their own tells
        // whether Slack would refuse them (a bot, another org's user) and counts them.
        let (by_id, looked_up): (Vec<UserId>, Vec<UserId>) = to_do
            .iter()
            .cloned()
            .partition(|u| !off.base.run.state.facts.contains_key(u));
        for u in &by_id {
            match off.counter.count_one(u).await {
                Ok(n) => {
                    preview.sessions_now.insert(u.clone(), n);
                }
                Err(e) => match e.code() {
                    Some(ErrorCode::BotsNotAllowed | ErrorCode::CannotResetBot) => {
                        preview.refused.insert(u.clone(), "cannot_reset_bot");
                    }
                    Some(ErrorCode::UserNotFound) => {
                        preview.refused.insert(u.clone(), "user_not_found");
                    }
                    _ => return Err(Error::slack(format!("cannot list the sessions of {u}"), e)),
                },
            }
        }
        let counted = off
            .counter
            .count(&looked_up)
            .await
            .map_err(|e| Error::slack("cannot list sessions", e))?;
        preview.sessions_now.extend(counted);
    }
    let planned: Vec<&UserId> = to_do
        .iter()
        .filter(|u| !preview.refused.contains_key(*u))
        .collect();
    let size = off.plan.batch();
    let calls = planned.len().div_ceil(size);
    for (i, chunk) in planned.chunks(size).enumerate() {
        for u in chunk {
            preview.call_of.insert((*u).clone(), (i + 1, calls));
        }
    }
    Ok(off.report_of(&off.setup(Some(preview)), false))
}
