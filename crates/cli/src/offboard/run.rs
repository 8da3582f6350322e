//! Carrying a run out: resolve, settle unknown outcomes, reset, verify. Every step goes
//! through the journal first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use slack_sessions_client::api::validate::MAX_USERS_LIST_LIMIT;
use slack_sessions_client::api::{ErrorCode, Method, TeamId, UserId};
use slack_sessions_client::batch::Batches;
use slack_sessions_client::methods::{
    LookupByEmail, Reset, ResetArgs, ResetBulkArgs, UsersInfo, UsersInfoArgs, UsersList,
    UsersListArgs,
};
use slack_sessions_client::{Client, Error};

use super::input::{Entry, Kind};
use super::state::{RunState, UserState};
use super::verify::{Stop, Verifier};
use crate::cli::{ResolveBy, Scope};
use crate::exit::{Failure, INTERRUPTED, Result};
use crate::journal::{Facts, Outcome, Record, now_ms};
use crate::journaled::Journaled;
use crate::output::thousands;
use crate::ui::{self, Progress};
use crate::users;

/// Up to what single calls cost in this many minutes, `--resolve-by auto` makes them: one burst
/// of their tiers, which a walk's first page cannot beat.
const BURST_MINUTES: f64 = 1.0;

/// Minutes of rate-limit budget that single calls take for `emails` lookups (tier 3) and `ids`
/// user reads (tier 4).
fn call_minutes(emails: usize, ids: usize) -> f64 {
    emails as f64 / f64::from(LookupByEmail::TIER.per_minute())
        + ids as f64 / f64::from(UsersInfo::TIER.per_minute())
}

/// Calls in a row whose outcome stayed unknown before the run stops (and waits for a resume).
const MAX_UNKNOWN_IN_A_ROW: u32 = 3;

/// A run in progress.
#[derive(Debug)]
pub struct Runner {
    /// For lookups and lists (the global retry policy).
    pub client: Client,
    /// For resets: never repeats a call whose outcome is unknown (the run checks instead).
    pub writer: Client,
    /// Where every user stands, and the journal (`None` for a dry run: nothing is written).
    pub run: Journaled<RunState>,
    /// The input's entries.
    pub entries: Vec<Entry>,
    /// The method used to reset.
    pub method: &'static str,
    /// Users per call.
    pub batch_size: usize,
    /// Which sessions.
    pub scope: Scope,
    /// How long to wait for sessions to go.
    pub verify_timeout: Duration,
    /// Counts sessions.
    pub verifier: Verifier,
    /// Set by Ctrl-C.
    pub interrupted: Arc<AtomicBool>,
    /// How emails are resolved.
    pub resolve_by: ResolveBy,
    /// The workspace (or org) whose users `users.list` walks.
    pub users_team: TeamId,
}

impl Runner {
    fn check_interrupted(&self) -> Result<()> {
        if self.interrupted.load(Ordering::SeqCst) {
            Err(Failure::new(
                INTERRUPTED,
                "interrupted; nothing is lost: run the same command again to resume",
            ))
        } else {
            Ok(())
        }
    }

    fn stop(&self, err: Stop, what: &str) -> Failure {
        match err {
            Stop::Api(e) => Failure::api(what, &e),
            Stop::Interrupted => Failure::new(
                INTERRUPTED,
                "interrupted; nothing is lost: run the same command again to resume",
            ),
            Stop::Local(failure) => failure,
        }
    }

    /// Emails to look up (each once).
    fn unresolved_emails(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.entries
            .iter()
            .filter_map(|e| match &e.kind {
                Kind::Email(email) => Some(email.clone()),
                _ => None,
            })
            .filter(|email| {
                let key = email.to_ascii_lowercase();
                !self.run.state.resolved.contains_key(&key) && seen.insert(key)
            })
            .collect()
    }

    /// Users given by ID that no user read has told of yet, each once.
    fn unknown_ids(&self) -> Vec<UserId> {
        let mut seen = std::collections::HashSet::new();
        self.entries
            .iter()
            .filter_map(|e| match &e.kind {
                Kind::Id(id) => Some(id.clone()),
                _ => None,
            })
            .filter(|id| {
                !self.run.state.facts.contains_key(id)
                    && !self.run.state.missing.contains(id)
                    && seen.insert(id.clone())
            })
            .collect()
    }

