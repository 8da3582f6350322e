//! `sessions list` filters (network incl. IPv6 and the recent IP, OS, client version, client
//! kind, workspace), names and emails, and bulk `sessions invalidate`: against an org whose
//! every session is known.

use serde_json::{Value, json};
use slack_sessions_emulator::Seed;

use crate::harness::{Env, csv_rows};

pub const TOKEN: &str = "xoxp-inv-admin";
pub const TEAM_A: &str = "T0INVA001";
pub const TEAM_B: &str = "T0INVB001";
pub const ORG: &str = "E0INV0001";

fn device(os: &str, os_version: &str, app: Option<&str>, ip: &str) -> Value {
    let mut d = json!({"device_hardware": "hw", "os": os, "os_version": os_version, "ip": ip});
    if let Some(app) = app {
        d["slack_client_version"] = app.into();
    }
    d
}

/// Eight sessions, each there to be found (or not) by one filter.
pub fn seed() -> Seed {
    let user = |id: &str, name: &str| json!({"id": id, "name": name, "email": format!("{name}@inv.example"), "teams": [TEAM_A, TEAM_B]});
    let session = |id: u64,
                   user: &str,
                   team: &str,
                   client: &str,
                   created: Value,
                   recent: Option<Value>| {
        let mut s = json!({"session_id": id, "user_id": user, "team_id": team, "client": client, "created": created});
        if let Some(r) = recent {
            s["recent"] = r;
        }
        s
    };
    let sessions = vec![
        // Office, old desktop client.
        session(
            101,
            "W0000001",
            TEAM_A,
            "desktop",
            device("OS X", "14.6", Some("4.9.1"), "198.51.100.10"),
            None,
        ),
        // Began outside, last seen in the office.
        session(
            102,
            "W0000001",
            TEAM_A,
            "mobile",
            device("iOS", "17.1", Some("23.08.10"), "192.0.2.5"),
            Some(device("iOS", "17.1", Some("23.08.10"), "198.51.100.20")),
        ),
        // The IPv6 office, in a browser (its version is the browser's).
        session(
            103,
            "W0000002",
            TEAM_B,
            "web",
            device("Windows", "10", Some("109.0"), "2001:db8:ac3e:1::5"),
            None,
        ),
        // An old client, since updated: the recent version counts.
        session(
            104,
            "W0000002",
            ORG,
            "desktop",
            device("Windows", "11", Some("4.8.0"), "203.0.113.9"),
            Some(device("Windows", "11", Some("4.41.105"), "203.0.113.9")),
        ),
        // No version at all: a browser or the desktop app, the record does not say.
        session(
            105,
            "W0000003",
            TEAM_A,
            "web",
            device("Linux", "6.8", None, "192.0.2.77"),
            None,
        ),
        // IPv6 outside.
        session(
            106,
            "W0000003",
            TEAM_B,
            "mobile",
            device("Android", "12", Some("23.06.10.0"), "2600:1700::1"),
            None,
        ),
        session(
            107,
            "W0000004",
            TEAM_A,
            "desktop",
            device("OS X", "12.7.6", Some("4.29.149"), "198.51.100.11"),
            None,
        ),
        session(
            108,
            "W0ADMIN01",
            TEAM_A,
            "desktop",
            device("OS X", "15.1", Some("4.41.105"), "198.51.100.1"),
            None,
        ),
    ];
    let seed = json!({"orgs": [{
        "id": ORG, "name": "Inventory Corp",
        "teams": [{"id": TEAM_A, "name": "A"}, {"id": TEAM_B, "name": "B"}],
        "users": [
            {"id": "W0ADMIN01", "name": "admin", "email": "admin@inv.example", "role": "owner", "teams": [TEAM_A, TEAM_B]},
            user("W0000001", "ada"), user("W0000002", "grace"), user("W0000003", "alan"), user("W0000004", "edsger"),
        ],
        "tokens": [{"token": TOKEN, "user_id": "W0ADMIN01",
                    "scopes": ["admin.users:read", "admin.users:write", "users:read", "users:read.email"]}],
        "sessions": sessions,
    }]});
    Seed::from_json(seed).expect("a valid seed")
}

pub fn env() -> Env {
    Env::start(Env::builder().seed(seed()), TOKEN)
}

/// The session ids a list prints (JSON).
fn ids(env: &Env, filters: &[&str]) -> Vec<u64> {
    let mut args = vec!["sessions", "list", "-o", "json"];
    args.extend_from_slice(filters);
    let out = env.run(&args).expect(0);
    let list: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let mut ids: Vec<u64> = list
        .iter()
        .map(|s| s["session_id"].as_u64().unwrap())
        .collect();
    ids.sort();
    ids
}

