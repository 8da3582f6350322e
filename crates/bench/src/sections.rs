//! Sections 1 to 6 and 9 of the report (7 is in `bulk.rs`, 8 in `soak.rs`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use slack_sessions_api::envelope;
use slack_sessions_api::methods::{GetSettingsArgs, ListArgs, ListResponse, ResetArgs};
use slack_sessions_client::{Client, Pacing};
use slack_sessions_emulator::generate;
use slack_sessions_emulator::{Emulator, RateLimits, RequestFilter, demo};

use crate::load::{self, Shape};
use crate::{Row, Section, Sizes};

/// Now, as an HTTP date (UTC).
pub fn now() -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn client(url: &str, token: &str, pacing: Pacing) -> Client {
    Client::builder()
        .base_url(url)
        .token(token)
        .pacing(pacing)
        .build()
        .expect("client builds")
}

/// 1. The emulator under load against a constant route of the same server.
pub(crate) async fn emulator_load(sizes: &Sizes) -> Result<Section> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("load.db");
    // The emulator is a process of its own, as it is in use: the load generator and it share
    // the machine's cores and nothing else.
    let (mut emu, api, _) = spawn_serve(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        db.to_str().context("a UTF-8 path")?,
        "--demo",
        "--rate-limits",
        "off",
    ])?;
    let base_url = api
        .trim_end_matches('/')
        .trim_end_matches("/api")
        .to_owned();
    let admin = Some(demo::ADMIN_TOKEN.to_owned());
    let ten: Vec<String> = (10..20).map(|i| format!("W0DEMO{i:04}")).collect();
    // Users an owner may reset (not the primary owner, not bots): writes rotate through them.
    let users: Vec<String> = (10..48).map(|i| format!("W0DEMO{i:04}")).collect();
    let shape = |path: String, form: Option<&str>, token: &Option<String>| Shape {
        url: path,
        form: form.map(str::to_owned),
        token: token.clone(),
        users: users.clone(),
    };
    let shapes = [
        (
            "baseline: GET /_emulator/ping (constant {\"ok\":true})",
            shape(format!("{base_url}/_emulator/ping"), None, &None),
        ),
        (
            "list, limit 100",
            shape(
                format!("{api}admin.users.session.list"),
                Some("limit=100"),
                &admin,
            ),
        ),
        (
            "getSettings, 10 users",
            shape(
                format!("{api}admin.users.session.getSettings"),
                Some(&format!("user_ids={}", ten.join("%2C"))),
                &admin,
            ),
        ),
        (
            "reset (durable write)",
            shape(
                format!("{api}admin.users.session.reset"),
                Some("user_id={user}"),
                &admin,
            ),
        ),
        (
            "setSettings (durable write)",
            shape(
                format!("{api}admin.users.session.setSettings"),
                Some("user_ids={user}&duration=28800"),
                &admin,
            ),
        ),
    ];
    let mut figures = Vec::new();
    for (name, shape) in &shapes {
        let f = load::run(
            shape,
            sizes.connections,
            sizes.load_duration(),
            sizes.load_max,
        )
        .await;
        if f.errors > 0 && !sizes.smoke {
            bail!("{name}: {} failed requests", f.errors);
        }
        figures.push((*name, f));
    }
    let base = figures[0].1.per_sec;
    let mut s = Section {
        title: "1. The emulator under load".into(),
        how: format!(
            "{} keep-alive connections from an in-process Rust load generator (reqwest), each sending \
             its next request when the last answer is read, for {:.0} s per scenario; rate limits off; \
             the database is a file (every write is a committed SQLite transaction before `ok`). The \
             baseline is a route of the same server that answers a constant `{{\"ok\":true}}`.",
            sizes.connections, sizes.load_secs
        ),
        ..Section::default()
    };
    for (i, (name, f)) in figures.iter().enumerate() {
        let ratio = f.per_sec / base;
        let (target, met) = match i {
            0 => ("—".to_owned(), None),
            1 | 2 => ("≥ 50% of baseline".to_owned(), Some(ratio >= 0.5)),
            _ => ("≥ 20% of baseline".to_owned(), Some(ratio >= 0.2)),
        };
        s.rows.push(Row::new(
            *name,
            format!(
                "{:.0} req/s ({:.0}% of baseline), p50 {} µs, p99 {} µs ({} requests)",
                f.per_sec,
                ratio * 100.0,
                f.p50_us,
                f.p99_us,
                f.requests
            ),
            target,
            met,
        ));
    }
    let _ = emu.kill();
    let _ = emu.wait();
    Ok(s)
}

/// The `slack-sessions` binary beside this one, built first when it is missing (run by
/// `cargo run`, which builds only the bench).
pub(crate) fn cli_binary() -> Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?.with_file_name("slack-sessions");
    if !exe.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "--release", "-p", "slack-sessions"])
            .status()?;
        if !built.success() || !exe.exists() {
            bail!("{} is missing and could not be built", exe.display());
        }
    }
    Ok(exe)
}

/// Spawns `slack-sessions serve` and returns it with its API URL and the time it took to print it.
pub(crate) fn spawn_serve(args: &[&str]) -> Result<(std::process::Child, String, Duration)> {
    let exe = cli_binary()?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let api = first_url(&mut child)?;
    Ok((child, api, started.elapsed()))
}

/// The URL a server of ours prints on its first line (`… listening on http://…`); the rest
/// of its output is read and dropped, so that it never blocks on a full pipe.
pub(crate) fn first_url(child: &mut std::process::Child) -> Result<String> {
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let first = lines.next().context("no output")??;
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .context("no URL")?
        .to_owned();
    std::thread::spawn(move || for _ in lines {});
    Ok(url)
}

fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(|v| {
                v.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// 2. A million sessions: seeding time, first vs last page, a full walk, peak memory.
pub(crate) async fn scale(sizes: &Sizes) -> Result<Section> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("scale.db");
    let sizes_arg = format!("{}:{}", sizes.scale_users, sizes.scale_sessions);
    let (mut child, api, seeded) = spawn_serve(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        db.to_str().unwrap(),
        "--generate",
        &sizes_arg,
        "--rate-limits",
        "off",
    ])?;
    let c = client(&api, generate::ADMIN_TOKEN, Pacing::off());

    // The walk, keeping the cursor of the last page.
    let started = Instant::now();
    let mut pages = c.list_pages(ListArgs::new().limit(1000)).prefetch(true);
    let (mut walked, mut last_cursor) = (0usize, None);
    loop {
        let cursor = pages.cursor().map(str::to_owned);
        match pages.next().await {
            Some(page) => {
                walked += page?.active_sessions.len();
                last_cursor = cursor;
            }
            None => break,
        }
    }
    let walk = started.elapsed().as_secs_f64();
    let per_sec = walked as f64 / walk;

    let reps = if sizes.smoke { 5 } else { 31 };
    let time_page = |args: ListArgs| {
        let c = c.clone();
        async move {
            let mut t = Vec::new();
            for _ in 0..reps {
                let s = Instant::now();
                c.list(args.clone()).await.expect("page");
                t.push(s.elapsed().as_secs_f64() * 1000.0);
            }
            median(t)
        }
    };
    let first = time_page(ListArgs::new().limit(1000)).await;
    let last = time_page(
        ListArgs::new()
            .limit(1000)
            .cursor(last_cursor.context("a last page")?),
    )
    .await;
    let rss = peak_rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();

    let mut s = Section {
        title: format!("2. Scale: {} sessions over {} users", sizes.scale_sessions, sizes.scale_users),
        how: "The release binary `slack-sessions serve --generate USERS:SESSIONS --db FILE` fills a new \
              database and serves it; seeding time is from spawning the process to its printed URL. \
              Page times are medians of repeated `list` calls (limit 1,000) by our client; the walk \
              follows every cursor with our client (pacing off); peak memory is the emulator \
              process's VmHWM."
            .into(),
        ..Section::default()
    };
    s.rows.push(Row::new(
        "seeding (generate, commit, load, serve)",
        format!("{:.1} s", seeded.as_secs_f64()),
        "< 30 s",
        Some(seeded.as_secs_f64() < 30.0),
    ));
    s.rows.push(Row::new(
        "last page / first page (limit 1,000)",
        format!("{:.2} ({last:.2} ms / {first:.2} ms)", last / first),
        "≤ 1.2",
        Some(last / first <= 1.2),
    ));
    s.rows.push(Row::new(
        "walk of every session with our client",
        format!("{walked} sessions in {walk:.2} s: {per_sec:.0} sessions/s"),
        "≥ 500,000 sessions/s",
        Some(per_sec >= 500_000.0 && walked == sizes.scale_sessions),
    ));
    s.rows.push(Row::new(
        "emulator peak memory",
        format!("{rss:.0} MiB"),
        "≤ 300 MB",
        Some(rss * 1.048_576 <= 300.0),
    ));
    Ok(s)
}

/// Runs an SDK driver and returns its JSON line.
fn driver(cmd: &mut Command) -> Result<serde_json::Value> {
    let out = cmd.output()?;
    if !out.status.success() {
        bail!("driver failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout)?;
    let line = text.lines().last().context("no output")?;
    Ok(serde_json::from_str(line)?)
}

/// Makes sure the official SDKs are installed where the conformance suite keeps them, with
/// its own install script when they are missing.
fn sdk_installs() -> Result<(PathBuf, PathBuf)> {
    let conf = root().join("conformance");
    let (py, node_modules) = (conf.join(".py"), conf.join("node/node_modules"));
    let installed = py.join("slack_sdk").exists()
        && py.join("aiohttp").exists()
        && node_modules.join("@slack/web-api").exists();
    if !installed
        && !Command::new("bash")
            .arg(conf.join("install"))
            .status()?
            .success()
    {
        bail!("conformance/install failed");
    }
    Ok((py, node_modules))
}

#[derive(Clone, Copy)]
enum Caller {
    Ours,
    BareReqwest,
}

/// Calls/s of `getSettings` for one user, one call after another for `secs`, on a
/// current-thread runtime of a thread of its own.
fn sequential(api: &str, secs: f64, caller: Caller) -> Result<f64> {
    let api = api.to_owned();
    on_current_thread(move |rt| {
        rt.block_on(async move {
            let c = client(&api, generate::ADMIN_TOKEN, Pacing::off());
            let http = reqwest::Client::new();
            let url = format!("{api}admin.users.session.getSettings");
            let body = format!("user_ids={}", generate::user_id(1));
            let start = Instant::now();
            let mut calls = 0u64;
            while start.elapsed().as_secs_f64() < secs && calls < 200_000 {
                match caller {
                    Caller::Ours => {
                        c.get_settings(GetSettingsArgs::new([generate::user_id(1)]))
                            .await?;
                    }
                    Caller::BareReqwest => {
                        let answer = http
                            .post(&url)
                            .bearer_auth(generate::ADMIN_TOKEN)
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body(body.clone())
                            .send()
                            .await?;
                        answer.bytes().await?;
                    }
                }
                calls += 1;
            }
            Ok(calls as f64 / start.elapsed().as_secs_f64())
        })
    })
}

/// Runs `f` with a current-thread runtime, on a thread of its own (the benchmark's own
/// runtime is a multi-thread one).
fn on_current_thread<T: Send + 'static>(
    f: impl FnOnce(&tokio::runtime::Runtime) -> Result<T> + Send + 'static,
) -> Result<T> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        f(&rt)
    })
    .join()
    .map_err(|_| anyhow::anyhow!("a caller on a current-thread runtime panicked"))?
}

/// One walk of every session (`limit=1000`): sessions walked, seconds, pages.
async fn walk(c: &Client, prefetch: bool) -> Result<(u64, f64, u64)> {
    let start = Instant::now();
    let mut stream = c
        .list_sessions(ListArgs::new().limit(1000))
        .prefetch(prefetch);
    let mut walked = 0u64;
    while let Some(s) = stream.next().await {
        s?;
        walked += 1;
    }
    Ok((
        walked,
        start.elapsed().as_secs_f64(),
        stream.pages_fetched(),
    ))
}

/// One walk with read-ahead on a current-thread runtime of a thread of its own.
fn current_thread_walk(api: &str) -> Result<(u64, f64, u64)> {
    let api = api.to_owned();
    on_current_thread(move |rt| {
        rt.block_on(
            async move { walk(&client(&api, generate::ADMIN_TOKEN, Pacing::off()), true).await },
        )
    })
}

