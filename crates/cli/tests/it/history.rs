//! `sessions history`, `whoami`'s audit-log line and `sessions list --last-login`, against the
//! emulator's Audit Logs API: entries made by real sign-ins (`POST /_emulator/sessions`),
//! resets, invalidations and bulk resets, read back merged, filtered and in every format.

use std::time::Duration;

use serde_json::{Value, json};
use slack_sessions_emulator::{Seed, demo};

use crate::harness::{Env, csv_rows};

const DENNIS: &str = "W0DEMO0005";
const DENNIS_EMAIL: &str = "dennis.ritchie@acme.example";
/// Another member of the Engineering workspace.
const EDSGER: &str = "W0DEMO0006";
/// And a third.
const FRANCES: &str = "W0DEMO0007";
/// An Org Admin (not an owner) whose token has `auditlogs:read`: the API refuses it still.
const ADMIN_WITH_SCOPE_TOKEN: &str = "xoxp-test-org-admin-auditlogs";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Entries have whole seconds: a pause makes the next one newer.
fn next_second() {
    std::thread::sleep(Duration::from_millis(1_100));
}

/// A POST of JSON to the emulator, as a client of it would make it.
fn post(url: &str, token: Option<&str>, body: Value) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut request = reqwest::Client::new().post(url).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let r = request.send().await.unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["ok"], true, "{url}: {answer}");
        answer
    })
}

/// A sign-in through the control plane: a new desktop session and its `user_login`.
fn sign_in(env: &Env, user: &str, ip: &str) -> u64 {
    let url = format!(
        "{}/_emulator/sessions",
        env.emu().url().trim_end_matches('/')
    );
    let body = json!({"user_id": user, "team_id": "T0DEMOENG1", "client": "desktop",
        "device_hardware": "Apple M2", "os": "OS X", "os_version": "15.1",
        "slack_client_version": "4.41.105", "ip": ip});
    post(&url, None, body)["session_id"].as_u64().unwrap()
}

/// `admin.users.session.resetBulk` by the admin, straight to the API.
fn reset_bulk(env: &Env, users: &[&str]) {
    let url = format!("{}admin.users.session.resetBulk", env.api_url());
    post(&url, Some(demo::ADMIN_TOKEN), json!({"user_ids": users}));
}

/// A command's JSON array.
fn json_rows(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    let out = env.run(&args).expect(0);
    serde_json::from_str::<Vec<Value>>(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

fn actions(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["action"].as_str().unwrap()).collect()
}

fn newest_first(rows: &[Value]) -> bool {
    rows.windows(2)
        .all(|w| w[0]["date_create"].as_u64() >= w[1]["date_create"].as_u64())
}

#[test]
fn a_users_history_merges_sign_ins_invalidations_resets_and_bulk_resets() {
    let env = Env::demo();
    let start = now();
    let session = sign_in(&env, DENNIS, "192.0.2.77");
    next_second();
    env.run(&[
        "sessions",
        "invalidate",
        &session.to_string(),
        "--user",
        DENNIS,
    ])
    .expect(0);
    next_second();
    env.run(&["sessions", "reset", DENNIS]).expect(0);
    next_second();
    reset_bulk(&env, &[FRANCES]); // not his
    reset_bulk(&env, &[EDSGER, DENNIS]);

    let rows = json_rows(&env, &["sessions", "history", DENNIS]);
    assert_eq!(
        actions(&rows[..4]),
        [
            "bulk_session_reset_by_admin",
            "user_session_reset_by_admin",
            "user_session_invalidated",
            "user_login"
        ]
    );
    let ours: Vec<&Value> = rows
        .iter()
        .filter(|r| r["date_create"].as_u64().unwrap() >= start)
        .collect();
    assert_eq!(ours.len(), 4, "the bulk reset of others only is not his");
    assert!(rows.len() > 4, "his earlier history follows: {rows:#?}");
    assert!(newest_first(&rows));
    let mut ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), rows.len(), "no entry twice");

    let (bulk, reset, invalidated, login) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    assert_eq!(bulk["actor"], demo::ADMIN_ID);
    assert_eq!(
        bulk["entity"],
        demo::ORG_ID,
        "a bulk reset is about the org"
    );
    assert_eq!(bulk["details"]["succeeded_users"], json!([EDSGER, DENNIS]));
    assert_eq!(reset["actor"], demo::ADMIN_ID);
    assert_eq!(reset["entity"], DENNIS);
    assert_eq!(invalidated["entity"], DENNIS);
    assert_eq!(invalidated["session_id"], session);
    assert_eq!(login["actor"], DENNIS);
    assert_eq!(login["session_id"], session);
    assert_eq!(login["ip"], "192.0.2.77");
    assert_eq!(login["client"], "desktop");
    assert!(
        login["time"].as_str().unwrap().ends_with('Z'),
        "{}",
        login["time"]
    );

    // By email address, the same history.
    assert_eq!(
        json_rows(&env, &["sessions", "history", DENNIS_EMAIL]),
        rows
    );
    // Two users: each entry once, the bulk reset that names both too.
    let both = json_rows(&env, &["sessions", "history", DENNIS, EDSGER]);
    assert!(newest_first(&both));
    let bulk_ids: Vec<&Value> = both.iter().filter(|r| r["id"] == bulk["id"]).collect();
    assert_eq!(bulk_ids.len(), 1);
    assert!(
        !both
            .iter()
            .any(|r| r["details"]["succeeded_users"] == json!([FRANCES]))
    );
    // Without users: the org's, the bulk reset of others included.
    let org = json_rows(&env, &["sessions", "history", "--since", "1m"]);
    assert!(
        org.iter()
            .any(|r| r["details"]["succeeded_users"] == json!([FRANCES]))
    );
}

