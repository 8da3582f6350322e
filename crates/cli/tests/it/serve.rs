//! `slack-sessions serve` as a process: printed URL, durability across `kill -9`, and the seed
//! and lifetime a parent process gives it through standard input.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{self, Server};

/// `serve --demo` on `db`, rate limits off.
fn serve(db: &std::path::Path) -> Server {
    harness::serve(&[
        "--addr",
        "127.0.0.1:0",
        "--demo",
        "--rate-limits",
        "off",
        "--db",
        db.to_str().expect("a UTF-8 path"),
    ])
}

async fn call(http: &reqwest::Client, s: &Server, method: &str, args: &[(&str, &str)]) -> Value {
    http.post(format!("{}/api/{method}", s.base))
        .bearer_auth("xoxp-demo-admin")
        .form(args)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn session_count(http: &reqwest::Client, s: &Server, user: &str) -> usize {
    let r = call(
        http,
        s,
        "admin.users.session.list",
        &[("user_id", user), ("team_id", "E0DEMO0001")],
    )
    .await;
    assert_eq!(r["ok"], true, "{r}");
    r["active_sessions"].as_array().unwrap().len()
}

#[tokio::test]
async fn acknowledged_reset_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("emulator.db");
    let http = reqwest::Client::new();

    let server = serve(&db);
    let total_before = session_count(&http, &server, "W0DEMO0007").await;
    assert!(session_count(&http, &server, "W0DEMO0005").await > 0);
    let r = call(
        &http,
        &server,
        "admin.users.session.reset",
        &[("user_id", "W0DEMO0005")],
    )
    .await;
    assert_eq!(r["ok"], true, "{r}");
    drop(server); // SIGKILL, right after the acknowledgement

    let server = serve(&db);
    assert_eq!(
        session_count(&http, &server, "W0DEMO0005").await,
        0,
        "the reset is in place"
    );
    assert_eq!(
        session_count(&http, &server, "W0DEMO0007").await,
        total_before,
        "restarting with the same seed duplicated nothing"
    );
}

/// Runs `serve` with `args` until it has printed `lines` lines (or ended), then stops it.
fn serve_output(
    args: &[&str],
    env: &[(&str, &str)],
    lines: usize,
) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slack-sessions"))
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let out: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .take(lines)
        .map_while(Result::ok)
        .collect();
    let _ = child.kill();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.code(), out.join("\n"), err)
}

#[test]
fn an_empty_control_token_is_refused_off_loopback() {
    let refused = [
        (
            vec![
                "--addr",
                "0.0.0.0:0",
                "--db",
                ":memory:",
                "--control-token",
                "",
            ],
            vec![],
        ),
        (
            vec![
                "--addr",
                "0.0.0.0:0",
                "--db",
                ":memory:",
                "--control-token",
                "  ",
            ],
            vec![],
        ),
        (
            vec!["--addr", "0.0.0.0:0", "--db", ":memory:"],
            vec![("SLACK_SESSIONS_CONTROL_TOKEN", "")],
        ),
    ];
    for (args, env) in refused {
        let (code, out, err) = serve_output(&args, &env, 1);
        assert_ne!(code, Some(0), "{args:?} {env:?} started: {out}");
        assert!(out.is_empty(), "{args:?} {env:?} listened: {out}");
        assert!(err.contains("control token"), "{err}");
    }
}

#[test]
fn demo_on_a_file_with_other_state_says_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scale.db");
    let db = db.to_str().unwrap();
    let (_, out, _) = serve_output(
        &["--addr", "127.0.0.1:0", "--db", db, "--generate", "10:10"],
        &[],
        1,
    );
    assert!(out.contains("listening"), "{out}");
    let (_, out, _) = serve_output(&["--addr", "127.0.0.1:0", "--db", db, "--demo"], &[], 2);
    assert!(out.contains("already holds other state"), "{out}");
    assert!(out.contains("E0SCALE001"), "{out}");
    assert!(!out.contains("admin token: xoxp-demo-admin"), "{out}");
}

#[test]
fn a_bind_error_is_said_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, err) = serve_output(&["--addr", &addr, "--db", ":memory:"], &[], 1);
    assert_ne!(code, Some(0));
    let os_error = "Address already in use";
    assert_eq!(err.matches(os_error).count(), 1, "{err}");
}

/// A seed of one org whose admin token is `xoxp-stdin-admin`.
fn small_seed() -> Value {
    json!({"orgs": [{
        "id": "E0STDIN01", "name": "Stdin Corp",
        "teams": [{"id": "T0STDIN01", "name": "Main"}],
        "users": [{"id": "W0STDIN01", "name": "ada", "email": "ada@example.com",
                   "role": "admin", "teams": ["T0STDIN01"]}],
        "tokens": [{"token": "xoxp-stdin-admin", "user_id": "W0STDIN01",
                    "scopes": ["admin.users:read", "admin.users:write"]}]
    }]})
}

/// Starts `serve ARGS` with piped standard input, writes `input` on it, closes it if `close`,
/// and returns the child, its standard input (unless closed), and its first line of output
/// (empty if none).
fn serve_with_stdin(
    args: &[&str],
    input: &[u8],
    close: bool,
) -> (Child, Option<ChildStdin>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slack-sessions"))
        .arg("serve")
        .args([
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--rate-limits",
            "off",
        ])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(input); // fails only if the process has already exited
    let stdin = (!close).then_some(stdin);
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    (child, stdin, first)
}

