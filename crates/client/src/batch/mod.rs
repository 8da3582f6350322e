//! Bulk writes over any number of users: `resetBulk`, `setSettings` and `clearSettings` take at
//! most [`MAX_USER_IDS`] (1,000) users a call, so the helpers split the list into batches, send
//! them paced like every call (optionally several at once), and return one outcome per user:
//! done, refused, failed (sent, and it went wrong), or not sent (nothing applied).
//!
//! **Refused users.** Slack refuses a whole batch because of one user it names (unknown, a bot,
//! the primary owner: [`Error::is_user_refusal`](crate::Error::is_user_refusal)) before acting
//! on anyone. The run finds who, spending the cheaper budget where it can:
//!
//! - it reads the batch's users with `users.info` ([`Client::screen`]: tier 4, 100 calls a
//!   minute, where the writes are tier 2, 20) and sends the batch again without those whose
//!   record shows why Slack refuses them ([`Write::refusal`]), when that settles the batch
//!   sooner than halving it, judged from where both rate-limit budgets stand;
//! - otherwise, and where the records show no reason, it halves the batch: the first half is
//!   sent; if Slack accepts it, the second half holds every user at fault and is halved in
//!   turn without being sent; if not, both are looked into.
//!
//! A user found by halving alone, whose record showed nothing against them, is sent alone
//! before being reported refused. [`Bulk::screen_with_users_info`] turns the reads off.
//!
//! **Watching and bounding a run**: [`Bulk::on_progress`] is called after each step (a call
//! about to leave and its wait for the rate limit, an answer, a screening), and
//! [`Bulk::deadline`] / [`Bulk::timeout`] stop the run and return the report, the users not
//! reached as [`UserOutcome::NotSent`].
//!
//! [`Batches`] is the queue of batches on its own, with the halving, and [`Client::screen`]
//! the reads, for a caller that sends its calls itself (the CLI's journalled offboarding
//! records each call before sending it).
//!
//! ```no_run
//! # async fn run(client: slack_sessions_client::Client, users: Vec<String>) {
//! use std::time::Duration;
//! use slack_sessions_client::batch::UserOutcome;
//! use slack_sessions_client::methods::ResetBulkArgs;
//!
//! let report = client
//!     .reset_bulk_all(ResetBulkArgs::new(&users))
//!     .on_progress(|p| eprintln!("{p}"))
//!     .timeout(Duration::from_secs(300))
//!     .await;
//! for (user, outcome) in report.outcomes() {
//!     match outcome {
//!         UserOutcome::Done(_) => println!("{user}: queued"),
//!         UserOutcome::Refused(r) => println!("{user}: refused ({}, found by {:?})", r.code, r.found_by),
//!         UserOutcome::Failed(e) => println!("{user}: failed ({e}), may have been applied: {}", e.may_have_been_applied()),
//!         UserOutcome::NotSent(_) => println!("{user}: not sent, nothing applied"),
//!         _ => {}
//!     }
//! }
//! # }
//! ```

use std::collections::{HashSet, VecDeque};

use slack_sessions_api::methods::{
    ClearSettings, ClearSettingsArgs, ResetBulk, ResetBulkArgs, SetSettings, SetSettingsArgs,
};
pub use slack_sessions_api::validate::MAX_USER_IDS;
use slack_sessions_api::{Method, UserId};

use crate::Client;

mod progress;
mod report;
mod run;
mod screen;

pub use progress::{Event, Progress};
pub use report::{BatchResult, BulkReport, FoundBy, Refusal, UserOutcome};
pub use run::Bulk;
pub use screen::{Screening, Write};

/// The queue of batches, with the splitting of a refused batch: what [`Bulk`] runs, for a
/// caller that sends the calls itself.
///
/// ```
/// use slack_sessions_client::batch::Batches;
///
/// let mut batches = Batches::new(["W1", "W2", "W3", "W1"], 2);
/// assert_eq!(batches.len(), 2); // each user once
/// let first = batches.pop().unwrap();
/// assert_eq!(first.len(), 2);
/// // Slack refused `first` because of one of its users: send each half on its own.
/// assert!(batches.split(first));
/// assert_eq!(batches.pop().unwrap().len(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Batches {
    queue: VecDeque<Vec<UserId>>,
}

impl Batches {
    /// `users` (each once, in order) in batches of `size` (clamped to `1..=`[`MAX_USER_IDS`]).
    pub fn new<I, U>(users: I, size: usize) -> Self
    where
        I: IntoIterator<Item = U>,
        U: Into<UserId>,
    {
        let size = size.clamp(1, MAX_USER_IDS);
        let users = unique(users.into_iter().map(Into::into));
        Batches {
            queue: users.chunks(size).map(<[UserId]>::to_vec).collect(),
        }
    }

    /// The next batch to send.
    pub fn pop(&mut self) -> Option<Vec<UserId>> {
        self.queue.pop_front()
    }

    /// Puts `batch` back to be sent next (e.g. users to send again after an unknown outcome).
    pub fn push_front(&mut self, batch: Vec<UserId>) {
        if !batch.is_empty() {
            self.queue.push_front(batch);
        }
    }

