//! OS names and client kinds in a policy: a typo must not leave a rule that silently matches
//! nothing. A `min_client_version` key the tool does not know is refused (every session has a
//! client kind, so an OS the tool does not know yet is covered by its kind's key); a `deny_os`
//! name it does not know is a warning (Slack may send new OS names), and the dry run says which
//! rules matched no session.

use serde_json::Value;

use crate::harness::Env;
use crate::inventory::env;

fn policy(env: &Env, rule: &str) {
    env.write(
        "policy.toml",
        &format!("[guardrails]\nmax_share = 0.9\n[[rule]]\nname = \"typo\"\n{rule}\n"),
    );
}

#[test]
fn an_unknown_os_or_client_kind_in_min_client_version_is_refused() {
    let env = env();
    for (rule, named) in [
        ("min_client_version = { \"OSX\" = \"99.0\" }", "\"OSX\""),
        (
            "min_client_version = { windows = \"4.36\", Mobil = \"24.1\" }",
            "\"Mobil\"",
        ),
        ("min_client_version = { \"\" = \"99.0\" }", "empty"),
        ("min_client_version = { \"  \" = \"99.0\" }", "empty"),
    ] {
        policy(&env, rule);
        let out = env.run(&["enforce", "policy.toml", "--dry-run"]).expect(2);
        let err = &out.stderr;
        assert!(err.contains("policy.toml line 5"), "{rule}: {err}");
        assert!(err.contains(named), "{rule}: {err}");
        if named != "empty" {
            for known in ["mobile", "desktop", "web", "\"OS X\"", "Windows", "Android"] {
                assert!(err.contains(known), "{rule}: {known} in {err}");
            }
        }
    }
    assert!(env.all_requests().is_empty(), "refused before any call");
    // Known names, in any case and spacing, are taken.
    policy(
        &env,
        "min_client_version = { \"os x\" = \"4.30\", WINDOWS = \"4.36\", \" Mobile\" = \"24.1\" }",
    );
    let out = env
        .run(&["enforce", "policy.toml", "--dry-run", "-o", "json"])
        .expect(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let round: Value = serde_json::from_str(&out.stdout).unwrap();
    // 101 and 107: OS X with Slack below 4.30; 102 and 106: phones below 24.1.
    let mut ids: Vec<u64> = round["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["session_id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [101, 102, 106, 107], "{}", out.stdout);
}

#[test]
fn an_unknown_os_in_deny_os_is_a_warning_and_the_rule_matches_no_session() {
    let env = env();
    policy(&env, "deny_os = [\"Windws\", \"Android 99\"]");
    let out = env
        .run(&["enforce", "policy.toml", "--dry-run", "-o", "json"])
        .expect(0);
    let err = &out.stderr;
    assert!(
        err.contains("warning: policy.toml line 5") && err.contains("\"Windws\""),
        "{err}"
    );
    assert!(err.contains("did you mean \"Windows\""), "{err}");
    assert!(err.contains("Android") && err.contains("\"OS X\""), "{err}");
    assert!(
        !err.contains("\"Android 99\""),
        "a known OS is not warned of: {err}"
    );
    assert!(err.contains("rule \"typo\" matched no session"), "{err}");
    let round: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(round["breaches"], 0);
    // The run says it too, and its audit log keeps the warning.
    env.run(&["enforce", "policy.toml", "--yes"]).expect(0);
    let start: Value =
        serde_json::from_str(env.read("policy.audit.jsonl").lines().next().unwrap()).unwrap();
    assert!(
        start["warnings"][0]
            .as_str()
            .unwrap()
            .contains("\"Windws\""),
        "{start}"
    );
    // An empty name is refused.
    policy(&env, "deny_os = [\"Android\", \" \"]");
    let out = env.run(&["enforce", "policy.toml", "--dry-run"]).expect(2);
    assert!(
        out.stderr.contains("line 5") && out.stderr.contains("empty"),
        "{}",
        out.stderr
    );
    // Known names match, and are not warned of.
    policy(&env, "deny_os = [\"android\", \"Windows 10\"]");
    let out = env
        .run(&["enforce", "policy.toml", "--dry-run", "-o", "json"])
        .expect(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    assert!(!out.stderr.contains("matched no session"), "{}", out.stderr);
    let round: Value = serde_json::from_str(&out.stdout).unwrap();
    // 103 (Windows 10, in a browser) and 106 (Android 12).
    assert_eq!(round["breaches"], 2, "{}", out.stdout);
}
