//! Every command's output in every format, against the demo org (deterministic).

use serde_json::Value;

use crate::harness::{Env, reset_counts};

const FORMATS: [&str; 4] = ["table", "json", "ndjson", "csv"];

/// Dennis Ritchie, a member with four sessions on one team (two mobile, two web).
const DENNIS: &str = "W0DEMO0005";
const DENNIS_EMAIL: &str = "dennis.ritchie@acme.example";

#[test]
fn whoami() {
    let env = Env::demo();
    for f in FORMATS {
        let out = env.run(&["whoami", "-o", f]).expect(0);
        insta::assert_snapshot!(format!("whoami_{f}"), out.stdout);
    }
    // Piped, the default is JSON.
    let out = env.run(&["whoami"]).expect(0);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["user_id"], "W0DEMO0002");
    assert_eq!(json["enterprise_id"], "E0DEMO0001");
    // A read-only token is told what it cannot do.
    let mut env = env;
    env.token = slack_sessions_emulator::demo::READ_ONLY_TOKEN.to_owned();
    let out = env.run(&["whoami", "-o", "json"]).expect(0);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        json["missing_scopes"],
        serde_json::json!(["admin.users:write", "users:read.email"])
    );
}

#[test]
fn sessions_list_of_one_user() {
    let env = Env::demo();
    for f in FORMATS {
        let out = env
            .run(&["sessions", "list", "--user", DENNIS, "-o", f])
            .expect(0);
        insta::assert_snapshot!(format!("sessions_list_user_{f}"), out.stdout);
    }
    // By email, the same sessions.
    let by_id = env.run(&["sessions", "list", "--user", DENNIS, "-o", "csv"]);
    let by_email = env.run(&["sessions", "list", "--user", DENNIS_EMAIL, "-o", "csv"]);
    assert_eq!(by_id.stdout, by_email.stdout);
    assert_eq!(env.requests("users.lookupByEmail").len(), 1);
    // Filtered by client kind.
    let out = env
        .run(&[
            "sessions", "list", "--user", DENNIS, "--client", "mobile", "-o", "table",
        ])
        .expect(0);
    insta::assert_snapshot!("sessions_list_user_mobile_table", out.stdout);
}

#[test]
fn sessions_list_follows_every_page() {
    let env = Env::demo();
    let expected: usize = {
        let org = &env.export().orgs[0];
        let bots: Vec<&str> = org
            .users
            .iter()
            .filter(|u| u.is_bot)
            .map(|u| u.id.as_str())
            .collect();
        org.sessions
            .iter()
            .filter(|s| !bots.contains(&s.user_id.as_str()))
            .count()
    };
    assert!(expected > 100, "{expected}");
    let out = env
        .run(&["sessions", "list", "--page-size", "7", "-o", "ndjson"])
        .expect(0);
    let ids: std::collections::BTreeSet<u64> = out
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["session_id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids.len(), expected, "every session once");
    assert_eq!(out.stdout.lines().count(), expected);
    let pages = env.requests("admin.users.session.list").len();
    assert_eq!(pages, expected.div_ceil(7));
    // --limit stops early, and says so under a table.
    let out = env
        .run(&["sessions", "list", "--limit", "4", "-o", "table"])
        .expect(0);
    insta::assert_snapshot!("sessions_list_org_limit_table", out.stdout);
    // A workspace alone: the org is walked and filtered.
    let out = env
        .run(&["sessions", "list", "--team", "T0DEMOSAL1", "-o", "json"])
        .expect(0);
    let list: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|s| s["team_id"] == "T0DEMOSAL1"));
}

fn dennis_sessions(env: &Env) -> Vec<u64> {
    let out = env
        .run(&["sessions", "list", "--user", DENNIS, "-o", "json"])
        .expect(0);
    let list: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    list.iter()
        .map(|s| s["session_id"].as_u64().unwrap())
        .collect()
}

