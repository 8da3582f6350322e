//! The in-memory image of the database: indexes built for the request path.
//!
//! Every read is served from here; every change is first committed to SQLite (see
//! [`super::Store::write`]) and only then applied here, so this image never holds anything that
//! is not durable.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::compact::{Interner, Session, Sym};
use crate::seed::*;

/// A pending `resetBulk` job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Job id, rising.
    pub id: u64,
    /// The org's id.
    pub org_id: String,
    /// The users whose sessions go.
    pub user_ids: Vec<String>,
    /// `mobile_only`.
    pub mobile_only: bool,
    /// `web_only`.
    pub web_only: bool,
    /// When it runs, in ms since the Unix epoch.
    pub due_ms: u64,
}

/// One org's state.
#[derive(Debug, Default)]
pub struct Org {
    /// `E…` or, for a standalone workspace, `T…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Enterprise Grid.
    pub grid: bool,
    /// Workspaces, in seed order.
    pub teams: Vec<TeamSeed>,
    /// Users by id, in id order (the keyset order of `users.list`).
    pub users: BTreeMap<String, UserSeed>,
    /// Lower-cased email → user id.
    pub emails: HashMap<String, String>,
    /// The org's interned strings (ids, device fields).
    pub strings: Interner,
    /// Sessions by id: the keyset order of `list`.
    pub sessions: BTreeMap<u64, Session>,
    /// User → that user's session ids.
    pub by_user: HashMap<Sym, BTreeSet<u64>>,
    /// Bot users, whose sessions `list` never shows.
    pub bots: HashSet<Sym>,
    /// User id → session settings.
    pub settings: HashMap<String, SettingsSeed>,
    /// App id → the users who authorized it (who hold an active user token of it).
    pub app_users: HashMap<String, HashSet<String>>,
    /// Bot user id → the app of its bot token.
    pub bot_apps: HashMap<String, String>,
}

impl Org {
    /// Whether `id` names this org or one of its teams.
    pub fn has_team(&self, id: &str) -> bool {
        id == self.id || self.teams.iter().any(|t| t.id == id)
    }

    /// The session ids of `user_id` (empty for unknown users).
    pub fn sessions_of(&self, user_id: &str) -> impl Iterator<Item = u64> + '_ {
        self.strings
            .lookup(user_id)
            .and_then(|sym| self.by_user.get(&sym))
            .into_iter()
            .flatten()
            .copied()
    }

    /// Adds a user (at load time).
    pub fn add_user(&mut self, u: UserSeed) {
        if let Some(email) = &u.email {
            self.emails.insert(email.to_ascii_lowercase(), u.id.clone());
        }
        if u.is_bot {
            let sym = self.strings.intern(&u.id);
            self.bots.insert(sym);
        }
        self.users.insert(u.id.clone(), u);
    }

    /// Adds a session.
    pub fn insert_session(&mut self, id: u64, session: Session) {
        self.by_user.entry(session.user).or_default().insert(id);
        self.sessions.insert(id, session);
    }

    fn remove_session(&mut self, id: u64) {
        if let Some(s) = self.sessions.remove(&id)
            && let Some(set) = self.by_user.get_mut(&s.user)
        {
            set.remove(&id);
            if set.is_empty() {
                self.by_user.remove(&s.user);
            }
        }
    }
}

/// Tokens by the SHA-256 digest of their secret.
///
/// A lookup hashes the presented secret and compares the candidate's secret in constant time, so
/// neither the map nor the comparison leaks how much of a guessed token was right. `Debug` shows
/// only the count.
#[derive(Default)]
pub struct TokenIndex(HashMap<[u8; 32], Token>);

impl TokenIndex {
    fn digest(secret: &str) -> [u8; 32] {
        Sha256::digest(secret.as_bytes()).into()
    }

    /// The token with this secret.
    pub fn get(&self, secret: &str) -> Option<&Token> {
        let token = self.0.get(&Self::digest(secret))?;
        bool::from(token.seed.token.as_bytes().ct_eq(secret.as_bytes())).then_some(token)
    }

    /// Adds a token.
    pub fn insert(&mut self, token: Token) {
        self.0.insert(Self::digest(&token.seed.token), token);
    }

    /// Every token.
    pub fn values(&self) -> impl Iterator<Item = &Token> {
        self.0.values()
    }
}

impl std::fmt::Debug for TokenIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenIndex({} tokens)", self.0.len())
    }
}

/// An org's place in one state. It is only meaningful under the lock it was read under: a
/// state replacement can put another org at the same place, so it never leaves the store's
/// `read`/`write` closures (see [`super::View`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrgKey(pub(super) usize);

/// A token and the org that issued it.
#[derive(Debug, Clone)]
pub struct Token {
    /// The issuing org.
    pub org: OrgKey,
    /// The token's record.
    pub seed: TokenSeed,
}

/// The whole state.
#[derive(Debug, Default)]
pub struct State {
    /// Orgs, in seed order.
    pub orgs: Vec<Org>,
    /// The tokens.
    pub tokens: TokenIndex,
    /// Pending `resetBulk` jobs by id.
    pub jobs: BTreeMap<u64, Job>,
    /// The highest session id ever given out, at least every id in the state (see
    /// [`Seed::last_session_id`]): it only rises.
    pub last_session_id: u64,
}

