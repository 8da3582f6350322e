//! Ending sessions through the journal, with offboarding's guarantees: an intent is fsync'd
//! before each call and its result after; a call whose answer was lost is *settled* (the
//! user's sessions are listed) before anything is sent again, so no session is ended twice.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use slack_sessions_client::api::{ErrorCode, TeamId, UserId};
use slack_sessions_client::methods::{ActiveSession, InvalidateArgs, ListArgs, ResetArgs};
use slack_sessions_client::{Client, Error};

use super::state::{SessionRun, SessionState};
use crate::cli::{Scope, VerifyBy};
use crate::exit::{Failure, Result};
use crate::journal::{Outcome, Record, now_ms};
use crate::journaled::Journaled;
use crate::offboard::verify::Verifier;

/// Calls in a row whose outcome stayed unknown before the run stops (and waits for a resume).
const MAX_UNKNOWN_IN_A_ROW: u32 = 3;

/// What came of ending one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Slack acknowledged it (or a lost answer was checked: the session is gone).
    Done,
    /// The session had ended already (`session_not_found`).
    AlreadyGone,
    /// Slack refused (e.g. `cannot_invalidate_primary_owner`).
    Refused(String),
}

/// Ends sessions and resets users, recording each step.
#[derive(Debug)]
pub struct Ender {
    /// For lists (the global retry policy).
    pub reader: Client,
    /// For writes: never repeats a call whose outcome is unknown (the run checks instead).
    pub writer: Client,
    /// The org id: a user's sessions are listed with it.
    pub org: TeamId,
    /// The run as recorded, and its journal (none for a dry run: nothing is written).
    pub run: Journaled<SessionRun>,
}

/// Whether an error says nothing was applied because of the target itself (not the token,
/// not the network): the session or user is reported, the run goes on.
fn is_target_refusal(code: &ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::SessionNotFound
            | ErrorCode::UserNotFound
            | ErrorCode::CannotInvalidatePrimaryOwner
            | ErrorCode::CannotResetPrimaryOwner
            | ErrorCode::CannotResetBot
            | ErrorCode::BotsNotAllowed
            | ErrorCode::SessionResetNotAllowed
    )
}

fn code_text(err: &Error) -> String {
    err.code()
        .map(|c| c.to_string())
        .unwrap_or_else(|| err.to_string())
}

impl Ender {
    /// Whether `session_id` of `user` is still listed.
    async fn still_listed(&self, user: &UserId, session_id: u64) -> Result<bool> {
        let verifier = self.verifier(VerifyBy::User);
        let found = verifier
            .present(&[(user.clone(), session_id)])
            .await
            .map_err(|e| Failure::api(format!("cannot list the sessions of {user}"), &e))?;
        Ok(found.contains(&session_id))
    }

    fn verifier(&self, by: VerifyBy) -> Verifier {
        Verifier {
            client: self.reader.clone(),
            team: self.org.clone(),
            scope: Scope::default(),
            by,
        }
    }

    /// Settles a call of a previous run that got no answer: the session is listed; gone, it is
    /// done; still there, it goes back to pending (the call never took effect).
    pub async fn settle(&mut self, step: u64, user: &UserId, session_id: u64) -> Result<bool> {
        let gone = !self.still_listed(user, session_id).await?;
        self.run.record(Record::SessionSettled {
            step,
            gone,
            at_ms: now_ms(),
        })?;
        Ok(gone)
    }

    /// Settles a reset whose answer was lost: the user's sessions are listed; none left, it
    /// took effect (or there was nothing to end); some left, it is counted as not applied.
    pub async fn settle_reset(&mut self, step: u64, user: &UserId) -> Result<bool> {
        let left = self.sessions_of(user).await?;
        let (done, resend) = if left.is_empty() {
            (vec![user.clone()], vec![])
        } else {
            (vec![], vec![user.clone()])
        };
        self.run.record(Record::Reconciled {
            step,
            done,
            resend,
            at_ms: now_ms(),
        })?;
        Ok(left.is_empty())
    }

    /// Settles every call a previous run left without an answer. Returns how many.
    pub async fn settle_in_flight(&mut self) -> Result<usize> {
        let mut sessions: Vec<(u64, u64, UserId)> = self
            .run
            .state
            .sessions
            .iter()
            .filter_map(|(id, st)| match st {
                SessionState::InFlight { step } => Some((*step, *id)),
                _ => None,
            })
            .filter_map(|(step, id)| self.run.state.user_of(step).map(|u| (step, id, u.clone())))
            .collect();
        sessions.sort();
        let mut resets: Vec<u64> = self.run.state.open_resets.iter().copied().collect();
        resets.sort();
        for (step, id, user) in &sessions {
            self.settle(*step, user, *id).await?;
        }
        for step in &resets {
            if let Some(user) = self.run.state.user_of(*step).cloned() {
                self.settle_reset(*step, &user).await?;
            }
        }
        Ok(sessions.len() + resets.len())
    }