#[test]
fn sessions_invalidate() {
    let env = Env::demo();
    let ids = dennis_sessions(&env);
    assert_eq!(ids.len(), 4);
    for (f, id) in FORMATS.iter().zip(&ids) {
        let id = id.to_string();
        let mut args = vec!["sessions", "invalidate", &id, "--user", DENNIS, "-o", f];
        if *f == "csv" {
            args.extend(["--team", "E0DEMO0001"]);
        }
        let out = env.run(&args).expect(0);
        insta::assert_snapshot!(format!("sessions_invalidate_{f}"), out.stdout);
    }
    assert!(dennis_sessions(&env).is_empty());
    let calls = env.requests("admin.users.session.invalidate");
    assert_eq!(calls.len(), 4);
    for call in calls {
        assert_eq!(
            call.args["user_id"], DENNIS,
            "the current docs' form: {:?}",
            call.args
        );
    }
}

#[test]
fn sessions_reset() {
    let env = Env::demo();
    let users = [
        ("table", "W0DEMO0006"),
        ("json", "W0DEMO0007"),
        ("ndjson", "W0DEMO0008"),
        ("csv", "john.lovelace10@acme.example"),
    ];
    let before = env.sessions_by_user();
    for (f, user) in users {
        let out = env.run(&["sessions", "reset", user, "-o", f]).expect(0);
        insta::assert_snapshot!(format!("sessions_reset_{f}"), out.stdout);
    }
    let after = env.sessions_by_user();
    for user in ["W0DEMO0006", "W0DEMO0007", "W0DEMO0008", "W0DEMO0010"] {
        assert!(before.get(user).copied().unwrap_or(0) > 0, "{user}");
        assert_eq!(after.get(user), None, "{user}");
    }
    // Two users at once, one of them the primary owner: the other is reset, exit 7.
    let out = env
        .run(&[
            "sessions",
            "reset",
            "W0DEMO0009",
            "W0DEMO0001",
            "--yes",
            "-o",
            "table",
        ])
        .expect(7);
    insta::assert_snapshot!("sessions_reset_partial_table", out.stdout);
    assert!(
        out.stderr.contains("1 of 2 users could not be reset"),
        "{}",
        out.stderr
    );
    assert_eq!(reset_counts(&env).get("W0DEMO0009"), Some(&1));
}

#[test]
fn sessions_reset_mobile_only() {
    let env = Env::demo();
    let out = env
        .run(&[
            "sessions",
            "reset",
            DENNIS_EMAIL,
            "--mobile-only",
            "-o",
            "table",
        ])
        .expect(0);
    insta::assert_snapshot!("sessions_reset_mobile_table", out.stdout);
    let out = env
        .run(&["sessions", "list", "--user", DENNIS, "-o", "json"])
        .expect(0);
    let left: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|s| s["client"] != "mobile"), "{left:?}");
    let resets = env.requests("admin.users.session.reset");
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0].args["mobile_only"], "true");
}