/// A session page decoded as `#[derive(Deserialize)]` decodes it, with `S` for every string
/// and `I` for the session id: each string and device record built on the stack, then moved
/// into its session and the session into the page. Section 3 decodes a page so in the
/// client's types of before and of today, and as the client does (each member in its place).
mod derived {
    use serde::Deserialize;
    use slack_sessions_api::{CompactString, SessionId};

    #[derive(Deserialize)]
    pub struct Page<S, I> {
        #[allow(dead_code)]
        active_sessions: Vec<Session<S, I>>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    // Only what decodes: `#[serde(default)]` would also ask `S: Default`.
    #[serde(bound(deserialize = "S: Deserialize<'de>, I: Deserialize<'de>"))]
    struct Session<S, I> {
        user_id: S,
        team_id: S,
        session_id: I,
        created: Device<S>,
        #[serde(default)]
        recent: Option<Device<S>>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Device<S> {
        device_hardware: Option<S>,
        os: Option<S>,
        os_version: Option<S>,
        slack_client_version: Option<S>,
        ip: Option<S>,
    }

    /// The client's types before ids and device fields became inline small strings: a
    /// `String` each.
    pub type Before = Page<String, u64>;
    /// Today's types: inline small strings (`UserId` and `TeamId` are `CompactString`s).
    pub type Today = Page<CompactString, SessionId>;
}

/// The walks of section 3, by round: sessions/s each, and ours' time per page.
#[derive(Default)]
struct Walks {
    ours: Vec<f64>,
    plain: Vec<f64>,
    /// Ours with read-ahead, on a current-thread runtime.
    current: Vec<f64>,
    py: Vec<f64>,
    node: Vec<f64>,
    ours_page_ms: Vec<f64>,
    /// Sessions returned by every walk, to check none stopped short.
    walked: Vec<u64>,
}

/// 3. Our client against Python slack_sdk and Node @slack/web-api, same emulator, same calls.
pub(crate) async fn sdks(sizes: &Sizes) -> Result<Section> {
    let (py, node_modules) = sdk_installs()?;
    // The emulator is a process of its own, so that the three clients meet the same server and
    // none of them shares its runtime.
    let generated = format!("{}:{}", sizes.sdk_users, sizes.sdk_sessions);
    let (mut emu, api, _) = spawn_serve(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--generate",
        &generated,
        "--rate-limits",
        "off",
    ])?;
    let token = generate::ADMIN_TOKEN;
    let secs = sizes.sdk_secs;
    let c = client(&api, token, Pacing::off());
    let user = || GetSettingsArgs::new([generate::user_id(1)]);

    // Ours, one call after another: on a current-thread runtime, the flavour tokio recommends
    // for a program that makes one call at a time; and as a `#[tokio::main]` program does, on
    // the multi-thread runtime; and bare reqwest, for what the HTTP round trip itself costs.
    let ours_seq = sequential(&api, secs, Caller::Ours)?;
    let bare_seq = sequential(&api, secs, Caller::BareReqwest)?;
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed().as_secs_f64() < secs && calls < 200_000 {
        c.get_settings(user()).await?;
        calls += 1;
    }
    let ours_seq_mt = calls as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while start.elapsed().as_secs_f64() < secs && n < 20_000 {
                    c.get_settings(GetSettingsArgs::new([generate::user_id(1)]))
                        .await
                        .expect("call");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await?;
    }
    let ours_conc = total as f64 / start.elapsed().as_secs_f64();
    // What decoding one full page into typed sessions costs, alone (medians of repeats).
    let page_bytes = reqwest::Client::new()
        .post(format!("{api}admin.users.session.list"))
        .bearer_auth(token)
        .form(&[("limit", "1000")])
        .send()
        .await?
        .bytes()
        .await?;
    // As the client reads it: the cursor from the page's end, then envelope and body in one
    // pass.
    let (mut peek_us, mut decode_ms) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        let t = Instant::now();
        envelope::peek_cursor(&page_bytes).context("a page's cursor")?;
        peek_us.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        envelope::decode_answer::<ListResponse>(&page_bytes).context("a page")?;
        decode_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (peek_us, decode_ms) = (median(peek_us), median(decode_ms));
    // The same page read as the client did before: a pass for the envelope (and its cursor),
    // then the body from bytes (each string checked for UTF-8 on its own) into a `String` per
    // id and device field.
    let (mut envelope_ms, mut before_ms) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        let t = Instant::now();
        envelope::decode_status(&page_bytes)?;
        envelope_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        serde_json::from_slice::<derived::Before>(&page_bytes)?;
        before_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (envelope_ms, before_ms) = (median(envelope_ms), median(before_ms));
    // The same one pass, with each session built as the derive builds it.
    let mut derived_ms = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        envelope::decode_answer::<derived::Today>(&page_bytes).context("a page")?;
        derived_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let derived_ms = median(derived_ms);

    let secs_s = format!("{secs}");
    let drivers = root().join("crates/bench/drivers");
    let sdk = |program: &str, script: &str, (var, path): (&str, &PathBuf), mode: &str| {
        driver(
            Command::new(program)
                .arg(drivers.join(script))
                .args([api.as_str(), token, mode, secs_s.as_str(), "32"])
                .env(var, path),
        )
    };
    let python = |mode: &str| sdk("python3", "sdk_python.py", ("PYTHONPATH", &py), mode);
    let node = |mode: &str| {
        sdk(
            "node",
            "sdk_node.mjs",
            ("SDK_NODE_MODULES", &node_modules),
            mode,
        )
    };
    let rate = |v: &serde_json::Value, key: &str| {
        v[key].as_f64().unwrap_or(0.0) / v["seconds"].as_f64().unwrap_or(1.0)
    };
    let (py_seq, py_conc) = (
        rate(&python("seq")?, "calls"),
        rate(&python("conc")?, "calls"),
    );
    let (node_seq, node_conc) = (rate(&node("seq")?, "calls"), rate(&node("conc")?, "calls"));

