//! Carrying a run out: resolve, settle unknown outcomes, reset, verify. Every step goes
//! through the journal first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use slack_sessions_client::api::{ErrorCode, Method, UserId};
use slack_sessions_client::batch::Batches;
use slack_sessions_client::methods::{LookupByEmail, Reset, ResetArgs, ResetBulkArgs};
use slack_sessions_client::{Client, Error};

use super::input::{Entry, Kind};
use super::journal::{Facts, Journal, Outcome, Record, now_ms};
use super::state::{RunState, UserState};
use super::verify::{Stop, Verifier};
use crate::cli::Scope;
use crate::exit::{Failure, INTERRUPTED, Result};
use crate::output::thousands;
use crate::ui::{self, Progress};
use crate::users;

/// Calls in a row whose outcome stayed unknown before the run stops (and waits for a resume).
const MAX_UNKNOWN_IN_A_ROW: u32 = 3;

/// A run in progress.
#[derive(Debug)]
pub struct Runner {
    /// For lookups and lists (the global retry policy).
    pub client: Client,
    /// For resets: never repeats a call whose outcome is unknown (the run checks instead).
    pub writer: Client,
    /// The journal (`None` for a dry run: nothing is written).
    pub journal: Option<Journal>,
    /// Where every user stands.
    pub state: RunState,
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
}

impl Runner {
    /// Writes a record to the journal (if any) and applies it.
    fn record(&mut self, record: Record) -> Result<()> {
        if let Some(journal) = &mut self.journal {
            journal.append(&record)?;
        }
        self.state.apply(&record);
        Ok(())
    }

    /// Forces the journal to disk.
    pub fn sync(&mut self) -> Result<()> {
        match &mut self.journal {
            Some(j) => j.sync(),
            None => Ok(()),
        }
    }

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
                !self.state.resolved.contains_key(&key) && seen.insert(key)
            })
            .collect()
    }

    /// Looks up every email not looked up yet.
    pub async fn resolve(&mut self) -> Result<()> {
        let emails = self.unresolved_emails();
        if emails.is_empty() {
            return Ok(());
        }
        ui::note(format!(
            "looking up {} email address(es)",
            thousands(emails.len())
        ));
        let progress = Progress::start("resolving", emails.len() as u64);
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
            self.record(Record::Resolved {
                email,
                user_id: found.map(|u| u.id),
                facts,
            })?;
            progress.inc(1);
        }
        progress.finish();
        self.sync()
    }

    /// The users to act on, each once, in input order: those the input names, less those held
    /// back ([`RunState::hold`]: the token's own user, the primary owner, bots).
    pub fn users(&self) -> Vec<UserId> {
        let mut seen = std::collections::HashSet::new();
        self.entries
            .iter()
            .filter_map(|e| match &e.kind {
                Kind::Id(id) => Some(id.clone()),
                Kind::Email(email) => self
                    .state
                    .resolved
                    .get(&email.to_ascii_lowercase())
                    .cloned()
                    .flatten(),
                Kind::Invalid(_) => None,
            })
            .filter(|u| self.state.hold(u).is_none() && seen.insert(u.clone()))
            .collect()
    }

    /// Settles the calls a previous run left without an answer: lists their users' sessions
    /// and re-sends only to users who still have some.
    pub async fn settle_in_flight(&mut self, order: &[UserId]) -> Result<()> {
        let in_flight = self.state.in_flight(order);
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
        self.record(Record::Reconciled {
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
            super::report::short(self.method)
        ));
        let progress = Progress::start("resetting", pending.len() as u64);
        let mut unknown_in_a_row = 0;
        while let Some(group) = queue.pop() {
            self.check_interrupted()?;
            let step = self.state.next_step;
            self.record(Record::Intent {
                step,
                method: self.method.to_owned(),
                user_ids: group.clone(),
                at_ms: now_ms(),
            })?;
            let answer = ui::waiting(&progress, self.method, self.send(&group)).await;
            let err = match answer {
                Ok(()) => {
                    unknown_in_a_row = 0;
                    self.record(Record::Result {
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
                self.record(Record::Result {
                    step,
                    outcome: Outcome::Partial,
                    error,
                    at_ms: now_ms(),
                })?;
                progress.inc(group.len() as u64);
            } else if err.is_user_refusal() {
                self.record(Record::Result {
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
                self.record(Record::Result {
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
                self.record(Record::Result {
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
            .state
            .select(order, |s| *s == UserState::Sent)
            .into_iter()
            .filter(|u| !partial_only || self.state.partial.contains(*u))
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
        let Runner { journal, state, .. } = self;
        let left = verifier
            .wait_until_gone(
                &sent,
                timeout,
                &|| interrupted.load(Ordering::SeqCst),
                &mut |u: &UserId, n| {
                    let record = Record::Verified {
                        user_id: u.clone(),
                        sessions_left: n,
                    };
                    if let Some(j) = journal.as_mut() {
                        j.append(&record).map_err(Stop::Local)?;
                    }
                    state.apply(&record);
                    progress.inc(1);
                    Ok(())
                },
            )
            .await;
        let left = left.map_err(|e| self.stop(e, "cannot verify sessions"))?;
        for u in order {
            if let Some(n) = left.get(u) {
                self.record(Record::Verified {
                    user_id: u.clone(),
                    sessions_left: *n,
                })?;
            }
        }
        progress.finish();
        self.sync()
    }

    /// Records the end of the run.
    pub fn finish(&mut self, exit_code: u8) -> Result<()> {
        self.record(Record::Finished {
            exit_code,
            at_ms: now_ms(),
        })
    }
}
