//! Counting users' sessions after a reset: one `list` walk per user (few users), or one walk of
//! the whole org a round (many users: a page holds 1,000 sessions of any users, where a
//! per-user walk spends a call on each user).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use slack_sessions_client::api::{TeamId, UserId};
use slack_sessions_client::methods::{ActiveSession, ListArgs, Platform};
use slack_sessions_client::{Client, Error};

use crate::cli::{Scope, VerifyBy};

/// Up to this many users, `auto` lists per user.
pub const PER_USER_UP_TO: usize = 10;

/// Counts sessions of users, in the run's scope.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// The client (reads only).
    pub client: Client,
    /// The team id a per-user list is made with (the org id: all of a user's sessions).
    pub team: TeamId,
    /// Which sessions count.
    pub scope: Scope,
    /// How to list.
    pub by: VerifyBy,
}

/// Why a wait ended early.
#[derive(Debug)]
pub enum Stop {
    /// A list call failed.
    Api(Error),
    /// Ctrl-C.
    Interrupted,
    /// Recording a result failed (the journal could not be written).
    Local(crate::exit::Failure),
}

impl Verifier {
    fn counts(&self, s: &ActiveSession) -> bool {
        let mobile = s.platform() == Platform::Mobile;
        match (self.scope.mobile_only, self.scope.web_only) {
            (true, false) => mobile,
            (false, true) => !mobile,
            _ => true,
        }
    }

    /// The sessions one user has now, by a list of their own (which fails for a user Slack
    /// would refuse: `bots_not_allowed`, `user_not_found`).
    pub async fn count_one(&self, user: &UserId) -> Result<u64, Error> {
        let args = ListArgs::for_user(self.team.clone(), user.clone()).limit(1000);
        let mut walk = self.client.list_sessions(args);
        let mut n = 0;
        while let Some(s) = walk.try_next().await? {
            if self.counts(&s) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// One round: the sessions each user has now (0 for a user with none).
    pub async fn count(&self, users: &[UserId]) -> Result<HashMap<UserId, u64>, Error> {
        let mut counts: HashMap<UserId, u64> = users.iter().map(|u| (u.clone(), 0)).collect();
        let per_user = match self.by {
            VerifyBy::User => true,
            VerifyBy::Org => false,
            VerifyBy::Auto => users.len() <= PER_USER_UP_TO,
        };
        if per_user {
            for u in users {
                counts.insert(u.clone(), self.count_one(u).await?);
            }
        } else {
            let wanted: HashSet<&UserId> = users.iter().collect();
            let mut walk = self.client.list_sessions(ListArgs::new().limit(1000));
            while let Some(s) = walk.try_next().await? {
                if wanted.contains(&s.user_id) && self.counts(&s) {
                    *counts.entry(s.user_id.clone()).or_default() += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Which of `sessions` (each with its user) are still listed: one list per user for a
    /// few users, one walk of the org for many (as [`count`](Self::count) decides).
    pub async fn present(&self, sessions: &[(UserId, u64)]) -> Result<HashSet<u64>, Error> {
        let wanted: HashSet<u64> = sessions.iter().map(|(_, id)| *id).collect();
        let users: HashSet<&UserId> = sessions.iter().map(|(u, _)| u).collect();
        let per_user = match self.by {
            VerifyBy::User => true,
            VerifyBy::Org => false,
            VerifyBy::Auto => users.len() <= PER_USER_UP_TO,
        };
        let mut found = HashSet::new();
        let mut look = async |args: ListArgs| -> Result<(), Error> {
            let mut walk = self.client.list_sessions(args);
            while let Some(s) = walk.try_next().await? {
                if wanted.contains(&s.session_id.0) {
                    found.insert(s.session_id.0);
                }
            }
            Ok(())
        };
        if per_user {
            for u in users {
                look(ListArgs::for_user(self.team.clone(), u.clone()).limit(1000)).await?;
            }
        } else {
            look(ListArgs::new().limit(1000)).await?;
        }
        Ok(found)
    }

    /// Counts round after round until every user has no session left or `timeout` passed.
    /// `gone` is told of each user as soon as none is left; `round` after every round with the
    /// users still waited for. Returns the users with sessions left at the end, with counts.
    pub async fn wait_until_gone(
        &self,
        users: &[UserId],
        timeout: Duration,
        interrupted: &dyn Fn() -> bool,
        gone: &mut dyn FnMut(&UserId, u64) -> Result<(), Stop>,
    ) -> Result<HashMap<UserId, u64>, Stop> {
        let started = Instant::now();
        let mut remaining: Vec<UserId> = users.to_vec();
        let mut pause = Duration::from_millis(200);
        loop {
            if interrupted() {
                return Err(Stop::Interrupted);
            }
            let counts = self.count(&remaining).await.map_err(Stop::Api)?;
            let mut left = Vec::new();
            for u in &remaining {
                match counts.get(u).copied().unwrap_or(0) {
                    0 => gone(u, 0)?,
                    _ => left.push(u.clone()),
                }
            }
            remaining = left;
            if remaining.is_empty() {
                return Ok(HashMap::new());
            }
            let elapsed = started.elapsed();
            if elapsed >= timeout {
                return Ok(remaining
                    .into_iter()
                    .map(|u| {
                        let n = counts.get(&u).copied().unwrap_or(0);
                        (u, n)
                    })
                    .collect());
            }
            tokio::time::sleep(pause.min(timeout - elapsed)).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}
