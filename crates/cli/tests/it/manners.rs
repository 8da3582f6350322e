//! Everyday manners: confirmation, truthful `whoami`, colour only on a terminal, verbosity,
//! option checks, hints, and help that shows each option where it applies.

use serde_json::Value;
use slack_sessions_emulator::demo;

use crate::harness::{Env, write_with_mode};

#[test]
fn resetting_several_users_asks_first() {
    let env = Env::demo();
    let out = env
        .run(&["sessions", "reset", "W0DEMO0005", "W0DEMO0006"])
        .expect(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(env.requests("admin.users.session.reset").is_empty());
    env.run(&["sessions", "reset", "W0DEMO0005", "W0DEMO0006", "--yes"])
        .expect(0);
    assert_eq!(env.requests("admin.users.session.reset").len(), 2);
}

#[test]
fn whoami_says_what_the_token_can_really_do() {
    let mut env = Env::demo();
    let can = |env: &Env| -> Value {
        let code = if env.token == demo::ADMIN_TOKEN { 0 } else { 3 };
        let out = env.run(&["whoami", "-o", "json"]).expect(code);
        let json: Value = serde_json::from_str(&out.stdout).unwrap();
        json["can"].clone()
    };
    let all = can(&env);
    assert!(
        all.as_array().unwrap().len() >= 2,
        "an admin's token: {all}"
    );
    for token in [demo::MEMBER_TOKEN, demo::BOT_TOKEN] {
        env.token = token.to_owned();
        let can = can(&env);
        assert!(
            can.as_array()
                .unwrap()
                .iter()
                .all(|c| !c.as_str().unwrap().contains("sessions")),
            "{token}: {can}"
        );
        // Said, and a failure: the token cannot do what this tool is for.
        let out = env.run(&["whoami", "-o", "table"]).expect(3);
        assert!(
            out.stderr.contains("cannot list sessions"),
            "{}",
            out.stderr
        );
        let cannot = out
            .stdout
            .lines()
            .find(|l| l.starts_with("cannot"))
            .unwrap();
        assert!(cannot.contains("list sessions"), "{token}: {cannot}");
    }
    env.token = demo::BOT_TOKEN.to_owned();
    let out = env.run(&["whoami", "-o", "table"]).expect(3);
    assert!(out.stdout.contains("bot token"), "{}", out.stdout);
}

#[test]
fn no_colour_off_a_terminal() {
    let env = Env::demo();
    for args in [
        &["-vv", "whoami"][..],
        &["-vvv", "sessions", "list", "--limit", "1"],
    ] {
        let out = env.run(args).expect(0);
        assert!(!out.stderr.is_empty());
        assert!(!out.stderr.contains('\x1b'), "{args:?}: {:?}", out.stderr);
    }
}

#[test]
fn one_v_says_something_and_two_say_more() {
    let env = Env::demo();
    let quiet = env.run(&["whoami"]).expect(0);
    let one = env.run(&["-v", "whoami"]).expect(0);
    let two = env.run(&["-vv", "whoami"]).expect(0);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    assert!(one.stderr.contains("auth.test"), "-v: {:?}", one.stderr);
    assert!(two.stderr.len() > one.stderr.len(), "-vv: {:?}", two.stderr);
}

#[test]
fn a_zero_timeout_is_refused_at_parse_time() {
    let env = Env::demo();
    let out = env.run(&["--timeout", "0s", "whoami"]).expect(2);
    assert!(out.stderr.contains("--timeout"), "{}", out.stderr);
    assert!(env.all_requests().is_empty());
    env.run(&["--retry-budget", "0s", "whoami"]).expect(0);
}

#[test]
fn errors_give_hints_and_read_only_commands_do_not_claim_restraint() {
    let env = Env::demo();
    let out = env
        .run(&["sessions", "invalidate", "42", "--user", "W0DEMO0005"])
        .expect(4);
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);
    let out = env
        .run(&["sessions", "reset", "W0NOSUCH1", "-o", "json"])
        .expect(4);
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);
    assert!(
        out.stdout.is_empty(),
        "a refused reset prints nothing: {:?}",
        out.stdout
    );
    let out = env
        .run(&["sessions", "list", "--user", "nobody@acme.example"])
        .expect(4);
    assert!(
        !out.stderr.contains("nothing was changed"),
        "{}",
        out.stderr
    );
    let out = env
        .run(&["settings", "clear", "nobody@acme.example"])
        .expect(4);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
}

