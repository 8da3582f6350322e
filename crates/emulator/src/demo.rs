//! The demo org of `serve --demo`: a realistic Enterprise Grid org, a second org to show tenant
//! isolation, and a standalone workspace; generated deterministically, so tests can rely on it.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use slack_sessions_api::methods::DeviceRecord;

use crate::seed::*;

/// Org owner with every scope the tooling needs, `auditlogs:read` included.
pub const ADMIN_TOKEN: &str = "xoxp-demo-admin";
/// The primary owner (may reset their own sessions).
pub const PRIMARY_OWNER_TOKEN: &str = "xoxp-demo-primary-owner";
/// An admin with `admin.users:read` only.
pub const READ_ONLY_TOKEN: &str = "xoxp-demo-read-only";
/// The app of [`READ_ONLY_TOKEN`]; every other demo token belongs to the org's default app.
pub const AUDIT_APP_ID: &str = "A0DEMOAUDIT";
/// An admin whose token has no scopes: `missing_scope` everywhere.
pub const NO_SCOPES_TOKEN: &str = "xoxp-demo-no-scopes";
/// A member with admin scopes: `not_an_admin`.
pub const MEMBER_TOKEN: &str = "xoxp-demo-member";
/// A bot token: `not_allowed_token_type`.
pub const BOT_TOKEN: &str = "xoxb-demo-bot";
/// `token_revoked`.
pub const REVOKED_TOKEN: &str = "xoxp-demo-revoked";
/// `token_expired`.
pub const EXPIRED_TOKEN: &str = "xoxp-demo-expired";
/// Belongs to a deactivated admin: `account_inactive`.
pub const DEACTIVATED_TOKEN: &str = "xoxp-demo-deactivated";
/// Admin of the second org, Globex.
pub const OTHER_ORG_ADMIN_TOKEN: &str = "xoxp-demo-globex-admin";
/// Admin of the standalone (non-Grid) workspace: `feature_not_enabled`.
pub const STANDALONE_ADMIN_TOKEN: &str = "xoxp-demo-standalone";

/// The demo org's id.
pub const ORG_ID: &str = "E0DEMO0001";
/// The demo org's teams.
pub const TEAMS: [&str; 3] = ["T0DEMOENG1", "T0DEMOSAL1", "T0DEMOOPS1"];
/// The primary owner's user id.
pub const PRIMARY_OWNER_ID: &str = "W0DEMO0001";
/// The admin behind [`ADMIN_TOKEN`].
pub const ADMIN_ID: &str = "W0DEMO0002";
/// A bot user.
pub const BOT_ID: &str = "W0DEMOBOT1";

const ALL_SCOPES: [&str; 4] = [
    "admin.users:read",
    "admin.users:write",
    "users:read",
    "users:read.email",
];

const FIRST: [&str; 20] = [
    "ada",
    "grace",
    "alan",
    "barbara",
    "dennis",
    "edsger",
    "frances",
    "guido",
    "hedy",
    "ivan",
    "john",
    "ken",
    "linus",
    "margaret",
    "niklaus",
    "radia",
    "sophie",
    "tim",
    "whitfield",
    "yukihiro",
];
const LAST: [&str; 10] = [
    "lovelace",
    "hopper",
    "turing",
    "liskov",
    "ritchie",
    "dijkstra",
    "allen",
    "rossum",
    "lamarr",
    "sutherland",
];

/// A user; owners and admins have two-factor authentication on.
fn user(id: &str, name: &str, domain: &str, role: Role, teams: &[&str]) -> UserSeed {
    UserSeed {
        id: id.into(),
        name: name.into(),
        email: Some(format!("{name}@{domain}")),
        role,
        is_bot: false,
        deleted: false,
        teams: teams.iter().map(|t| t.to_string()).collect(),
        has_2fa: role.is_admin(),
        ..Default::default()
    }
}

fn token(token: &str, user_id: &str, scopes: &[&str], state: TokenState) -> TokenSeed {
    TokenSeed {
        token: token.into(),
        user_id: user_id.into(),
        kind: None,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        state,
        ..Default::default()
    }
}

