//! Section 8: enforcement that runs for months. `enforce --watch` ends sessions as fast as
//! they are signed in, through a first and a tenfold number of actions; its memory and the time
//! a restart takes (open, replay, settle) are read at both points. The journal is compacted as
//! it grows and the guardrails keep only their window, so both should stay flat.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use slack_sessions_emulator::generate;

use crate::sections::spawn_serve;
use crate::{Row, Section, Sizes};

/// Users that sign in (user 0, the token's owner, is exempt).
const USERS: usize = 1_000;
/// Sessions signed in and not yet ended, at most: the org stays small, so that each round's
/// walk costs little and what grows is the number of actions.
const LIVE: u64 = 300;

/// Every new session breaks the policy; every guardrail is open.
const POLICY: &str = r#"
[guardrails]
cooldown = "0s"
max_actions_per_run = 100000000
max_actions_per_hour = 100000000
max_share = 1.0

[[rule]]
name = "no-windows-7"
deny_os = ["Windows 7"]
"#;

/// Restarts at each point, of which the median is taken.
const RESTARTS: usize = 5;

/// The audit log, read as it grows.
struct AuditTail {
    path: PathBuf,
    offset: u64,
    done: u64,
    starts: u64,
}

impl AuditTail {
    /// Reads what was appended: counts actions done and runs started.
    fn read(&mut self) -> Result<()> {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return Ok(());
        };
        f.seek(SeekFrom::Start(self.offset))?;
        let mut text = String::new();
        f.read_to_string(&mut text)?;
        // Only whole lines: a line being written waits for the next read.
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        for line in text[..whole].lines() {
            if line.contains("\"event\":\"decision\"") && line.contains("\"result\":\"done\"") {
                self.done += 1;
            } else if line.contains("\"event\":\"start\"") {
                self.starts += 1;
            }
        }
        self.offset += whole as u64;
        Ok(())
    }
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn file_kib(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1024.0)
}

