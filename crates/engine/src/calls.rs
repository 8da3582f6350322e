//! The write protocol every run follows, in one place: an intent is journaled and synced before
//! each call, its result after; a call whose answer was lost (a timeout, a cut connection) is
//! *settled* by listing before anything is sent again, so nothing is done twice and nothing is
//! skipped. The writes are sent with a retry policy that never repeats a call whose outcome is
//! unknown: settling is how the run finds out.

use std::time::Duration;

use slack_sessions_client::api::{ErrorCode, TeamId, UserId};
use slack_sessions_client::methods::{InvalidateArgs, ResetArgs, ResetBulkArgs};
use slack_sessions_client::{Client, Error as ClientError};

use crate::Context;
use crate::count::{CountBy, Counter};
use crate::error::{Error, Result};
use crate::events::Events;
use crate::journal::{Call, Devices, Line, Outcome, now_ms};
use crate::journaled::{Journaled, Replay, Shared};
use crate::stop::Stop;

/// Where the write protocol journals a run's calls: the run's journal, held by the run for the
/// length of each call (`Journaled<S>`), or shared with other tasks ([`Shared`]) and locked for
/// each line only, so that no one else waits on Slack for the lock.
pub trait Steps {
    /// The run's own records.
    type Record;

    /// Writes an engine line (a result, a settlement), synced, and applies it.
    fn record(&mut self, line: Line<Self::Record>) -> Result<()>;

    /// Writes the intent of `call` under the next step number, synced; returns the step.
    fn intent(&mut self, call: Call) -> Result<u64>;

    /// The call of `step`.
    fn call_of(&self, step: u64) -> Option<Call>;

    /// Steps whose outcome is still to be found out, in order.
    fn open_steps(&self) -> Vec<u64>;
}

impl<S: Replay> Steps for Journaled<S> {
    type Record = S::Record;

    fn record(&mut self, line: Line<S::Record>) -> Result<()> {
        Journaled::record(self, line)
    }

    fn intent(&mut self, call: Call) -> Result<u64> {
        let step = self.calls.next_step();
        Journaled::record(
            self,
            Line::Intent {
                step,
                call,
                at_ms: now_ms(),
            },
        )?;
        Ok(step)
    }

    fn call_of(&self, step: u64) -> Option<Call> {
        self.calls.step(step).map(|s| s.call.clone())
    }

    fn open_steps(&self) -> Vec<u64> {
        self.calls.open()
    }
}

impl<S: Replay> Steps for Shared<S> {
    type Record = S::Record;

    fn record(&mut self, line: Line<S::Record>) -> Result<()> {
        self.lock().record(line)
    }

    fn intent(&mut self, call: Call) -> Result<u64> {
        Steps::intent(&mut *self.lock(), call)
    }

    fn call_of(&self, step: u64) -> Option<Call> {
        self.lock().call_of(step)
    }

    fn open_steps(&self) -> Vec<u64> {
        self.lock().calls.open()
    }
}

/// Calls in a row whose answer was lost and whose check found them not applied, before a run
/// stops (and waits for a resume).
pub const MAX_UNKNOWN_IN_A_ROW: u32 = 3;

/// What came of a call sent through the journal.
#[derive(Debug)]
pub enum Answer {
    /// Slack acknowledged it.
    Ok,
    /// Slack applied it for some users only (`failed_for_some_users`): a count tells which.
    Partial,
    /// Slack refused it because of what it names, before acting (its code).
    Refused(ErrorCode),
    /// Its answer was lost; a listing found for whom it holds (`done`) and for whom it did not
    /// (`resend`).
    Settled {
        /// Users it holds for (for an invalidation: its user, when the session is gone).
        done: Vec<UserId>,
        /// Users it did not reach.
        resend: Vec<UserId>,
        /// Why the answer was lost.
        cause: ClientError,
    },
}

/// Whether Slack refused a call because of what it names (a user, a session), before acting.
pub fn is_refusal(err: &ClientError) -> bool {
    err.is_user_refusal()
        || (err.code() == Some(&ErrorCode::SessionNotFound) && !err.may_have_been_applied())
}

/// A Slack error code for a report, with what it means when it is a known one.
pub fn code_detail(code: &str) -> String {
    let described = ErrorCode::parse(code).description();
    if described.is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {described}")
    }
}

/// Sends state-changing calls through a run's journal.
#[derive(Debug, Clone)]
pub struct Writer {
    writer: Client,
    reader: Client,
    org: TeamId,
    job_wait: Duration,
    stop: Stop,
    events: Events,
}

