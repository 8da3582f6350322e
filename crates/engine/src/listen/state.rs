//! The listener's journal: each signal as accepted (synced before it is acknowledged), the
//! reset a signal leads to (before its intent), each signal's settlement, and the circuit
//! breaker. A compaction keeps only what a restart needs: the pending signals, the resets still
//! open, the breaker, the totals, and the keys of settled signals for as long as they are
//! remembered ([`KEEP_KEYS_MS`]). The journal is opened by [`open`]: never finished, it is
//! resumed whatever the config says now.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use slack_sessions_client::api::UserId;

use super::{Action, Signal, Subject};
use crate::error::{Error, Result};
use crate::events::Events;
use crate::guardrails::HOUR_MS;
use crate::journal::{Header, Journal, Line, RunKind, now_ms, parse};
use crate::journaled::{Calls, Journaled, Reached, Replay};

/// How long a signal's key is remembered after the signal was accepted (or until its
/// `keep_key_until_ms`, if later): a transmitter that sends it again within this time is
/// answered as the first time and nothing more is done. Seven days: a transmitter retries a
/// push it got no answer to for a while (RFC 8935 leaves how long to it; Okta retries an Event
/// Hook once), and a GTR token's `exp` is kept on top; a week covers those retries and an
/// outage of the listener itself, at the cost of one journal line (and one key in memory) per
/// signal of the week.
pub const KEEP_KEYS_MS: u64 = 7 * 24 * HOUR_MS;

/// What came of a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its user was signed out.
    Reset,
    /// It asks for nothing but a record.
    Recorded,
    /// Its subject names no Slack user.
    Unmapped,
    /// No active Slack user has the address.
    NotFound,
    /// Its user is never signed out (the token's owner, `exempt_users`).
    Exempt,
    /// Slack refuses to sign its user out (a bot, the primary owner), or refused the call.
    Refused,
    /// Another signal's reset of the same user, sent after this one was accepted, covered it.
    Covered,
}

impl Outcome {
    /// As in [`super::Status::settled`] and the log: `reset`, `not_found`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Reset => "reset",
            Outcome::Recorded => "recorded",
            Outcome::Unmapped => "unmapped",
            Outcome::NotFound => "not_found",
            Outcome::Exempt => "exempt",
            Outcome::Refused => "refused",
            Outcome::Covered => "covered",
        }
    }
}

/// The listener's own records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A signal accepted, under its number (written, then synced with its batch, before the
    /// receiver acknowledges it).
    Signal {
        /// Its number (rising).
        n: u64,
        /// When it was accepted.
        at_ms: u64,
        /// The signal.
        signal: Signal,
    },
    /// Signal `n`'s user is about to be signed out (written before the reset's intent: the
    /// intents that follow, until the signal is settled or released, are its calls).
    Acting {
        /// The signal.
        n: u64,
        /// Its user.
        user_id: UserId,
        /// The action's number in the guardrails ledger.
        ledger: u64,
        /// The last signal accepted when it was decided: the reset covers those of the same
        /// user up to it.
        upto: u64,
    },
    /// Signal `n`'s reset did not take effect: it is pending again (its ledger action void).
    Released {
        /// The signal.
        n: u64,
    },
    /// Signal `n` is settled.
    Done {
        /// The signal.
        n: u64,
        /// What came of it.
        outcome: Outcome,
        /// Slack's code, the word for a refusal, the signal that covered it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A settled signal's key, remembered until `until_ms` (written by a compaction).
    Key {
        /// The key.
        key: String,
        /// Its signal.
        n: u64,
        /// Until when.
        until_ms: u64,
    },
    /// What a compaction folded away: the last signal number, and the settled counts.
    Totals {
        /// The last signal number given.
        last_n: u64,
        /// Settled signals by outcome.
        settled: BTreeMap<String, u64>,
    },
    /// The circuit breaker tripped: no resets until an admin resumes it.
    Tripped {
        /// Why, in words.
        reason: String,
        /// When.
        at_ms: u64,
    },
    /// An admin resumed the circuit breaker: it counts the users signed out from here.
    Resumed {
        /// When.
        at_ms: u64,
    },
}

/// A signal not settled yet.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    /// When it was accepted.
    pub at_ms: u64,
    /// The signal.
    pub signal: Signal,
}

impl Pending {
    /// The address of a signal that asks for a reset, lower-cased.
    pub fn reset_email(&self) -> Option<String> {
        match (&self.signal.action, &self.signal.subject) {
            (Action::Reset, Subject::Email { email }) => Some(super::resolve::key(email)),
            _ => None,
        }
    }
}

/// A signal whose user is being signed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acting {
    /// The user.
    pub user_id: UserId,
    /// Its action in the guardrails ledger.
    pub ledger: u64,
    /// The last signal accepted when it was decided.
    pub upto: u64,
    /// Its calls.
    pub steps: Vec<u64>,
}

/// What came of a signal's reset, as its journal tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Came {
    /// No call was sent, or it certainly did not take effect: the signal is pending again.
    Nothing,
    /// Its answer was lost and not settled yet.
    Open,
    /// It took effect.
    Reset,
    /// Slack refused it (its code).
    Refused(String),
}

