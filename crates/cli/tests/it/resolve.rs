//! `--resolve-by`: emails found by walking `users.list` (up to 1,000 users a call) or by one
//! lookup each, with the same results either way, and `auto` picking the cheaper.

use serde_json::Value;

use crate::harness::Env;

fn results(doc: &Value) -> Vec<(String, String)> {
    doc["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["result"].as_str().unwrap().to_owned(),
                l["user_id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

const LEAVERS: &str = "email\ndennis.ritchie@acme.example\nhank.scorpio@globex.example\nada.lovelace@acme.example\nnobody@acme.example\n";

#[test]
fn a_walk_of_users_list_finds_what_lookups_find() {
    let by_lookup = Env::demo();
    by_lookup.write("leavers.csv", LEAVERS);
    let out = by_lookup
        .run(&[
            "offboard",
            "leavers.csv",
            "--dry-run",
            "--resolve-by",
            "lookup",
            "-o",
            "json",
        ])
        .expect(7); // as the run: the primary owner is refused
    let want = results(&serde_json::from_str(&out.stdout).unwrap());
    assert_eq!(by_lookup.requests("users.lookupByEmail").len(), 4);

    let by_list = Env::demo();
    by_list.write("leavers.csv", LEAVERS);
    let out = by_list
        .run(&[
            "offboard",
            "leavers.csv",
            "--dry-run",
            "--resolve-by",
            "list",
            "-o",
            "json",
        ])
        .expect(7);
    assert_eq!(results(&serde_json::from_str(&out.stdout).unwrap()), want);
    assert!(by_list.requests("users.lookupByEmail").is_empty());
    assert_eq!(
        by_list.requests("users.list").len(),
        1,
        "one page holds the demo org"
    );
    // The run walks again: a dry run writes nothing, and the org may have changed since.
    by_list
        .run(&["offboard", "leavers.csv", "--yes", "--resolve-by", "list"])
        .expect(7); // the primary owner is refused
    assert_eq!(by_list.requests("users.list").len(), 2);
}

#[test]
fn auto_walks_for_many_addresses_and_looks_up_a_few() {
    let env = Env::demo();
    let emails: Vec<String> = env.export().orgs[0]
        .users
        .iter()
        .filter(|u| u.role == slack_sessions_emulator::seed::Role::Member && !u.is_bot)
        .filter_map(|u| u.email.clone())
        .collect();
    assert!(emails.len() > 30, "{}", emails.len());
    // More addresses than one burst of lookups: some name nobody.
    let mut many = emails.clone();
    many.extend((0..25).map(|i| format!("left-long-ago-{i}@acme.example")));
    env.write("many.txt", &many.join("\n"));
    let out = env
        .run(&["offboard", "many.txt", "--dry-run", "-o", "json"])
        .expect(8); // as the run: some name nobody
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let lines = results(&doc);
    assert_eq!(
        lines.iter().filter(|(r, _)| r == "planned").count(),
        emails.len()
    );
    assert_eq!(lines.iter().filter(|(r, _)| r == "not_found").count(), 25);
    assert!(
        env.requests("users.lookupByEmail").is_empty(),
        "walked, not looked up"
    );
    assert_eq!(env.requests("users.list").len(), 1);

    let few = Env::demo();
    few.write("few.txt", &emails[..3].join("\n"));
    few.run(&["offboard", "few.txt", "--dry-run"]).expect(0);
    assert_eq!(few.requests("users.lookupByEmail").len(), 3);
    assert!(few.requests("users.list").is_empty());
}

/// W0DEMO0048 is deactivated: `users.lookupByEmail` answers `users_not_found` for it, as Slack
/// does ("If the user has been deactivated, users_not_found will be returned instead").
const DEACTIVATED: &str = "hedy.lamarr48@acme.example\nW0DEMO0005\n";

/// The note said before the walk that checks the addresses lookups did not find.
const CHECKING: &str = "1 address(es) Slack's lookup did not find: checking the org's user list for deactivated accounts";

#[test]
fn a_deactivated_leaver_given_by_email_is_found_in_every_mode() {
    // The run's report and notes: manners::a_deactivated_leaver_is_said_to_be_so.
    let mut want = None;
    for mode in ["list", "lookup", "auto"] {
        let env = Env::demo();
        env.write("gone.txt", DEACTIVATED);
        let out = env
            .run(&[
                "offboard",
                "gone.txt",
                "--resolve-by",
                mode,
                "--dry-run",
                "-o",
                "json",
            ])
            .expect(0);
        let doc: Value = serde_json::from_str(&out.stdout).unwrap();
        let line = &doc["lines"][0];
        assert_eq!(line["user_id"], "W0DEMO0048", "{mode}: {doc}");
        let detail = line["detail"].as_str().unwrap();
        assert!(detail.contains("already deactivated"), "{mode}: {detail}");
        // Lookups answered users_not_found: the walk that found the account was said.
        assert_eq!(
            out.stderr.contains(CHECKING),
            mode != "list",
            "{mode}: {}",
            out.stderr
        );
        let lines = results(&doc);
        match &want {
            None => want = Some(lines),
            Some(want) => assert_eq!(&lines, want, "{mode} as list"),
        }
    }
}

#[test]
fn an_address_nobody_has_is_not_found_after_the_walk_too() {
    for mode in ["lookup", "auto"] {
        let env = Env::demo();
        env.write("typo.txt", "nobody@acme.example\nW0DEMO0005\n");
        let out = env
            .run(&[
                "offboard",
                "typo.txt",
                "--resolve-by",
                mode,
                "--dry-run",
                "-o",
                "json",
            ])
            .expect(8);
        assert!(out.stderr.contains(CHECKING), "{mode}: {}", out.stderr);
        let doc: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(doc["lines"][0]["result"], "not_found", "{mode}: {doc}");
        let detail = doc["lines"][0]["detail"].as_str().unwrap();
        // The walk listed deactivated accounts too: no hedge.
        assert!(!detail.contains("same answer"), "{mode}: {detail}");
        assert!(detail.contains("active or deactivated"), "{mode}: {detail}");
        assert_eq!(env.requests("users.lookupByEmail").len(), 1, "{mode}");
        assert_eq!(env.requests("users.list").len(), 1, "{mode}: one page");
    }
}

#[test]
fn without_users_read_a_lookup_cannot_tell_a_deactivated_account() {
    // The admin's token without users:read: lookups work, users.list is missing_scope.
    let mut seed = slack_sessions_emulator::Seed::demo();
    let mut token = seed.orgs[0]
        .tokens
        .iter()
        .find(|t| t.token == slack_sessions_emulator::demo::ADMIN_TOKEN)
        .unwrap()
        .clone();
    token.token = "xoxp-demo-no-users-read".to_owned();
    token.scopes.retain(|s| s != "users:read");
    seed.orgs[0].tokens.push(token);
    let env = Env::start(Env::builder().seed(seed), "xoxp-demo-no-users-read");
    env.write("gone.txt", DEACTIVATED);
    let out = env
        .run(&[
            "offboard",
            "gone.txt",
            "--resolve-by",
            "lookup",
            "--dry-run",
            "-o",
            "json",
        ])
        .expect(8);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["lines"][0]["result"], "not_found", "{doc}");
    let detail = doc["lines"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("a deactivated account gets the same answer"),
        "{detail}"
    );
    assert!(out.stderr.contains("missing_scope"), "{}", out.stderr);
}
