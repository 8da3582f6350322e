//! An audit log entry and its parts, as Slack's guide to the Audit Logs API shows them
//! (<https://docs.slack.dev/admins/audit-logs-api>).
//!
//! Every part keeps the fields it does not model in `extra` (Slack's schema grows: the official
//! SDKs keep them too), so an entry decodes whatever its action, and encodes back to the same
//! JSON.

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::methods::ClientKind;
use crate::{SessionId, TeamId, UserId, lenient};

/// One entry of the audit log: who did what, to what, from where.
///
/// ```
/// use slack_sessions_api::audit_logs::Entry;
///
/// // Slack's own example of a sign-in (from its guide to the Audit Logs API).
/// let entry: Entry = serde_json::from_str(r#"{
///     "id": "0123a45b-6c7d-8900-e12f-3456789gh0i1", "date_create": 1521214343,
///     "action": "user_login",
///     "actor": {"type": "user", "user": {"id": "W123AB456", "name": "Charlie Parker", "email": "bird@slack.com"}},
///     "entity": {"type": "user", "user": {"id": "W123AB456", "name": "Charlie Parker", "email": "bird@slack.com"}},
///     "context": {"location": {"type": "enterprise", "id": "E1701NCCA", "name": "Birdland", "domain": "birdland"},
///                 "ua": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/64.0.3282.186 Safari/537.36",
///                 "session_id": "847288190092", "ip_address": "1.23.45.678"}
/// }"#).unwrap();
/// assert_eq!(entry.actor.user_id().unwrap().as_str(), "W123AB456");
/// assert_eq!(entry.entity.id(), Some("W123AB456"));
/// assert_eq!(entry.session_id().unwrap().0, 847288190092);
/// assert_eq!(entry.context.ip_address.as_deref(), Some("1.23.45.678"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entry {
    /// Slack's id of the entry (UUID-like).
    #[serde(default)]
    pub id: String,
    /// When, in Unix seconds.
    #[serde(deserialize_with = "lenient::u64_value")]
    pub date_create: u64,
    /// What happened, e.g. `user_login` (see [`action`](super::action)).
    pub action: String,
    /// Who did it.
    #[serde(default)]
    pub actor: Actor,
    /// What it was done to.
    #[serde(default)]
    pub entity: Entity,
    /// Where it came from.
    #[serde(default)]
    pub context: Context,
    /// Action-specific details, only for actions that have some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Entry {
    /// An entry without details.
    pub fn new(
        id: impl Into<String>,
        date_create: u64,
        action: impl Into<String>,
        actor: Actor,
        entity: Entity,
        context: Context,
    ) -> Self {
        Entry {
            id: id.into(),
            date_create,
            action: action.into(),
            actor,
            entity,
            context,
            details: None,
            extra: Map::new(),
        }
    }

    /// The same entry with `details`.
    pub fn with_details(mut self, details: Details) -> Self {
        self.details = Some(details);
        self
    }

    /// The session of the context as a session id, when it is one (a number, or a string of
    /// digits).
    pub fn session_id(&self) -> Option<SessionId> {
        self.context
            .session_id
            .as_ref()
            .and_then(ContextSessionId::id)
    }
}

/// Who acted: "an actor will always be a user" (Slack's guide), `USLACKSECURITY` for Slack
/// Security, `USLACKUSER` when no user did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Actor {
    /// `user`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<EntryUser>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Actor {
    /// A user as the actor.
    pub fn user(user: EntryUser) -> Self {
        Actor {
            kind: "user".into(),
            user: Some(user),
            extra: Map::new(),
        }
    }

    /// The acting user's id.
    pub fn user_id(&self) -> Option<&UserId> {
        self.user.as_ref().map(|u| &u.id)
    }
}

/// A user as an entry names one (actor, or entity of type `user`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntryUser {
    /// `W…` or `U…`.
    pub id: UserId,
    /// The user's name as shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's workspace (`T…`) or org (`E…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Fields this version does not model (`account_type`…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EntryUser {
    /// A user with its id only.
    pub fn new(id: impl Into<UserId>) -> Self {
        EntryUser {
            id: id.into(),
            ..Default::default()
        }
    }

    /// With a name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With an email address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// With a team.
    pub fn team(mut self, team: impl Into<String>) -> Self {
        self.team = Some(team.into());
        self
    }
}

