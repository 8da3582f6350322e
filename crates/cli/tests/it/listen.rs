//! `slack-sessions listen` end to end: the real binary against an embedded emulator, signals
//! from a transmitter that signs with a real key and serves its JWKS over HTTP (127.0.0.1),
//! sent with `slack-sessions signal` and, for the forged ones, by hand.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use slack_sessions_emulator::{Seed, demo};
use slack_sessions_listen::transmit::{
    GtrToken, OktaEvent, Sent, Set, Signer, SubjectId, gtr_body, okta_hook, send,
};

use crate::harness::{Env, big_seed, reset_counts, wait_for};

const ISSUER: &str = "https://idp.test/";
const SSF_AUD: &str = "https://sessions.test/ssf";
const GTR_AUD: &str = "https://sessions.test/global-token-revocation";
const OKTA_SECRET: &str = "okta-hook-secret-for-tests";
const KID: &str = slack_sessions::cli::SIGNAL_KID;

/// A JWKS served over HTTP on 127.0.0.1 until the test ends: every GET answers the key set.
struct Jwks {
    url: String,
}

impl Jwks {
    fn serve(jwks: Value) -> Jwks {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/keys", listener.local_addr().unwrap());
        let body = jwks.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Jwks { url }
    }
}

/// The identity provider of a test: its signing key, the JWKS server, and the config.
struct Idp {
    signer: Signer,
    _jwks: Jwks,
    config: std::path::PathBuf,
}

impl Idp {
    /// Writes `listen.toml` in the env's directory (`extra` appended), the key as
    /// `signer.pem` beside it for `slack-sessions signal`.
    fn new(env: &Env, extra: &str) -> Idp {
        let (signer, pem) = Signer::generate(KID).unwrap();
        env.write("signer.pem", &pem);
        let jwks = Jwks::serve(signer.jwks());
        let config = env.write(
            "listen.toml",
            &format!(
                "addr = \"127.0.0.1:0\"\n\
                 [ssf]\nissuer = \"{ISSUER}\"\njwks_uri = \"{u}\"\naudience = \"{SSF_AUD}\"\n\
                 [okta]\nauthorization_env = \"OKTA_HOOK_SECRET\"\n\
                 [gtr]\nissuer = \"{ISSUER}\"\njwks_uri = \"{u}\"\naudience = \"{GTR_AUD}\"\n{extra}",
                u = jwks.url
            ),
        );
        Idp {
            signer,
            _jwks: jwks,
            config,
        }
    }

    fn set(&self, event: &str, email: &str) -> Set {
        Set::new(ISSUER, SSF_AUD, event, SubjectId::Email(email.to_owned()))
    }
}