impl Writer {
    /// A writer for the context's token in `org` (whose id lists a user's sessions). Reads
    /// keep the client's retry policy; writes never repeat a call whose outcome is unknown.
    pub fn new(ctx: &Context, org: TeamId) -> Writer {
        let client = &ctx.client;
        let policy = client.retry_policy().clone().retry_ambiguous_writes(false);
        Writer {
            writer: client.with_retry_policy(policy),
            reader: client.clone(),
            org,
            job_wait: Duration::from_secs(120),
            stop: ctx.stop.clone(),
            events: ctx.events.clone(),
        }
    }

    /// How long a `resetBulk` job whose answer was lost may take to run before its check
    /// decides that it did not (Slack only queues the job when it answers).
    pub fn job_wait(mut self, wait: Duration) -> Writer {
        self.job_wait = wait;
        self
    }

    /// The stop signal the writer heeds while it checks.
    pub fn stop(&self) -> &Stop {
        &self.stop
    }

    /// A counter of `devices` sessions with this writer's client.
    pub fn counter(&self, devices: Devices, by: CountBy) -> Counter {
        Counter {
            client: self.reader.clone(),
            team: self.org.clone(),
            devices,
            by,
        }
    }

    async fn call(&self, call: &Call) -> Result<(), ClientError> {
        match call {
            Call::Invalidate {
                session_id,
                user_id,
            } => self
                .writer
                .invalidate(InvalidateArgs::new(*session_id, user_id.clone()))
                .await
                .map(drop),
            Call::Reset { user_ids, devices } => {
                let mut args = ResetArgs::new(user_ids[0].clone());
                match devices {
                    Devices::All => {}
                    Devices::Mobile => args = args.mobile_only(true),
                    Devices::Web => args = args.web_only(true),
                }
                self.writer.reset(args).await.map(drop)
            }
            Call::ResetBulk { user_ids, devices } => {
                let mut args = ResetBulkArgs::new(user_ids.iter().cloned());
                match devices {
                    Devices::All => {}
                    Devices::Mobile => args = args.mobile_only(true),
                    Devices::Web => args = args.web_only(true),
                }
                self.writer.reset_bulk(args).await.map(drop)
            }
        }
    }

    /// Sends `call` through the journal: its intent (synced), the call, its result (synced).
    /// A lost answer is settled at once. A call certainly not applied for a reason of the
    /// token, the network or the rate limit ends the run with that error (its result journaled
    /// first).
    pub async fn send<J: Steps>(&self, run: &mut J, call: Call) -> Result<Answer> {
        let what = describe(&call);
        let step = run.intent(call.clone())?;
        let err = match self.call(&call).await {
            Ok(()) => {
                result(run, step, Outcome::Ok, None)?;
                return Ok(Answer::Ok);
            }
            Err(err) => err,
        };
        let text = err
            .code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| err.to_string());
        if err.code() == Some(&ErrorCode::FailedForSomeUsers) {
            result(run, step, Outcome::Partial, Some(text))?;
            Ok(Answer::Partial)
        } else if is_refusal(&err) {
            result(run, step, Outcome::Refused, Some(text.clone()))?;
            Ok(Answer::Refused(
                err.code()
                    .cloned()
                    .unwrap_or_else(|| ErrorCode::parse(&text)),
            ))
        } else if err.may_have_been_applied() {
            result(run, step, Outcome::Unknown, Some(text))?;
            self.events.note(match &call {
                Call::Invalidate { session_id, .. } => format!(
                    "{err}: checking whether session {session_id} is still there instead of sending it again"
                ),
                other => format!(
                    "{err}: checking the sessions of its {} user(s) instead of sending it again",
                    other.users().len()
                ),
            });
            let (done, resend) = self.settle(run, step).await?;
            Ok(Answer::Settled {
                done,
                resend,
                cause: err,
            })
        } else {
            result(run, step, Outcome::NotApplied, Some(text))?;
            Err(Error::slack(format!("cannot {what}"), err))
        }
    }

    /// Settles a call whose answer was lost (now or by an earlier run) by listing: an
    /// invalidation holds if its session is gone; a reset holds for each user with no session
    /// left of its kind (for `resetBulk`, whose job may run later, after waiting up to
    /// [`job_wait`](Self::job_wait) for them to go). Records and returns `(done, resend)`.
    pub async fn settle<J: Steps>(
        &self,
        run: &mut J,
        step: u64,
    ) -> Result<(Vec<UserId>, Vec<UserId>)> {
        let Some(call) = run.call_of(step) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let (done, resend) = match &call {
            Call::Invalidate {
                session_id,
                user_id,
            } => {
                let present = self
                    .counter(Devices::All, CountBy::User)
                    .present(&[(user_id.clone(), *session_id)])
                    .await
                    .map_err(|e| {
                        Error::slack(format!("cannot list the sessions of {user_id}"), e)
                    })?;
                if present.contains(session_id) {
                    (vec![], vec![user_id.clone()])
                } else {
                    (vec![user_id.clone()], vec![])
                }
            }
            Call::Reset { user_ids, devices } | Call::ResetBulk { user_ids, devices } => {
                let wait = match call {
                    Call::ResetBulk { .. } => self.job_wait,
                    _ => Duration::ZERO,
                };
                let mut done = Vec::new();
                let left = self
                    .counter(*devices, CountBy::Auto)
                    .wait_until_gone(user_ids, wait, &self.stop, &mut |u| {
                        done.push(u.clone());
                        Ok(())
                    })
                    .await?;
                let resend = user_ids
                    .iter()
                    .filter(|u| left.contains_key(*u))
                    .cloned()
                    .collect();
                (done, resend)
            }
        };
        run.record(Line::Settled {
            step,
            done: done.clone(),
            resend: resend.clone(),
            at_ms: now_ms(),
        })?;
        Ok((done, resend))
    }

    /// Settles every call an earlier run left without an answer. Returns how many.
    pub async fn settle_open<J: Steps>(&self, run: &mut J) -> Result<usize> {
        let open = run.open_steps();
        for step in &open {
            self.settle(run, *step).await?;
        }
        Ok(open.len())
    }
}

