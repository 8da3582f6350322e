//! The emulator as a process under faults: `kill -9` at seeded random points with a write load
//! running, and a bounded mixed load with Slack's rate limits on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::harness::serve;

const TOKEN: &str = "xoxp-crash-admin";
const USERS_PER_ROUND: usize = 64;
const ROUNDS: usize = 20;

fn crash_seed(path: &Path) {
    let users: Vec<Value> = (0..ROUNDS * USERS_PER_ROUND)
        .map(|i| json!({"id": format!("W{i:08}"), "name": format!("u{i}"), "teams": ["T0CRASH01"]}))
        .chain([
            json!({"id": "W0ADMIN01", "name": "admin", "role": "owner", "teams": ["T0CRASH01"]}),
        ])
        .collect();
    let seed = json!({"orgs": [{
        "id": "E0CRASH01", "name": "Crash", "teams": [{"id": "T0CRASH01", "name": "Crash"}],
        "users": users,
        "tokens": [{"token": TOKEN, "user_id": "W0ADMIN01", "scopes": ["admin.users:read", "admin.users:write"]}],
    }]});
    std::fs::write(path, seed.to_string()).unwrap();
}

/// What the load was told was done (acknowledged), and what was in flight when the server died.
#[derive(Clone, Default, Debug)]
struct Acks {
    /// (user pair) → last acknowledged duration, and the one in flight after it.
    settings: BTreeMap<(String, String), (Option<u64>, Option<u64>)>,
    /// Sessions whose creation was acknowledged.
    created: BTreeSet<u64>,
    /// Sessions whose invalidation was acknowledged, or in flight.
    invalidated: BTreeSet<u64>,
    invalidating: BTreeSet<u64>,
    /// Sessions that an acknowledged reset or resetBulk ended.
    reset: BTreeSet<u64>,
    /// Sessions an unacknowledged reset may have ended.
    resetting: BTreeSet<u64>,
}

async fn api(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    args: &[(&str, String)],
) -> Option<Value> {
    let resp = http
        .post(format!("{base}/api/{method}"))
        .bearer_auth(TOKEN)
        .form(args)
        .send()
        .await
        .ok()?;
    let v: Value = resp.json().await.ok()?;
    assert_eq!(v["ok"], true, "{method}: {v}");
    Some(v)
}

