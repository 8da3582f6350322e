//! Every fault effect of the test bench, injected at every step of a paginated walk: the walk
//! ends with every session exactly once, or with a typed error after a clean prefix — never a
//! panic, a repeat, a gap, or a short result presented as complete.

use futures::StreamExt;
use slack_sessions_api::Method;
use slack_sessions_api::methods::{List, ListArgs};
use slack_sessions_client::{Encoding, Error};
use slack_sessions_emulator::{Effect, FaultRule, RateLimits};

use crate::common;

const PAGE: u32 = 25;

#[tokio::test]
async fn every_fault_at_every_page_of_a_walk() {
    let emu = common::emulator(RateLimits::Off).await;
    let client = common::admin(&emu, Encoding::Form);

    let mut all = Vec::new();
    let mut pages = client.list_pages(ListArgs::new().limit(PAGE));
    while let Some(page) = pages.next().await {
        all.extend(page.unwrap().active_sessions.iter().map(|s| s.session_id.0));
    }
    let page_count = all.len().div_ceil(PAGE as usize);
    assert!(page_count >= 6, "a walk of several pages: {page_count}");

    let effects = [
        (Effect::Error("internal_error".into()), true),
        (Effect::Error("service_unavailable".into()), true),
        (Effect::Error("fatal_error".into()), false),
        (Effect::Error("invalid_auth".into()), false),
        (Effect::Error("team_added_to_org".into()), false),
        (Effect::RateLimited(1), true),
        (Effect::HttpStatus(500), true),
        (Effect::HttpStatus(503), true),
        (Effect::EmptyBody, true),
        (Effect::NonJson, true),
        (Effect::TruncatedJson, true),
        (Effect::ResetConnection, true),
        (Effect::LatencyMs(20), true),
    ];
    let mut outcomes = Vec::new();
    for (effect, recoverable) in effects {
        for step in 0..page_count {
            let mut ids = Vec::new();
            let mut failure: Option<Error> = None;
            let mut pages = client.list_pages(ListArgs::new().limit(PAGE));
            let mut fetched = 0;
            loop {
                if fetched == step {
                    emu.add_fault(FaultRule::new(effect.clone()).method(List::NAME).times(1))
                        .unwrap();
                }
                match pages.next().await {
                    Some(Ok(page)) => {
                        ids.extend(page.active_sessions.iter().map(|s| s.session_id.0));
                        fetched += 1;
                    }
                    Some(Err(err)) => {
                        failure = Some(err);
                        break;
                    }
                    None => break,
                }
            }
            emu.clear_faults();
            let what = format!("{effect:?} at page {step}");
            assert_eq!(
                &ids[..],
                &all[..ids.len()],
                "{what}: a clean prefix, no repeat, no gap"
            );
            match failure {
                None => assert_eq!(
                    ids, all,
                    "{what}: a walk that ends without error is complete"
                ),
                Some(err) => {
                    assert!(
                        !recoverable,
                        "{what}: a read is retried through a transient fault, got {err}"
                    );
                    assert!(
                        err.code().is_some(),
                        "{what}: a typed Slack error, got {err:?}"
                    );
                    assert_eq!(
                        pages.cursor().is_some(),
                        step > 0,
                        "{what}: the place to resume is kept"
                    );
                }
            }
            outcomes.push(what);
        }
    }
    assert_eq!(outcomes.len(), 13 * page_count);
}