/// A plausible device for a session on a client of kind `client`; `unknown` is refused, as it
/// is no session's kind.
pub fn device(rng: &mut impl Rng, client: ClientKind) -> Result<DeviceRecord, IndefiniteClient> {
    let devices: &[(&str, &str, &str, &str)] = match client {
        ClientKind::Desktop => &[
            ("Intel", "OS X", "14.6.1", "4.41.105"),
            ("Apple M2", "OS X", "15.1", "4.41.105"),
            ("x86_64", "Windows", "11", "4.40.128"),
            ("x86_64", "Linux", "6.8", "4.39.95"),
        ],
        ClientKind::Web => &[
            ("Intel", "OS X", "10.15.7", "131.0.6778.86"),
            ("x86_64", "Windows", "10", "132.0"),
            ("Apple M1", "OS X", "14.2", "18.1"),
        ],
        ClientKind::Mobile => &[
            ("iPhone15,3", "iOS", "18.1", "24.11.10"),
            ("iPad13,4", "iPadOS", "17.7", "24.10.20"),
            ("Pixel 8", "Android", "15", "24.11.10.0"),
        ],
        ClientKind::Unknown => return Err(IndefiniteClient),
    };
    let ip = format!(
        "{}.{}.{}.{}",
        [24, 73, 98, 172, 203][rng.random_range(0..5)],
        rng.random_range(0..=255),
        rng.random_range(0..=255),
        rng.random_range(1..=254)
    );
    let (hw, os, ver, client_version) = devices[rng.random_range(0..devices.len())];
    Ok(DeviceRecord::new(hw, os, ver, client_version, ip))
}

/// [`device`] for a kind a generator picked from [`SESSION_CLIENTS`].
pub(crate) fn generated_device(rng: &mut impl Rng, client: ClientKind) -> DeviceRecord {
    device(rng, client).expect("generators pick their kinds from SESSION_CLIENTS")
}

/// The demo org's office network (IPv4): `sessions list --ip 198.51.100.0/24`.
pub const OFFICE_NET: &str = "198.51.100.0/24";
/// The demo org's VPN egress network.
pub const VPN_NET: &str = "203.0.113.0/24";
/// The demo org's IPv6 office network.
pub const OFFICE_NET6: &str = "2001:db8:ac3e::/48";

/// Devices of the demo org by client kind, old and new: (hardware, OS, OS version, Slack
/// client version).
const DESKTOPS: [(&str, &str, &str, &str); 6] = [
    ("Apple M2", "OS X", "15.1", "4.41.105"),
    ("Intel", "OS X", "13.6.9", "4.35.131"),
    ("x86_64", "Windows", "11", "4.41.105"),
    ("x86_64", "Windows", "10", "4.33.73"),
    ("x86_64", "Linux", "6.8", "4.39.95"),
    ("Apple M1", "OS X", "12.7.6", "4.29.149"),
];
const BROWSERS: [(&str, &str, &str, &str); 5] = [
    ("Intel", "OS X", "14.6.1", "131.0.6778.86"),
    ("x86_64", "Windows", "11", "132.0"),
    ("x86_64", "Windows", "10", "109.0"),
    ("Apple M1", "OS X", "14.2", "18.1"),
    ("x86_64", "Linux", "6.8", "131.0"),
];
const PHONES: [(&str, &str, &str, &str); 5] = [
    ("iPhone15,3", "iOS", "18.1", "24.11.10"),
    ("iPhone12,1", "iOS", "16.7.10", "23.08.10"),
    ("iPad13,4", "iPadOS", "17.7", "24.10.20"),
    ("Pixel 8", "Android", "15", "24.11.10.0"),
    ("SM-G991B", "Android", "12", "23.06.10.0"),
];
/// The demo org's devices of a session's client kind (`unknown` is refused, as by [`device`]).
fn demo_devices(
    client: ClientKind,
) -> Result<&'static [(&'static str, &'static str, &'static str, &'static str)], IndefiniteClient> {
    match client {
        ClientKind::Desktop => Ok(&DESKTOPS),
        ClientKind::Web => Ok(&BROWSERS),
        ClientKind::Mobile => Ok(&PHONES),
        ClientKind::Unknown => Err(IndefiniteClient),
    }
}
/// The newest Slack client of each kind, that an old one is updated to.
const NEWEST: [(&str, &str); 3] = [("desktop", "4.41.105"), ("mobile", "24.11.10"), ("web", "")];

/// An address of the demo org: the office (IPv4 or IPv6), the VPN, or a home or mobile
/// network.
fn demo_ip(rng: &mut impl Rng) -> String {
    match rng.random_range(0..20) {
        0..=6 => format!("198.51.100.{}", rng.random_range(2..=250)),
        7..=9 => format!("203.0.113.{}", rng.random_range(2..=250)),
        10..=12 => format!(
            "2001:db8:ac3e:{:x}::{:x}",
            rng.random_range(1..=4),
            rng.random_range(1..=0xfff)
        ),
        13 => format!(
            "2600:1700:{:x}:{:x}::{:x}",
            rng.random_range(1..=0xffff),
            rng.random_range(1..=0xffff),
            rng.random_range(1..=0xff)
        ),
        _ => format!(
            "{}.{}.{}.{}",
            [24, 73, 98, 172][rng.random_range(0..4)],
            rng.random_range(0..=255),
            rng.random_range(0..=255),
            rng.random_range(1..=254)
        ),
    }
}

