//! The test bench: an emulator embedded in the test (its own tokio runtime, 127.0.0.1:0) and
//! the real `slack-sessions` binary run against it as a child process.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use slack_sessions_emulator::{
    Emulator, EmulatorBuilder, LoggedRequest, RateLimits, RequestFilter, Seed, demo,
};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_slack-sessions");

/// The write methods of the API.
pub const WRITES: [&str; 5] = [
    "admin.users.session.invalidate",
    "admin.users.session.reset",
    "admin.users.session.resetBulk",
    "admin.users.session.setSettings",
    "admin.users.session.clearSettings",
];

/// An emulator, a working directory and a token.
pub struct Env {
    emu: Option<Emulator>,
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    /// The token the commands use.
    pub token: String,
}

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output if it differs.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Env {
    /// The demo org, rate limits off, resetBulk jobs run after 20 ms.
    pub fn demo() -> Env {
        Env::start(Env::builder().seed(Seed::demo()), demo::ADMIN_TOKEN)
    }

    /// An emulator builder with rate limits off and resetBulk jobs run after 20 ms.
    pub fn builder() -> EmulatorBuilder {
        Emulator::builder()
            .rate_limits(RateLimits::Off)
            .bulk_delay(Duration::from_millis(20))
    }

    /// Starts the emulator of `builder`; the commands use `token`.
    pub fn start(builder: EmulatorBuilder, token: &str) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emu = rt.block_on(builder.start()).expect("the emulator starts");
        Env {
            emu: Some(emu),
            rt,
            dir: tempfile::tempdir().unwrap(),
            token: token.to_owned(),
        }
    }

    /// The emulator.
    pub fn emu(&self) -> &Emulator {
        self.emu.as_ref().unwrap()
    }

    /// Its API URL.
    pub fn api_url(&self) -> String {
        self.emu().api_url()
    }

    /// The working directory of the commands.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path in the working directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the working directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Reads a file of the working directory.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// The command, set up: the emulator's URL, the token in SLACK_TOKEN, no pacing, the
    /// working directory, no terminal anywhere.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(["--api-url", &self.api_url(), "--pacing", "off"])
            .args(args)
            .current_dir(self.dir())
            .env("SLACK_TOKEN", &self.token)
            .env("SLACK_SESSIONS_STATE_DIR", self.dir().join(".state"))
            .env_remove("SLACK_API_URL")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs the binary to its end.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_cmd(self.command(args))
    }

    /// Runs a prepared command to its end (at most a minute).
    pub fn run_cmd(&self, mut cmd: Command) -> Run {
        let child = cmd.spawn().expect("the binary starts");
        let out = wait_output(child, Duration::from_secs(60));
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains(&self.token), "the token was echoed:\n{text}");
        }
        run
    }

    /// Starts the binary without waiting for it.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).spawn().expect("the binary starts")
    }

    /// Replaces what changes from run to run (the emulator's URL, the working directory, the
    /// random request ids the client's errors name: `request 5f2b…` of 32 hex digits).
    pub fn redact(&self, text: &str) -> String {
        let dir = self.dir().display().to_string();
        let text = text
            .replace(&self.api_url(), "[API]/")
            .replace(&dir, "[DIR]");
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find("request ") {
            let (head, tail) = rest.split_at(at + "request ".len());
            out.push_str(head);
            let id = tail
                .get(..32)
                .filter(|id| id.bytes().all(|b| b.is_ascii_hexdigit()));
            rest = match id {
                Some(_) => {
                    out.push_str("[ID]");
                    &tail[32..]
                }
                None => tail,
            };
        }
        out.push_str(rest);
        out
    }

    /// The requests the emulator received for `method`.
    pub fn requests(&self, method: &str) -> Vec<LoggedRequest> {
        self.emu().requests(&RequestFilter {
            method: Some(method.to_owned()),
            ..Default::default()
        })
    }

    /// Every request the emulator received.
    pub fn all_requests(&self) -> Vec<LoggedRequest> {
        self.emu().requests(&RequestFilter::default())
    }

    /// The emulator's state.
    pub fn export(&self) -> Seed {
        self.emu().export()
    }

    /// Sessions per user, as the emulator holds them.
    pub fn sessions_by_user(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for org in self.export().orgs {
            for s in org.sessions {
                *out.entry(s.user_id).or_default() += 1;
            }
        }
        out
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(emu) = self.emu.take() {
            self.rt.block_on(emu.shutdown());
        }
    }
}