/// Starts `enforce --watch` and waits until its run has started (its journal opened and
/// replayed, what a stopped run left open settled): returns it and how long that took.
fn start(exe: &Path, api: &str, dir: &Path, tail: &mut AuditTail) -> Result<(Child, Duration)> {
    let before = tail.starts;
    let started = Instant::now();
    let child = Command::new(exe)
        .args(["--api-url", api, "--pacing", "off", "-q", "enforce"])
        .arg(dir.join("policy.toml"))
        .args(["--yes", "--watch", "1s", "-o", "ndjson"])
        .env("SLACK_TOKEN", generate::ADMIN_TOKEN)
        .env("SLACK_SESSIONS_STATE_DIR", dir.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    while tail.starts == before {
        if started.elapsed() > Duration::from_secs(120) {
            bail!("enforce did not start within 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(2));
        tail.read()?;
    }
    Ok((child, started.elapsed()))
}

/// Signs sessions in (one call each) while fewer than [`LIVE`] wait to be ended, until
/// `target` actions are done; returns how many were signed in.
async fn feed(
    http: &reqwest::Client,
    base: &str,
    tail: &mut AuditTail,
    signed: &mut u64,
    target: u64,
    limit: Duration,
) -> Result<()> {
    let started = Instant::now();
    while tail.done < target {
        if started.elapsed() > limit {
            bail!(
                "{} of {target} actions after {} s: enforcement stalled",
                tail.done,
                limit.as_secs()
            );
        }
        while *signed < target && *signed < tail.done + LIVE {
            let user = generate::user_id(1 + (*signed as usize % (USERS - 1)));
            let answer = http
                .post(format!("{base}/_emulator/sessions"))
                .json(&serde_json::json!({
                    "user_id": user, "team_id": generate::TEAM_ID, "client": "desktop",
                    "device_hardware": "x86_64", "os": "Windows", "os_version": "7.1",
                    "slack_client_version": "4.29.149", "ip": "198.51.100.7",
                }))
                .send()
                .await?;
            if !answer.status().is_success() {
                bail!("sign-in refused: {}", answer.status());
            }
            *signed += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        tail.read()?;
    }
    Ok(())
}

/// Section 8.
pub async fn enforce_soak(sizes: &Sizes) -> Result<Section> {
    let [first, second] = sizes.soak_actions;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("policy.toml"), POLICY)?;
    let db = dir.path().join("soak.db");
    let size = format!("{USERS}:1");
    let (mut emu, api, _) = spawn_serve(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        db.to_str().context("a UTF-8 path")?,
        "--generate",
        &size,
        "--rate-limits",
        "off",
    ])?;
    let base = api
        .trim_end_matches('/')
        .trim_end_matches("/api")
        .to_owned();
    let exe = std::env::current_exe()?.with_file_name("slack-sessions");
    let journal = dir.path().join("policy.audit.jsonl.journal");
    let mut tail = AuditTail {
        path: dir.path().join("policy.audit.jsonl"),
        offset: 0,
        done: 0,
        starts: 0,
    };
    let http = reqwest::Client::new();
    let limit = Duration::from_secs(if sizes.smoke { 120 } else { 900 });
    let mut signed = 0;
    let mut points = Vec::new();
    let (mut child, _) = start(&exe, &api, dir.path(), &mut tail)?;
    let began = Instant::now();
    for target in [first, second] {
        let fed = feed(&http, &base, &mut tail, &mut signed, target, limit).await;
        let rss = rss_mib(child.id());
        let journal_kib = file_kib(&journal);
        // Killed at this point (SIGKILL), restarted: the time to be under way again. A
        // restart takes milliseconds, so one sample is mostly noise: the median of a few.
        let mut restarts = Vec::with_capacity(RESTARTS);
        for _ in 0..RESTARTS {
            let _ = child.kill();
            let _ = child.wait();
            if restarts.is_empty() {
                fed.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
            }
            let (next, restart) = start(&exe, &api, dir.path(), &mut tail)?;
            child = next;
            restarts.push(restart);
        }
        restarts.sort();
        let restart = restarts[RESTARTS / 2];
        points.push((tail.done, rss, journal_kib, restart, began.elapsed()));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = emu.kill();
    let _ = emu.wait();
    let [(n1, rss1, j1, r1, t1), (n2, rss2, j2, r2, t2)] = points[..] else {
        bail!("two points were not reached");
    };
    let mut s = Section {
        title: format!("8. Enforcement for months: {first} and then {second} actions"),
        how: format!(
            "`slack-sessions enforce policy.toml --yes --watch 1s` (the release binary, pacing \
             off) against `serve --generate {size} --rate-limits off`; sessions that break the \
             policy are signed in through the control plane as fast as they are ended (at most \
             {LIVE} waiting), every guardrail open. At {first} and at {second} actions the \
             process's memory (VmRSS) and the journal's size are read, the process is killed \
             (SIGKILL) and started again, {RESTARTS} times: the restart time is the median, from \
             the start of the process to its run under way (journal opened and replayed, the \
             call a kill left open settled). The process started last at the first point goes \
             on to the second."
        ),
        ..Section::default()
    };
    let ratio = rss2 / rss1.max(0.1);
    s.rows.push(Row::new(
        format!("memory at {second} / at {first} actions"),
        format!("{ratio:.2} ({rss2:.1} MiB / {rss1:.1} MiB)"),
        "≤ 1.5",
        Some(ratio <= 1.5 && n1 >= first && n2 >= second),
    ));
    let restart = r2.as_secs_f64() / r1.as_secs_f64().max(0.001);
    s.rows.push(Row::new(
        format!("restart at {second} / at {first} actions"),
        format!(
            "{restart:.2} ({:.0} ms / {:.0} ms)",
            r2.as_secs_f64() * 1000.0,
            r1.as_secs_f64() * 1000.0
        ),
        "about the same (≤ 2)",
        Some(restart <= 2.0),
    ));
    s.rows.push(Row::new(
        "journal size at each point",
        format!("{j2:.0} KiB at {second}, {j1:.0} KiB at {first} (compacted as it grows)"),
        "—",
        None,
    ));
    s.rows.push(Row::new(
        "actions per second",
        format!(
            "{:.0} ({n2} actions in {:.1} s, 3 fsyncs each: intent, result, guardrails)",
            n2 as f64 / t2.as_secs_f64(),
            t2.as_secs_f64()
        ),
        "—",
        None,
    ));
    let _ = t1;
    Ok(s)
}