#[test]
fn ip_filters_keep_entries_from_their_networks() {
    let env = Env::demo();
    let session = sign_in(&env, DENNIS, "192.0.2.77");
    env.run(&["sessions", "reset", DENNIS]).expect(0);
    // The reset's IP is the admin call's (loopback here): only the sign-in is in 192.0.2.0/24.
    let rows = json_rows(
        &env,
        &["sessions", "history", DENNIS, "--ip", "192.0.2.0/24"],
    );
    assert_eq!(actions(&rows), ["user_login"]);
    assert_eq!(rows[0]["session_id"], session);
    // The org's failed sign-ins from Tor exits, and its IPv6 office; either with both.
    let tor = json_rows(&env, &["sessions", "history", "--ip", "185.220.101.0/24"]);
    assert!(!tor.is_empty());
    assert!(
        tor.iter()
            .all(|r| r["ip"].as_str().unwrap().starts_with("185.220.101."))
    );
    let v6 = json_rows(&env, &["sessions", "history", "--ip", "2001:db8:ac3e::/48"]);
    assert!(!v6.is_empty());
    assert!(
        v6.iter()
            .all(|r| r["ip"].as_str().unwrap().starts_with("2001:db8:ac3e:"))
    );
    let either = json_rows(
        &env,
        &[
            "sessions",
            "history",
            "--ip",
            "185.220.101.0/24",
            "--ip",
            "2001:db8:ac3e::/48",
        ],
    );
    assert_eq!(either.len(), tor.len() + v6.len());
    let out = env
        .run(&["sessions", "history", "--ip", "10.1.2.3/8"])
        .expect(2);
    assert!(out.stderr.contains("10.0.0.0/8"), "{}", out.stderr);
}