#[test]
fn serve_says_its_os_error_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let env = Env::demo();
    let out = env
        .run(&["serve", "--addr", &addr, "--db", ":memory:"])
        .expect(1);
    assert_eq!(out.stderr.matches("os error").count(), 1, "{}", out.stderr);
}

#[test]
fn global_options_are_under_their_own_heading() {
    let env = Env::demo();
    let out = env.run(&["serve", "--help"]).expect(0);
    let (own, global) = out
        .stdout
        .split_once("Global options:")
        .unwrap_or_else(|| panic!("{}", out.stdout));
    for flag in ["--token", "--gov", "--pacing"] {
        assert!(!own.contains(flag), "{flag} among serve's own options");
        assert!(global.contains(flag), "{flag}");
    }
    assert!(own.contains("--demo"));
}

#[test]
fn slack_token_file_is_read_like_token_file() {
    let env = Env::demo();
    let path = env.path("token");
    write_with_mode(&path, &env.token, 0o600);
    let mut cmd = env.command(&["whoami", "-o", "json"]);
    cmd.env_remove("SLACK_TOKEN").env("SLACK_TOKEN_FILE", &path);
    env.run_cmd(cmd).expect(0);
    write_with_mode(&path, &env.token, 0o644);
    let mut cmd = env.command(&["whoami"]);
    cmd.env_remove("SLACK_TOKEN").env("SLACK_TOKEN_FILE", &path);
    let out = env.run_cmd(cmd).expect(3);
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
}

/// The rows of a JSON array printed on standard output.
fn json_rows(stdout: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}"))
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_column_hint_never_suggests_someone_elses_column() {
    let env = Env::demo();
    // An HR export: the leaver's address first, their manager's after it.
    env.write(
        "hr.csv",
        "Name,Work Email,Manager Email\nDennis,dennis.ritchie@acme.example,ada.lovelace@acme.example\n",
    );
    let out = env.run(&["offboard", "hr.csv", "--dry-run"]).expect(2);
    assert!(
        !out.stderr.contains("--column \"Manager Email\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--column \"Work Email\""),
        "the likeliest column: {}",
        out.stderr
    );
    // Two columns of other people's addresses: no suggestion at all.
    env.write(
        "two.csv",
        "Manager Email,Supervisor Email\nada.lovelace@acme.example,dennis.ritchie@acme.example\n",
    );
    let out = env.run(&["offboard", "two.csv", "--dry-run"]).expect(2);
    assert!(!out.stderr.contains("e.g. --column"), "{}", out.stderr);
    assert!(out.stderr.contains("--column"), "{}", out.stderr);
    assert!(env.all_requests().iter().all(|r| r.method == "auth.test"));
}

#[test]
fn sessions_reset_has_a_dry_run_that_exits_as_the_run_would() {
    let env = Env::demo();
    let out = env
        .run(&["sessions", "reset", "W0DEMO0005", "W0DEMO0006"])
        .expect(2);
    assert!(out.stderr.contains("--dry-run"), "{}", out.stderr);
    let out = env
        .run(&[
            "sessions",
            "reset",
            "W0DEMO0005",
            "dennis.ritchie@acme.example",
            "W0DEMO0006",
            "--dry-run",
            "-o",
            "json",
        ])
        .expect(0);
    let rows = json_rows(&out.stdout);
    assert_eq!(rows.len(), 2, "each user once: {rows:?}");
    assert!(rows.iter().all(|r| r["result"] == "planned"), "{rows:?}");
    assert!(rows[0]["sessions_now"].as_u64().unwrap() > 0, "{rows:?}");
    // The primary owner: the run exits 4 (Slack refuses), and so does its dry run.
    let out = env
        .run(&["sessions", "reset", demo::PRIMARY_OWNER_ID, "--dry-run"])
        .expect(4);
    assert!(
        out.stderr.contains("cannot_reset_primary_owner"),
        "{}",
        out.stderr
    );
    // Several users, one refused: the run exits 7, and so does its dry run.
    let out = env
        .run(&[
            "sessions",
            "reset",
            "W0DEMO0005",
            demo::PRIMARY_OWNER_ID,
            "--dry-run",
            "-o",
            "json",
        ])
        .expect(7);
    let rows = json_rows(&out.stdout);
    assert_eq!(rows[1]["result"], "failed", "{rows:?}");
    assert!(
        crate::harness::WRITES
            .iter()
            .all(|m| env.requests(m).is_empty()),
        "a dry run writes nothing"
    );
    env.run(&[
        "sessions",
        "reset",
        "W0DEMO0005",
        demo::PRIMARY_OWNER_ID,
        "--yes",
    ])
    .expect(7);
}

