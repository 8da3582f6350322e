//! Session ids are never given out twice: not after the session ends, a reset, a restart on the
//! same file, or a state import. Slack never reuses an id, and tools (the CLI's journals among
//! them) key on them: a reused id would make two users' sessions one.

use serde_json::{Value, json};
use slack_sessions_emulator::{Emulator, RateLimits, Seed};

use crate::bench::*;

/// A simulated sign-in with an automatic id, through the control plane.
async fn sign_in(b: &Bench, user: &str) -> u64 {
    let r = b
        .send(
            b.http
                .post(format!("{}/_emulator/sessions", b.emu.url()))
                .json(&json!({"user_id": user, "team_id": ORG_ID})),
        )
        .await;
    r.assert_ok();
    r.json["session_id"].as_u64().unwrap()
}

async fn invalidate(b: &Bench, user: &str, id: u64) {
    b.form(
        "admin.users.session.invalidate",
        ADMIN_TOKEN,
        &[("user_id", user), ("session_id", &id.to_string())],
    )
    .await
    .assert_ok();
}

async fn start(db: Option<&std::path::Path>) -> Bench {
    let mut builder = Emulator::builder()
        .seed(Seed::demo())
        .rate_limits(RateLimits::Off);
    if let Some(path) = db {
        builder = builder.db_path(path);
    }
    Bench {
        emu: builder.start().await.unwrap(),
        http: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn an_ended_session_id_is_not_given_to_the_next_sign_in() {
    let b = Bench::demo().await;
    let first = sign_in(&b, "W0DEMO0005").await;
    invalidate(&b, "W0DEMO0005", first).await;
    let second = sign_in(&b, "W0DEMO0006").await;
    assert!(second > first, "{second} after {first}");
    // The audit log tells the two users apart by id.
    let owners: Vec<Vec<String>> = b
        .emu
        .audit(0)
        .unwrap()
        .iter()
        .filter(|e| e.method == "_emulator/sessions")
        .map(|e| e.users.clone())
        .collect();
    assert_eq!(owners, [["W0DEMO0005"], ["W0DEMO0006"]]);
}

#[tokio::test]
async fn a_reset_does_not_give_an_id_again() {
    let b = Bench::demo().await;
    let first = sign_in(&b, "W0DEMO0005").await;
    let r = b
        .send(b.http.post(format!("{}/_emulator/reset", b.emu.url())))
        .await;
    r.assert_ok();
    assert!(b.sessions_of("W0DEMO0005").iter().all(|id| *id != first));
    let second = sign_in(&b, "W0DEMO0006").await;
    assert!(second > first, "{second} after {first}");
    // The Rust call too.
    b.emu.reset().unwrap();
    assert!(sign_in(&b, "W0DEMO0007").await > second);
}

#[tokio::test]
async fn a_restart_on_the_same_file_does_not_give_an_id_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let b = start(Some(&path)).await;
    let first = sign_in(&b, "W0DEMO0005").await;
    invalidate(&b, "W0DEMO0005", first).await;
    b.emu.shutdown().await;

    let b = start(Some(&path)).await;
    let second = sign_in(&b, "W0DEMO0006").await;
    assert!(second > first, "{second} after {first}");
    b.emu.shutdown().await;
}

#[tokio::test]
async fn an_import_neither_lowers_the_mark_nor_loses_it() {
    let b = Bench::demo().await;
    let first = sign_in(&b, "W0DEMO0005").await;
    invalidate(&b, "W0DEMO0005", first).await;
    let state_url = format!("{}/_emulator/state", b.emu.url());
    let exported: Value = b.send(b.http.get(&state_url)).await.json;
    assert_eq!(
        exported["last_session_id"], first,
        "the export carries the mark"
    );

    // A state whose highest id is lower does not lower the mark.
    let lower = serde_json::to_value(Seed::demo()).unwrap();
    b.send(b.http.put(&state_url).json(&lower))
        .await
        .assert_ok();
    let second = sign_in(&b, "W0DEMO0006").await;
    assert!(second > first, "{second} after {first}");

    // A fresh emulator that imports the export keeps its mark.
    let fresh = Bench::with_seed(Seed::default()).await;
    fresh
        .send(
            fresh
                .http
                .put(format!("{}/_emulator/state", fresh.emu.url()))
                .json(&exported),
        )
        .await
        .assert_ok();
    let third = sign_in(&fresh, "W0DEMO0006").await;
    assert!(third > first, "{third} after {first}");
    // And the Rust import too.
    let again = Bench::with_seed(Seed::default()).await;
    again
        .emu
        .import(&Seed::from_json(exported).unwrap())
        .unwrap();
    assert!(sign_in(&again, "W0DEMO0007").await > first);
}