#[test]
fn since_and_until_bound_the_history() {
    let env = Env::demo();
    let all = json_rows(&env, &["sessions", "history"]);
    assert!(all.len() > 20, "{}", all.len());
    let now = now();
    let three_days = now - 3 * 86_400;
    let date = |r: &Value| r["date_create"].as_u64().unwrap();
    let recent = json_rows(&env, &["sessions", "history", "--since", "3d"]);
    let older = json_rows(&env, &["sessions", "history", "--until", "3d"]);
    assert!(!recent.is_empty() && !older.is_empty());
    assert!(recent.iter().all(|r| date(r) + 5 >= three_days));
    assert!(older.iter().all(|r| date(r) <= three_days + 5));
    assert!(recent.len() + older.len() >= all.len());
    // Sent as Slack's `oldest` and `latest`, not filtered here.
    let asked = env.requests("audit/v1/logs");
    assert!(asked.iter().any(|r| r.args.contains_key("oldest")));
    assert!(asked.iter().any(|r| r.args.contains_key("latest")));

    // A date is that whole day, in UTC; a date-time is that second.
    let some = &all[all.len() / 2];
    let time = some["time"].as_str().unwrap();
    let day = &time[..10];
    let that_day = json_rows(
        &env,
        &["sessions", "history", "--since", day, "--until", day],
    );
    let expected: Vec<&Value> = all
        .iter()
        .filter(|r| r["time"].as_str().unwrap().starts_with(day))
        .collect();
    assert_eq!(that_day.iter().collect::<Vec<_>>(), expected);
    let from = json_rows(&env, &["sessions", "history", "--since", time]);
    assert!(from.contains(some));
    assert!(from.iter().all(|r| r["time"].as_str().unwrap() >= time));

    for (args, says) in [
        (&["--since", "2099-01-01"][..], "in the future"),
        (&["--since", "1d", "--until", "7d"], "after --until"),
        (&["--since", "yesterday"], "RFC 3339"),
        (&["--until", "2026-11-01T09:30:00"], "no offset"),
    ] {
        let mut cmd = vec!["sessions", "history"];
        cmd.extend(args);
        let out = env.run(&cmd).expect(2);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn actions_are_checked_before_anything_is_asked() {
    let env = Env::demo();
    let out = env
        .run(&["sessions", "history", DENNIS, "--action", "user_logn"])
        .expect(2);
    assert!(
        out.stderr.contains(
            "\"user_logn\": Slack's audit logs have no such action; close names: user_login"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: the session actions:"));
    assert!(env.requests("audit/v1/logs").is_empty());
    assert!(out.stdout.is_empty());

    let rows = json_rows(
        &env,
        &[
            "sessions",
            "history",
            DENNIS,
            "--action",
            "user_login,user_login_failed",
            "--action",
            "user_login",
        ],
    );
    assert!(!rows.is_empty());
    assert!(
        actions(&rows)
            .iter()
            .all(|a| ["user_login", "user_login_failed"].contains(a))
    );
    assert!(actions(&rows).contains(&"user_login_failed"));
    // Any action Slack knows may be asked for, not only the session ones.
    env.run(&["sessions", "history", "--action", "file_downloaded"])
        .expect(0);
}

/// The demo org, and an Org Admin's token (not an owner's) with `auditlogs:read`.
fn with_admin_token() -> Env {
    let mut seed = serde_json::to_value(Seed::demo()).unwrap();
    let acme = seed["orgs"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["id"] == demo::ORG_ID)
        .unwrap();
    acme["tokens"].as_array_mut().unwrap().push(json!({
        "token": ADMIN_WITH_SCOPE_TOKEN, "user_id": "W0DEMO0003",
        "scopes": ["admin.users:read", "users:read", "auditlogs:read"]
    }));
    Env::start(
        Env::builder().seed(Seed::from_json(seed).unwrap()),
        demo::ADMIN_TOKEN,
    )
}

#[test]
fn a_token_that_is_no_owners_with_the_scope_is_told_so() {
    let mut env = with_admin_token();
    for token in [demo::MEMBER_TOKEN, ADMIN_WITH_SCOPE_TOKEN] {
        env.token = token.to_owned();
        for args in [
            &["sessions", "history", DENNIS][..],
            &["sessions", "history"],
            &["sessions", "list", "--user", DENNIS, "--last-login"],
        ] {
            let out = env.run(args).expect(3);
            assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
            assert!(
                out.stderr.contains(
                    "error: the audit logs need an Org Owner's user token with the \
                     auditlogs:read scope"
                ),
                "{args:?}: {}",
                out.stderr
            );
            assert!(out.stderr.contains("invalid_authentication"));
            assert!(
                out.stderr
                    .contains("hint: the audit logs take only an Org Owner's")
            );
        }
    }
}

#[test]
fn every_output_format() {
    let env = Env::demo();
    sign_in(&env, DENNIS, "192.0.2.77");
    let base = ["sessions", "history", DENNIS];
    let json = json_rows(&env, &base);
    assert!(json.len() > 1);
    for key in [
        "id",
        "date_create",
        "time",
        "action",
        "ip",
        "client",
        "session_id",
        "actor",
        "entity",
    ] {
        assert!(json[0].get(key).is_some(), "{key}: {}", json[0]);
    }
    let run = |format: &str| {
        let mut args = base.to_vec();
        args.extend(["-o", format]);
        env.run(&args).expect(0).stdout
    };
    let csv = run("csv");
    assert!(
        csv.starts_with("time,action,ip,client,session_id,actor,entity\n"),
        "{csv}"
    );
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), json.len());
    for (row, j) in rows.iter().zip(&json) {
        assert_eq!(row["time"], j["time"].as_str().unwrap());
        assert_eq!(row["action"], j["action"].as_str().unwrap());
        assert_eq!(row["ip"], j["ip"].as_str().unwrap_or(""));
        assert_eq!(row["client"], j["client"].as_str().unwrap());
        assert_eq!(
            row["session_id"],
            j["session_id"]
                .as_u64()
                .map_or(String::new(), |s| s.to_string())
        );
        assert_eq!(row["actor"], j["actor"].as_str().unwrap());
        assert_eq!(row["entity"], j["entity"].as_str().unwrap());
    }
    let ndjson = run("ndjson");
    let lines: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, json);
    let table = run("table");
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "TIME", "ACTION", "IP", "CLIENT", "SESSION", "ACTOR", "ENTITY"
        ]
    );
    assert!(table.contains("192.0.2.77"));
    assert!(
        table.ends_with(&format!(
            "{} entries for {DENNIS}, newest first\n",
            json.len()
        )),
        "{table}"
    );
    // Nothing found: an empty list in each format.
    let none = ["sessions", "history", DENNIS, "--ip", "10.0.0.0/8"];
    assert_eq!(
        env.run(&[&none[..], &["-o", "json"]].concat())
            .expect(0)
            .stdout,
        "[]\n"
    );
    assert_eq!(
        env.run(&[&none[..], &["-o", "csv"]].concat())
            .expect(0)
            .stdout,
        "time,action,ip,client,session_id,actor,entity\n"
    );
    assert!(
        env.run(&[&none[..], &["-o", "table"]].concat())
            .expect(0)
            .stdout
            .starts_with("no entries\n0 entries")
    );
}

