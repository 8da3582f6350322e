//! Synthetic audit-log history: the demo org's 30 days, and the scale generator's entries.
//! Both are deterministic (seeded random sources), and a live session's `user_login` carries
//! that session's id, IP address and a user agent of its device.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use slack_sessions_api::audit_logs::{Details, Entity, Entry, action};
use slack_sessions_api::{SessionId, UserId};

use super::events::{self, Org, Peer};
use crate::seed::{ClientKind, OrgSeed, SESSION_CLIENTS, SessionSeed, TokenSeed, UserSeed};

const HOUR: u64 = 3_600;
const DAY: u64 = 24 * HOUR;

/// How far back the demo's history goes.
pub const DEMO_DAYS: u64 = 30;

/// Addresses no office uses: Tor exits (`185.220.101.0/24`) and a hosting provider.
const HOSTILE: [&str; 4] = [
    "185.220.101.23",
    "185.220.101.47",
    "45.83.64.9",
    "45.83.64.211",
];

/// The demo's admin console, as the entries of its admin calls show it.
fn admin_peer() -> Peer {
    Peer {
        ip: Some("198.51.100.10".into()),
        user_agent: Some(concat!("slack-sessions/", env!("CARGO_PKG_VERSION")).into()),
    }
}

/// `org`'s history over the `DEMO_DAYS` days before `end` (Unix seconds): a `user_login` for
/// each live session, earlier sessions signed in and out, a few failed sign-ins from hostile
/// addresses, resets by `admin` (one of them in bulk), an invalidation, the settings changes
/// behind the org's session settings, and one anomaly. With `full` false, only the live
/// sessions' sign-ins.
pub fn demo(org: &OrgSeed, admin: &TokenSeed, end: u64, full: bool) -> Vec<Entry> {
    // A random source per org, so that two orgs' entries never share an id.
    let seed = org.id.bytes().fold(0xA0D1_7106_u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    let mut rng = SmallRng::seed_from_u64(seed);
    let o = Org::from(org);
    let start = end - DEMO_DAYS * DAY;
    let user = |id: &str| org.users.iter().find(|u| u.id == id);
    let people: Vec<&UserSeed> = org
        .users
        .iter()
        .filter(|u| !u.is_bot && !u.deleted)
        .collect();
    let admin_user = user(&admin.user_id).expect("the admin token's user is in its org");
    let mut out = Vec::new();

    // The admin's actions, each with the time it ended its targets' sessions.
    let mut reset_at: Vec<(&str, u64)> = Vec::new();
    if full && people.len() > 20 {
        let call = events::call_context(o, &admin_peer(), admin);
        let mut by_admin = |rng: &mut SmallRng, date, action, entity, details: Option<Details>| {
            let mut e = events::entry(rng, date, o, action, admin_user, entity, call.clone());
            e.details = details;
            out.push(e);
        };
        for (n, mobile_only) in [(6, false), (12, true)] {
            let target = people[people.len() - n];
            let date = end - n as u64 * DAY - rng.random_range(0..DAY);
            let mut d = Details::default();
            d.mobile_only = Some(mobile_only);
            d.web_only = Some(false);
            let entity = Entity::user(events::user(o, target));
            by_admin(
                &mut rng,
                date,
                action::USER_SESSION_RESET_BY_ADMIN,
                entity,
                Some(d),
            );
            if !mobile_only {
                reset_at.push((&target.id, date));
            }
        }
        let bulk: Vec<&UserSeed> = people[people.len() - 20..people.len() - 17].to_vec();
        let date = end - 20 * DAY - rng.random_range(0..DAY);
        let mut d = Details::default();
        d.succeeded_users = Some(bulk.iter().map(|u| UserId::new(u.id.as_str())).collect());
        d.failed_users = Some(vec![]);
        by_admin(
            &mut rng,
            date,
            action::BULK_SESSION_RESET_BY_ADMIN,
            events::org_entity(o),
            Some(d),
        );
        reset_at.extend(bulk.iter().map(|u| (u.id.as_str(), date)));
        for s in &org.session_settings {
            let Some(u) = user(&s.user_id) else { continue };
            let mut d = Details::default();
            d.duration = s.duration;
            d.desktop_app_browser_quit = s.desktop_app_browser_quit;
            let date = end - 25 * DAY - rng.random_range(0..DAY);
            let entity = Entity::user(events::user(o, u));
            by_admin(
                &mut rng,
                date,
                action::USER_SESSION_SETTINGS_CHANGED,
                entity,
                Some(d),
            );
        }
    }
    let ended = |id: &str| {
        reset_at
            .iter()
            .filter(|(u, _)| *u == id)
            .map(|(_, t)| *t)
            .max()
    };

    // Each live session signed in after its user's last reset.
    for s in &org.sessions {
        let Some(u) = user(&s.user_id).filter(|u| !u.is_bot) else {
            continue;
        };
        let from = ended(&u.id).map_or(start, |t| t + HOUR);
        let date = rng.random_range(from..end - HOUR);
        let context = events::session_context(o, s, &s.created, None);
        out.push(events::own(
            &mut rng,
            date,
            o,
            action::USER_LOGIN,
            u,
            context,
        ));
    }
    if !full {
        return out;
    }

    // Earlier sessions: signed out, or ended by a reset.
    let mut next_id = 1_112_000_000_000u64;
    let mut invalidated = false;
    for u in &people {
        let until = ended(&u.id).unwrap_or(end - 2 * DAY);
        for _ in 0..rng.random_range(0..=3) {
            next_id += rng.random_range(1..5_000);
            let client = SESSION_CLIENTS[rng.random_range(0..SESSION_CLIENTS.len())];
            let team = if u.teams.is_empty() || rng.random_bool(0.3) {
                org.id.clone()
            } else {
                u.teams[rng.random_range(0..u.teams.len())].clone()
            };
            let device = crate::demo::demo_device(&mut rng, client);
            let s = SessionSeed {
                session_id: next_id,
                user_id: u.id.clone(),
                team_id: team,
                client,
                created: device.clone(),
                recent: None,
            };
            let login = rng.random_range(start..until - DAY);
            let context = events::session_context(o, &s, &device, None);
            out.push(events::own(
                &mut rng,
                login,
                o,
                action::USER_LOGIN,
                u,
                context.clone(),
            ));
            let logout = login + rng.random_range(HOUR..DAY);
            if !invalidated && u.role == crate::seed::Role::Member {
                // The admin ended this one.
                invalidated = true;
                let mut call = events::call_context(o, &admin_peer(), admin);
                call.session_id = Some(SessionId(next_id).into());
                let entity = Entity::user(events::user(o, u));
                out.push(events::entry(
                    &mut rng,
                    logout,
                    o,
                    action::USER_SESSION_INVALIDATED,
                    admin_user,
                    entity,
                    call,
                ));
            } else if logout < until {
                out.push(events::own(
                    &mut rng,
                    logout,
                    o,
                    action::USER_LOGOUT,
                    u,
                    context,
                ));
            }
        }
    }

    // Failed sign-ins from hostile addresses, and one anomaly on a live session.
    for (i, u) in people.iter().skip(4).step_by(9).take(4).enumerate() {
        let device = crate::demo::demo_device(&mut rng, ClientKind::Web);
        let mut c = slack_sessions_api::audit_logs::Context::at(events::org_location(o));
        c.ua = Some(events::user_agent(ClientKind::Web, &device));
        c.ip_address = Some(HOSTILE[i % HOSTILE.len()].to_owned());
        for _ in 0..rng.random_range(1..=3) {
            let date = rng.random_range(start..end - HOUR);
            out.push(events::own(
                &mut rng,
                date,
                o,
                action::USER_LOGIN_FAILED,
                u,
                c.clone(),
            ));
        }
    }
    if let Some(s) = org.sessions.iter().find(|s| {
        user(&s.user_id).is_some_and(|u| u.role == crate::seed::Role::Member && !u.is_bot)
    }) {
        let u = user(&s.user_id).expect("found above");
        let mut context = events::session_context(o, s, &s.created, None);
        context.ip_address = Some(HOSTILE[0].to_owned());
        // Between the session's sign-in and now.
        let signed_in = out
            .iter()
            .find(|e| {
                e.action == action::USER_LOGIN && e.session_id() == Some(SessionId(s.session_id))
            })
            .map_or(start, |e| e.date_create);
        let date = signed_in + (end - signed_in) / 2;
        let mut d = Details::default();
        d.reason = Some(vec!["tor".into()]);
        d.previous_ip_address = s.created.ip.as_deref().map(str::to_owned);
        d.previous_ua = Some(String::new());
        d.extra
            .insert("action_timestamp".into(), (date * 1_000_000).into());
        let mut e = events::own(&mut rng, date, o, action::ANOMALY, u, context);
        e.details = Some(d);
        out.push(e);
    }
    out.sort_by_key(|e| e.date_create);
    out
}

/// Entry `i` of `n` of the scale generator's log, about `u`, dated over the 30 days before
/// `end`, oldest first: mostly sign-ins and sign-outs, some failed sign-ins, resets and
/// settings changes by `owner`, and anomalies.
pub fn scale(
    rng: &mut SmallRng,
    org: Org<'_>,
    owner: &UserSeed,
    u: &UserSeed,
    (i, n): (usize, usize),
    end: u64,
) -> Entry {
    let span = DEMO_DAYS * DAY;
    let date = end - span + (i as u64 * span) / n.max(1) as u64;
    let client = SESSION_CLIENTS[rng.random_range(0..SESSION_CLIENTS.len())];
    let device = crate::demo::generated_device(rng, client);
    let session = SessionSeed {
        session_id: 2_000_000_000_000 + i as u64,
        user_id: u.id.clone(),
        team_id: org.teams.first().map_or(org.id, |t| &t.id).to_owned(),
        client,
        created: device.clone(),
        recent: None,
    };
    let context = events::session_context(org, &session, &device, None);
    match rng.random_range(0..100) {
        0..=59 => events::own(rng, date, org, action::USER_LOGIN, u, context),
        60..=89 => events::own(rng, date, org, action::USER_LOGOUT, u, context),
        90..=95 => events::own(rng, date, org, action::USER_LOGIN_FAILED, u, context),
        96..=97 => {
            let mut d = Details::default();
            d.mobile_only = Some(false);
            d.web_only = Some(false);
            let entity = Entity::user(events::user(org, u));
            events::entry(
                rng,
                date,
                org,
                action::USER_SESSION_RESET_BY_ADMIN,
                owner,
                entity,
                context,
            )
            .with_details(d)
        }
        98 => {
            let mut d = Details::default();
            d.duration = Some(28_800);
            let entity = Entity::user(events::user(org, u));
            events::entry(
                rng,
                date,
                org,
                action::USER_SESSION_SETTINGS_CHANGED,
                owner,
                entity,
                context,
            )
            .with_details(d)
        }
        _ => {
            let mut d = Details::default();
            d.reason = Some(vec!["ip_address".into()]);
            d.previous_ip_address = Some(
                crate::demo::generated_device(rng, client)
                    .ip
                    .unwrap_or_default()
                    .into(),
            );
            events::own(rng, date, org, action::ANOMALY, u, context).with_details(d)
        }
    }
}