    // The walks, in rounds that take turns (ours with and without read-ahead, and on a
    // current-thread runtime; Python; Node),
    // each figure the median of its rounds: one walk lasts a fraction of a second, and a
    // shared machine slows one of them now and then. A first round warms up and is not
    // counted: the first walk of a process ran up to 1.6× slower than the next ones, and as
    // fast as them with glibc's malloc thresholds raised (GLIBC_TUNABLES), so the allocator's
    // handling of the page-sized buffers is what warms up.
    let mut walks = Walks::default();
    for _ in 0..=sizes.sdk_walk_rounds {
        let (walked, secs, pages) = walk(&c, true).await?;
        walks.ours.push(walked as f64 / secs);
        walks.ours_page_ms.push(secs * 1000.0 / pages.max(1) as f64);
        walks.walked.push(walked);
        // The same walk without read-ahead: each page asked for, then decoded, in turn; and
        // with read-ahead on a current-thread runtime.
        let plain = walk(&c, false).await?;
        let current = current_thread_walk(&api)?;
        for ((walked, secs, _), rates) in [(plain, &mut walks.plain), (current, &mut walks.current)]
        {
            rates.push(walked as f64 / secs);
            walks.walked.push(walked);
        }
        for (driver, rates) in [
            (python("walk")?, &mut walks.py),
            (node("walk")?, &mut walks.node),
        ] {
            rates.push(rate(&driver, "sessions"));
            walks.walked.push(driver["sessions"].as_u64().unwrap_or(0));
        }
    }
    let cold = (walks.ours.remove(0), walks.py.remove(0));
    walks.plain.remove(0);
    walks.current.remove(0);
    walks.node.remove(0);
    walks.ours_page_ms.remove(0);
    // What the server itself spent per page (its request log's durations), the floor of any walk.
    let base = api.trim_end_matches('/').trim_end_matches("/api");
    let logged: serde_json::Value = reqwest::get(format!(
        "{base}/_emulator/requests?method=admin.users.session.list"
    ))
    .await?
    .json()
    .await?;
    let durations: Vec<f64> = logged["requests"]
        .as_array()
        .context("the request log")?
        .iter()
        .filter_map(|e| e["duration_us"].as_f64())
        .collect();
    let server_ms = durations.iter().sum::<f64>() / durations.len().max(1) as f64 / 1000.0;
    let everyone_walked_all = walks.walked.iter().all(|&n| n == sizes.sdk_sessions as u64);
    let rounds = walks.py.len();
    // The spread of the rounds, beside their medians: on a shared machine one round now and
    // then runs far slower.
    let spread = |xs: &[f64]| {
        let (lo, hi) = xs
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        format!("{lo:.0}–{hi:.0}")
    };
    let (ours_spread, py_spread) = (spread(&walks.ours), spread(&walks.py));
    let (ours_walk, plain_walk, current_walk, py_walk, node_walk, ours_page_ms) = (
        median(walks.ours),
        median(walks.plain),
        median(walks.current),
        median(walks.py),
        median(walks.node),
        median(walks.ours_page_ms),
    );
    let _ = emu.kill();
    let _ = emu.wait();

