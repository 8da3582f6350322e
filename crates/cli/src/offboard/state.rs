//! Where each user stands, replayed from the journal.

use std::collections::HashMap;

use slack_sessions_client::api::UserId;

use super::journal::{Outcome, Record};

/// Where one user stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserState {
    /// Nothing sent yet (or sent and certainly not applied).
    Pending,
    /// A call was sent (or about to be) and its outcome is unknown: check before sending again.
    InFlight {
        /// Its step.
        step: u64,
    },
    /// Slack acknowledged the reset; not verified yet.
    Sent,
    /// Slack refused to reset this user.
    Refused {
        /// Slack's error code.
        code: String,
    },
    /// Sessions counted after the reset.
    Verified {
        /// Sessions left (0: done).
        sessions_left: u64,
    },
    /// A call with an unknown outcome was checked: no sessions left.
    Reconciled,
}

/// The run as the journal tells it.
#[derive(Clone, Debug, Default)]
pub struct RunState {
    /// Emails looked up: the user, or `None` if Slack has none with it. Keyed lower-case.
    pub resolved: HashMap<String, Option<UserId>>,
    /// Each user acted on.
    pub users: HashMap<UserId, UserState>,
    /// The method last used on each user (for the report).
    pub method_of: HashMap<UserId, String>,
    /// Each step's method and users.
    pub steps: HashMap<u64, (String, Vec<UserId>)>,
    /// The next step number.
    pub next_step: u64,
    /// State-changing calls made, by method.
    pub calls: HashMap<String, u64>,
    /// Set when the run finished, with its exit code.
    pub finished: Option<u8>,
}

impl RunState {
    /// Replays a journal.
    pub fn replay(records: &[Record]) -> RunState {
        let mut state = RunState {
            next_step: 1,
            ..RunState::default()
        };
        for record in records {
            state.apply(record);
        }
        state
    }

