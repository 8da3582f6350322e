//! The seed file: the emulator's state as JSON, the shape of `--seed FILE` and of
//! `GET`/`PUT /_emulator/state`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
pub use slack_sessions_api::methods::ClientKind;
use slack_sessions_api::methods::DeviceRecord;

/// A whole emulator state: any number of orgs, each with its own teams, users, tokens and
/// sessions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    /// The orgs.
    #[serde(default)]
    pub orgs: Vec<OrgSeed>,
    /// The highest session id the emulator has given out, sessions since ended included:
    /// automatic sign-in ids are above it, so no id is ever given twice (Slack never reuses
    /// one). An export carries it; an import never lowers the emulator's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_session_id: Option<u64>,
}

/// An Enterprise Grid org (`grid: true`, id `E…`) or a standalone workspace (`grid: false`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgSeed {
    /// `E…` for a Grid org, `T…` for a standalone workspace.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Enterprise Grid (the admin methods answer `feature_not_enabled` otherwise).
    #[serde(default = "yes")]
    pub grid: bool,
    /// The org's workspaces.
    #[serde(default)]
    pub teams: Vec<TeamSeed>,
    /// Its users, bots included.
    #[serde(default)]
    pub users: Vec<UserSeed>,
    /// API tokens issued in the org.
    #[serde(default)]
    pub tokens: Vec<TokenSeed>,
    /// Active sessions.
    #[serde(default)]
    pub sessions: Vec<SessionSeed>,
    /// Per-user session settings.
    #[serde(default)]
    pub session_settings: Vec<SettingsSeed>,
    /// The org's audit log (Slack's Audit Logs API, `/audit/v1/logs`), in any order: entries
    /// as that API serves them. An entry without an `id` is given one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit_logs: Vec<AuditLogEntry>,
}

/// An entry of an org's audit log, as Slack's Audit Logs API serves it.
pub use slack_sessions_api::audit_logs::Entry as AuditLogEntry;

fn yes() -> bool {
    true
}

/// A workspace of an org.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamSeed {
    /// `T…`.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
}

/// A user's role in the org.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// The one primary owner: only they may reset or invalidate their own sessions.
    PrimaryOwner,
    /// An org owner.
    Owner,
    /// An org admin.
    Admin,
    /// A full member (`not_an_admin` on the admin methods).
    #[default]
    Member,
    /// A multi-channel guest: `is_restricted` in user objects.
    MultiChannelGuest,
    /// A single-channel guest: `is_restricted` and `is_ultra_restricted` in user objects.
    SingleChannelGuest,
}

impl Role {
    /// Owners and admins may call the admin methods.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::PrimaryOwner | Role::Owner | Role::Admin)
    }

    /// A guest of either kind (Slack's `is_restricted`).
    pub fn is_guest(self) -> bool {
        matches!(self, Role::MultiChannelGuest | Role::SingleChannelGuest)
    }
}

/// The largest session id: ids are SQLite integers.
pub const MAX_SESSION_ID: u64 = i64::MAX as u64;

/// A user.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserSeed {
    /// `W…` or `U…`.
    pub id: String,
    /// Handle.
    #[serde(default)]
    pub name: String,
    /// Email address, for `users.lookupByEmail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Role (default `member`).
    #[serde(default)]
    pub role: Role,
    /// A bot user.
    #[serde(default)]
    pub is_bot: bool,
    /// Deactivated: its tokens answer `account_inactive`.
    #[serde(default)]
    pub deleted: bool,
    /// The workspaces the user belongs to.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Full name (default: the handle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
    /// Display name (default: the handle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Job title (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Time zone, an IANA name such as `Europe/Berlin` (default `America/Los_Angeles`); user
    /// objects give its offset and label at the time of the call, daylight saving included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// Two-factor authentication is on (`has_2fa`, shown to admins only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_2fa: bool,
}

/// The kind of token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    /// `xoxp-…`: acts as a user; the only kind the admin methods accept.
    User,
    /// `xoxb-…`: `not_allowed_token_type` on the admin methods.
    Bot,
}

/// Whether a token still works.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// Works.
    #[default]
    Active,
    /// `token_revoked`.
    Revoked,
    /// `token_expired`.
    Expired,
}

