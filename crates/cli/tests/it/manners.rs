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
        let out = env.run(&["whoami", "-o", "json"]).expect(0);
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
        let out = env.run(&["whoami", "-o", "table"]).expect(0);
        let cannot = out
            .stdout
            .lines()
            .find(|l| l.starts_with("cannot"))
            .unwrap();
        assert!(cannot.contains("list sessions"), "{token}: {cannot}");
    }
    env.token = demo::BOT_TOKEN.to_owned();
    let out = env.run(&["whoami", "-o", "table"]).expect(0);
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
