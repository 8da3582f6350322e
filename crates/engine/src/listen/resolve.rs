//! Addresses to users, for the worker and for a receiver that answers by them (GTR): one
//! `users.lookupByEmail` per address, its answer kept for [`CACHE_FOR`], so that a burst of
//! signals about one person costs one call, and a change in Slack (a user deactivated, an
//! address moved) is seen within minutes.

use std::collections::{HashMap, HashSet};
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
pub(super) struct Cache(Mutex<Found>);

/// The cache's contents: each address's answer, and the addresses found to be each user (so
/// that a reset can tell, without a scan, which other addresses it covers).
#[derive(Debug, Default)]
struct Found {
    by_address: HashMap<String, (Instant, Lookup)>,
    addresses: HashMap<UserId, HashSet<String>>,
}

/// The user an answer names, if any.
fn user_of(lookup: &Lookup) -> Option<&UserId> {
    match lookup {
        Lookup::User(id) | Lookup::Refused(id, _) => Some(id),
        Lookup::NotFound => None,
    }
}

impl Cache {
    fn found(&self) -> std::sync::MutexGuard<'_, Found> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, key: &str) -> Option<Lookup> {
        self.found()
            .by_address
            .get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_FOR)
            .map(|(_, l)| l.clone())
    }

    fn put(&self, key: String, lookup: Lookup) {
        let mut found = self.found();
        if found.by_address.len() >= PRUNE_PAST {
            found
                .by_address
                .retain(|_, (at, _)| at.elapsed() < CACHE_FOR);
            let Found {
                by_address,
                addresses,
            } = &mut *found;
            addresses.retain(|user, keys| {
                keys.retain(|k| {
                    by_address
                        .get(k)
                        .is_some_and(|(_, l)| user_of(l) == Some(user))
                });
                !keys.is_empty()
            });
        }
        if let Some(user) = user_of(&lookup) {
            found
                .addresses
                .entry(user.clone())
                .or_default()
                .insert(key.clone());
        }
        found.by_address.insert(key, (Instant::now(), lookup));
    }

    /// The addresses (lower-cased) kept as `user`'s.
    pub(super) fn addresses_of(&self, user: &UserId) -> Vec<String> {
        let found = self.found();
        let Some(keys) = found.addresses.get(user) else {
            return Vec::new();
        };
        keys.iter()
            .filter(|k| {
                found
                    .by_address
                    .get(*k)
                    .is_some_and(|(at, l)| at.elapsed() < CACHE_FOR && user_of(l) == Some(user))
            })
            .cloned()
            .collect()
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