    /// Ends one session: intent, call, result. A lost answer is settled at once; a session
    /// still listed then is sent again (at most three unknown answers in a row).
    pub async fn end(&mut self, session: &ActiveSession) -> Result<Ended> {
        let id = session.session_id.0;
        let mut unknown = 0;
        loop {
            let step = self.run.state.next_step();
            self.run.record(Record::SessionIntent {
                step,
                session_id: id,
                user_id: session.user_id.clone(),
                at_ms: now_ms(),
            })?;
            let call = InvalidateArgs::new(id, session.user_id.clone());
            let err = match self.writer.invalidate(call).await {
                Ok(_) => {
                    self.result(step, Outcome::Ok, None)?;
                    return Ok(Ended::Done);
                }
                Err(e) => e,
            };
            let code = err.code().cloned();
            if !err.may_have_been_applied() && code.as_ref().is_some_and(is_target_refusal) {
                self.result(step, Outcome::Refused, Some(code_text(&err)))?;
                return Ok(if code == Some(ErrorCode::SessionNotFound) {
                    Ended::AlreadyGone
                } else {
                    Ended::Refused(code_text(&err))
                });
            }
            if err.may_have_been_applied() {
                self.result(step, Outcome::Unknown, Some(code_text(&err)))?;
                if self.settle(step, &session.user_id, id).await? {
                    return Ok(Ended::Done);
                }
                unknown += 1;
                if unknown >= MAX_UNKNOWN_IN_A_ROW {
                    return Err(Failure::api(
                        format!("{unknown} invalidations in a row got no usable answer"),
                        &err,
                    ));
                }
                continue;
            }
            self.result(step, Outcome::NotApplied, Some(code_text(&err)))?;
            return Err(Failure::api(format!("cannot end session {id}"), &err));
        }
    }

    /// Resets a user (every session): intent, call, result. A lost answer is settled at once
    /// by listing the user's sessions.
    pub async fn reset(&mut self, user: &UserId) -> Result<Ended> {
        let step = self.run.state.next_step();
        self.run.record(Record::Intent {
            step,
            method: "admin.users.session.reset".into(),
            user_ids: vec![user.clone()],
            at_ms: now_ms(),
        })?;
        match self.writer.reset(ResetArgs::new(user.clone())).await {
            Ok(_) => {
                self.result(step, Outcome::Ok, None)?;
                Ok(Ended::Done)
            }
            Err(e) if !e.may_have_been_applied() && e.code().is_some_and(is_target_refusal) => {
                self.result(step, Outcome::Refused, Some(code_text(&e)))?;
                Ok(Ended::Refused(code_text(&e)))
            }
            Err(e) if e.may_have_been_applied() => {
                self.result(step, Outcome::Unknown, Some(code_text(&e)))?;
                if self.settle_reset(step, user).await? {
                    Ok(Ended::Done)
                } else {
                    Err(Failure::api(
                        format!(
                            "the reset of {user} got no usable answer, and they still have sessions"
                        ),
                        &e,
                    ))
                }
            }
            Err(e) => {
                self.result(step, Outcome::NotApplied, Some(code_text(&e)))?;
                Err(Failure::api(
                    format!("cannot reset the sessions of {user}"),
                    &e,
                ))
            }
        }
    }

    fn result(&mut self, step: u64, outcome: Outcome, error: Option<String>) -> Result<()> {
        self.run.record(Record::Result {
            step,
            outcome,
            error,
            at_ms: now_ms(),
        })
    }

    /// Looks for every ended, unverified session until all are gone or `timeout` passes;
    /// records each.
    pub async fn verify(
        &mut self,
        timeout: Duration,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<()> {
        let mut left: Vec<(UserId, u64)> = self
            .run
            .state
            .select(|s| *s == SessionState::Ended)
            .iter()
            .map(|s| (s.user_id.clone(), s.session_id.0))
            .collect();
        let started = Instant::now();
        let mut pause = Duration::from_millis(200);
        while !left.is_empty() {
            if interrupted() {
                return Err(Failure::new(
                    crate::exit::INTERRUPTED,
                    "interrupted; nothing is lost: run the same command again to resume",
                ));
            }
            let present: HashSet<u64> = self
                .verifier(VerifyBy::Auto)
                .present(&left)
                .await
                .map_err(|e| Failure::api("cannot verify sessions", &e))?;
            let out_of_time = started.elapsed() >= timeout;
            let mut still = Vec::new();
            for (user, id) in left {
                let gone = !present.contains(&id);
                if gone || out_of_time {
                    self.run.record(Record::SessionVerified {
                        session_id: id,
                        gone,
                    })?;
                } else {
                    still.push((user, id));
                }
            }
            left = still;
            if !left.is_empty() {
                tokio::time::sleep(pause.min(timeout.saturating_sub(started.elapsed()))).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
        self.run.sync()
    }

    /// Lists one user's sessions (for the enforcer's checks after a reset).
    pub async fn sessions_of(&self, user: &UserId) -> Result<Vec<ActiveSession>> {
        use futures::TryStreamExt;
        self.reader
            .list_sessions(ListArgs::for_user(self.org.clone(), user.clone()).limit(1000))
            .try_collect()
            .await
            .map_err(|e| Failure::api(format!("cannot list the sessions of {user}"), &e))
    }
}
