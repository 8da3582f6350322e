//! `enforce` killed with SIGKILL at seeded random points, again and again, then let finish:
//! the actions whose answers were lost are settled from the journal before anything else, so
//! every violating session is ended (or its user reset) exactly once, and nothing else is
//! touched. One test per action, since the two settle differently: an invalidation by looking
//! for the session, a reset by counting the user's sessions.

use slack_sessions_emulator::{Effect, FaultRule};
use std::collections::{BTreeMap, BTreeSet};

use crate::harness::{Env, big_seed, kill_at_random_points, reset_counts};
use crate::inventory::invalidated;

const USERS: usize = 400;
const KILLS: usize = 6;

/// iOS is denied; every guardrail is wide open, so that what the test sees is the journal's
/// doing, not a cap's or a cooldown's.
fn policy(action: &str) -> String {
    format!(
        r#"
[guardrails]
cooldown = "0s"
max_actions_per_run = 100000
max_actions_per_hour = 100000
max_share = 1.0

[[rule]]
name = "no-ios"
deny_os = ["iOS"]
action = "{action}"
"#
    )
}

/// Runs `enforce` on `env` with `action`, killing it `KILLS` times, each a seeded random
/// moment after the run's first new intent; then lets a last run finish.
fn kill_and_finish(env: &Env, action: &str, seed: u64) {
    env.write("policy.toml", &policy(action));
    env.emu()
        .add_fault(
            FaultRule::new(Effect::LatencyMs(3)).method(if action == "reset" {
                "admin.users.session.reset"
            } else {
                "admin.users.session.invalidate"
            }),
        )
        .unwrap();
    let args = ["enforce", "policy.toml", "--yes", "-o", "ndjson"];
    let journal = env.path("policy.audit.jsonl.journal");
    let seen = kill_at_random_points(env, &args, &journal, KILLS, 120, seed);
    assert!(
        seen.mid_call > 0,
        "no kill left an answer lost: nothing was settled"
    );
    env.emu().clear_faults();
    let last = env.run(&args);
    assert_eq!(last.code, 0, "{}", last.stderr);
}

/// An org of `USERS` users, a third of their sessions on iOS.
fn big_env() -> Env {
    Env::start(
        Env::builder()
            .seed(big_seed(USERS))
            .request_log_capacity(100_000),
        "xoxp-big-admin",
    )
}

/// The audit log's `done` decisions: (session id, user id, rule) each.
fn audited_done(env: &Env) -> Vec<(u64, String, String)> {
    env.read("policy.audit.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "decision" && e["result"] == "done")
        .map(|e| {
            (
                e["session_id"].as_u64().unwrap(),
                e["user_id"].as_str().unwrap().to_owned(),
                e["rule"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The sessions on iOS, by id, with their users.
fn ios_sessions(env: &Env) -> BTreeMap<u64, String> {
    env.export().orgs[0]
        .sessions
        .iter()
        .filter(|s| s.created.os.as_deref() == Some("iOS"))
        .map(|s| (s.session_id, s.user_id.clone()))
        .collect()
}

#[test]
fn enforce_killed_at_random_points_ends_each_violating_session_once() {
    let env = big_env();
    let ios = ios_sessions(&env);
    let total = env.export().orgs[0].sessions.len();
    assert!(ios.len() > 150, "{}", ios.len());
    kill_and_finish(&env, "invalidate", 0xE7F0_4CE1);

    let ended = invalidated(&env);
    let twice: Vec<_> = ended.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "ended more than once: {twice:?}");
    assert_eq!(
        ended.keys().copied().collect::<BTreeSet<_>>(),
        ios.keys().copied().collect::<BTreeSet<_>>(),
        "exactly the violating sessions"
    );
    assert!(ios_sessions(&env).is_empty());
    assert_eq!(env.export().orgs[0].sessions.len(), total - ios.len());
    assert!(env.requests("admin.users.session.reset").is_empty());
    // The audit log tells of each once, under its rule: those whose answer a kill lost too.
    let done = audited_done(&env);
    let audited: BTreeSet<u64> = done.iter().map(|d| d.0).collect();
    let missing: Vec<_> = ios.keys().filter(|id| !audited.contains(id)).collect();
    assert!(missing.is_empty(), "not in the audit log: {missing:?}");
    assert_eq!(done.len(), ios.len(), "each once");
    assert!(done.iter().all(|d| d.2 == "no-ios"), "{done:?}");
}

#[test]
fn enforce_killed_at_random_points_resets_each_violating_user_once() {
    let env = big_env();
    let ios_users: BTreeSet<String> = ios_sessions(&env).into_values().collect();
    assert!(ios_users.len() > 150, "{}", ios_users.len());
    let untouched: usize = env.export().orgs[0]
        .sessions
        .iter()
        .filter(|s| !ios_users.contains(&s.user_id))
        .count();
    kill_and_finish(&env, "reset", 0x5E7_4CE1);

    let resets = reset_counts(&env);
    let twice: Vec<_> = resets.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "reset more than once: {twice:?}");
    assert_eq!(
        resets.keys().cloned().collect::<BTreeSet<_>>(),
        ios_users,
        "exactly the users with a violating session"
    );
    // A reset signs its user out everywhere; everyone else keeps every session.
    let left = &env.export().orgs[0].sessions;
    assert!(left.iter().all(|s| !ios_users.contains(&s.user_id)));
    assert_eq!(left.len(), untouched);
    assert!(env.requests("admin.users.session.invalidate").is_empty());
    let done = audited_done(&env);
    let audited: BTreeSet<String> = done.iter().map(|d| d.1.clone()).collect();
    let missing: Vec<_> = ios_users.difference(&audited).collect();
    assert!(missing.is_empty(), "not in the audit log: {missing:?}");
    assert_eq!(done.len(), ios_users.len(), "each once");
    assert!(done.iter().all(|d| d.2 == "no-ios"), "{done:?}");
}