/// What was acted on: `type` names it, and the object under that name describes it
/// (`user`, `workspace`, `enterprise` are modelled; `channel`, `file`, `app`… stay in `extra`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entity {
    /// `user`, `workspace`, `enterprise`, `channel`, `file`, `app`…
    #[serde(rename = "type", default)]
    pub kind: String,
    /// For `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<EntryUser>,
    /// For `workspace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<OrgRef>,
    /// For `enterprise`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<OrgRef>,
    /// The objects of the other kinds, and fields this version does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Entity {
    /// A user.
    pub fn user(user: EntryUser) -> Self {
        Entity {
            kind: "user".into(),
            user: Some(user),
            ..Default::default()
        }
    }

    /// An Enterprise Grid org.
    pub fn enterprise(org: OrgRef) -> Self {
        Entity {
            kind: "enterprise".into(),
            enterprise: Some(org),
            ..Default::default()
        }
    }

    /// A workspace.
    pub fn workspace(team: OrgRef) -> Self {
        Entity {
            kind: "workspace".into(),
            workspace: Some(team),
            ..Default::default()
        }
    }

    /// The id of what the entity names (the `id` of the object under its `type`), which the
    /// `entity` filter matches.
    pub fn id(&self) -> Option<&str> {
        match self.kind.as_str() {
            "user" => self.user.as_ref().map(|u| u.id.as_str()),
            "workspace" => self.workspace.as_ref().map(|w| w.id.as_str()),
            "enterprise" => self.enterprise.as_ref().map(|e| e.id.as_str()),
            other => self.extra.get(other)?.get("id")?.as_str(),
        }
    }
}

/// A workspace or an Enterprise Grid org, as an entity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrgRef {
    /// `T…` or `E…`.
    pub id: TeamId,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Slack domain (`acme` of `acme.slack.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OrgRef {
    /// A workspace or org with its name and domain.
    pub fn new(id: impl Into<TeamId>, name: impl Into<String>, domain: impl Into<String>) -> Self {
        OrgRef {
            id: id.into(),
            name: Some(name.into()),
            domain: Some(domain.into()),
            extra: Map::new(),
        }
    }
}

/// Where an action happened: the workspace or the org.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// `workspace` or `enterprise`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `T…` or `E…`.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Slack domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Location {
    /// A location of `kind` (`workspace` or `enterprise`).
    pub fn new(
        kind: impl Into<String>,
        id: impl Into<String>,
        name: impl Into<String>,
        domain: impl Into<String>,
    ) -> Self {
        Location {
            kind: kind.into(),
            id: id.into(),
            name: Some(name.into()),
            domain: Some(domain.into()),
            extra: Map::new(),
        }
    }
}

/// Where an action came from: the location, the client's user agent and IP address, the
/// session.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Context {
    /// The workspace or org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The client's user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ua: Option<String>,
    /// The client's IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The session: absent, `null` (an action an app took), a number or a string.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub session_id: Option<ContextSessionId>,
    /// Fields this version does not model (`app` for an action an app took, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Context {
    /// A context at `location`.
    pub fn at(location: Location) -> Self {
        Context {
            location: Some(location),
            ..Default::default()
        }
    }

    /// The kind of client the user agent names ([`client_kind_of_user_agent`]); `Unknown`
    /// without one.
    pub fn client_kind(&self) -> ClientKind {
        self.ua
            .as_deref()
            .map_or(ClientKind::Unknown, client_kind_of_user_agent)
    }
}

/// A field that is present, `null` included (`Some(null-variant)`), as opposed to absent
/// (`None`, from `#[serde(default)]`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `context.session_id` as Slack sends it: a number in some answers, a string in others,
/// `null` for an action an app took. Whether it is the `session_id` of
/// `admin.users.session.list` Slack does not say; the emulator uses the same number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ContextSessionId {
    /// A number.
    Number(u64),
    /// A string.
    String(String),
    /// `null`.
    Null,
}

impl ContextSessionId {
    /// The id, when it is a number or a string of digits.
    pub fn id(&self) -> Option<SessionId> {
        match self {
            ContextSessionId::Number(n) => Some(SessionId(*n)),
            ContextSessionId::String(s) => s.parse().ok(),
            ContextSessionId::Null => None,
        }
    }
}

impl From<SessionId> for ContextSessionId {
    fn from(id: SessionId) -> Self {
        ContextSessionId::Number(id.0)
    }
}

