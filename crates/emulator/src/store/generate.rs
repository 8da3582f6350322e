//! A synthetic org of any size, written straight into SQLite (for scale tests and benchmarks:
//! a million sessions never exist as one JSON document or one in-memory seed).

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Transaction, params};

use super::sqlite;
use crate::seed::{
    ClientKind, OrgSeed, Role, SessionSeed, TeamSeed, TokenSeed, TokenState, UserSeed,
};

/// The generated org's id.
pub const ORG_ID: &str = "E0SCALE001";
/// Its one workspace.
pub const TEAM_ID: &str = "T0SCALE001";
/// An owner's token with `admin.users:read`, `admin.users:write`, `users:read` and
/// `users:read.email`.
pub const ADMIN_TOKEN: &str = "xoxp-scale-admin";

/// The id of generated user `i` (user 0 is the owner behind [`ADMIN_TOKEN`]).
pub fn user_id(i: usize) -> String {
    format!("W{i:08}")
}

/// Fills an empty database with one Grid org of `users` users and `sessions` sessions spread
/// over them (deterministic: the same sizes give the same data).
pub fn fill(tx: &Transaction, users: usize, sessions: usize) -> rusqlite::Result<()> {
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
            ]
            .map(String::from)
            .to_vec(),
            state: TokenState::Active,
            ..Default::default()
        }],
        sessions: vec![],
        session_settings: vec![],
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
        let u = UserSeed {
            id: user_id(i),
            name: format!("user{i}"),
            email: Some(format!("user{i}@scale.example")),
            role: if i == 0 { Role::Owner } else { Role::Member },
            is_bot: false,
            deleted: false,
            teams: vec![TEAM_ID.into()],
            ..Default::default()
        };
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
        let client =
            [ClientKind::Web, ClientKind::Desktop, ClientKind::Mobile][rng.random_range(0..3)];
        let created = crate::demo::device(&mut rng, client);
        let recent = rng
            .random_bool(0.3)
            .then(|| crate::demo::device(&mut rng, client));
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
    sqlite::raise_last_session_id(tx, id)
}
