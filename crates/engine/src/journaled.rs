//! A run's journal and the state it replays to, kept in step: every change of the state goes
//! through [`Journaled::record`], so memory never tells more than the journal, and a resumed
//! run reads back exactly what the stopped one held.
//!
//! The engine replays its own lines into [`Calls`] (every state-changing call and what came of
//! it); the run replays its records, and the engine's lines when it cares, into its own state
//! ([`Replay`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;
use slack_sessions_client::api::UserId;

use crate::error::Result;
use crate::events::Events;
use crate::journal::{Call, Header, Journal, Line, Outcome, identity, now_ms};

/// The fewest lines a journal that can be compacted holds before it is: past it, a journal
/// is rewritten once it is twice as long as its last rewrite, so rewriting costs each line a
/// constant amortised, and a restart replays at most about this many lines beyond what is open.
pub const COMPACT_AFTER: usize = 2_000;

/// A run's state as its journal tells it.
pub trait Replay: Default {
    /// The run's own records.
    type Record: Serialize + DeserializeOwned + Clone + std::fmt::Debug;

    /// Applies one line, after the engine applied it to `calls`.
    fn apply(&mut self, line: &Line<Self::Record>, calls: &Calls);

    /// Whether a record must be on disk before the run goes on (a record that changes nothing
    /// in Slack need not: a crash loses at most the last few, which are then redone).
    fn must_sync(_record: &Self::Record) -> bool {
        false
    }

    /// The lines that replay to this state with only what is still open (after the engine's
    /// checkpoint), for a journal rewritten short; `None` for a run that is never compacted.
    fn snapshot(&self, _calls: &Calls) -> Option<Vec<Line<Self::Record>>> {
        None
    }

    /// An empty state with this one's settings, to replay a snapshot into.
    fn emptied(&self) -> Self {
        Self::default()
    }
}

/// One state-changing call, as the journal tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The call.
    pub call: Call,
    /// When its intent was written.
    pub at_ms: u64,
    /// Where it stands.
    pub state: StepState,
}

/// Where a call stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepState {
    /// Sent (or about to be); no answer recorded.
    Sent,
    /// Answered.
    Answered {
        /// What came of it.
        outcome: Outcome,
        /// Slack's code or the error.
        error: Option<String>,
    },
    /// Its answer was lost, and a listing told for whom it holds.
    Settled {
        /// Users (or the session's user) it holds for.
        done: Vec<UserId>,
        /// Users it did not reach.
        resend: Vec<UserId>,
    },
}

impl Step {
    /// Whether its outcome is still to be found out (no answer, or an unknown one).
    pub fn is_open(&self) -> bool {
        matches!(
            self.state,
            StepState::Sent
                | StepState::Answered {
                    outcome: Outcome::Unknown,
                    ..
                }
        )
    }

    /// Whether it certainly did not take effect (for anyone).
    pub fn is_void(&self) -> bool {
        match &self.state {
            StepState::Answered { outcome, .. } => {
                matches!(outcome, Outcome::NotApplied | Outcome::Refused)
            }
            StepState::Settled { done, .. } => done.is_empty(),
            StepState::Sent => false,
        }
    }
}

/// What a step came to for one user of it, as far as the journal knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reached {
    /// Not answered, or answered unknown and not settled: check before sending again.
    Open,
    /// It took effect (acknowledged, or settled: nothing left).
    Applied,
    /// Slack refused it (its code; a batch refused is split and sent again).
    Refused(String),
    /// It did not take effect.
    NotApplied,
}

impl Step {
    /// What the step came to for `user`.
    pub fn reached(&self, user: &UserId) -> Reached {
        match &self.state {
            StepState::Sent => Reached::Open,
            StepState::Answered { outcome, error } => match outcome {
                Outcome::Ok | Outcome::Partial => Reached::Applied,
                Outcome::Refused => Reached::Refused(error.clone().unwrap_or_default()),
                Outcome::NotApplied => Reached::NotApplied,
                Outcome::Unknown => Reached::Open,
            },
            StepState::Settled { done, .. } => {
                if done.contains(user) {
                    Reached::Applied
                } else {
                    Reached::NotApplied
                }
            }
        }
    }
}

/// Every state-changing call of a run.
#[derive(Clone, Debug, Default)]
pub struct Calls {
    steps: HashMap<u64, Step>,
    last_step: u64,
    made: BTreeMap<String, u64>,
    /// Steps up to this one are counted in `made` by a checkpoint already.
    checkpoint: u64,
}