/// Action-specific details. The session-related ones are typed; every other key (there are
/// hundreds, and some change type from one action to another) stays in `extra`. A typed key
/// whose value does not fit its type stays in `extra` too, so decoding never fails on details.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Details {
    /// `user_session_reset_by_admin`: only mobile sessions.
    pub mobile_only: Option<bool>,
    /// `user_session_reset_by_admin`: only web (browser and desktop app) sessions.
    pub web_only: Option<bool>,
    /// `user_session_reset_by_admin`: only sessions not signed in with SSO.
    pub non_sso_only: Option<bool>,
    /// `bulk_session_reset_by_admin`: the users whose sessions were reset (Slack sends an array,
    /// or a string holding one).
    pub succeeded_users: Option<Vec<UserId>>,
    /// `bulk_session_reset_by_admin`: the users it failed for.
    pub failed_users: Option<Vec<UserId>>,
    /// `user_session_settings_changed`: the session duration, seconds.
    pub duration: Option<u64>,
    /// `user_session_settings_changed`: end sessions when the app or browser closes.
    pub desktop_app_browser_quit: Option<bool>,
    /// `anomaly`: why (`ip_address`, `tor`, `asn`, …).
    pub reason: Option<Vec<String>>,
    /// `anomaly`: the address before.
    pub previous_ip_address: Option<String>,
    /// `anomaly`: the user agent before.
    pub previous_ua: Option<String>,
    /// Every other key.
    pub extra: Map<String, Value>,
}

/// Takes `key` out of `map` when `convert` accepts its value; leaves it otherwise.
fn take<T>(
    map: &mut Map<String, Value>,
    key: &str,
    convert: impl FnOnce(&Value) -> Option<T>,
) -> Option<T> {
    let value = convert(map.get(key)?)?;
    map.remove(key);
    Some(value)
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => lenient::parse_bool(s),
        Value::Number(n) => match n.as_u64()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        },
        _ => None,
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn as_strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => Some(vec![s.clone()]),
        _ => None,
    }
}

