//! Section 7: `reset_bulk_all` over users of whom some are refused, against the least time the
//! rate limits allow for the calls of the best plan.

use std::time::Instant;

use anyhow::Result;
use slack_sessions_api::methods::ResetBulkArgs;
use slack_sessions_client::Pacing;
use slack_sessions_emulator::{Emulator, RateLimits, RequestFilter, generate};

use crate::sections::{client, windows};
use crate::{Row, Section, Sizes};

/// Users per `resetBulk` call (the documented maximum, the client's default).
const BATCH: usize = 1000;

/// The calls of one plan of the family the floor is taken over: every batch sent once; a
/// refused group of more than `s` users halved with `resetBulk` (the first half sent; the
/// second sent only when the first was refused too, since an accepted first half leaves every
/// refused user in the second), a group of at most `s` read with `users.info` and sent again
/// without its refused users. `s = 0` is halving alone. Returns (resetBulk, users.info) calls
/// for the refused positions `bad` of each batch.
fn plan_calls(batches: &[(usize, Vec<usize>)], s: usize) -> (f64, f64) {
    fn group(size: usize, bad: &[usize], s: usize, writes: &mut f64, reads: &mut f64) {
        if size <= s || (size == 1 && s == 0) {
            if s > 0 {
                *reads += size as f64;
                if size > bad.len() {
                    *writes += 1.0;
                }
            }
            return;
        }
        let half = size / 2;
        let first: Vec<usize> = bad.iter().copied().filter(|&b| b < half).collect();
        let second: Vec<usize> = bad
            .iter()
            .filter(|&&b| b >= half)
            .map(|b| b - half)
            .collect();
        *writes += 1.0;
        if first.is_empty() {
            group(size - half, &second, s, writes, reads);
        } else {
            group(half, &first, s, writes, reads);
            *writes += 1.0;
            if !second.is_empty() {
                group(size - half, &second, s, writes, reads);
            }
        }
    }
    let (mut writes, mut reads) = (0.0, 0.0);
    for (size, bad) in batches {
        writes += 1.0;
        if !bad.is_empty() {
            group(*size, bad, s, &mut writes, &mut reads);
        }
    }
    (writes, reads)
}

/// The best plan of [`plan_calls`]' family and its floor, in windows: each budget's least
/// time for its calls (tier 2: 20 a window, tier 4: 100, both full at the start), the two
/// spent at once. Returns (s, resetBulk calls, users.info calls, windows).
fn best_plan(batches: &[(usize, Vec<usize>)]) -> (usize, f64, f64, f64) {
    std::iter::once(0)
        .chain((0..=10).map(|e| 1usize << e))
        .map(|s| {
            let (w, r) = plan_calls(batches, s);
            (s, w, r, windows(w, 20.0).max(windows(r, 100.0)))
        })
        .min_by(|a, b| a.3.total_cmp(&b.3))
        .unwrap_or((0, 0.0, 0.0, 0.0))
}

/// Section 7.
pub async fn refused_users(sizes: &Sizes) -> Result<Section> {
    let (users, scale) = (sizes.bulk_users, sizes.bulk_scale);
    let window = 60.0 / f64::from(scale);
    let emu = Emulator::builder()
        .generate(users + 1, 2 * users)
        .rate_limits(RateLimits::Scale(scale))
        .bulk_delay(std::time::Duration::from_millis(0))
        .request_log_capacity(100_000)
        .start()
        .await?;
    let mut s = Section {
        title: format!(
            "7. Refused users in a bulk reset: {users} users, `--rate-limits scale={scale}`"
        ),
        how: format!(
            "`reset_bulk_all` (batches of {BATCH}, defaults otherwise) over {users} generated \
             users with k unknown ids spread evenly among them, against an embedded emulator \
             enforcing Slack's budgets {scale}× faster (a window is {window:.1} s: `resetBulk` \
             20 calls, `users.info` 100), the client paced to match (headroom 2%). The floor is \
             the least time the buckets (full at the start) allow for the calls of the best plan \
             of a family: send each batch; halve a refused group with `resetBulk` (the second \
             half sent only when the first was refused too) down to groups of s users, read \
             those with `users.info` and send them again without the refused; s = 0 is halving \
             alone, s chosen best for the ids' places. The ratio is the run's wall time over \
             that floor."
        ),
        ..Section::default()
    };
    for k in sizes.bulk_bad {
        emu.reset()?;
        emu.clear_requests();
        let n = users + k;
        let bad_at: Vec<usize> = (0..k).map(|j| (2 * j + 1) * n / (2 * k)).collect();
        let mut ids = Vec::with_capacity(n);
        let mut good = 1..=users;
        for p in 0..n {
            if bad_at.contains(&p) {
                ids.push(format!("W9BAD{p:05}"));
            } else {
                ids.push(generate::user_id(good.next().unwrap_or(1)));
            }
        }
        let batches: Vec<(usize, Vec<usize>)> = (0..n)
            .step_by(BATCH)
            .map(|start| {
                let end = (start + BATCH).min(n);
                let bad = bad_at
                    .iter()
                    .filter(|&&p| (start..end).contains(&p))
                    .map(|p| p - start)
                    .collect();
                (end - start, bad)
            })
            .collect();
        let (best_s, plan_writes, plan_reads, floor_windows) = best_plan(&batches);
        let c = client(
            &emu.api_url(),
            generate::ADMIN_TOKEN,
            Pacing::scaled(f64::from(scale)).headroom(0.02),
        );
        let started = Instant::now();
        let report = c.reset_bulk_all(ResetBulkArgs::new(&ids)).await;
        let wall = started.elapsed().as_secs_f64();
        let limited = emu.requests(&RequestFilter::new().status(429)).len();
        let floor = floor_windows * window;
        let ratio = (floor > 0.0).then(|| wall / floor);
        let (done, refused) = (report.done().len(), report.refused().len());
        let right = done == users && refused == k && limited == 0;
        s.rows.push(Row::new(
            format!("{k} unknown ids: wall time / floor"),
            format!(
                "{wall:.2} s / {floor:.2} s = {} ({} resetBulk + {} users.info calls, {} halvings; {done} done, {refused} refused, {limited} 429s; best plan: s = {best_s}, {plan_writes:.0} resetBulk + {plan_reads:.0} users.info)",
                ratio.map_or("— (every call fits in its burst)".to_owned(), |r| format!("{r:.2}")),
                report.calls,
                report.screen_calls,
                report.splits,
            ),
            "≤ 1.3",
            Some(right && ratio.is_none_or(|r| r <= 1.3)),
        ));
    }
    emu.shutdown().await;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plans_count_their_calls() {
        // One batch of 8 with its 7th user refused. Halving alone: the batch, 4 (accepted),
        // then of the 4 known refused 2 (accepted), then of the 2 known refused the first
        // (refused: the user found) and the second (accepted).
        let one = [(8, vec![6])];
        assert_eq!(plan_calls(&one, 0), (5.0, 0.0));
        // Read groups of 4: 1 + 1 (first half accepted) + 4 reads and 1 resend.
        assert_eq!(plan_calls(&one, 4), (3.0, 4.0));
        // Nothing refused: one call a batch.
        assert_eq!(plan_calls(&[(1000, vec![]), (500, vec![])], 8), (2.0, 0.0));
        let (_, _, _, floor) = best_plan(&[(1000, vec![]), (500, vec![])]);
        assert_eq!(floor, 0.0);
    }
}
