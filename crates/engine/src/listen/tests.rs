//! The listener against an embedded emulator: signals accepted, acted on within the
//! guardrails, resumed after a stop or a crash, and a journal kept small over many signals.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use serde_json::json;
use slack_sessions_client::api::{ErrorCode, TeamId, UserId};
use slack_sessions_client::methods::ListArgs;
use slack_sessions_client::{Client, Pacing, RetryPolicy};
use slack_sessions_emulator::{Effect, Emulator, FaultRule, RateLimits, RequestFilter, Seed};

use super::state::{Record, State};
use super::*;
use crate::calls::Steps;
use crate::events::{Event, Events};
use crate::journal::{Call, Devices};
use crate::stop::Stop;

const ORG: &str = "E0LSTN0001";
const TEAM: &str = "T0LSTN0001";
const TOKEN: &str = "xoxp-listen-admin";
const ADMIN: &str = "W0ADMIN";
const OWNER: &str = "W0OWNER";

/// One org: its primary owner, the admin of the token, a bot, a deactivated user, and ten
/// members `W0U01`… (`u01@example.com`…), each person with two sessions: 12 active users.
fn seed() -> Seed {
    let mut users = vec![
        json!({"id": OWNER, "name": "owner", "email": "owner@example.com", "role": "primary_owner", "teams": [TEAM]}),
        json!({"id": ADMIN, "name": "admin", "email": "admin@example.com", "role": "admin", "teams": [TEAM]}),
        json!({"id": "W0BOT", "name": "bot", "email": "bot@example.com", "is_bot": true, "teams": [TEAM]}),
        json!({"id": "W0GONE", "name": "gone", "email": "gone@example.com", "deleted": true, "teams": [TEAM]}),
    ];
    let mut people = vec![OWNER.to_owned(), ADMIN.to_owned()];
    for i in 1..=10 {
        let id = format!("W0U{i:02}");
        users.push(json!({"id": id, "name": format!("u{i:02}"), "email": format!("u{i:02}@example.com"), "teams": [TEAM]}));
        people.push(id);
    }
    let sessions: Vec<_> = people
        .iter()
        .enumerate()
        .flat_map(|(i, u)| {
            (0..2).map(move |k| json!({"session_id": 1000 + 10 * i as u64 + k, "user_id": u, "team_id": TEAM}))
        })
        .collect();
    Seed::from_json(json!({"orgs": [{
        "id": ORG, "name": "Listen", "teams": [{"id": TEAM, "name": "Listen"}],
        "users": users,
        "tokens": [{"token": TOKEN, "user_id": ADMIN, "scopes": ["admin.users:read", "admin.users:write", "users:read", "users:read.email"]}],
        "sessions": sessions,
    }]}))
    .expect("the seed is valid")
}

struct Env {
    emu: Emulator,
    dir: tempfile::TempDir,
    client: Client,
    seen: Arc<Mutex<Vec<Event>>>,
}

/// A listener and its worker on a task of its own.
struct Running {
    listener: Listener,
    stop: Stop,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl Running {
    /// Stops the worker and waits for it: it returns `Ok`, leaving what is pending.
    async fn stop(self) -> Listener {
        self.stop.ask();
        self.task
            .await
            .expect("the worker ran")
            .expect("the worker stops cleanly");
        self.listener
    }

    /// Waits (up to 10 s) until the status satisfies `done`.
    async fn until(&self, what: &str, done: impl Fn(&Status) -> bool) -> Status {
        eventually(what, || {
            let status = self.listener.status();
            if done(&status) {
                Ok(status)
            } else {
                Err(status)
            }
        })
        .await
    }
}

fn settled(status: &Status, outcome: &str) -> u64 {
    status.settled.get(outcome).copied().unwrap_or(0)
}

impl Env {
    async fn start() -> Env {
        Env::with_pacing(Pacing::off()).await
    }

