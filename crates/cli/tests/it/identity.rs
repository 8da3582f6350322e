//! Run identity: a finished run is never resumed (the same command acts on what matches now),
//! an unfinished run is resumed only by the same command (another is refused, or archived with
//! `--fresh`), and SIGTERM stops a run as SIGINT does.

use std::time::Duration;

use serde_json::Value;
use slack_sessions_emulator::seed::SessionSeed;
use slack_sessions_emulator::{Effect, FaultRule};

use crate::harness::{Env, csv_rows, reset_counts, wait_for};
use crate::inventory::{TEAM_B, invalidated, remaining};

/// The incident filters of the README: a mobile session from the attacker's network.
const INCIDENT: [&str; 6] = [
    "sessions",
    "invalidate",
    "--ip",
    "2600:1700::/28",
    "--client",
    "mobile",
];

/// Signs a session in from the attacker's network on a phone (as the attacker would again).
fn attacker_signs_in(env: &Env) -> u64 {
    let session: SessionSeed = serde_json::from_value(serde_json::json!({
        "session_id": 0, "user_id": "W0000003", "team_id": TEAM_B, "client": "mobile",
        "created": {"device_hardware": "Pixel 7", "os": "Android", "os_version": "14",
                    "slack_client_version": "24.11.10", "ip": "2600:1700::99"}
    }))
    .unwrap();
    env.emu().add_session(session).unwrap()
}

/// The journals kept in the working directory (current and archived), by name.
fn journals(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".journal"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_same_incident_command_again_ends_the_sessions_that_match_now() {
    let env = Env::start(
        crate::harness::Env::builder().seed(crate::inventory::seed()),
        crate::inventory::TOKEN,
    );
    let mut run: Vec<&str> = INCIDENT.to_vec();
    run.extend(["--yes", "-o", "json"]);
    let out = env.run(&run).expect(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["done"], 1, "{}", out.stdout);
    assert!(!remaining(&env).contains(&106));

    // The attacker signs in again from the same network.
    let again = attacker_signs_in(&env);
    // The dry run plans against what matches now.
    let mut dry: Vec<&str> = INCIDENT.to_vec();
    dry.extend(["--dry-run", "-o", "json"]);
    let plan = env.run(&dry).expect(0);
    let plan_doc: Value = serde_json::from_str(&plan.stdout).unwrap();
    let planned: Vec<u64> = plan_doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_u64().unwrap())
        .collect();
    assert_eq!(planned, [again], "{}", plan.stdout);

    // The same command ends the new session, and says a new run started.
    let out = env.run(&run).expect(0);
    assert!(
        out.stderr.contains("the previous run finished at")
            && out.stderr.contains("starting a new one"),
        "{}",
        out.stderr
    );
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["done"], 1, "{}", out.stdout);
    assert!(
        !remaining(&env).contains(&again),
        "the new session was ended"
    );
    assert_eq!(invalidated(&env).get(&again), Some(&1));
    assert_eq!(invalidated(&env).get(&106), Some(&1), "the old one once");
    // The finished journal is kept beside the new one.
    let names = journals(&env);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with(".report.csv.journal")),
        "{names:?}"
    );
}

#[test]
fn a_finished_offboarding_and_a_new_file_under_the_same_report_start_a_new_run() {
    let env = Env::demo();
    env.write("leavers.csv", "W0DEMO0005\n");
    let args = ["offboard", "leavers.csv", "--report", "hr.csv", "--yes"];
    env.run(&args).expect(0);
    // Next week's HR export, under the same name.
    env.write("leavers.csv", "W0DEMO0006\nW0DEMO0007\n");
    let out = env.run(&args).expect(0);
    assert!(
        out.stderr.contains("the previous run finished at"),
        "{}",
        out.stderr
    );
    let rows = csv_rows(&env.read("hr.csv"));
    let users: Vec<&str> = rows.iter().map(|r| r["user_id"].as_str()).collect();
    assert_eq!(users, ["W0DEMO0006", "W0DEMO0007"]);
    assert!(rows.iter().all(|r| r["result"] == "done"), "{rows:?}");
    let counts = reset_counts(&env);
    assert_eq!(counts.get("W0DEMO0006"), Some(&1));
    assert_eq!(counts.get("W0DEMO0005"), Some(&1));
    // The same file again: a new run, which resets again (a user may have signed in since).
    env.run(&args).expect(0);
    assert_eq!(reset_counts(&env).get("W0DEMO0006"), Some(&2));
    assert_eq!(journals(&env).len(), 3, "{:?}", journals(&env));
}

