//! The files the CLI writes and reads, against data an attacker may shape: every file it writes
//! is 0600 whatever the umask, never written through a planted symbolic link; what it reads is
//! capped; the audit log stays valid JSON lines after a full disk and does not repeat held
//! decisions every round; and the guardrails hold across audit-log paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::enforce::sign_in;
use crate::harness::{Env, wait_for, wait_output};
use crate::inventory::{env as inventory_env, invalidated, remaining};

/// `args` run through `sh -c PRELUDE; exec BIN ARGS…`: a umask or a resource limit set for
/// the binary alone.
fn in_shell(env: &Env, prelude: &str, args: &[&str]) -> Command {
    let inner = env.command(args);
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{prelude}; exec \"$0\" \"$@\""))
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(env.dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd
}

/// A limit on the binary's address space (2 GiB), so that a run that reads without bound
/// fails fast instead of taking the machine's memory.
const BOUNDED: &str = "ulimit -v 2097152";

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// The files of a directory (recursively), by path relative to it.
fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            out.extend(files_in(&p));
        } else {
            out.push(p);
        }
    }
    out
}

const POLICY: &str = r#"
[guardrails]
cooldown = "1h"
max_share = 0.9

[[rule]]
name = "office-networks"
allowed_networks = ["198.51.100.0/24", "2001:db8:ac3e::/48"]
"#;

#[cfg(unix)]
#[test]
fn planted_links_at_temporary_names_are_never_written_through() {
    let env = inventory_env();
    env.write("victim", "keep");
    for name in [".r.csv.tmp", ".s.html.tmp", "r.csv", "s.html"] {
        std::os::unix::fs::symlink(env.path("victim"), env.path(name)).unwrap();
    }
    env.run(&[
        "sessions",
        "invalidate",
        "--os",
        "android",
        "--yes",
        "--report",
        "r.csv",
    ])
    .expect(0);
    env.run(&["sessions", "summary", "--html", "s.html"])
        .expect(0);
    assert_eq!(env.read("victim"), "keep");
    for name in ["r.csv", "s.html"] {
        let meta = std::fs::symlink_metadata(env.path(name)).unwrap();
        assert!(meta.is_file(), "{name} replaced the link with a file");
        assert_eq!(mode(&env.path(name)), 0o600, "{name}");
    }
    assert!(env.read("r.csv").contains("106"));
}

#[cfg(unix)]
#[test]
fn a_journal_or_audit_log_that_is_a_link_is_refused_naming_it() {
    let env = inventory_env();
    env.write("policy.toml", POLICY);
    env.write("leavers.txt", "W0000003\n");
    let cases: [(&str, &[&str]); 4] = [
        (
            "d.csv.journal",
            &[
                "sessions",
                "invalidate",
                "--os",
                "android",
                "--report",
                "d.csv",
            ],
        ),
        ("leavers.report.csv.journal", &["offboard", "leavers.txt"]),
        ("policy.audit.jsonl", &["enforce", "policy.toml"]),
        ("policy.audit.jsonl.journal", &["enforce", "policy.toml"]),
    ];
    for (link, args) in cases {
        // Dangling: a link to where nothing is yet, which opening would create.
        let target = env.path(&format!("{link}.target"));
        std::os::unix::fs::symlink(&target, env.path(link)).unwrap();
        for extra in [&["--yes"][..], &["--dry-run"]] {
            let out = env.run(&[args, extra].concat()).expect(2);
            assert!(
                out.stderr.contains(link) && out.stderr.contains("symbolic link"),
                "{args:?} {extra:?}: {}",
                out.stderr
            );
        }
        assert!(!target.exists(), "{link}: the link was followed");
        std::fs::remove_file(env.path(link)).unwrap();
    }
    assert!(env.requests("admin.users.session.invalidate").is_empty());
    assert!(env.requests("admin.users.session.resetBulk").is_empty());
}

