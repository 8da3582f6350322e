//! Where each user stands, replayed from the journal.

use std::collections::HashMap;

use slack_sessions_client::api::UserId;

use crate::journal::{Facts, Outcome, Record};
use crate::journaled::Replay;

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

/// Why a user is not sent a reset: known before any reset, from `auth.test` (the token's own
/// user) and from the lookup (the primary owner, bots).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    /// The token's own user, without `--include-self`.
    Myself,
    /// The primary owner: only their own token may sign them out.
    PrimaryOwner,
    /// A bot: Slack signs no bot out.
    Bot,
    /// Given by ID, but the token's org has no such user (another org's, or none).
    NotFound,
}

impl Hold {
    /// Slack's error code for a refusal (`None` for the token's own user: left out, not
    /// refused).
    pub fn code(self) -> Option<&'static str> {
        match self {
            Hold::Myself => None,
            Hold::PrimaryOwner => Some("cannot_reset_primary_owner"),
            Hold::Bot => Some("cannot_reset_bot"),
            Hold::NotFound => Some("user_not_found"),
        }
    }
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
    /// The last step number used (0: none yet).
    pub last_step: u64,
    /// State-changing calls made, by method.
    pub calls: HashMap<String, u64>,
    /// Set when the run finished, with its exit code.
    pub finished: Option<u8>,
    /// What lookups and user reads told of users.
    pub facts: HashMap<UserId, Facts>,
    /// Users given by ID that the token's org does not have.
    pub missing: std::collections::HashSet<UserId>,
    /// The token's own user (from the run's start).
    pub me: Option<UserId>,
    /// `--include-self` (from the run's start).
    pub include_self: bool,
    /// Users of calls Slack answered `failed_for_some_users`: each is verified, even with
    /// `--no-verify`.
    pub partial: std::collections::HashSet<UserId>,
}

impl Replay for RunState {
    fn apply(&mut self, record: &Record) {
        match record {
            Record::Start {
                admin_user_id,
                options,
                ..
            } => {
                self.finished = None;
                self.me = Some(UserId::new(admin_user_id.as_str()));
                self.include_self = options.include_self;
            }
            Record::Resume { .. } => {
                self.finished = None;
            }
            Record::Resolved {
                email,
                user_id,
                facts,
            } => {
                self.resolved
                    .insert(email.to_ascii_lowercase(), user_id.clone());
                if let Some(u) = user_id {
                    self.facts.insert(u.clone(), *facts);
                }
            }
            Record::Known {
                user_id,
                found,
                facts,
            } => {
                self.facts.insert(user_id.clone(), *facts);
                if !found {
                    self.missing.insert(user_id.clone());
                }
            }
            Record::Intent {
                step,
                method,
                user_ids,
                ..
            } => {
                self.last_step = self.last_step.max(*step);
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
                if *outcome == Outcome::Partial {
                    self.partial.extend(users.iter().cloned());
                }
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
            // Records of runs on sessions (see `inventory::bulk`): no user's state.
            Record::Target { .. }
            | Record::Selected { .. }
            | Record::Decided { .. }
            | Record::SessionIntent { .. }
            | Record::SessionSettled { .. }
            | Record::SessionVerified { .. } => {}
        }
    }
}

impl RunState {
    /// The step number of the next call (steps count from 1).
    pub fn next_step(&self) -> u64 {
        self.last_step + 1
    }

    /// Why a user is not to be sent a reset, if so. The token's own user may be the primary
    /// owner: then `--include-self` lets them be reset (the primary owner may reset themself).
    pub fn hold(&self, user: &UserId) -> Option<Hold> {
        if self.me.as_ref() == Some(user) {
            return (!self.include_self).then_some(Hold::Myself);
        }
        if self.missing.contains(user) {
            return Some(Hold::NotFound);
        }
        let facts = self.facts.get(user).copied().unwrap_or_default();
        if facts.bot {
            Some(Hold::Bot)
        } else if facts.primary_owner {
            Some(Hold::PrimaryOwner)
        } else {
            None
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
    use crate::journal::fixtures::result;

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
        assert_eq!(s.next_step(), 3);
        let order = [u("W1"), u("W2"), u("W3"), u("W4")];
        assert_eq!(s.in_flight(&order), vec![(2, vec![u("W3"), u("W4")])]);
        assert_eq!(s.calls["admin.users.session.resetBulk"], 2);
    }

    #[test]
    fn holds_come_from_the_start_and_the_lookups() {
        let start = |include_self| Record::Start {
            version: 1,
            tool: "t".into(),
            input: "i".into(),
            input_sha256: "s".into(),
            options: crate::journal::Options {
                method: "m".into(),
                batch_size: 1,
                scope: "all".into(),
                team: None,
                api_url: "u".into(),
                column: None,
                include_self,
            },
            org_id: "E1".into(),
            admin_user_id: "W1".into(),
            at_ms: 0,
        };
        let looked_up = |id: &str, bot, primary_owner| Record::Resolved {
            email: format!("{id}@x"),
            user_id: Some(u(id)),
            facts: Facts { bot, primary_owner },
        };
        let records = |include_self| {
            [
                start(include_self),
                looked_up("W2", true, false),
                looked_up("W3", false, true),
                looked_up("W4", false, false),
            ]
        };
        let s = RunState::replay(&records(false));
        assert_eq!(s.hold(&u("W1")), Some(Hold::Myself));
        assert_eq!(s.hold(&u("W2")), Some(Hold::Bot));
        assert_eq!(s.hold(&u("W3")), Some(Hold::PrimaryOwner));
        assert_eq!(s.hold(&u("W4")), None);
        assert_eq!(s.hold(&u("W9")), None);
        let s = RunState::replay(&records(true));
        assert_eq!(s.hold(&u("W1")), None);
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