impl Calls {
    fn apply<R>(&mut self, line: &Line<R>) {
        match line {
            Line::Checkpoint {
                last_step, calls, ..
            } => {
                self.last_step = self.last_step.max(*last_step);
                self.checkpoint = *last_step;
                self.made = calls.clone();
            }
            Line::Intent { step, call, at_ms } => {
                self.last_step = self.last_step.max(*step);
                if *step > self.checkpoint {
                    *self.made.entry(call.method().to_owned()).or_default() += 1;
                }
                self.steps.insert(
                    *step,
                    Step {
                        call: call.clone(),
                        at_ms: *at_ms,
                        state: StepState::Sent,
                    },
                );
            }
            Line::Result {
                step,
                outcome,
                error,
                ..
            } => {
                if let Some(s) = self.steps.get_mut(step) {
                    s.state = StepState::Answered {
                        outcome: *outcome,
                        error: error.clone(),
                    };
                }
            }
            Line::Settled {
                step, done, resend, ..
            } => {
                if let Some(s) = self.steps.get_mut(step) {
                    s.state = StepState::Settled {
                        done: done.clone(),
                        resend: resend.clone(),
                    };
                }
            }
            _ => {}
        }
    }

    /// The step number of the next call (steps count from 1).
    pub fn next_step(&self) -> u64 {
        self.last_step + 1
    }

    /// A step.
    pub fn step(&self, step: u64) -> Option<&Step> {
        self.steps.get(&step)
    }

    /// Steps whose outcome is still to be found out, in order.
    pub fn open(&self) -> Vec<u64> {
        let mut open: Vec<u64> = self
            .steps
            .iter()
            .filter(|(_, s)| s.is_open())
            .map(|(n, _)| *n)
            .collect();
        open.sort_unstable();
        open
    }

    /// State-changing calls made, by method.
    pub fn made(&self) -> &BTreeMap<String, u64> {
        &self.made
    }

    /// Calls made in all.
    pub fn total(&self) -> u64 {
        self.made.values().sum()
    }

    /// The lines that tell `step` (its intent, and its answer or settlement).
    pub fn lines_of<R>(&self, step: u64) -> Vec<Line<R>> {
        let Some(s) = self.steps.get(&step) else {
            return Vec::new();
        };
        let mut lines = vec![Line::Intent {
            step,
            call: s.call.clone(),
            at_ms: s.at_ms,
        }];
        match &s.state {
            StepState::Sent => {}
            StepState::Answered { outcome, error } => lines.push(Line::Result {
                step,
                outcome: *outcome,
                error: error.clone(),
                at_ms: s.at_ms,
            }),
            StepState::Settled { done, resend } => lines.push(Line::Settled {
                step,
                done: done.clone(),
                resend: resend.clone(),
                at_ms: s.at_ms,
            }),
        }
        lines
    }
}

/// A run's journal and the state it replays to.
#[derive(Debug)]
pub struct Journaled<S: Replay> {
    journal: Option<Journal>,
    header: Header,
    /// The run's state.
    pub state: S,
    /// Its calls.
    pub calls: Calls,
    /// Lines in the journal.
    lines: usize,
    /// Lines the last compaction kept.
    kept: usize,
}

impl<S: Replay> Journaled<S> {
    /// The run `lines` tell of (the header first), writing to `journal` from now on (`None`:
    /// nothing is written, for a dry run).
    pub fn new(journal: Option<Journal>, header: Header, lines: &[Line<S::Record>]) -> Self {
        Self::with_state(journal, header, S::default(), lines)
    }

    /// Opens the run's journal at `path` by the rules of [`identity`]
    /// (a finished run's is archived, an unfinished run of the same command resumes, another's
    /// is refused), and replays it.
    pub fn open(
        path: &std::path::Path,
        header: Header,
        fresh: bool,
        events: &Events,
    ) -> Result<Self> {
        let opened = identity::open(path, &header, fresh, events)?;
        Ok(Self::new(Some(opened.journal), header, &opened.lines))
    }

    /// A run that writes nothing (a dry run), from its header.
    pub fn dry(header: Header) -> Self {
        Self::new(None, header.clone(), &[Line::Start(header)])
    }

    /// [`new`](Self::new), replaying onto `state` (a state with settings of its own).
    pub fn with_state(
        journal: Option<Journal>,
        header: Header,
        state: S,
        lines: &[Line<S::Record>],
    ) -> Self {
        let mut run = Journaled {
            journal,
            header,
            state,
            calls: Calls::default(),
            lines: lines.len(),
            kept: 0,
        };
        for line in lines {
            run.apply(line);
        }
        run
    }

    fn apply(&mut self, line: &Line<S::Record>) {
        self.calls.apply(line);
        self.state.apply(line, &self.calls);
    }

    /// The run's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The journal's path (`None` for a dry run).
    pub fn path(&self) -> Option<&std::path::Path> {
        self.journal.as_ref().map(Journal::path)
    }

    /// Writes a line to the journal (if any), then applies it: a line that cannot be written
    /// is not applied.
    pub fn record(&mut self, line: Line<S::Record>) -> Result<()> {
        if let Some(journal) = &mut self.journal {
            let sync = match &line {
                Line::Run(r) => S::must_sync(r),
                _ => true,
            };
            journal.append(&line, sync)?;
        }
        self.lines += 1;
        self.apply(&line);
        Ok(())
    }

