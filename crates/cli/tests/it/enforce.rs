//! `enforce POLICY.toml`: under simulated sign-ins (`POST /_emulator/sessions`), only the
//! violating sessions are ended, each once; the guardrails (cooldown kept across restarts, the
//! circuit breaker), the dry run as the exact list of a run's actions, and the policy's errors.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Env, wait_for, wait_output};
use crate::inventory::{TEAM_A, env, invalidated, remaining};

const POLICY: &str = r#"
[guardrails]
cooldown = "1h"
max_share = 0.9

[[rule]]
name = "office-networks"
allowed_networks = ["198.51.100.0/24", "2001:db8:ac3e::/48"]
"#;

/// A sign-in through the control plane, as a client of the emulator would make it.
pub fn sign_in(env: &Env, user: &str, ip: &str) -> u64 {
    let body = json!({"user_id": user, "team_id": TEAM_A, "client": "desktop",
        "device_hardware": "hw", "os": "OS X", "os_version": "15.1",
        "slack_client_version": "4.41.105", "ip": ip});
    let url = format!(
        "{}/_emulator/sessions",
        env.emu().url().trim_end_matches('/')
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer: Value = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(&url)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.json().await.unwrap()
    });
    answer["session_id"]
        .as_u64()
        .unwrap_or_else(|| panic!("{answer}"))
}

