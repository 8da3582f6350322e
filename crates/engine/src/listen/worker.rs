//! The worker: pending signals, in the order they were accepted, to sign-outs within the
//! guardrails (see the [module docs](super)). It holds the journal's lock only to write a line,
//! never across a call to Slack, so that [`super::Listener::accept`] never waits on Slack.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use slack_sessions_client as slack;
use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::{Reset, UsersList, UsersListArgs};

use super::state::{Came, Outcome, Pending, Record};
use super::{Action, Lookup, Subject, Worker};
use crate::calls::Ended;
use crate::error::{Error, Result};
use crate::guardrails::HOUR_MS;
use crate::journal::now_ms;
use crate::text::visible;

/// The first pause after a Slack error; it doubles up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_secs(5);

/// The longest pause after Slack errors in a row.
const BACKOFF_MAX: Duration = Duration::from_secs(5 * 60);

/// How often the org's active users are counted again (the circuit breaker's base).
const HUMANS_FOR: Duration = Duration::from_secs(6 * 3600);

/// The longest the worker sleeps with nothing to do (it wakes for a signal at once).
const IDLE_MAX: Duration = Duration::from_secs(10 * 60);

/// What became of a pending signal on this pass.
enum Next {
    /// Settled, or handed over to a reset.
    Done,
    /// It waits for the guardrails: until this time (ms), or until woken.
    Wait(Option<u64>),
}