#[cfg(unix)]
#[test]
fn every_file_written_is_0600_under_umask_000() {
    let env = inventory_env();
    env.write("policy.toml", POLICY);
    env.write("leavers.txt", "W0000004\n");
    let runs: [&[&str]; 6] = [
        &[
            "sessions",
            "invalidate",
            "--os",
            "android",
            "--yes",
            "--report",
            "r.csv",
        ],
        // Again: a new run, the first one's journal archived.
        &[
            "sessions",
            "invalidate",
            "--os",
            "android",
            "--yes",
            "--report",
            "r.csv",
        ],
        &["sessions", "summary", "--html", "s.html"],
        &["offboard", "leavers.txt", "--yes", "--report", "o.json"],
        &["enforce", "policy.toml", "--yes"],
        &[
            "enforce",
            "policy.toml",
            "--yes",
            "--audit-log",
            "other.jsonl",
        ],
    ];
    for args in runs {
        let out = env.run_cmd(in_shell(&env, "umask 000", args));
        assert!(
            [0, 8].contains(&out.code),
            "{args:?}: {}\n{}",
            out.code,
            out.stderr
        );
    }
    let written: Vec<_> = files_in(env.dir())
        .into_iter()
        .filter(|p| !p.ends_with("policy.toml") && !p.ends_with("leavers.txt"))
        .collect();
    let names: BTreeSet<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "r.csv",
        "r.csv.journal",
        "s.html",
        "o.json",
        "o.json.journal",
        "policy.audit.jsonl",
        "policy.audit.jsonl.journal",
        "other.jsonl",
        "other.jsonl.journal",
    ] {
        assert!(names.contains(expected), "{expected} in {names:?}");
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("r.csv.") && n.ends_with("Z.journal")),
        "an archived journal in {names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("guardrails-")),
        "the ledger in {names:?}"
    );
    for p in &written {
        assert_eq!(mode(p), 0o600, "{}", p.display());
    }
}

