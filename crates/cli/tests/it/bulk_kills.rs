//! A bulk invalidation killed with SIGKILL at seeded random points, again and again, then let
//! finish: every session the filter found is ended exactly once (the emulator's request
//! log says so), no other session is touched, and the report covers each session once.

use slack_sessions_emulator::{Effect, FaultRule};
use std::collections::BTreeSet;

use crate::harness::{Env, big_seed, csv_rows, kill_at_random_points};
use crate::inventory::invalidated;

const USERS: usize = 400;
const KILLS: usize = 8;

#[test]
fn bulk_invalidation_killed_at_eight_random_points_ends_each_session_once() {
    let env = Env::start(
        Env::builder()
            .seed(big_seed(USERS))
            .request_log_capacity(100_000),
        "xoxp-big-admin",
    );
    let ios: BTreeSet<u64> = env.export().orgs[0]
        .sessions
        .iter()
        .filter(|s| s.created.os.as_deref() == Some("iOS"))
        .map(|s| s.session_id)
        .collect();
    let total = env.export().orgs[0].sessions.len();
    assert!(ios.len() > 150, "{}", ios.len());
    env.emu()
        .add_fault(FaultRule::new(Effect::LatencyMs(3)).method("admin.users.session.invalidate"))
        .unwrap();
    let args = [
        "sessions",
        "invalidate",
        "--os",
        "iOS",
        "--yes",
        "--no-names",
        "--report",
        "ios.csv",
        "--verify-timeout",
        "5s",
    ];
    let journal = env.path("ios.csv.journal");
    let seen = kill_at_random_points(&env, &args, &journal, KILLS, 120, 0xB01C_5E55);
    assert!(seen.mid_call > 0, "no kill left an answer lost");
    env.emu().clear_faults();
    env.run(&args).expect(0);

    let ended = invalidated(&env);
    let twice: Vec<_> = ended.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "ended more than once: {twice:?}");
    assert_eq!(
        ended.keys().copied().collect::<BTreeSet<_>>(),
        ios,
        "exactly the matches"
    );
    let left = env.export().orgs[0].sessions.len();
    assert_eq!(left, total - ios.len());

    let rows = csv_rows(&env.read("ios.csv"));
    let ids: BTreeSet<u64> = rows
        .iter()
        .map(|r| r["session_id"].parse().unwrap())
        .collect();
    assert_eq!(rows.len(), ios.len(), "one row per session");
    assert_eq!(ids, ios);
    assert!(rows.iter().all(|r| r["result"] == "done"), "{rows:?}");
}
