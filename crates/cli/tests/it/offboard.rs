//! Offboarding runs against the demo org: output, report, dry run, refusals, and the ways a
//! run can be cut short within one process.

use std::time::Duration;

use serde_json::Value;
use slack_sessions_emulator::{Effect, FaultRule};

use crate::harness::{Env, WRITES, csv_rows, reset_counts, wait_for};

const FORMATS: [&str; 4] = ["table", "json", "ndjson", "csv"];

/// Three users by email or ID (one twice), an unknown email, a line that is neither, and the
/// comments and header a real export has.
const LEAVERS: &str = "\
# leavers, week 12
Name,Email
Dennis,dennis.ritchie@acme.example
Edsger,W0DEMO0006
Ghost,ghost@acme.example
Guido,guido.rossum7@acme.example

Nobody,not-an-address
Edsger again,W0DEMO0006
";

const USERS: [&str; 3] = ["W0DEMO0005", "W0DEMO0006", "W0DEMO0007"];

fn leavers(env: &Env) {
    env.write("leavers.csv", LEAVERS);
}

#[test]
fn a_run_in_every_format_with_its_report() {
    for f in FORMATS {
        let env = Env::demo();
        leavers(&env);
        let before = env.sessions_by_user();
        for u in USERS {
            assert!(before.contains_key(u), "{u} has sessions");
        }
        let out = env
            .run(&["offboard", "leavers.csv", "--yes", "-o", f])
            .expect(8);
        insta::assert_snapshot!(format!("offboard_{f}"), env.redact(&out.stdout));
        let after = env.sessions_by_user();
        for u in USERS {
            assert!(!after.contains_key(u), "{u} has no session left");
        }
        assert_eq!(
            before.len() - after.len(),
            USERS.len(),
            "nobody else was signed out"
        );
        let counts = reset_counts(&env);
        assert_eq!(counts.len(), 3);
        assert!(counts.values().all(|n| *n == 1), "{counts:?}");
        assert_eq!(env.requests("admin.users.session.resetBulk").len(), 1);
        if f == "table" {
            insta::assert_snapshot!("offboard_report_csv", env.read("leavers.report.csv"));
            assert!(!env.read("leavers.report.csv.journal").contains(&env.token));
        }
    }
    // A JSON report, by the extension.
    let env = Env::demo();
    leavers(&env);
    env.run(&["offboard", "leavers.csv", "--yes", "--report", "out.json"])
        .expect(8);
    insta::assert_snapshot!("offboard_report_json", env.read("out.json"));
    assert!(env.path("out.json.journal").exists());
}

#[test]
fn a_finished_run_is_never_resumed_the_same_command_is_a_new_run() {
    let env = Env::demo();
    leavers(&env);
    env.run(&["offboard", "leavers.csv", "--yes"]).expect(8);
    let report = env.read("leavers.report.csv");
    let out = env.run(&["offboard", "leavers.csv", "--yes"]).expect(8);
    assert!(
        out.stderr.contains("the previous run finished at"),
        "{}",
        out.stderr
    );
    assert_eq!(
        csv_rows(&env.read("leavers.report.csv")).len(),
        csv_rows(&report).len(),
        "a new report of the same lines"
    );
    // Each user was reset by each run: a user who signed in since is signed out again.
    assert!(
        reset_counts(&env).values().all(|n| *n == 2),
        "{:?}",
        reset_counts(&env)
    );
}

#[test]
fn dry_run_changes_nothing() {
    let env = Env::demo();
    leavers(&env);
    let state = env.export();
    let out = env
        .run(&["offboard", "leavers.csv", "--dry-run", "-o", "table"])
        .expect(8); // as the run: a line names nobody
    insta::assert_snapshot!("offboard_dry_run_table", env.redact(&out.stdout));
    let out = env
        .run(&["offboard", "leavers.csv", "--dry-run", "-o", "json"])
        .expect(8);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        doc["summary"]["planned"], 4,
        "three users, one of them twice"
    );
    assert_eq!(doc["lines"][0]["sessions_left"], 4, "dennis's sessions now");
    for r in env.all_requests() {
        assert!(
            !WRITES.contains(&r.method.as_str()),
            "{} was called",
            r.method
        );
    }
    assert!(env.emu().audit(0).unwrap().is_empty(), "no change audited");
    assert_eq!(env.export(), state, "the state is unchanged");
    assert!(!env.path("leavers.report.csv").exists());
    assert!(
        !env.path("leavers.report.csv.journal").exists(),
        "the dry run writes no journal"
    );
}