#[test]
fn every_writing_command_has_a_dry_run() {
    let env = Env::demo();
    let before = env.export();
    env.run(&[
        "settings",
        "set",
        "W0DEMO0005",
        "--duration",
        "8h",
        "--dry-run",
    ])
    .expect(0);
    env.run(&["settings", "clear", "W0DEMO0005", "--dry-run"])
        .expect(0);
    // One session: found, so the run would end it.
    let out = env
        .run(&["sessions", "list", "--user", "W0DEMO0005", "-o", "json"])
        .expect(0);
    let id = json_rows(&out.stdout)[0]["session_id"]
        .as_u64()
        .unwrap()
        .to_string();
    let out = env
        .run(&[
            "sessions",
            "invalidate",
            &id,
            "--user",
            "W0DEMO0005",
            "--dry-run",
        ])
        .expect(0);
    assert!(out.stdout.contains(&id), "{}", out.stdout);
    // A session that is not the user's: the run exits 4, and so does the dry run.
    let out = env
        .run(&[
            "sessions",
            "invalidate",
            "42",
            "--user",
            "W0DEMO0005",
            "--dry-run",
        ])
        .expect(4);
    assert!(out.stderr.contains("session_not_found"), "{}", out.stderr);
    assert_eq!(env.export(), before, "nothing changed");
    assert!(
        crate::harness::WRITES
            .iter()
            .all(|m| env.requests(m).is_empty())
    );
}

#[test]
fn dry_runs_exit_with_the_code_of_the_run() {
    let env = Env::demo();
    // A line that names nobody: the run exits 8.
    env.write(
        "leavers.txt",
        "dennis.ritchie@acme.example\nnobody@acme.example\n",
    );
    env.run(&["offboard", "leavers.txt", "--dry-run"]).expect(8);
    // The primary owner, whom Slack refuses: the run exits 7.
    env.write("owner.txt", &format!("{}\n", demo::PRIMARY_OWNER_ID));
    env.run(&["offboard", "owner.txt", "--dry-run"]).expect(7);
    env.write("fine.txt", "dennis.ritchie@acme.example\n");
    env.run(&["offboard", "fine.txt", "--dry-run"]).expect(0);
    // A round that trips the circuit breaker: the run exits 7.
    let env = crate::inventory::env();
    env.write(
        "policy.toml",
        "[guardrails]\nmax_share = 0.2\n\n[[rule]]\nname = \"office\"\n\
         allowed_networks = [\"198.51.100.0/24\", \"2001:db8:ac3e::/48\"]\n",
    );
    let out = env.run(&["enforce", "policy.toml", "--dry-run"]).expect(7);
    assert!(out.stdout.contains("circuit breaker"), "{}", out.stdout);
    env.run(&["enforce", "policy.toml", "--yes"]).expect(7);
}

#[test]
fn the_report_path_is_said_once() {
    let env = crate::inventory::env();
    let out = env
        .run(&[
            "sessions",
            "invalidate",
            "--ip",
            "2001:db8::/32",
            "--yes",
            "--report",
            "ended.csv",
            "-o",
            "table",
        ])
        .expect(0);
    let said = format!("{}{}", out.stdout, out.stderr)
        .matches("ended.csv")
        .count();
    assert_eq!(said, 1, "{}\n{}", out.stdout, out.stderr);
}

#[test]
fn settings_get_says_when_two_inputs_are_one_user() {
    let env = Env::demo();
    let out = env
        .run(&[
            "settings",
            "get",
            "W0DEMO0005",
            "dennis.ritchie@acme.example",
            "-o",
            "json",
        ])
        .expect(0);
    assert_eq!(json_rows(&out.stdout).len(), 1);
    let said: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("W0DEMO0005"))
        .collect();
    assert_eq!(said.len(), 1, "{}", out.stderr);
    assert!(
        said[0].contains("dennis.ritchie@acme.example"),
        "{}",
        said[0]
    );
}

