//! What real Slack may answer that the emulator does not by itself, injected with its fault
//! rules: `no_active_sessions` from `list`, `failed_for_some_users` from `resetBulk`; and an
//! unknown `--team`.

use serde_json::Value;
use slack_sessions_emulator::{Effect, FaultRule};

use crate::harness::Env;

fn no_active_sessions(env: &Env) {
    env.emu()
        .add_fault(
            FaultRule::new(Effect::Error("no_active_sessions".into()))
                .method("admin.users.session.list"),
        )
        .unwrap();
}

#[test]
fn no_active_sessions_counts_as_none_everywhere() {
    let env = Env::demo();
    no_active_sessions(&env);
    let out = env
        .run(&["sessions", "list", "--user", "W0DEMO0005", "-o", "table"])
        .expect(0);
    assert!(
        out.stdout.starts_with("no active sessions"),
        "{}",
        out.stdout
    );
    env.write("one.txt", "W0DEMO0005\nW0DEMO0006\n");
    // The dry run counts none, and plans the resets.
    let out = env
        .run(&["offboard", "one.txt", "--dry-run", "-o", "json"])
        .expect(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["planned"], 2, "{doc}");
    assert_eq!(doc["lines"][0]["sessions_left"], 0);
    // The verification after the resets reads it as "signed out", not as a failure.
    let out = env
        .run(&["offboard", "one.txt", "--yes", "-o", "json"])
        .expect(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["done"], 2, "{doc}");
}

#[test]
fn failed_for_some_users_falls_back_to_verifying_each_user() {
    // W0DEMO0048 is deactivated and has no session; Dennis has four. The fault answers
    // `failed_for_some_users` without applying the call, so Dennis keeps his sessions.
    for no_verify in [false, true] {
        let env = Env::demo();
        env.write("two.txt", "W0DEMO0005\nW0DEMO0048\n");
        env.emu()
            .add_fault(
                FaultRule::new(Effect::Error("failed_for_some_users".into()))
                    .method("admin.users.session.resetBulk")
                    .times(1),
            )
            .unwrap();
        let mut args = vec![
            "offboard",
            "two.txt",
            "--yes",
            "--verify-timeout",
            "1s",
            "-o",
            "json",
        ];
        if no_verify {
            args.push("--no-verify");
        }
        let out = env.run(&args).expect(7);
        let doc: Value = serde_json::from_str(&out.stdout).unwrap();
        let lines = doc["lines"].as_array().unwrap();
        assert_eq!(lines[0]["result"], "failed", "{no_verify}: {doc}");
        assert_eq!(lines[0]["sessions_left"], 4);
        assert_eq!(lines[1]["result"], "done", "{no_verify}: {doc}");
        assert_eq!(
            env.requests("admin.users.session.resetBulk").len(),
            1,
            "the batch is not sent again"
        );
    }
}

#[test]
fn an_unknown_team_is_refused_not_an_empty_list() {
    let env = Env::demo();
    for args in [
        &["sessions", "list", "--team", "T0NOSUCH1"][..],
        &[
            "sessions",
            "list",
            "--team",
            "T0NOSUCH1",
            "--user",
            "W0DEMO0005",
        ],
    ] {
        let out = env.run(args).expect(4);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        assert!(out.stderr.contains("T0NOSUCH1"), "{}", out.stderr);
        assert!(out.stderr.contains("team_not_found"), "{}", out.stderr);
    }
    env.write("one.txt", "W0DEMO0005\n");
    env.run(&["offboard", "one.txt", "--team", "T0NOSUCH1", "--dry-run"])
        .expect(4);
    // A team of the org is accepted.
    env.run(&["sessions", "list", "--team", "T0DEMOSAL1", "-o", "json"])
        .expect(0);
}