#[test]
fn each_filter_finds_its_sessions() {
    let env = env();
    let office = ["--ip", "198.51.100.0/24"];
    // 102 began outside: its recent IP is in the office.
    assert_eq!(ids(&env, &office), [101, 102, 107, 108]);
    assert_eq!(ids(&env, &["--ip", "2001:db8::/32"]), [103]);
    assert_eq!(
        ids(&env, &["--ip", "2001:db8::/32", "--ip", "203.0.113.0/24"]),
        [103, 104]
    );
    assert_eq!(ids(&env, &["--ip", "2600:1700::/28"]), [106]);
    assert_eq!(
        ids(&env, &["--ip", "192.0.2.5"]),
        [102],
        "the created IP counts too"
    );
    assert_eq!(ids(&env, &["--os", "windows"]), [103, 104]);
    assert_eq!(
        ids(&env, &["--os", "os x", "--os", "LINUX"]),
        [101, 105, 107, 108]
    );
    // 4.9 < 4.10 by numbers; 104's recent version (4.41.105) counts, not its created one;
    // 105 has no version and matches no --client-version-below.
    assert_eq!(ids(&env, &["--client-version-below", "4.10"]), [101]);
    assert_eq!(ids(&env, &["--client-version-below", "4.30"]), [101, 107]);
    assert_eq!(
        ids(&env, &["--client", "web", "--client-version-below", "110"]),
        [103]
    );
    // The client kind: the OS for mobile; the desktop app's version (below 10) or a browser's;
    // 105, with no version, is of no kind (it is neither guessed desktop nor web).
    assert_eq!(ids(&env, &["--client", "mobile"]), [102, 106]);
    assert_eq!(ids(&env, &["--client", "desktop"]), [101, 104, 107, 108]);
    assert_eq!(ids(&env, &["--client", "web"]), [103]);
    assert_eq!(ids(&env, &["--team", TEAM_B]), [103, 106]);
    assert_eq!(ids(&env, &["--team", ORG]), [104]);
    // Every filter together.
    assert_eq!(
        ids(
            &env,
            &[
                "--client",
                "desktop",
                "--ip",
                "198.51.100.0/24",
                "--client-version-below",
                "4.30",
                "--team",
                TEAM_A
            ]
        ),
        [101, 107]
    );
    assert_eq!(
        ids(
            &env,
            &["--user", "ada@inv.example", "--ip", "198.51.100.0/24"]
        ),
        [101, 102]
    );
}

