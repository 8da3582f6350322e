//! Section 10: the listener. How fast signals are acknowledged (each is journaled and synced
//! before its `202`, so one fsync per signal is the floor), and how soon after its
//! acknowledgement a signal's `admin.users.session.reset` leaves at Slack's pacing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use slack_sessions_emulator::{Emulator, RateLimits, RequestFilter, generate};
use slack_sessions_engine::journal::{Journal, Line, now_ms};
use slack_sessions_listen::transmit::{Set, Signer, SubjectId, send};

use crate::{Row, Section, Sizes};

const ISSUER: &str = "https://idp.bench/";
const AUDIENCE: &str = "https://sessions.bench/ssf";
const KID: &str = "bench";
/// Senders at once in the concurrent run.
const CONCURRENCY: usize = 16;

/// The listener as a process of its own, as it runs in use; killed when dropped.
struct Listening {
    child: Child,
    url: String,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_listener(dir: &Path, api: &str, pacing: &str) -> Result<Listening> {
    let exe = crate::sections::cli_binary()?;
    let mut child = Command::new(exe)
        .args(["--api-url", api, "--pacing", pacing, "-q", "listen"])
        .arg(dir.join("listen.toml"))
        .args(["--addr", "127.0.0.1:0"])
        .env("SLACK_TOKEN", generate::ADMIN_TOKEN)
        .env("SLACK_SESSIONS_STATE_DIR", dir.join("state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let url = crate::sections::first_url(&mut child)?;
    Ok(Listening { child, url })
}

/// A config with every guardrail open (this measures the listener, not its limits).
fn write_config(dir: &Path, signer: &Signer) -> Result<()> {
    std::fs::write(dir.join("jwks.json"), signer.jwks().to_string())?;
    std::fs::write(
        dir.join("listen.toml"),
        format!(
            "addr = \"127.0.0.1:0\"\n[ssf]\nissuer = \"{ISSUER}\"\njwks_file = \"jwks.json\"\n\
             audience = \"{AUDIENCE}\"\n[guardrails]\nmax_actions_per_hour = 100000000\n\
             max_share = 1.0\n"
        ),
    )?;
    Ok(())
}

fn signed(signer: &Signer, users: std::ops::Range<usize>) -> Result<Vec<(String, String)>> {
    users
        .map(|i| {
            let email = format!("user{i}@scale.example");
            let set = Set::new(ISSUER, AUDIENCE, "session-revoked", SubjectId::Email(email));
            Ok((generate::user_id(i), signer.set(&set)?))
        })
        .collect()
}

async fn post(client: &reqwest::Client, url: &str, jwt: &str) -> Result<Duration> {
    let started = Instant::now();
    let sent = send(
        client,
        reqwest::Method::POST,
        url,
        &[("Content-Type", "application/secevent+jwt")],
        jwt.as_bytes().to_vec(),
    )
    .await?;
    if sent.status != 202 {
        bail!("the listener answered {}: {}", sent.status, sent.body);
    }
    Ok(started.elapsed())
}

/// Waits until the listener has nothing pending (at most `limit`).
async fn drained(client: &reqwest::Client, base: &str, limit: Duration) -> Result<()> {
    let started = Instant::now();
    loop {
        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let depth = metrics
            .lines()
            .find(|l| l.starts_with("slack_sessions_listen_queue_depth"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok());
        if depth == Some(0.0) {
            return Ok(());
        }
        if started.elapsed() > limit {
            bail!("the listener still had {depth:?} signals pending after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn ms(d: &[Duration]) -> Vec<f64> {
    let mut v: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The floor: one journal line appended and synced, `n` times, in the listener's directory.
fn fsync_floor(dir: &Path, n: usize) -> Result<Vec<Duration>> {
    let path = dir.join("floor.journal");
    let (mut journal, _) = Journal::open(&path)?;
    // A line the size of an accepted signal's.
    let record = serde_json::json!({
        "type": "accepted", "number": 1, "at_ms": 1_764_000_000_000u64,
        "signal": {"source": "ssf", "key": format!("ssf {ISSUER} 0123456789abcdef0123456789abcdef"),
                   "event": "session-revoked",
                   "subject": {"kind": "email", "email": "user12345@scale.example"},
                   "action": "reset"}
    });
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        journal.append(&Line::Run(record.clone()), true)?;
        took.push(started.elapsed());
    }
    Ok(took)
}

/// What checking a SET's signature costs (ES256, the same crate and backend the listener
/// uses), `jwts` one after another on one core.
fn verify_cost(signer: &Signer, jwts: &[(String, String)]) -> Result<Vec<Duration>> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(signer.jwk().clone())?;
    let key = DecodingKey::from_jwk(&jwk)?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    validation.required_spec_claims.clear();
    let mut took = Vec::with_capacity(jwts.len());
    for (_, jwt) in jwts {
        let started = Instant::now();
        decode::<serde_json::Value>(jwt, &key, &validation)?;
        took.push(started.elapsed());
    }
    Ok(took)
}

/// Section 10.
pub async fn listener(sizes: &Sizes) -> Result<Section> {
    let (n, paced, scale) = (sizes.listen_signals, sizes.listen_paced, sizes.listen_scale);
    let users = n + CONCURRENCY * (n / CONCURRENCY) + paced + 1;
    let (signer, _) = Signer::generate(KID)?;
    let mut s = Section {
        title: format!(
            "10. The listener: {n} signals acknowledged, {paced} acted on at Slack's pacing"
        ),
        how: format!(
            "`slack-sessions listen` (a process of its own, release build) with an `[ssf]` \
             endpoint and every guardrail open, against an embedded emulator; signed Security \
             Event Tokens (ES256), each for another user, posted to `/ssf/events` one after \
             another, then by {CONCURRENCY} senders at once. A signal is journaled and synced \
             before its `202`: the floor is one journal line appended and synced \
             (`Journal::append` with sync, the same code) in the same directory, measured in \
             this run. Then a fresh listener and emulator, both paced {scale}× faster than \
             Slack (`--rate-limits scale={scale}`, `--pacing scale={scale}`: a window is \
             {w:.1} s, `reset` 20 calls a window), take {paced} signals at once: the time from \
             each `202` to its `admin.users.session.reset` in the emulator's request log, and \
             the last call against the earliest the reset budget allows it.",
            w = 60.0 / f64::from(scale)
        ),
        ..Section::default()
    };

    // Acknowledgements, rate limits off.
    let dir = tempfile::tempdir()?;
    write_config(dir.path(), &signer)?;
    let emu = Emulator::builder()
        .generate(users, users)
        .rate_limits(RateLimits::Off)
        .start()
        .await?;
    let floor = ms(&fsync_floor(dir.path(), n)?);
    let l = spawn_listener(dir.path(), &emu.api_url(), "off")?;
    let url = format!("{}/ssf/events", l.url);
    let client = reqwest::Client::new();
    let sets = signed(&signer, 1..n + 1)?;
    let verify = ms(&verify_cost(&signer, &sets)?);
    let started = Instant::now();
    let mut one = Vec::with_capacity(n);
    for (_, jwt) in &sets {
        one.push(post(&client, &url, jwt).await?);
    }
    let one_rate = n as f64 / started.elapsed().as_secs_f64();
    let one = ms(&one);
    let sets = signed(&signer, n + 1..n + 1 + CONCURRENCY * (n / CONCURRENCY))?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunk in sets.chunks(n / CONCURRENCY) {
        let (client, url, chunk) = (client.clone(), url.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            for (_, jwt) in &chunk {
                took.push(post(&client, &url, jwt).await?);
            }
            anyhow::Ok(took)
        }));
    }
    let mut many = Vec::new();
    for t in tasks {
        many.extend(t.await??);
    }
    let many_rate = many.len() as f64 / started.elapsed().as_secs_f64();
    let many = ms(&many);
    drained(&client, &l.url, Duration::from_secs(300)).await?;
    drop(l);
    emu.shutdown().await;

    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let floor_rate = 1e3 / mean(&floor);
    let with_verify = 1e3 / (mean(&floor) + mean(&verify));
    s.rows.push(Row::new(
        "one sender: acknowledged/s vs journal syncs/s (the floor) and vs a sync plus a signature check",
        format!(
            "{one_rate:.0} vs {floor_rate:.0} and {with_verify:.0}: {:.2} and {:.2} of them",
            one_rate / floor_rate,
            one_rate / with_verify
        ),
        "—",
        None,
    ));
    s.rows.push(Row::new(
        "one sender: time to acknowledge p50 / p99 vs a journal sync p50 / p99",
        format!(
            "{:.2} / {:.2} ms vs {:.2} / {:.2} ms: {:.1}× / {:.1}× the floor",
            quantile(&one, 0.5),
            quantile(&one, 0.99),
            quantile(&floor, 0.5),
            quantile(&floor, 0.99),
            quantile(&one, 0.5) / quantile(&floor, 0.5),
            quantile(&one, 0.99) / quantile(&floor, 0.99),
        ),
        "—",
        None,
    ));
    s.rows.push(Row::new(
        format!("{CONCURRENCY} senders: acknowledged/s; p50 / p99 time to acknowledge"),
        format!(
            "{many_rate:.0}/s ({:.2} of the floor's rate); {:.2} / {:.2} ms",
            many_rate / floor_rate,
            quantile(&many, 0.5),
            quantile(&many, 0.99)
        ),
        "—",
        None,
    ));
    s.notes.push(format!(
        "Where an acknowledgement's time goes: the journal sync (p50 {:.2} ms), the ES256 \
         signature check (p50 {:.2} ms on one core, measured here with the same crate), the \
         loopback round trip and the request's parsing; and the listener's worker, acting on \
         the signals already acknowledged (a lookup, a reset, its own synced intents), shares \
         the two cores with the sender and the emulator. Each acknowledgement syncs the journal \
         on its own (no group commit), so senders at once share one disk's syncs.",
        quantile(&floor, 0.5),
        quantile(&verify, 0.5)
    ));

    // From acknowledgement to Slack's call, paced.
    let dir = tempfile::tempdir()?;
    write_config(dir.path(), &signer)?;
    let emu = Emulator::builder()
        .generate(users, users)
        .rate_limits(RateLimits::Scale(scale))
        .request_log_capacity(100_000)
        .start()
        .await?;
    let l = spawn_listener(dir.path(), &emu.api_url(), &format!("scale={scale}"))?;
    let url = format!("{}/ssf/events", l.url);
    let sets = signed(&signer, 1..paced + 1)?;
    let mut acked = Vec::with_capacity(paced);
    for (user, jwt) in &sets {
        post(&client, &url, jwt).await?;
        acked.push((user.clone(), now_ms()));
    }
    let window = 60.0 / f64::from(scale);
    drained(
        &client,
        &l.url,
        Duration::from_secs_f64(window * (paced as f64 / 20.0 + 5.0) + 30.0),
    )
    .await?;
    drop(l);
    let calls = emu.requests(&RequestFilter {
        method: Some("admin.users.session.reset".into()),
        ..Default::default()
    });
    emu.shutdown().await;
    let mut waits = Vec::new();
    for (user, at) in &acked {
        let call = calls
            .iter()
            .find(|c| c.args.get("user_id").and_then(|v| v.as_str()) == Some(user.as_str()))
            .with_context(|| format!("no reset for {user}"))?;
        waits.push(call.at_ms.saturating_sub(*at) as f64);
    }
    let first_ack = acked.first().map_or(0, |a| a.1);
    let last_call = calls.iter().map(|c| c.at_ms).max().unwrap_or(first_ack);
    let in_burst: Vec<f64> = {
        let mut v = waits[..waits.len().min(20)].to_vec();
        v.sort_by(f64::total_cmp);
        v
    };
    let last_s = (last_call - first_ack) as f64 / 1e3;
    let floor_s = crate::sections::windows(paced as f64, 20.0) * window;
    s.rows.push(Row::new(
        "acknowledgement to reset, the first 20 (within the burst): p50 / max",
        format!(
            "{:.0} / {:.0} ms",
            quantile(&in_burst, 0.5),
            quantile(&in_burst, 1.0)
        ),
        "—",
        None,
    ));
    s.rows.push(Row::new(
        format!(
            "the last of {paced} resets after the first acknowledgement vs the reset budget's floor"
        ),
        format!("{last_s:.2} s vs {floor_s:.2} s: {:.2}", last_s / floor_s),
        "≤ 1.3",
        Some(last_s / floor_s <= 1.3),
    ));
    s.notes.push(format!(
        "Each signal's `reset` is preceded by its `users.lookupByEmail` (tier 3, 50 a window) and \
         the breaker's count of the org's users (one `users.list` walk); with the guardrails open \
         the reset budget (tier 2) is what paces the calls: at Slack's own pace, past the first 20 \
         a signal waits up to 3 s a place in the queue. {} resets were made for {paced} signals.",
        calls.len()
    ));
    Ok(s)
}