    let mut s = Section {
        title: "3. Our client against the official SDKs".into(),
        how: format!(
            "One emulator (rate limits off, {} sessions over {} users), the same call for all: \
             `admin.users.session.getSettings` for one user, for {secs:.0} s each — one after \
             another (ours on a current-thread tokio runtime; Python: the sync `WebClient`; \
             Node: each call awaited), then 32 at a time (ours: 32 tasks sharing one `Client`, pacing off; Python: \
             `AsyncWebClient` with 32 asyncio workers; Node: 32 concurrent promises on one \
             `WebClient`). Then a walk of every session with `limit=1000` (ours: `list_sessions` with `.prefetch(true)`, the setting for a long walk; \
             Python: response iteration; Node: `paginate()`). Latest `slack_sdk` and \
             `@slack/web-api` from their registries, driven by `crates/bench/drivers/`.",
            sizes.sdk_sessions, sizes.sdk_users
        ),
        ..Section::default()
    };
    for (what, ours, py, node) in [
        ("calls/s, sequential", ours_seq, py_seq, node_seq),
        ("calls/s, 32 concurrent", ours_conc, py_conc, node_conc),
        ("sessions/s, full list walk", ours_walk, py_walk, node_walk),
    ] {
        s.rows.push(Row::new(
            format!("{what}: ours vs Python"),
            format!("{ours:.0} vs {py:.0}: {:.1}×", ours / py),
            "≥ 5×",
            Some(ours / py >= 5.0),
        ));
        s.rows.push(Row::new(
            format!("{what}: ours vs Node"),
            format!("{ours:.0} vs {node:.0}: {:.1}×", ours / node),
            "≥ 2×",
            Some(ours / node >= 2.0),
        ));
    }
    s.notes.push(format!(
        "What limits the sequential figure: the round trip, not the client. Ours: {ours_seq:.0} \
         calls/s on a current-thread runtime (the row above), {ours_seq_mt:.0} calls/s from the \
         main task of a multi-thread runtime (each call then crosses threads). Bare reqwest, the \
         same request with no typed layer, on a current-thread runtime: {bare_seq:.0} calls/s; \
         our client keeps {:.0}% of that. Even a client that cost nothing would be {:.1}× \
         Python here, because the loopback round trip and the server's answer take the rest.",
        100.0 * ours_seq / bare_seq,
        bare_seq / py_seq
    ));
    s.notes.push(format!(
        "What limits the walk: the two cores, which the thread that decodes the pages shares \
         with the client's connection and the emulator, and the wait for each next page, which \
         cannot be asked for before the page with its cursor has arrived. In a profile of the \
         walk (whole machine) the decoding thread is busy about three quarters of the time, \
         the emulator takes about a quarter of the machine, the client's connection a seventh, \
         and about a fifth stays idle. The emulator spent {server_ms:.2} ms per page of \
         1,000 sessions (its request log); reading one such page ({} KB of JSON) into typed \
         sessions takes {decode_ms:.2} ms on one core, its envelope (`ok`, warnings, \
         `response_metadata`) decoded in the same pass, each session's members, its strings \
         included, decoded straight into their places in the page (as `#[derive(Deserialize)]` \
         decodes it, each string and device record built, then moved into its session and the \
         session into the page, the same pass takes {derived_ms:.2} ms); our walk took {ours_page_ms:.2} ms per \
         page end to end. With `.prefetch(true)` the client asks for the next page as soon as \
         it has the page's cursor, read from the page's end in {peek_us:.1} µs (Slack puts \
         `response_metadata` last; a page that ends otherwise is read in full first), and \
         decodes the page meanwhile. Without read-ahead (each page asked for, then decoded, in \
         turn) the same walk ran at {plain_walk:.0} sessions/s ({:.1}× Python). On a \
         current-thread runtime (a thread of its own), with read-ahead, it ran at \
         {current_walk:.0} sessions/s ({:.1}× Python): the walk yields once before it decodes a \
         page, so that the task asking for the next page runs first. Read as the \
         client did before — a pass over the whole page for its envelope and cursor \
         ({envelope_ms:.2} ms, before the next page could be asked for), then the body from \
         bytes, each string checked for UTF-8 on its own and a `String` each for ids and \
         device fields — the same page takes {before_ms:.2} ms ({:.2}×); now the UTF-8 is \
         checked once, in bulk, and ids and device fields up to 24 bytes stay inline \
         (`CompactString`, no allocation). Python took {:.2} ms per page. Each walk figure is \
         the median of {rounds} rounds taking turns (ours ranged {ours_spread} sessions/s, \
         Python {py_spread}), after a round that warms up (in it, ours walked {:.0} \
         sessions/s, Python {:.0}). Not kept: decoding pages on other threads \
         (each page in a task of its own with two pages ahead, so that two decode at once, or on \
         the blocking pool: 0.8–1.0 ms a page, measured outside this benchmark, as the records \
         built on one core are read on another and the decoding competes with the connection's \
         reads), faster JSON decoders \
         (sonic-rs, simd-json: hand-written SIMD `unsafe`; through the same in-place \
         decoder, sonic-rs took 0.43 ms a page against serde_json's 0.39 ms, measured outside \
         this benchmark, without `target-cpu=native`, which a library cannot set), borrowed \
         decoding (each string a `&str` into the page: a page decoded faster than owned, but \
         the walk was no faster, as it then waited on the next page's fetch).",
        page_bytes.len() / 1024,
        plain_walk / py_walk,
        current_walk / py_walk,
        before_ms / decode_ms,
        1000.0 / py_walk * 1000.0,
        cold.0,
        cold.1,
    ));
    s.notes.push(format!(
        "Every walk of every round returned all {} sessions: {}.",
        sizes.sdk_sessions,
        if everyone_walked_all { "yes" } else { "**no**" }
    ));
    Ok(s)
}

/// 4. Pacing: a burst of resets paced to the tier, against the emulator's own limits.
pub(crate) async fn pacing(sizes: &Sizes) -> Result<Section> {
    let n = sizes.pacing_resets;
    let scale = sizes.pacing_scale;
    let emu = Emulator::builder()
        .generate(n + 1, 2 * n)
        .rate_limits(RateLimits::Scale(scale))
        .request_log_capacity(100_000)
        .start()
        .await?;
    // The client's budget matches the emulator's (20 calls per window of 60/scale s); a small
    // headroom absorbs the timer's jitter.
    let headroom = 0.02;
    let c = client(
        &emu.api_url(),
        generate::ADMIN_TOKEN,
        Pacing::scaled(f64::from(scale)).headroom(headroom),
    );
    let start = Instant::now();
    let calls: Vec<_> = (1..=n)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.reset(ResetArgs::new(generate::user_id(i))).await })
        })
        .collect();
    let mut failed = 0;
    for call in calls {
        failed += usize::from(call.await?.is_err());
    }
    let elapsed = start.elapsed().as_secs_f64();
    let limited = emu
        .requests(&RequestFilter {
            status: Some(429),
            ..Default::default()
        })
        .len();
    let resets = emu
        .requests(&RequestFilter {
            method: Some("admin.users.session.reset".into()),
            status: Some(200),
            ..Default::default()
        })
        .len();
    emu.shutdown().await;
    let allowance = 20.0 * f64::from(scale) / 60.0;
    // The bucket starts full: its first 20 calls are free, the rest come at the refill rate.
    let achieved = (n as f64 - 20.0) / elapsed;
    let mut s = Section {
        title: format!("4. Pacing: {n} resets at once against `--rate-limits scale={scale}`"),
        how: format!(
            "All {n} `reset` calls are started at once from one client with `Pacing::scaled({scale})` \
             (headroom {:.0}%); the emulator enforces tier 2 at {scale}× speed: 20 calls per \
             {:.0} ms window, {allowance:.0} calls/s. The achieved rate counts the calls after the \
             first window's free burst; 429s are counted in the emulator's request log.",
            headroom * 100.0,
            60_000.0 / f64::from(scale)
        ),
        ..Section::default()
    };
    s.rows.push(Row::new(
        "achieved rate / tier allowance",
        format!(
            "{achieved:.1} / {allowance:.0} calls/s = {:.1}%",
            100.0 * achieved / allowance
        ),
        "≥ 95%",
        Some(achieved / allowance >= 0.95),
    ));
    s.rows.push(Row::new(
        "429 answers received (request log)",
        limited.to_string(),
        "0",
        Some(limited == 0),
    ));
    s.rows.push(Row::new(
        "resets acknowledged",
        format!("{resets} of {n} ({failed} errors)"),
        format!("{n}"),
        Some(resets == n && failed == 0),
    ));
    Ok(s)
}

/// The time a bucket of `budget` calls per window (full at the start)
/// needs for `calls` calls, in windows.
pub(crate) fn windows(calls: f64, budget: f64) -> f64 {
    (calls - budget).max(0.0) / budget
}

/// The best plan's resolve phase for `emails` addresses spread evenly over `pages` pages of
/// `users.list`: walk `p` pages (finding `emails·p/pages` of them), look the rest up; the best
/// `p` and its time, in windows (tier 2 walks, tier 3 lookups, each bucket full at the start).
fn best_resolve(emails: f64, pages: f64) -> (f64, f64) {
    (0..=pages as usize)
        .map(|p| {
            let p = p as f64;
            let left = emails * (1.0 - p / pages);
            (p, windows(p, 20.0) + windows(left, 50.0))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0.0, 0.0))
}

/// Counts the emulator's request log by method (every page of `GET /_emulator/requests`).
async fn calls_by_method(base: &str) -> Result<std::collections::BTreeMap<String, usize>> {
    let http = reqwest::Client::new();
    let mut counts = std::collections::BTreeMap::new();
    let mut after = 0u64;
    loop {
        let page: serde_json::Value = http
            .get(format!(
                "{base}/_emulator/requests?limit=10000&after={after}"
            ))
            .send()
            .await?
            .json()
            .await?;
        for r in page["requests"].as_array().context("requests")? {
            *counts
                .entry(r["method"].as_str().unwrap_or("").to_owned())
                .or_insert(0) += 1;
        }
        match page["next_after"].as_u64() {
            Some(next) => after = next,
            None => return Ok(counts),
        }
    }
}

