//! A database file that is damaged, empty, or not the emulator's is refused at start with one
//! message naming the file and what to do, and is left as it was.

use std::path::Path;

use slack_sessions_emulator::{Emulator, RateLimits, Seed, StartError, StoreError};

async fn start(path: &Path) -> Result<Emulator, StartError> {
    Emulator::builder()
        .db_path(path)
        .seed(Seed::demo())
        .rate_limits(RateLimits::Off)
        .start()
        .await
}

/// A database the emulator wrote and closed cleanly.
async fn written(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("state.db");
    start(&path).await.unwrap().shutdown().await;
    path
}

#[track_caller]
fn refused(result: Result<Emulator, StartError>, path: &Path, says: &str) -> String {
    let err = match result {
        Ok(_) => panic!("{} was served", path.display()),
        Err(e) => e,
    };
    let message = err.to_string();
    assert!(
        matches!(&err, StartError::Store(StoreError::Unusable { path: p, .. }) if p == path),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains(says), "{message}");
    message
}

#[tokio::test]
async fn a_truncated_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path()).await;
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 8192, "{len}");
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    refused(start(&path).await, &path, "damaged");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        len / 2,
        "left as it was"
    );
}

#[tokio::test]
async fn a_file_with_flipped_bits_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path()).await;
    let mut bytes = std::fs::read(&path).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    // The b-tree page header of the second page: its type byte and cell count.
    for b in &mut bytes[page..page + 8] {
        *b ^= 0x5A;
    }
    std::fs::write(&path, &bytes).unwrap();
    refused(start(&path).await, &path, "damaged");
}

#[tokio::test]
async fn an_empty_file_is_not_silently_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    refused(start(&path).await, &path, "empty");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
}

#[tokio::test]
async fn a_file_missing_its_meta_row_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path()).await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM meta WHERE key = 'initialized'", [])
        .unwrap();
    drop(conn);
    refused(start(&path).await, &path, "meta row");
}

#[tokio::test]
async fn another_applications_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER);")
        .unwrap();
    drop(conn);
    let message = refused(start(&path).await, &path, "not a slack-sessions database");
    assert!(message.contains("invoices"), "{message}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables, ["invoices"], "no table of ours was added");
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(200)).unwrap();
    refused(start(&path).await, &path, "not an SQLite database");
}

#[tokio::test]
async fn a_new_path_and_a_clean_file_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let path = written(dir.path()).await;
    let emu = start(&path).await.expect("a clean file is served");
    assert!(emu.kept_existing_state());
    emu.shutdown().await;
}

#[tokio::test]
async fn a_file_another_emulator_serves_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let first = start(&path).await.unwrap();
    let began = std::time::Instant::now();
    let err = start(&path).await.expect_err("refused");
    assert!(
        began.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    assert!(
        matches!(&err, StartError::Store(StoreError::InUse { path: p }) if *p == path),
        "{err}"
    );
    assert!(err.to_string().contains("another emulator"), "{err}");
    first.shutdown().await;
    start(&path).await.unwrap().shutdown().await;
}
