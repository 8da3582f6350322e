//! Counting sessions after a write: one `list` walk per user (few users), or one walk of the
//! whole org a round (many users: a page holds 1,000 sessions of any users, where a per-user
//! walk spends a call on each user).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use slack_sessions_client::api::{TeamId, UserId};
use slack_sessions_client::methods::{ActiveSession, ListArgs};
use slack_sessions_client::{Client, Error as ClientError};

use crate::error::{Error, Result};
use crate::journal::Devices;
use crate::stop::Stop;

/// Up to this many users, [`CountBy::Auto`] lists per user.
pub const PER_USER_UP_TO: usize = 10;

/// How sessions are counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CountBy {
    /// One list per user for a few users, the whole org's list for many.
    #[default]
    Auto,
    /// One list call (or more) per user.
    User,
    /// The org's whole session list each round.
    Org,
}

/// Counts sessions of users.
#[derive(Debug, Clone)]
pub struct Counter {
    /// The client (reads only).
    pub client: Client,
    /// The team id a per-user list is made with (the org id: all of a user's sessions).
    pub team: TeamId,
    /// Which sessions count.
    pub devices: Devices,
    /// How to list.
    pub by: CountBy,
}

impl Counter {
    fn per_user(&self, users: usize) -> bool {
        match self.by {
            CountBy::User => true,
            CountBy::Org => false,
            CountBy::Auto => users <= PER_USER_UP_TO,
        }
    }

    fn counts(&self, s: &ActiveSession) -> bool {
        self.devices.covers(s.platform())
    }

    /// The sessions one user has now, by a list of their own (which fails for a user Slack
    /// would refuse: `bots_not_allowed`, `user_not_found`).
    pub async fn count_one(&self, user: &UserId) -> Result<u64, ClientError> {
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
    pub async fn count(&self, users: &[UserId]) -> Result<HashMap<UserId, u64>, ClientError> {
        let mut counts: HashMap<UserId, u64> = users.iter().map(|u| (u.clone(), 0)).collect();
        if self.per_user(users.len()) {
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

    /// Which of `sessions` (each with its user) are still listed.
    pub async fn present(&self, sessions: &[(UserId, u64)]) -> Result<HashSet<u64>, ClientError> {
        let wanted: HashSet<u64> = sessions.iter().map(|(_, id)| *id).collect();
        let users: HashSet<&UserId> = sessions.iter().map(|(u, _)| u).collect();
        let mut found = HashSet::new();
        let mut look = async |args: ListArgs| -> Result<(), ClientError> {
            let mut walk = self.client.list_sessions(args);
            while let Some(s) = walk.try_next().await? {
                if wanted.contains(&s.session_id.0) {
                    found.insert(s.session_id.0);
                }
            }
            Ok(())
        };
        if self.per_user(users.len()) {
            for u in users {
                look(ListArgs::for_user(self.team.clone(), u.clone()).limit(1000)).await?;
            }
        } else {
            look(ListArgs::new().limit(1000)).await?;
        }
        Ok(found)
    }

    /// Counts round after round until every user has no session left or `timeout` passed.
    /// `gone` is told of each user as soon as none is left. Returns the users with sessions
    /// left at the end, with counts.
    pub async fn wait_until_gone(
        &self,
        users: &[UserId],
        timeout: Duration,
        stop: &Stop,
        gone: &mut (dyn FnMut(&UserId) -> Result<()> + Send),
    ) -> Result<HashMap<UserId, u64>> {
        let started = Instant::now();
        let mut remaining: Vec<UserId> = users.to_vec();
        let mut pause = Duration::from_millis(200);
        loop {
            stop.check()?;
            let counts = self
                .count(&remaining)
                .await
                .map_err(|e| Error::slack("cannot count sessions", e))?;
            let mut left = Vec::new();
            for u in remaining {
                match counts.get(&u).copied().unwrap_or(0) {
                    0 => gone(&u)?,
                    _ => left.push(u),
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
            stop.sleep(pause.min(timeout - elapsed)).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}
