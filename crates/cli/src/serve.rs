//! `slack-sessions serve`: the emulator.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use slack_sessions_emulator::{Emulator, RateLimits, Seed, StartError, StoreError, demo, generate};

use crate::exit::Failure;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  slack-sessions serve --demo
  slack-sessions serve --db :memory: --seed seed.json --rate-limits off
  slack-sessions serve --addr 127.0.0.1:0 --rate-limits scale=60
  make-seed | slack-sessions serve --db :memory: --seed -")]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// SQLite database file, or :memory:.
    #[arg(long, default_value = "slack-sessions.db")]
    db: String,
    /// Seed file (JSON) for a new database, and what /_emulator/reset restores; `-` reads one
    /// JSON document from standard input instead (nothing is written to disk).
    #[arg(long, conflicts_with = "demo")]
    seed: Option<PathBuf>,
    /// Seed a realistic demo org and print an admin token and example calls.
    #[arg(long, conflicts_with = "generate")]
    demo: bool,
    /// Fill a new database with a synthetic org of USERS users and SESSIONS sessions, and
    /// AUDIT_LOGS entries in its audit log (org E0SCALE001, token xoxp-scale-admin): for scale
    /// tests and benchmarks.
    #[arg(long, value_name = "USERS:SESSIONS[:AUDIT_LOGS]", conflicts_with = "seed", value_parser = |s: &str| s.parse::<generate::Sizes>())]
    generate: Option<generate::Sizes>,
    /// Rate limits: slack (Slack's tiers), off, or scale=N (N times faster windows).
    #[arg(long, default_value = "slack", value_parser = |s: &str| s.parse::<RateLimits>())]
    rate_limits: RateLimits,
    /// Delay before a queued resetBulk job runs, in milliseconds.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    bulk_delay_ms: u64,
    /// Do not serve the /_emulator/ control plane.
    #[arg(long)]
    no_control: bool,
    /// Bearer token the /_emulator/ control plane demands (required on a non-loopback --addr).
    #[arg(long, env = "SLACK_SESSIONS_CONTROL_TOKEN", hide_env_values = true)]
    control_token: Option<String>,
    /// Seed of the random source behind fault probabilities.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Answer a list of one user's sessions that finds none with the error no_active_sessions
    /// (Slack documents it without saying when), instead of an empty page.
    #[arg(long)]
    no_active_sessions: bool,
    /// Shut down when standard input reaches end of file. A parent process that keeps the write
    /// end of a pipe open gets a server that dies with it, however the parent dies (SIGKILL
    /// included): the kernel closes the pipe. With `--seed -` the seed comes first on that pipe.
    #[arg(long)]
    exit_on_stdin_close: bool,
}

/// How long a shutdown after the end of standard input may wait for in-flight requests.
const STDIN_CLOSE_GRACE: Duration = Duration::from_secs(3);

/// Runs the emulator until Ctrl-C.
pub async fn run(args: ServeArgs) -> crate::exit::Result<()> {
    serve(args).await
}

/// Why the emulator did not start, with what to do where there is something to say.
fn refusal(err: StartError) -> Failure {
    let hint = match &err {
        StartError::Store(StoreError::InUse { .. }) => Some(
            "stop the other emulator, or give this one a file of its own: --db another.db \
             (or --db :memory:)",
        ),
        _ => None,
    };
    let failure = Failure::other(crate::exit::chain(
        &anyhow::Error::new(err).context("cannot start the emulator"),
    ));
    match hint {
        Some(hint) => failure.hint(hint),
        None => failure,
    }
}