/// Starts `args`, waits for its first call (slowed by a fault) and stops it with `signal`.
fn stop_mid_run(env: &Env, args: &[&str], journal: &str, signal: &str) -> std::process::Output {
    let child = env.spawn(args);
    let journal = env.path(journal);
    wait_for(Duration::from_secs(30), "the first call in flight", || {
        std::fs::read_to_string(&journal)
            .unwrap_or_default()
            .contains("intent\",")
    });
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    crate::harness::wait_output(child, Duration::from_secs(30))
}

#[cfg(unix)]
#[test]
fn an_unfinished_run_with_other_filters_is_refused_and_fresh_archives_it() {
    let env = Env::start(
        crate::harness::Env::builder().seed(crate::inventory::seed()),
        crate::inventory::TOKEN,
    );
    env.emu()
        .add_fault(FaultRule::new(Effect::LatencyMs(800)).method("admin.users.session.invalidate"))
        .unwrap();
    let first = [
        "sessions",
        "invalidate",
        "--os",
        "os x",
        "--report",
        "r.csv",
        "--yes",
    ];
    let out = stop_mid_run(&env, &first, "r.csv.journal", "-INT");
    assert_eq!(out.status.code(), Some(130));
    env.emu().clear_faults();
    // Other filters, same report: refused, naming the journal and both ways on.
    let other = [
        "sessions",
        "invalidate",
        "--os",
        "windows",
        "--report",
        "r.csv",
        "--yes",
    ];
    let out = env.run(&other).expect(2);
    for part in ["r.csv.journal", "--fresh", "--os"] {
        assert!(out.stderr.contains(part), "{part}: {}", out.stderr);
    }
    let before = invalidated(&env).values().sum::<usize>();
    assert_eq!(before, 1, "the refused command sent nothing");
    // --fresh archives the unfinished journal and starts over with the new filters.
    let mut fresh = other.to_vec();
    fresh.push("--fresh");
    let out = env.run(&fresh).expect(0);
    assert!(out.stderr.contains("archived"), "{}", out.stderr);
    assert_eq!(journals(&env).len(), 2, "{:?}", journals(&env));
    let ended = invalidated(&env);
    assert!(ended.contains_key(&103) && ended.contains_key(&104));
}

#[cfg(unix)]
#[test]
fn sigterm_stops_offboarding_like_sigint() {
    let env = Env::demo();
    env.write("leavers.txt", "W0DEMO0005\nW0DEMO0006\nW0DEMO0007\n");
    env.emu()
        .add_fault(FaultRule::new(Effect::LatencyMs(800)).method("admin.users.session.resetBulk"))
        .unwrap();
    let args = ["offboard", "leavers.txt", "--yes", "--batch-size", "1"];
    let out = stop_mid_run(&env, &args, "leavers.report.csv.journal", "-TERM");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("stopping after the call in progress"),
        "{stderr}"
    );
    let text = env.read("leavers.report.csv.journal");
    assert!(
        text.contains("\"outcome\":\"ok\""),
        "the call in flight was finished"
    );
    env.emu().clear_faults();
    env.run(&args).expect(0);
    let counts = reset_counts(&env);
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[cfg(unix)]
#[test]
fn sigterm_stops_bulk_invalidation_like_sigint() {
    let env = Env::start(
        crate::harness::Env::builder().seed(crate::inventory::seed()),
        crate::inventory::TOKEN,
    );
    env.emu()
        .add_fault(FaultRule::new(Effect::LatencyMs(800)).method("admin.users.session.invalidate"))
        .unwrap();
    let args = [
        "sessions",
        "invalidate",
        "--os",
        "windows",
        "--report",
        "r.csv",
        "--yes",
    ];
    let out = stop_mid_run(&env, &args, "r.csv.journal", "-TERM");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    env.emu().clear_faults();
    env.run(&args).expect(0);
    let ended = invalidated(&env);
    assert_eq!(ended.into_iter().collect::<Vec<_>>(), [(103, 1), (104, 1)]);
}
