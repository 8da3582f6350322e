//! Audit-log entries made from the emulator's own events: who, what, where, in the shape of
//! Slack's guide to the Audit Logs API (<https://docs.slack.dev/admins/audit-logs-api>).
//!
//! What Slack does not document, the emulator decides here, once:
//! - an admin method called with a token is an action an app took: its context is the call's
//!   (the client's IP address and `User-Agent`), `session_id: null` as Slack shows for such
//!   actions, and `app` (the token's app and scopes);
//! - a sign-in or sign-out's context is the session's: its workspace (or the org), its IP
//!   address, a user agent of its client and device, and the `session_id` that
//!   `admin.users.session.list` shows;
//! - an invalidation's `context.session_id` is the session it ended.

use rand::Rng;
use serde_json::json;
use slack_sessions_api::SessionId;
use slack_sessions_api::audit_logs::{
    Actor, Context, ContextSessionId, Entity, Entry, EntryUser, Location, OrgRef,
};
use slack_sessions_api::methods::DeviceRecord;

use crate::seed::{ClientKind, OrgSeed, SessionSeed, TeamSeed, TokenSeed, UserSeed};
use crate::store::{LogRecord, OrgView};

/// What entries say of an org, from a live view or from a seed.
#[derive(Clone, Copy, Debug)]
pub struct Org<'a> {
    /// `E…` (or `T…` for a standalone workspace).
    pub id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Enterprise Grid.
    pub grid: bool,
    /// Its workspaces.
    pub teams: &'a [TeamSeed],
}

impl<'a> From<OrgView<'a>> for Org<'a> {
    fn from(o: OrgView<'a>) -> Self {
        Org {
            id: o.id(),
            name: o.name(),
            grid: o.grid(),
            teams: o.teams(),
        }
    }
}

impl<'a> From<&'a OrgSeed> for Org<'a> {
    fn from(o: &'a OrgSeed) -> Self {
        Org {
            id: &o.id,
            name: &o.name,
            grid: o.grid,
            teams: &o.teams,
        }
    }
}

/// An entry id in the form Slack's look like (a random UUID, version 4).
pub fn new_id(rng: &mut impl Rng) -> String {
    let b: u128 = rng.random();
    // Version 4, variant 10xx.
    let b = (b & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        b >> 96,
        (b >> 80) & 0xFFFF,
        (b >> 64) & 0xFFFF,
        (b >> 48) & 0xFFFF,
        b & 0xFFFF_FFFF_FFFF
    )
}

/// Now, in Unix seconds (`date_create`).
pub fn now() -> u64 {
    crate::clock::now_ms() / 1000
}

/// A Slack domain from a name: its letters and digits, lower-cased.
pub fn domain(name: &str) -> String {
    let s: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if s.is_empty() { "org".into() } else { s }
}

/// A user of `org` as entries name one.
pub fn user(org: Org<'_>, u: &UserSeed) -> EntryUser {
    let mut e = EntryUser::new(u.id.as_str())
        .name(u.real_name.clone().unwrap_or_else(|| u.name.clone()))
        .team(org.id);
    e.email = u.email.clone();
    e
}

/// The org as a location (`enterprise`; `workspace` for a standalone workspace).
pub fn org_location(org: Org<'_>) -> Location {
    let kind = if org.grid { "enterprise" } else { "workspace" };
    Location::new(kind, org.id, org.name, domain(org.name))
}

/// A workspace of `org` (or the org itself, for its id) as a location.
pub fn team_location(org: Org<'_>, team_id: &str) -> Location {
    match org.teams.iter().find(|t| t.id == team_id) {
        Some(t) => Location::new("workspace", t.id.as_str(), t.name.as_str(), domain(&t.name)),
        None => org_location(org),
    }
}

/// The org as an entity.
pub fn org_entity(org: Org<'_>) -> Entity {
    let r = OrgRef::new(org.id, org.name, domain(org.name));
    if org.grid {
        Entity::enterprise(r)
    } else {
        Entity::workspace(r)
    }
}

/// Where an API call came from.
#[derive(Clone, Debug, Default)]
pub struct Peer {
    /// The client's IP address.
    pub ip: Option<String>,
    /// Its `User-Agent` header.
    pub user_agent: Option<String>,
}

/// The context of an admin method called with `token`: an action its app took.
pub fn call_context(org: Org<'_>, peer: &Peer, token: &TokenSeed) -> Context {
    let mut c = Context::at(org_location(org));
    c.ua = peer.user_agent.clone();
    c.ip_address = peer.ip.clone();
    c.session_id = Some(ContextSessionId::Null);
    let app = token.app_id(org.id);
    c.extra.insert(
        "app".into(),
        json!({"id": app, "name": app, "is_distributed": false, "is_directory_approved": false,
               "is_workflow_app": false, "scopes": token.scopes}),
    );
    c
}

/// The context of something session `s` did on `device` (signing in on its first device, out
/// on its latest): its workspace, IP address, a user agent (`ua`, or one made for the device)
/// and id.
pub fn session_context(
    org: Org<'_>,
    s: &SessionSeed,
    device: &DeviceRecord,
    ua: Option<String>,
) -> Context {
    let mut c = Context::at(team_location(org, &s.team_id));
    c.ua = Some(ua.unwrap_or_else(|| user_agent(s.client, device)));
    c.ip_address = device.ip.as_deref().map(str::to_owned);
    c.session_id = Some(SessionId(s.session_id).into());
    c
}

