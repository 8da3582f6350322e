//! Durable state: restarts on the same file keep every acknowledged change and duplicate nothing.

use std::time::Duration;

use slack_sessions_emulator::{Emulator, RateLimits, Seed};

use crate::bench::*;

async fn start(path: &std::path::Path, bulk_delay: Duration) -> Bench {
    let emu = Emulator::builder()
        .db_path(path)
        .seed(Seed::demo())
        .rate_limits(RateLimits::Off)
        .bulk_delay(bulk_delay)
        .start()
        .await
        .unwrap();
    Bench {
        emu,
        http: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn restart_keeps_changes_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let b = start(&path, Duration::from_millis(20)).await;
    let before = b.emu.export();
    b.form(
        "admin.users.session.reset",
        ADMIN_TOKEN,
        &[("user_id", "W0DEMO0005")],
    )
    .await
    .assert_ok();
    b.form(
        "admin.users.session.setSettings",
        ADMIN_TOKEN,
        &[("user_ids", "W0DEMO0030"), ("duration", "3600")],
    )
    .await
    .assert_ok();
    let after = b.emu.export();
    b.emu.shutdown().await;

    let b = start(&path, Duration::from_millis(20)).await;
    assert_eq!(
        b.emu.export(),
        after,
        "same seed on an existing file: state kept, nothing duplicated"
    );
    assert!(b.sessions_of("W0DEMO0005").is_empty());
    // The control plane restores the seed.
    b.emu.reset().unwrap();
    assert_eq!(b.emu.export(), before);
    b.emu.shutdown().await;
}

#[tokio::test]
async fn queued_bulk_reset_finishes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let b = start(&path, Duration::from_millis(400)).await;
    b.form(
        "admin.users.session.resetBulk",
        ADMIN_TOKEN,
        &[("user_ids", "W0DEMO0012,W0DEMO0013")],
    )
    .await
    .assert_ok();
    assert!(
        !b.sessions_of("W0DEMO0012").is_empty(),
        "queued, not yet run"
    );
    b.emu.shutdown().await;

    let b = start(&path, Duration::from_millis(400)).await;
    b.eventually("the resumed job", |b| {
        b.sessions_of("W0DEMO0012").is_empty() && b.sessions_of("W0DEMO0013").is_empty()
    })
    .await;
    assert_eq!(b.emu.health().pending_jobs, 0);
    b.emu.shutdown().await;
}
