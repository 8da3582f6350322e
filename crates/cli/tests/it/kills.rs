//! An offboarding run killed with SIGKILL at seeded random points, again and again, then let
//! finish: every user is reset exactly once (the emulator's request log says so) and the
//! report covers every line once.

use slack_sessions_emulator::{Effect, FaultRule};
use std::collections::BTreeSet;

use crate::harness::{Env, big_seed, csv_rows, kill_at_random_points, reset_counts};

const USERS: usize = 800;
const KILLS: usize = 12;

#[test]
fn offboarding_killed_at_twelve_random_points_resets_each_user_once() {
    let env = Env::start(
        Env::builder()
            .seed(big_seed(USERS))
            .request_log_capacity(100_000),
        "xoxp-big-admin",
    );
    let mut text = String::new();
    for i in 0..USERS {
        if i % 3 == 0 {
            text.push_str(&format!("user{i}@big.example\n"));
        } else {
            text.push_str(&format!("W{i:07}\n"));
        }
    }
    env.write("leavers.txt", &text);
    // Each reset answers a little late, so that kills land with calls in flight too.
    env.emu()
        .add_fault(FaultRule::new(Effect::LatencyMs(3)).method("admin.users.session.reset"))
        .unwrap();
    let args = [
        "offboard",
        "leavers.txt",
        "--yes",
        "--one-by-one",
        "--verify-timeout",
        "5s",
    ];

    let journal = env.path("leavers.report.csv.journal");
    let seen = kill_at_random_points(&env, &args, &journal, KILLS, 150, 0x0FF_B0A2D);
    // The kills landed in the work, most of them after some reset was answered.
    assert!(
        seen.progressed >= KILLS / 2,
        "{} of {} kills came after progress",
        seen.progressed,
        seen.kills
    );
    env.emu().clear_faults();
    env.run(&args).expect(0);

    let counts = reset_counts(&env);
    assert_eq!(counts.len(), USERS, "every user reset");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "reset more than once: {twice:?}");
    let left = env.sessions_by_user();
    assert!(
        left.keys().all(|u| u == "W0ADMIN01"),
        "sessions left: {left:?}"
    );

    let rows = csv_rows(&env.read("leavers.report.csv"));
    assert_eq!(rows.len(), USERS, "one row per input line");
    let lines: BTreeSet<&str> = rows.iter().map(|r| r["line"].as_str()).collect();
    assert_eq!(lines.len(), USERS, "each line once");
    assert!(
        rows.iter()
            .all(|r| r["result"] == "done" && r["sessions_left"] == "0")
    );
}