/// Section 5, offboarding at the rate limits: the CLI against `--rate-limits scale=N`, its
/// wall time against the least time the limits allow for the calls the best plan needs.
pub(crate) async fn offboarding(sizes: &Sizes) -> Result<Section> {
    let (users, sessions, scale) = (
        sizes.offboard_users,
        sizes.offboard_sessions,
        sizes.offboard_scale,
    );
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("offboard.db");
    let scale_arg = format!("scale={scale}");
    let generate = format!("{users}:{sessions}");
    let (mut emu, api, _) = spawn_serve(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        db.to_str().context("a UTF-8 path")?,
        "--generate",
        &generate,
        "--rate-limits",
        &scale_arg,
        "--bulk-delay-ms",
        "0",
    ])?;
    let base = api
        .trim_end_matches('/')
        .trim_end_matches("/api")
        .to_owned();
    let window = 60.0 / f64::from(scale);
    let exe = std::env::current_exe()?.with_file_name("slack-sessions");
    let http = reqwest::Client::new();
    let mut s = Section {
        title: format!(
            "5. Offboarding at the rate limits: {users} users, {sessions} sessions, `--rate-limits scale={scale}`"
        ),
        how: format!(
            "`slack-sessions offboard FILE --yes --pacing scale={scale}` (the release binary, \
             defaults otherwise: `--resolve-by auto`, `resetBulk` batches of 1,000, `--verify-by \
             auto`) against `serve --generate {generate} --rate-limits {scale_arg} --bulk-delay-ms 0` \
             (a window is {window:.1} s: tier 2 allows 20 calls a window, tier 3 50), leavers' \
             emails spread evenly over the org. The floor is the least time Slack's buckets (full \
             at the start) allow for the calls of the best plan, phase after phase: resolve \
             (walk p pages of `users.list`, 1,000 users each, and look the rest up, p chosen \
             best), one `resetBulk` per 1,000 users, verify (one walk of the org's remaining \
             sessions, 1,000 a page). The ratio is the run's wall time over that floor."
        ),
        ..Section::default()
    };
    for &leavers in &sizes.offboard_leavers {
        let _ = http.post(format!("{base}/_emulator/reset")).send().await?;
        let _ = http
            .delete(format!("{base}/_emulator/requests"))
            .send()
            .await?;
        let stride = (users - 1) / leavers;
        let emails: Vec<String> = (0..leavers)
            .map(|j| format!("user{}@scale.example", 1 + j * stride))
            .collect();
        let file = dir.path().join(format!("leavers-{leavers}.txt"));
        std::fs::write(&file, emails.join("\n"))?;
        let started = Instant::now();
        let out = Command::new(&exe)
            .args(["--api-url", &api, "--pacing", &scale_arg, "-q", "offboard"])
            .arg(&file)
            .args(["--yes", "-o", "json"])
            .env("SLACK_TOKEN", generate::ADMIN_TOKEN)
            .stdin(Stdio::null())
            .output()?;
        let wall = started.elapsed().as_secs_f64();
        let code = out.status.code();
        let calls = calls_by_method(&base).await?;
        let per_user = sessions as f64 / users as f64;
        let pages = (users as f64 / 1000.0).ceil();
        let (walk_pages, resolve) = best_resolve(leavers as f64, pages);
        let resets = (leavers as f64 / 1000.0).ceil();
        let verify_pages = ((sessions as f64 - per_user * leavers as f64) / 1000.0).ceil();
        let floor_windows = resolve + windows(resets, 20.0) + windows(verify_pages, 20.0);
        let floor = floor_windows * window;
        // At toy sizes every call fits in its bucket's burst: no floor to compare with.
        let ratio = (floor > 0.0).then(|| wall / floor);
        let used: Vec<String> = calls
            .iter()
            .filter(|(m, _)| !m.starts_with("auth."))
            .map(|(m, n)| format!("{n} {m}"))
            .collect();
        s.rows.push(Row::new(
            format!("{leavers} emails: wall time / floor"),
            format!(
                "{wall:.1} s / {floor:.1} s = {} (exit {}; calls: {}; best plan: walk {walk_pages:.0} of {pages:.0} pages, look up {:.0}, {resets:.0} resetBulk, {verify_pages:.0} list pages)",
                ratio.map_or("— (every call fits in its burst)".to_owned(), |r| format!("{r:.2}")),
                code.map_or("killed".to_owned(), |c| c.to_string()),
                used.join(", "),
                leavers as f64 * (1.0 - walk_pages / pages),
            ),
            "≤ 1.3",
            ratio.map(|r| r <= 1.3 && code == Some(0)),
        ));
    }
    let _ = emu.kill();
    let _ = emu.wait();
    Ok(s)
}

/// Runs `slack-sessions ARGS` against `api` with `token`, its output counted and dropped;
/// returns its exit status, the lines it printed and its peak memory (VmHWM, MiB), read while
/// it runs (the high-water mark only rises).
fn cli_peak(api: &str, token: &str, args: &[&str]) -> Result<(bool, usize, f64, Duration)> {
    let exe = std::env::current_exe()?.with_file_name("slack-sessions");
    let started = Instant::now();
    // Through a wrapper that reads the kernel's count once the CLI has exited: sampling
    // /proc while it runs missed the peak of a run shorter than a few samples.
    let mut child = Command::new("python3")
        .arg(root().join("crates/bench/drivers/peak_rss.py"))
        .arg(exe)
        .args(["--api-url", api, "--pacing", "off", "-q"])
        .args(args)
        .env("SLACK_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out = child.stdout.take().context("stdout")?;
    let counter = std::thread::spawn(move || BufReader::new(out).lines().count());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().context("stderr")?, &mut err)?;
    let status = child.wait()?;
    let lines = counter.join().unwrap_or(0);
    let peak_kib: f64 = err
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .with_context(|| format!("peak_rss.py printed no figure: {err:?}"))?;
    Ok((
        status.success(),
        lines,
        peak_kib / 1024.0,
        started.elapsed(),
    ))
}