/// A remembered key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Kept {
    n: u64,
    until_ms: u64,
}

/// The listener's state.
#[derive(Clone, Debug)]
pub struct State {
    /// Signals not settled, by number (the order they were accepted in).
    pub pending: BTreeMap<u64, Pending>,
    /// Signals whose reset is under way, by number.
    pub acting: BTreeMap<u64, Acting>,
    /// The circuit breaker's reason, while it is tripped.
    pub breaker: Option<String>,
    /// When an admin last resumed the breaker.
    pub resumed_at_ms: Option<u64>,
    /// Settled signals by outcome.
    pub settled: BTreeMap<String, u64>,
    /// The last signal number given.
    pub last_n: u64,
    /// The pending resets by address (as the cache keys it): the signals a reset covers are
    /// found without a scan of everything pending.
    pub resets: HashMap<String, BTreeSet<u64>>,
    keys: HashMap<String, Kept>,
    current: Option<u64>,
    keep_keys_ms: u64,
}

impl Default for State {
    fn default() -> State {
        State {
            pending: BTreeMap::new(),
            acting: BTreeMap::new(),
            breaker: None,
            resumed_at_ms: None,
            settled: BTreeMap::new(),
            last_n: 0,
            resets: HashMap::new(),
            keys: HashMap::new(),
            current: None,
            keep_keys_ms: KEEP_KEYS_MS,
        }
    }
}

impl State {
    /// A state that remembers keys for `keep_keys_ms` (tests).
    #[cfg(test)]
    pub(crate) fn keeping_keys(keep_keys_ms: u64) -> State {
        State {
            keep_keys_ms,
            ..State::default()
        }
    }

    /// The number of the signal accepted earlier under `key`, if it is remembered.
    pub fn repeat(&self, key: &str) -> Option<u64> {
        self.keys.get(key).map(|k| k.n)
    }

    /// What came of signal `n`'s reset, from its last call.
    pub fn came(&self, n: u64, calls: &Calls) -> Came {
        let Some(acting) = self.acting.get(&n) else {
            return Came::Nothing;
        };
        let Some(step) = acting.steps.last().and_then(|s| calls.step(*s)) else {
            return Came::Nothing;
        };
        match step.reached(&acting.user_id) {
            Reached::Open => Came::Open,
            Reached::Applied => Came::Reset,
            Reached::Refused(code) => Came::Refused(code),
            Reached::NotApplied => Came::Nothing,
        }
    }

    fn keep(&mut self, key: &str, n: u64, until_ms: u64) {
        let kept = self
            .keys
            .entry(key.to_owned())
            .or_insert(Kept { n, until_ms });
        kept.until_ms = kept.until_ms.max(until_ms);
    }
}

impl Replay for State {
    type Record = Record;

    fn apply(&mut self, line: &Line<Record>, _: &Calls) {
        match line {
            Line::Start(_) | Line::Resume { .. } => self.current = None,
            Line::Intent { step, .. } => {
                if let Some(a) = self.current.and_then(|n| self.acting.get_mut(&n)) {
                    a.steps.push(*step);
                }
            }
            Line::Run(Record::Signal { n, at_ms, signal }) => {
                self.last_n = self.last_n.max(*n);
                let until = (at_ms + self.keep_keys_ms).max(signal.keep_key_until_ms.unwrap_or(0));
                self.keep(&signal.key, *n, until);
                let pending = Pending {
                    at_ms: *at_ms,
                    signal: signal.clone(),
                };
                if let Some(email) = pending.reset_email() {
                    self.resets.entry(email).or_default().insert(*n);
                }
                self.pending.insert(*n, pending);
            }
            Line::Run(Record::Acting {
                n,
                user_id,
                ledger,
                upto,
            }) => {
                self.acting.insert(
                    *n,
                    Acting {
                        user_id: user_id.clone(),
                        ledger: *ledger,
                        upto: *upto,
                        steps: Vec::new(),
                    },
                );
                self.current = Some(*n);
            }
            Line::Run(Record::Released { n }) => {
                self.acting.remove(n);
                if self.current == Some(*n) {
                    self.current = None;
                }
            }
            Line::Run(Record::Done { n, outcome, .. }) => {
                if let Some(p) = self.pending.remove(n) {
                    *self.settled.entry(outcome.as_str().to_owned()).or_default() += 1;
                    if let Some(email) = p.reset_email()
                        && let Some(numbers) = self.resets.get_mut(&email)
                    {
                        numbers.remove(n);
                        if numbers.is_empty() {
                            self.resets.remove(&email);
                        }
                    }
                }
                self.acting.remove(n);
                if self.current == Some(*n) {
                    self.current = None;
                }
            }
            Line::Run(Record::Key { key, n, until_ms }) => self.keep(key, *n, *until_ms),
            Line::Run(Record::Totals { last_n, settled }) => {
                self.last_n = self.last_n.max(*last_n);
                self.settled = settled.clone();
            }
            Line::Run(Record::Tripped { reason, .. }) => self.breaker = Some(reason.clone()),
            Line::Run(Record::Resumed { at_ms }) => {
                self.breaker = None;
                self.resumed_at_ms = Some(*at_ms);
            }
            _ => {}
        }
    }

