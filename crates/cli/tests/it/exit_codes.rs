//! Every exit code, each with one readable error line (plus a hint), never a backtrace.

use slack_sessions_emulator::{Effect, FaultRule, demo};

use crate::harness::Env;

/// The error output ends with one `error:` line and at most one `hint:` line (notes, such as a
/// retry, may come before); never a panic or a backtrace.
#[track_caller]
fn one_error_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let errors: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    let after = &lines[errors[0] + 1..];
    assert!(
        after.len() <= 1 && after.iter().all(|l| l.starts_with("hint:")),
        "only a hint after the error:\n{stderr}"
    );
    lines[errors[0]].to_string()
}

#[test]
fn ok_is_0() {
    Env::demo().run(&["whoami"]).expect(0);
}

#[test]
fn usage_is_2() {
    let env = Env::demo();
    // Bad arguments (clap).
    let out = env.run(&["sessions", "reset"]).expect(2);
    assert!(out.stderr.contains("USER"), "{}", out.stderr);
    env.run(&["sessions", "frobnicate"]).expect(2);
    env.run(&["sessions", "reset", "W1", "--mobile-only", "--web-only"])
        .expect(2);
    env.run(&["settings", "set", "W0DEMO0005"]).expect(2);
    env.run(&["settings", "set", "W0DEMO0005", "--duration", "8y"])
        .expect(2);
    env.run(&["sessions", "invalidate", "123"]).expect(2);
    // A user that is neither an ID nor an email.
    let out = env.run(&["sessions", "reset", "bob"]).expect(2);
    assert!(one_error_line(&out.stderr).contains("neither a user ID"));
    // No token at all.
    let mut cmd = env.command(&["whoami"]);
    cmd.env_remove("SLACK_TOKEN");
    let out = env.run_cmd(cmd).expect(2);
    assert!(one_error_line(&out.stderr).contains("no Slack token"));
    // Plain http to a host other than the loopback would send the token in clear.
    let out = env
        .run(&["--api-url", "http://slack.example.com/api/", "whoami"])
        .expect(2);
    assert!(one_error_line(&out.stderr).contains("plain http"));
    // Nothing was sent for any of these.
    assert!(
        env.all_requests()
            .iter()
            .all(|r| r.method == "auth.test" || r.method == "users.lookupByEmail"),
        "{:?}",
        env.all_requests()
    );
}

#[test]
fn auth_and_permission_is_3() {
    let mut env = Env::demo();
    for token in [
        demo::REVOKED_TOKEN,
        demo::EXPIRED_TOKEN,
        demo::MEMBER_TOKEN,
        demo::BOT_TOKEN,
        demo::STANDALONE_ADMIN_TOKEN,
        "xoxp-no-such-token",
    ] {
        env.token = token.to_owned();
        let out = env.run(&["sessions", "list", "--limit", "1"]).expect(3);
        let line = one_error_line(&out.stderr);
        assert!(line.contains("Slack answered"), "{token}: {line}");
    }
    env.token = demo::READ_ONLY_TOKEN.to_owned();
    let out = env.run(&["sessions", "reset", "W0DEMO0005"]).expect(3);
    let line = one_error_line(&out.stderr);
    insta::assert_snapshot!("error_missing_scope", env.redact(&line));
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);
}

#[test]
fn slack_api_error_is_4() {
    let env = Env::demo();
    let out = env
        .run(&["sessions", "invalidate", "42", "--user", "W0DEMO0005"])
        .expect(4);
    let line = one_error_line(&out.stderr);
    assert!(line.contains("session_not_found"), "{line}");
    assert!(
        line.contains("(request "),
        "the request id, for Slack support: {line}"
    );
    insta::assert_snapshot!("error_session_not_found", env.redact(&line));
    let out = env.run(&["sessions", "reset", "W0NOSUCH1"]).expect(4);
    assert!(one_error_line(&out.stderr).contains("user_not_found"));
}

#[test]
fn unknown_email_is_4_and_changes_nothing() {
    let env = Env::demo();
    let out = env
        .run(&[
            "sessions",
            "reset",
            "dennis.ritchie@acme.example",
            "nobody@acme.example",
        ])
        .expect(4);
    let line = one_error_line(&out.stderr);
    insta::assert_snapshot!("error_unknown_email", line);
    assert!(env.requests("admin.users.session.reset").is_empty());
    assert_eq!(env.requests("users.lookupByEmail").len(), 2);
}

#[test]
fn rate_limit_or_retry_budget_is_5() {
    let env = Env::demo();
    env.emu()
        .add_fault(FaultRule::new(Effect::RateLimited(30)).method("admin.users.session.list"))
        .unwrap();
    let out = env.run(&["--retries", "0", "sessions", "list"]).expect(5);
    assert!(one_error_line(&out.stderr).contains("rate limited"));
    env.emu().clear_faults();
    env.emu().clear_requests();
    // A server error that outlasts the retries.
    env.emu()
        .add_fault(FaultRule::new(Effect::HttpStatus(503)).method("auth.test"))
        .unwrap();
    let out = env
        .run(&["--retries", "1", "--retry-budget", "5s", "whoami"])
        .expect(5);
    assert!(one_error_line(&out.stderr).contains("503"));
    assert_eq!(env.requests("auth.test").len(), 2, "one retry");
}

#[test]
fn network_is_6() {
    let env = Env::demo();
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/api/");
    let out = env
        .run(&["--api-url", &url, "--retries", "0", "whoami"])
        .expect(6);
    let line = one_error_line(&out.stderr);
    assert!(line.contains("could not connect"), "{line}");
    // The connection reset after the request was sent.
    env.emu()
        .add_fault(FaultRule::new(Effect::ResetConnection).method("auth.test"))
        .unwrap();
    let out = env.run(&["--retries", "0", "whoami"]).expect(6);
    assert!(one_error_line(&out.stderr).contains("auth.test"));
}

#[test]
fn verbose_logs_never_show_the_token() {
    let env = Env::demo();
    // `run` checks stdout and stderr for the token.
    let out = env
        .run(&["-vvv", "sessions", "list", "--limit", "2"])
        .expect(0);
    assert!(
        out.stderr.contains("slack_call"),
        "trace logs: {}",
        out.stderr
    );
}

#[test]
fn a_local_failure_is_1() {
    let env = Env::demo();
    env.write("leavers.txt", "W0DEMO0005\n");
    let out = env
        .run(&[
            "offboard",
            "leavers.txt",
            "--yes",
            "--report",
            "no/such/dir/r.csv",
        ])
        .expect(1);
    assert!(one_error_line(&out.stderr).contains("cannot create the journal"));
    assert!(env.requests("admin.users.session.resetBulk").is_empty());
}
