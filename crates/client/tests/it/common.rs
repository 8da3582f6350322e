//! Shared set-up: an emulator with a seed, and clients pointed at it.

use std::time::Duration;

use serde_json::json;
use slack_sessions_client::{Client, ClientBuilder, Encoding, Pacing, RetryPolicy};
use slack_sessions_emulator::{Emulator, RateLimits, Seed, demo};

/// An emulator with the demo org and the given rate limits.
pub async fn emulator(limits: RateLimits) -> Emulator {
    emulator_with(Seed::demo(), limits).await
}

/// An emulator with `seed`.
pub async fn emulator_with(seed: Seed, limits: RateLimits) -> Emulator {
    Emulator::builder()
        .seed(seed)
        .rate_limits(limits)
        .bulk_delay(Duration::from_millis(20))
        .start()
        .await
        .expect("the emulator starts")
}

/// Quick retries, so that tests of retrying do not sleep for long.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .backoff(Duration::from_millis(10), Duration::from_millis(100))
        .rate_limit_jitter(Duration::from_millis(50))
        .total_budget(Duration::from_secs(30))
}

/// A builder for `emu` with `token`, no pacing and quick retries.
pub fn builder(emu: &Emulator, token: &str) -> ClientBuilder {
    Client::builder()
        .base_url(emu.api_url())
        .token(token)
        .pacing(Pacing::off())
        .retry_policy(quick_retries())
}

/// A client of the demo org's owner.
pub fn admin(emu: &Emulator, encoding: Encoding) -> Client {
    builder(emu, demo::ADMIN_TOKEN)
        .encoding(encoding)
        .build()
        .expect("client builds")
}

/// Members of the demo org that any admin may reset (not bots, not deleted, not owners).
pub fn demo_members() -> Vec<String> {
    let seed = Seed::demo();
    let org = seed
        .orgs
        .iter()
        .find(|o| o.id == demo::ORG_ID)
        .expect("demo org");
    let members: Vec<String> = org
        .users
        .iter()
        .filter(|u| !u.is_bot && !u.deleted && !u.role.is_admin())
        .filter(|u| u.id != demo::PRIMARY_OWNER_ID)
        .map(|u| u.id.clone())
        .collect();
    assert!(members.len() >= 10, "the demo org has members");
    members
}

/// The admin token of [`big_seed`].
pub const BIG_ADMIN_TOKEN: &str = "xoxp-big-admin";

/// One Grid org with `sessions` sessions spread over 100 users; session ids are
/// `1_000_000 + n`.
pub fn big_seed(sessions: u64) -> Seed {
    let users: Vec<_> = (0..100)
        .map(|i| json!({"id": format!("W0BIG{i:04}"), "name": format!("user{i}"), "role": "member", "teams": ["T0BIG0001"]}))
        .chain([json!({"id": "W0BIGADMIN", "name": "admin", "role": "admin", "teams": ["T0BIG0001"]})])
        .collect();
    let sessions: Vec<_> = (0..sessions)
        .map(|n| {
            json!({
                "session_id": 1_000_000 + n,
                "user_id": format!("W0BIG{:04}", n % 100),
                "team_id": "T0BIG0001",
                "client": if n % 3 == 0 { "mobile" } else { "web" },
                "created": {"os": "Windows", "ip": format!("10.0.{}.{}", n / 250 % 250, n % 250)},
            })
        })
        .collect();
    Seed::from_json(json!({"orgs": [{
        "id": "E0BIG00001",
        "name": "Big",
        "teams": [{"id": "T0BIG0001", "name": "Big"}],
        "users": users,
        "tokens": [{"token": BIG_ADMIN_TOKEN, "user_id": "W0BIGADMIN", "scopes": ["admin.users:read", "admin.users:write"]}],
        "sessions": sessions,
    }]}))
    .expect("the big seed is valid")
}