#[test]
fn bad_filters_are_refused_clearly() {
    let env = env();
    let out = env
        .run(&["sessions", "list", "--team", "T0NOPE0001"])
        .expect(4);
    assert!(
        out.stderr.contains("no workspace or org with this id"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    for (args, says) in [
        (vec!["--ip", "10.1.2.3/8"], "did you mean 10.0.0.0/8"),
        (vec!["--ip", "office"], "not a network"),
        (vec!["--client-version-below", "4.x"], "not a version"),
        (vec!["--client", "tablet"], "invalid value"),
    ] {
        let mut a = vec!["sessions", "list"];
        a.extend(args);
        let out = env.run(&a).expect(2);
        assert!(out.stderr.contains(says), "{a:?}: {}", out.stderr);
    }
}

#[test]
fn output_has_names_both_ips_and_the_os_apart() {
    let env = env();
    let csv = env
        .run(&[
            "sessions",
            "list",
            "--ip",
            "198.51.100.0/24",
            "--client-version-below",
            "4.30",
            "-o",
            "csv",
        ])
        .expect(0)
        .stdout;
    insta::assert_snapshot!("inventory_list_csv", csv);
    let rows = csv_rows(&csv);
    assert_eq!(rows[0]["name"], "ada");
    assert_eq!(rows[0]["email"], "ada@inv.example");
    let moved = env
        .run(&["sessions", "list", "--ip", "192.0.2.5", "-o", "csv"])
        .expect(0)
        .stdout;
    let row = &csv_rows(&moved)[0];
    assert_eq!(
        (row["created_ip"].as_str(), row["recent_ip"].as_str()),
        ("192.0.2.5", "198.51.100.20")
    );
    assert_eq!(
        (row["os"].as_str(), row["os_version"].as_str()),
        ("iOS", "17.1")
    );
    assert_eq!(row["client"], "mobile");
    let table = env
        .run(&["sessions", "list", "--os", "windows", "-o", "table"])
        .expect(0)
        .stdout;
    insta::assert_snapshot!("inventory_list_table", table);
    // --no-names: no users.list call, no name columns.
    env.emu().clear_requests();
    let json = env
        .run(&[
            "sessions",
            "list",
            "--os",
            "windows",
            "--no-names",
            "-o",
            "json",
        ])
        .expect(0)
        .stdout;
    let list: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert!(list.iter().all(|s| s.get("name").is_none()));
    let kinds: Vec<(u64, &str)> = list
        .iter()
        .map(|s| {
            (
                s["session_id"].as_u64().unwrap(),
                s["client"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [(103, "web"), (104, "desktop")]);
    assert!(env.requests("users.list").is_empty());
    // Names are read once, with one users.list walk, however many sessions a user has.
    env.emu().clear_requests();
    env.run(&["sessions", "list", "-o", "ndjson"]).expect(0);
    assert_eq!(env.requests("users.list").len(), 1);
}

/// The sessions ids still in the org.
pub fn remaining(env: &Env) -> Vec<u64> {
    let mut ids: Vec<u64> = env.export().orgs[0]
        .sessions
        .iter()
        .map(|s| s.session_id)
        .collect();
    ids.sort();
    ids
}

/// Successful invalidate calls, by session id.
pub fn invalidated(env: &Env) -> std::collections::BTreeMap<u64, usize> {
    let mut out = std::collections::BTreeMap::new();
    for e in env.requests("admin.users.session.invalidate") {
        if e.status == 200 && e.error.is_none() {
            let id = e.args["session_id"]
                .as_u64()
                .or_else(|| e.args["session_id"].as_str().and_then(|s| s.parse().ok()));
            *out.entry(id.unwrap()).or_default() += 1;
        }
    }
    out
}

#[test]
fn bulk_invalidation_needs_a_filter_shows_a_plan_and_ends_exactly_the_matches() {
    let env = env();
    let out = env.run(&["sessions", "invalidate", "--yes"]).expect(2);
    assert!(
        out.stderr.contains("needs at least one of --ip"),
        "{}",
        out.stderr
    );
    let out = env
        .run(&["sessions", "invalidate", "--all", "--os", "ios", "--yes"])
        .expect(2);
    assert!(out.stderr.contains("--all"), "{}", out.stderr);
    // Without a terminal and without --yes: refused, nothing changed, no journal left.
    let filters = ["--ip", "2001:db8::/32", "--ip", "192.0.2.0/24"];
    let mut args = vec!["sessions", "invalidate", "--report", "out.csv"];
    args.extend(filters);
    env.run(&args).expect(2);
    assert!(!env.path("out.csv.journal").exists());
    // The dry run lists the sessions and changes nothing.
    let mut dry = args.clone();
    dry.extend(["--dry-run", "-o", "csv"]);
    let plan = env.run(&dry).expect(0).stdout;
    insta::assert_snapshot!("inventory_invalidate_dry_run_csv", plan);
    assert_eq!(
        csv_rows(&plan)
            .iter()
            .map(|r| r["session_id"].clone())
            .collect::<Vec<_>>(),
        ["102", "103", "105"]
    );
    assert!(env.requests("admin.users.session.invalidate").is_empty());
    assert!(!env.path("out.csv").exists() && !env.path("out.csv.journal").exists());
    // The run ends exactly those, once each, verifies and reports.
    let mut run = args.clone();
    run.extend(["--yes", "-o", "json"]);
    let out = env.run(&run).expect(0);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"], json!({"done": 3}), "{}", out.stdout);
    assert_eq!(
        invalidated(&env).into_iter().collect::<Vec<_>>(),
        [(102, 1), (103, 1), (105, 1)]
    );
    assert_eq!(remaining(&env), [101, 104, 106, 107, 108]);
    // Each call names the session's user (the current docs' form).
    for e in env.requests("admin.users.session.invalidate") {
        assert!(e.args.get("user_id").is_some(), "{:?}", e.args);
    }
    let report = csv_rows(&env.read("out.csv"));
    assert_eq!(report.len(), 3);
    assert!(report.iter().all(|r| r["result"] == "done"));
    // Run again: finished already, nothing sent.
    env.run(&run).expect(0);
    assert_eq!(invalidated(&env).values().sum::<usize>(), 3);
}

#[test]
fn bulk_invalidation_with_all_ends_every_session_and_reports_refusals() {
    let env = env();
    let out = env.run(&[
        "sessions",
        "invalidate",
        "--all",
        "--yes",
        "--report",
        "all.json",
        "-o",
        "table",
    ]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(remaining(&env).is_empty());
    let doc: Value = serde_json::from_str(&env.read("all.json")).unwrap();
    assert_eq!(doc["sessions"].as_array().unwrap().len(), 8);
    assert_eq!(doc["complete"], true);
}

/// The emulator knows each demo session's real client (the seed's `client`); the CLI sees only
/// what Slack sends. `--client` must find exactly the seed's sessions of each kind.
#[test]
fn the_client_kind_read_from_the_wire_is_the_seeds() {
    let env = Env::demo();
    let org = env.export().orgs[0].clone();
    // Slack lists no bot's sessions.
    let bots: Vec<&str> = org
        .users
        .iter()
        .filter(|u| u.is_bot)
        .map(|u| u.id.as_str())
        .collect();
    for kind in ["mobile", "desktop", "web"] {
        let mut want: Vec<u64> = org
            .sessions
            .iter()
            .filter(|s| s.client.as_str() == kind && !bots.contains(&s.user_id.as_str()))
            .map(|s| s.session_id)
            .collect();
        want.sort();
        assert!(
            want.len() > 10,
            "the demo has {} {kind} sessions",
            want.len()
        );
        assert_eq!(ids(&env, &["--client", kind, "--no-names"]), want, "{kind}");
    }
}