/// A listener process; SIGKILLed when dropped.
struct Listening {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
    rt: tokio::runtime::Runtime,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listen(env: &Env, idp: &Idp, extra: &[&str]) -> Listening {
    let config = idp.config.display().to_string();
    let mut args = vec!["listen", config.as_str()];
    args.extend_from_slice(extra);
    let mut cmd = env.command(&args);
    cmd.env("OKTA_HOOK_SECRET", OKTA_SECRET);
    let mut child = cmd.spawn().expect("the binary starts");
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let into = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut l = into.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let Some(Ok(first)) = lines.next() else {
        let _ = child.wait();
        std::thread::sleep(Duration::from_millis(100));
        panic!("the listener did not start:\n{}", log.lock().unwrap());
    };
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("URL")
        .to_owned();
    std::thread::spawn(move || for _ in lines {});
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    Listening {
        child,
        url,
        log,
        rt,
    }
}

impl Listening {
    fn post(&self, path: &str, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Sent {
        let client = reqwest::Client::new();
        let url = format!("{}{path}", self.url);
        self.rt
            .block_on(send(
                &client,
                reqwest::Method::POST,
                &url,
                headers,
                body.into(),
            ))
            .unwrap()
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Sent {
        let client = reqwest::Client::new();
        let url = format!("{}{path}", self.url);
        self.rt
            .block_on(send(
                &client,
                reqwest::Method::GET,
                &url,
                headers,
                Vec::new(),
            ))
            .unwrap()
    }

    fn set(&self, jwt: &str) -> Sent {
        self.post(
            "/ssf/events",
            &[("Content-Type", "application/secevent+jwt")],
            jwt.as_bytes().to_vec(),
        )
    }

    fn metrics(&self) -> String {
        self.get("/metrics", &[]).body
    }

    /// The value of a metric line that starts with `prefix` (0 when absent).
    fn metric(&self, prefix: &str) -> f64 {
        self.metrics()
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .map_or(0.0, |v| v.parse().unwrap())
    }

    /// Waits until nothing is pending.
    fn drained(&self) {
        wait_for(Duration::from_secs(20), "the queue to drain", || {
            self.metric("slack_sessions_listen_queue_depth") == 0.0
        });
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

fn email_of(env: &Env, id: &str) -> String {
    env.export().orgs[0]
        .users
        .iter()
        .find(|u| u.id == id)
        .and_then(|u| u.email.clone())
        .unwrap()
}

fn resets(env: &Env) -> usize {
    env.requests("admin.users.session.reset").len()
}

#[test]
fn every_kind_of_signal_signs_its_user_out_and_nobody_else() {
    let env = Env::demo();
    let idp = Idp::new(&env, "");
    let before = env.sessions_by_user();
    let l = listen(&env, &idp, &[]);
    let config = idp.config.display().to_string();
    let signal = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("OKTA_HOOK_SECRET", OKTA_SECRET);
        env.run_cmd(cmd)
    };
    let (a, b, c) = ("W0DEMO0005", "W0DEMO0006", "W0DEMO0007");
    for u in [a, b, c] {
        assert!(before.get(u).copied().unwrap_or(0) > 0, "{u} has sessions");
    }
    let url = l.url.clone();
    let ssf = signal(&["signal", "ssf", &config, &email_of(&env, a), "--url", &url]).expect(0);
    assert!(ssf.stdout.contains(": 202"), "{}", ssf.stdout);
    let okta = signal(&["signal", "okta", &config, &email_of(&env, b), "--url", &url]).expect(0);
    assert!(okta.stdout.contains(": 204"), "{}", okta.stdout);
    let gtr = signal(&["signal", "gtr", &config, &email_of(&env, c), "--url", &url]).expect(0);
    assert!(gtr.stdout.contains(": 204"), "{}", gtr.stdout);
    l.drained();
    let after = env.sessions_by_user();
    for u in [a, b, c] {
        assert_eq!(after.get(u), None, "{u} signed out:\n{}", l.log());
    }
    for (u, n) in &before {
        if ![a, b, c].contains(&u.as_str()) {
            assert_eq!(after.get(u), Some(n), "{u} untouched");
        }
    }
    assert_eq!(resets(&env), 3);
    assert_eq!(l.metric("slack_sessions_listen_actions_total"), 3.0);
    let health = l.get("/healthz", &[]);
    assert_eq!(health.status, 200, "{}", health.body);
}

#[test]
fn a_replayed_set_is_answered_alike_and_does_nothing_more() {
    let env = Env::demo();
    let idp = Idp::new(&env, "");
    let l = listen(&env, &idp, &[]);
    let jwt = idp
        .signer
        .set(&idp.set("session-revoked", &email_of(&env, "W0DEMO0005")))
        .unwrap();
    assert_eq!(l.set(&jwt).status, 202);
    l.drained();
    assert_eq!(l.set(&jwt).status, 202, "a repeat answers as the first did");
    l.drained();
    assert_eq!(resets(&env), 1, "one reset for one SET sent twice");
}

#[test]
fn forged_and_misaddressed_sets_are_refused_and_change_nothing() {
    let env = Env::demo();
    let idp = Idp::new(&env, "");
    let l = listen(&env, &idp, &[]);
    let email = email_of(&env, "W0DEMO0005");
    let good = idp.set("session-revoked", &email);
    // Another key under the same kid: the signature does not verify.
    let (impostor, _) = Signer::generate(KID).unwrap();
    let mut wrong_iss = good.clone();
    wrong_iss.issuer = "https://evil.test/".into();
    let mut wrong_aud = good.clone();
    wrong_aud.audience = "https://other.test/ssf".into();
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "secevent+jwt"})),
        b64(&good.claims())
    );
    let hs256 = {
        use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
        let mut h = Header::new(Algorithm::HS256);
        h.typ = Some("secevent+jwt".into());
        h.kid = Some(KID.into());
        encode(&h, &good.claims(), &EncodingKey::from_secret(b"guess")).unwrap()
    };
    let cases = [
        (impostor.set(&good).unwrap(), "authentication_failed"),
        (idp.signer.set(&wrong_iss).unwrap(), "invalid_issuer"),
        (idp.signer.set(&wrong_aud).unwrap(), "invalid_audience"),
        (unsigned, "authentication_failed"),
        (hs256, "authentication_failed"),
        ("not a jwt".into(), "invalid_request"),
    ];
    for (jwt, err) in cases {
        let sent = l.set(&jwt);
        assert_eq!(sent.status, 400, "{err}: {}", sent.body);
        assert_eq!(sent.content_type.as_deref(), Some("application/json"));
        let body: Value = serde_json::from_str(&sent.body).unwrap();
        assert_eq!(body["err"], err, "{}", sent.body);
        assert!(body["description"].is_string());
    }
    // The right SET with the wrong content type.
    let sent = l.post(
        "/ssf/events",
        &[("Content-Type", "application/json")],
        idp.signer.set(&good).unwrap().into_bytes(),
    );
    assert_eq!(sent.status, 400);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(resets(&env), 0, "nothing was reset");
    assert!(env.sessions_by_user().contains_key("W0DEMO0005"));
    for reason in [
        "authentication_failed",
        "invalid_issuer",
        "invalid_audience",
        "invalid_request",
    ] {
        let line = format!(
            "slack_sessions_listen_signals_received_total{{source=\"ssf\",outcome=\"rejected\",reason=\"{reason}\"}}"
        );
        assert!(l.metric(&line) >= 1.0, "{reason}:\n{}", l.metrics());
    }
}