/// Waits for a child's output (read as it comes, so a full pipe never blocks the child),
/// killing it after `limit`.
pub fn wait_output(mut child: Child, limit: Duration) -> std::process::Output {
    use std::io::Read;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let out = String::from_utf8_lossy(&stdout.join().unwrap()).into_owned();
            let err = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
            panic!("the binary ran over {limit:?}\n--- stdout\n{out}\n--- stderr\n{err}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// The user IDs a reset or resetBulk request named.
pub fn users_of(entry: &LoggedRequest) -> Vec<String> {
    let value = entry
        .args
        .get("user_ids")
        .or_else(|| entry.args.get("user_id"))
        .cloned()
        .unwrap_or(Value::Null);
    match value {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => match serde_json::from_str::<Vec<String>>(&s) {
            Ok(list) => list,
            Err(_) => s
                .split(',')
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect(),
        },
        _ => Vec::new(),
    }
}

/// How often each user was named by a successful reset or resetBulk.
pub fn reset_counts(env: &Env) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for method in ["admin.users.session.reset", "admin.users.session.resetBulk"] {
        for entry in env.requests(method) {
            if entry.status == 200 && entry.error.is_none() {
                for u in users_of(&entry) {
                    *counts.entry(u).or_default() += 1;
                }
            }
        }
    }
    counts
}

/// A Grid org of `users` users (`W0000000`…, emails `user{i}@big.example`), each with one or
/// two sessions of every client kind, and an owner with token `xoxp-big-admin`.
pub fn big_seed(users: usize) -> Seed {
    let team = "T0BIG0001";
    let mut people = vec![json!({
        "id": "W0ADMIN01", "name": "admin", "email": "admin@big.example",
        "role": "owner", "teams": [team]
    })];
    let mut sessions = Vec::new();
    let devices = [
        ("web", "Intel", "OS X", "14.6", "131.0"),
        ("desktop", "x86_64", "Windows", "11", "4.41.105"),
        ("mobile", "iPhone15,3", "iOS", "18.1", "24.11.10"),
    ];
    let mut next_id = 5_000_000_000u64;
    for i in 0..users {
        let id = format!("W{i:07}");
        people.push(json!({
            "id": id, "name": format!("user{i}"), "email": format!("user{i}@big.example"),
            "teams": [team]
        }));
        for k in 0..(1 + i % 2) {
            let (client, hw, os, ver, app) = devices[(i + k) % 3];
            next_id += 1;
            sessions.push(json!({
                "session_id": next_id, "user_id": id, "team_id": team, "client": client,
                "created": {"device_hardware": hw, "os": os, "os_version": ver,
                            "slack_client_version": app, "ip": "203.0.113.9"}
            }));
        }
    }
    let seed = json!({"orgs": [{
        "id": "E0BIG0001", "name": "Big Corp", "teams": [{"id": team, "name": "Big"}],
        "users": people,
        "tokens": [{"token": "xoxp-big-admin", "user_id": "W0ADMIN01",
                    "scopes": ["admin.users:read", "admin.users:write", "users:read.email"]}],
        "sessions": sessions,
    }]});
    Seed::from_json(seed).expect("a valid seed")
}

/// Waits until `cond` holds (at most `limit`).
pub fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !cond() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Writes `text` to a new file with `mode`.
#[cfg(unix)]
pub fn write_with_mode(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Parses a CSV report into rows of (column → value).
pub fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// `slack-sessions serve` as a process of its own; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

/// Starts `slack-sessions serve ARGS` and waits for the URL it prints.
pub fn serve(args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slack-sessions"))
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let api = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("URL")
        .to_owned();
    // Keep reading stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let base = api.trim_end_matches("/api/").to_owned();
    Server { child, base }
}

/// What [`kill_at_random_points`] saw.
pub struct Kills {
    /// Runs killed.
    pub kills: usize,
    /// Kills after which the run had journaled a result (some work was done and answered).
    pub progressed: usize,
    /// Kills that left an intent without its result (an answer lost).
    pub mid_call: usize,
}

/// Starts `args` `kills` times and kills each run with SIGKILL a seeded random moment (below
/// `max_ms`) after it journals its first new intent (`"type":"intent"`) in `journal`: counted
/// from there, not from the start, so that on a slow machine too every kill lands among the
/// calls. Panics if a run finishes first.
pub fn kill_at_random_points(
    env: &Env,
    args: &[&str],
    journal: &Path,
    kills: usize,
    max_ms: u64,
    seed: u64,
) -> Kills {
    use rand::{Rng, SeedableRng};
    let counts = || {
        let text = std::fs::read_to_string(journal).unwrap_or_default();
        (
            text.matches("\"type\":\"intent\"").count(),
            text.matches("\"type\":\"result\"").count(),
        )
    };
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut seen = Kills {
        kills: 0,
        progressed: 0,
        mid_call: 0,
    };
    while seen.kills < kills {
        let before = counts();
        // Its output is not read: to /dev/null, so that a full pipe never holds it up.
        let mut child = env
            .command(args)
            .stdout(Stdio::null())
            .spawn()
            .expect("the binary starts");
        wait_for(Duration::from_secs(30), "the run's first call", || {
            counts().0 > before.0
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(0..max_ms)));
        if child.try_wait().unwrap().is_some() {
            panic!(
                "the run finished after only {} kills; the test needs more work per run",
                seen.kills
            );
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        seen.kills += 1;
        let after = counts();
        seen.progressed += usize::from(after.1 > before.1);
        seen.mid_call += usize::from(after.0 > after.1);
    }
    eprintln!(
        "{} kills: {} after some calls were answered, {} with an intent unanswered",
        seen.kills, seen.progressed, seen.mid_call
    );
    seen
}