    /// Records one of the run's own records.
    pub fn run(&mut self, record: S::Record) -> Result<()> {
        self.record(Line::Run(record))
    }

    /// Forces the journal to disk.
    pub fn sync(&mut self) -> Result<()> {
        match &mut self.journal {
            Some(journal) => journal.sync(),
            None => Ok(()),
        }
    }

    /// Records the run's end: the same command starts a new run from now on.
    pub fn finish(&mut self) -> Result<()> {
        self.record(Line::Finished { at_ms: now_ms() })
    }

    /// Removes a journal this run created, when it was declined before it changed anything.
    pub fn discard(&mut self) {
        if self.calls.total() == 0
            && let Some(journal) = self.journal.take()
            && journal.created()
        {
            journal.discard();
        }
    }

    /// Rewrites the journal with only what a resume still needs, once it holds
    /// [`COMPACT_AFTER`] lines and twice what the last rewrite kept, and rebuilds the state
    /// from it, so that memory and replay time stay flat however long the run goes. Returns
    /// whether it did.
    pub fn compact(&mut self) -> Result<bool> {
        self.compact_after(COMPACT_AFTER)
    }

    /// [`compact`](Self::compact) with another least length.
    pub fn compact_after(&mut self, least: usize) -> Result<bool> {
        if self.lines < least.max(2 * self.kept) {
            return Ok(false);
        }
        let Some(kept) = self.state.snapshot(&self.calls) else {
            return Ok(false);
        };
        let mut lines = vec![
            Line::Start(self.header.clone()),
            Line::Checkpoint {
                last_step: self.calls.last_step,
                calls: self.calls.made.clone(),
                at_ms: now_ms(),
            },
        ];
        lines.extend(kept);
        if let Some(journal) = &mut self.journal {
            journal.replace(&lines)?;
        }
        self.state = self.state.emptied();
        self.calls = Calls::default();
        for line in &lines {
            self.apply(line);
        }
        self.lines = lines.len();
        self.kept = lines.len();
        Ok(true)
    }
}

/// A run's journal shared by tasks: one that acts (and calls Slack) and others that append to
/// it meanwhile (a receiver's accepted signals). Each operation locks it for as long as it
/// takes to write and apply a line, never across a call to Slack ([`crate::calls::Steps`]).
pub struct Shared<S: Replay>(Arc<Mutex<Journaled<S>>>);

impl<S: Replay> Shared<S> {
    /// Shares `run`.
    pub fn new(run: Journaled<S>) -> Self {
        Shared(Arc::new(Mutex::new(run)))
    }

    /// The run, locked. A task that panicked while holding it left whole lines behind (each is
    /// written, then applied), so the lock is taken over rather than refused.
    pub fn lock(&self) -> MutexGuard<'_, Journaled<S>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: Replay> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<S: Replay> std::fmt::Debug for Shared<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared(Journaled)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Devices;

    /// A run that counts its own records and keeps none once settled.
    #[derive(Default)]
    struct Counting {
        seen: usize,
    }

    impl Replay for Counting {
        type Record = u32;
        fn apply(&mut self, line: &Line<u32>, _: &Calls) {
            if matches!(line, Line::Run(_)) {
                self.seen += 1;
            }
        }
        fn snapshot(&self, calls: &Calls) -> Option<Vec<Line<u32>>> {
            Some(
                calls
                    .open()
                    .into_iter()
                    .flat_map(|s| calls.lines_of(s))
                    .collect(),
            )
        }
    }

    fn reset(step: u64) -> Line<u32> {
        Line::Intent {
            step,
            call: Call::Reset {
                user_ids: vec![UserId::new("W1")],
                devices: Devices::All,
            },
            at_ms: step,
        }
    }

    #[test]
    fn calls_replay_and_compaction_keeps_what_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let header = crate::journal::fixtures::header(crate::journal::RunKind::Enforce, "d");
        let (journal, _) = Journal::open(&path).unwrap();
        let mut run: Journaled<Counting> =
            Journaled::new(Some(journal), header.clone(), &[Line::Start(header)]);
        for step in 1..=50u64 {
            run.record(reset(step)).unwrap();
            if step != 30 {
                run.record(Line::Result {
                    step,
                    outcome: Outcome::Ok,
                    error: None,
                    at_ms: 0,
                })
                .unwrap();
            }
            run.run(7).unwrap();
        }
        assert_eq!(run.calls.open(), [30]);
        assert_eq!(run.state.seen, 50);
        assert!(!run.compact_after(1_000).unwrap());
        assert!(run.compact_after(100).unwrap());
        assert_eq!(run.calls.open(), [30]);
        assert_eq!(run.calls.next_step(), 51);
        assert_eq!(run.calls.made()["admin.users.session.reset"], 50);
        assert_eq!(run.state.seen, 0);
        drop(run);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
    }
}