#[test]
fn okta_hooks_are_verified_by_their_secret() {
    let env = Env::demo();
    let idp = Idp::new(&env, "");
    let l = listen(&env, &idp, &[]);
    let challenge = l.get(
        "/okta/events",
        &[
            ("X-Okta-Verification-Challenge", "abc123"),
            ("Authorization", OKTA_SECRET),
        ],
    );
    assert_eq!(challenge.status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&challenge.body).unwrap(),
        json!({"verification": "abc123"})
    );
    let email = email_of(&env, "W0DEMO0005");
    let event = OktaEvent::new("user.lifecycle.suspend", &email);
    let body = okta_hook(&[event.clone(), event.clone()]).to_string();
    for wrong in [None, Some("not-the-secret")] {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(w) = wrong {
            headers.push(("Authorization", w));
        }
        assert_eq!(l.post("/okta/events", &headers, body.clone()).status, 401);
    }
    assert_eq!(resets(&env), 0);
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", OKTA_SECRET),
    ];
    assert_eq!(l.post("/okta/events", &headers, body.clone()).status, 204);
    // Okta's retry of the same batch.
    assert_eq!(l.post("/okta/events", &headers, body).status, 204);
    l.drained();
    assert_eq!(
        resets(&env),
        1,
        "one event, sent twice in a batch and the batch twice"
    );
    assert!(!env.sessions_by_user().contains_key("W0DEMO0005"));
}

#[test]
fn global_token_revocation_answers_by_what_slack_can_do() {
    let env = Env::demo();
    let idp = Idp::new(&env, "");
    let l = listen(&env, &idp, &[]);
    let post = |token: &GtrToken, email: &str| {
        let bearer = format!("Bearer {}", idp.signer.gtr_token(token).unwrap());
        l.post(
            "/global-token-revocation",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", bearer.as_str()),
            ],
            gtr_body(email).to_string(),
        )
    };
    let fresh = || GtrToken::new(ISSUER, GTR_AUD);
    assert_eq!(post(&fresh(), "nobody@acme.example").status, 404);
    let owner = email_of(&env, demo::PRIMARY_OWNER_ID);
    assert_eq!(
        post(&fresh(), &owner).status,
        422,
        "Slack refuses the primary owner"
    );
    let token = fresh();
    assert_eq!(post(&token, &email_of(&env, "W0DEMO0005")).status, 204);
    assert_eq!(
        post(&token, &email_of(&env, "W0DEMO0006")).status,
        401,
        "a jti is never accepted twice"
    );
    let mut other_aud = fresh();
    other_aud.audience = "https://other.test/gtr".into();
    assert_eq!(post(&other_aud, &email_of(&env, "W0DEMO0006")).status, 401);
    let bad_subject = l.post(
        "/global-token-revocation",
        &[
            ("Content-Type", "application/json"),
            (
                "Authorization",
                &format!("Bearer {}", idp.signer.gtr_token(&fresh()).unwrap()),
            ),
        ],
        json!({"sub_id": {"format": "opaque", "id": "x"}}).to_string(),
    );
    assert_eq!(bad_subject.status, 400);
    l.drained();
    assert_eq!(resets(&env), 1, "only the 204 signed someone out");
    let left = env.sessions_by_user();
    assert!(!left.contains_key("W0DEMO0005"));
    assert!(left.contains_key(demo::PRIMARY_OWNER_ID));
    assert!(left.contains_key("W0DEMO0006"));
}