/// An API token.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenSeed {
    /// The secret itself.
    pub token: String,
    /// The user it acts as (the bot user for a bot token).
    pub user_id: String,
    /// Default: `bot` for an `xoxb-` prefix, else `user`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<TokenType>,
    /// Granted scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Default: `active`.
    #[serde(default)]
    pub state: TokenState,
    /// The app the token was issued to. Slack counts rate limits per method, workspace and
    /// app, so tokens of one app share a budget. Default: the org's one app, `A` + the org id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
}

impl std::fmt::Debug for TokenSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSeed")
            .field("token", &"<redacted>")
            .field("user_id", &self.user_id)
            .field("kind", &self.kind())
            .field("scopes", &self.scopes)
            .field("state", &self.state)
            .field("app_id", &self.app_id)
            .finish()
    }
}

impl TokenSeed {
    /// The app the token belongs to, defaulted from its org.
    pub fn app_id(&self, org_id: &str) -> String {
        self.app_id
            .clone()
            .unwrap_or_else(|| default_app_id(org_id))
    }

    /// The token's type, defaulted from its prefix.
    pub fn kind(&self) -> TokenType {
        self.kind.unwrap_or(if self.token.starts_with("xoxb-") {
            TokenType::Bot
        } else {
            TokenType::User
        })
    }
}

/// The app of an org's tokens that name none: `A` + the org id.
pub fn default_app_id(org_id: &str) -> String {
    format!("A{org_id}")
}

/// The kinds of client a stored session can be on: every [`ClientKind`] but `unknown`. A stored
/// session always has a definite kind; `unknown` is what a reader of a device record concludes
/// when the record does not say. Seeds, the control plane and the generators refuse it.
/// (Which kinds `reset`'s `mobile_only` and `web_only` wipe is the store's business.)
pub const SESSION_CLIENTS: [ClientKind; 3] =
    [ClientKind::Web, ClientKind::Desktop, ClientKind::Mobile];

/// A session's client that is no kind of [`SESSION_CLIENTS`]: `unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("client must be web, desktop or mobile")]
#[non_exhaustive]
pub struct IndefiniteClient;

/// `kind`, if a stored session can be on it (not `unknown`).
pub fn session_client(kind: ClientKind) -> Result<ClientKind, IndefiniteClient> {
    if SESSION_CLIENTS.contains(&kind) {
        Ok(kind)
    } else {
        Err(IndefiniteClient)
    }
}

/// The kind named `name` in seeds, on the control plane and in the database: `web`, `desktop` or
/// `mobile` (`None` for any other name, `unknown` included).
pub(crate) fn parse_session_client(name: &str) -> Option<ClientKind> {
    SESSION_CLIENTS.into_iter().find(|k| k.as_str() == name)
}

/// A seed session's `client` when it names none.
fn default_client() -> ClientKind {
    ClientKind::Web
}

/// A seed session's `client`: a name of [`SESSION_CLIENTS`]; any other, `unknown` included, is
/// refused as an unknown variant.
fn deserialize_session_client<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<ClientKind, D::Error> {
    struct Name;
    impl serde::de::Visitor<'_> for Name {
        type Value = ClientKind;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("`web`, `desktop` or `mobile`")
        }

        fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<ClientKind, E> {
            parse_session_client(name)
                .ok_or_else(|| E::unknown_variant(name, &["web", "desktop", "mobile"]))
        }
    }
    deserializer.deserialize_str(Name)
}

/// An active session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSeed {
    /// A positive 64-bit id, unique in the emulator.
    pub session_id: u64,
    /// The user signed in.
    pub user_id: String,
    /// A team of the org, or the org's own id for an org-level sign-in.
    pub team_id: String,
    /// The client kind: `web` (the default), `desktop` or `mobile`, never `unknown`.
    #[serde(
        default = "default_client",
        deserialize_with = "deserialize_session_client"
    )]
    pub client: ClientKind,
    /// The device when the session began.
    #[serde(default)]
    pub created: DeviceRecord,
    /// The device as last seen, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent: Option<DeviceRecord>,
}

/// A user's session settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsSeed {
    /// The user.
    pub user_id: String,
    /// Session duration in seconds.
    #[serde(default)]
    pub duration: Option<u64>,
    /// End sessions when the desktop app or browser closes.
    #[serde(default)]
    pub desktop_app_browser_quit: Option<bool>,
}

/// Why a seed was refused, naming the entry at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The JSON did not fit the seed's shape.
    #[error("seed is not valid at `{path}`: {message}")]
    Shape {
        /// JSON path of the entry.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The seed is well-formed but inconsistent.
    #[error("seed is not valid at `{path}`: {message}")]
    Invalid {
        /// The entry, e.g. `orgs[0].sessions[3]`.
        path: String,
        /// What was wrong.
        message: String,
    },
}

