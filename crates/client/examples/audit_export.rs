//! Audit export: every active session of the org as CSV, page after page, while the server
//! misbehaves mid-walk (a rate limit, a 5xx, a truncated answer, an `internal_error`). The walk
//! waits, retries the same cursor, and ends with every session exactly once.
//!
//! Runs against an embedded emulator with a generated org of 5,000 sessions, where the faults
//! are injected; `cargo run --example audit_export [out.csv]`.

use std::collections::HashSet;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

use slack_sessions_client::prelude::*;
use slack_sessions_client::retry::RetryPolicy;
use slack_sessions_emulator::{Effect, Emulator, FaultRule};

/// What the export wrote.
#[derive(Debug)]
struct Export {
    rows: usize,
    unique: usize,
    pages: u64,
    retries: u32,
}

/// The export: pages of 500, each written as it comes. `after_page` is called after each page
/// (the harness injects faults there).
async fn export(
    client: &Client,
    out: &Path,
    mut after_page: impl FnMut(u64),
) -> Result<Export, Box<dyn Error>> {
    let mut csv = csv::Writer::from_path(out)?;
    // A long walk: ask for the next page while this one is written.
    let mut pages = client.list_pages(ListArgs::new().limit(500)).prefetch(true);
    let mut ids = HashSet::new();
    let (mut rows, mut retries) = (0, 0);
    loop {
        let page = match pages.try_next().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(e) => {
                // The walk stopped: say where a new one can resume.
                eprintln!(
                    "export stopped: {e} (resume with cursor {:?}; request {})",
                    pages.cursor(),
                    e.request_id().unwrap_or("-")
                );
                return Err(e.into());
            }
        };
        retries += page.attempts - 1;
        for session in &page.active_sessions {
            csv.serialize(session.flat())?;
            ids.insert(session.session_id);
            rows += 1;
        }
        after_page(pages.pages_fetched());
    }
    csv.flush()?;
    Ok(Export {
        rows,
        unique: ids.len(),
        pages: pages.pages_fetched(),
        retries,
    })
}

async fn run(out: &Path) -> Result<Export, Box<dyn Error>> {
    // Slack's rate limits, 60 times faster: after the injected 429 the pacer restarts the
    // method's budget empty, as it must against Slack, and with Slack's own windows the rest of
    // the walk would take a call every 3.3 s.
    let limits = RateLimits::Scale(60);
    let emulator = Emulator::builder()
        .generate(200, 5_000)
        .rate_limits(limits)
        .start()
        .await?;
    let client = Client::builder()
        .base_url(emulator.api_url())
        .token("xoxp-scale-admin")
        .pacing(Pacing::matching(limits))
        .retry_policy(
            RetryPolicy::default()
                .backoff(Duration::from_millis(50), Duration::from_millis(500))
                .rate_limit_jitter(Duration::from_millis(100)),
        )
        .build()?;
    let faults = [
        Effect::RateLimited(1),
        Effect::HttpStatus(503),
        Effect::TruncatedJson,
        Effect::Error("internal_error".into()),
    ];
    let result = export(&client, out, |page| {
        // Three pages in, the next `list` calls meet one fault each.
        if page == 3 {
            for effect in &faults {
                emulator
                    .add_fault(
                        FaultRule::new(effect.clone())
                            .method("admin.users.session.list")
                            .times(1),
                    )
                    .expect("a valid fault");
            }
        }
    })
    .await;
    let expected = emulator.health().sessions;
    emulator.shutdown().await;
    let export = result?;
    if export.rows != expected || export.unique != expected {
        return Err(format!("exported {export:?}, expected {expected} sessions").into());
    }
    Ok(export)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("sessions-audit.csv"));
    let export = run(&out).await?;
    eprintln!(
        "{} sessions in {} pages ({} attempts retried after a fault) written to {}",
        export.rows,
        export.pages,
        export.retries,
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the example against its embedded emulator.
    #[tokio::test]
    async fn exports_every_session_once_through_the_faults() {
        let out = std::env::temp_dir().join(format!("audit-export-{}.csv", std::process::id()));
        let export = super::run(&out).await.unwrap();
        let _ = std::fs::remove_file(&out);
        assert_eq!(export.rows, 5_000);
        assert_eq!(export.retries, 4, "one retry per fault: {export:?}");
    }
}
