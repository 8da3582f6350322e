//! Bulk invalidation: end exactly the sessions a [`Filter`] finds, resumably.
//!
//! 1. **Find**: the org's sessions are walked once and each match is journaled
//!    ([`Record::Target`]), then [`Record::Selected`]. A resumed run ends that same set: it
//!    does not search again, so nothing found is skipped and nothing new is added. A finished
//!    run is never resumed: the same command is a new run over what matches now.
//! 2. **Preview**: how many sessions, of how many users, of which kinds, for the person to
//!    confirm.
//! 3. **End**: one `admin.users.session.invalidate` per session, through the journal
//!    ([`crate::calls`]).
//! 4. **Verify and report**: the ended sessions are looked for until they are gone (or the
//!    timeout), and the report has one row per session found.

pub mod report;
pub mod state;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::{ActiveSession, ListArgs};

use self::report::{Document, Row};
use self::state::{Record, SessionState, State};
use crate::Context;
use crate::base::Base;
use crate::calls::Ended;
use crate::count::CountBy;
use crate::error::{Error, Result};
use crate::events::{Pace, Task};
use crate::filter::{Filter, KindCounts};
use crate::journal::{Devices, Header, RunKind, identity, now_ms};
use crate::journaled::Journaled;
use crate::org::Org;
use crate::report::ReportPath;
use crate::text::plural;

/// Slack's method.
const METHOD: &str = "admin.users.session.invalidate";

/// What a bulk invalidation does, resolved from the command line.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The sessions to end (an empty filter with `all`: every session of the org).
    pub filter: Filter,
    /// Every session of the org (the filter is empty).
    pub all: bool,
    /// Where the report goes (the journal beside it).
    pub report: ReportPath,
    /// How long to wait for the sessions to be gone.
    pub verify_timeout: Duration,
    /// Users' names and emails in the report.
    pub names: bool,
    /// Archive an unfinished run of the journal and start over.
    pub fresh: bool,
}

impl Plan {
    /// The filters as flags (`--all` for every session): the run's input.
    pub fn filters(&self) -> String {
        if self.all {
            "--all".to_owned()
        } else {
            self.filter.describe()
        }
    }

    /// The default report: named after the filters' digest, so the same filters find the
    /// same journal.
    pub fn default_report(filter: &Filter, all: bool) -> PathBuf {
        use sha2::{Digest, Sha256};
        let text = if all {
            "--all".to_owned()
        } else {
            filter.describe()
        };
        let sha = crate::journal::hex(&Sha256::digest(text.as_bytes()));
        PathBuf::from(format!("sessions-invalidate-{}.report.csv", &sha[..12]))
    }

    fn header(&self, org: &Org, api_url: &str) -> Header {
        let filters = self.filters();
        let mut options = self.filter.options();
        if self.all {
            options.insert("--all".to_owned(), "given".to_owned());
        }
        Header::new(
            RunKind::Invalidate,
            format!("sessions invalidate {filters}"),
            filters.as_bytes(),
            options,
            org,
            api_url,
        )
    }
}

/// What a run is about to do, for the person to confirm.
#[derive(Clone, Debug)]
pub struct Preview {
    /// Sessions to end (or to check, for calls whose answer was lost).
    pub to_do: usize,
    /// Their users.
    pub users: usize,
    /// Their kinds.
    pub kinds: KindCounts,
    /// Sessions found in all (a resumed run has done the others).
    pub found: usize,
}

/// The outcome of a run (or a dry run), for printing.
#[derive(Clone, Debug)]
pub struct Report {
    /// One row per session found.
    pub rows: Vec<Row>,
    /// The filters, as flags.
    pub filters: String,
    /// The org.
    pub org: Org,
    /// Invalidate calls made.
    pub calls: u64,
    /// The report's path (none for a dry run).
    pub report: Option<PathBuf>,
    /// The journal's path (none for a dry run).
    pub journal: Option<PathBuf>,
}

impl Report {
    /// The report as a JSON document.
    pub fn document(&self) -> Document<'_> {
        let summary = report::tally(&self.rows);
        Document {
            filters: &self.filters,
            org_id: self.org.id.as_str(),
            complete: !summary.contains_key("pending") && !summary.contains_key("planned"),
            summary,
            sessions: &self.rows,
        }
    }

    /// Whether it is a dry run's plan.
    pub fn is_dry_run(&self) -> bool {
        self.report.is_none()
    }
}