    async fn with_pacing(pacing: Pacing) -> Env {
        let emu = Emulator::builder()
            .seed(seed())
            .rate_limits(RateLimits::Off)
            .start()
            .await
            .expect("the emulator starts");
        let client = Client::builder()
            .base_url(emu.api_url())
            .token(TOKEN)
            .pacing(pacing)
            .retry_policy(
                RetryPolicy::default()
                    .backoff(Duration::from_millis(10), Duration::from_millis(100))
                    .rate_limit_jitter(Duration::from_millis(50))
                    .total_budget(Duration::from_secs(10)),
            )
            .build()
            .expect("the client builds");
        Env {
            emu,
            dir: tempfile::tempdir().unwrap(),
            client,
            seen: Arc::default(),
        }
    }

    fn journal(&self) -> PathBuf {
        self.dir.path().join("listen.journal")
    }

    fn plan(&self, guardrails: Guardrails) -> Plan {
        Plan {
            journal: self.journal(),
            key: "/etc/slack-sessions/listen.toml".into(),
            guardrails,
            resume_breaker: false,
        }
    }

    fn ctx(&self) -> Context {
        let seen = Arc::clone(&self.seen);
        Context {
            client: self.client.clone(),
            events: Events::new(move |e: Event| seen.lock().unwrap().push(e)),
            stop: Stop::new(),
        }
    }

    async fn open_with(&self, plan: Plan, state: State) -> (Listener, Worker, Stop) {
        let ctx = self.ctx();
        let (listener, worker) = Listener::open_in(&ctx, plan, self.dir.path(), state)
            .await
            .expect("the listener opens");
        (listener, worker, ctx.stop)
    }

    async fn open(&self, plan: Plan) -> (Listener, Worker, Stop) {
        self.open_with(plan, State::default()).await
    }

    async fn run(&self, plan: Plan) -> Running {
        let (listener, worker, stop) = self.open(plan).await;
        run(listener, worker, stop)
    }

    /// The sessions `user` has now.
    async fn sessions(&self, user: &str) -> usize {
        let args = ListArgs::for_user(TeamId::new(ORG), UserId::new(user)).limit(1000);
        let all: Vec<_> = self.client.list_sessions(args).try_collect().await.unwrap();
        all.len()
    }

