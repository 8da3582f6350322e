//! Users' names and emails for session output: read with `users.list` (up to 1,000 users a
//! call), page by page only as far as the sessions met so far need, and kept: each user is
//! read once, and a list of 1,000,000 sessions costs one walk of the users at most.

use std::collections::HashMap;

use futures::TryStreamExt;
use slack_sessions_client::api::{ErrorCode, TeamId, UserId};
use slack_sessions_client::methods::{User, UsersListArgs};
use slack_sessions_client::{Client, Error, Users};

use crate::exit::{Failure, Result};
use crate::ui;

/// A user as session output shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Person {
    /// The full name (or the handle, when there is none).
    pub name: String,
    /// The email address, if the token may read it.
    pub email: Option<String>,
}

impl Person {
    fn of(u: &User) -> Person {
        let name = u
            .real_name
            .clone()
            .or_else(|| u.profile.real_name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| u.name.clone());
        Person {
            name,
            email: u.profile.email.clone(),
        }
    }
}

/// The org's users, read as needed.
pub struct Directory {
    walk: Option<Users>,
    known: HashMap<UserId, Person>,
    unknown: Person,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("known", &self.known.len())
            .field("walking", &self.walk.is_some())
            .finish()
    }
}

impl Directory {
    /// A directory of the users of `team` (the org id: every user of the org).
    pub fn new(client: &Client, team: TeamId) -> Directory {
        Directory {
            walk: Some(client.list_users(UsersListArgs::new(team))),
            known: HashMap::new(),
            unknown: Person::default(),
        }
    }

    /// A directory that reads nothing (`--no-names`).
    pub fn none() -> Directory {
        Directory {
            walk: None,
            known: HashMap::new(),
            unknown: Person::default(),
        }
    }

    /// Users read so far.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Whether no user was read.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// The user `id`: read from the walk up to them if not met yet; an empty person when the
    /// org has no such user, or the token cannot read users (said once).
    pub async fn get(&mut self, id: &UserId) -> Result<&Person> {
        while !self.known.contains_key(id) {
            let Some(walk) = self.walk.as_mut() else {
                break;
            };
            match walk.try_next().await {
                Ok(Some(u)) => {
                    self.known.insert(u.id.clone(), Person::of(&u));
                }
                Ok(None) => self.walk = None,
                Err(Error::Slack(e))
                    if matches!(
                        e.code,
                        ErrorCode::MissingScope | ErrorCode::NotAllowedTokenType
                    ) =>
                {
                    ui::note(format!(
                        "names and emails are left out: the token cannot read users ({}; users:read and users:read.email are needed)",
                        e.code
                    ));
                    self.walk = None;
                }
                Err(e) => return Err(Failure::api("cannot read the users (users.list)", &e)),
            }
        }
        Ok(self.known.get(id).unwrap_or(&self.unknown))
    }
}