#[test]
fn whoami_says_whether_the_token_can_read_the_audit_logs() {
    let mut env = with_admin_token();
    let out = env.run(&["whoami", "-o", "table"]).expect(0);
    assert!(
        out.stdout
            .contains("audit logs  yes (an Org Owner's token with auditlogs:read)\n"),
        "{}",
        out.stdout
    );
    let asked = env.requests("audit/v1/logs");
    assert_eq!(asked.len(), 1, "one call");
    assert_eq!(asked[0].args["limit"], "1");
    // The exit code is whoami's own: 3 for a token that cannot list sessions (a bot's).
    for (token, code, can, why) in [
        (
            demo::ADMIN_TOKEN,
            0,
            true,
            "an Org Owner's token with auditlogs:read",
        ),
        (
            demo::READ_ONLY_TOKEN,
            0,
            false,
            "missing scope auditlogs:read",
        ),
        (
            ADMIN_WITH_SCOPE_TOKEN,
            0,
            false,
            "invalid_authentication: the audit logs take only an Org Owner's user token with auditlogs:read",
        ),
        (
            demo::BOT_TOKEN,
            3,
            false,
            "a bot token: the audit logs take an Org Owner's user token",
        ),
    ] {
        env.token = token.to_owned();
        let out = env.run(&["whoami", "-o", "json"]).expect(code);
        let json: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(json["audit_logs"], can, "{token}");
        assert_eq!(json["audit_logs_why"], why, "{token}");
    }
}

#[test]
fn last_login_shows_when_each_session_signed_in() {
    let env = Env::demo();
    let before = now();
    let session = sign_in(&env, DENNIS, "192.0.2.77");
    let after = now();
    env.emu().clear_requests();
    let rows = json_rows(
        &env,
        &["sessions", "list", "--user", DENNIS, "--last-login"],
    );
    assert!(rows.len() > 1, "{rows:#?}");
    assert_eq!(
        env.requests("audit/v1/logs").len(),
        1,
        "one read of the logs for the user, not one per session"
    );
    let ours = rows.iter().find(|r| r["session_id"] == session).unwrap();
    let signed_in = json_rows(
        &env,
        &["sessions", "history", DENNIS, "--action", "user_login"],
    );
    let entry = signed_in
        .iter()
        .find(|r| r["session_id"] == session)
        .unwrap();
    let at = entry["date_create"].as_u64().unwrap();
    assert!((before..=after).contains(&at));
    assert_eq!(ours["last_login"], entry["time"]);
    // The demo logs every live session's sign-in: each has its own.
    for r in &rows {
        let login = signed_in
            .iter()
            .find(|e| e["session_id"] == r["session_id"])
            .unwrap_or_else(|| panic!("{r}"));
        assert_eq!(r["last_login"], login["time"]);
    }
    // As a column, in a table and in CSV.
    let table = env
        .run(&[
            "sessions",
            "list",
            "--user",
            DENNIS,
            "--last-login",
            "-o",
            "table",
        ])
        .expect(0)
        .stdout;
    assert!(
        table.lines().next().unwrap().ends_with("LAST LOGIN"),
        "{table}"
    );
    let line = table
        .lines()
        .find(|l| l.starts_with(&session.to_string()))
        .unwrap();
    assert!(
        line.ends_with(ours["last_login"].as_str().unwrap()),
        "{line}"
    );
    let csv = env
        .run(&[
            "sessions",
            "list",
            "--user",
            DENNIS,
            "--last-login",
            "-o",
            "csv",
        ])
        .expect(0)
        .stdout;
    let csv = csv_rows(&csv);
    let row = csv
        .iter()
        .find(|r| r["session_id"] == session.to_string())
        .unwrap();
    assert_eq!(row["last_login"], ours["last_login"].as_str().unwrap());
    // Without it, no column and no read of the logs.
    env.emu().clear_requests();
    let plain = json_rows(&env, &["sessions", "list", "--user", DENNIS]);
    assert!(plain.iter().all(|r| r.get("last_login").is_none()));
    assert!(env.requests("audit/v1/logs").is_empty());
    // It needs --user.
    env.run(&["sessions", "list", "--last-login"]).expect(2);
}