#[test]
fn record_only_unmapped_and_unknown_signals_make_no_call() {
    let env = Env::demo();
    let idp = Idp::new(&env, "");
    let l = listen(&env, &idp, &[]);
    let email = email_of(&env, "W0DEMO0005");
    let mut credential = idp.set("credential-change", &email);
    credential
        .members
        .insert("credential_type".into(), "password".into());
    credential
        .members
        .insert("change_type".into(), "update".into());
    let mut risk_low = idp.set("risk-level-change", &email);
    risk_low
        .members
        .insert("current_level".into(), "LOW".into());
    let mut unmapped = idp.set("session-revoked", &email);
    unmapped.subject = SubjectId::IssSub {
        iss: ISSUER.into(),
        sub: "00u-unknown".into(),
    };
    let unknown = idp.set("session-revoked", "nobody@acme.example");
    for set in [credential, risk_low, unmapped, unknown] {
        assert_eq!(l.set(&idp.signer.set(&set).unwrap()).status, 202);
    }
    l.drained();
    assert_eq!(resets(&env), 0, "{}", l.log());
    let metrics = l.metrics();
    for outcome in ["recorded", "unmapped", "not_found"] {
        assert!(metrics.contains(outcome), "{outcome}:\n{metrics}");
    }
}

#[test]
fn a_section_left_out_answers_404() {
    let env = Env::demo();
    let (signer, pem) = Signer::generate(KID).unwrap();
    env.write("signer.pem", &pem);
    let jwks = Jwks::serve(signer.jwks());
    let config = env.write(
        "listen.toml",
        &format!(
            "addr = \"127.0.0.1:0\"\n[gtr]\nissuer = \"{ISSUER}\"\njwks_uri = \"{}\"\naudience = \"{GTR_AUD}\"\n",
            jwks.url
        ),
    );
    let idp = Idp {
        signer,
        _jwks: jwks,
        config,
    };
    let l = listen(&env, &idp, &[]);
    assert_eq!(l.set("x").status, 404);
    assert_eq!(l.get("/okta/events", &[]).status, 404);
    assert_eq!(l.get("/healthz", &[]).status, 200);
}

