//! `slack-sessions serve` as a process: printed URL, and durability across `kill -9`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

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