fn invalid(path: String, message: impl Into<String>) -> SeedError {
    SeedError::Invalid {
        path,
        message: message.into(),
    }
}

impl Seed {
    /// Reads and validates a seed file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Seed, SeedError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Seed::from_json_bytes(&bytes)
    }

    /// Parses and validates a seed from JSON bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Seed, SeedError> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let seed: Seed = serde_path_to_error::deserialize(de).map_err(|e| SeedError::Shape {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        })?;
        seed.validate()?;
        Ok(seed)
    }

    /// Parses and validates a seed from a JSON value.
    pub fn from_json(value: serde_json::Value) -> Result<Seed, SeedError> {
        let seed: Seed = serde_path_to_error::deserialize(value).map_err(|e| SeedError::Shape {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        })?;
        seed.validate()?;
        Ok(seed)
    }

    /// The demo org of `serve --demo` (see [`crate::demo`]).
    pub fn demo() -> Seed {
        crate::demo::seed()
    }

    /// Checks the references and uniqueness rules; the error names the first entry at fault.
    pub fn validate(&self) -> Result<(), SeedError> {
        let mut org_ids = HashSet::new();
        let mut team_ids = HashSet::new();
        let mut user_ids = HashSet::new();
        let mut tokens = HashSet::new();
        let mut session_ids = HashSet::new();
        if self.last_session_id.is_some_and(|id| id > MAX_SESSION_ID) {
            return Err(invalid(
                "last_session_id".into(),
                format!("must be at most {MAX_SESSION_ID}"),
            ));
        }
        let mut entry_ids = HashSet::new();
        for (o, org) in self.orgs.iter().enumerate() {
            let at = format!("orgs[{o}]");
            if org.id.is_empty() {
                return Err(invalid(format!("{at}.id"), "an org needs an id"));
            }
            if !org_ids.insert(org.id.as_str()) || team_ids.contains(org.id.as_str()) {
                return Err(invalid(
                    format!("{at}.id"),
                    format!("duplicate id {:?}", org.id),
                ));
            }
            let mut org_teams = HashSet::from([org.id.as_str()]);
            for (t, team) in org.teams.iter().enumerate() {
                if team.id.is_empty()
                    || !team_ids.insert(team.id.as_str())
                    || org_ids.contains(team.id.as_str())
                {
                    return Err(invalid(
                        format!("{at}.teams[{t}].id"),
                        format!("missing or duplicate team id {:?}", team.id),
                    ));
                }
                org_teams.insert(team.id.as_str());
            }
            let mut org_users = HashMap::new();
            let mut primary_owner = None;
            for (u, user) in org.users.iter().enumerate() {
                let at = format!("{at}.users[{u}]");
                if user.id.is_empty() || !user_ids.insert(user.id.as_str()) {
                    return Err(invalid(
                        format!("{at}.id"),
                        format!("missing or duplicate user id {:?}", user.id),
                    ));
                }
                for (t, team) in user.teams.iter().enumerate() {
                    if !org_teams.contains(team.as_str()) {
                        return Err(invalid(
                            format!("{at}.teams[{t}]"),
                            format!("unknown team {team:?} in org {:?}", org.id),
                        ));
                    }
                }
                if let Some(tz) = &user.tz
                    && jiff::tz::TimeZone::get(tz).is_err()
                {
                    return Err(invalid(
                        format!("{at}.tz"),
                        format!(
                            "unknown time zone {tz:?}: give a name of the IANA time zone \
                             database, such as \"Europe/Berlin\""
                        ),
                    ));
                }
                if user.role == Role::PrimaryOwner
                    && let Some(first) = primary_owner.replace(user.id.as_str())
                {
                    return Err(invalid(
                        format!("{at}.role"),
                        format!("org {:?} already has primary owner {first:?}", org.id),
                    ));
                }
                org_users.insert(user.id.as_str(), user);
            }
            for (k, token) in org.tokens.iter().enumerate() {
                let at = format!("{at}.tokens[{k}]");
                if token.token.is_empty() || !tokens.insert(token.token.as_str()) {
                    return Err(invalid(format!("{at}.token"), "missing or duplicate token"));
                }
                let Some(user) = org_users.get(token.user_id.as_str()) else {
                    return Err(invalid(
                        format!("{at}.user_id"),
                        format!("unknown user {:?} in org {:?}", token.user_id, org.id),
                    ));
                };
                if token.kind() == TokenType::Bot && !user.is_bot {
                    return Err(invalid(
                        format!("{at}.type"),
                        format!("a bot token must belong to a bot user, not {:?}", user.id),
                    ));
                }
            }
            for (s, session) in org.sessions.iter().enumerate() {
                let at = format!("{at}.sessions[{s}]");
                if session.session_id == 0
                    || session.session_id > MAX_SESSION_ID
                    || !session_ids.insert(session.session_id)
                {
                    return Err(invalid(
                        format!("{at}.session_id"),
                        format!("zero, too large or duplicate id {}", session.session_id),
                    ));
                }
                if !org_users.contains_key(session.user_id.as_str()) {
                    return Err(invalid(
                        format!("{at}.user_id"),
                        format!("unknown user {:?} in org {:?}", session.user_id, org.id),
                    ));
                }
                if !org_teams.contains(session.team_id.as_str()) {
                    return Err(invalid(
                        format!("{at}.team_id"),
                        format!("unknown team {:?} in org {:?}", session.team_id, org.id),
                    ));
                }
                if let Err(e) = session_client(session.client) {
                    return Err(invalid(format!("{at}.client"), e.to_string()));
                }
            }
            let mut with_settings = HashSet::new();
            for (s, settings) in org.session_settings.iter().enumerate() {
                let at = format!("{at}.session_settings[{s}]");
                if !org_users.contains_key(settings.user_id.as_str()) {
                    return Err(invalid(
                        format!("{at}.user_id"),
                        format!("unknown user {:?} in org {:?}", settings.user_id, org.id),
                    ));
                }
                if !with_settings.insert(settings.user_id.as_str()) {
                    return Err(invalid(
                        format!("{at}.user_id"),
                        format!("duplicate settings for {:?}", settings.user_id),
                    ));
                }
            }
            for (e, entry) in org.audit_logs.iter().enumerate() {
                let at = format!("{at}.audit_logs[{e}]");
                if entry.action.trim().is_empty() {
                    return Err(invalid(format!("{at}.action"), "an entry needs an action"));
                }
                if !entry.id.is_empty() && !entry_ids.insert(entry.id.as_str()) {
                    return Err(invalid(
                        format!("{at}.id"),
                        format!("duplicate entry id {:?}", entry.id),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use proptest::prelude::*;

    /// The demo seed with random bytes changed: mostly refused, sometimes still valid.
    fn mutated_seed() -> impl Strategy<Value = Vec<u8>> {
        let demo = serde_json::to_vec(&Seed::demo()).unwrap();
        let len = demo.len();
        proptest::collection::vec((0..len, any::<u8>()), 0..4).prop_map(move |edits| {
            let mut bytes = demo.clone();
            for (at, byte) in edits {
                bytes[at] = byte;
            }
            bytes
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        // The fuzz target `seed_loader` checks the same property at depth.
        #[test]
        fn seeds_load_or_are_refused(bytes in mutated_seed()) {
            if let Ok(seed) = Seed::from_json_bytes(&bytes) {
                let exported = Store::open(None, Some(&seed)).unwrap().export().unwrap();
                let again = Store::open(None, Some(&exported)).unwrap().export().unwrap();
                prop_assert_eq!(again, exported);
            }
        }
    }

    fn err(json: &str) -> String {
        Seed::from_json_bytes(json.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_apply() {
        let seed = Seed::from_json_bytes(
            br#"{"orgs":[{"id":"E1","users":[{"id":"W1"}],
                 "tokens":[{"token":"xoxp-1","user_id":"W1"}]}]}"#,
        )
        .unwrap();
        let org = &seed.orgs[0];
        assert!(org.grid);
        assert_eq!(org.users[0].role, Role::Member);
        assert_eq!(org.tokens[0].kind(), TokenType::User);
        assert_eq!(org.tokens[0].state, TokenState::Active);
    }

    #[test]
    fn invalid_entries_are_named() {
        assert!(
            err(r#"{"orgs":[{"id":"E1","users":[{"id":"W1","role":"boss"}]}]}"#)
                .contains("orgs[0].users[0].role")
        );
        assert!(
            err(r#"{"orgs":[{"id":"E1","users":[{"id":"W1"},{"id":"W1"}]}]}"#)
                .contains("orgs[0].users[1].id")
        );
        let e = err(r#"{"orgs":[{"id":"E1","users":[{"id":"W1"}],
                "sessions":[{"session_id":5,"user_id":"W9","team_id":"E1"}]}]}"#);
        assert!(e.contains("orgs[0].sessions[0].user_id"), "{e}");
        let e = err(r#"{"orgs":[{"id":"E1","users":[{"id":"W1"}],
                "sessions":[{"session_id":5,"user_id":"W1","team_id":"T404"}]}]}"#);
        assert!(e.contains("orgs[0].sessions[0].team_id"), "{e}");
        assert!(err(r#"{"orgs":[{"id":"E1"},{"id":"E1"}]}"#).contains("orgs[1].id"));
        let e = err(
            r#"{"orgs":[{"id":"E1","users":[{"id":"W1","tz":"Europe/Berlin"},
                {"id":"W2","tz":"Mars/Olympus_Mons"}]}]}"#,
        );
        assert!(
            e.contains("orgs[0].users[1].tz") && e.contains("Mars/Olympus_Mons"),
            "{e}"
        );
    }

    #[test]
    fn the_readmes_seed_example_is_valid() {
        let readme = include_str!("../../../README.md");
        let section = &readme[readme.find("### Seed file").unwrap()..];
        let start = section.find("```json\n").unwrap() + "```json\n".len();
        let example = &section[start..start + section[start..].find("```").unwrap()];
        let seed = Seed::from_json_bytes(example.as_bytes()).unwrap();
        let users = &seed.orgs[0].users;
        assert!(users.iter().any(|u| u.role == Role::SingleChannelGuest));
        assert!(users.iter().any(|u| u.tz.is_some() && u.has_2fa));
    }

    #[test]
    fn guests_are_roles() {
        let seed = Seed::from_json_bytes(
            br#"{"orgs":[{"id":"E1","users":[{"id":"W1","role":"multi_channel_guest"},
                 {"id":"W2","role":"single_channel_guest"}]}]}"#,
        )
        .unwrap();
        let roles: Vec<Role> = seed.orgs[0].users.iter().map(|u| u.role).collect();
        assert_eq!(roles, [Role::MultiChannelGuest, Role::SingleChannelGuest]);
        assert!(roles.iter().all(|r| r.is_guest() && !r.is_admin()));
    }

    #[test]
    fn token_debug_is_redacted() {
        let t = TokenSeed {
            token: "xoxp-secret-value".into(),
            user_id: "W1".into(),
            kind: None,
            scopes: vec![],
            state: TokenState::Active,
            app_id: None,
        };
        assert!(!format!("{t:?}").contains("secret"));
    }

    #[test]
    fn a_session_on_an_unknown_client_is_refused() {
        let session = |client: &str| {
            format!(
                r#"{{"orgs":[{{"id":"E1","users":[{{"id":"W1"}}],
                    "sessions":[{{"session_id":5,"user_id":"W1","team_id":"E1"{client}}}]}}]}}"#
            )
        };
        for name in ["unknown", "tablet", "Web"] {
            let e = err(&session(&format!(r#","client":"{name}""#)));
            assert!(
                e.contains("orgs[0].sessions[0].client")
                    && e.contains(&format!("unknown variant `{name}`"))
                    && e.contains("expected one of `web`, `desktop`, `mobile`"),
                "{e}"
            );
        }
        for name in SESSION_CLIENTS.map(ClientKind::as_str) {
            let seed = Seed::from_json_bytes(session(&format!(r#","client":"{name}""#)).as_bytes())
                .unwrap();
            assert_eq!(seed.orgs[0].sessions[0].client.as_str(), name);
        }
        let seed = Seed::from_json_bytes(session("").as_bytes()).unwrap();
        assert_eq!(
            seed.orgs[0].sessions[0].client,
            ClientKind::Web,
            "the default"
        );

        // A seed built in Rust is held to the same rule by its validation.
        let mut seed = seed;
        seed.orgs[0].sessions[0].client = ClientKind::Unknown;
        let e = seed.validate().unwrap_err().to_string();
        assert_eq!(
            e,
            "seed is not valid at `orgs[0].sessions[0].client`: client must be web, desktop or \
             mobile"
        );
        // And what a seed exports as JSON reads back.
        seed.orgs[0].sessions[0].client = ClientKind::Mobile;
        let json = serde_json::to_value(&seed).unwrap();
        assert_eq!(json["orgs"][0]["sessions"][0]["client"], "mobile");
        assert_eq!(Seed::from_json(json).unwrap(), seed);
    }
}
