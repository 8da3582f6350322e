//! Where each session of a bulk invalidation stands, replayed from the journal: the targets
//! found, the engine's calls, and the checks after.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use slack_sessions_client::methods::ActiveSession;

use crate::journal::Line;
use crate::journaled::{Calls, Reached, Replay, StepState};

/// A bulk invalidation's own records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A session the filters found, to be ended.
    Target {
        /// The session as listed.
        session: Box<ActiveSession>,
    },
    /// Every target is recorded: the search is over and is not made again by a resume.
    Selected {
        /// How many sessions.
        count: u64,
        /// When.
        at_ms: u64,
    },
    /// A session was looked for after it was ended.
    Looked {
        /// The session.
        session_id: u64,
        /// It was no longer listed.
        gone: bool,
    },
}

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

/// The run as the journal tells it.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// The targets, in the order they were found.
    pub targets: Vec<ActiveSession>,
    index: HashMap<u64, usize>,
    /// Whether the search for targets finished.
    pub selected: bool,
    /// The last call on each session.
    last_step: HashMap<u64, u64>,
    /// Sessions looked for after the run.
    looked: HashMap<u64, bool>,
}

impl Replay for State {
    type Record = Record;

    fn apply(&mut self, line: &Line<Record>, _: &Calls) {
        match line {
            Line::Run(Record::Target { session }) => {
                let id = session.session_id.0;
                if !self.index.contains_key(&id) {
                    self.index.insert(id, self.targets.len());
                    self.targets.push(session.as_ref().clone());
                }
            }
            Line::Run(Record::Selected { .. }) => self.selected = true,
            Line::Run(Record::Looked { session_id, gone }) => {
                self.looked.insert(*session_id, *gone);
            }
            Line::Intent { step, call, .. } => {
                if let Some(id) = call.session() {
                    self.last_step.insert(id, *step);
                }
            }
            _ => {}
        }
    }

    fn must_sync(record: &Record) -> bool {
        matches!(record, Record::Selected { .. })
    }
}

impl State {
    /// A session's state (pending if never acted on).
    pub fn of(&self, session_id: u64, calls: &Calls) -> SessionState {
        if let Some(gone) = self.looked.get(&session_id) {
            return SessionState::Verified { gone: *gone };
        }
        let Some((number, step)) = self
            .last_step
            .get(&session_id)
            .and_then(|n| calls.step(*n).map(|s| (*n, s)))
        else {
            return SessionState::Pending;
        };
        let user = &step.call.users()[0];
        match step.reached(user) {
            Reached::Open => SessionState::InFlight { step: number },
            Reached::Applied if matches!(step.state, StepState::Settled { .. }) => {
                SessionState::Settled
            }
            Reached::Applied => SessionState::Ended,
            Reached::Refused(code) if code == "session_not_found" => SessionState::AlreadyGone,
            Reached::Refused(code) => SessionState::Refused { code },
            Reached::NotApplied => SessionState::Pending,
        }
    }

    /// The targets in a state, in the order they were found.
    pub fn select(
        &self,
        calls: &Calls,
        pick: impl Fn(&SessionState) -> bool,
    ) -> Vec<ActiveSession> {
        self.targets
            .iter()
            .filter(|s| pick(&self.of(s.session_id.0, calls)))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::fixtures::header;
    use crate::journal::{Call, Outcome, RunKind};
    use crate::journaled::Journaled;
    use slack_sessions_client::api::{SessionId, TeamId, UserId};
    use slack_sessions_client::methods::DeviceRecord;

    type L = Line<Record>;

    fn target(id: u64) -> L {
        L::Run(Record::Target {
            session: Box::new(ActiveSession::new(
                UserId::new("W1"),
                TeamId::new("T1"),
                SessionId(id),
                DeviceRecord::default(),
                None,
            )),
        })
    }

    fn intent(step: u64, id: u64) -> L {
        L::Intent {
            step,
            call: Call::Invalidate {
                session_id: id,
                user_id: UserId::new("W1"),
            },
            at_ms: step,
        }
    }

    fn result(step: u64, outcome: Outcome, error: Option<&str>) -> L {
        L::Result {
            step,
            outcome,
            error: error.map(Into::into),
            at_ms: 0,
        }
    }

    #[test]
    fn sessions_replay_through_every_outcome() {
        let h = header(RunKind::Invalidate, "d");
        let run: Journaled<State> = Journaled::new(
            None,
            h.clone(),
            &[
                L::Start(h),
                target(10),
                target(11),
                target(12),
                target(13),
                target(14),
                target(10),
                L::Run(Record::Selected { count: 5, at_ms: 0 }),
                intent(1, 10),
                result(1, Outcome::Ok, None),
                intent(2, 11),
                result(2, Outcome::Refused, Some("session_not_found")),
                intent(3, 12),
                result(3, Outcome::Unknown, Some("timeout")),
                L::Settled {
                    step: 3,
                    done: vec![UserId::new("W1")],
                    resend: vec![],
                    at_ms: 0,
                },
                intent(4, 13),
                result(4, Outcome::NotApplied, Some("ratelimited")),
                intent(5, 14),
            ],
        );
        let (s, c) = (&run.state, &run.calls);
        assert_eq!(s.targets.len(), 5, "a target found twice is kept once");
        assert!(s.selected);
        assert_eq!(s.of(10, c), SessionState::Ended);
        assert_eq!(s.of(11, c), SessionState::AlreadyGone);
        assert_eq!(s.of(12, c), SessionState::Settled);
        assert_eq!(s.of(13, c), SessionState::Pending);
        assert_eq!(s.of(14, c), SessionState::InFlight { step: 5 });
        assert_eq!(c.next_step(), 6);
        assert_eq!(c.total(), 5);
        assert_eq!(
            s.select(c, |st| *st == SessionState::Pending)
                .iter()
                .map(|s| s.session_id.0)
                .collect::<Vec<_>>(),
            vec![13]
        );
    }
}