    /// Resolves every email not resolved yet, and reads every user given by ID (so the plan
    /// knows the primary owner, bots and other orgs' users before any reset): by walking
    /// `users.list`, by one call each (`users.lookupByEmail`, `users.info`), or (auto) by
    /// walking while the walk costs less time than the calls it saves, then calling for the
    /// rest. Every answer is kept in the journal, so a resumed run (or the run after a dry run)
    /// asks nothing twice.
    pub async fn resolve(&mut self) -> Result<()> {
        let (emails, ids) = (self.unresolved_emails(), self.unknown_ids());
        let (emails, ids) = match self.resolve_by {
            ResolveBy::Lookup => (emails, ids),
            _ if emails.is_empty() && ids.is_empty() => (emails, ids),
            // A handful: single calls are cheaper than the first page of any walk.
            ResolveBy::Auto if call_minutes(emails.len(), ids.len()) <= BURST_MINUTES => {
                (emails, ids)
            }
            by => self.walk_users(emails, ids, by == ResolveBy::Auto).await?,
        };
        self.look_up(emails).await?;
        self.read_ids(ids).await
    }

    /// Walks `users.list`, recording each email of `emails` and each user of `ids` it finds;
    /// returns those it did not find (none when the walk reached the end: the rest name
    /// nobody in the org). With `give_way`, the walk leaves the rest to single calls as soon as
    /// they fit in one burst of their tiers, or when its pages (past their own free burst)
    /// find less than a page's worth of single calls.
    async fn walk_users(
        &mut self,
        emails: Vec<String>,
        ids: Vec<UserId>,
        give_way: bool,
    ) -> Result<(Vec<String>, Vec<UserId>)> {
        let mut wanted: std::collections::HashMap<String, String> = emails
            .into_iter()
            .map(|e| (e.to_ascii_lowercase(), e))
            .collect();
        let mut wanted_ids: std::collections::HashSet<UserId> = ids.into_iter().collect();
        let total = wanted.len() + wanted_ids.len();
        ui::note(format!(
            "walking the users of {} (users.list, up to 1,000 a call) to find {} user(s)",
            self.users_team,
            thousands(total)
        ));
        let progress = Progress::start("resolving", total as u64);
        let mut args = UsersListArgs::new(self.users_team.clone()).limit(MAX_USERS_LIST_LIMIT);
        let mut seen_cursors = std::collections::HashSet::new();
        let mut pages = 0u64;
        let leftovers = |wanted: std::collections::HashMap<String, String>,
                         ids: std::collections::HashSet<UserId>| {
            (wanted.into_values().collect(), ids.into_iter().collect())
        };
        let page_minutes = 1.0 / f64::from(UsersList::TIER.per_minute());
        let initial = call_minutes(wanted.len(), wanted_ids.len());
        loop {
            self.check_interrupted()?;
            let left = call_minutes(wanted.len(), wanted_ids.len());
            let saved_per_page = (initial - left) / (pages.max(1) as f64);
            // Give way when what is left fits one burst of single calls (they cost nothing
            // then), or when, past the walk's own free burst, a page saves less than it costs.
            let burst_pages = u64::from(UsersList::TIER.per_minute());
            if give_way
                && (left <= BURST_MINUTES
                    || (pages >= burst_pages && saved_per_page < page_minutes))
            {
                ui::note(format!(
                    "{} user(s) left after {pages} page(s): single calls are quicker for them",
                    thousands(wanted.len() + wanted_ids.len())
                ));
                progress.finish();
                return Ok(leftovers(wanted, wanted_ids));
            }
            let page = match ui::waiting(
                &progress,
                UsersList::NAME,
                self.client.users_list(args.clone()),
            )
            .await
            {
                Ok(page) => page,
                // A token without users:read, or a server that wants a workspace: single calls
                // still work.
                Err(Error::Slack(e)) if give_way && pages == 0 => {
                    ui::note(format!(
                        "users.list answered {}: reading the users one by one instead",
                        e.code
                    ));
                    progress.finish();
                    return Ok(leftovers(wanted, wanted_ids));
                }
                Err(e) => return Err(Failure::api("cannot walk the users (users.list)", &e)),
            };
            pages += 1;
            for u in &page.members {
                let facts = Facts {
                    bot: u.is_bot,
                    primary_owner: u.is_primary_owner,
                };
                if wanted_ids.remove(&u.id) {
                    self.run.record(Record::Known {
                        user_id: u.id.clone(),
                        found: true,
                        facts,
                    })?;
                    progress.inc(1);
                }
                let Some(email) = u.profile.email.as_deref() else {
                    continue;
                };
                if let Some(written) = wanted.remove(&email.to_ascii_lowercase()) {
                    self.run.record(Record::Resolved {
                        email: written,
                        user_id: Some(u.id.clone()),
                        facts,
                    })?;
                    progress.inc(1);
                }
            }
            let next = page
                .next_cursor()
                .filter(|c| !c.is_empty())
                .map(str::to_owned);
            match next {
                // Everyone found: no need to read further.
                Some(_) if wanted.is_empty() && wanted_ids.is_empty() => break,
                Some(cursor) if seen_cursors.insert(cursor.clone()) => args = args.cursor(cursor),
                Some(_) => {
                    return Err(Failure::new(
                        crate::exit::API,
                        "users.list gave the same cursor twice; the walk stopped".to_owned(),
                    ));
                }
                None => break,
            }
        }
        // The whole org was read: what it does not hold, nobody in it has.
        for (_, email) in wanted.drain() {
            self.run.record(Record::Resolved {
                email,
                user_id: None,
                facts: Facts::default(),
            })?;
            progress.inc(1);
        }
        for user_id in wanted_ids.drain() {
            self.run.record(Record::Known {
                user_id,
                found: false,
                facts: Facts::default(),
            })?;
            progress.inc(1);
        }
        progress.finish();
        self.run.sync()?;
        Ok((Vec::new(), Vec::new()))
    }

