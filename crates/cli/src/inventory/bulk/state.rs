//! Where each session of a run on sessions stands, replayed from the journal (the same journal
//! as offboarding's: [`crate::journal`]).

use std::collections::HashMap;

use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::ActiveSession;

use crate::journal::{Outcome, Reason, Record};
use crate::journaled::Replay;

/// Where one session stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Nothing sent yet (or sent and certainly not applied).
    Pending,
    /// A call was sent (or about to be) and its outcome is unknown: check before sending again.
    InFlight {
        /// Its step.
        step: u64,
    },
    /// Slack acknowledged the invalidation; not verified yet.
    Ended,
    /// Slack answered `session_not_found`: the session had ended already.
    AlreadyGone,
    /// A call with an unknown outcome was checked: the session is no longer listed.
    Settled,
    /// Slack refused to end it.
    Refused {
        /// Slack's error code.
        code: String,
    },
    /// Looked for after the run: gone, or still listed.
    Verified {
        /// No longer listed.
        gone: bool,
    },
}

impl SessionState {
    /// The session is known to be over (nothing more to do for it).
    pub fn is_over(&self) -> bool {
        matches!(
            self,
            SessionState::AlreadyGone | SessionState::Settled | SessionState::Verified { .. }
        ) || matches!(self, SessionState::Refused { .. })
    }
}

/// An action taken on a user (an invalidation of one of their sessions, or a reset of them
/// all), for cooldowns and caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// The user.
    pub user_id: UserId,
    /// When it was sent (ms since the Unix epoch).
    pub at_ms: u64,
    /// Its step.
    pub step: u64,
}

/// A run on sessions as the journal tells it.
#[derive(Clone, Debug, Default)]
pub struct SessionRun {
    /// The targets, in the order they were found.
    pub targets: Vec<ActiveSession>,
    index: HashMap<u64, usize>,
    /// Whether the search for targets finished.
    pub selected: bool,
    /// Each session acted on.
    pub sessions: HashMap<u64, SessionState>,
    /// Each step's session (invalidations) or users (resets).
    pub steps: HashMap<u64, StepOf>,
    /// The last step number used (0: none yet).
    pub last_step: u64,
    /// State-changing calls made.
    pub calls: u64,
    /// Every action sent, in order.
    pub actions: Vec<Action>,
    /// Steps whose action did not take effect (certainly not applied, or checked: not applied).
    pub void: std::collections::HashSet<u64>,
    /// Resets sent whose outcome is not known yet (no result, or unknown and not checked).
    pub open_resets: std::collections::HashSet<u64>,
    /// Set when the run finished, with its exit code.
    pub finished: Option<u8>,
    /// Enforcement's decisions ([`Record::Decided`]), by number.
    pub decided: std::collections::BTreeMap<u64, Reason>,
    /// What came of each decision whose calls have a known outcome.
    pub decision_results: HashMap<u64, DecisionResult>,
    /// The decision each step's call carried out.
    decision_of_step: HashMap<u64, u64>,
    /// The decision the next calls carry out (until the run stops).
    current_decision: Option<u64>,
}

/// What came of a decision, as the journal tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecisionResult {
    /// It took effect (the detail says how it is known).
    Done(String),
    /// Slack refused it (its code).
    Failed(String),
}

/// What a step acted on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepOf {
    /// One session (`invalidate`).
    Session(u64),
    /// Users (`reset`).
    Users(Vec<UserId>),
}

