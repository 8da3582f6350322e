//! Hostile data from Slack: a member sets their own name, a client reports its own OS, version
//! and device, so every string the CLI prints may be written against the admin. An org whose
//! names, emails, OS, version and device strings hold spreadsheet formulas, HTML and terminal
//! control sequences, and every CSV and every table the CLI writes from it.

use serde_json::{Value, json};
use slack_sessions_emulator::Seed;

use crate::harness::{Env, Run};

pub const TOKEN: &str = "xoxp-hostile-admin";
pub const ORG: &str = "E0HOST0001";
pub const TEAM: &str = "T0HOST001";
/// A workspace of ordinary sessions, each from a network of its own.
pub const BRANCH: &str = "T0HOST002";

/// The org's name, as `auth.test` gives it: a window title (OSC 0) and markup.
pub const ORG_NAME: &str = "Evil\u{1b}]0;owned\u{7} <b>Corp</b>";
/// A formula as a member's full name.
pub const HYPERLINK: &str = "=HYPERLINK(\"http://evil.example/\",\"click\")";
/// Markup as a member's full name, and as a device.
pub const SCRIPT: &str = "<script>document.title='pwned'</script>";
pub const IMG: &str = "\"><img src=x onerror=\"document.title='pwned'\">";
/// OSC 52: writes the clipboard.
pub const CLIPBOARD: &str = "\u{1b}]52;c;cm0gLXJmIH4=\u{7}";
/// Networks of the branch's sessions: more than a table or a chart shows one by one.
pub const BRANCH_NETWORKS: usize = 17;

fn device(hw: &str, os: &str, os_version: &str, app: Option<&str>, ip: &str) -> Value {
    let mut d = json!({"device_hardware": hw, "os": os, "os_version": os_version, "ip": ip});
    if let Some(app) = app {
        d["slack_client_version"] = app.into();
    }
    d
}

