//! Enforcement's journal: each action's decision (why it is taken) before its call, and its
//! close once its outcome is in the audit log. Only decisions still open are kept in memory
//! and in a compacted journal, so a run of months stays as small as a run of minutes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use slack_sessions_client::api::UserId;

use crate::journal::{Line, Outcome};
use crate::journaled::{Calls, Reached, Replay};

/// Why enforcement acts on a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The session that broke the rule.
    pub session_id: u64,
    /// Its user.
    pub user_id: UserId,
    /// The rule's name.
    pub rule: String,
    /// Why, in words.
    pub why: String,
    /// The user's email, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `invalidate` or `reset`.
    pub action: String,
}

/// Enforcement's own records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// An action is about to be taken (written before its intent): an action whose answer a
    /// stop lost is then still reported under its rule.
    Decided {
        /// The decision's number: the step its first call takes (unique, and the audit log's
        /// line for it says it).
        decision: u64,
        /// Its number in the guardrails ledger.
        ledger: u64,
        /// What was decided, and why.
        #[serde(flatten)]
        reason: Reason,
    },
    /// The decision's outcome is logged (or it was not carried out): nothing more to do.
    Closed {
        /// The decision.
        decision: u64,
    },
}

/// A decision not closed yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Open {
    /// Why.
    pub reason: Reason,
    /// Its number in the guardrails ledger.
    pub ledger: u64,
    /// The calls that carry it out.
    pub steps: Vec<u64>,
}

/// What came of a decision, as the journal tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecisionResult {
    /// Its call's outcome is not known yet (to be settled).
    Unknown,
    /// It was not carried out (its call certainly did not take effect).
    NotCarriedOut,
    /// It took effect (the detail says how it is known).
    Done(String),
    /// Slack refused it (its code).
    Failed(String),
}

/// The decisions still open.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Open decisions, by number.
    pub open: BTreeMap<u64, Open>,
    current: Option<u64>,
}

impl Replay for State {
    type Record = Record;

    fn apply(&mut self, line: &Line<Record>, _: &Calls) {
        match line {
            Line::Start(_) | Line::Resume { .. } => self.current = None,
            Line::Run(Record::Decided {
                decision,
                ledger,
                reason,
            }) => {
                self.open.insert(
                    *decision,
                    Open {
                        reason: reason.clone(),
                        ledger: *ledger,
                        steps: Vec::new(),
                    },
                );
                self.current = Some(*decision);
            }
            Line::Run(Record::Closed { decision }) => {
                self.open.remove(decision);
                if self.current == Some(*decision) {
                    self.current = None;
                }
            }
            Line::Intent { step, .. } => {
                if let Some(d) = self.current.and_then(|d| self.open.get_mut(&d)) {
                    d.steps.push(*step);
                }
            }
            _ => {}
        }
    }

    fn snapshot(&self, calls: &Calls) -> Option<Vec<Line<Record>>> {
        let mut lines = Vec::new();
        for (decision, open) in &self.open {
            lines.push(Line::Run(Record::Decided {
                decision: *decision,
                ledger: open.ledger,
                reason: open.reason.clone(),
            }));
            for step in &open.steps {
                lines.extend(calls.lines_of(*step));
            }
        }
        // The next decision's calls must not be taken for the last one's.
        lines.push(Line::Resume {
            at_ms: crate::journal::now_ms(),
        });
        Some(lines)
    }
}

impl State {
    /// What came of decision `d`, from its last call.
    pub fn result(&self, d: u64, calls: &Calls) -> DecisionResult {
        let Some(step) = self
            .open
            .get(&d)
            .and_then(|o| o.steps.last())
            .and_then(|s| calls.step(*s))
        else {
            return DecisionResult::NotCarriedOut;
        };
        let user = &step.call.users()[0];
        match step.reached(user) {
            Reached::Open => DecisionResult::Unknown,
            Reached::NotApplied => DecisionResult::NotCarriedOut,
            Reached::Refused(code) if code == "session_not_found" => {
                DecisionResult::Done("had ended already (session_not_found)".into())
            }
            Reached::Refused(code) => DecisionResult::Failed(code),
            Reached::Applied => match &step.state {
                crate::journaled::StepState::Answered {
                    outcome: Outcome::Ok | Outcome::Partial,
                    ..
                } => DecisionResult::Done("sent".into()),
                _ => DecisionResult::Done(if step.call.session().is_some() {
                    "its answer was lost; checked: the session is gone".into()
                } else {
                    "its answer was lost; checked: no session left".into()
                }),
            },
        }
    }
}