#[test]
fn no_confirmation_without_a_terminal() {
    let env = Env::demo();
    leavers(&env);
    let out = env.run(&["offboard", "leavers.csv"]).expect(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    for r in env.all_requests() {
        assert!(
            !WRITES.contains(&r.method.as_str()),
            "{} was called",
            r.method
        );
    }
    assert!(
        !env.path("leavers.report.csv.journal").exists(),
        "a declined run leaves no journal to hold the next one to its arguments"
    );
}

#[test]
fn a_journal_of_another_run_is_refused() {
    let env = Env::demo();
    leavers(&env);
    env.emu()
        .add_fault(FaultRule::new(Effect::RateLimited(30)).method("admin.users.session.resetBulk"))
        .unwrap();
    env.run(&["--retries", "0", "offboard", "leavers.csv", "--yes"])
        .expect(5);
    env.emu().clear_faults();
    // Other options.
    let out = env
        .run(&["offboard", "leavers.csv", "--yes", "--mobile-only"])
        .expect(2);
    assert!(
        out.stderr
            .contains("holds an unfinished run of another command"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--mobile-only"), "{}", out.stderr);
    assert!(out.stderr.contains("--fresh"), "{}", out.stderr);
    let out = env
        .run(&["offboard", "leavers.csv", "--yes", "--one-by-one"])
        .expect(2);
    assert!(out.stderr.contains("--one-by-one"), "{}", out.stderr);
    // Another input.
    env.write("leavers.csv", &format!("{LEAVERS}W0DEMO0009\n"));
    let out = env.run(&["offboard", "leavers.csv", "--yes"]).expect(2);
    assert!(out.stderr.contains("input file differs"), "{}", out.stderr);
    assert!(reset_counts(&env).is_empty(), "nothing was reset");
    // The original input and options resume it.
    leavers(&env);
    env.run(&["offboard", "leavers.csv", "--yes"]).expect(8);
    assert_eq!(reset_counts(&env).len(), 3);
}

#[test]
fn an_exhausted_retry_budget_stops_the_run_and_it_resumes() {
    let env = Env::demo();
    leavers(&env);
    env.emu()
        .add_fault(FaultRule::new(Effect::RateLimited(30)).method("admin.users.session.resetBulk"))
        .unwrap();
    let out = env
        .run(&["--retries", "0", "offboard", "leavers.csv", "--yes"])
        .expect(5);
    assert!(out.stderr.contains("rate limited"), "{}", out.stderr);
    assert!(out.stderr.contains("to resume"), "{}", out.stderr);
    // The report covers every line already: the unreached ones as pending.
    let rows = csv_rows(&env.read("leavers.report.csv"));
    assert_eq!(rows.len(), 6);
    assert_eq!(rows.iter().filter(|r| r["result"] == "pending").count(), 4);
    env.emu().clear_faults();
    let lookups = env.requests("users.lookupByEmail").len();
    let out = env
        .run(&["offboard", "leavers.csv", "--yes", "-o", "json"])
        .expect(8);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["done"], 4);
    assert_eq!(doc["complete"], true);
    assert_eq!(
        env.requests("users.lookupByEmail").len(),
        lookups,
        "emails are not looked up again"
    );
    let counts = reset_counts(&env);
    assert_eq!(counts.len(), 3);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[test]
fn an_answer_lost_after_the_reset_was_applied_is_checked_not_resent() {
    let env = Env::demo();
    leavers(&env);
    // The emulator applies the call, then cuts its answer in half.
    env.emu()
        .add_fault(
            FaultRule::new(Effect::TruncatedJson)
                .method("admin.users.session.resetBulk")
                .times(1),
        )
        .unwrap();
    let out = env
        .run(&[
            "offboard",
            "leavers.csv",
            "--yes",
            "--verify-timeout",
            "10s",
        ])
        .expect(8);
    assert!(
        out.stderr.contains("instead of sending it again"),
        "{}",
        out.stderr
    );
    let bulk = env.requests("admin.users.session.resetBulk");
    assert_eq!(bulk.len(), 1, "not sent again: {bulk:?}");
    let rows = csv_rows(&env.read("leavers.report.csv"));
    let done: Vec<_> = rows.iter().filter(|r| r["result"] == "done").collect();
    assert_eq!(done.len(), 4);
    assert!(
        done[0]["detail"].contains("checked afterwards"),
        "{:?}",
        done[0]
    );
    let journal = env.read("leavers.report.csv.journal");
    assert!(journal.contains("\"outcome\":\"unknown\""), "{journal}");
    assert!(journal.contains("\"type\":\"settled\""), "{journal}");
}

#[test]
fn a_call_lost_before_it_was_applied_is_sent_again_once() {
    let env = Env::demo();
    leavers(&env);
    // The connection is reset: the call is not executed, and the client cannot know.
    env.emu()
        .add_fault(
            FaultRule::new(Effect::ResetConnection)
                .method("admin.users.session.resetBulk")
                .times(1),
        )
        .unwrap();
    env.run(&[
        "--retries",
        "0",
        "offboard",
        "leavers.csv",
        "--yes",
        "--verify-timeout",
        "1s",
    ])
    .expect(8);
    let bulk = env.requests("admin.users.session.resetBulk");
    assert_eq!(bulk.len(), 2, "{bulk:?}");
    assert_eq!(bulk[0].status, 0, "the first one was cut");
    let counts = reset_counts(&env);
    assert_eq!(counts.len(), 3);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert!(
        env.sessions_by_user()
            .keys()
            .all(|u| !USERS.contains(&u.as_str()))
    );
}

#[test]
fn a_refused_batch_is_split_to_find_the_user() {
    let env = Env::demo();
    // The primary owner cannot be reset by an owner: the batch is refused whole.
    env.write(
        "list.txt",
        "W0DEMO0005\nW0DEMO0006\nW0DEMO0001\nW0DEMO0007\nW0DEMOBOT1\nW0DEMO0008\n",
    );
    let out = env
        .run(&["offboard", "list.txt", "--yes", "-o", "csv"])
        .expect(7);
    let rows = csv_rows(&out.stdout);
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r["result"] == "failed")
        .map(|r| {
            (
                r["user_id"].as_str(),
                r["detail"].split(':').next().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        vec![
            ("W0DEMO0001", "cannot_reset_primary_owner"),
            ("W0DEMOBOT1", "cannot_reset_bot")
        ]
    );
    assert_eq!(rows.iter().filter(|r| r["result"] == "done").count(), 4);
    let counts = reset_counts(&env);
    assert_eq!(counts.len(), 4);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[test]
fn one_by_one_and_mobile_only() {
    let env = Env::demo();
    leavers(&env);
    env.run(&[
        "offboard",
        "leavers.csv",
        "--yes",
        "--one-by-one",
        "--mobile-only",
    ])
    .expect(8);
    assert!(env.requests("admin.users.session.resetBulk").is_empty());
    let resets = env.requests("admin.users.session.reset");
    assert_eq!(resets.len(), 3);
    assert!(resets.iter().all(|r| r.args["mobile_only"] == "true"));
    // Dennis keeps his two web sessions.
    let out = env
        .run(&["sessions", "list", "--user", "W0DEMO0005", "-o", "json"])
        .expect(0);
    let left: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|s| s["client"] != "mobile"), "{left:?}");
    let rows = csv_rows(&env.read("leavers.report.csv"));
    assert!(
        rows.iter()
            .filter(|r| r["user_id"] == "W0DEMO0005")
            .all(|r| r["result"] == "done" && r["sessions_left"] == "0" && r["action"] == "reset")
    );
}

#[test]
fn sessions_that_outlast_the_verification_fail_the_user() {
    // The job runs only after 3 s; the run waits 1 s.
    let env = Env::start(
        Env::builder()
            .seed(slack_sessions_emulator::Seed::demo())
            .bulk_delay(Duration::from_secs(3)),
        slack_sessions_emulator::demo::ADMIN_TOKEN,
    );
    env.write("one.txt", "W0DEMO0005\nW0DEMO0006\n");
    let out = env
        .run(&[
            "offboard",
            "one.txt",
            "--yes",
            "--verify-timeout",
            "1s",
            "-o",
            "csv",
        ])
        .expect(7);
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["result"], "failed");
    assert_eq!(rows[0]["sessions_left"], "4");
    assert!(
        rows[0]["detail"].contains("still active 1s after"),
        "{:?}",
        rows[0]
    );
}

#[test]
fn repeated_unknown_outcomes_stop_the_run_and_it_resumes() {
    let env = Env::demo();
    env.write("one.txt", "W0DEMO0005\n");
    env.emu()
        .add_fault(
            FaultRule::new(Effect::Error("internal_error".into()))
                .method("admin.users.session.resetBulk"),
        )
        .unwrap();
    // internal_error leaves open whether the call was applied: it is settled by listing, and
    // re-sent (three times at most in a row) while sessions remain; then the run stops.
    let out = env
        .run(&[
            "--retries",
            "0",
            "offboard",
            "one.txt",
            "--yes",
            "--verify-timeout",
            "0s",
        ])
        .expect(5);
    assert!(out.stderr.contains("internal_error"), "{}", out.stderr);
    assert_eq!(env.requests("admin.users.session.resetBulk").len(), 3);
    env.emu().clear_faults();
    let out = env
        .run(&["offboard", "one.txt", "--yes", "-o", "json"])
        .expect(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["done"], 1);
    wait_for(Duration::from_secs(5), "the sessions to go", || {
        !env.sessions_by_user().contains_key("W0DEMO0005")
    });
}

#[test]
fn verification_by_user_lists_each_users_sessions_on_the_org() {
    let env = Env::demo();
    leavers(&env);
    env.run(&["offboard", "leavers.csv", "--yes", "--verify-by", "user"])
        .expect(8);
    let lists = env.requests("admin.users.session.list");
    assert!(!lists.is_empty());
    let users: std::collections::BTreeSet<&str> = lists
        .iter()
        .map(|r| {
            assert_eq!(r.args["team_id"], "E0DEMO0001", "{r:?}");
            r.args["user_id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(users.into_iter().collect::<Vec<_>>(), USERS.to_vec());
    // By org: whole-org pages, no user filter.
    let env = Env::demo();
    leavers(&env);
    env.run(&["offboard", "leavers.csv", "--yes", "--verify-by", "org"])
        .expect(8);
    let lists = env.requests("admin.users.session.list");
    assert!(lists.iter().all(|r| !r.args.contains_key("user_id")));
}

#[test]
fn no_verify_reports_resets_as_acknowledged() {
    let env = Env::demo();
    leavers(&env);
    let out = env
        .run(&[
            "offboard",
            "leavers.csv",
            "--yes",
            "--no-verify",
            "-o",
            "json",
        ])
        .expect(8);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["reset"], 4);
    assert!(env.requests("admin.users.session.list").is_empty());
}

#[test]
fn a_journal_of_a_run_that_changed_nothing_gives_way() {
    let env = Env::demo();
    leavers(&env);
    // Stopped while looking users up: nothing was reset.
    env.emu()
        .add_fault(FaultRule::new(Effect::RateLimited(30)).method("users.lookupByEmail"))
        .unwrap();
    env.run(&["--retries", "0", "offboard", "leavers.csv", "--yes"])
        .expect(5);
    assert!(env.path("leavers.report.csv.journal").exists());
    env.emu().clear_faults();
    // Another input is accepted, since no user can be reset twice.
    env.write("leavers.csv", "W0DEMO0009\n");
    let out = env.run(&["offboard", "leavers.csv", "--yes"]).expect(0);
    assert!(
        out.stderr.contains("run that sent nothing") && out.stderr.contains("starting over"),
        "{}",
        out.stderr
    );
    let journal = env.read("leavers.report.csv.journal");
    assert_eq!(
        journal.matches("\"type\":\"start\"").count(),
        1,
        "{journal}"
    );
    assert!(!journal.contains("dennis"), "{journal}");
    assert_eq!(
        reset_counts(&env).keys().collect::<Vec<_>>(),
        ["W0DEMO0009"]
    );
}
