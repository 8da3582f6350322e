//! Runs killed with SIGKILL and resumed: 2,500 users in three batches, and the crash window
//! between "intent written" and "answer received".

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use slack_sessions_emulator::{Effect, FaultRule};

use crate::harness::{Env, big_seed, csv_rows, reset_counts, wait_for};

const USERS: usize = 2_500;

fn big_env() -> Env {
    Env::start(
        Env::builder()
            .seed(big_seed(USERS))
            .request_log_capacity(100_000),
        "xoxp-big-admin",
    )
}

/// Half the users by email, half by ID, an unknown email among them, a header and comments.
fn big_input(env: &Env) -> usize {
    let mut text = String::from("# everyone in Big Corp\nuser\n");
    let mut lines = 0;
    for i in 0..USERS {
        if i == 1234 {
            text.push_str("ghost@big.example\n# (the ghost never worked here)\n");
            lines += 1;
        }
        if i % 2 == 0 {
            text.push_str(&format!("user{i}@big.example\n"));
        } else {
            text.push_str(&format!("W{i:07}\n"));
        }
        lines += 1;
    }
    env.write("everyone.txt", &text);
    lines
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// The report has every input line exactly once; every user is done with no session left.
fn check_report(env: &Env, lines: usize) {
    let rows = csv_rows(&env.read("everyone.report.csv"));
    assert_eq!(rows.len(), lines);
    let numbers: BTreeSet<&str> = rows.iter().map(|r| r["line"].as_str()).collect();
    assert_eq!(numbers.len(), lines, "each line once");
    let mut by_result: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *by_result.entry(r["result"].as_str()).or_default() += 1;
    }
    assert_eq!(by_result["done"], USERS, "{by_result:?}");
    assert_eq!(by_result["not_found"], 1, "{by_result:?}");
    let users: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r["result"] == "done")
        .map(|r| {
            assert_eq!(r["sessions_left"], "0", "{r:?}");
            r["user_id"].as_str()
        })
        .collect();
    assert_eq!(users.len(), USERS);
    let ghost = rows
        .iter()
        .find(|r| r["input"] == "ghost@big.example")
        .unwrap();
    assert_eq!(ghost["result"], "not_found");
}

/// The emulator's request log: every user named by exactly one successful reset call.
fn check_each_user_reset_once(env: &Env) {
    let counts = reset_counts(env);
    assert_eq!(counts.len(), USERS);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "reset twice: {twice:?}");
    let left = env.sessions_by_user();
    assert!(
        left.keys().all(|u| u == "W0ADMIN01"),
        "sessions left: {:?}",
        left.iter().take(5).collect::<Vec<_>>()
    );
}