/// What `serve` prints once it listens: its URL and, for the demo org, the admin token (public
/// test data, in the emulator's code) with calls to try it and the variables every CLI example
/// needs. A seed of one's own has its own tokens: none of them is printed.
fn banner(args: &ServeArgs, emulator: &Emulator) -> String {
    use std::fmt::Write;
    let api = emulator.api_url();
    let token = demo::ADMIN_TOKEN;
    let mut out = format!("slack-sessions emulator listening on {api}\n");
    let orgs = emulator.org_ids();
    if args.demo && !orgs.iter().any(|o| o == demo::ORG_ID) {
        // The file's own state was kept, and it has no demo org: its tokens would all fail.
        let _ = writeln!(
            out,
            "{} already holds other state (orgs: {}), kept as it is: the demo tokens do not work \
             on it. POST {}/_emulator/reset replaces it with the demo org, or start with another --db.",
            args.db,
            orgs.join(", "),
            emulator.url()
        );
    } else if args.demo {
        if emulator.kept_existing_state() {
            let _ = writeln!(
                out,
                "kept the state already in {} (POST /_emulator/reset restores the demo seed)",
                args.db
            );
        }
        let _ = writeln!(
            out,
            "demo org Acme Corp ({}); admin token: {token}",
            demo::ORG_ID
        );
        let _ = writeln!(out, "for the CLI, in another terminal:");
        let _ = writeln!(out, "  export SLACK_API_URL={api} SLACK_TOKEN={token}");
        let _ = writeln!(out, "  slack-sessions sessions list --user W0DEMO0005");
        let _ = writeln!(out, "or with curl:");
        let _ = writeln!(
            out,
            "  curl -s -H 'Authorization: Bearer {token}' {api}auth.test"
        );
        let _ = writeln!(
            out,
            "  curl -s -H 'Authorization: Bearer {token}' -d limit=5 {api}admin.users.session.list"
        );
        let _ = writeln!(
            out,
            "  curl -s -H 'Authorization: Bearer {token}' -d user_id=W0DEMO0005 -d mobile_only=true {api}admin.users.session.reset"
        );
        let _ = writeln!(
            out,
            "  curl -s -H 'Authorization: Bearer {token}' '{}logs?limit=5&action=user_login'",
            emulator.audit_url()
        );
    }
    out
}

async fn serve(args: ServeArgs) -> crate::exit::Result<()> {
    let seed = match (&args.seed, args.demo) {
        (Some(path), _) if path.as_os_str() == "-" => Some(seed_from_stdin()?),
        (Some(path), _) => Some(Seed::from_file(path).map_err(anyhow::Error::from)?),
        (None, true) => Some(Seed::demo()),
        (None, false) => None,
    };
    let mut builder = Emulator::builder()
        .addr(args.addr)
        .rate_limits(args.rate_limits)
        .bulk_delay(Duration::from_millis(args.bulk_delay_ms))
        .control(!args.no_control)
        .fault_seed(args.fault_seed)
        .no_active_sessions(args.no_active_sessions);
    if let Some(token) = &args.control_token {
        builder = builder.control_token(token.clone());
    }
    if args.db != ":memory:" {
        builder = builder.db_path(&args.db);
    }
    if let Some(seed) = seed {
        builder = builder.seed(seed);
    }
    if let Some(sizes) = args.generate {
        builder = builder
            .generate(sizes.users, sizes.sessions)
            .generate_audit_logs(sizes.audit_logs);
    }
    let mut emulator = builder.start().await.map_err(refusal)?;
    // One write: a reader that takes the first line (`| head -1`) gets them all at once.
    print!("{}", banner(&args, &emulator));
    // Watched only from here on: the seed, if read from standard input, is already consumed.
    let watcher = args.exit_on_stdin_close.then(stdin_eof);
    let stdin_closed = async {
        match watcher {
            Some(eof) => {
                let _ = eof.await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("Ctrl-C: shutting down");
            emulator.shutdown().await;
        }
        _ = stdin_closed => {
            tracing::info!("standard input closed: shutting down");
            // The parent has died or is stopping us: the wait for its requests is bounded.
            let _ = tokio::time::timeout(STDIN_CLOSE_GRACE, emulator.shutdown()).await;
        }
        _ = emulator.wait() => {}
    }
    Ok(())
}

/// Reads the seed as the first JSON document on standard input, and nothing after it (what
/// follows is left for [`stdin_eof`]).
fn seed_from_stdin() -> anyhow::Result<Seed> {
    let mut stdin = std::io::stdin().lock();
    let value: serde_json::Value =
        serde::Deserialize::deserialize(&mut serde_json::Deserializer::from_reader(&mut stdin))
            .context("cannot read the seed (JSON) from standard input")?;
    Ok(Seed::from_json(value)?)
}

/// Resolves once standard input reaches end of file (or fails), on a thread of its own: a
/// blocking read is the only portable way to wait for it.
fn stdin_eof() -> tokio::sync::oneshot::Receiver<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            match stdin.fill_buf() {
                Ok([]) => break,
                Ok(buf) => {
                    let n = buf.len();
                    stdin.consume(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(());
    });
    rx
}
