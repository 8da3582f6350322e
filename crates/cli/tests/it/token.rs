//! Where the token comes from, and that it never shows.

use crate::harness::{Env, write_with_mode};

#[test]
fn a_token_file_readable_by_others_is_refused() {
    let env = Env::demo();
    let path = env.path("token");
    write_with_mode(&path, &format!("{}\n", env.token), 0o644);
    let file = path.to_str().unwrap();
    let mut cmd = env.command(&["--token-file", file, "whoami"]);
    cmd.env_remove("SLACK_TOKEN");
    let out = env.run_cmd(cmd).expect(3);
    assert!(out.stderr.contains("mode 644"), "{}", out.stderr);
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
    insta::assert_snapshot!("token_file_644", env.redact(&out.stderr));
    assert!(env.all_requests().is_empty(), "nothing was sent");
    // Group-readable is refused too; owner-only is accepted.
    write_with_mode(&path, &env.token, 0o640);
    let mut cmd = env.command(&["--token-file", file, "whoami"]);
    cmd.env_remove("SLACK_TOKEN");
    env.run_cmd(cmd).expect(3);
    write_with_mode(&path, &env.token, 0o600);
    let mut cmd = env.command(&["--token-file", file, "whoami", "-o", "csv"]);
    cmd.env_remove("SLACK_TOKEN");
    let out = env.run_cmd(cmd).expect(0);
    assert!(out.stdout.contains("grace.hopper"), "{}", out.stdout);
}

#[test]
fn the_flag_and_the_file_exclude_each_other_and_beat_the_environment() {
    let env = Env::demo();
    let path = env.path("token");
    write_with_mode(&path, &env.token, 0o600);
    env.run(&[
        "--token",
        &env.token,
        "--token-file",
        path.to_str().unwrap(),
        "whoami",
    ])
    .expect(2);
    // A wrong SLACK_TOKEN is overridden by the flag.
    let mut cmd = env.command(&["--token", &env.token, "whoami"]);
    cmd.env("SLACK_TOKEN", "xoxp-wrong");
    env.run_cmd(cmd).expect(0);
    let mut cmd = env.command(&["--token-file", path.to_str().unwrap(), "whoami"]);
    cmd.env("SLACK_TOKEN", "xoxp-wrong");
    env.run_cmd(cmd).expect(0);
}

#[test]
fn a_refused_token_is_not_echoed() {
    let mut env = Env::demo();
    env.token = "xoxp-1234-5678-definitely-not-valid".to_owned();
    // `run` asserts that neither output contains the token.
    let out = env.run(&["-vv", "whoami"]).expect(3);
    assert!(out.stderr.contains("invalid_auth"), "{}", out.stderr);
}
