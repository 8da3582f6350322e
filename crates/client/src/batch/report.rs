//! What a bulk write did, per call and per user.

use std::collections::HashMap;

use slack_sessions_api::methods::Empty;
use slack_sessions_api::{ErrorCode, UserId};

use crate::{Error, Response};

/// One call of a bulk write that settled its users: accepted, failed, or not sent.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchResult {
    /// The users the call named.
    pub users: Vec<UserId>,
    /// Its result.
    pub result: Result<Response<Empty>, Error>,
}

/// How a refused user was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FoundBy {
    /// Slack refused a call that named this user alone.
    OwnCall,
    /// Slack refused a batch, and accepted the rest of it without this user.
    Batch,
    /// The user's `users.info` record shows why Slack refuses them (an unknown id, a bot, the
    /// primary owner, another org's user); they were not sent again.
    UsersInfo,
}

/// A user Slack refuses: nothing was applied to them.
#[derive(Debug)]
#[non_exhaustive]
pub struct Refusal {
    /// The code Slack refuses the user with (`user_not_found`, `cannot_reset_bot`, …).
    pub code: ErrorCode,
    /// How it was found.
    pub found_by: FoundBy,
    /// Slack's error: the refused call's (of the user alone, or of the batch), or that of the
    /// user's `users.info` call when it answered `user_not_found`; `None` when the record
    /// itself shows the reason.
    pub error: Option<Error>,
}

/// What happened to one user of a bulk write.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum UserOutcome<'a> {
    /// The call naming the user succeeded (for `resetBulk`: the reset job is queued).
    Done(&'a Response<Empty>),
    /// Slack refuses this user ([`Error::is_user_refusal`]: unknown, a bot, the primary owner):
    /// nothing was applied to them.
    Refused(&'a Refusal),
    /// The call naming the user was sent and failed for another reason;
    /// [`Error::may_have_been_applied`] says whether it may have acted anyway (for
    /// `failed_for_some_users`: for some users).
    Failed(&'a Error),
    /// Not sent, so nothing was applied: the run stopped after a failure (see
    /// [`Bulk::keep_going`](super::Bulk::keep_going)) or at its
    /// [deadline](super::Bulk::deadline) first (`None`), or the user's call was never sent
    /// (`Some`: an [`Error::NotSent`], such as a rate-limit slot after the deadline). A user of
    /// a batch refused because of someone else, not sent again before the run ended, is here
    /// too.
    NotSent(Option<&'a Error>),
}

/// The outcome of a bulk write: per call, and per user in the order given.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct BulkReport {
    pub(crate) order: Vec<UserId>,
    /// The calls that settled their users (accepted, failed, or not sent), in the order they
    /// ended. A refused batch is not among them: its users are in
    /// [`refusals`](Self::refusals) or went on in other batches.
    pub batches: Vec<BatchResult>,
    /// The users Slack refuses, and how each was found.
    pub refusals: HashMap<UserId, Refusal>,
    /// Write calls made, the refused ones included.
    pub calls: u32,
    /// `users.info` calls made to find refused users.
    pub screen_calls: u32,
    /// Refused batches split in halves to find the users at fault.
    pub splits: u32,
    /// The run stopped at its deadline with users left.
    pub deadline_passed: bool,
}

impl BulkReport {
    /// Every user once, in the order given, with what happened to them.
    pub fn outcomes(&self) -> impl Iterator<Item = (&UserId, UserOutcome<'_>)> {
        let mut by_user: HashMap<&UserId, UserOutcome<'_>> = HashMap::new();
        for batch in &self.batches {
            let outcome = match &batch.result {
                Ok(response) => UserOutcome::Done(response),
                Err(e @ Error::NotSent(_)) => UserOutcome::NotSent(Some(e)),
                Err(e) => UserOutcome::Failed(e),
            };
            for user in &batch.users {
                by_user.insert(user, outcome);
            }
        }
        for (user, refusal) in &self.refusals {
            by_user.insert(user, UserOutcome::Refused(refusal));
        }
        self.order.iter().map(move |user| {
            let outcome = by_user
                .get(user)
                .copied()
                .unwrap_or(UserOutcome::NotSent(None));
            (user, outcome)
        })
    }

    /// What happened to `user`, if the write named them.
    pub fn outcome(&self, user: &UserId) -> Option<UserOutcome<'_>> {
        self.outcomes().find(|(u, _)| *u == user).map(|(_, o)| o)
    }

    /// The users whose call succeeded.
    pub fn done(&self) -> Vec<&UserId> {
        self.select(|o| matches!(o, UserOutcome::Done(_)))
    }

    /// The users Slack refuses.
    pub fn refused(&self) -> Vec<&UserId> {
        self.select(|o| matches!(o, UserOutcome::Refused(_)))
    }

    /// The users whose call was sent and failed (not those [not sent](Self::not_sent)).
    pub fn failed(&self) -> Vec<&UserId> {
        self.select(|o| matches!(o, UserOutcome::Failed(_)))
    }

    /// The users not sent: nothing was applied to them, and a new run can send them.
    pub fn not_sent(&self) -> Vec<&UserId> {
        self.select(|o| matches!(o, UserOutcome::NotSent(_)))
    }

    /// True when every user's call succeeded.
    pub fn all_done(&self) -> bool {
        self.outcomes()
            .all(|(_, o)| matches!(o, UserOutcome::Done(_)))
    }

    fn select(&self, keep: impl Fn(&UserOutcome<'_>) -> bool) -> Vec<&UserId> {
        self.outcomes()
            .filter(|(_, o)| keep(o))
            .map(|(u, _)| u)
            .collect()
    }
}