#[test]
fn settings_get_set_clear() {
    let env = Env::demo();
    let users = ["W0DEMO0005", "W0DEMO0006", "hedy.lamarr8@acme.example"];
    for f in FORMATS {
        let out = env
            .run(&[&["settings", "get"][..], &users[..], &["-o", f][..]].concat())
            .expect(0);
        insta::assert_snapshot!(format!("settings_get_{f}"), out.stdout);
    }
    for f in FORMATS {
        let out = env
            .run(&[
                "settings",
                "set",
                "W0DEMO0005",
                "W0DEMO0006",
                "--duration",
                "8h",
                "-o",
                f,
            ])
            .expect(0);
        insta::assert_snapshot!(format!("settings_set_{f}"), out.stdout);
    }
    env.run(&["settings", "set", "W0DEMO0005", "--quit-on-close", "true"])
        .expect(0);
    let out = env
        .run(&["settings", "get", "W0DEMO0005", "W0DEMO0006", "-o", "table"])
        .expect(0);
    insta::assert_snapshot!("settings_get_after_set_table", out.stdout);
    let sets = env.requests("admin.users.session.setSettings");
    assert_eq!(sets[0].args["duration"], "28800");
    for f in FORMATS {
        let out = env
            .run(&["settings", "clear", "W0DEMO0005", "-o", f])
            .expect(0);
        insta::assert_snapshot!(format!("settings_clear_{f}"), out.stdout);
    }
    let out = env
        .run(&["settings", "get", "W0DEMO0005", "-o", "json"])
        .expect(0);
    let rows: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows[0]["result"], "default");
    // Durations in every spelling reach Slack as seconds.
    for (given, secs) in [
        ("30d", "2592000"),
        ("90m", "5400"),
        ("3600", "3600"),
        ("1h30m", "5400"),
    ] {
        env.run(&["settings", "set", "W0DEMO0006", "--duration", given])
            .expect(0);
        let last = env.requests("admin.users.session.setSettings");
        assert_eq!(last.last().unwrap().args["duration"], secs, "{given}");
    }
}

#[test]
fn help_has_examples_for_every_command() {
    let env = Env::demo();
    for cmd in [
        &["--help"][..],
        &["whoami", "--help"],
        &["sessions", "list", "--help"],
        &["sessions", "invalidate", "--help"],
        &["sessions", "reset", "--help"],
        &["settings", "get", "--help"],
        &["settings", "set", "--help"],
        &["settings", "clear", "--help"],
        &["offboard", "--help"],
        &["serve", "--help"],
        &["completions", "--help"],
    ] {
        let out = env.run(cmd).expect(0);
        assert!(out.stdout.contains("Examples:"), "{cmd:?}:\n{}", out.stdout);
    }
    let out = env.run(&["offboard", "--help"]).expect(0);
    insta::assert_snapshot!("offboard_help", out.stdout);
}

#[test]
fn completions() {
    let env = Env::demo();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = env.run(&["completions", shell]).expect(0);
        assert!(out.stdout.contains("offboard"), "{shell}");
        assert!(out.stdout.contains("invalidate"), "{shell}");
    }
    env.run(&["completions", "tcsh"]).expect(2);
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::{BufRead, BufReader};
    // 1,500 sessions: far more output than a pipe holds.
    let env = Env::start(
        Env::builder().seed(crate::harness::big_seed(1_000)),
        "xoxp-big-admin",
    );
    for f in FORMATS {
        // This token cannot read users: --no-names, so that stderr stays empty.
        let mut child = env.spawn(&[
            "sessions",
            "list",
            "--page-size",
            "5",
            "--no-names",
            "-o",
            f,
        ]);
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        // The reading end is closed here, as `| head -1` does.
        let out = crate::harness::wait_output(child, std::time::Duration::from_secs(30));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// What bash offers after `words` (the last one being completed), with the script installed
/// the way bash-completion does: `complete -p` names the function to call.
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let words: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
    let program = format!(
        r#"source {script:?}
f=$(complete -p slack-sessions | sed -E 's/.* -F ([^ ]+) .*/\1/')
COMP_WORDS=(slack-sessions {words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$f" slack-sessions "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        words = words.join(" ")
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_every_level() {
    let env = Env::demo();
    let out = env.run(&["completions", "bash"]).expect(0);
    let script = env.write("slack-sessions.bash", &out.stdout);
    let first = bash_completes(&script, &["se"]);
    assert_eq!(first, ["sessions", "settings", "serve"]);
    let second = bash_completes(&script, &["sessions", ""]);
    for sub in ["list", "invalidate", "reset"] {
        assert!(second.contains(&sub.to_owned()), "{second:?}");
    }
    let options = bash_completes(&script, &["offboard", "--col"]);
    assert_eq!(options, ["--column"]);
    let deep = bash_completes(&script, &["sessions", "list", "--pa"]);
    assert!(deep.contains(&"--page-size".to_owned()), "{deep:?}");
}