impl Replay for SessionRun {
    fn apply(&mut self, record: &Record) {
        self.follow_decisions(record);
        match record {
            Record::Start { .. } | Record::Resume { .. } => self.finished = None,
            Record::Target { session } => {
                let id = session.session_id.0;
                if !self.index.contains_key(&id) {
                    self.index.insert(id, self.targets.len());
                    self.targets.push(session.clone());
                }
            }
            Record::Selected { .. } => self.selected = true,
            Record::SessionIntent {
                step,
                session_id,
                user_id,
                at_ms,
            } => {
                self.begin(*step, *at_ms, std::slice::from_ref(user_id));
                self.steps.insert(*step, StepOf::Session(*session_id));
                self.sessions
                    .insert(*session_id, SessionState::InFlight { step: *step });
            }
            Record::Intent {
                step,
                user_ids,
                at_ms,
                ..
            } => {
                self.begin(*step, *at_ms, user_ids);
                self.steps.insert(*step, StepOf::Users(user_ids.clone()));
                self.open_resets.insert(*step);
            }
            Record::Result {
                step,
                outcome,
                error,
                ..
            } => {
                if matches!(outcome, Outcome::NotApplied | Outcome::Refused) {
                    self.void.insert(*step);
                }
                if *outcome != Outcome::Unknown {
                    self.open_resets.remove(step);
                }
                let Some(StepOf::Session(id)) = self.steps.get(step) else {
                    return;
                };
                let code = error.clone().unwrap_or_default();
                let next = match outcome {
                    Outcome::Ok | Outcome::Partial => SessionState::Ended,
                    Outcome::NotApplied => SessionState::Pending,
                    Outcome::Refused if code == "session_not_found" => SessionState::AlreadyGone,
                    Outcome::Refused => SessionState::Refused { code },
                    Outcome::Unknown => return,
                };
                self.sessions.insert(*id, next);
            }
            Record::SessionSettled { step, gone, .. } => {
                if !gone {
                    self.void.insert(*step);
                }
                if let Some(StepOf::Session(id)) = self.steps.get(step) {
                    let next = if *gone {
                        SessionState::Settled
                    } else {
                        SessionState::Pending
                    };
                    self.sessions.insert(*id, next);
                }
            }
            Record::SessionVerified { session_id, gone } => {
                self.sessions
                    .insert(*session_id, SessionState::Verified { gone: *gone });
            }
            Record::Reconciled { step, resend, .. } => {
                self.open_resets.remove(step);
                if !resend.is_empty() {
                    self.void.insert(*step);
                }
            }
            Record::Finished { exit_code, .. } => self.finished = Some(*exit_code),
            Record::Decided { .. } => {}
            Record::Resolved { .. } | Record::Known { .. } | Record::Verified { .. } => {}
        }
    }
}

impl SessionRun {
    /// The step number of the next call (steps count from 1).
    pub fn next_step(&self) -> u64 {
        self.last_step + 1
    }

    /// Follows enforcement's decisions: which calls carry each out, and what came of them.
    fn follow_decisions(&mut self, record: &Record) {
        let decision_of = |run: &Self, step: &u64| run.decision_of_step.get(step).copied();
        let (decision, result) = match record {
            Record::Start { .. } | Record::Resume { .. } => {
                self.current_decision = None;
                return;
            }
            Record::Decided { decision, reason } => {
                self.decided.insert(*decision, reason.clone());
                self.current_decision = Some(*decision);
                return;
            }
            Record::SessionIntent { step, .. } | Record::Intent { step, .. } => {
                if let Some(d) = self.current_decision {
                    self.decision_of_step.insert(*step, d);
                }
                return;
            }
            Record::Result {
                step,
                outcome,
                error,
                ..
            } => {
                let code = error.clone().unwrap_or_default();
                let result = match outcome {
                    Outcome::Ok | Outcome::Partial => DecisionResult::Done("sent".into()),
                    Outcome::Refused if code == "session_not_found" => {
                        DecisionResult::Done("had ended already (session_not_found)".into())
                    }
                    Outcome::Refused => DecisionResult::Failed(code),
                    Outcome::NotApplied | Outcome::Unknown => return,
                };
                (decision_of(self, step), result)
            }
            Record::SessionSettled {
                step, gone: true, ..
            } => (
                decision_of(self, step),
                DecisionResult::Done("its answer was lost; checked: the session is gone".into()),
            ),
            Record::Reconciled { step, done, .. } if !done.is_empty() => (
                decision_of(self, step),
                DecisionResult::Done("its answer was lost; checked: no session left".into()),
            ),
            _ => return,
        };
        if let Some(d) = decision {
            self.decision_results.insert(d, result);
        }
    }