/// Makes the demo org's sessions varied, with a generator of its own (so that the sessions'
/// ids, users, teams and client kinds stay as they were): office, VPN, IPv6 and home networks;
/// old and new OS and Slack client versions; sessions last seen on another network than the
/// one they began on, some of them on an updated client.
fn vary(sessions: &mut [SessionSeed]) {
    let mut rng = SmallRng::seed_from_u64(0xD1_5E55);
    for s in sessions {
        let devices = demo_devices(s.client).expect("the demo's sessions are of SESSION_CLIENTS");
        let (hw, os, ver, app) = devices[rng.random_range(0..devices.len())];
        s.created = DeviceRecord::new(hw, os, ver, app, demo_ip(&mut rng));
        if s.recent.is_some() {
            let mut recent = s.created.clone();
            recent.ip = Some(demo_ip(&mut rng).into());
            let newest = NEWEST
                .iter()
                .find(|(k, _)| *k == s.client.as_str())
                .map_or("", |(_, v)| *v);
            if !newest.is_empty() && rng.random_bool(0.5) {
                recent.slack_client_version = Some(newest.into());
            }
            s.recent = Some(recent);
        }
    }
}

/// A device of the demo org's kinds, on one of its networks (as [`vary`] makes them), for a
/// kind a generator picked from [`SESSION_CLIENTS`].
pub(crate) fn demo_device(rng: &mut impl Rng, client: ClientKind) -> DeviceRecord {
    let devices = demo_devices(client).expect("generators pick their kinds from SESSION_CLIENTS");
    let (hw, os, ver, app) = devices[rng.random_range(0..devices.len())];
    DeviceRecord::new(hw, os, ver, app, demo_ip(rng))
}

/// Sessions for `users`, with ids rising from `next_id`.
fn sessions(
    rng: &mut SmallRng,
    next_id: &mut u64,
    users: &[UserSeed],
    org_id: &str,
    per_user: std::ops::RangeInclusive<usize>,
) -> Vec<SessionSeed> {
    let mut out = Vec::new();
    for u in users.iter().filter(|u| !u.deleted) {
        for _ in 0..rng.random_range(per_user.clone()) {
            *next_id += rng.random_range(1..5_000);
            let client = SESSION_CLIENTS[rng.random_range(0..SESSION_CLIENTS.len())];
            let team_id = if rng.random_bool(0.3) || u.teams.is_empty() {
                org_id.to_owned()
            } else {
                u.teams[rng.random_range(0..u.teams.len())].clone()
            };
            let created = generated_device(rng, client);
            let recent = rng.random_bool(0.4).then(|| {
                let mut moved = created.clone();
                moved.ip = generated_device(rng, client).ip;
                moved
            });
            out.push(SessionSeed {
                session_id: *next_id,
                user_id: u.id.clone(),
                team_id,
                client,
                created,
                recent,
            });
        }
    }
    out
}

/// Builds the demo seed ([`seed_at`]) with a history that ends at the start of today (UTC).
pub fn seed() -> Seed {
    let now = crate::clock::now_ms() / 1000;
    seed_at(now - now % 86_400)
}

