//! Where each user of an offboarding stands, replayed from the journal: the run's own records
//! (lookups, verifications) and the engine's calls.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use slack_sessions_client::api::UserId;

use crate::journal::{Line, Outcome};
use crate::journaled::{Calls, Reached, Replay, StepState};
use crate::users::Person;

/// What a lookup told of a user that decides whether Slack signs them out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// A bot user (`cannot_reset_bot`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
    /// The org's primary owner (`cannot_reset_primary_owner`, unless the token is theirs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub primary_owner: bool,
    /// Deactivated: Slack ended their sessions then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl From<&Person> for Facts {
    fn from(p: &Person) -> Facts {
        Facts {
            bot: p.bot,
            primary_owner: p.primary_owner,
            deleted: p.deleted,
        }
    }
}

/// An offboarding's own records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// An email address was looked up.
    Resolved {
        /// The address, as written in the input.
        email: String,
        /// The user, or `None` if no user has it.
        user_id: Option<UserId>,
        /// What the lookup said of the user.
        #[serde(default, flatten)]
        facts: Facts,
        /// For no user: the org's user list (which holds deactivated users too) was checked.
        /// Absent in journals written before it was: those answers stay hedged.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        listed: bool,
    },
    /// A user given by ID was read.
    Known {
        /// The user.
        user_id: UserId,
        /// Whether the token's org has the user (`false`: `user_not_found`).
        found: bool,
        /// What Slack's user record says.
        #[serde(default, flatten)]
        facts: Facts,
    },
    /// A user's sessions were counted after the reset.
    Verified {
        /// The user.
        user_id: UserId,
        /// Sessions (of the run's kind) still there; 0 means done.
        sessions_left: u64,
    },
}

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

/// The offboarding as the journal tells it.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Emails looked up: the user, or `None` if Slack has none with it. Keyed lower-case.
    pub resolved: HashMap<String, Option<UserId>>,
    /// Emails of `resolved` that no user has, as the org's user list says (not only Slack's
    /// lookup, which answers `users_not_found` for a deactivated account too).
    pub unlisted: HashSet<String>,
    /// What lookups and user reads told of users.
    pub facts: HashMap<UserId, Facts>,
    /// Users given by ID that the token's org does not have.
    pub missing: HashSet<UserId>,
    /// The last call naming each user.
    last_step: HashMap<UserId, u64>,
    /// Sessions left, for users counted after their reset.
    verified: HashMap<UserId, u64>,
    /// Users of calls Slack answered `failed_for_some_users`: each is verified, even with
    /// `--no-verify`.
    pub partial: HashSet<UserId>,
}

impl Replay for State {
    type Record = Record;

    fn apply(&mut self, line: &Line<Record>, calls: &Calls) {
        match line {
            Line::Run(Record::Resolved {
                email,
                user_id,
                facts,
                listed,
            }) => {
                let key = email.to_ascii_lowercase();
                if user_id.is_none() && *listed {
                    self.unlisted.insert(key.clone());
                } else {
                    self.unlisted.remove(&key);
                }
                self.resolved.insert(key, user_id.clone());
                if let Some(u) = user_id {
                    self.facts.insert(u.clone(), *facts);
                }
            }
            Line::Run(Record::Known {
                user_id,
                found,
                facts,
            }) => {
                self.facts.insert(user_id.clone(), *facts);
                if !found {
                    self.missing.insert(user_id.clone());
                }
            }
            Line::Run(Record::Verified {
                user_id,
                sessions_left,
            }) => {
                self.verified.insert(user_id.clone(), *sessions_left);
            }
            Line::Intent { step, call, .. } => {
                for u in call.users() {
                    self.last_step.insert(u.clone(), *step);
                    self.verified.remove(u);
                }
            }
            Line::Result {
                step,
                outcome: Outcome::Partial,
                ..
            } => {
                if let Some(s) = calls.step(*step) {
                    self.partial.extend(s.call.users().iter().cloned());
                }
            }
            _ => {}
        }
    }
}