/// An entry by `actor`, of `org`'s log, dated `date`.
pub fn entry(
    rng: &mut impl Rng,
    date: u64,
    org: Org<'_>,
    action: &str,
    actor: &UserSeed,
    entity: Entity,
    context: Context,
) -> Entry {
    Entry::new(
        new_id(rng),
        date,
        action,
        Actor::user(user(org, actor)),
        entity,
        context,
    )
}

/// [`entry`] dated now, for `org`'s log.
pub fn record(
    org: Org<'_>,
    action: &str,
    actor: &UserSeed,
    entity: Entity,
    context: Context,
) -> LogRecord {
    LogRecord {
        org_id: org.id.to_owned(),
        entry: entry(&mut rand::rng(), now(), org, action, actor, entity, context),
    }
}

/// `user`'s own event (signing in or out, a failed sign-in, an anomaly): the user is actor
/// and entity.
pub fn own(
    rng: &mut impl Rng,
    date: u64,
    org: Org<'_>,
    action: &str,
    u: &UserSeed,
    context: Context,
) -> Entry {
    entry(
        rng,
        date,
        org,
        action,
        u,
        Entity::user(user(org, u)),
        context,
    )
}

/// A user agent for a client of `kind` on `device`, in the forms Slack's clients send:
/// Slack's desktop app (Electron, `Slack_SSB`), its iOS and Android apps, or a browser.
pub fn user_agent(kind: ClientKind, device: &DeviceRecord) -> String {
    let os = device.os.as_deref().unwrap_or("");
    let os_version = device.os_version.as_deref().unwrap_or("");
    let version = device.slack_client_version.as_deref().unwrap_or("");
    let platform = match os {
        "OS X" | "macOS" => format!(
            "Macintosh; Intel Mac OS X {}",
            if os_version.is_empty() {
                "10_15_7".to_owned()
            } else {
                os_version.replace('.', "_")
            }
        ),
        "Windows" => "Windows NT 10.0; Win64; x64".to_owned(),
        "Linux" => "X11; Linux x86_64".to_owned(),
        _ => "X11; Linux x86_64".to_owned(),
    };
    match kind {
        ClientKind::Mobile if os == "Android" => format!(
            "Slack/{version} ({}; Android {os_version})",
            device.device_hardware.as_deref().unwrap_or("Android")
        ),
        ClientKind::Mobile => {
            let hw = if device
                .device_hardware
                .as_deref()
                .unwrap_or("")
                .starts_with("iPad")
            {
                "iPad"
            } else {
                "iPhone"
            };
            format!("com.tinyspeck.chatlyio/{version} ({hw}; iOS {os_version}; Scale/3.00)")
        }
        ClientKind::Desktop => format!(
            "Mozilla/5.0 ({platform}) AppleWebKit/537.36 (KHTML, like Gecko) Slack/{version} \
             Chrome/130.0.6723.191 Electron/33.2.1 Safari/537.36 Sonic Slack_SSB/{version}"
        ),
        // No stored session is `unknown` (seeds, the control plane and the generators refuse
        // it); were one, a browser's.
        ClientKind::Web | ClientKind::Unknown => {
            let parts = version.split('.').count();
            if parts == 2 && version.split('.').next().is_some_and(|m| m.len() >= 3) {
                // `132.0`: Firefox.
                format!("Mozilla/5.0 ({platform}; rv:{version}) Gecko/20100101 Firefox/{version}")
            } else if parts <= 2 && !version.is_empty() {
                // `18.1`: Safari.
                format!(
                    "Mozilla/5.0 ({platform}) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                     Version/{version} Safari/605.1.15"
                )
            } else {
                let chrome = if version.is_empty() {
                    "131.0.0.0"
                } else {
                    version
                };
                format!(
                    "Mozilla/5.0 ({platform}) AppleWebKit/537.36 (KHTML, like Gecko) \
                     Chrome/{chrome} Safari/537.36"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_sessions_api::audit_logs::client_kind_of_user_agent;

    #[test]
    fn ids_look_like_slacks() {
        let mut rng = rand::rng();
        for _ in 0..100 {
            let id = new_id(&mut rng);
            assert_eq!(id.len(), 36, "{id}");
            assert_eq!(&id[14..15], "4", "{id}");
            assert!("89ab".contains(&id[19..20]), "{id}");
        }
    }

    #[test]
    fn user_agents_name_their_client_kind() {
        let d = |os, ver, app| DeviceRecord::new("hw", os, ver, app, "192.0.2.1");
        for (kind, device, seen) in [
            (
                ClientKind::Desktop,
                d("OS X", "15.1", "4.41.105"),
                ClientKind::Desktop,
            ),
            (
                ClientKind::Desktop,
                d("Windows", "11", "4.40.128"),
                ClientKind::Desktop,
            ),
            (
                ClientKind::Web,
                d("OS X", "14.6.1", "131.0.6778.86"),
                ClientKind::Web,
            ),
            (
                ClientKind::Web,
                d("Windows", "11", "132.0"),
                ClientKind::Web,
            ),
            (ClientKind::Web, d("OS X", "14.2", "18.1"), ClientKind::Web),
            (
                ClientKind::Mobile,
                d("iOS", "18.1", "24.11.10"),
                ClientKind::Mobile,
            ),
            (
                ClientKind::Mobile,
                d("Android", "15", "24.11.10.0"),
                ClientKind::Mobile,
            ),
            (ClientKind::Web, DeviceRecord::default(), ClientKind::Web),
        ] {
            let ua = user_agent(kind, &device);
            assert_eq!(client_kind_of_user_agent(&ua), seen, "{ua}");
        }
    }
}