#[test]
fn the_breaker_shows_in_health_and_metrics_and_sigusr1_resumes_it() {
    let env = Env::demo();
    // The demo org has 47 active people: 5% of them is 2 sign-outs within the hour.
    let idp = Idp::new(&env, "[guardrails]\nmax_share = 0.05\n");
    let l = listen(&env, &idp, &[]);
    let users = ["W0DEMO0005", "W0DEMO0006", "W0DEMO0007", "W0DEMO0008"];
    for u in users {
        let set = idp.set("session-revoked", &email_of(&env, u));
        assert_eq!(l.set(&idp.signer.set(&set).unwrap()).status, 202);
    }
    wait_for(Duration::from_secs(20), "the breaker to trip", || {
        l.metric("slack_sessions_listen_breaker_tripped") == 1.0
    });
    assert_eq!(resets(&env), 2, "{}", l.log());
    let health = l.get("/healthz", &[]);
    assert!(health.body.contains("breaker"), "{}", health.body);
    assert!(l.log().contains("circuit breaker"), "{}", l.log());
    assert_eq!(l.metric("slack_sessions_listen_queue_depth"), 2.0);
    let sent = std::process::Command::new("kill")
        .args(["-USR1", &l.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    l.drained();
    assert_eq!(resets(&env), 4, "{}", l.log());
    assert_eq!(l.metric("slack_sessions_listen_breaker_tripped"), 0.0);
}

/// A seed of `users` people for the kill test, its token able to count them.
fn kill_seed(users: usize) -> Seed {
    let mut seed = big_seed(users);
    seed.orgs[0].tokens[0].scopes.push("users:read".into());
    seed
}

#[test]
fn a_listener_killed_while_signals_arrive_loses_no_acknowledged_signal() {
    const USERS: usize = 240;
    const KILLS: usize = 8;
    let env = Env::start(
        Env::builder()
            .seed(kill_seed(USERS))
            .request_log_capacity(100_000),
        "xoxp-big-admin",
    );
    env.emu()
        .add_fault(
            slack_sessions_emulator::FaultRule::new(slack_sessions_emulator::Effect::LatencyMs(5))
                .method("admin.users.session.reset"),
        )
        .unwrap();
    let idp = Idp::new(
        &env,
        "[guardrails]\nmax_share = 1.0\nmax_actions_per_hour = 100000\n",
    );
    // Users 0..200 are signalled, in bursts; 200..240 never are.
    let signalled: Vec<usize> = (0..200).collect();
    let jwts: Vec<String> = signalled
        .iter()
        .map(|i| {
            let set = idp.set("session-revoked", &format!("user{i}@big.example"));
            idp.signer.set(&set).unwrap()
        })
        .collect();
    let mut acknowledged = std::collections::BTreeSet::new();
    let mut rng = 0x5EED_u64;
    let mut cut = 0;
    for _ in 0..KILLS {
        let l = listen(&env, &idp, &[]);
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let after = Duration::from_millis(20 + (rng >> 33) % 120);
        let url = format!("{}/ssf/events", l.url);
        // Signals arrive one after another until the kill: the ones not acknowledged yet
        // first, then again ones that were (a transmitter's retries).
        let burst: Vec<(usize, String)> = (0..jwts.len())
            .filter(|i| !acknowledged.contains(i))
            .chain(0..jwts.len())
            .map(|i| (i, jwts[i].clone()))
            .collect();
        let sender = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let client = reqwest::Client::new();
            let mut ok = Vec::new();
            for (i, jwt) in burst {
                let sent = rt.block_on(send(
                    &client,
                    reqwest::Method::POST,
                    &url,
                    &[("Content-Type", "application/secevent+jwt")],
                    jwt.into_bytes(),
                ));
                match sent {
                    Ok(s) if s.status == 202 => ok.push(i),
                    Ok(s) => panic!("signal {i}: {} {}", s.status, s.body),
                    Err(_) => return (ok, true), // the listener was killed
                }
            }
            (ok, false)
        });
        std::thread::sleep(after);
        drop(l); // SIGKILL
        let (ok, was_cut) = sender.join().unwrap();
        acknowledged.extend(ok);
        cut += usize::from(was_cut);
    }
    assert!(
        cut >= KILLS / 2,
        "{cut} of {KILLS} kills landed while signals arrived"
    );
    assert!(!acknowledged.is_empty());
    // Started once more: the rest are sent, and everything pending is worked.
    let l = listen(&env, &idp, &[]);
    for (i, jwt) in jwts.iter().enumerate() {
        if !acknowledged.contains(&i) {
            assert_eq!(l.set(jwt).status, 202);
            acknowledged.insert(i);
        }
    }
    l.drained();
    let left = env.sessions_by_user();
    for i in &acknowledged {
        let id = format!("W{i:07}");
        assert!(
            !left.contains_key(&id),
            "{id} still has sessions:\n{}",
            l.log()
        );
    }
    for i in 200..USERS {
        let id = format!("W{i:07}");
        assert!(
            left.contains_key(&id),
            "{id} was never signalled but was signed out"
        );
    }
    let counts = reset_counts(&env);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "reset more than once: {twice:?}");
    assert!(counts.keys().all(|u| {
        let i: usize = u[1..].parse().unwrap();
        i < 200
    }));
}

#[test]
fn sigterm_lets_a_request_under_way_finish_and_exits_0() {
    let env = Env::demo();
    let idp = Idp::new(&env, "");
    let mut l = listen(&env, &idp, &[]);
    // A request whose body is still coming holds the server after the stop; the worker, idle,
    // ends at once.
    let addr = l.url.trim_start_matches("http://").to_owned();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST /okta/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {OKTA_SECRET}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &l.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    std::thread::sleep(Duration::from_millis(300));
    write!(conn, "}}").unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 400"),
        "the request under way is answered: {answer:?}"
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = l.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "still running");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0), "{}", l.log());
}