    /// The users of the `admin.users.session.reset` calls Slack got, in order.
    fn resets(&self) -> Vec<String> {
        self.emu
            .requests(&RequestFilter::new().method("admin.users.session.reset"))
            .into_iter()
            .map(|r| r.args["user_id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    fn lines(&self, level: fn(&Event) -> Option<&String>) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(level)
            .cloned()
            .collect()
    }

    fn notes(&self) -> Vec<String> {
        self.lines(|e| match e {
            Event::Note(t) => Some(t),
            _ => None,
        })
    }

    fn warnings(&self) -> Vec<String> {
        self.lines(|e| match e {
            Event::Warning(t) => Some(t),
            _ => None,
        })
    }
}

/// Polls `check` every 10 ms until it is `Ok`, for at most 10 s (then fails with the last
/// `Err`): for what the worker does in its own time.
async fn eventually<T, E: std::fmt::Debug>(what: &str, check: impl Fn() -> Result<T, E>) -> T {
    let started = Instant::now();
    loop {
        match check() {
            Ok(done) => return done,
            Err(last) => assert!(
                started.elapsed() < Duration::from_secs(10),
                "waited for {what}: {last:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn run(listener: Listener, worker: Worker, stop: Stop) -> Running {
    Running {
        listener,
        stop,
        task: tokio::spawn(worker.run()),
    }
}

fn roomy() -> Guardrails {
    Guardrails {
        max_actions_per_hour: 100,
        max_share: 1.0,
        exempt_users: Vec::new(),
    }
}

fn signal(key: &str, email: &str, action: Action) -> Signal {
    Signal {
        source: Source::Ssf,
        key: key.into(),
        event: "session-revoked".into(),
        subject: Subject::Email {
            email: email.into(),
        },
        action,
        event_ms: None,
        keep_key_until_ms: None,
        detail: None,
    }
}

fn reset(key: &str, email: &str) -> Signal {
    signal(key, email, Action::Reset)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_signal_signs_its_user_out_once_and_a_repeat_does_nothing_more() {
    let env = Env::start().await;
    assert_eq!(env.sessions("W0U01").await, 2);
    let r = env.run(env.plan(roomy())).await;
    let accepted = r
        .listener
        .accept(vec![reset("ssf iss 1", "U01@Example.COM")]);
    assert_eq!(accepted.unwrap(), [Accepted::New(1)]);
    let status = r.until("the reset", |s| settled(s, "reset") == 1).await;
    assert_eq!(status.pending, 0);
    assert_eq!(status.actions, 1);
    assert!(status.journal_open && status.token_ok && status.breaker.is_none());
    assert_eq!(env.sessions("W0U01").await, 0);
    assert_eq!(env.resets(), ["W0U01"]);
    // The same key again, alone and in a batch with a new one: nothing more for it.
    assert_eq!(
        r.listener
            .accept(vec![reset("ssf iss 1", "u01@example.com")])
            .unwrap(),
        [Accepted::Repeat(1)]
    );
    let both = r
        .listener
        .accept(vec![
            reset("ssf iss 1", "u01@example.com"),
            signal("okta 2", "u02@example.com", Action::Record),
            signal("okta 2", "u02@example.com", Action::Record),
        ])
        .unwrap();
    assert_eq!(
        both,
        [Accepted::Repeat(1), Accepted::New(2), Accepted::Repeat(2)]
    );
    r.until("the record", |s| settled(s, "recorded") == 1).await;
    let listener = r.stop().await;
    assert_eq!(env.resets(), ["W0U01"]);
    assert_eq!(listener.status().settled.values().sum::<u64>(), 2);
    let notes = env.notes();
    assert!(
        notes.contains(&"signal 1: ssf session-revoked U01@Example.COM: reset (W0U01)".to_owned()),
        "{notes:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_reset_covers_the_signals_of_its_user_accepted_before_it() {
    let env = Env::start().await;
    let (listener, worker, stop) = env.open(env.plan(roomy())).await;
    // Accepted before the worker runs: one reset of W0U02 covers all three.
    listener
        .accept(vec![
            reset("a", "u02@example.com"),
            reset("b", "u03@example.com"),
            reset("c", "U02@example.com"),
            reset("d", "u02@EXAMPLE.com"),
        ])
        .unwrap();
    let r = run(listener, worker, stop);
    let status = r.until("all", |s| s.pending == 0).await;
    assert_eq!(settled(&status, "reset"), 2, "{status:?}");
    assert_eq!(settled(&status, "covered"), 2, "{status:?}");
    assert_eq!(env.resets(), ["W0U02", "W0U03"]);
    // A signal accepted after that reset is a new reason: it signs the user out again.
    r.listener
        .accept(vec![reset("e", "u02@example.com")])
        .unwrap();
    r.until("the second reset", |s| settled(s, "reset") == 3)
        .await;
    assert_eq!(env.resets(), ["W0U02", "W0U03", "W0U02"]);
    r.stop().await;
    assert!(
        env.notes()
            .iter()
            .any(|n| n.ends_with(": covered (by signal 1)"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_only_unmapped_and_unknown_addresses_make_no_call() {
    let env = Env::start().await;
    let r = env.run(env.plan(roomy())).await;
    let unmapped = Signal {
        subject: Subject::Unmapped {
            described: "iss_sub https://idp/ 00u1\u{1b}[2J".into(),
        },
        ..reset("u", "")
    };
    r.listener
        .accept(vec![
            signal("r", "u03@example.com", Action::Record),
            unmapped,
            reset("n", "nobody@example.com"),
            reset("g", "gone@example.com"),
        ])
        .unwrap();
    let status = r.until("all settled", |s| s.pending == 0).await;
    let r = r;
    assert_eq!(settled(&status, "recorded"), 1);
    assert_eq!(settled(&status, "unmapped"), 1);
    assert_eq!(settled(&status, "not_found"), 2, "{status:?}");
    assert_eq!(status.actions, 0);
    assert!(env.resets().is_empty());
    assert_eq!(env.sessions("W0U03").await, 2);
    r.stop().await;
    // Control characters from outside are shown, never obeyed.
    let notes = env.notes();
    assert!(
        notes.contains(
            &"signal 2: ssf session-revoked iss_sub https://idp/ 00u1\\u{1b}[2J: unmapped"
                .to_owned()
        ),
        "{notes:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_primary_owner_bots_the_token_owner_and_exempt_users_are_not_signed_out() {
    let env = Env::start().await;
    let guardrails = Guardrails {
        exempt_users: vec![UserId::new("W0U04")],
        ..roomy()
    };
    let r = env.run(env.plan(guardrails)).await;
    let l = &r.listener;
    assert_eq!(
        l.lookup("Owner@Example.com").await.unwrap(),
        Lookup::Refused(UserId::new(OWNER), "primary owner")
    );
    assert_eq!(
        l.lookup("bot@example.com").await.unwrap(),
        Lookup::Refused(UserId::new("W0BOT"), "bot")
    );
    assert_eq!(
        l.lookup("nobody@example.com").await.unwrap(),
        Lookup::NotFound
    );
    assert_eq!(
        l.lookup("u05@example.com").await.unwrap(),
        Lookup::User(UserId::new("W0U05"))
    );
    // Cached: the same address (in any case) costs no second call.
    let lookups = || {
        env.emu
            .requests(&RequestFilter::new().method("users.lookupByEmail"))
            .len()
    };
    let before = lookups();
    l.lookup("U05@EXAMPLE.COM").await.unwrap();
    assert_eq!(lookups(), before);
    l.accept(vec![
        reset("o", "owner@example.com"),
        reset("b", "bot@example.com"),
        reset("a", "admin@example.com"),
        reset("x", "u04@example.com"),
    ])
    .unwrap();
    let status = r.until("all settled", |s| s.pending == 0).await;
    assert_eq!(settled(&status, "refused"), 2, "{status:?}");
    assert_eq!(settled(&status, "exempt"), 2, "{status:?}");
    assert!(env.resets().is_empty(), "no call for any of them");
    for user in [OWNER, ADMIN, "W0U04"] {
        assert_eq!(env.sessions(user).await, 2, "{user}");
    }
    // A call that fails for the token says so in the status, until one goes through.
    env.emu
        .add_fault(
            FaultRule::new(Effect::Error(ErrorCode::TokenRevoked))
                .method("users.lookupByEmail")
                .times(1),
        )
        .unwrap();
    assert!(r.listener.lookup("u06@example.com").await.is_err());
    assert!(!r.listener.status().token_ok);
    r.listener.lookup("u06@example.com").await.unwrap();
    assert!(r.listener.status().token_ok);
    r.stop().await;
    let warnings = env.warnings();
    assert!(
        warnings.contains(
            &"signal 1: ssf session-revoked owner@example.com: refused (primary owner)".to_owned()
        ),
        "{warnings:#?}"
    );
    assert!(
        env.notes()
            .iter()
            .any(|n| n.ends_with("admin@example.com: exempt (the token's owner)"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_cap_holds_what_is_past_it_pending() {
    let env = Env::start().await;
    let plan = env.plan(Guardrails {
        max_actions_per_hour: 2,
        ..roomy()
    });
    let r = env.run(plan.clone()).await;
    r.listener
        .accept(vec![
            reset("1", "u01@example.com"),
            reset("2", "u02@example.com"),
            reset("3", "u03@example.com"),
        ])
        .unwrap();
    let status = r.until("two resets", |s| settled(s, "reset") == 2).await;
    // A record-only signal behind the held one is not held up by it.
    r.listener
        .accept(vec![signal("4", "u03@example.com", Action::Record)])
        .unwrap();
    r.until("the record", |s| settled(s, "recorded") == 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(r.listener.status().pending, 1, "{status:?}");
    assert_eq!(env.resets(), ["W0U01", "W0U02"]);
    assert_eq!(env.sessions("W0U03").await, 2);
    r.stop().await;
    assert!(
        env.notes()
            .iter()
            .any(|n| n.contains("reach max_actions_per_hour (2)"))
    );
    // The cap holds across a restart: the ledger remembers the hour.
    let r = env.run(plan).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.listener.status().pending, 1);
    let listener = r.stop().await;
    assert_eq!(env.resets().len(), 2);
    assert_eq!(listener.status().pending, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_trips_at_max_share_until_an_admin_resumes_it() {
    let env = Env::start().await;
    // 12 active users (the bot and the deactivated user do not count): 0.2 allows 2.
    let plan = env.plan(Guardrails {
        max_share: 0.2,
        ..roomy()
    });
    let r = env.run(plan.clone()).await;
    r.listener
        .accept(vec![
            reset("1", "u01@example.com"),
            reset("2", "u02@example.com"),
            reset("3", "u01@example.com"),
            reset("4", "u03@example.com"),
            reset("5", "u04@example.com"),
        ])
        .unwrap();
    let status = r.until("the breaker", |s| s.breaker.is_some()).await;
    let reason = status.breaker.clone().unwrap();
    assert!(
        reason.contains("2 user(s) signed out within the hour"),
        "{reason}"
    );
    assert!(reason.contains("12 active users (2 allowed)"), "{reason}");
    r.until("W0U01's second", |s| settled(s, "covered") == 1)
        .await;
    assert_eq!(env.resets(), ["W0U01", "W0U02"]);
    // The warning follows the journaled trip, which the status shows first.
    eventually("the breaker's warning", || {
        let warnings = env.warnings();
        if warnings
            .iter()
            .any(|w| w.starts_with("circuit breaker tripped"))
        {
            Ok(())
        } else {
            Err(warnings)
        }
    })
    .await;
    // Tripped, it still settles what needs no sign-out.
    r.listener
        .accept(vec![signal("6", "u05@example.com", Action::Record)])
        .unwrap();
    r.until("the record", |s| settled(s, "recorded") == 1).await;
    assert_eq!(r.listener.status().pending, 2);
    // Resumed, it counts from there: two more.
    r.listener.resume_breaker().unwrap();
    let status = r.until("the rest", |s| s.pending == 0).await;
    assert_eq!(settled(&status, "reset"), 4, "{status:?}");
    assert!(status.breaker.is_none());
    assert_eq!(env.resets(), ["W0U01", "W0U02", "W0U03", "W0U04"]);
    // Counted from the resume, those two leave no room for a third: tripped again at once.
    r.listener
        .accept(vec![reset("7", "u05@example.com")])
        .unwrap();
    r.until("the breaker again", |s| {
        s.breaker.is_some() && s.pending == 1
    })
    .await;
    let listener = r.stop().await;
    drop(listener);
    let r = env.run(plan.clone()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = r.listener.status();
    assert!(
        status.breaker.is_some(),
        "a tripped breaker outlives a restart"
    );
    assert_eq!(status.pending, 1);
    drop(r.stop().await);
    let r = env
        .run(Plan {
            resume_breaker: true,
            ..plan
        })
        .await;
    let status = r.until("the last", |s| s.pending == 0).await;
    assert!(status.breaker.is_none());
    assert_eq!(env.resets().last().map(String::as_str), Some("W0U05"));
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_answers_while_a_reset_is_held_up_by_slack() {
    let env = Env::start().await;
    env.emu
        .add_fault(
            FaultRule::new(Effect::LatencyMs(2_000))
                .method("admin.users.session.reset")
                .times(1),
        )
        .unwrap();
    let r = env.run(env.plan(roomy())).await;
    r.listener
        .accept(vec![reset("1", "u01@example.com")])
        .unwrap();
    // Its intent is journaled: the call is under way, held up for two seconds.
    r.until("the call", |s| s.actions == 1).await;
    let started = Instant::now();
    let accepted = r
        .listener
        .accept(vec![reset("2", "u02@example.com")])
        .unwrap();
    let status = r.listener.status();
    let took = started.elapsed();
    assert_eq!(accepted, [Accepted::New(2)]);
    assert_eq!(
        settled(&status, "reset"),
        0,
        "the first reset is still held up"
    );
    assert!(took < Duration::from_millis(500), "accept took {took:?}");
    r.until("both", |s| settled(s, "reset") == 2).await;
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_settles_open_intents_before_sending_and_resumes_pending_signals() {
    let env = Env::start().await;
    let plan = env.plan(roomy());
    {
        // A process that died with two resets under way: W0U01's reached Slack (it has no
        // sessions left), W0U02's did not; W0U03's signal was not acted on yet.
        let (listener, worker, _) = env.open(plan.clone()).await;
        listener
            .accept(vec![
                reset("1", "u01@example.com"),
                reset("2", "u02@example.com"),
                reset("3", "u03@example.com"),
            ])
            .unwrap();
        let mut run = listener.inner.run.lock();
        for (n, user) in [(1, "W0U01"), (2, "W0U02")] {
            run.run(Record::Acting {
                n,
                user_id: UserId::new(user),
                ledger: 0,
                upto: 3,
            })
            .unwrap();
            Steps::intent(
                &mut *run,
                Call::Reset {
                    user_ids: vec![UserId::new(user)],
                    devices: Devices::All,
                },
            )
            .unwrap();
        }
        drop(run);
        drop((listener, worker));
    }
    env.client
        .reset(slack_sessions_client::methods::ResetArgs::new(UserId::new(
            "W0U01",
        )))
        .await
        .unwrap();
    env.emu.clear_requests();
    let r = env.run(plan).await;
    let status = r.until("all three", |s| s.pending == 0).await;
    assert_eq!(settled(&status, "reset"), 3, "{status:?}");
    // W0U01's was found done by listing; only the other two were sent.
    assert_eq!(env.resets(), ["W0U02", "W0U03"]);
    let list = env
        .emu
        .requests(&RequestFilter::new().method("admin.users.session.list"));
    assert!(list.len() >= 2, "both open intents were checked by listing");
    assert!(
        list[0].id
            < env
                .emu
                .requests(&RequestFilter::new().method("admin.users.session.reset"))[0]
                .id
    );
    for user in ["W0U01", "W0U02", "W0U03"] {
        assert_eq!(env.sessions(user).await, 0, "{user}");
    }
    r.stop().await;
    assert!(
        env.notes()
            .iter()
            .any(|n| n.starts_with("resuming the listener's journal"))
    );
    assert!(
        env.notes()
            .iter()
            .any(|n| n.starts_with("checking 2 sign-out(s)"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_of_another_org_or_kind_is_refused_and_a_changed_config_resumes() {
    let env = Env::start().await;
    let plan = env.plan(roomy());
    let (listener, worker, _) = env.open(plan.clone()).await;
    listener
        .accept(vec![reset("1", "u01@example.com")])
        .unwrap();
    drop((listener, worker));
    // Other guardrails, another config path: the same journal resumes, its signal pending.
    let other = Plan {
        guardrails: Guardrails {
            max_actions_per_hour: 1,
            max_share: 0.5,
            exempt_users: vec![UserId::new("W0U09")],
        },
        key: "/elsewhere/listen.toml".into(),
        ..plan.clone()
    };
    let (listener, worker, _) = env.open(other).await;
    assert_eq!(listener.status().pending, 1);
    drop((listener, worker));
    // Another org's journal is refused.
    let text = std::fs::read_to_string(env.journal()).unwrap();
    std::fs::write(env.journal(), text.replacen(ORG, "E0OTHER001", 1)).unwrap();
    let ctx = env.ctx();
    let err = Listener::open_in(&ctx, plan.clone(), env.dir.path(), State::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another org"), "{err}");
    // So is another kind of run's.
    std::fs::write(
        env.journal(),
        text.replacen("\"kind\":\"listen\"", "\"kind\":\"enforce\"", 1),
    )
    .unwrap();
    let err = Listener::open_in(&ctx, plan, env.dir.path(), State::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("of `enforce`, not of `listen`"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_keeps_the_journal_bounded_and_the_keys_it_must() {
    let env = Env::start().await;
    let count = |path: &std::path::Path| std::fs::read_to_string(path).unwrap().lines().count();
    let record = |i: usize| signal(&format!("okta {i}"), "u01@example.com", Action::Record);
    // Keys kept for a week: every one survives compaction and a restart.
    let plan = env.plan(roomy());
    let (listener, worker, stop) = env.open(plan.clone()).await;
    let r = run(listener, worker.compact_after(200), stop);
    let n = 2_000;
    for (b, batch) in (0..n).collect::<Vec<_>>().chunks(100).enumerate() {
        r.listener
            .accept(batch.iter().map(|i| record(*i)).collect())
            .unwrap();
        let done = 100 * (b as u64 + 1);
        r.until("the batch", |s| settled(s, "recorded") == done)
            .await;
        // Two lines a signal are written; a compaction keeps one, its key, and comes once
        // the journal is twice what the last one kept.
        let lines = count(&env.journal());
        assert!(lines < 2 * (done as usize + 10) + 2 * 100, "{lines} lines");
    }
    let listener = r.stop().await;
    let text = std::fs::read_to_string(env.journal()).unwrap();
    let keys = text
        .lines()
        .filter(|l| l.contains(r#""type":"key""#))
        .count();
    assert!(keys >= n / 2, "{keys} keys folded");
    let again: Vec<Signal> = (0..n).map(record).collect();
    let answers = listener.accept(again.clone()).unwrap();
    assert!(answers.iter().all(|a| matches!(a, Accepted::Repeat(_))));
    drop(listener);
    let (listener, _worker, _) = env.open(plan).await;
    let answers = listener.accept(again).unwrap();
    assert!(answers.iter().all(|a| matches!(a, Accepted::Repeat(_))));
    assert_eq!(listener.status().settled["recorded"], n as u64);
    drop((listener, _worker));

    // Keys past their time go: a journal of many more signals stays as small, but for a
    // key a GTR token's `exp` keeps longer.
    let env = Env::start().await;
    let plan = env.plan(roomy());
    let (listener, worker, stop) = env.open_with(plan, State::keeping_keys(0)).await;
    let r = run(listener, worker.compact_after(200), stop);
    let n = 4_000;
    let until = now_ms() + HOUR_MS;
    for (b, batch) in (0..n).collect::<Vec<_>>().chunks(100).enumerate() {
        let signals = batch
            .iter()
            .map(|i| Signal {
                keep_key_until_ms: (*i == 7).then_some(until),
                ..record(*i)
            })
            .collect();
        r.listener.accept(signals).unwrap();
        r.until("the batch", |s| {
            settled(s, "recorded") == 100 * (b as u64 + 1)
        })
        .await;
        // At most what one compaction leaves behind, and a batch's two lines a signal.
        let lines = count(&env.journal());
        assert!(lines < 200 + 2 * 100 + 10, "{lines} lines");
    }
    r.until("all recorded", |s| settled(s, "recorded") == n as u64)
        .await;
    let listener = r.stop().await;
    assert!(count(&env.journal()) < 2 * 200 + 10);
    let answers = listener.accept(vec![record(7), record(8)]).unwrap();
    assert_eq!(answers[0], Accepted::Repeat(8));
    assert_eq!(answers[1], Accepted::New(n as u64 + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_met_is_counted() {
    let env = Env::with_pacing(Pacing::slack()).await;
    env.emu
        .add_fault(
            FaultRule::new(Effect::RateLimited(1))
                .method("admin.users.session.reset")
                .times(1),
        )
        .unwrap();
    let r = env.run(env.plan(roomy())).await;
    r.listener
        .accept(vec![reset("1", "u01@example.com")])
        .unwrap();
    let status = r.until("the reset", |s| settled(s, "reset") == 1).await;
    assert_eq!(status.rate_limit_waits, 1, "{status:?}");
    assert_eq!(env.sessions("W0U01").await, 0);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_slack_will_not_look_up_is_settled_not_retried_forever() {
    let env = Env::start().await;
    env.emu
        .add_fault(
            FaultRule::new(Effect::Error("invalid_email".into()))
                .method("users.lookupByEmail")
                .times(1),
        )
        .unwrap();
    let r = env.run(env.plan(roomy())).await;
    r.listener
        .accept(vec![
            reset("1", "not an address"),
            reset("2", "u01@example.com"),
        ])
        .unwrap();
    let status = r.until("both", |s| s.pending == 0).await;
    assert_eq!(settled(&status, "not_found"), 1, "{status:?}");
    assert_eq!(settled(&status, "reset"), 1, "{status:?}");
    assert!(status.token_ok);
    r.stop().await;
    assert!(env.notes().contains(
        &"signal 1: ssf session-revoked not an address: not_found (invalid_email)".to_owned()
    ));
}