    /// Reads each user of `ids` with `users.info`.
    async fn read_ids(&mut self, ids: Vec<UserId>) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        ui::note(format!(
            "reading {} user(s) given by ID",
            thousands(ids.len())
        ));
        let progress = Progress::for_calls("reading", ids.len() as u64, UsersInfo::NAME, 1);
        for id in ids {
            self.check_interrupted()?;
            let read = ui::waiting(
                &progress,
                UsersInfo::NAME,
                self.client.users_info(UsersInfoArgs::new(id.clone())),
            )
            .await;
            let record = match read {
                Ok(r) => Record::Known {
                    user_id: id,
                    found: true,
                    facts: Facts {
                        bot: r.user.is_bot,
                        primary_owner: r.user.is_primary_owner,
                    },
                },
                Err(Error::Slack(e)) if e.code == ErrorCode::UserNotFound => Record::Known {
                    user_id: id,
                    found: false,
                    facts: Facts::default(),
                },
                // Without users:read the reset's answer will say what Slack refuses.
                Err(Error::Slack(e)) if e.code == ErrorCode::MissingScope => {
                    ui::note(
                        "the token cannot read users (users:read): Slack's answers to the resets will tell",
                    );
                    progress.finish();
                    return Ok(());
                }
                Err(e) => return Err(Failure::api(format!("cannot read user {id}"), &e)),
            };
            self.run.record(record)?;
            progress.inc(1);
        }
        progress.finish();
        self.run.sync()
    }

    /// Looks up each of `emails` with `users.lookupByEmail`.
    async fn look_up(&mut self, emails: Vec<String>) -> Result<()> {
        if emails.is_empty() {
            return Ok(());
        }
        ui::note(format!(
            "looking up {} email address(es)",
            thousands(emails.len())
        ));
        let progress =
            Progress::for_calls("resolving", emails.len() as u64, LookupByEmail::NAME, 1);
        for email in emails {
            self.check_interrupted()?;
            let found = ui::waiting(
                &progress,
                LookupByEmail::NAME,
                users::lookup(&self.client, &email),
            )
            .await
            .map_err(|e| Failure::api(format!("cannot look up {email}"), &e))?;
            let facts = found.as_ref().map_or_else(Facts::default, |u| Facts {
                bot: u.is_bot,
                primary_owner: u.is_primary_owner,
            });
            self.run.record(Record::Resolved {
                email,
                user_id: found.map(|u| u.id),
                facts,
            })?;
            progress.inc(1);
        }
        progress.finish();
        self.run.sync()
    }

    /// The users to act on, each once, in input order: those the input names, less those held
    /// back ([`RunState::hold`]: the token's own user, the primary owner, bots).
    pub fn users(&self) -> Vec<UserId> {
        let mut seen = std::collections::HashSet::new();
        self.named()
            .filter(|u| self.run.state.hold(u).is_none() && seen.insert(u.clone()))
            .collect()
    }

    /// The users the input's lines name, in input order, repeats included (an email not looked
    /// up yet, or that no user has, names nobody).
    pub fn named(&self) -> impl Iterator<Item = UserId> + '_ {
        self.entries.iter().filter_map(|e| match &e.kind {
            Kind::Id(id) => Some(id.clone()),
            Kind::Email(email) => self
                .run
                .state
                .resolved
                .get(&email.to_ascii_lowercase())
                .cloned()
                .flatten(),
            Kind::Invalid(_) => None,
        })
    }

    /// Settles the calls a previous run left without an answer: lists their users' sessions
    /// and re-sends only to users who still have some.
    pub async fn settle_in_flight(&mut self, order: &[UserId]) -> Result<()> {
        let in_flight = self.run.state.in_flight(order);
        if in_flight.is_empty() {
            return Ok(());
        }
        let count: usize = in_flight.iter().map(|(_, u)| u.len()).sum();
        ui::note(format!(
            "the last run stopped before the answer to {} call(s) came back ({} users): \
             checking their sessions before sending anything again",
            in_flight.len(),
            thousands(count)
        ));
        let progress = Progress::start("checking", count as u64);
        for (step, users) in in_flight {
            self.settle(step, &users, &progress).await?;
        }
        progress.finish();
        Ok(())
    }

    /// Settles one call whose outcome is unknown: users with no sessions left are done (the
    /// call was applied, or they had none to end); the others go back to pending. Returns them.
    async fn settle(
        &mut self,
        step: u64,
        users: &[UserId],
        progress: &Progress,
    ) -> Result<Vec<UserId>> {
        let method = self
            .run
            .state
            .steps
            .get(&step)
            .map(|(m, _)| m.clone())
            .unwrap_or_else(|| self.method.to_owned());
        // A `reset` acts before it answers: one look tells. A `resetBulk` only queues a job, so
        // its sessions may take a while to go: wait for them as long as a verification would.
        let wait = if method == Reset::NAME {
            Duration::ZERO
        } else {
            self.verify_timeout
        };
        let verifier = self.verifier.clone();
        let interrupted = Arc::clone(&self.interrupted);
        let mut done = Vec::new();
        let left = verifier
            .wait_until_gone(
                users,
                wait,
                &|| interrupted.load(Ordering::SeqCst),
                &mut |u: &UserId, _| {
                    done.push(u.clone());
                    progress.inc(1);
                    Ok(())
                },
            )
            .await
            .map_err(|e| self.stop(e, "cannot check sessions"))?;
        let resend: Vec<UserId> = users
            .iter()
            .filter(|u| left.contains_key(*u))
            .cloned()
            .collect();
        self.run.record(Record::Reconciled {
            step,
            done,
            resend: resend.clone(),
            at_ms: now_ms(),
        })?;
        if !resend.is_empty() {
            ui::note(format!(
                "{} user(s) of call {step} still have sessions: they will be reset again",
                thousands(resend.len())
            ));
        }
        Ok(resend)
    }

    async fn send(&self, group: &[UserId]) -> std::result::Result<(), Error> {
        let (mobile, web) = (self.scope.mobile_only, self.scope.web_only);
        if self.method == Reset::NAME {
            let mut args = ResetArgs::new(group[0].clone());
            if mobile {
                args = args.mobile_only(true);
            }
            if web {
                args = args.web_only(true);
            }
            self.writer.reset(args).await.map(drop)
        } else {
            let mut args = ResetBulkArgs::new(group.iter().cloned());
            if mobile {
                args = args.mobile_only(true);
            }
            if web {
                args = args.web_only(true);
            }
            self.writer.reset_bulk(args).await.map(drop)
        }
    }

    /// Resets every pending user: an intent in the journal, the call, its result.
    pub async fn reset(&mut self, order: &[UserId]) -> Result<()> {
        let pending: Vec<UserId> = self
            .run
            .state
            .select(order, |s| *s == UserState::Pending)
            .into_iter()
            .cloned()
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        let size = if self.method == Reset::NAME {
            1
        } else {
            self.batch_size
        };
        let mut queue = Batches::new(&pending, size);
        ui::note(format!(
            "resetting {} user(s) with {} {} call(s)",
            thousands(pending.len()),
            thousands(queue.len()),
            crate::journal::short(self.method)
        ));
        let progress =
            Progress::for_calls("resetting", pending.len() as u64, self.method, size as u64);
        let mut unknown_in_a_row = 0;
        while let Some(group) = queue.pop() {
            self.check_interrupted()?;
            let step = self.run.state.next_step();
            self.run.record(Record::Intent {
                step,
                method: self.method.to_owned(),
                user_ids: group.clone(),
                at_ms: now_ms(),
            })?;
            let answer = ui::waiting(&progress, self.method, self.send(&group)).await;
            let err = match answer {
                Ok(()) => {
                    unknown_in_a_row = 0;
                    self.run.record(Record::Result {
                        step,
                        outcome: Outcome::Ok,
                        error: None,
                        at_ms: now_ms(),
                    })?;
                    progress.inc(group.len() as u64);
                    continue;
                }
                Err(err) => err,
            };
            let code = err.code().cloned();
            let error = Some(
                code.as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| err.to_string()),
            );
            if code == Some(ErrorCode::FailedForSomeUsers) {
                // Applied for some: verification tells which users still have sessions.
                self.run.record(Record::Result {
                    step,
                    outcome: Outcome::Partial,
                    error,
                    at_ms: now_ms(),
                })?;
                progress.inc(group.len() as u64);
            } else if err.is_user_refusal() {
                self.run.record(Record::Result {
                    step,
                    outcome: Outcome::Refused,
                    error,
                    at_ms: now_ms(),
                })?;
                // Nothing was applied: find the user(s) Slack refuses by halves.
                if !queue.split(group) {
                    progress.inc(1);
                }
            } else if err.may_have_been_applied() {
                self.run.record(Record::Result {
                    step,
                    outcome: Outcome::Unknown,
                    error,
                    at_ms: now_ms(),
                })?;
                unknown_in_a_row += 1;
                ui::note(format!(
                    "{err}: checking the sessions of its {} user(s) instead of sending it again",
                    group.len()
                ));
                let resend = self.settle(step, &group, &progress).await?;
                if !resend.is_empty() {
                    if unknown_in_a_row >= MAX_UNKNOWN_IN_A_ROW {
                        return Err(Failure::api(
                            format!("{unknown_in_a_row} resets in a row got no usable answer"),
                            &err,
                        ));
                    }
                    queue.push_front(resend);
                }
            } else {
                self.run.record(Record::Result {
                    step,
                    outcome: Outcome::NotApplied,
                    error,
                    at_ms: now_ms(),
                })?;
                return Err(Failure::api(
                    format!(
                        "cannot reset the sessions of {} user(s)",
                        thousands(group.len())
                    ),
                    &err,
                ));
            }
        }
        progress.finish();
        Ok(())
    }

    /// Counts the sessions of every user reset and not verified yet (with `partial_only`, of
    /// those whose call Slack answered `failed_for_some_users`), until none is left or the
    /// timeout passes.
    pub async fn verify(&mut self, order: &[UserId], partial_only: bool) -> Result<()> {
        let sent: Vec<UserId> = self
            .run
            .state
            .select(order, |s| *s == UserState::Sent)
            .into_iter()
            .filter(|u| !partial_only || self.run.state.partial.contains(*u))
            .cloned()
            .collect();
        if sent.is_empty() {
            return Ok(());
        }
        ui::note(format!(
            "verifying that the sessions of {} user(s) are gone (up to {})",
            thousands(sent.len()),
            crate::duration::format_secs(self.verify_timeout.as_secs())
        ));
        let progress = Progress::start("verifying", sent.len() as u64);
        let verifier = self.verifier.clone();
        let interrupted = Arc::clone(&self.interrupted);
        let timeout = self.verify_timeout;
        let run = &mut self.run;
        let left = verifier
            .wait_until_gone(
                &sent,
                timeout,
                &|| interrupted.load(Ordering::SeqCst),
                &mut |u: &UserId, n| {
                    run.record(Record::Verified {
                        user_id: u.clone(),
                        sessions_left: n,
                    })
                    .map_err(Stop::Local)?;
                    progress.inc(1);
                    Ok(())
                },
            )
            .await;
        let left = left.map_err(|e| self.stop(e, "cannot verify sessions"))?;
        for u in order {
            if let Some(n) = left.get(u) {
                self.run.record(Record::Verified {
                    user_id: u.clone(),
                    sessions_left: *n,
                })?;
            }
        }
        progress.finish();
        self.run.sync()
    }

    /// Records the end of the run.
    pub fn finish(&mut self, exit_code: u8) -> Result<()> {
        self.run.record(Record::Finished {
            exit_code,
            at_ms: now_ms(),
        })
    }
}