    /// After Slack refused `batch` because of one of its users
    /// ([`Error::is_user_refusal`](crate::Error::is_user_refusal)):
    /// queues its halves to be sent next and returns true; returns false for a batch of one
    /// user, who is the one refused.
    pub fn split(&mut self, batch: Vec<UserId>) -> bool {
        if batch.len() < 2 {
            return false;
        }
        let (a, b) = batch.split_at(batch.len() / 2);
        self.queue.push_front(b.to_vec());
        self.queue.push_front(a.to_vec());
        true
    }

    /// Batches waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when no batch is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The users of every batch still waiting, in order.
    pub fn into_users(self) -> Vec<UserId> {
        self.queue.into_iter().flatten().collect()
    }
}

fn unique(users: impl Iterator<Item = UserId>) -> Vec<UserId> {
    let mut seen = HashSet::new();
    users.filter(|u| seen.insert(u.clone())).collect()
}

impl Client {
    /// `admin.users.session.resetBulk` for any number of users: `args.user_ids` in batches of
    /// at most 1,000, each with `args`' other settings, paced, a refused batch split to isolate
    /// the user Slack refuses; one outcome per user. See the [module docs](self).
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client) {
    /// use slack_sessions_client::methods::ResetBulkArgs;
    ///
    /// let users: Vec<String> = (0..2500).map(|i| format!("W{i:08}")).collect();
    /// let report = client.reset_bulk_all(ResetBulkArgs::new(&users).mobile_only(true)).await;
    /// println!("{} queued, {} refused", report.done().len(), report.refused().len());
    /// # }
    /// ```
    pub fn reset_bulk_all(&self, args: ResetBulkArgs) -> Bulk {
        let mut template = args;
        let users = std::mem::take(&mut template.user_ids);
        Bulk::new(
            self,
            ResetBulk::NAME,
            Write::Reset,
            users,
            move |client, users| {
                let mut args = template.clone();
                args.user_ids = users;
                Box::pin(async move { client.reset_bulk(args).await })
            },
        )
    }

    /// `admin.users.session.setSettings` for any number of users, in batches of at most 1,000;
    /// see [`reset_bulk_all`](Self::reset_bulk_all).
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client, users: Vec<String>) {
    /// use std::time::Duration;
    /// use slack_sessions_client::methods::SetSettingsArgs;
    ///
    /// let args = SetSettingsArgs::new(&users).duration(Duration::from_secs(8 * 3600));
    /// let report = client.set_settings_all(args).concurrency(4).await;
    /// assert!(report.all_done(), "{:?}", report.failed());
    /// # }
    /// ```
    pub fn set_settings_all(&self, args: SetSettingsArgs) -> Bulk {
        let mut template = args;
        let users = std::mem::take(&mut template.user_ids);
        Bulk::new(
            self,
            SetSettings::NAME,
            Write::Settings,
            users,
            move |client, users| {
                let mut args = template.clone();
                args.user_ids = users;
                Box::pin(async move { client.set_settings(args).await })
            },
        )
    }

    /// `admin.users.session.clearSettings` for any number of users, in batches of at most
    /// 1,000; see [`reset_bulk_all`](Self::reset_bulk_all).
    ///
    /// ```no_run
    /// # async fn run(client: slack_sessions_client::Client, users: Vec<String>) {
    /// use slack_sessions_client::methods::ClearSettingsArgs;
    ///
    /// let report = client.clear_settings_all(ClearSettingsArgs::new(&users)).await;
    /// println!("{} cleared", report.done().len());
    /// # }
    /// ```
    pub fn clear_settings_all(&self, args: ClearSettingsArgs) -> Bulk {
        let users = args.user_ids;
        Bulk::new(
            self,
            ClearSettings::NAME,
            Write::Settings,
            users,
            move |client, users| {
                Box::pin(async move { client.clear_settings(ClearSettingsArgs::new(users)).await })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(batch: &[UserId]) -> Vec<&str> {
        batch.iter().map(UserId::as_str).collect()
    }

    #[test]
    fn batches_keep_order_drop_repeats_and_clamp_sizes() {
        let mut b = Batches::new(["W1", "W2", "W3", "W2", "W4", "W5"], 2);
        assert_eq!(b.len(), 3);
        assert_eq!(ids(&b.pop().unwrap()), ["W1", "W2"]);
        assert_eq!(ids(&b.pop().unwrap()), ["W3", "W4"]);
        b.push_front(vec![UserId::from("W9")]);
        assert_eq!(ids(&b.pop().unwrap()), ["W9"]);
        assert_eq!(ids(&b.into_users()), ["W5"]);
        let users: Vec<String> = (0..2500).map(|i| format!("W{i}")).collect();
        let b = Batches::new(&users, 5000);
        assert_eq!(b.len(), 3, "at most 1,000 a batch");
        assert_eq!(
            Batches::new(["W1", "W2"], 0).len(),
            2,
            "at least one a batch"
        );
    }

    #[test]
    fn splitting_isolates_one_user_in_log_steps() {
        // Find W6 among 8 users by halves, as a caller would.
        let users: Vec<String> = (0..8).map(|i| format!("W{i}")).collect();
        let mut b = Batches::new(&users, 8);
        let mut sent = 0;
        let mut alone = Vec::new();
        while let Some(batch) = b.pop() {
            sent += 1;
            if batch.iter().any(|u| u.as_str() == "W6") && !b.split(batch.clone()) {
                alone.push(batch);
            }
        }
        assert_eq!(alone, [vec![UserId::from("W6")]]);
        assert_eq!(sent, 7, "1 + 2 + 2 + 2 calls");
    }
}
