//! The plan of an offboarding: the dry run is the run minus the writes. Every line gets the
//! result the real run gives it (`planned` where the real run signs the user out), and the
//! users Slack refuses, or who should not be signed out by accident, are known in advance.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::harness::{Env, reset_counts};

/// Two leavers, and every kind of line a run cannot simply sign out: the primary owner, a
/// bot, another org's user (by ID and by email), the token's owner, a line that is no user.
const MIXED: &str = "\
# leavers, and what Slack refuses
email
dennis.ritchie@acme.example
ada.lovelace@acme.example
W0DEMOBOT1
W0GLBX0003
hank.scorpio@globex.example
grace.hopper@acme.example
hedy.lamarr8@acme.example
not-an-address
";

/// (line, result, the detail's first word) of every line.
fn results(doc: &Value) -> Vec<(u64, String, String)> {
    doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let detail = l["detail"].as_str().unwrap();
            let code = detail.split([':', ' ', ';']).next().unwrap().to_owned();
            (
                l["line"].as_u64().unwrap(),
                l["result"].as_str().unwrap().to_owned(),
                code,
            )
        })
        .collect()
}

fn run_json(env: &Env, args: &[&str], code: i32) -> Value {
    let out = env
        .run(&[&["offboard", "mixed.csv"][..], args, &["-o", "json"]].concat())
        .expect(code);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn the_dry_run_gives_every_line_the_result_of_the_run() {
    let env = Env::demo();
    env.write("mixed.csv", MIXED);
    let expected = |planned: &str| {
        vec![
            (3, planned.to_owned(), "would".to_owned()),
            (4, "failed".into(), "cannot_reset_primary_owner".into()),
            (5, "failed".into(), "cannot_reset_bot".into()),
            (6, "failed".into(), "user_not_found".into()),
            (7, "not_found".into(), "users_not_found".into()),
            (8, "skipped".into(), "the".into()),
            (9, planned.to_owned(), "would".to_owned()),
            (10, "invalid".into(), "\"not-an-address\"".into()),
        ]
    };
    // Per user, and by walks of the whole org: the same plan.
    for by in ["user", "org"] {
        // As the run: the primary owner, a bot and another org's user are refused.
        let doc = run_json(&env, &["--dry-run", "--verify-by", by], 7);
        assert_eq!(results(&doc), expected("planned"), "--verify-by {by}");
        let self_line = &doc["lines"][5];
        assert!(
            self_line["detail"]
                .as_str()
                .unwrap()
                .contains("--include-self"),
            "{self_line}"
        );
    }
    assert!(reset_counts(&env).is_empty());
    let lookups = env.requests("users.lookupByEmail").len();
    assert_eq!(
        lookups, 10,
        "each email once by each dry run, which writes nothing"
    );

    // The run: the same results, `done` where the plan said `planned`.
    let doc = run_json(&env, &["--yes"], 7);
    let mut done = expected("done");
    for line in &mut done {
        if line.1 == "done" {
            line.2 = "no".into();
        }
    }
    assert_eq!(results(&doc), done);
    assert_eq!(
        env.requests("users.lookupByEmail").len(),
        lookups + 5,
        "the run looks each email up once"
    );
    let counts = reset_counts(&env);
    assert_eq!(
        counts.keys().collect::<Vec<_>>(),
        ["W0DEMO0005", "W0DEMO0008"],
        "only the leavers were signed out"
    );
}

#[test]
fn include_self_signs_the_tokens_owner_out_too() {
    let env = Env::demo();
    env.write("mixed.csv", "grace.hopper@acme.example\nW0DEMO0005\n");
    let doc = run_json(&env, &["--dry-run"], 8);
    assert_eq!(doc["lines"][0]["result"], "skipped");
    let doc = run_json(&env, &["--dry-run", "--include-self"], 0);
    assert_eq!(doc["lines"][0]["result"], "planned");
    let doc = run_json(&env, &["--yes", "--include-self"], 0);
    let results: BTreeMap<&str, &str> = doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["user_id"].as_str().unwrap(),
                l["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(results["W0DEMO0002"], "done");
    assert_eq!(reset_counts(&env).get("W0DEMO0002"), Some(&1));
}

/// Users given by ID are read before any reset too (`users.info`, or a `users.list` walk): the
/// primary owner, a bot and another org's user are known from Slack's user record, never sent.
#[test]
fn users_given_by_id_are_known_before_any_reset() {
    for by in ["lookup", "list"] {
        let env = Env::demo();
        env.write(
            "ids.txt",
            "W0DEMO0001\nW0DEMOBOT1\nW0GLBX0003\nW0DEMO0005\n",
        );
        let doc = run_json_file(&env, "ids.txt", &["--yes", "--resolve-by", by], 7);
        let got: Vec<(String, String)> = doc["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["result"].as_str().unwrap().to_owned(),
                    l["detail"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (i, code) in [
            (0, "cannot_reset_primary_owner"),
            (1, "cannot_reset_bot"),
            (2, "user_not_found"),
        ] {
            assert_eq!(got[i].0, "failed", "{by}: {got:?}");
            assert!(got[i].1.starts_with(code), "{by}: {got:?}");
            assert!(got[i].1.contains("so not sent"), "{by}: {got:?}");
        }
        assert_eq!(got[3].0, "done", "{by}: {got:?}");
        // Only the member was sent a reset.
        let sent: Vec<String> = env
            .requests("admin.users.session.resetBulk")
            .iter()
            .flat_map(crate::harness::users_of)
            .collect();
        assert_eq!(sent, ["W0DEMO0005"], "{by}");
    }
}

fn run_json_file(env: &Env, file: &str, args: &[&str], code: i32) -> Value {
    let out = env
        .run(&[&["offboard", file][..], args, &["-o", "json"]].concat())
        .expect(code);
    serde_json::from_str(&out.stdout).unwrap()
}
