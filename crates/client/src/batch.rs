//! Bulk writes over any number of users: `resetBulk`, `setSettings` and `clearSettings` take at
//! most [`MAX_USER_IDS`] (1,000) users a call, so the helpers split the list into batches, send
//! them paced like every call (optionally several at once), and return one outcome per user.
//!
//! A batch that Slack refuses because of **one** user it names (unknown, a bot, the primary
//! owner: [`Error::is_user_refusal`]) was refused before Slack acted on anyone, so it is split in
//! halves, and the halves sent again, until the users at fault are alone in their batch: everyone
//! else is served, and each refused user gets the code that refused them. [`Batches`] is that
//! queue on its own, for a caller that must record each call before sending it (the CLI's
//! journalled offboarding).
//!
//! ```no_run
//! # async fn run(client: slack_sessions_client::Client, users: Vec<String>) {
//! use slack_sessions_client::batch::UserOutcome;
//! use slack_sessions_client::methods::ResetBulkArgs;
//!
//! let report = client.reset_bulk_all(ResetBulkArgs::new(&users)).concurrency(2).await;
//! for (user, outcome) in report.outcomes() {
//!     match outcome {
//!         UserOutcome::Done(_) => println!("{user}: queued"),
//!         UserOutcome::Refused(e) => println!("{user}: refused ({})", e.code().unwrap()),
//!         UserOutcome::Failed(e) => println!("{user}: failed ({e}), may have been applied: {}", e.may_have_been_applied()),
//!         UserOutcome::NotSent => println!("{user}: not sent (an earlier batch failed)"),
//!         _ => {}
//!     }
//! }
//! # }
//! ```

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::IntoFuture;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use slack_sessions_api::UserId;
use slack_sessions_api::methods::{ClearSettingsArgs, Empty, ResetBulkArgs, SetSettingsArgs};
pub use slack_sessions_api::validate::MAX_USER_IDS;

use crate::{Client, Error, Response};

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

    /// After Slack refused `batch` because of one of its users ([`Error::is_user_refusal`]):
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

type Call = Arc<dyn Fn(Client, Vec<UserId>) -> BoxFuture<'static, CallResult> + Send + Sync>;
type CallResult = Result<Response<Empty>, Error>;

/// A bulk write, ready to run: set its options, then `.await` it for a [`BulkReport`]. Made by
/// [`Client::reset_bulk_all`], [`Client::set_settings_all`] and
/// [`Client::clear_settings_all`].
#[must_use = "a bulk write does nothing until awaited"]
pub struct Bulk {
    client: Client,
    users: Vec<UserId>,
    call: Call,
    batch_size: usize,
    concurrency: usize,
    split_refused: bool,
    keep_going: bool,
}

impl std::fmt::Debug for Bulk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulk")
            .field("users", &self.users.len())
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .field("split_refused", &self.split_refused)
            .field("keep_going", &self.keep_going)
            .finish_non_exhaustive()
    }
}

impl Bulk {
    pub(crate) fn new<F>(client: &Client, users: Vec<UserId>, call: F) -> Self
    where
        F: Fn(Client, Vec<UserId>) -> BoxFuture<'static, CallResult> + Send + Sync + 'static,
    {
        Bulk {
            client: client.clone(),
            users,
            call: Arc::new(call),
            batch_size: MAX_USER_IDS,
            concurrency: 1,
            split_refused: true,
            keep_going: false,
        }
    }

    /// Users per call (default and most: [`MAX_USER_IDS`]).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.clamp(1, MAX_USER_IDS);
        self
    }

    /// Batches in flight at once (default 1). The client's pacing still spreads them over the
    /// method's budget, so this helps when calls are slow, not when the budget is spent.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Split a batch refused because of one user to find that user (default: yes). When off,
    /// every user of such a batch gets [`UserOutcome::Failed`].
    pub fn split_refused(mut self, split: bool) -> Self {
        self.split_refused = split;
        self
    }

    /// Go on with the other batches after a batch failed for another reason than its users
    /// (authentication, a rate limit or a server error the retries did not get past, no
    /// usable answer). Default: stop, since the next batches would most likely fail the same
    /// way; the users not sent get [`UserOutcome::NotSent`].
    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.keep_going = keep_going;
        self
    }

    async fn run(self) -> BulkReport {
        let order = unique(self.users.into_iter());
        let mut queue = Batches::new(order.iter().cloned(), self.batch_size);
        let mut report = BulkReport {
            order,
            batches: Vec::new(),
            not_sent: Vec::new(),
            calls: 0,
            splits: 0,
        };
        let mut running = FuturesUnordered::new();
        let mut stop = false;
        loop {
            while !stop && running.len() < self.concurrency {
                let Some(batch) = queue.pop() else { break };
                let call = (self.call)(self.client.clone(), batch.clone());
                running.push(async move { (batch, call.await) });
            }
            let Some((batch, result)) = running.next().await else {
                break;
            };
            report.calls += 1;
            if let Err(err) = &result {
                if self.split_refused && err.is_user_refusal() && batch.len() > 1 {
                    tracing::debug!(users = batch.len(), error = %err, "batch refused for a user: splitting");
                    queue.split(batch);
                    report.splits += 1;
                    continue;
                }
                let about_users = err.is_user_refusal()
                    || err.code() == Some(&slack_sessions_api::ErrorCode::FailedForSomeUsers);
                if !about_users && !self.keep_going {
                    stop = true;
                }
            }
            report.batches.push(BatchResult {
                users: batch,
                result,
            });
        }
        report.not_sent = queue.into_users();
        report
    }
}