    /// Applies one record (also used as the run goes, so that memory and journal agree).
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::Start { .. } | Record::Resume { .. } => {
                self.finished = None;
            }
            Record::Resolved { email, user_id } => {
                self.resolved
                    .insert(email.to_ascii_lowercase(), user_id.clone());
            }
            Record::Intent {
                step,
                method,
                user_ids,
                ..
            } => {
                self.next_step = self.next_step.max(step + 1);
                *self.calls.entry(method.clone()).or_default() += 1;
                for u in user_ids {
                    self.users
                        .insert(u.clone(), UserState::InFlight { step: *step });
                    self.method_of.insert(u.clone(), method.clone());
                }
                self.steps.insert(*step, (method.clone(), user_ids.clone()));
            }
            Record::Result {
                step,
                outcome,
                error,
                ..
            } => {
                let Some((_, users)) = self.steps.get(step) else {
                    return;
                };
                let next = match outcome {
                    Outcome::Ok | Outcome::Partial => Some(UserState::Sent),
                    Outcome::NotApplied => Some(UserState::Pending),
                    Outcome::Refused if users.len() == 1 => Some(UserState::Refused {
                        code: error.clone().unwrap_or_default(),
                    }),
                    // A refused batch is split and sent again in smaller parts.
                    Outcome::Refused => Some(UserState::Pending),
                    Outcome::Unknown => None,
                };
                if let Some(next) = next {
                    for u in users {
                        self.users.insert(u.clone(), next.clone());
                    }
                }
            }
            Record::Reconciled { done, resend, .. } => {
                for u in done {
                    self.users.insert(u.clone(), UserState::Reconciled);
                }
                for u in resend {
                    self.users.insert(u.clone(), UserState::Pending);
                }
            }
            Record::Verified {
                user_id,
                sessions_left,
            } => {
                self.users.insert(
                    user_id.clone(),
                    UserState::Verified {
                        sessions_left: *sessions_left,
                    },
                );
            }
            Record::Finished { exit_code, .. } => self.finished = Some(*exit_code),
        }
    }

    /// A user's state (pending if never acted on).
    pub fn of(&self, user: &UserId) -> UserState {
        self.users.get(user).cloned().unwrap_or(UserState::Pending)
    }

    /// Users of `order` in a state, in that order.
    pub fn select<'a>(
        &self,
        order: &'a [UserId],
        pick: impl Fn(&UserState) -> bool,
    ) -> Vec<&'a UserId> {
        order.iter().filter(|u| pick(&self.of(u))).collect()
    }

    /// Users whose calls have an unknown outcome, by step.
    pub fn in_flight(&self, order: &[UserId]) -> Vec<(u64, Vec<UserId>)> {
        let mut by_step: Vec<(u64, Vec<UserId>)> = Vec::new();
        for u in order {
            if let UserState::InFlight { step } = self.of(u) {
                match by_step.iter_mut().find(|(s, _)| *s == step) {
                    Some((_, users)) => users.push(u.clone()),
                    None => by_step.push((step, vec![u.clone()])),
                }
            }
        }
        by_step.sort_by_key(|(s, _)| *s);
        by_step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(id: &str) -> UserId {
        UserId::new(id)
    }

    fn intent(step: u64, users: &[&str]) -> Record {
        Record::Intent {
            step,
            method: "admin.users.session.resetBulk".into(),
            user_ids: users.iter().map(|s| u(s)).collect(),
            at_ms: 0,
        }
    }

    fn result(step: u64, outcome: Outcome, error: Option<&str>) -> Record {
        Record::Result {
            step,
            outcome,
            error: error.map(Into::into),
            at_ms: 0,
        }
    }

    #[test]
    fn the_crash_window_leaves_users_in_flight() {
        let s = RunState::replay(&[
            intent(1, &["W1", "W2"]),
            result(1, Outcome::Ok, None),
            intent(2, &["W3", "W4"]),
        ]);
        assert_eq!(s.of(&u("W1")), UserState::Sent);
        assert_eq!(s.of(&u("W3")), UserState::InFlight { step: 2 });
        assert_eq!(s.of(&u("W9")), UserState::Pending);
        assert_eq!(s.next_step, 3);
        let order = [u("W1"), u("W2"), u("W3"), u("W4")];
        assert_eq!(s.in_flight(&order), vec![(2, vec![u("W3"), u("W4")])]);
        assert_eq!(s.calls["admin.users.session.resetBulk"], 2);
    }

    #[test]
    fn outcomes() {
        let s = RunState::replay(&[
            intent(1, &["W1", "W2"]),
            result(1, Outcome::Refused, Some("cannot_reset_primary_owner")),
            intent(2, &["W1"]),
            result(2, Outcome::Refused, Some("cannot_reset_primary_owner")),
            intent(3, &["W2"]),
            result(3, Outcome::Unknown, Some("timeout")),
            Record::Reconciled {
                step: 3,
                done: vec![u("W2")],
                resend: vec![],
                at_ms: 0,
            },
            intent(4, &["W5", "W6"]),
            result(4, Outcome::NotApplied, Some("ratelimited")),
            intent(5, &["W7"]),
            result(5, Outcome::Ok, None),
            Record::Verified {
                user_id: u("W7"),
                sessions_left: 2,
            },
            Record::Finished {
                exit_code: 7,
                at_ms: 0,
            },
        ]);
        assert_eq!(
            s.of(&u("W1")),
            UserState::Refused {
                code: "cannot_reset_primary_owner".into()
            }
        );
        assert_eq!(s.of(&u("W2")), UserState::Reconciled);
        assert_eq!(s.of(&u("W5")), UserState::Pending);
        assert_eq!(s.of(&u("W7")), UserState::Verified { sessions_left: 2 });
        assert_eq!(s.finished, Some(7));
        let resumed = {
            let mut s = s.clone();
            s.apply(&Record::Resume { at_ms: 1 });
            s
        };
        assert_eq!(resumed.finished, None);
    }
}