    fn must_sync(record: &Record) -> bool {
        match record {
            // Synced with their batch, before the receiver answers.
            Record::Signal { .. } => false,
            // Synced by the reset's own `done` that follows them: a restart must not find the
            // signals a reset covered pending again, and sign their user out once more.
            Record::Done { outcome, .. } => *outcome == Outcome::Reset,
            Record::Key { .. } | Record::Totals { .. } => false,
            Record::Acting { .. }
            | Record::Released { .. }
            | Record::Tripped { .. }
            | Record::Resumed { .. } => true,
        }
    }

    fn snapshot(&self, calls: &Calls) -> Option<Vec<Line<Record>>> {
        let now = now_ms();
        let mut lines = vec![Line::Run(Record::Totals {
            last_n: self.last_n,
            settled: self.settled.clone(),
        })];
        if let Some(at_ms) = self.resumed_at_ms {
            lines.push(Line::Run(Record::Resumed { at_ms }));
        }
        if let Some(reason) = &self.breaker {
            lines.push(Line::Run(Record::Tripped {
                reason: reason.clone(),
                at_ms: now,
            }));
        }
        let mut keys: Vec<(&String, &Kept)> = self
            .keys
            .iter()
            .filter(|(_, k)| k.until_ms > now && !self.pending.contains_key(&k.n))
            .collect();
        keys.sort_unstable_by_key(|(_, k)| k.n);
        lines.extend(keys.into_iter().map(|(key, k)| {
            Line::Run(Record::Key {
                key: key.clone(),
                n: k.n,
                until_ms: k.until_ms,
            })
        }));
        for (n, p) in &self.pending {
            lines.push(Line::Run(Record::Signal {
                n: *n,
                at_ms: p.at_ms,
                signal: p.signal.clone(),
            }));
            if let Some(a) = self.acting.get(n) {
                lines.push(Line::Run(Record::Acting {
                    n: *n,
                    user_id: a.user_id.clone(),
                    ledger: a.ledger,
                    upto: a.upto,
                }));
                for step in &a.steps {
                    lines.extend(calls.lines_of(*step));
                }
                // The next signal's records must not be taken for this one's calls.
                lines.push(Line::Resume { at_ms: now });
            }
        }
        Some(lines)
    }

    fn emptied(&self) -> State {
        State {
            keep_keys_ms: self.keep_keys_ms,
            ..State::default()
        }
    }
}

/// Opens the listener's journal at `path` for the listener `header` describes: a new one, or
/// the one there resumed whatever the config now says (its guardrails and actions may change
/// between two starts; its pending signals must not be lost). One of another kind of run, org
/// or API is refused, as [`crate::journal::identity`] refuses another command's.
pub fn open(
    path: &Path,
    header: Header,
    state: State,
    events: &Events,
) -> Result<Journaled<State>> {
    let (mut journal, bytes) = Journal::open(path)?;
    let (mut lines, _) = parse::<Record>(path, &bytes)?;
    let header = match lines.first().cloned() {
        None => {
            let start = Line::Start(header.clone());
            journal.append(&start, true)?;
            lines.push(start);
            header
        }
        Some(Line::Start(was)) => {
            let differs = [
                (was.kind != RunKind::Listen).then(|| {
                    format!(
                        "it is a journal of `{}`, not of `listen`",
                        was.kind.as_str()
                    )
                }),
                (was.org_id != header.org_id).then(|| {
                    format!(
                        "the token belongs to another org (journal: {}, now: {})",
                        was.org_id, header.org_id
                    )
                }),
                (was.api_url != header.api_url).then(|| {
                    format!(
                        "--api-url differs (journal: {}, now: {})",
                        was.api_url, header.api_url
                    )
                }),
            ];
            let differs: Vec<String> = differs.into_iter().flatten().collect();
            if !differs.is_empty() {
                return Err(Error::refused(format!(
                    "the journal {} is not this listener's: {}",
                    path.display(),
                    differs.join("; ")
                ))
                .hint(
                    "give the listener a journal of its own (`journal = …` in the config); \
                     the signals pending in that one are acted on by the listener that wrote it",
                ));
            }
            let resume = Line::Resume { at_ms: now_ms() };
            journal.append(&resume, true)?;
            lines.push(resume);
            was
        }
        Some(_) => {
            return Err(Error::local(format!(
                "the journal {} does not start with a run's header",
                path.display()
            ))
            .hint("move it away to start over (its pending signals would be lost)"));
        }
    };
    let run = Journaled::with_state(Some(journal), header, state, &lines);
    if run.state.last_n > 0 {
        events.note(format!(
            "resuming the listener's journal {}: {} signal(s) pending",
            path.display(),
            run.state.pending.len()
        ));
    }
    Ok(run)
}