/// Builds the demo seed: Acme (Grid, 3 teams, 50 users of every role, 4 bots, ~200 sessions,
/// and 30 days of audit logs up to `history_end`, Unix seconds), Globex (a second Grid org,
/// with its live sessions' sign-ins) and Initech (a standalone workspace). The same
/// `history_end` gives the same seed.
pub fn seed_at(history_end: u64) -> Seed {
    let mut rng = SmallRng::seed_from_u64(0x51AC_5E55);
    let mut next_id = 1_112_275_520_242u64;

    let mut users = vec![
        user(
            PRIMARY_OWNER_ID,
            "ada.lovelace",
            "acme.example",
            Role::PrimaryOwner,
            &TEAMS,
        ),
        user(
            ADMIN_ID,
            "grace.hopper",
            "acme.example",
            Role::Owner,
            &TEAMS,
        ),
        user(
            "W0DEMO0003",
            "alan.turing",
            "acme.example",
            Role::Admin,
            &TEAMS,
        ),
        user(
            "W0DEMO0004",
            "barbara.liskov",
            "acme.example",
            Role::Admin,
            &TEAMS[..1],
        ),
        user(
            "W0DEMO0005",
            "dennis.ritchie",
            "acme.example",
            Role::Member,
            &TEAMS[..1],
        ),
    ];
    for i in 6..=50 {
        let name = format!("{}.{}{}", FIRST[i % 20], LAST[i % 10], i);
        let role = match i {
            6..=7 => Role::Owner,
            8..=11 => Role::Admin,
            _ => Role::Member,
        };
        let teams: Vec<&str> = TEAMS
            .iter()
            .copied()
            .filter(|_| rng.random_bool(0.6))
            .collect();
        let teams = if teams.is_empty() {
            vec![TEAMS[i % 3]]
        } else {
            teams
        };
        // Two guests: a multi-channel one and a single-channel one.
        let role = match i {
            46 => Role::MultiChannelGuest,
            47 => Role::SingleChannelGuest,
            _ => role,
        };
        let mut u = user(
            &format!("W0DEMO{i:04}"),
            &name,
            "acme.example",
            role,
            &teams,
        );
        u.deleted = i >= 48;
        users.push(u);
    }
    for (i, name) in ["deploybot", "standupbot", "alertbot", "surveybot"]
        .iter()
        .enumerate()
    {
        let mut bot = user(
            &format!("W0DEMOBOT{}", i + 1),
            name,
            "bots.acme.example",
            Role::Member,
            &TEAMS,
        );
        bot.is_bot = true;
        bot.email = None;
        users.push(bot);
    }

    let mut acme_sessions = sessions(&mut rng, &mut next_id, &users, ORG_ID, 2..=6);
    acme_sessions.retain(|s| !s.user_id.starts_with("W0DEMOBOT") || s.user_id == BOT_ID);
    vary(&mut acme_sessions);
    let acme = OrgSeed {
        id: ORG_ID.into(),
        name: "Acme Corp".into(),
        grid: true,
        teams: vec![
            TeamSeed {
                id: TEAMS[0].into(),
                name: "Acme Engineering".into(),
            },
            TeamSeed {
                id: TEAMS[1].into(),
                name: "Acme Sales".into(),
            },
            TeamSeed {
                id: TEAMS[2].into(),
                name: "Acme Operations".into(),
            },
        ],
        tokens: vec![
            token(
                ADMIN_TOKEN,
                ADMIN_ID,
                &[ALL_SCOPES.as_slice(), &["auditlogs:read"]].concat(),
                TokenState::Active,
            ),
            token(
                PRIMARY_OWNER_TOKEN,
                PRIMARY_OWNER_ID,
                &ALL_SCOPES,
                TokenState::Active,
            ),
            // An audit tool: an app of its own, so its rate-limit budgets are its own too.
            TokenSeed {
                app_id: Some(AUDIT_APP_ID.into()),
                ..token(
                    READ_ONLY_TOKEN,
                    "W0DEMO0003",
                    &["admin.users:read"],
                    TokenState::Active,
                )
            },
            token(MEMBER_TOKEN, "W0DEMO0005", &ALL_SCOPES, TokenState::Active),
            token(NO_SCOPES_TOKEN, "W0DEMO0003", &[], TokenState::Active),
            token(BOT_TOKEN, BOT_ID, &ALL_SCOPES, TokenState::Active),
            token(
                REVOKED_TOKEN,
                "W0DEMO0004",
                &ALL_SCOPES,
                TokenState::Revoked,
            ),
            token(
                EXPIRED_TOKEN,
                "W0DEMO0004",
                &ALL_SCOPES,
                TokenState::Expired,
            ),
            token(
                DEACTIVATED_TOKEN,
                "W0DEMO0049",
                &ALL_SCOPES,
                TokenState::Active,
            ),
        ],
        session_settings: vec![
            SettingsSeed {
                user_id: ADMIN_ID.into(),
                duration: Some(28_800),
                desktop_app_browser_quit: Some(true),
            },
            SettingsSeed {
                user_id: "W0DEMO0010".into(),
                duration: Some(2_592_000),
                desktop_app_browser_quit: None,
            },
            SettingsSeed {
                user_id: "W0DEMO0020".into(),
                duration: None,
                desktop_app_browser_quit: Some(false),
            },
        ],
        users,
        sessions: acme_sessions,
        audit_logs: vec![],
    };
    // Acme's deactivated admin, so its token answers account_inactive.
    let mut acme = acme;
    if let Some(u) = acme.users.iter_mut().find(|u| u.id == "W0DEMO0049") {
        u.role = Role::Admin;
    }
    // A few people outside California (user objects show each zone's offset of the moment).
    for (id, tz) in [
        ("W0DEMO0003", "Europe/London"),
        ("W0DEMO0004", "America/New_York"),
        ("W0DEMO0006", "Europe/Berlin"),
        ("W0DEMO0007", "Asia/Kolkata"),
    ] {
        if let Some(u) = acme.users.iter_mut().find(|u| u.id == id) {
            u.tz = Some(tz.into());
        }
    }
    acme.audit_logs = crate::audit_logs::history::demo(&acme, &acme.tokens[0], history_end, true);

    let globex_users = vec![
        user(
            "W0GLBX0001",
            "hank.scorpio",
            "globex.example",
            Role::PrimaryOwner,
            &["T0GLBXHQ01"],
        ),
        user(
            "W0GLBX0002",
            "frank.grimes",
            "globex.example",
            Role::Admin,
            &["T0GLBXHQ01"],
        ),
        user(
            "W0GLBX0003",
            "homer.simpson",
            "globex.example",
            Role::Member,
            &["T0GLBXHQ01"],
        ),
        user(
            "W0GLBX0004",
            "mindy.simmons",
            "globex.example",
            Role::Member,
            &["T0GLBXHQ01"],
        ),
    ];
    let globex = OrgSeed {
        id: "E0DEMO0002".into(),
        name: "Globex".into(),
        grid: true,
        teams: vec![TeamSeed {
            id: "T0GLBXHQ01".into(),
            name: "Globex HQ".into(),
        }],
        tokens: vec![token(
            OTHER_ORG_ADMIN_TOKEN,
            "W0GLBX0002",
            &ALL_SCOPES,
            TokenState::Active,
        )],
        sessions: sessions(&mut rng, &mut next_id, &globex_users, "E0DEMO0002", 1..=3),
        session_settings: vec![],
        audit_logs: vec![],
        users: globex_users,
    };
    let mut globex = globex;
    globex.audit_logs =
        crate::audit_logs::history::demo(&globex, &globex.tokens[0], history_end, false);

    let initech_users = vec![
        user(
            "U0INIT0001",
            "bill.lumbergh",
            "initech.example",
            Role::PrimaryOwner,
            &[],
        ),
        user(
            "U0INIT0002",
            "peter.gibbons",
            "initech.example",
            Role::Member,
            &[],
        ),
    ];
    let initech = OrgSeed {
        id: "T0DEMOSOLO".into(),
        name: "Initech".into(),
        grid: false,
        teams: vec![],
        tokens: vec![token(
            STANDALONE_ADMIN_TOKEN,
            "U0INIT0001",
            &ALL_SCOPES,
            TokenState::Active,
        )],
        sessions: sessions(&mut rng, &mut next_id, &initech_users, "T0DEMOSOLO", 1..=2),
        session_settings: vec![],
        audit_logs: vec![],
        users: initech_users,
    };

    Seed {
        orgs: vec![acme, globex, initech],
        last_session_id: None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_is_valid_and_stable() {
        let a = super::seed_at(1_764_547_200);
        a.validate().unwrap();
        assert_eq!(a, super::seed_at(1_764_547_200), "deterministic");
        let acme = &a.orgs[0];
        assert!(acme.users.len() >= 50);
        assert!(
            (150..=400).contains(&acme.sessions.len()),
            "{}",
            acme.sessions.len()
        );
        for kind in ["web", "desktop", "mobile"] {
            assert!(acme.sessions.iter().any(|s| s.client.as_str() == kind));
        }
        // Varied: every network, old and new clients, sessions that moved.
        let ips: Vec<&str> = acme
            .sessions
            .iter()
            .flat_map(|s| {
                [
                    s.created.ip.as_deref(),
                    s.recent.as_ref().and_then(|r| r.ip.as_deref()),
                ]
            })
            .flatten()
            .collect();
        for prefix in [
            "198.51.100.",
            "203.0.113.",
            "2001:db8:ac3e:",
            "2600:1700:",
            "24.",
        ] {
            assert!(ips.iter().any(|ip| ip.starts_with(prefix)), "{prefix}");
        }
        let versions: Vec<&str> = acme
            .sessions
            .iter()
            .filter_map(|s| s.created.slack_client_version.as_deref())
            .collect();
        for v in ["4.29.149", "4.33.73", "4.41.105", "23.08.10", "24.11.10"] {
            assert!(versions.contains(&v), "{v}");
        }
        assert!(acme.sessions.iter().any(|s| {
            s.recent
                .as_ref()
                .is_some_and(|r| r.slack_client_version != s.created.slack_client_version)
        }));
        // Dennis Ritchie's session of the README's examples is still there.
        assert!(
            acme.sessions
                .iter()
                .any(|s| s.session_id == 1_112_275_551_244 && s.user_id == "W0DEMO0005")
        );
    }
}