/// Runs `args` with the address space bounded; it must be refused (exit 2), naming `file`
/// and the cap.
fn refused_as_too_big(env: &Env, args: &[&str], file: &str, cap: &str) {
    let out = env.run_cmd(in_shell(env, BOUNDED, args));
    assert_eq!(out.code, 2, "{args:?}\n{}", out.stderr);
    assert!(
        out.stderr.contains(file) && out.stderr.contains(cap),
        "{args:?}: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("memory"), "{}", out.stderr);
}

#[test]
fn inputs_past_their_cap_are_refused_naming_the_file_and_the_cap() {
    let env = inventory_env();
    // Endless inputs.
    refused_as_too_big(
        &env,
        &["enforce", "/dev/zero", "--dry-run"],
        "/dev/zero",
        "1 MiB",
    );
    refused_as_too_big(
        &env,
        &["offboard", "/dev/zero", "--dry-run"],
        "/dev/zero",
        "64 MiB",
    );
    // Regular files one byte over (the HR file sparse: no disk is used).
    let policy = format!("{POLICY}\n{}", "#".repeat(1 << 20));
    env.write("huge.toml", &policy);
    refused_as_too_big(
        &env,
        &["enforce", "huge.toml", "--dry-run"],
        "huge.toml",
        "1 MiB",
    );
    let hr = std::fs::File::create(env.path("huge.csv")).unwrap();
    hr.set_len((64 << 20) + 1).unwrap();
    refused_as_too_big(
        &env,
        &["offboard", "huge.csv", "--dry-run"],
        "huge.csv",
        "64 MiB",
    );
    // A token file (0600, as it must be) of 128 MiB.
    let token = std::fs::File::create(env.path("token")).unwrap();
    token.set_len(128 << 20).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.path("token"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    refused_as_too_big(
        &env,
        &["whoami", "--token-file", "token"],
        "token",
        "64 KiB",
    );
    assert!(env.all_requests().is_empty(), "refused before any call");
}

#[test]
fn a_large_policy_within_the_cap_loads() {
    let env = inventory_env();
    let mut policy = String::from("[guardrails]\nmax_share = 0.9\n");
    for i in 0..5_000 {
        policy.push_str(&format!(
            "\n[[rule]]\nname = \"old-windows-{i}\"\ndeny_os = [\"Windows {}\"]\n",
            i + 100
        ));
    }
    assert!(policy.len() > 200_000 && policy.len() < 1 << 20);
    env.write("big.toml", &policy);
    let out = env
        .run(&["enforce", "big.toml", "--dry-run", "-o", "json"])
        .expect(0);
    let round: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(round["breaches"], 0, "{}", out.stdout);
}

/// The audit log's lines, each of which must be a JSON object.
fn audit_lines(env: &Env, name: &str) -> Vec<Value> {
    env.read(name)
        .split_inclusive('\n')
        .map(|l| {
            assert!(l.ends_with('\n'), "a last line cut short: {l:?}");
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}"))
        })
        .collect()
}

#[test]
fn a_torn_last_record_is_cut_off_when_the_audit_log_is_opened() {
    for torn in [
        "{\"event\":\"decis",
        // Ended by an older version, which closed the torn line rather than cut it.
        "{\"event\":\"decis\n",
    ] {
        let env = inventory_env();
        env.write("policy.toml", POLICY);
        let whole = "{\"event\":\"start\",\"policy\":\"policy.toml\"}\n";
        env.write("policy.audit.jsonl", &format!("{whole}{torn}"));
        env.run(&["enforce", "policy.toml", "--yes"]).expect(0);
        let lines = audit_lines(&env, "policy.audit.jsonl");
        assert_eq!(lines[0]["policy"], "policy.toml");
        assert_eq!(lines.last().unwrap()["event"], "stop");
    }
    // A file that is not JSON lines at all is not cut: it is refused.
    let env = inventory_env();
    env.write("policy.toml", POLICY);
    env.write("notes.txt", "my notes\nsecond line");
    let out = env
        .run(&[
            "enforce",
            "policy.toml",
            "--yes",
            "--audit-log",
            "notes.txt",
        ])
        .expect(2);
    assert!(out.stderr.contains("notes.txt"), "{}", out.stderr);
    assert_eq!(env.read("notes.txt"), "my notes\nsecond line");
}

#[cfg(unix)]
#[test]
fn a_full_disk_leaves_no_torn_record_in_the_audit_log() {
    // Every session of the demo org breaks the rule, and the breaker holds them all: the audit
    // log grows by a line each while the journal and the ledger stay small. A file-size limit
    // (SIGXFSZ ignored, so a write past it fails with EFBIG) stands in for a full disk: the
    // write that crosses it is cut short, as on ENOSPC.
    let env = Env::demo();
    env.write(
        "policy.toml",
        "[guardrails]\nmax_share = 0.01\n[[rule]]\nname = \"nowhere\"\nallowed_networks = [\"192.0.2.1/32\"]\n",
    );
    let full = env.run_cmd(in_shell(
        &env,
        "trap '' XFSZ; ulimit -f 8",
        &["enforce", "policy.toml", "--yes"],
    ));
    assert_eq!(full.code, 1, "{}", full.stderr);
    assert!(full.stderr.contains("audit log"), "{}", full.stderr);
    let size = std::fs::metadata(env.path("policy.audit.jsonl"))
        .unwrap()
        .len();
    assert!(
        size > 1000,
        "the log was written up to the limit ({size} bytes)"
    );
    audit_lines(&env, "policy.audit.jsonl");
    // The next run, with room, appends whole lines after whole lines.
    env.run(&["enforce", "policy.toml", "--yes"]).expect(7);
    let lines = audit_lines(&env, "policy.audit.jsonl");
    assert_eq!(lines.last().unwrap()["event"], "stop");
    assert!(env.requests("admin.users.session.invalidate").is_empty());
}

#[test]
fn a_held_decision_is_logged_when_it_starts_and_when_it_ends_not_every_round() {
    let env = inventory_env();
    // 104, 105, 106 break the rule; alan (105, 106) and grace (104) are exempt: held.
    env.write(
        "policy.toml",
        &format!("{POLICY}exempt_users = [\"W0000002\", \"W0000003\"]\n"),
    );
    let child = env.spawn(&["enforce", "policy.toml", "--yes", "--watch", "1s"]);
    let rounds = || {
        std::fs::read_to_string(env.path("policy.audit.jsonl"))
            .unwrap_or_default()
            .matches("\"event\":\"round\"")
            .count()
    };
    wait_for(Duration::from_secs(60), "two rounds", || rounds() >= 2);
    // grace's session ends (elsewhere): its hold ends with it.
    env.run(&[
        "sessions",
        "invalidate",
        "104",
        "--user",
        "W0000002",
        "--yes",
    ])
    .expect(0);
    let seen = rounds();
    wait_for(Duration::from_secs(60), "three more rounds", || {
        rounds() >= seen + 3
    });
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = wait_output(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0));
    let events = audit_lines(&env, "policy.audit.jsonl");
    let mut held: BTreeMap<u64, usize> = BTreeMap::new();
    let mut ended: BTreeMap<u64, usize> = BTreeMap::new();
    for e in &events {
        if e["event"] == "decision" && e["result"] == "held" {
            *held.entry(e["session_id"].as_u64().unwrap()).or_default() += 1;
        }
        if e["event"] == "hold_end" {
            *ended.entry(e["session_id"].as_u64().unwrap()).or_default() += 1;
        }
    }
    assert_eq!(
        held,
        BTreeMap::from([(104, 1), (105, 1), (106, 1)]),
        "{events:#?}"
    );
    assert_eq!(ended, BTreeMap::from([(104, 1)]), "{events:#?}");
    assert!(events.iter().filter(|e| e["event"] == "round").count() >= 5);
    assert!(invalidated(&env).keys().all(|id| *id == 104));
}