/// Section 6: `sessions list` with a filter over an org of a million sessions, the peak memory
/// of the CLI against the same command over an org a hundred times smaller.
pub(crate) fn filtered_list(sizes: &Sizes) -> Result<Section> {
    let dir = tempfile::tempdir()?;
    let args = [
        "sessions",
        "list",
        "--ip",
        "24.0.0.0/8",
        "--client",
        "mobile",
        "-o",
        "ndjson",
    ];
    let serve = |users: usize, sessions: usize| -> Result<(std::process::Child, String)> {
        let db = dir.path().join(format!("list-{sessions}.db"));
        let size = format!("{users}:{sessions}");
        let (child, api, _) = spawn_serve(&[
            "--addr",
            "127.0.0.1:0",
            "--db",
            db.to_str().context("a UTF-8 path")?,
            "--generate",
            &size,
            "--rate-limits",
            "off",
        ])?;
        Ok((child, api))
    };
    let no_names: Vec<&str> = args.iter().copied().chain(["--no-names"]).collect();
    let big = (sizes.scale_users, sizes.scale_sessions);
    let small = ((big.0 / 100).max(10), (big.1 / 100).max(100));
    let (mut child, api) = serve(small.0, small.1)?;
    let small_bare = cli_peak(&api, generate::ADMIN_TOKEN, &no_names);
    let _ = child.kill();
    let _ = child.wait();
    let (ok_small, lines_small, rss_small, _) = small_bare?;
    let (mut child, api) = serve(big.0, big.1)?;
    let big_bare = cli_peak(&api, generate::ADMIN_TOKEN, &no_names);
    let big_named = cli_peak(&api, generate::ADMIN_TOKEN, &args);
    let _ = child.kill();
    let _ = child.wait();
    let (ok_big, lines_big, rss_big, took) = big_bare?;
    let (ok_named, lines_named, rss_named, took_named) = big_named?;
    let mut s = Section {
        title: format!(
            "6. A filtered session list over {} sessions: the CLI's memory",
            big.1
        ),
        how: format!(
            "`slack-sessions {}` (pacing off) against `serve --generate {}:{}`, its output counted \
             and dropped; the CLI process's peak memory is the kernel's count (`ru_maxrss`, read by \
             `crates/bench/drivers/peak_rss.py` once the CLI has exited). With \
             `--no-names` it is compared with the same command over an org a hundred times \
             smaller ({}:{}): filters are checked as pages arrive, so memory does not grow with \
             the sessions. With names, each user met is read once from users.list and kept: that \
             memory grows with the org's users (here {}), not with its sessions.",
            args.join(" "),
            big.0,
            big.1,
            small.0,
            small.1,
            big.0,
        ),
        ..Section::default()
    };
    s.rows.push(Row::new(
        "sessions printed, --no-names (1,000,000-session org / small org)",
        format!("{lines_big} / {lines_small} in {:.1} s", took.as_secs_f64()),
        "both runs exit 0",
        Some(ok_big && ok_small && lines_big > 0),
    ));
    s.rows.push(Row::new(
        "CLI peak memory --no-names, big org / small org",
        format!(
            "{:.2} ({rss_big:.1} MiB / {rss_small:.1} MiB)",
            rss_big / rss_small
        ),
        "≤ 2 for 100 times the sessions (flat)",
        Some(rss_big / rss_small <= 2.0),
    ));
    s.rows.push(Row::new(
        "CLI peak memory with names, big org",
        format!(
            "{rss_named:.1} MiB ({lines_named} sessions in {:.1} s)",
            took_named.as_secs_f64()
        ),
        "≤ 64 MiB",
        Some(ok_named && rss_named <= 64.0),
    ));
    Ok(s)
}

/// The median and 99th percentile of `xs`.
fn p50_p99(mut xs: Vec<f64>) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    let at = |q: f64| xs[((xs.len() as f64 * q) as usize).min(xs.len() - 1)];
    (at(0.5), at(0.99))
}