/// A change to the state, persisted before it is applied.
#[derive(Clone, Debug)]
pub enum Change {
    /// Sessions end.
    RemoveSessions {
        /// The org.
        org: OrgKey,
        /// Session ids.
        ids: Vec<u64>,
    },
    /// A session begins.
    AddSession {
        /// The org.
        org: OrgKey,
        /// The session.
        session: Box<SessionSeed>,
    },
    /// Settings are written (whole records).
    PutSettings {
        /// The org.
        org: OrgKey,
        /// New records.
        settings: Vec<SettingsSeed>,
    },
    /// Settings are cleared.
    DeleteSettings {
        /// The org.
        org: OrgKey,
        /// User ids.
        users: Vec<String>,
    },
    /// A `resetBulk` job is queued.
    AddJob(Job),
    /// A job is finished.
    FinishJob(u64),
}

impl State {
    /// Builds the indexes from a (validated) seed.
    /// (The seed is consumed: its users move into the indexes instead of being copied, so
    /// loading a large org never holds two copies of its users.)
    pub fn from_seed(seed: Seed) -> State {
        let mut state = State::default();
        let mark = seed.last_session_id.unwrap_or(0);
        for (idx, o) in seed.orgs.into_iter().enumerate() {
            let mut org = Org {
                id: o.id,
                name: o.name,
                grid: o.grid,
                teams: o.teams,
                ..Org::default()
            };
            for u in o.users {
                org.add_user(u);
            }
            for s in &o.sessions {
                let session = Session::intern(&mut org.strings, s);
                org.insert_session(s.session_id, session);
            }
            for s in o.session_settings {
                org.settings.insert(s.user_id.clone(), s);
            }
            for t in o.tokens {
                let app = t.app_id(&org.id);
                match t.kind() {
                    TokenType::Bot => {
                        org.bot_apps.entry(t.user_id.clone()).or_insert(app);
                    }
                    _ if t.state == TokenState::Active => {
                        org.app_users
                            .entry(app)
                            .or_default()
                            .insert(t.user_id.clone());
                    }
                    _ => {}
                }
                state.tokens.insert(Token {
                    org: OrgKey(idx),
                    seed: t,
                });
            }
            state.orgs.push(org);
        }
        state.last_session_id = mark.max(state.max_session_id());
        state
    }

    /// The state as a seed, every list in a stable order.
    pub fn to_seed(&self) -> Seed {
        let orgs = self
            .orgs
            .iter()
            .enumerate()
            .map(|(idx, o)| {
                let mut users: Vec<_> = o.users.values().cloned().collect();
                users.sort_by(|a, b| a.id.cmp(&b.id));
                let mut tokens: Vec<_> = self
                    .tokens
                    .values()
                    .filter(|t| t.org == OrgKey(idx))
                    .map(|t| t.seed.clone())
                    .collect();
                tokens.sort_by(|a, b| a.token.cmp(&b.token));
                let mut session_settings: Vec<_> = o.settings.values().cloned().collect();
                session_settings.sort_by(|a, b| a.user_id.cmp(&b.user_id));
                OrgSeed {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    grid: o.grid,
                    teams: o.teams.clone(),
                    users,
                    tokens,
                    sessions: o
                        .sessions
                        .iter()
                        .map(|(id, s)| s.seed(*id, &o.strings))
                        .collect(),
                    session_settings,
                    audit_logs: Vec::new(),
                }
            })
            .collect();
        Seed {
            orgs,
            last_session_id: Some(self.last_session_id).filter(|id| *id > 0),
        }
    }

    /// The org with id `id`.
    pub fn org_key(&self, id: &str) -> Option<OrgKey> {
        self.orgs.iter().position(|o| o.id == id).map(OrgKey)
    }

    /// The highest session id anywhere.
    pub fn max_session_id(&self) -> u64 {
        self.orgs
            .iter()
            .filter_map(|o| o.sessions.keys().next_back())
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// Whether a session id is taken in any org.
    pub fn session_exists(&self, id: u64) -> bool {
        self.orgs.iter().any(|o| o.sessions.contains_key(&id))
    }

    /// Applies a change that has been committed.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::RemoveSessions { org, ids } => {
                let org = &mut self.orgs[org.0];
                for id in ids {
                    org.remove_session(id);
                }
            }
            Change::AddSession { org, session } => {
                let org = &mut self.orgs[org.0];
                let compact = Session::intern(&mut org.strings, &session);
                org.insert_session(session.session_id, compact);
                self.last_session_id = self.last_session_id.max(session.session_id);
            }
            Change::PutSettings { org, settings } => {
                for s in settings {
                    self.orgs[org.0].settings.insert(s.user_id.clone(), s);
                }
            }
            Change::DeleteSettings { org, users } => {
                for u in users {
                    self.orgs[org.0].settings.remove(&u);
                }
            }
            Change::AddJob(job) => {
                self.jobs.insert(job.id, job);
            }
            Change::FinishJob(id) => {
                self.jobs.remove(&id);
            }
        }
    }
}