/// A bulk invalidation under way.
#[derive(Debug)]
pub struct Invalidation {
    base: Base<State>,
    plan: Plan,
}

impl Invalidation {
    /// Opens the run: checks the token and `--team`, and opens the journal beside the report
    /// by the rules of [`identity`].
    pub async fn open(ctx: &Context, plan: Plan) -> Result<Invalidation> {
        let org = set_up(ctx, &plan).await?;
        let header = plan.header(&org, ctx.client.base_url());
        let run = Journaled::open(&plan.report.journal(), header, plan.fresh, &ctx.events)?;
        Ok(Invalidation::with(ctx, plan, org, run))
    }

    fn with(ctx: &Context, plan: Plan, org: Org, run: Journaled<State>) -> Invalidation {
        let team = org.id.clone();
        let mut base = Base::new(ctx, org, team, run);
        if !plan.names {
            base.directory = base.directory.without_names();
        }
        Invalidation { base, plan }
    }

    /// The org the token acts in.
    pub fn org(&self) -> &Org {
        &self.base.org
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Finds the sessions to end (once: a resumed run keeps the set it found).
    pub async fn select(&mut self) -> Result<()> {
        if self.base.run.state.selected {
            return Ok(());
        }
        self.base
            .ctx
            .events
            .note("finding the sessions the filters match (one walk of the org's sessions)");
        let run = &mut self.base.run;
        crate::filter::walk(
            &self.base.ctx.client,
            &self.plan.filter,
            ListArgs::new().limit(1000),
            async |session| {
                run.run(Record::Target {
                    session: Box::new(session),
                })?;
                Ok(true)
            },
        )
        .await?;
        let count = self.base.run.state.targets.len() as u64;
        self.base.run.run(Record::Selected {
            count,
            at_ms: now_ms(),
        })?;
        self.base.run.sync()
    }

    fn to_do(&self) -> Vec<ActiveSession> {
        self.base.run.state.select(&self.base.run.calls, |s| {
            matches!(s, SessionState::Pending | SessionState::InFlight { .. })
        })
    }

    /// What the run is about to do (after [`select`](Self::select)).
    pub fn preview(&self) -> Preview {
        let to_do = self.to_do();
        let users: HashSet<&UserId> = to_do.iter().map(|s| &s.user_id).collect();
        Preview {
            to_do: to_do.len(),
            users: users.len(),
            kinds: to_do.iter().collect(),
            found: self.base.run.state.targets.len(),
        }
    }

    /// Settles the calls an earlier run left without an answer, ends every pending session,
    /// and looks for them until they are gone.
    pub async fn carry_out(&mut self) -> Result<()> {
        let settled = self.base.writer.settle_open(&mut self.base.run).await?;
        if settled > 0 {
            self.base.ctx.events.note(format!(
                "checked {} call(s) whose answer the last run did not get, before sending anything again",
                settled
            ));
        }
        let pending = self
            .base
            .run
            .state
            .select(&self.base.run.calls, |s| *s == SessionState::Pending);
        if !pending.is_empty() {
            self.base.ctx.events.note(format!(
                "ending {} with one invalidate call each",
                plural(pending.len(), "session", "sessions")
            ));
        }
        let pace = Pace {
            method: METHOD,
            per_call: 1,
        };
        let progress = self
            .base
            .ctx
            .events
            .task(Task::Ending, pending.len() as u64, Some(pace));
        for s in &pending {
            self.base.ctx.stop.check()?;
            let ended: Ended = progress
                .waiting(
                    METHOD,
                    self.base
                        .writer
                        .end_session(&mut self.base.run, s.session_id.0, &s.user_id),
                )
                .await?;
            let _ = ended; // the journal has it
            progress.advance(1);
        }
        drop(progress);
        self.verify().await
    }

    /// Looks for every ended, unverified session until all are gone or the timeout passes;
    /// records each.
    async fn verify(&mut self) -> Result<()> {
        let mut left: Vec<(UserId, u64)> = self
            .base
            .run
            .state
            .select(&self.base.run.calls, |s| *s == SessionState::Ended)
            .iter()
            .map(|s| (s.user_id.clone(), s.session_id.0))
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        let progress = self
            .base
            .ctx
            .events
            .task(Task::Verifying, left.len() as u64, None);
        let counter = self.base.writer.counter(Devices::All, CountBy::Auto);
        let timeout = self.plan.verify_timeout;
        let started = Instant::now();
        let mut pause = Duration::from_millis(200);
        while !left.is_empty() {
            self.base.ctx.stop.check()?;
            let present = counter
                .present(&left)
                .await
                .map_err(|e| Error::slack("cannot verify sessions", e))?;
            let out_of_time = started.elapsed() >= timeout;
            let mut still = Vec::new();
            for (user, id) in left {
                let gone = !present.contains(&id);
                if gone || out_of_time {
                    self.base.run.run(Record::Looked {
                        session_id: id,
                        gone,
                    })?;
                    progress.advance(1);
                } else {
                    still.push((user, id));
                }
            }
            left = still;
            if !left.is_empty() {
                self.base
                    .ctx
                    .stop
                    .sleep(pause.min(timeout.saturating_sub(started.elapsed())))
                    .await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
        self.base.run.sync()
    }

    async fn rows(&mut self, dry_run: bool) -> Result<Vec<Row>> {
        let mut people = HashMap::new();
        for s in &self.base.run.state.targets {
            if !people.contains_key(&s.user_id) {
                let p = self.base.directory.person(&s.user_id).await?;
                people.insert(s.user_id.clone(), p);
            }
        }
        Ok(report::rows(
            &self.base.run.state,
            &self.base.run.calls,
            &|s| people.get(&s.user_id).cloned().flatten(),
            dry_run,
        ))
    }

    fn report(&self, rows: Vec<Row>, written: bool) -> Report {
        Report {
            rows,
            filters: self.plan.filters(),
            org: self.base.org.clone(),
            calls: self.base.run.calls.total(),
            report: written.then(|| self.plan.report.path.clone()),
            journal: written.then(|| self.plan.report.journal()),
        }
    }

    /// Ends the run: writes its report and, if `complete`, records that it finished, so the
    /// same command starts a new run over what matches then.
    pub async fn finish(mut self, complete: bool) -> Result<Report> {
        let rows = self.rows(false).await?;
        let report = self.report(rows, true);
        let table = (&report::COLUMNS[..], &report.rows[..]);
        (self.plan.report).conclude(&mut self.base.run, &report.document(), table, complete)?;
        Ok(report)
    }

    /// Leaves the run before it changed anything (declined at the prompt): a journal this run
    /// created goes.
    pub fn decline(mut self) {
        self.base.run.discard();
    }
}

async fn set_up(ctx: &Context, plan: &Plan) -> Result<Org> {
    if plan.all && !plan.filter.is_empty() {
        return Err(Error::refused(
            "--all ends every session of the org: give it without filters, or give filters without --all",
        ));
    }
    if !plan.all && plan.filter.is_empty() {
        return Err(Error::refused(
            "no filter: ending sessions in bulk needs at least one of --ip, --os, --client, \
             --client-version-below, --team (or --all for every session of the org)",
        )
        .hint("to end one session, give its id and --user; `sessions list` with the same filters shows what they find"));
    }
    let org = Org::of(&ctx.client).await?;
    if let Some(team) = &plan.filter.team {
        org.check_team(&ctx.client, team).await?;
    }
    Ok(org)
}

/// The dry run: the run minus the writes. It refuses what the run would refuse, finds the
/// sessions that match now and lists them; nothing is written.
pub async fn dry_run(ctx: &Context, plan: Plan) -> Result<Report> {
    let org = set_up(ctx, &plan).await?;
    let header = plan.header(&org, ctx.client.base_url());
    identity::check::<Record>(&plan.report.journal(), &header, plan.fresh, &ctx.events)?;
    let mut inv = Invalidation::with(ctx, plan, org, Journaled::dry(header));
    inv.select().await?;
    let rows = inv.rows(true).await?;
    Ok(inv.report(rows, false))
}
