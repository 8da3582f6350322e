//! A synthetic org of any size, written straight into SQLite (for scale tests and benchmarks:
//! a million sessions never exist as one JSON document or one in-memory seed).

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Transaction, params};

use super::audit_logs::{self, LogRecord};
use super::sqlite;
use crate::audit_logs::events::Org;
use crate::audit_logs::history;
use crate::seed::{
    OrgSeed, Role, SESSION_CLIENTS, SessionSeed, TeamSeed, TokenSeed, TokenState, UserSeed,
};

/// The generated org's id.
pub const ORG_ID: &str = "E0SCALE001";
/// Its one workspace.
pub const TEAM_ID: &str = "T0SCALE001";
/// An owner's token with `admin.users:read`, `admin.users:write`, `users:read`,
/// `users:read.email` and `auditlogs:read`.
pub const ADMIN_TOKEN: &str = "xoxp-scale-admin";

/// The id of generated user `i` (user 0 is the owner behind [`ADMIN_TOKEN`]).
pub fn user_id(i: usize) -> String {
    format!("W{i:08}")
}

/// How much to generate: users, sessions, and entries of the org's audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sizes {
    /// Users (at least one: the owner behind [`ADMIN_TOKEN`]).
    pub users: usize,
    /// Sessions, spread over the users.
    pub sessions: usize,
    /// Audit-log entries, over the 30 days before [`HISTORY_END`].
    pub audit_logs: usize,
}

impl Sizes {
    /// `users` users and `sessions` sessions, no audit log.
    pub fn new(users: usize, sessions: usize) -> Self {
        Sizes {
            users,
            sessions,
            audit_logs: 0,
        }
    }

    /// With `entries` audit-log entries.
    pub fn audit_logs(mut self, entries: usize) -> Self {
        self.audit_logs = entries;
        self
    }
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes::new(1, 0)
    }
}

/// `USERS:SESSIONS` or `USERS:SESSIONS:AUDIT_LOGS`, as `serve --generate` takes it.
impl std::fmt::Display for Sizes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.users, self.sessions)?;
        if self.audit_logs > 0 {
            write!(f, ":{}", self.audit_logs)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Sizes {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(
                "expected USERS:SESSIONS or USERS:SESSIONS:AUDIT_LOGS, e.g. 100000:1000000".into(),
            );
        }
        let number = |what: &str, v: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| format!("not a number of {what}: {v:?}"))
        };
        let users = number("users", parts[0])?;
        if users == 0 {
            return Err("at least one user".into());
        }
        let sessions = number("sessions", parts[1])?;
        let logs = parts
            .get(2)
            .map(|v| number("audit-log entries", v))
            .transpose()?;
        Ok(Sizes::new(users, sessions).audit_logs(logs.unwrap_or(0)))
    }
}

/// The end of the generated audit log (2026-12-01T00:00:00Z): fixed, so that the same sizes
/// give the same data.
pub const HISTORY_END: u64 = 1_796_083_200;

fn user(i: usize) -> UserSeed {
    UserSeed {
        id: user_id(i),
        name: format!("user{i}"),
        email: Some(format!("user{i}@scale.example")),
        role: if i == 0 { Role::Owner } else { Role::Member },
        is_bot: false,
        deleted: false,
        teams: vec![TEAM_ID.into()],
        ..Default::default()
    }
}

/// Fills an empty database with one Grid org of `sizes.users` users, `sizes.sessions`
/// sessions spread over them and `sizes.audit_logs` audit-log entries (deterministic: the same
/// sizes give the same data).
pub fn fill(tx: &Transaction, sizes: Sizes) -> rusqlite::Result<()> {
    let Sizes {
        users, sessions, ..
    } = sizes;
    let users = users.max(1);
    let org = OrgSeed {
        id: ORG_ID.into(),
        name: "Scale Corp".into(),
        grid: true,
        teams: vec![TeamSeed {
            id: TEAM_ID.into(),
            name: "Scale".into(),
        }],
        users: vec![],
        tokens: vec![TokenSeed {
            token: ADMIN_TOKEN.into(),
            user_id: user_id(0),
            kind: None,
            scopes: [
                "admin.users:read",
                "admin.users:write",
                "users:read",
                "users:read.email",
                "auditlogs:read",
            ]
            .map(String::from)
            .to_vec(),
            state: TokenState::Active,
            ..Default::default()
        }],
        sessions: vec![],
        session_settings: vec![],
        audit_logs: vec![],
    };
    // The org row, its token and no sessions; users and sessions are streamed below.
    sqlite::replace_all(
        tx,
        &crate::seed::Seed {
            orgs: vec![org],
            last_session_id: None,
        },
    )?;
    let mut user_stmt = tx.prepare("INSERT INTO users (id, org_id, body) VALUES (?1, ?2, ?3)")?;
    for i in 0..users {
        let u = user(i);
        user_stmt.execute(params![
            u.id,
            ORG_ID,
            serde_json::to_string(&u).expect("serializes")
        ])?;
    }
    let mut rng = SmallRng::seed_from_u64(0x5CA1E);
    let mut id = 1_000_000_000_000u64;
    for i in 0..sessions {
        id += rng.random_range(1..4);
        let client = SESSION_CLIENTS[rng.random_range(0..SESSION_CLIENTS.len())];
        let created = crate::demo::generated_device(&mut rng, client);
        let recent = rng
            .random_bool(0.3)
            .then(|| crate::demo::generated_device(&mut rng, client));
        let team_id = if rng.random_bool(0.2) {
            ORG_ID
        } else {
            TEAM_ID
        };
        let s = SessionSeed {
            session_id: id,
            user_id: user_id(i % users),
            team_id: team_id.into(),
            client,
            created,
            recent,
        };
        sqlite::insert_session(tx, ORG_ID, &s)?;
    }
    sqlite::raise_last_session_id(tx, id)?;
    let mut rng = SmallRng::seed_from_u64(0xA0D1_75CA);
    let teams = [TeamSeed {
        id: TEAM_ID.into(),
        name: "Scale".into(),
    }];
    let org = Org {
        id: ORG_ID,
        name: "Scale Corp",
        grid: true,
        teams: &teams,
    };
    let owner = user(0);
    // A million rows go in faster without the filters' indexes, which are then built at once
    // (sorted, not one random insertion per row).
    tx.execute_batch(audit_logs::DROP_INDEXES)?;
    for i in 0..sizes.audit_logs {
        let u = user(rng.random_range(0..users));
        let entry = history::scale(
            &mut rng,
            org,
            &owner,
            &u,
            (i, sizes.audit_logs),
            HISTORY_END,
        );
        audit_logs::insert(
            tx,
            &LogRecord {
                org_id: ORG_ID.into(),
                entry,
            },
        )?;
    }
    tx.execute_batch(audit_logs::SCHEMA)?;
    Ok(())
}