#[test]
fn whoami_fails_for_a_token_that_cannot_list_sessions() {
    let mut env = Env::demo();
    env.token = demo::NO_SCOPES_TOKEN.to_owned();
    let out = env.run(&["whoami"]).expect(3);
    assert!(out.stderr.contains("error:"), "{}", out.stderr);
    assert!(out.stderr.contains("admin.users:read"), "{}", out.stderr);
    env.token = demo::READ_ONLY_TOKEN.to_owned();
    env.run(&["whoami"]).expect(0);
}

#[test]
fn a_deactivated_leaver_is_said_to_be_so() {
    let env = Env::demo();
    // W0DEMO0048 (hedy.lamarr48@) is deactivated: by ID and by email in every mode (by email,
    // users.lookupByEmail answers users_not_found for them; the walk of users.list finds them).
    env.write("gone.txt", "W0DEMO0048\nW0DEMO0005\n");
    env.write("gone-email.txt", "hedy.lamarr48@acme.example\nW0DEMO0005\n");
    for (file, mode) in [
        ("gone.txt", "lookup"),
        ("gone.txt", "list"),
        ("gone.txt", "auto"),
        ("gone-email.txt", "list"),
        ("gone-email.txt", "lookup"),
        ("gone-email.txt", "auto"),
    ] {
        let out = env
            .run(&[
                "offboard",
                file,
                "--resolve-by",
                mode,
                "--dry-run",
                "-o",
                "json",
            ])
            .expect(0);
        let doc: Value = serde_json::from_str(&out.stdout).unwrap();
        let detail = |i: usize| doc["lines"][i]["detail"].as_str().unwrap().to_owned();
        assert!(detail(0).contains("already deactivated"), "{mode}: {doc}");
        assert!(!detail(1).contains("deactivated"), "{mode}: {doc}");
        let out = env
            .run(&[
                "offboard",
                file,
                "--resolve-by",
                mode,
                "--yes",
                "-o",
                "table",
            ])
            .expect(0);
        assert!(
            out.stderr.contains("already deactivated"),
            "{mode}: {}\n{}",
            out.stdout,
            out.stderr
        );
        let report = env.read(&file.replace(".txt", ".report.csv"));
        let report = crate::harness::csv_rows(&report);
        assert_eq!(report[0]["result"], "done");
        assert!(
            report[0]["detail"].contains("already deactivated"),
            "{mode}: {:?}",
            report[0]
        );
    }
}

#[test]
fn a_rate_limit_met_although_paced_is_told_in_the_clis_words() {
    use slack_sessions_emulator::{RateLimits, Seed};
    // Limits ten times faster than Slack's, and the CLI paced to match them.
    let env = Env::start(
        Env::builder()
            .seed(Seed::demo())
            .rate_limits(RateLimits::Scale(10)),
        demo::ADMIN_TOKEN,
    );
    let emails = |n: usize| -> String {
        (0..n)
            .map(|i| format!("leaver{i}@acme.example\n"))
            .collect()
    };
    env.write("first.txt", &emails(60));
    env.write("second.txt", &emails(20));
    let run = |file: &str| {
        env.run(&[
            "--pacing",
            "scale=10",
            "offboard",
            file,
            "--resolve-by",
            "lookup",
            "--dry-run",
        ])
    };
    // The first run spends the lookups' budget; the second, started at once, finds Slack's
    // bucket empty although its own pacing starts full: Slack answers 429.
    let first = run("first.txt");
    let second = run("second.txt");
    assert!(
        !env.requests("users.lookupByEmail")
            .iter()
            .all(|r| r.status == 200),
        "a lookup was rate limited"
    );
    for out in [&first, &second] {
        for rust in ["Pacing::", "RateLimits::"] {
            assert!(!out.stderr.contains(rust), "{}", out.stderr);
        }
    }
    let told: Vec<&str> = second
        .stderr
        .lines()
        .filter(|l| l.contains("rate limit") && l.contains("--pacing"))
        .collect();
    assert_eq!(told.len(), 1, "{}", second.stderr);
}