fn as_user_ids(v: &Value) -> Option<Vec<UserId>> {
    match v {
        Value::Array(items) => items.iter().map(|i| i.as_str().map(UserId::new)).collect(),
        Value::String(s) => lenient::split_list(s)
            .ok()
            .map(|ids| ids.into_iter().map(UserId::new).collect()),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for Details {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Value::Object(mut map) = Value::deserialize(d)? else {
            return Err(de::Error::custom("details must be an object"));
        };
        Ok(Details {
            mobile_only: take(&mut map, "mobile_only", as_bool),
            web_only: take(&mut map, "web_only", as_bool),
            non_sso_only: take(&mut map, "non_sso_only", as_bool),
            succeeded_users: take(&mut map, "succeeded_users", as_user_ids),
            failed_users: take(&mut map, "failed_users", as_user_ids),
            duration: take(&mut map, "duration", as_u64),
            desktop_app_browser_quit: take(&mut map, "desktop_app_browser_quit", as_bool),
            reason: take(&mut map, "reason", as_strings),
            previous_ip_address: take(&mut map, "previous_ip_address", as_string),
            previous_ua: take(&mut map, "previous_ua", as_string),
            extra: map,
        })
    }
}

impl Serialize for Details {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        macro_rules! typed {
            ($($field:ident),*) => {
                $(if let Some(v) = &self.$field {
                    map.serialize_entry(stringify!($field), v)?;
                })*
            };
        }
        typed!(
            mobile_only,
            web_only,
            non_sso_only,
            succeeded_users,
            failed_users,
            duration,
            desktop_app_browser_quit,
            reason,
            previous_ip_address,
            previous_ua
        );
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The kind of client a user agent names: Slack's desktop app (an Electron user agent with
/// `Slack_SSB` or `Electron`), a phone or tablet (Slack's mobile apps, or a mobile browser),
/// a desktop browser (`Mozilla/…`), or `Unknown`.
///
/// ```
/// use slack_sessions_api::audit_logs::client_kind_of_user_agent;
/// use slack_sessions_api::methods::ClientKind;
///
/// let mac_chrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.86 Safari/537.36";
/// assert_eq!(client_kind_of_user_agent(mac_chrome), ClientKind::Web);
/// let app = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.41.105 Chrome/130.0.6723.191 Electron/33.2.1 Safari/537.36 Sonic Slack_SSB/4.41.105";
/// assert_eq!(client_kind_of_user_agent(app), ClientKind::Desktop);
/// let iphone = "com.tinyspeck.chatlyio/24.11.10 (iPhone; iOS 18.1; Scale/3.00)";
/// assert_eq!(client_kind_of_user_agent(iphone), ClientKind::Mobile);
/// assert_eq!(client_kind_of_user_agent("curl/8.5.0"), ClientKind::Unknown);
/// ```
pub fn client_kind_of_user_agent(ua: &str) -> ClientKind {
    const DESKTOP: [&str; 2] = ["Slack_SSB", "Electron/"];
    const MOBILE: [&str; 5] = ["iPhone", "iPad", "Android", "chatlyio", "Mobile"];
    if DESKTOP.iter().any(|m| ua.contains(m)) {
        ClientKind::Desktop
    } else if MOBILE.iter().any(|m| ua.contains(m)) {
        ClientKind::Mobile
    } else if ua.starts_with("Mozilla/") {
        ClientKind::Web
    } else {
        ClientKind::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Slack's example of an anomaly (its reference of anomalous events), verbatim but for the
    /// `id` placeholder.
    fn anomaly() -> Value {
        json!({"id": "7d5f3a2e-0000-4000-8000-000000000001", "date_create": 1644428305,
            "action": "anomaly",
            "actor": {"type": "user", "user": {"id": "U123ABC456", "name": "Alice Smith",
                "email": "alice.smith@example.com", "team": "T123ABC456"}},
            "entity": {"type": "user", "user": {"id": "U123ABC456", "name": "Alice Smith",
                "email": "alice.smith@example.com", "team": "T123ABC456"}},
            "context": {"location": {"type": "workspace", "id": "E123ABC456", "name": "Elysium",
                "domain": "elysium"},
                "ua": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/64.0.3282.186 Safari/537.36",
                "session_id": "847288190092", "ip_address": "1.23.45.678"},
            "details": {"action_timestamp": 1644428253989994u64, "location": "Reno, Nevada",
                "previous_ip_address": "9.87.65.432",
                "previous_ua": "Mozilla/5.0 (X11; Linux i686; rv:10.0) Gecko/20100101 Firefox/10.0",
                "reason": ["ip_address"], "ip_address_details": ["cloud-asn"]}})
    }

    #[test]
    fn slacks_examples_decode_and_encode_back_unchanged() {
        let value = anomaly();
        let entry: Entry = serde_json::from_value(value.clone()).unwrap();
        let details = entry.details.as_ref().unwrap();
        assert_eq!(
            details.reason.as_deref(),
            Some(&["ip_address".to_owned()][..])
        );
        assert_eq!(details.previous_ip_address.as_deref(), Some("9.87.65.432"));
        assert_eq!(details.extra["location"], "Reno, Nevada");
        assert_eq!(entry.context.client_kind(), ClientKind::Web);
        assert_eq!(serde_json::to_value(&entry).unwrap(), value);
    }

    #[test]
    fn unknown_fields_and_kinds_are_kept() {
        let value = json!({"id": "x", "date_create": "1700000000", "action": "file_downloaded",
            "actor": {"type": "user", "user": {"id": "W1", "account_type": "User"}},
            "entity": {"type": "file", "file": {"id": "F1", "name": "a.pdf"}},
            "context": {"location": {"type": "enterprise", "id": "E1"}, "session_id": null,
                "app": {"id": "A1", "name": "Exporter"}},
            "details": {"reason": {"not": "a list"}, "duration": "x"},
            "new_top_level": [1, 2]});
        let entry: Entry = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(entry.date_create, 1_700_000_000);
        assert_eq!(entry.entity.id(), Some("F1"));
        assert_eq!(entry.context.session_id, Some(ContextSessionId::Null));
        assert_eq!(entry.session_id(), None);
        assert_eq!(
            entry.actor.user.as_ref().unwrap().extra["account_type"],
            "User"
        );
        let details = entry.details.as_ref().unwrap();
        assert_eq!(
            details.reason, None,
            "a value of another type stays in extra"
        );
        assert_eq!(details.extra["duration"], "x");
        let mut back = serde_json::to_value(&entry).unwrap();
        back["date_create"] = json!("1700000000");
        assert_eq!(back, value);
    }

    #[test]
    fn session_ids_in_every_form() {
        let ctx =
            |v: Value| -> Context { serde_json::from_value(json!({"session_id": v})).unwrap() };
        assert_eq!(
            ctx(json!(1656410836837u64)).session_id.unwrap().id(),
            Some(SessionId(1656410836837))
        );
        assert_eq!(
            ctx(json!("847288190092")).session_id.unwrap().id(),
            Some(SessionId(847288190092))
        );
        assert_eq!(ctx(json!("abc")).session_id.unwrap().id(), None);
        let absent: Context = serde_json::from_value(json!({})).unwrap();
        assert_eq!(absent.session_id, None);
        assert_eq!(serde_json::to_value(&absent).unwrap(), json!({}));
    }

    #[test]
    fn bulk_users_as_an_array_or_a_string_holding_one() {
        for users in [json!(["W1", "W2"]), json!("[\"W1\",\"W2\"]")] {
            let d: Details =
                serde_json::from_value(json!({"succeeded_users": users, "failed_users": []}))
                    .unwrap();
            assert_eq!(
                d.succeeded_users,
                Some(vec![UserId::new("W1"), UserId::new("W2")])
            );
            assert_eq!(d.failed_users, Some(vec![]));
        }
    }
}