impl IntoFuture for Bulk {
    type Output = BulkReport;
    type IntoFuture = BoxFuture<'static, BulkReport>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// One call of a bulk write: its users and its result.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchResult {
    /// The users the call named.
    pub users: Vec<UserId>,
    /// Its result.
    pub result: Result<Response<Empty>, Error>,
}

/// What happened to one user of a bulk write.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum UserOutcome<'a> {
    /// The call naming the user succeeded (for `resetBulk`: the reset job is queued).
    Done(&'a Response<Empty>),
    /// Slack refused this user ([`Error::is_user_refusal`]: unknown, a bot, the primary owner):
    /// nothing was applied to them.
    Refused(&'a Error),
    /// The call naming the user failed for another reason; [`Error::may_have_been_applied`]
    /// says whether it may have acted anyway (for `failed_for_some_users`: for some users).
    Failed(&'a Error),
    /// Not sent: the run stopped after a failure (see [`Bulk::keep_going`]).
    NotSent,
}

/// The outcome of a bulk write: per batch, and per user in the order given.
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkReport {
    order: Vec<UserId>,
    /// The final calls, in the order they ended (a batch that was split is not among them).
    pub batches: Vec<BatchResult>,
    /// The users not sent, because the run stopped after a failure.
    pub not_sent: Vec<UserId>,
    /// Calls made, those of split batches included.
    pub calls: u32,
    /// Batches split to isolate a refused user.
    pub splits: u32,
}

impl BulkReport {
    /// Every user once, in the order given, with what happened to them.
    pub fn outcomes(&self) -> impl Iterator<Item = (&UserId, UserOutcome<'_>)> {
        let mut by_user: HashMap<&UserId, UserOutcome<'_>> = HashMap::new();
        for batch in &self.batches {
            let outcome = match &batch.result {
                Ok(response) => UserOutcome::Done(response),
                Err(e) if e.is_user_refusal() && batch.users.len() == 1 => UserOutcome::Refused(e),
                Err(e) => UserOutcome::Failed(e),
            };
            for user in &batch.users {
                by_user.insert(user, outcome);
            }
        }
        self.order.iter().map(move |user| {
            let outcome = by_user.get(user).copied().unwrap_or(UserOutcome::NotSent);
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

    /// The users Slack refused.
    pub fn refused(&self) -> Vec<&UserId> {
        self.select(|o| matches!(o, UserOutcome::Refused(_)))
    }

    /// The users whose call failed, or that were not sent.
    pub fn failed(&self) -> Vec<&UserId> {
        self.select(|o| matches!(o, UserOutcome::Failed(_) | UserOutcome::NotSent))
    }

    /// True when every user's call succeeded.
    pub fn all_done(&self) -> bool {
        self.not_sent.is_empty() && self.batches.iter().all(|b| b.result.is_ok())
    }

    fn select(&self, keep: impl Fn(&UserOutcome<'_>) -> bool) -> Vec<&UserId> {
        self.outcomes()
            .filter(|(_, o)| keep(o))
            .map(|(u, _)| u)
            .collect()
    }
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
        Bulk::new(self, users, move |client, users| {
            let mut args = template.clone();
            args.user_ids = users;
            Box::pin(async move { client.reset_bulk(args).await })
        })
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
        Bulk::new(self, users, move |client, users| {
            let mut args = template.clone();
            args.user_ids = users;
            Box::pin(async move { client.set_settings(args).await })
        })
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
        Bulk::new(self, users, move |client, users| {
            Box::pin(async move { client.clear_settings(ClearSettingsArgs::new(users)).await })
        })
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