/// The hostile org: its members' names and emails and their sessions' strings are the
/// attacks; one member has a full name (`Grace Hopper`) and one only a display name (`Lin`),
/// for the NAME column.
pub fn seed() -> Seed {
    let user = |id: &str, handle: &str, real: &str, display: &str, email: &str| {
        json!({"id": id, "name": handle, "real_name": real, "display_name": display,
               "email": email, "teams": [TEAM, BRANCH]})
    };
    let session = |id: u64, user: &str, team: &str, client: &str, created: Value| json!({"session_id": id, "user_id": user, "team_id": team, "client": client, "created": created});
    let mut sessions = vec![
        // The desktop app on OS X 14 (denied by the test's policy), clearing the screen.
        session(
            301,
            "W0HOST001",
            TEAM,
            "desktop",
            device(
                IMG,
                "OS X",
                "14.6\u{1b}[2J",
                Some("4.41.105"),
                "198.51.100.10",
            ),
        ),
        // A browser whose OS moves the cursor up over the line above, with a formula.
        session(
            302,
            "W0HOST002",
            TEAM,
            "web",
            device(
                SCRIPT,
                "Windows\r\u{1b}[1A",
                "@SUM(1)",
                Some("132.0"),
                "192.0.2.5",
            ),
        ),
        // The mobile app, a formula as OS version, a tab-led version, a command as device.
        session(
            303,
            "W0HOST003",
            TEAM,
            "mobile",
            device(
                "+cmd|' /C calc'!A0",
                "iOS",
                "=1+1",
                Some("\t24.11.10"),
                "2001:db8:ac3e::1",
            ),
        ),
        // An old desktop app (below the policy's minimum) whose version writes the clipboard;
        // DEL and a C1 CSI in its OS.
        session(
            304,
            "W0HOST004",
            TEAM,
            "desktop",
            device(
                "\r=cmd",
                "Linux\u{7f}\u{9b}31m",
                "-2+3",
                Some(&format!("4.9.1{CLIPBOARD}")),
                "203.0.113.9",
            ),
        ),
        // Ordinary: Grace Hopper in a browser; a session at the org level.
        session(
            305,
            "W0HOST005",
            TEAM,
            "web",
            device("hw", "Windows", "11", Some("131.0"), "198.51.100.20"),
        ),
        session(
            306,
            "W0HOST005",
            ORG,
            "desktop",
            device("hw", "OS X", "15.1", Some("4.41.105"), "198.51.100.21"),
        ),
        // No version: of no kind. Its OS version is a negative number.
        session(
            307,
            "W0HOST003",
            TEAM,
            "web",
            device("hw", "Linux", "-1", None, "198.51.100.22"),
        ),
    ];
    for i in 0..BRANCH_NETWORKS {
        sessions.push(session(
            400 + i as u64,
            "W0HOST005",
            BRANCH,
            "desktop",
            device(
                "hw",
                "OS X",
                "15.1",
                Some("4.41.105"),
                &format!("10.0.{i}.1"),
            ),
        ));
    }
    let seed = json!({"orgs": [{
        "id": ORG, "name": ORG_NAME,
        "teams": [{"id": TEAM, "name": "HQ =1+1"}, {"id": BRANCH, "name": "Branch"}],
        "users": [
            {"id": "W0ADMIN01", "name": "admin", "email": "admin@h.example", "role": "owner", "teams": [TEAM, BRANCH]},
            user("W0HOST001", "hyperlink", HYPERLINK, "hl", "-3+4@h.example"),
            user("W0HOST002", "script", SCRIPT, IMG, "+cmd@h.example"),
            user("W0HOST003", "clipboard", &format!("@SUM(1){CLIPBOARD}"), "", "=1+1@h.example"),
            user("W0HOST004", "lin.handle", "", "Lin", "lin@h.example"),
            user("W0HOST005", "grace", "Grace Hopper", "grace", "grace@h.example"),
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

/// A policy whose rules catch the hostile sessions, their `why` quoting the hostile strings;
/// a rule's name from the file is a formula too.
pub const POLICY: &str = r#"
[guardrails]
max_share = 1.0
cooldown = "0s"

[[rule]]
name = "=old-desktop"
min_client_version = { desktop = "4.36" }

[[rule]]
name = "@no-os-x-14"
deny_os = ["OS X 14"]
"#;

/// Leavers: the hostile members, by their hostile emails, and a line that names nobody.
pub const LEAVERS: &str = "-3+4@h.example\n+cmd@h.example\n=1+1@h.example\n@SUM(1)\n";

/// Whether a CSV cell could be read as a formula (OWASP's first characters), a plain number
/// aside.
fn formula(cell: &str) -> bool {
    let number = cell
        .strip_prefix('-')
        .is_some_and(|n| !n.is_empty() && n.parse::<f64>().is_ok() && !n.contains(['e', 'E']));
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !number
}

/// Every cell of a CSV text, with where it is.
fn cells(what: &str, text: &str) -> Vec<(String, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (r, record) in reader.records().enumerate() {
        let record = record.unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
        for (c, cell) in record.iter().enumerate() {
            out.push((format!("{what} row {r} cell {c}"), cell.to_owned()));
        }
    }
    out
}

/// Asserts that no cell of a CSV could be a formula, and that the hostile values are there
/// (neutralised, `'` in front), so the check is not vacuous.
#[track_caller]
fn assert_defused(what: &str, text: &str, expect: &[&str]) {
    let cells = cells(what, text);
    let bad: Vec<&(String, String)> = cells.iter().filter(|(_, c)| formula(c)).collect();
    assert!(bad.is_empty(), "{what}: formulas {bad:#?}\n{text}");
    for want in expect {
        assert!(
            cells.iter().any(|(_, c)| c == want),
            "{what}: no cell {want:?}\n{text}"
        );
    }
}

#[test]
fn every_csv_the_cli_writes_defuses_formulas() {
    let env = env();
    let hyperlink = format!("'{HYPERLINK}");
    let list = env.run(&["sessions", "list", "-o", "csv"]).expect(0).stdout;
    assert_defused(
        "sessions list",
        &list,
        &[
            &hyperlink,
            "'-3+4@h.example",
            "'+cmd@h.example",
            "'@SUM(1)",
            "'=1+1",
            "'\t24.11.10",
            "'\r=cmd",
            "'-2+3",
            "'+cmd|' /C calc'!A0",
        ],
    );
    // A negative number stays a number.
    assert!(list.contains(",-1,"), "{list}");
    let summary = env
        .run(&["sessions", "summary", "-o", "csv"])
        .expect(0)
        .stdout;
    assert_defused(
        "sessions summary",
        &summary,
        &[
            &hyperlink,
            "'-3+4@h.example",
            &format!("'@SUM(1){CLIPBOARD}"),
            "'\t24.11.10",
        ],
    );
    let whoami = env.run(&["whoami", "-o", "csv"]).expect(0).stdout;
    assert_defused("whoami", &whoami, &[]);
    env.write("policy.toml", POLICY);
    let enforce = env
        .run(&["enforce", "policy.toml", "--dry-run", "-o", "csv"])
        .expect(0)
        .stdout;
    assert_defused(
        "enforce",
        &enforce,
        &["'=old-desktop", "'@no-os-x-14", "'-3+4@h.example"],
    );
    // A bulk invalidation: its output and its report.
    let invalidate = env
        .run(&[
            "sessions",
            "invalidate",
            "--team",
            TEAM,
            "--yes",
            "--report",
            "ended.csv",
            "-o",
            "csv",
        ])
        .expect(0)
        .stdout;
    for (what, text) in [
        ("invalidate output", invalidate),
        ("invalidate report", env.read("ended.csv")),
    ] {
        assert_defused(
            what,
            &text,
            &[&hyperlink, "'+cmd@h.example", "'=1+1", "'-2+3"],
        );
    }
    // Offboarding: the input's lines come back in the report.
    env.write("leavers.txt", LEAVERS);
    let offboard = env.run(&[
        "offboard",
        "leavers.txt",
        "--yes",
        "--report",
        "leavers.csv",
        "-o",
        "csv",
    ]);
    assert!(
        [0, 8].contains(&offboard.code),
        "{}\n{}",
        offboard.stdout,
        offboard.stderr
    );
    for (what, text) in [
        ("offboard output", offboard.stdout),
        ("offboard report", env.read("leavers.csv")),
    ] {
        assert_defused(
            what,
            &text,
            &[
                "'-3+4@h.example",
                "'+cmd@h.example",
                "'=1+1@h.example",
                "'@SUM(1)",
            ],
        );
    }
}

/// The characters a terminal may act on: C0 (but the line ends of the output itself), DEL,
/// C1.
fn controls(text: &str) -> Vec<(usize, char)> {
    text.char_indices()
        .filter(|(_, c)| *c != '\n' && c.is_control())
        .collect()
}

/// Asserts that a run printed no control character on either stream.
#[track_caller]
fn assert_inert(what: &str, run: &Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let found = controls(text);
        assert!(
            found.is_empty(),
            "{what} ({stream}): control characters {found:?}\n{}",
            text.escape_debug()
        );
    }
}

/// The cells of a list table's rows under `header`, read at the header's column in the first
/// line: the rows are aligned under their headers only if every column was sized on what is
/// printed.
fn column(table: &str, header: &str) -> Vec<String> {
    let mut lines = table.lines();
    let head = lines.next().unwrap();
    let at = head
        .find(header)
        .unwrap_or_else(|| panic!("{header}: {head}"));
    let at = head[..at].chars().count();
    // The rows: a session id, then a user id (the summary line under them is not one).
    lines
        .take_while(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|u| u.starts_with('W'))
        })
        .map(|l| {
            l.chars()
                .skip(at)
                .take_while(|c| *c != ' ')
                .collect::<String>()
        })
        .collect()
}

#[test]
fn every_table_shows_control_characters_instead_of_sending_them() {
    let env = env();
    let list = env
        .run(&["sessions", "list", "--team", TEAM, "-o", "table"])
        .expect(0);
    assert_inert("sessions list", &list);
    assert!(
        list.stdout.contains("14.6\\u{1b}[2J") && list.stdout.contains("4.9.1\\u{1b}]52;c;"),
        "escapes are shown: {}",
        list.stdout
    );
    // Every row's CLIENT cell is under its header: widths are those of the escaped text.
    let kinds = column(&list.stdout, "CLIENT");
    assert_eq!(kinds.len(), 6, "{}", list.stdout);
    assert!(
        kinds
            .iter()
            .all(|k| ["desktop", "mobile", "web", "unknown"].contains(&k.as_str())),
        "{kinds:?}\n{}",
        list.stdout
    );
    let summary = env.run(&["sessions", "summary", "-o", "table"]).expect(0);
    assert_inert("sessions summary", &summary);
    env.write("policy.toml", POLICY);
    let enforce = env
        .run(&["enforce", "policy.toml", "--dry-run", "-o", "table"])
        .expect(0);
    assert_inert("enforce", &enforce);
    // The `why` column quotes the hostile version and OS version, escaped.
    assert!(
        enforce
            .stdout
            .contains("Slack 4.9.1\\u{1b}]52;c;cm0gLXJmIH4=\\u{7} is below 4.36")
            && enforce.stdout.contains("OS X 14.6\\u{1b}[2J is denied"),
        "{}",
        enforce.stdout
    );
    let whoami = env.run(&["whoami", "-o", "table"]).expect(0);
    assert_inert("whoami", &whoami);
    assert!(
        whoami.stdout.contains("Evil\\u{1b}]0;owned\\u{7}"),
        "{}",
        whoami.stdout
    );
    let invalidate = env
        .run(&[
            "sessions",
            "invalidate",
            "--team",
            TEAM,
            "--dry-run",
            "-o",
            "table",
        ])
        .expect(0);
    assert_inert("sessions invalidate --dry-run", &invalidate);
    env.write("leavers.txt", LEAVERS);
    let offboard = env.run(&["offboard", "leavers.txt", "--dry-run", "-o", "table"]);
    assert_inert("offboard --dry-run", &offboard);
    // The runs themselves, with their reports' tables.
    let invalidate = env
        .run(&[
            "sessions",
            "invalidate",
            "--team",
            TEAM,
            "--yes",
            "--report",
            "ended.csv",
            "-o",
            "table",
        ])
        .expect(0);
    assert_inert("sessions invalidate", &invalidate);
    let offboard = env.run(&[
        "offboard",
        "leavers.txt",
        "--yes",
        "--report",
        "leavers.csv",
        "-o",
        "table",
    ]);
    assert_inert("offboard", &offboard);
    assert!(
        offboard.stdout.contains("@SUM(1)"),
        "the line that names nobody is listed: {}",
        offboard.stdout
    );
}

#[test]
fn error_messages_show_the_control_characters_they_quote() {
    let env = env();
    // A file's name and a policy's line, quoted by errors and notes.
    let missing = env.run(&["offboard", "leavers\u{1b}]0;owned\u{7}.txt", "--yes"]);
    assert_ne!(missing.code, 0);
    assert_inert("offboard, a file that is not there", &missing);
    assert!(
        missing.stderr.contains("leavers\\u{1b}]0;owned\\u{7}.txt"),
        "{}",
        missing.stderr
    );
    env.write(
        "bad.toml",
        "[[rule]]\nname = \"x\"\nallowed_networks = [\"10.1.2.3/8\u{1b}[2J\"]\n",
    );
    let bad = env.run(&["enforce", "bad.toml", "--dry-run"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_inert("enforce, a bad policy", &bad);
}

#[test]
fn the_name_column_is_the_full_name_else_the_display_name() {
    let env = env();
    let list: Vec<Value> = serde_json::from_str(
        &env.run(&["sessions", "list", "--team", TEAM, "-o", "json"])
            .expect(0)
            .stdout,
    )
    .unwrap();
    let name_of = |id: u64| {
        list.iter()
            .find(|s| s["session_id"] == id)
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(name_of(305), "Grace Hopper");
    assert_eq!(
        name_of(304),
        "Lin",
        "no full name: the display name, not the handle"
    );
    assert_eq!(name_of(301), HYPERLINK);
    let table = env
        .run(&["sessions", "list", "--team", TEAM, "-o", "table"])
        .expect(0)
        .stdout;
    let names = column(&table, "NAME");
    assert!(
        names.contains(&"Grace".to_owned()) && names.contains(&"Lin".to_owned()),
        "{table}"
    );
    assert!(!table.contains("lin.handle"), "{table}");
}