    fn begin(&mut self, step: u64, at_ms: u64, users: &[UserId]) {
        self.last_step = self.last_step.max(step);
        self.calls += 1;
        for u in users {
            self.actions.push(Action {
                user_id: u.clone(),
                at_ms,
                step,
            });
        }
    }

    /// Every action with whether it took effect (not refused, not certainly unapplied, not
    /// checked and found unapplied); one whose outcome is still open counts as taken.
    pub fn history(&self) -> Vec<(Action, bool)> {
        self.actions
            .iter()
            .map(|a| (a.clone(), !self.void.contains(&a.step)))
            .collect()
    }

    /// The user an action of `step` was for.
    pub fn user_of(&self, step: u64) -> Option<&UserId> {
        self.actions
            .iter()
            .find(|a| a.step == step)
            .map(|a| &a.user_id)
    }

    /// A session's state (pending if never acted on).
    pub fn of(&self, session_id: u64) -> SessionState {
        self.sessions
            .get(&session_id)
            .cloned()
            .unwrap_or(SessionState::Pending)
    }

    /// A target by its id.
    pub fn target(&self, session_id: u64) -> Option<&ActiveSession> {
        self.index.get(&session_id).map(|i| &self.targets[*i])
    }

    /// The targets in a state, in the order they were found.
    pub fn select(&self, pick: impl Fn(&SessionState) -> bool) -> Vec<ActiveSession> {
        self.targets
            .iter()
            .filter(|s| pick(&self.of(s.session_id.0)))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::fixtures::result;
    use slack_sessions_client::api::{SessionId, TeamId};
    use slack_sessions_client::methods::DeviceRecord;

    fn target(id: u64) -> Record {
        Record::Target {
            session: ActiveSession::new(
                UserId::new("W1"),
                TeamId::new("T1"),
                SessionId(id),
                DeviceRecord::default(),
                None,
            ),
        }
    }

    fn intent(step: u64, id: u64) -> Record {
        Record::SessionIntent {
            step,
            session_id: id,
            user_id: UserId::new("W1"),
            at_ms: step,
        }
    }

    #[test]
    fn sessions_replay_through_every_outcome() {
        let run = SessionRun::replay(&[
            target(10),
            target(11),
            target(12),
            target(13),
            target(14),
            target(10),
            Record::Selected { count: 5, at_ms: 0 },
            intent(1, 10),
            result(1, Outcome::Ok, None),
            intent(2, 11),
            result(2, Outcome::Refused, Some("session_not_found")),
            intent(3, 12),
            result(3, Outcome::Unknown, Some("timeout")),
            Record::SessionSettled {
                step: 3,
                gone: true,
                at_ms: 0,
            },
            intent(4, 13),
            result(4, Outcome::NotApplied, Some("ratelimited")),
            intent(5, 14),
        ]);
        assert_eq!(run.targets.len(), 5, "a target found twice is kept once");
        assert!(run.selected);
        assert_eq!(run.of(10), SessionState::Ended);
        assert_eq!(run.of(11), SessionState::AlreadyGone);
        assert_eq!(run.of(12), SessionState::Settled);
        assert_eq!(run.of(13), SessionState::Pending);
        assert_eq!(run.of(14), SessionState::InFlight { step: 5 });
        assert_eq!(run.next_step(), 6);
        assert_eq!(run.calls, 5);
        assert!(run.void.contains(&4) && run.void.contains(&2) && !run.void.contains(&3));
        assert_eq!(
            run.select(|s| *s == SessionState::Pending)
                .iter()
                .map(|s| s.session_id.0)
                .collect::<Vec<_>>(),
            vec![13]
        );
    }
}
