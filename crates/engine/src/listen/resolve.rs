//! Addresses to users, for the worker and for a receiver that answers by them (GTR): one
//! `users.lookupByEmail` per address, its answer kept for [`CACHE_FOR`], so that a burst of
//! signals about one person costs one call, and a change in Slack (a user deactivated, an
//! address moved) is seen within minutes.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::{LookupByEmail, User};

use super::{Inner, Lookup};
use crate::error::{Error, Result};
use crate::text::visible;

/// How long an address's user is kept.
pub const CACHE_FOR: Duration = Duration::from_secs(5 * 60);

/// Entries past which expired ones are dropped.
const PRUNE_PAST: usize = 4_096;

/// Addresses looked up, by the address lower-cased.
#[derive(Debug, Default)]
pub(super) struct Cache(Mutex<HashMap<String, (Instant, Lookup)>>);

impl Cache {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Lookup)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, key: &str) -> Option<Lookup> {
        self.map()
            .get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_FOR)
            .map(|(_, l)| l.clone())
    }

    fn put(&self, key: String, lookup: Lookup) {
        let mut map = self.map();
        if map.len() >= PRUNE_PAST {
            map.retain(|_, (at, _)| at.elapsed() < CACHE_FOR);
        }
        map.insert(key, (Instant::now(), lookup));
    }

    /// The user the address (lower-cased) was last found to be, if it is kept.
    pub(super) fn user(&self, key: &str) -> Option<UserId> {
        match self.get(key)? {
            Lookup::User(id) | Lookup::Refused(id, _) => Some(id),
            Lookup::NotFound => None,
        }
    }
}

/// What an answer of `users.lookupByEmail` means for a sign-out.
fn judge(user: Option<User>) -> Lookup {
    match user {
        None => Lookup::NotFound,
        Some(u) if u.deleted => Lookup::NotFound,
        Some(u) if u.is_bot => Lookup::Refused(u.id, "bot"),
        Some(u) if u.is_primary_owner => Lookup::Refused(u.id, "primary owner"),
        Some(u) => Lookup::User(u.id),
    }
}

/// An address as the cache keys it.
pub(super) fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Inner {
    /// The user `email` names (cached for [`CACHE_FOR`]).
    pub(super) async fn lookup(&self, email: &str) -> Result<Lookup> {
        let key = key(email);
        if let Some(found) = self.cache.get(&key) {
            return Ok(found);
        }
        self.note_pacing::<LookupByEmail>();
        match crate::users::lookup(&self.ctx.client, email.trim()).await {
            Ok(user) => {
                self.answered();
                let found = judge(user);
                self.cache.put(key, found.clone());
                Ok(found)
            }
            Err(e) => {
                let err = Error::slack(format!("cannot look up {}", visible(email)), e);
                self.failed(&err);
                Err(err)
            }
        }
    }
}