impl Worker {
    /// Acts on accepted signals, in order, until the context's stop is asked.
    pub async fn run(mut self) -> Result<()> {
        let stop = self.inner.ctx.stop.clone();
        let mut backoff = BACKOFF_FIRST;
        while !stop.asked() {
            match self.pass().await {
                Ok(until) => {
                    backoff = BACKOFF_FIRST;
                    self.sync()?;
                    self.idle(until).await;
                }
                Err(Error::Interrupted) => break,
                Err(e @ (Error::Local { .. } | Error::Refused { .. })) => {
                    self.inner.journal_open.store(false, Ordering::Relaxed);
                    return Err(e);
                }
                Err(e) => {
                    self.inner.failed(&e);
                    self.inner.ctx.events.warn(format!(
                        "{e}; the signals stay pending, trying again in {}",
                        humantime::format_duration(backoff)
                    ));
                    if !stop.sleep(backoff).await {
                        break;
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        self.sync()
    }

    /// Sets the least length at which the journal is compacted (tests).
    #[cfg(test)]
    pub(crate) fn compact_after(mut self, least: usize) -> Worker {
        self.compact_after = least;
        self
    }

    fn sync(&self) -> Result<()> {
        let synced = self.inner.run.lock().sync();
        self.inner.journal_failed(synced)
    }

    /// Sleeps until `until` (ms), a signal or a resume, or a stop.
    async fn idle(&self, until: Option<u64>) {
        let d = until.map_or(IDLE_MAX, |at| {
            Duration::from_millis(at.saturating_sub(now_ms())).min(IDLE_MAX)
        });
        let woken = self.inner.wake.notified();
        tokio::select! {
            _ = woken => {}
            _ = self.inner.ctx.stop.sleep(d) => {}
        }
    }

    /// One pass over the pending signals; returns when the guardrails free a slot, if one
    /// holds a signal.
    async fn pass(&mut self) -> Result<Option<u64>> {
        self.reconcile().await?;
        let order: Vec<u64> = self
            .inner
            .run
            .lock()
            .state
            .pending
            .keys()
            .copied()
            .collect();
        let mut wake_at: Option<u64> = None;
        for n in order {
            if self.inner.ctx.stop.asked() {
                return Ok(None);
            }
            let Some(p) = self.inner.run.lock().state.pending.get(&n).cloned() else {
                continue; // covered meanwhile
            };
            if let Next::Wait(Some(at)) = self.work(n, &p).await? {
                wake_at = Some(wake_at.map_or(at, |w| w.min(at)));
            }
            let compacted = self.inner.run.lock().compact_after(self.compact_after);
            self.inner.journal_failed(compacted)?;
            self.ledger.compact()?;
        }
        Ok(wake_at)
    }

    /// Settles what an earlier pass (or process) left under way: calls whose answer was lost
    /// are checked by listing before anything is sent again; a reset that took effect settles
    /// its signal, one that did not releases it (and voids its ledger action).
    async fn reconcile(&mut self) -> Result<()> {
        let open = self.inner.run.lock().calls.open().len();
        if open > 0 {
            self.inner.ctx.events.note(format!(
                "checking {open} sign-out(s) whose answer was lost, before anything is sent again"
            ));
            let mut run = self.inner.run.clone();
            self.writer.settle_open(&mut run).await?;
        }
        let acting: Vec<(u64, UserId, u64)> = {
            let run = self.inner.run.lock();
            run.state
                .acting
                .iter()
                .map(|(n, a)| (*n, a.user_id.clone(), a.ledger))
                .collect()
        };
        for (n, user, ledger) in acting {
            let came = {
                let run = self.inner.run.lock();
                run.state.came(n, &run.calls)
            };
            match came {
                Came::Open => {}
                Came::Reset => self.close_reset(n, &user)?,
                Came::Refused(code) => {
                    self.ledger.void(ledger)?;
                    self.settle(n, Outcome::Refused, Some(code))?;
                }
                Came::Nothing => {
                    self.ledger.void(ledger)?;
                    self.record(Record::Released { n })?;
                }
            }
        }
        Ok(())
    }

    fn record(&self, record: Record) -> Result<()> {
        let written = self.inner.run.lock().run(record);
        self.inner.journal_failed(written)
    }

    /// Acts on one pending signal.
    async fn work(&mut self, n: u64, p: &Pending) -> Result<Next> {
        match (&p.signal.action, &p.signal.subject) {
            (Action::Record, _) => self.settle(n, Outcome::Recorded, None)?,
            (Action::Reset, Subject::Unmapped { .. }) => self.settle(n, Outcome::Unmapped, None)?,
            (Action::Reset, Subject::Email { email }) => return self.reset(n, email).await,
        }
        Ok(Next::Done)
    }

    /// Signs out the user signal `n` names by `email`, within the guardrails.
    async fn reset(&mut self, n: u64, email: &str) -> Result<Next> {
        if self.inner.run.lock().state.breaker.is_some() {
            return Ok(Next::Wait(None));
        }
        let now = now_ms();
        let hour_ago = now.saturating_sub(HOUR_MS);
        let cap = self.guardrails.max_actions_per_hour;
        let taken = self.ledger.history().taken_since(hour_ago);
        if taken >= cap {
            let frees = self.ledger.history().frees_at(hour_ago);
            if !self.told_cap {
                self.told_cap = true;
                self.inner.ctx.events.note(format!(
                    "{taken} sign-out(s) within the hour reach max_actions_per_hour ({cap}): signals \
                     that ask for one wait{}",
                    frees.map_or(String::new(), |at| format!(
                        " until {}",
                        crate::journal::utc(at).replace('T', " ").replace('Z', " UTC")
                    ))
                ));
            }
            return Ok(Next::Wait(frees));
        }
        self.told_cap = false;
        let found = match self.inner.lookup(email).await {
            Err(e) => match refused_for_the_address(&e) {
                Some(code) => {
                    self.settle(n, Outcome::NotFound, Some(code))?;
                    return Ok(Next::Done);
                }
                None => return Err(e),
            },
            Ok(found) => found,
        };
        let user = match found {
            Lookup::NotFound => {
                self.settle(n, Outcome::NotFound, None)?;
                return Ok(Next::Done);
            }
            Lookup::Refused(_, word) => {
                self.settle(n, Outcome::Refused, Some(word.to_owned()))?;
                return Ok(Next::Done);
            }
            Lookup::User(id) => id,
        };
        if user == self.inner.org.me.user_id {
            self.settle(n, Outcome::Exempt, Some("the token's owner".to_owned()))?;
            return Ok(Next::Done);
        }
        if self.guardrails.exempt_users.contains(&user) {
            self.settle(n, Outcome::Exempt, Some("exempt_users".to_owned()))?;
            return Ok(Next::Done);
        }
        if self.breaker_trips(&user).await? {
            return Ok(Next::Wait(None));
        }
        let ledger = self.ledger.taken(&user)?;
        {
            let mut run = self.inner.run.lock();
            let upto = run.state.last_n;
            let written = run.run(Record::Acting {
                n,
                user_id: user.clone(),
                ledger,
                upto,
            });
            self.inner.journal_failed(written)?;
        }
        self.inner.note_pacing::<Reset>();
        let mut run = self.inner.run.clone();
        // An error leaves the signal acting: the next pass's reconcile settles it.
        match self.writer.reset_user(&mut run, &user).await? {
            Ended::Done | Ended::AlreadyGone => {
                self.inner.answered();
                self.close_reset(n, &user)?;
            }
            Ended::Refused(code) => {
                self.ledger.void(ledger)?;
                self.settle(n, Outcome::Refused, Some(code))?;
            }
        }
        Ok(Next::Done)
    }

    /// Whether signing `user` out would pass `max_share` of the org's active users signed out
    /// within the hour (since the breaker was last resumed): then it trips, journaled.
    async fn breaker_trips(&mut self, user: &UserId) -> Result<bool> {
        let humans = self.humans().await?;
        let share = self.guardrails.max_share;
        let allowed = ((share * humans as f64).floor() as u64).max(1);
        let resumed = self.inner.run.lock().state.resumed_at_ms.unwrap_or(0);
        let since = now_ms().saturating_sub(HOUR_MS).max(resumed);
        let users = self.ledger.history().users_since(since);
        let signed_out = users.len() as u64;
        if users.contains(user) || signed_out < allowed {
            return Ok(false);
        }
        let reason = format!(
            "{signed_out} user(s) signed out within the hour; one more would pass max_share {share} \
             of the org's {humans} active users ({allowed} allowed)"
        );
        self.record(Record::Tripped {
            reason: reason.clone(),
            at_ms: now_ms(),
        })?;
        self.inner.ctx.events.warn(format!(
            "circuit breaker tripped: {reason}; signals that ask for a sign-out wait until an \
             admin resumes it"
        ));
        Ok(true)
    }

    /// The org's active users (not deleted, not bots, not Slackbot), counted by a walk of
    /// `users.list` every [`HUMANS_FOR`].
    async fn humans(&mut self) -> Result<u64> {
        if let Some((n, at)) = self.humans
            && at.elapsed() < HUMANS_FOR
        {
            return Ok(n);
        }
        let inner = &self.inner;
        inner.note_pacing::<UsersList>();
        let args = UsersListArgs::new(inner.org.id.clone());
        let mut walk = inner.ctx.client.list_users(args);
        let mut n = 0u64;
        loop {
            let user = match walk.try_next().await {
                Ok(user) => user,
                Err(e) => {
                    let err = Error::slack("cannot count the org's users (users.list)", e);
                    inner.failed(&err);
                    return Err(err);
                }
            };
            let Some(user) = user else { break };
            if !user.deleted && !user.is_bot && user.id.as_str() != UserId::SLACKBOT {
                n += 1;
            }
        }
        inner.answered();
        let allowed = ((self.guardrails.max_share * n as f64).floor() as u64).max(1);
        inner.ctx.events.note(format!(
            "{n} active user(s) in the org: the circuit breaker allows {allowed} sign-out(s) within the hour"
        ));
        self.humans = Some((n, Instant::now()));
        Ok(n)
    }

    /// Settles signal `n`, whose reset of `user` took effect, and the pending resets of the
    /// same user accepted before it was decided.
    fn close_reset(&mut self, n: u64, user: &UserId) -> Result<()> {
        let covered: Vec<u64> = {
            let run = self.inner.run.lock();
            let (Some(acting), Some(email)) = (
                run.state.acting.get(&n),
                run.state.pending.get(&n).and_then(Pending::reset_email),
            ) else {
                return Ok(());
            };
            // The same address, and the addresses the cache holds as the same user's.
            let mut addresses = self.inner.cache.addresses_of(user);
            addresses.push(email);
            let mut covered: Vec<u64> = addresses
                .iter()
                .filter_map(|a| run.state.resets.get(a))
                .flat_map(|numbers| numbers.range(..=acting.upto))
                .copied()
                .filter(|m| *m != n)
                .collect();
            covered.sort_unstable();
            covered.dedup();
            covered
        };
        for m in covered {
            self.settle(m, Outcome::Covered, Some(format!("by signal {n}")))?;
        }
        self.settle(n, Outcome::Reset, Some(user.to_string()))
    }

    /// Settles signal `n` with `outcome`, and says so in one line.
    fn settle(&self, n: u64, outcome: Outcome, detail: Option<String>) -> Result<()> {
        let pending = {
            let mut run = self.inner.run.lock();
            let pending = run.state.pending.get(&n).cloned();
            let written = run.run(Record::Done {
                n,
                outcome,
                detail: detail.clone(),
            });
            self.inner.journal_failed(written)?;
            pending
        };
        if let Some(p) = pending {
            let line = said(n, &p, outcome, detail.as_deref());
            if outcome == Outcome::Refused {
                self.inner.ctx.events.warn(line);
            } else {
                self.inner.ctx.events.note(line);
            }
        }
        Ok(())
    }
}

/// The code of an answer by which Slack refused to look an address up for a reason of the
/// address itself: one that neither the token, the rate limit nor a passing failure explains,
/// so that asking again would not help, and the signal must not hold up those behind it.
fn refused_for_the_address(err: &Error) -> Option<String> {
    let Error::Slack { source, .. } = err else {
        return None;
    };
    let slack::Error::Slack(answer) = source.as_ref() else {
        return None;
    };
    (!source.is_auth() && !source.is_permission() && !source.is_transient())
        .then(|| answer.code.to_string())
}

/// A settled signal in one line: `signal 7: okta user.session.clear ada@example.com: reset
/// (W0123)`. What came from outside is shown, never obeyed, by a terminal.
fn said(n: u64, p: &Pending, outcome: Outcome, detail: Option<&str>) -> String {
    let s = &p.signal;
    let subject = match &s.subject {
        Subject::Email { email } => visible(email),
        Subject::Unmapped { described } => visible(described),
    };
    let detail = detail.map_or(String::new(), |d| format!(" ({})", visible(d)));
    format!(
        "signal {n}: {} {} {subject}: {}{detail}",
        s.source.as_str(),
        visible(&s.event),
        outcome.as_str()
    )
}