fn audit(env: &Env) -> Vec<Value> {
    env.read("policy.audit.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn enforcement_under_sign_ins_ends_only_violating_sessions_each_once() {
    let env = env();
    env.write("policy.toml", POLICY);
    let child = env.spawn(&[
        "enforce",
        "policy.toml",
        "--yes",
        "--watch",
        "1s",
        "-o",
        "ndjson",
    ]);
    // The seed's three sessions outside the networks go first (104, 105, 106).
    wait_for(Duration::from_secs(30), "the first round", || {
        !remaining(&env)
            .iter()
            .any(|id| [104, 105, 106].contains(id))
    });
    // Sign-ins while it watches: outside (violating) and inside (compliant), IPv4 and IPv6;
    // and one outside for alan (W0000003), acted on a moment ago: his cooldown holds it.
    let bad = [
        sign_in(&env, "W0000001", "192.0.2.44"),
        sign_in(&env, "W0000004", "2600:1700::99"),
    ];
    let good = [
        sign_in(&env, "W0000001", "198.51.100.99"),
        sign_in(&env, "W0000004", "2001:db8:ac3e:7::1"),
    ];
    let cooling = sign_in(&env, "W0000003", "192.0.2.45");
    wait_for(
        Duration::from_secs(30),
        "the violating sign-ins to be ended",
        || {
            let left = remaining(&env);
            bad.iter().all(|id| !left.contains(id))
        },
    );
    // Two more rounds: nothing more happens.
    let rounds = || audit(&env).iter().filter(|e| e["event"] == "round").count();
    let seen = rounds();
    wait_for(Duration::from_secs(30), "two more rounds", || {
        rounds() >= seen + 2
    });
    // SIGTERM: it stops cleanly.
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = wait_output(child, Duration::from_secs(30));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let ended = invalidated(&env);
    let expected: BTreeSet<u64> = [104, 105, 106].into_iter().chain(bad).collect();
    assert_eq!(ended.keys().copied().collect::<BTreeSet<_>>(), expected);
    assert!(
        ended.values().all(|n| *n == 1),
        "ended more than once: {ended:?}"
    );
    let left = remaining(&env);
    for id in good.iter().chain([&cooling, &101, &102, &103, &107, &108]) {
        assert!(left.contains(id), "{id} was ended");
    }
    // The audit log names the rule of every session ended, and why the one was held.
    let events = audit(&env);
    for id in &expected {
        let done = events
            .iter()
            .find(|e| e["session_id"] == *id && e["result"] == "done")
            .unwrap_or_else(|| panic!("no done decision for {id}"));
        assert_eq!(done["rule"], "office-networks");
    }
    let held = events
        .iter()
        .find(|e| e["session_id"] == cooling)
        .expect("a decision for the held session");
    assert_eq!(held["result"], "held");
    assert!(
        held["detail"].as_str().unwrap().contains("cooldown"),
        "{held}"
    );
    assert_eq!(events.last().unwrap()["event"], "stop");
}

#[test]
fn the_dry_run_lists_a_runs_actions_and_cooldowns_survive_a_restart() {
    let env = env();
    env.write("policy.toml", POLICY);
    let dry = env
        .run(&["enforce", "policy.toml", "--dry-run", "-o", "json"])
        .expect(0);
    let plan: Value = serde_json::from_str(&dry.stdout).unwrap();
    let planned: BTreeSet<u64> = plan["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["result"] == "planned")
        .map(|d| d["session_id"].as_u64().unwrap())
        .collect();
    assert_eq!(planned, BTreeSet::from([104, 105, 106]));
    assert!(env.requests("admin.users.session.invalidate").is_empty());
    assert!(!env.path("policy.audit.jsonl").exists());
    // Off a terminal without --yes: refused.
    env.run(&["enforce", "policy.toml"]).expect(2);
    let run = env
        .run(&["enforce", "policy.toml", "--yes", "-o", "json"])
        .expect(0);
    let round: Value = serde_json::from_str(&run.stdout).unwrap();
    let done: BTreeSet<u64> = round["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["result"] == "done")
        .map(|d| d["session_id"].as_u64().unwrap())
        .collect();
    assert_eq!(done, planned, "the run did what the dry run said");
    // A new run (a restart) reads the journal: alan's new session outside waits out his
    // cooldown, ada's is ended.
    let alan = sign_in(&env, "W0000003", "192.0.2.46");
    let ada = sign_in(&env, "W0000001", "192.0.2.47");
    let out = env
        .run(&["enforce", "policy.toml", "--yes", "-o", "table"])
        .expect(0);
    assert!(out.stdout.contains("cooldown"), "{}", out.stdout);
    let left = remaining(&env);
    assert!(left.contains(&alan) && !left.contains(&ada));
    assert!(invalidated(&env).values().all(|n| *n == 1));
}

#[test]
fn the_circuit_breaker_stops_a_round_that_would_end_too_much() {
    let env = env();
    env.write(
        "policy.toml",
        &POLICY.replace("max_share = 0.9", "max_share = 0.2"),
    );
    let out = env
        .run(&["enforce", "policy.toml", "--yes", "-o", "table"])
        .expect(7);
    assert!(out.stdout.contains("circuit breaker"), "{}", out.stdout);
    assert!(out.stdout.contains("3 of 8 sessions"), "{}", out.stdout);
    assert!(env.requests("admin.users.session.invalidate").is_empty());
}

#[test]
fn a_bad_policy_is_refused_naming_the_line() {
    let env = env();
    env.write(
        "policy.toml",
        "[[rule]]\nname = \"x\"\nallowed_networks = [\"198.51.100.0/24\", \"10.1.0.0/8\"]\n",
    );
    let out = env.run(&["enforce", "policy.toml", "--dry-run"]).expect(2);
    assert!(out.stderr.contains("policy.toml line 3"), "{}", out.stderr);
    assert!(
        out.stderr.contains("did you mean 10.0.0.0/8"),
        "{}",
        out.stderr
    );
    env.write(
        "policy.toml",
        "[[rule]]\nname = \"x\"\ndeny_os = [\"iOS\"]\nfrobnicate = 1\n",
    );
    let out = env.run(&["enforce", "policy.toml", "--dry-run"]).expect(2);
    assert!(
        out.stderr.contains("line 4") && out.stderr.contains("frobnicate"),
        "{}",
        out.stderr
    );
    // --watch acts unattended: --yes first.
    env.write("policy.toml", POLICY);
    env.run(&["enforce", "policy.toml", "--watch", "1m"])
        .expect(2);
}

#[cfg(unix)]
#[test]
fn the_audit_log_is_reopened_on_sighup_for_logrotate() {
    let env = env();
    env.write("policy.toml", POLICY);
    let child = env.spawn(&["enforce", "policy.toml", "--yes", "--watch", "1s"]);
    let log = env.path("policy.audit.jsonl");
    let rounds = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .matches("\"event\":\"round\"")
            .count()
    };
    wait_for(Duration::from_secs(30), "the first round", || {
        rounds(&log) >= 1
    });
    // logrotate: move the file away, then SIGHUP.
    let rotated = env.path("policy.audit.jsonl.1");
    std::fs::rename(&log, &rotated).unwrap();
    let sent = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let ada = sign_in(&env, "W0000001", "192.0.2.48");
    wait_for(
        Duration::from_secs(30),
        "the decision in a new file",
        || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains(&format!("\"session_id\":{ada}"))
        },
    );
    let before = std::fs::read_to_string(&rotated).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        std::fs::read_to_string(&rotated).unwrap(),
        before,
        "nothing more goes to the rotated file"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = wait_output(child, Duration::from_secs(30));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(rounds(&log) >= 1);
}