fn base_of(line: &str) -> String {
    let api = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("a URL in {line:?}"));
    api.trim_end_matches("/api/").to_owned()
}

async fn auth_test(base: &str, token: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/api/auth.test"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits up to `limit` for the child to exit.
fn exit_within(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test]
async fn a_seed_on_stdin_and_an_exit_when_stdin_closes() {
    let seed = small_seed().to_string();
    let (mut child, stdin, line) = serve_with_stdin(
        &["--seed", "-", "--exit-on-stdin-close"],
        seed.as_bytes(),
        false,
    );
    let base = base_of(&line);
    let r = auth_test(&base, "xoxp-stdin-admin").await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["enterprise_id"], "E0STDIN01", "{r}");
    assert!(
        exit_within(&mut child, Duration::from_millis(300)).is_none(),
        "exited while its standard input was open"
    );
    drop(stdin); // what the kernel does when the parent dies, however it dies
    let status = exit_within(&mut child, Duration::from_secs(5));
    let _ = child.kill();
    assert!(
        status.is_some_and(|s| s.success()),
        "still running (or failed: {status:?}) after its standard input closed"
    );
}

#[tokio::test]
async fn without_the_flag_a_closed_stdin_is_no_reason_to_exit() {
    let seed = small_seed().to_string();
    // `cat seed.json | slack-sessions serve --seed -`
    let (mut child, _, line) = serve_with_stdin(&["--seed", "-"], seed.as_bytes(), true);
    let base = base_of(&line);
    std::thread::sleep(Duration::from_millis(300));
    let r = auth_test(&base, "xoxp-stdin-admin").await;
    assert_eq!(r["ok"], true, "{r}");
    assert!(child.try_wait().unwrap().is_none());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_bad_seed_on_stdin_is_refused_with_its_entry() {
    let mut seed = small_seed();
    seed["orgs"][0]["tokens"][0]["user_id"] = json!("W9");
    for (input, expected) in [
        (seed.to_string(), "orgs[0].tokens[0]"),
        ("{\"orgs\": [".to_owned(), "standard input"),
        (String::new(), "standard input"),
    ] {
        let (mut child, _, line) = serve_with_stdin(
            &["--seed", "-", "--exit-on-stdin-close"],
            input.as_bytes(),
            true,
        );
        let status = exit_within(&mut child, Duration::from_secs(10)).expect("it exits");
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(
            !status.success() && line.is_empty(),
            "{input:?} started: {line}"
        );
        assert!(err.contains(expected), "{input:?}: {err}");
    }
}

#[test]
fn a_second_emulator_on_the_same_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("slack-sessions.db");
    let _first = serve(&db);
    let started = Instant::now();
    let (code, out, err) = serve_output(
        &[
            "--addr",
            "127.0.0.1:0",
            "--demo",
            "--db",
            db.to_str().unwrap(),
        ],
        &[],
        1,
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "refused after {:?}",
        started.elapsed()
    );
    assert_eq!(code, Some(1), "{out}\n{err}");
    let error: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error.len(), 1, "{err}");
    assert!(error[0].contains("slack-sessions.db"), "{err}");
    assert!(error[0].contains("another emulator"), "{err}");
    assert!(!err.contains("database is locked"), "{err}");
    let hint = err.lines().find(|l| l.starts_with("hint:")).unwrap_or("");
    assert!(hint.contains("--db"), "{err}");
}

#[test]
fn demo_prints_the_exports_the_cli_needs() {
    let (_, out, _) = serve_output(
        &["--addr", "127.0.0.1:0", "--db", ":memory:", "--demo"],
        &[],
        7,
    );
    let api = base_of(out.lines().next().unwrap()) + "/api/";
    let export = format!("export SLACK_API_URL={api} SLACK_TOKEN=xoxp-demo-admin");
    assert!(out.lines().any(|l| l.trim() == export), "{out}");
    // A seed of one's own: its tokens are not printed.
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, small_seed().to_string()).unwrap();
    let (_, out, _) = serve_output(
        &[
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--seed",
            seed.to_str().unwrap(),
        ],
        &[],
        1,
    );
    assert!(!out.contains("xoxp-stdin-admin"), "{out}");
    assert!(!out.contains("SLACK_TOKEN="), "{out}");
}

/// Runs `slack-sessions ARGS` with its standard output read by nobody (closed at once).
fn with_stdout_closed(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slack-sessions"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    drop(child.stdout.take()); // the reader closes before the first line
    let status = exit_within(&mut child, Duration::from_secs(20));
    let _ = child.kill();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.and_then(|s| s.code()), err)
}

#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    for _ in 0..4 {
        let (code, err) = with_stdout_closed(&[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--demo",
        ]);
        assert!(!err.contains("panicked"), "{err}");
        assert!(!err.contains("backtrace"), "{err}");
        assert_eq!(code, Some(0), "{err}");
    }
    let server = harness::serve(&["--addr", "127.0.0.1:0", "--db", ":memory:", "--demo"]);
    for _ in 0..4 {
        let (code, err) = with_stdout_closed(&[
            "--api-url",
            &format!("{}/api/", server.base),
            "--token",
            "xoxp-demo-admin",
            "sessions",
            "list",
        ]);
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(code, Some(0), "{err}");
    }
}