#[test]
fn a_second_audit_log_does_not_reset_the_hourly_cap_or_the_cooldowns() {
    let env = inventory_env();
    let policy = |per_hour: u32| {
        POLICY.replace(
            "max_share = 0.9",
            &format!("max_share = 0.9\nmax_actions_per_hour = {per_hour}"),
        )
    };
    env.write("policy.toml", &policy(1));
    let done = |out: &str| -> Vec<Value> {
        let round: Value = serde_json::from_str(out).unwrap();
        round["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["result"] == "done")
            .cloned()
            .collect()
    };
    let first = env
        .run(&[
            "enforce",
            "policy.toml",
            "--yes",
            "-o",
            "json",
            "--audit-log",
            "a.jsonl",
        ])
        .expect(0);
    let first = done(&first.stdout);
    assert_eq!(first.len(), 1);
    // Another audit log, another journal: the hour's one action is spent all the same.
    for log in ["b.jsonl", "c.jsonl"] {
        let out = env
            .run(&[
                "enforce",
                "policy.toml",
                "--yes",
                "-o",
                "json",
                "--audit-log",
                log,
            ])
            .expect(0);
        assert!(done(&out.stdout).is_empty(), "{}", out.stdout);
        assert!(
            out.stdout.contains("max_actions_per_hour reached"),
            "{}",
            out.stdout
        );
    }
    assert_eq!(invalidated(&env).len(), 1);
    // And the user acted on is in their cooldown, whatever the audit log: their new session
    // outside is held, the others' are ended.
    env.write("policy.toml", &policy(100));
    let user = first[0]["user_id"].as_str().unwrap().to_owned();
    let again = sign_in(&env, &user, "192.0.2.50");
    let out = env
        .run(&[
            "enforce",
            "policy.toml",
            "--yes",
            "-o",
            "json",
            "--audit-log",
            "d.jsonl",
        ])
        .expect(0);
    let round: Value = serde_json::from_str(&out.stdout).unwrap();
    for d in round["decisions"].as_array().unwrap() {
        if d["user_id"] == user.as_str() {
            assert_eq!(d["result"], "held", "{d}");
            assert!(d["detail"].as_str().unwrap().contains("cooldown"), "{d}");
            assert!(remaining(&env).contains(&d["session_id"].as_u64().unwrap()));
        } else {
            assert_eq!(d["result"], "done", "{d}");
        }
    }
    assert!(remaining(&env).contains(&again));
}