/// One timed `GET /audit/v1/logs`: milliseconds, entries, next cursor.
async fn logs_page(
    http: &reqwest::Client,
    audit: &str,
    query: &[(&str, &str)],
) -> Result<(f64, usize, String)> {
    let started = Instant::now();
    let answer = http
        .get(format!("{audit}logs"))
        .bearer_auth(generate::ADMIN_TOKEN)
        .query(query)
        .send()
        .await?;
    let status = answer.status();
    let body = answer.bytes().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if status != 200 {
        bail!(
            "/logs answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let page: serde_json::Value = serde_json::from_slice(&body)?;
    let entries = page["entries"].as_array().map_or(0, Vec::len);
    let next = page["response_metadata"]["next_cursor"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    Ok((ms, entries, next))
}

/// Every page of a filter, timed, and the cursors that asked for the pages after the first.
async fn timed_walk(
    http: &reqwest::Client,
    audit: &str,
    filter: &[(&str, &str)],
) -> Result<(Vec<f64>, usize, Vec<String>)> {
    let (mut times, mut entries, mut cursors) = (Vec::new(), 0, Vec::<String>::new());
    loop {
        let mut query = filter.to_vec();
        query.push(("limit", "1000"));
        if let Some(cursor) = cursors.last() {
            query.push(("cursor", cursor));
        }
        let (ms, n, next) = logs_page(http, audit, &query).await?;
        times.push(ms);
        entries += n;
        if next.is_empty() {
            return Ok((times, entries, cursors));
        }
        cursors.push(next);
    }
}

/// The size of an SQLite database in WAL mode: its file and its write-ahead log.
fn db_size(db: &Path) -> u64 {
    let wal = db.with_extension("db-wal");
    [db, wal.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Section 7: Slack's Audit Logs API over a million entries; filtered pages against the
/// unfiltered first page, the first and a deep page of a filter, and the emulator's memory.
pub(crate) async fn audit_logs(sizes: &Sizes) -> Result<Section> {
    let dir = tempfile::tempdir()?;
    let n = sizes.audit_entries;
    let users = sizes.audit_users;
    let serve = |entries: usize| -> Result<(std::process::Child, String, Duration, PathBuf)> {
        let db = dir.path().join(format!("audit-{entries}.db"));
        let size = format!("{users}:{users}:{entries}");
        let (child, api, seeded) = spawn_serve(&[
            "--addr",
            "127.0.0.1:0",
            "--db",
            db.to_str().context("a UTF-8 path")?,
            "--generate",
            &size,
            "--rate-limits",
            "off",
        ])?;
        Ok((child, api, seeded, db))
    };
    let http = reqwest::Client::new();
    let reps = if sizes.smoke { 5 } else { 31 };
    let walks = if sizes.smoke { 1 } else { 3 };
    let actor = generate::user_id(users / 2);
    let filters: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "two actions: user_login_failed,anomaly",
            vec![("action", "user_login_failed,anomaly")],
        ),
        (
            "one action: user_session_reset_by_admin",
            vec![("action", "user_session_reset_by_admin")],
        ),
        (
            "one actor, sign-ins and sign-outs",
            vec![
                ("actor", actor.as_str()),
                ("action", "user_login,user_logout"),
            ],
        ),
    ];

    // The same org with a log a hundred times smaller, asked the same pages: the memory to
    // compare with.
    let small = n / 100;
    let (mut bare, bare_api, bare_seeded, bare_db) = serve(small)?;
    let bare_audit = bare_api.replace("/api/", "/audit/v1/");
    for _ in 0..reps {
        logs_page(&http, &bare_audit, &[("limit", "1000")]).await?;
    }
    for (_, filter) in &filters {
        timed_walk(&http, &bare_audit, filter).await?;
    }
    let bare_rss = peak_rss_mib(bare.id());
    let _ = bare.kill();
    let _ = bare.wait();
    let bare_size = db_size(&bare_db);

    let (mut child, api, seeded, db) = serve(n)?;
    let audit = api.replace("/api/", "/audit/v1/");
    let mut first = Vec::new();
    for _ in 0..reps {
        first.push(logs_page(&http, &audit, &[("limit", "1000")]).await?.0);
    }
    let (first_p50, first_p99) = p50_p99(first);
    let mut filtered = Vec::new();
    for (name, filter) in &filters {
        let mut times = Vec::new();
        let (mut pages, mut entries, mut deep) = (0, 0, None);
        for _ in 0..walks {
            let (t, e, cursors) = timed_walk(&http, &audit, filter).await?;
            pages = t.len();
            entries = e;
            // The deepest full page: the one before the last (the last may be short).
            deep = cursors.len().checked_sub(2).map(|i| cursors[i].clone());
            times.extend(t);
        }
        filtered.push((*name, p50_p99(times), pages, entries, deep));
    }
    // Depth: the first and the deepest full page of the two-action filter, each timed alone.
    let (_, deep_filter) = &filters[0];
    let time_page = |cursor: Option<String>| {
        let http = http.clone();
        let audit = audit.clone();
        let filter = deep_filter.clone();
        async move {
            let mut t = Vec::new();
            for _ in 0..reps {
                let mut query = filter.clone();
                query.push(("limit", "1000"));
                if let Some(c) = &cursor {
                    query.push(("cursor", c));
                }
                t.push(logs_page(&http, &audit, &query).await?.0);
            }
            anyhow::Ok(median(t))
        }
    };
    let first_filtered = time_page(None).await?;
    let last_filtered = time_page(filtered[0].4.clone()).await?;
    let rss = peak_rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let size = db_size(&db);

    let mut s = Section {
        title: format!("9. The Audit Logs API over {n} entries"),
        how: format!(
            "`slack-sessions serve --generate {users}:{users}:{n} --db FILE` (the release binary) \
             fills a new database with {n} audit-log entries over 30 days (60% sign-ins, 30% \
             sign-outs, 6% failed sign-ins, 2% resets, 1% settings changes, 1% anomalies, over \
             {users} users) and serves them; every page is `GET /audit/v1/logs` with `limit=1000` \
             over loopback (reqwest, the body read whole), timed from request to last byte. \
             Filtered pages follow their cursors to the end of the filter ({walks} walk(s) each); \
             the unfiltered first page is asked for {reps} times. A filter reads its own index, \
             not the whole log, but its entries are spread over the file (a page of the newest \
             entries reads neighbours): hence a target of a few times the newest page, where a \
             scan would cost ten to a hundred times. Memory is the emulator's VmHWM, generation \
             included, against the same org with a log a hundred times smaller \
             (`--generate {users}:{users}:{small}`), asked the same pages."
        ),
        ..Section::default()
    };
    s.rows.push(Row::new(
        format!("seeding {n} entries (generate, commit, serve)"),
        format!(
            "{:.1} s ({:.1} s for {small}); database and its log {:.0} MiB ({:.1} MiB for {small})",
            seeded.as_secs_f64(),
            bare_seeded.as_secs_f64(),
            size as f64 / 1048576.0,
            bare_size as f64 / 1048576.0
        ),
        "< 60 s",
        Some(seeded.as_secs_f64() < 60.0),
    ));
    s.rows.push(Row::new(
        "unfiltered first page (limit 1,000)",
        format!("p50 {first_p50:.2} ms, p99 {first_p99:.2} ms"),
        "—",
        None,
    ));
    for (name, (p50, p99), pages, entries, _) in &filtered {
        s.rows.push(Row::new(
            format!("filtered, {name}: every page"),
            format!(
                "p50 {p50:.2} ms, p99 {p99:.2} ms ({pages} pages, {entries} entries); p50 / unfiltered first page = {:.2}",
                p50 / first_p50
            ),
            "p50 ≤ 4 × the unfiltered first page",
            Some(*p50 <= 4.0 * first_p50),
        ));
    }
    s.rows.push(Row::new(
        "deepest full page / first page of the two-action filter",
        format!(
            "{:.2} ({last_filtered:.2} ms / {first_filtered:.2} ms)",
            last_filtered / first_filtered
        ),
        "≤ 1.2",
        Some(last_filtered / first_filtered <= 1.2),
    ));
    s.rows.push(Row::new(
        format!("emulator peak memory with {n} entries / with {small}"),
        format!("{:.2} ({rss:.0} MiB / {bare_rss:.0} MiB)", rss / bare_rss),
        "≤ 1.25 (entries live in SQLite, not in memory)",
        // At the smoke's toy sizes SQLite's fixed page cache outweighs the log: not judged.
        (!sizes.smoke).then_some(rss / bare_rss <= 1.25),
    ));
    Ok(s)
}