fn result<J: Steps>(run: &mut J, step: u64, outcome: Outcome, error: Option<String>) -> Result<()> {
    run.record(Line::Result {
        step,
        outcome,
        error,
        at_ms: now_ms(),
    })
}

/// A call in words, for errors (`end session 42`).
fn describe(call: &Call) -> String {
    match call {
        Call::Invalidate { session_id, .. } => format!("end session {session_id}"),
        Call::Reset { user_ids, .. } => format!("reset the sessions of {}", user_ids[0]),
        Call::ResetBulk { user_ids, .. } => {
            format!("reset the sessions of {} user(s)", user_ids.len())
        }
    }
}

/// What came of ending a session, or of signing a user out, for a run that acts on sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Slack acknowledged it (or a lost answer was checked: it took effect).
    Done,
    /// The session had ended already (`session_not_found`).
    AlreadyGone,
    /// Slack refused (its code, e.g. `cannot_invalidate_primary_owner`).
    Refused(String),
}

impl Writer {
    /// Ends one session through the journal. A lost answer is settled at once; a session
    /// still listed then is sent again (at most [`MAX_UNKNOWN_IN_A_ROW`] times in a row).
    pub async fn end_session<J: Steps>(
        &self,
        run: &mut J,
        session_id: u64,
        user_id: &UserId,
    ) -> Result<Ended> {
        let mut unknown = 0;
        loop {
            let call = Call::Invalidate {
                session_id,
                user_id: user_id.clone(),
            };
            match self.send(run, call).await? {
                Answer::Ok | Answer::Partial => return Ok(Ended::Done),
                Answer::Refused(ErrorCode::SessionNotFound) => return Ok(Ended::AlreadyGone),
                Answer::Refused(code) => return Ok(Ended::Refused(code.to_string())),
                Answer::Settled { done, cause, .. } => {
                    if !done.is_empty() {
                        return Ok(Ended::Done);
                    }
                    unknown += 1;
                    if unknown >= MAX_UNKNOWN_IN_A_ROW {
                        return Err(Error::slack(
                            format!("{unknown} invalidations in a row got no usable answer"),
                            cause,
                        ));
                    }
                }
            }
        }
    }

    /// Signs one user out of every session through the journal. A lost answer is settled at
    /// once by listing the user's sessions; some still there is an error (the run stops, and
    /// its resume checks again).
    pub async fn reset_user<J: Steps>(&self, run: &mut J, user_id: &UserId) -> Result<Ended> {
        let call = Call::Reset {
            user_ids: vec![user_id.clone()],
            devices: Devices::All,
        };
        match self.send(run, call).await? {
            Answer::Ok | Answer::Partial => Ok(Ended::Done),
            Answer::Refused(code) => Ok(Ended::Refused(code.to_string())),
            Answer::Settled { done, cause, .. } => {
                if done.is_empty() {
                    Err(Error::slack(
                        format!(
                            "the reset of {user_id} got no usable answer, and they still have sessions"
                        ),
                        cause,
                    ))
                } else {
                    Ok(Ended::Done)
                }
            }
        }
    }
}