impl State {
    /// Where a user stands.
    pub fn of(&self, user: &UserId, calls: &Calls) -> UserState {
        if let Some(n) = self.verified.get(user) {
            return UserState::Verified { sessions_left: *n };
        }
        let Some(step) = self
            .last_step
            .get(user)
            .and_then(|s| calls.step(*s).map(|x| (*s, x)))
        else {
            return UserState::Pending;
        };
        let (number, step) = step;
        match step.reached(user) {
            Reached::Open => UserState::InFlight { step: number },
            Reached::Applied if matches!(step.state, StepState::Settled { .. }) => {
                UserState::Reconciled
            }
            Reached::Applied => UserState::Sent,
            // A refused batch is split and sent again in smaller parts.
            Reached::Refused(code) if step.call.users().len() == 1 => UserState::Refused { code },
            Reached::Refused(_) | Reached::NotApplied => UserState::Pending,
        }
    }

    /// Users of `order` in a state, in that order.
    pub fn select<'a>(
        &self,
        order: &'a [UserId],
        calls: &Calls,
        pick: impl Fn(&UserState) -> bool,
    ) -> Vec<&'a UserId> {
        order.iter().filter(|u| pick(&self.of(u, calls))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::fixtures::header;
    use crate::journal::{Call, Devices, RunKind};
    use crate::journaled::Journaled;

    fn u(id: &str) -> UserId {
        UserId::new(id)
    }

    fn intent(step: u64, users: &[&str]) -> Line<Record> {
        Line::Intent {
            step,
            call: Call::ResetBulk {
                user_ids: users.iter().map(|s| u(s)).collect(),
                devices: Devices::All,
            },
            at_ms: 0,
        }
    }

    fn result(step: u64, outcome: Outcome, error: Option<&str>) -> Line<Record> {
        Line::Result {
            step,
            outcome,
            error: error.map(Into::into),
            at_ms: 0,
        }
    }

    fn replay(lines: &[Line<Record>]) -> Journaled<State> {
        let h = header(RunKind::Offboard, "d");
        let mut all = vec![Line::Start(h.clone())];
        all.extend_from_slice(lines);
        Journaled::new(None, h, &all)
    }

    #[test]
    fn the_crash_window_leaves_users_in_flight() {
        let r = replay(&[
            intent(1, &["W1", "W2"]),
            result(1, Outcome::Ok, None),
            intent(2, &["W3", "W4"]),
        ]);
        let of = |id| r.state.of(&u(id), &r.calls);
        assert_eq!(of("W1"), UserState::Sent);
        assert_eq!(of("W3"), UserState::InFlight { step: 2 });
        assert_eq!(of("W9"), UserState::Pending);
        assert_eq!(r.calls.next_step(), 3);
        assert_eq!(r.calls.open(), [2]);
        assert_eq!(r.calls.made()["admin.users.session.resetBulk"], 2);
    }

    #[test]
    fn outcomes() {
        let r = replay(&[
            intent(1, &["W1", "W2"]),
            result(1, Outcome::Refused, Some("cannot_reset_primary_owner")),
            intent(2, &["W1"]),
            result(2, Outcome::Refused, Some("cannot_reset_primary_owner")),
            intent(3, &["W2"]),
            result(3, Outcome::Unknown, Some("timeout")),
            Line::Settled {
                step: 3,
                done: vec![u("W2")],
                resend: vec![],
                at_ms: 0,
            },
            intent(4, &["W5", "W6"]),
            result(4, Outcome::NotApplied, Some("ratelimited")),
            intent(5, &["W7"]),
            result(5, Outcome::Ok, None),
            Line::Run(Record::Verified {
                user_id: u("W7"),
                sessions_left: 2,
            }),
            intent(6, &["W8", "W9"]),
            result(6, Outcome::Partial, Some("failed_for_some_users")),
        ]);
        let of = |id| r.state.of(&u(id), &r.calls);
        assert_eq!(
            of("W1"),
            UserState::Refused {
                code: "cannot_reset_primary_owner".into()
            }
        );
        assert_eq!(of("W2"), UserState::Reconciled);
        assert_eq!(of("W5"), UserState::Pending);
        assert_eq!(of("W7"), UserState::Verified { sessions_left: 2 });
        assert_eq!(of("W8"), UserState::Sent);
        assert!(r.state.partial.contains(&u("W9")));
    }
}