#[test]
fn offboarding_2500_users_killed_mid_way_and_resumed() {
    let env = big_env();
    let lines = big_input(&env);
    // Every resetBulk answers 1.5 s late: the window in which the run is killed.
    env.emu()
        .add_fault(FaultRule::new(Effect::LatencyMs(1_500)).method("admin.users.session.resetBulk"))
        .unwrap();
    let args = [
        "offboard",
        "everyone.txt",
        "--yes",
        "--verify-timeout",
        "8s",
    ];
    let started = Instant::now();
    let mut child = env.spawn(&args);
    let journal = env.path("everyone.report.csv.journal");
    // Kill it once the second batch's intent is on disk and its answer is not.
    wait_for(
        Duration::from_secs(50),
        "the second batch in flight",
        || {
            let text = std::fs::read_to_string(&journal).unwrap_or_default();
            count(&text, "\"type\":\"intent\"") == 2 && count(&text, "\"type\":\"result\"") == 1
        },
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first = started.elapsed();
    let before = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(count(&before, "\"type\":\"resolved\""), USERS / 2 + 1);
    assert!(!env.path("everyone.report.csv").exists());
    env.emu().clear_faults();

    let started = Instant::now();
    let out = env.run(&args).expect(8);
    let resumed = started.elapsed();
    eprintln!(
        "2,500 users: killed after {:.1} s, resumed run took {:.1} s",
        first.as_secs_f64(),
        resumed.as_secs_f64()
    );
    assert!(
        out.stderr.contains("checking their sessions"),
        "{}",
        out.stderr
    );
    let after = std::fs::read_to_string(&journal).unwrap();
    assert!(
        after.starts_with(&before),
        "the journal is only appended to"
    );
    assert_eq!(count(&after, "\"type\":\"resume\""), 1);
    assert_eq!(
        count(&after, "\"type\":\"settled\",\"step\":2"),
        1,
        "{}",
        &after[before.len()..]
    );
    let settled = after
        .lines()
        .find(|l| l.contains("\"type\":\"settled\""))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .unwrap();
    let (done, resend) = (
        settled["done"].as_array().unwrap().len(),
        settled["resend"].as_array().unwrap().len(),
    );
    assert_eq!(done + resend, 1000, "the whole second batch was settled");
    eprintln!("the batch in flight when killed: {done} users found done, {resend} sent again");
    assert_eq!(
        count(&after, "\"type\":\"resolved\""),
        USERS / 2 + 1,
        "no email looked up twice"
    );
    check_report(&env, lines);
    check_each_user_reset_once(&env);
    let bulk = env.requests("admin.users.session.resetBulk");
    assert!(bulk.len() >= 3, "three batches at least: {}", bulk.len());
    assert!(
        bulk.iter()
            .all(|r| crate::harness::users_of(r).len() <= 1000)
    );
}

#[test]
fn offboarding_2500_users_in_one_run() {
    let env = big_env();
    let lines = big_input(&env);
    let started = Instant::now();
    env.run(&["offboard", "everyone.txt", "--yes"]).expect(8);
    eprintln!(
        "2,500 users offboarded in one run: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    check_report(&env, lines);
    check_each_user_reset_once(&env);
    let bulk = env.requests("admin.users.session.resetBulk");
    let sizes: Vec<usize> = bulk
        .iter()
        .map(|r| crate::harness::users_of(r).len())
        .collect();
    assert_eq!(sizes, vec![1000, 1000, 500]);
}

#[test]
fn killed_after_the_call_was_applied_nothing_is_sent_again() {
    let env = Env::demo();
    env.write(
        "leavers.txt",
        "dennis.ritchie@acme.example\nW0DEMO0006\nW0DEMO0007\n",
    );
    env.emu()
        .add_fault(FaultRule::new(Effect::LatencyMs(2_000)).method("admin.users.session.resetBulk"))
        .unwrap();
    let args = [
        "offboard",
        "leavers.txt",
        "--yes",
        "--verify-timeout",
        "10s",
    ];
    let mut child = env.spawn(&args);
    let journal = env.path("leavers.report.csv.journal");
    wait_for(Duration::from_secs(30), "the intent", || {
        std::fs::read_to_string(&journal)
            .unwrap_or_default()
            .contains("\"type\":\"intent\"")
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    env.emu().clear_faults();
    // Whether or not the lost call got through, the users' sessions are gone by the time the
    // run resumes (as if it had been applied).
    env.run(&[
        "sessions",
        "reset",
        "W0DEMO0005",
        "W0DEMO0006",
        "W0DEMO0007",
        "--yes",
    ])
    .expect(0);
    env.run(&args).expect(0);
    let resent: Vec<_> = env
        .requests("admin.users.session.resetBulk")
        .into_iter()
        .filter(|r| r.at_ms > killed_at)
        .collect();
    assert!(resent.is_empty(), "sent again: {resent:?}");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        text.contains(
            "\"type\":\"settled\",\"step\":1,\"done\":[\"W0DEMO0005\",\"W0DEMO0006\",\"W0DEMO0007\"],\"resend\":[]"
        ),
        "{text}"
    );
    let rows = csv_rows(&env.read("leavers.report.csv"));
    assert!(rows.iter().all(|r| r["result"] == "done"), "{rows:?}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_after_the_call_in_progress_and_the_run_resumes() {
    let env = Env::demo();
    env.write(
        "leavers.txt",
        "W0DEMO0005\nW0DEMO0006\nW0DEMO0007\nW0DEMO0008\n",
    );
    env.emu()
        .add_fault(FaultRule::new(Effect::LatencyMs(1_000)).method("admin.users.session.resetBulk"))
        .unwrap();
    let args = ["offboard", "leavers.txt", "--yes", "--batch-size", "1"];
    let child = env.spawn(&args);
    let journal = env.path("leavers.report.csv.journal");
    wait_for(Duration::from_secs(30), "the first call in flight", || {
        std::fs::read_to_string(&journal)
            .unwrap_or_default()
            .contains("\"type\":\"intent\"")
    });
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = crate::harness::wait_output(child, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("stopping after the call in progress"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(count(&text, "\"type\":\"intent\""), 1, "{text}");
    assert_eq!(
        count(&text, "\"outcome\":\"ok\""),
        1,
        "the call in flight was finished"
    );
    let rows = csv_rows(&env.read("leavers.report.csv"));
    let results: Vec<&str> = rows.iter().map(|r| r["result"].as_str()).collect();
    assert_eq!(results, ["pending", "pending", "pending", "pending"]);
    assert!(
        rows[0]["detail"].contains("not verified yet"),
        "{:?}",
        rows[0]
    );
    env.emu().clear_faults();
    env.run(&args).expect(0);
    let counts = reset_counts(&env);
    assert_eq!(counts.len(), 4);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let rows = csv_rows(&env.read("leavers.report.csv"));
    assert!(rows.iter().all(|r| r["result"] == "done"), "{rows:?}");
}
