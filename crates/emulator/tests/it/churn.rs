//! Tenant isolation while the state is replaced: a bounded churn of `PUT /_emulator/state`
//! (the orgs swapped in place) and `POST /_emulator/reset` against calls of every method from
//! two orgs. Every answer must come from one state, the one the token was checked against.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use slack_sessions_emulator::seed::Role;
use slack_sessions_emulator::{Emulator, RateLimits, Seed};

use crate::bench::*;

/// What one org's caller knows of its org, and of the other org it must never see.
#[derive(Clone, Debug)]
struct Tenant {
    token: &'static str,
    admin: String,
    org_id: String,
    users: HashSet<String>,
    /// A user of this org that calls may name (not the admin, not a bot).
    member: String,
    /// A session of `member`.
    session: u64,
}

fn tenant(seed: &Seed, org: usize, token: &'static str) -> Tenant {
    let o = &seed.orgs[org];
    let admin = o
        .tokens
        .iter()
        .find(|t| t.token == token)
        .unwrap()
        .user_id
        .clone();
    let is_member = |id: &str| {
        o.users
            .iter()
            .any(|u| u.id == id && !u.is_bot && u.role == Role::Member)
    };
    let session = o
        .sessions
        .iter()
        .find(|s| is_member(&s.user_id))
        .expect("a member with a session");
    Tenant {
        token,
        admin,
        org_id: o.id.clone(),
        users: o.users.iter().map(|u| u.id.clone()).collect(),
        member: session.user_id.clone(),
        session: session.session_id,
    }
}

#[derive(Default)]
struct Tally {
    calls: AtomicUsize,
    cross_org: AtomicUsize,
    dropped: AtomicUsize,
    swaps: AtomicUsize,
}

/// A call: method, arguments, and whether it names the caller's own org (else the other's).
type Probe = (&'static str, Vec<(&'static str, String)>, bool);

/// One caller: every method, against its own org and the other one.
async fn caller(url: String, me: Tenant, other: Tenant, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::new();
    let call = |method: &str, args: Vec<(&str, String)>| {
        http.post(format!("{url}{method}"))
            .bearer_auth(me.token)
            .form(&args)
            .send()
    };
    let wrong = |what: &str, body: &Value| {
        tally.cross_org.fetch_add(1, Ordering::Relaxed);
        eprintln!("cross-org answer to {}'s {what}: {body}", me.org_id);
    };
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let calls: Vec<Probe> = vec![
            (
                "admin.users.session.list",
                vec![("limit", "1000".into())],
                true,
            ),
            (
                "admin.users.session.getSettings",
                vec![("user_ids", me.member.clone())],
                true,
            ),
            (
                "admin.users.session.getSettings",
                vec![("user_ids", other.member.clone())],
                false,
            ),
            (
                "admin.users.session.setSettings",
                vec![
                    ("user_ids", other.member.clone()),
                    ("duration", "3600".into()),
                ],
                false,
            ),
            (
                "admin.users.session.setSettings",
                vec![
                    ("user_ids", me.member.clone()),
                    ("duration", (3600 + round).to_string()),
                ],
                true,
            ),
            (
                "admin.users.session.clearSettings",
                vec![("user_ids", other.member.clone())],
                false,
            ),
            (
                "admin.users.session.reset",
                vec![("user_id", other.member.clone())],
                false,
            ),
            (
                "admin.users.session.resetBulk",
                vec![("user_ids", other.member.clone())],
                false,
            ),
            (
                "admin.users.session.invalidate",
                vec![
                    ("user_id", other.member.clone()),
                    ("session_id", other.session.to_string()),
                ],
                false,
            ),
            (
                "admin.users.session.list",
                vec![
                    ("user_id", other.member.clone()),
                    ("team_id", other.org_id.clone()),
                ],
                false,
            ),
            ("auth.test", vec![], true),
        ];
        for (method, args, own) in calls {
            let response = match call(method, args).await {
                Ok(r) => r,
                Err(e) => {
                    tally.dropped.fetch_add(1, Ordering::Relaxed);
                    eprintln!("{method}: connection dropped: {e}");
                    continue;
                }
            };
            let body: Value = match response.json().await {
                Ok(b) => b,
                Err(e) => {
                    tally.dropped.fetch_add(1, Ordering::Relaxed);
                    eprintln!("{method}: body lost: {e}");
                    continue;
                }
            };
            tally.calls.fetch_add(1, Ordering::Relaxed);
            if !own {
                // Another org's user is one that does not exist, whatever the state.
                if body["ok"] == true
                    || !body["error"]
                        .as_str()
                        .is_some_and(|e| e.ends_with("not_found"))
                {
                    wrong(method, &body);
                }
                continue;
            }
            if body["ok"] != true {
                wrong(method, &body);
                continue;
            }
            match method {
                "admin.users.session.list" => {
                    for s in body["active_sessions"].as_array().unwrap() {
                        if !me.users.contains(s["user_id"].as_str().unwrap_or("")) {
                            wrong(method, s);
                        }
                    }
                }
                "auth.test"
                    if body["team_id"] != me.org_id.as_str()
                        || body["user_id"] != me.admin.as_str() =>
                {
                    wrong(method, &body);
                }
                _ => {}
            }
        }
    }
}