async fn login(http: &reqwest::Client, base: &str, user: &str, id: u64) -> bool {
    let body = json!({"user_id": user, "team_id": "T0CRASH01", "client": "web", "session_id": id});
    match http
        .post(format!("{base}/_emulator/sessions"))
        .json(&body)
        .send()
        .await
    {
        Ok(r) => r
            .json::<Value>()
            .await
            .map(|v| v["ok"] == true)
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// One round of writers against `base` until the server dies.
async fn load(base: String, round: usize, acks: Arc<Mutex<Acks>>) {
    let http = reqwest::Client::new();
    let u = |k: usize| format!("W{:08}", round * USERS_PER_ROUND + k);
    let id_base = (round as u64 + 1) * 1_000_000;

    let settings = {
        let (http, base, acks) = (http.clone(), base.clone(), acks.clone());
        let pair = (u(0), u(1));
        async move {
            for v in 180u64.. {
                acks.lock()
                    .unwrap()
                    .settings
                    .entry(pair.clone())
                    .or_default()
                    .1 = Some(v);
                let args = [
                    ("user_ids", format!("{},{}", pair.0, pair.1)),
                    ("duration", v.to_string()),
                ];
                if api(&http, &base, "admin.users.session.setSettings", &args)
                    .await
                    .is_none()
                {
                    return;
                }
                acks.lock()
                    .unwrap()
                    .settings
                    .insert(pair.clone(), (Some(v), None));
            }
        }
    };
    let invalidations = {
        let (http, base, acks) = (http.clone(), base.clone(), acks.clone());
        let user = u(2);
        async move {
            for k in 0u64.. {
                let id = id_base + k;
                if !login(&http, &base, &user, id).await {
                    return;
                }
                acks.lock().unwrap().created.insert(id);
                if k % 2 == 0 {
                    continue; // keep every other session
                }
                acks.lock().unwrap().invalidating.insert(id);
                let args = [("session_id", id.to_string()), ("user_id", user.clone())];
                if api(&http, &base, "admin.users.session.invalidate", &args)
                    .await
                    .is_none()
                {
                    return;
                }
                acks.lock().unwrap().invalidated.insert(id);
            }
        }
    };
    let resets = {
        let (http, base, acks) = (http.clone(), base.clone(), acks.clone());
        async move {
            for k in 0u64.. {
                // A queued resetBulk ends every session its users have when the job runs, so
                // each bulk call gets a user of its own; plain resets reuse one user.
                let bulk_user = 4 + k as usize / 2;
                if k % 2 == 1 && bulk_user >= USERS_PER_ROUND {
                    return;
                }
                let user = if k % 2 == 0 { u(3) } else { u(bulk_user) };
                let ids: Vec<u64> = (0..3).map(|j| id_base + 500_000 + k * 10 + j).collect();
                for &id in &ids {
                    if !login(&http, &base, &user, id).await {
                        return;
                    }
                    acks.lock().unwrap().created.insert(id);
                }
                acks.lock().unwrap().resetting.extend(&ids);
                let method = if k % 2 == 0 {
                    "admin.users.session.reset"
                } else {
                    "admin.users.session.resetBulk"
                };
                let args: Vec<(&str, String)> = if k % 2 == 0 {
                    vec![("user_id", user.clone())]
                } else {
                    vec![("user_ids", user.clone())]
                };
                if api(&http, &base, method, &args).await.is_none() {
                    return;
                }
                acks.lock().unwrap().reset.extend(&ids);
            }
        }
    };
    tokio::join!(settings, invalidations, resets);
}

/// The (action, session id) pairs of the first org's audit log.
async fn audit_log(http: &reqwest::Client, base: &str) -> BTreeSet<(String, u64)> {
    let s: Value = http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    s["orgs"][0]["audit_logs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let id = e["context"]["session_id"].as_u64()?;
            Some((e["action"].as_str()?.to_owned(), id))
        })
        .collect()
}

async fn state(
    http: &reqwest::Client,
    base: &str,
) -> (BTreeSet<u64>, BTreeMap<String, Option<u64>>) {
    let s: Value = http
        .get(format!("{base}/_emulator/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org = &s["orgs"][0];
    let sessions = org["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_u64().unwrap())
        .collect();
    let settings = org["session_settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["user_id"].as_str().unwrap().to_owned(),
                s["duration"].as_u64(),
            )
        })
        .collect();
    (sessions, settings)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    let db = dir.path().join("crash.db");
    crash_seed(&seed);
    let (seed, db) = (
        seed.to_str().unwrap().to_owned(),
        db.to_str().unwrap().to_owned(),
    );
    let args = [
        "--addr",
        "127.0.0.1:0",
        "--db",
        &db,
        "--seed",
        &seed,
        "--rate-limits",
        "off",
        "--bulk-delay-ms",
        "50",
    ];
    let http = reqwest::Client::new();
    let mut rng = SmallRng::seed_from_u64(0x5EED_C4A5);
    let acks = Arc::new(Mutex::new(Acks::default()));
    let mut writes_acknowledged = 0;

    for round in 0..ROUNDS {
        let server = serve(&args);
        let runner = tokio::spawn(load(server.base.clone(), round, acks.clone()));
        tokio::time::sleep(Duration::from_millis(rng.random_range(30..400))).await;
        drop(server); // kill -9 mid-load
        tokio::time::timeout(Duration::from_secs(30), runner)
            .await
            .expect("writers stop")
            .unwrap();

        // Restart on the same file: it opens cleanly and holds every acknowledged write.
        let server = serve(&args);
        let acks = acks.lock().unwrap().clone();
        // Queued resetBulk jobs run again after the restart.
        let deadline = Instant::now() + Duration::from_secs(10);
        let (sessions, settings) = loop {
            let (sessions, settings) = state(&http, &server.base).await;
            if acks.reset.iter().all(|id| !sessions.contains(id)) || Instant::now() > deadline {
                break (sessions, settings);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        for id in &acks.created {
            let gone_ok = acks.invalidating.contains(id) || acks.resetting.contains(id);
            assert!(
                sessions.contains(id) || gone_ok,
                "round {round}: acknowledged session {id} lost"
            );
        }
        for id in acks.invalidated.iter().chain(&acks.reset) {
            assert!(
                !sessions.contains(id),
                "round {round}: session {id} came back after an acknowledged end"
            );
        }
        for ((a, b), (acked, in_flight)) in &acks.settings {
            let (da, db) = (
                settings.get(a).copied().flatten(),
                settings.get(b).copied().flatten(),
            );
            assert_eq!(
                da, db,
                "round {round}: one setSettings call applied to only some of its users"
            );
            assert!(
                da == *acked || (in_flight.is_some() && da == *in_flight),
                "round {round}: duration {da:?}, acknowledged {acked:?}, in flight {in_flight:?}"
            );
        }
        // Every acknowledged sign-in and invalidation has its entry in the org's audit log
        // (written in the same transaction).
        let logged = audit_log(&http, &server.base).await;
        for (action, ids) in [
            ("user_login", &acks.created),
            ("user_session_invalidated", &acks.invalidated),
        ] {
            for id in ids {
                assert!(
                    logged.contains(&(action.to_owned(), *id)),
                    "round {round}: acknowledged {action} of session {id} not in the audit log"
                );
            }
        }
        writes_acknowledged = acks.created.len() + acks.invalidated.len() + acks.reset.len();
    }
    assert!(
        writes_acknowledged > 100,
        "the load did real work: {writes_acknowledged} acknowledged"
    );
}

const DOCUMENTED: [&str; 8] = [
    "user_not_found",
    "session_not_found",
    "cannot_reset_primary_owner",
    "cannot_reset_bot",
    "invalid_cursor",
    "bots_not_allowed",
    "at_least_one_session_setting_required",
    "invalid_arguments",
];

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Memory bound for the demo org under load (peak resident set).
const MEMORY_BOUND_KIB: u64 = 64 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_seconds_of_mixed_load_with_rate_limits_on() {
    let server = serve(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--demo",
        "--bulk-delay-ms",
        "20",
    ]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let tally = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let mut clients = Vec::new();
    for c in 0..16u64 {
        let (base, tally) = (server.base.clone(), tally.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut rng = SmallRng::seed_from_u64(c);
            let tokens = [
                "xoxp-demo-admin",
                "xoxp-demo-primary-owner",
                "xoxp-demo-globex-admin",
            ];
            for _ in 0..20_000 {
                if Instant::now() > deadline {
                    break;
                }
                let user = format!("W0DEMO{:04}", rng.random_range(1..60));
                let (method, args): (&str, Vec<(&str, String)>) = match rng.random_range(0..7) {
                    0 => ("admin.users.session.list", vec![("limit", "50".into())]),
                    1 => ("admin.users.session.getSettings", vec![("user_ids", user)]),
                    2 => (
                        "admin.users.session.setSettings",
                        vec![("user_ids", user), ("duration", "28800".into())],
                    ),
                    3 => (
                        "admin.users.session.reset",
                        vec![("user_id", user), ("mobile_only", "1".into())],
                    ),
                    4 => (
                        "admin.users.session.invalidate",
                        vec![("user_id", user), ("session_id", "1112275520243".into())],
                    ),
                    5 => ("admin.users.session.resetBulk", vec![("user_ids", user)]),
                    _ => (
                        "admin.users.session.clearSettings",
                        vec![("user_ids", user)],
                    ),
                };
                let token = tokens[rng.random_range(0..tokens.len())];
                let resp = http
                    .post(format!("{base}/api/{method}"))
                    .bearer_auth(token)
                    .form(&args)
                    .send()
                    .await
                    .expect("no dropped connection");
                let status = resp.status().as_u16();
                let retry_after = resp.headers().get("retry-after").cloned();
                let body: Value = resp.json().await.expect("a JSON body");
                let key = match status {
                    200 if body["ok"] == true => "ok".to_owned(),
                    200 => {
                        let code = body["error"].as_str().unwrap().to_owned();
                        assert!(
                            DOCUMENTED.contains(&code.as_str()),
                            "undocumented answer {body}"
                        );
                        code
                    }
                    429 => {
                        assert_eq!(body, json!({"ok": false, "error": "ratelimited"}));
                        let secs: u64 = retry_after
                            .expect("Retry-After")
                            .to_str()
                            .unwrap()
                            .parse()
                            .unwrap();
                        assert!(secs >= 1);
                        "429".to_owned()
                    }
                    other => panic!("HTTP {other}: {body}"),
                };
                *tally.lock().unwrap().entry(key).or_default() += 1;
                if status == 429 {
                    tokio::time::sleep(Duration::from_millis(rng.random_range(5..50))).await;
                }
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let tally = tally.lock().unwrap();
    assert!(tally.get("ok").copied().unwrap_or(0) > 100, "{tally:?}");
    assert!(
        tally.get("429").copied().unwrap_or(0) > 100,
        "rate limits were exercised: {tally:?}"
    );
    let peak = vm_hwm_kib(server.child.id());
    assert!(
        peak > 0 && peak < MEMORY_BOUND_KIB,
        "peak memory {peak} KiB"
    );
    eprintln!("load tally: {tally:?}; emulator peak RSS {peak} KiB");
}

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Junk a client can send without a token: 1 MiB bodies of thousands of distinct argument
/// names (to an unknown method and to a real one), and JSON with a 1 MiB array or a 1 MiB object.
fn junk(kind: usize, n: usize) -> (&'static str, &'static str, Vec<u8>) {
    let mut body = Vec::with_capacity(1 << 20);
    match kind % 4 {
        0 | 1 => {
            let mut i = 0;
            while body.len() < (1 << 20) - 16 {
                body.extend_from_slice(format!("a{n}x{i}=1&").as_bytes());
                i += 1;
            }
            let method = if kind.is_multiple_of(4) {
                "no.such.method"
            } else {
                "admin.users.session.list"
            };
            (method, "application/x-www-form-urlencoded", body)
        }
        2 => {
            body.extend_from_slice(b"{\"user_ids\":[");
            let mut i = 0;
            while body.len() < (1 << 20) - 16 {
                body.extend_from_slice(format!("\"W{n}{i}\",").as_bytes());
                i += 1;
            }
            body.extend_from_slice(b"\"W0\"]}");
            ("admin.users.session.getSettings", "application/json", body)
        }
        _ => {
            body.push(b'{');
            let mut i = 0;
            while body.len() < (1 << 20) - 16 {
                body.extend_from_slice(format!("\"k{n}x{i}\":1,").as_bytes());
                i += 1;
            }
            body.extend_from_slice(b"\"z\":1}");
            ("admin.users.session.reset", "application/json", body)
        }
    }
}

/// The request log is bounded: junk bodies cost it kilobytes, not copies of themselves.
#[tokio::test]
async fn junk_bodies_do_not_grow_the_emulator() {
    let server = serve(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--demo",
        "--rate-limits",
        "off",
    ]);
    let pid = server.child.id();
    let http = reqwest::Client::new();
    // Warm up: one of each kind, so allocator arenas exist before the baseline.
    for kind in 0..4 {
        let (method, ct, body) = junk(kind, 999);
        http.post(format!("{}/api/{method}", server.base))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
    }
    let before = vm_rss_kib(pid);
    for n in 0..64 {
        let (method, ct, body) = junk(n, n);
        let r = http
            .post(format!("{}/api/{method}", server.base))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["ok"], false, "{method}: {answer}");
    }
    let page = http
        .get(format!("{}/_emulator/requests?limit=10000", server.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let after = vm_rss_kib(pid);
    let grown = after.saturating_sub(before);
    eprintln!(
        "RSS {before} KiB -> {after} KiB after 64 junk bodies of 1 MiB; request-log page {} KiB",
        page.len() / 1024
    );
    assert!(grown < 64 * 1024, "grew by {grown} KiB");
    assert!(
        page.len() < 8 << 20,
        "request-log page of {} bytes",
        page.len()
    );
    // Still answering.
    let r = http
        .post(format!("{}/api/auth.test", server.base))
        .bearer_auth("xoxp-demo-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["ok"], true);
}