/// Replaces the state with the seed's orgs swapped, or resets it, until told to stop.
async fn churner(base: String, seed: Seed, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::new();
    let mut swapped = seed.clone();
    swapped.orgs.swap(0, 1);
    let bodies = [
        serde_json::to_vec(&swapped).unwrap(),
        serde_json::to_vec(&seed).unwrap(),
    ];
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let r = if i % 3 == 2 {
            http.post(format!("{base}/_emulator/reset")).send().await
        } else {
            http.put(format!("{base}/_emulator/state"))
                .header("content-type", "application/json")
                .body(bodies[i % 2].clone())
                .send()
                .await
        };
        assert!(r.expect("control plane answers").status().is_success());
        tally.swaps.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replacing_the_state_never_mixes_two_orgs() {
    let seed = Seed::demo();
    let acme = tenant(&seed, 0, ADMIN_TOKEN);
    let globex = tenant(&seed, 1, OTHER_ORG_ADMIN_TOKEN);
    let emu = Emulator::builder()
        .seed(seed.clone())
        .rate_limits(RateLimits::Off)
        .bulk_delay(Duration::from_millis(1))
        .start()
        .await
        .unwrap();
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = vec![tokio::spawn(churner(
        emu.url(),
        seed,
        tally.clone(),
        stop.clone(),
    ))];
    for (me, other) in [
        (&acme, &globex),
        (&globex, &acme),
        (&acme, &globex),
        (&globex, &acme),
    ] {
        tasks.push(tokio::spawn(caller(
            emu.api_url(),
            me.clone(),
            other.clone(),
            tally.clone(),
            stop.clone(),
        )));
    }
    // Bounded: ten seconds of churn, then every task ends by itself.
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("no task panicked");
    }
    let (calls, swaps) = (
        tally.calls.load(Ordering::Relaxed),
        tally.swaps.load(Ordering::Relaxed),
    );
    eprintln!(
        "{calls} calls against {swaps} state replacements in {:?}",
        started.elapsed()
    );
    assert!(
        calls > 500 && swaps > 50,
        "the churn ran: {calls} calls, {swaps} swaps"
    );
    assert_eq!(
        tally.dropped.load(Ordering::Relaxed),
        0,
        "dropped connections"
    );
    assert_eq!(
        tally.cross_org.load(Ordering::Relaxed),
        0,
        "cross-org answers"
    );

    // Every change an admin made landed in the admin's own org, on its own users.
    let audit = emu.audit(0).unwrap();
    let mut by_admins = 0;
    for e in &audit {
        for t in [&acme, &globex] {
            if e.actor == t.admin {
                by_admins += 1;
                assert_eq!(e.org_id, t.org_id, "{e:?}");
                assert!(e.users.iter().all(|u| t.users.contains(u)), "{e:?}");
            }
        }
    }
    assert!(
        by_admins > 50,
        "the admins' own writes were audited: {by_admins}"
    );
    emu.shutdown().await;
}
