use serde::{Deserialize, Serialize};

use super::method;

mod decode;
use crate::{CompactString, Scope, SessionId, TeamId, UserId, lenient};

method! {
    /// List the active sessions of the whole org, or of one user on one workspace.
    List = "admin.users.session.list" {
        scope: Some(Scope::AdminUsersRead), tier: Tier2, admin: true, writes: false,
        idempotent: true, args: ListArgs, response: ListResponse,
        errors: [AdminUnauthorized, BotsNotAllowed, FeatureNotEnabled, InvalidArguments, InvalidCursor, MissingTeam, MissingUser, NoActiveSessions, NotAnAdmin, TeamNotFound, UserNotFound],
    }
}

/// Arguments of `admin.users.session.list`.
///
/// `team_id` and `user_id` go together or not at all. The cursor of the next page is in the
/// answer's `response_metadata.next_cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListArgs {
    /// The workspace, together with `user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    /// The user, together with `team_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Page size, 1 to 1,000 (Slack's default: 1,000).
    #[serde(
        default,
        deserialize_with = "lenient::opt_u32",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl ListArgs {
    /// Every session of the org.
    pub fn new() -> Self {
        Self::default()
    }

    /// The sessions of `user_id` signed in to `team_id`, **and only those**.
    ///
    /// A workspace id (`T…`) restricts the list to the sessions on that workspace: a user of an
    /// Enterprise Grid org who is also signed in to other workspaces, or to the org itself (an
    /// org-level sign-in has the org id as its `team_id`), has sessions this does not list. The
    /// `team_id` that `users.lookupByEmail` and `users.info` return is the user's *home*
    /// workspace, so it lists only part of the user's sessions. For all of them pass the org id
    /// (`E…`, [`for_user_in_org`](Self::for_user_in_org)), or use the client's
    /// `Client::user_sessions`, which finds the org id itself.
    ///
    /// ```
    /// use slack_sessions_api::methods::ListArgs;
    ///
    /// // Only what W0123ABC has open on workspace T0123.
    /// let on_one_workspace = ListArgs::for_user("T0123", "W0123ABC");
    /// // Everything W0123ABC has open anywhere in org E0123.
    /// let everywhere = ListArgs::for_user_in_org("E0123", "W0123ABC");
    /// assert_eq!(everywhere.team_id.unwrap().as_str(), "E0123");
    /// # let _ = on_one_workspace;
    /// ```
    pub fn for_user(team_id: impl Into<TeamId>, user_id: impl Into<UserId>) -> Self {
        ListArgs {
            team_id: Some(team_id.into()),
            user_id: Some(user_id.into()),
            ..Self::default()
        }
    }

    /// Every session of `user_id` in the Enterprise Grid org `org_id` (`E…`, the
    /// `enterprise_id` of `auth.test`): on each of its workspaces and at the org level. The same
    /// request as [`for_user`](Self::for_user) with the org id, named for what it lists.
    pub fn for_user_in_org(org_id: impl Into<TeamId>, user_id: impl Into<UserId>) -> Self {
        Self::for_user(org_id, user_id)
    }

    /// Page size, 1 to 1,000.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continue from a previous page's `next_cursor`.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }
}

/// The body of a `list` answer; the next page's cursor is in the envelope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListResponse {
    /// One page of sessions.
    #[serde(deserialize_with = "decode::sessions")]
    pub active_sessions: Vec<ActiveSession>,
}

impl ListResponse {
    /// A page of sessions.
    pub fn new(active_sessions: Vec<ActiveSession>) -> Self {
        ListResponse { active_sessions }
    }
}

/// An active session. Its `Deserialize` is written by hand, for speed (in `decode.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ActiveSession {
    /// The user signed in.
    pub user_id: UserId,
    /// The workspace, or the enterprise id for an org-level sign-in.
    pub team_id: TeamId,
    /// The session.
    pub session_id: SessionId,
    /// The device as it was when the session began.
    pub created: DeviceRecord,
    /// The device as last seen; absent when unchanged since `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recent: Option<DeviceRecord>,
}

impl ActiveSession {
    /// A session as the emulator or a test builds it.
    pub fn new(
        user_id: UserId,
        team_id: TeamId,
        session_id: SessionId,
        created: DeviceRecord,
        recent: Option<DeviceRecord>,
    ) -> Self {
        ActiveSession {
            user_id,
            team_id,
            session_id,
            created,
            recent,
        }
    }

    /// The device as last seen (`recent`, else `created`).
    pub fn device(&self) -> &DeviceRecord {
        self.recent.as_ref().unwrap_or(&self.created)
    }

    /// Which of `reset`'s two halves this session falls in, judged from its device.
    pub fn platform(&self) -> Platform {
        Platform::of(self.device())
    }

    /// What the session is signed in with, judged from its device as last seen
    /// ([`ClientKind::of`]).
    pub fn client_kind(&self) -> ClientKind {
        ClientKind::of(self.device())
    }

    /// Whether the session's IP address, as it began (`created`) or as last seen (`recent`),
    /// is in `network`: a session opened in the office and carried home matches the office.
    ///
    /// ```
    /// use slack_sessions_api::methods::{ActiveSession, DeviceRecord};
    /// use slack_sessions_api::{Network, SessionId};
    ///
    /// let created = DeviceRecord::new("Intel", "OS X", "14.6", "4.41.105", "198.51.100.7");
    /// let recent = DeviceRecord::new("Intel", "OS X", "14.6", "4.41.105", "203.0.113.9");
    /// let s = ActiveSession::new("W1".into(), "T1".into(), SessionId(1), created, Some(recent));
    /// let office: Network = "198.51.100.0/24".parse().unwrap();
    /// assert!(s.in_network(&office));
    /// ```
    pub fn in_network(&self, network: &crate::Network) -> bool {
        [Some(&self.created), self.recent.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|d| d.ip.as_deref())
            .any(|ip| network.contains_str(ip))
    }

    /// The Slack client version as last seen ([`Version::of_session`](crate::Version::of_session)
    /// of `recent`'s, else `created`'s), compared as numbers: `4.9` < `4.10`.
    pub fn client_version(&self) -> Option<crate::Version> {
        let recent = self
            .recent
            .as_ref()
            .and_then(|d| d.slack_client_version.as_deref());
        recent
            .or(self.created.slack_client_version.as_deref())
            .and_then(crate::Version::of_session)
    }
}

/// A device record of a session; every field is "if available". The fields are
/// [`CompactString`]s: a page of sessions is mostly these, and up to 24 bytes they need no
/// allocation.
// `Deserialize` is written by hand, for speed (in `decode.rs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct DeviceRecord {
    /// e.g. `Intel`, `iPhone14,2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_hardware: Option<CompactString>,
    /// e.g. `OS X`, `Windows`, `iOS`, `Android`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<CompactString>,
    /// e.g. `10.15.7`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<CompactString>,
    /// The Slack client (or browser) version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack_client_version: Option<CompactString>,
    /// The client's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<CompactString>,
}

impl DeviceRecord {
    /// The `os` names Slack is known to send, as it writes them. Slack documents no list (its
    /// own example shows `OS X`), so a name outside it may still come: a new OS, or a rename.
    pub const KNOWN_OS: [&'static str; 6] =
        ["OS X", "Windows", "Linux", "iOS", "iPadOS", "Android"];

    /// A record with every field given.
    pub fn new(
        device_hardware: impl Into<CompactString>,
        os: impl Into<CompactString>,
        os_version: impl Into<CompactString>,
        slack_client_version: impl Into<CompactString>,
        ip: impl Into<CompactString>,
    ) -> Self {
        DeviceRecord {
            device_hardware: Some(device_hardware.into()),
            os: Some(os.into()),
            os_version: Some(os_version.into()),
            slack_client_version: Some(slack_client_version.into()),
            ip: Some(ip.into()),
        }
    }
}

/// The two halves `reset` distinguishes: `mobile_only` (phones and tablets) and `web_only`
/// (browsers and the desktop app).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Phones and tablets.
    Mobile,
    /// Browsers and the desktop app.
    Web,
}

impl Platform {
    /// `mobile` or `web`, as serialized.
    pub const fn as_str(self) -> &'static str {
        match self {
            Platform::Mobile => "mobile",
            Platform::Web => "web",
        }
    }

    /// Judges a device by its OS: iOS, iPadOS and Android are mobile, everything else web.
    /// Slack's answer carries no client kind, so this is the only evidence there is.
    pub fn of(device: &DeviceRecord) -> Platform {
        let os = device.os.as_deref().unwrap_or("").to_ascii_lowercase();
        if ["ios", "ipados", "android"]
            .iter()
            .any(|m| os.starts_with(m))
        {
            Platform::Mobile
        } else {
            Platform::Web
        }
    }
}

/// What a session is signed in with: a phone or tablet, the desktop app, or a browser.
///
/// Slack's session record names no client; the evidence is the OS and `slack_client_version`,
/// which holds the Slack app's version for the apps and the *browser's* version for a web
/// session (Slack's own example of a macOS web session shows `91.0.4472.77`, a Chrome version).
/// The rule, in order:
/// 1. iOS, iPadOS or Android: [`ClientKind::Mobile`];
/// 2. a version whose first number is below 10: [`ClientKind::Desktop`] (the desktop app has
///    been 1.x to 4.x; every browser Slack supports is at 10 or above: Chrome, Firefox and Edge
///    past 100, Safari 14 and up);
/// 3. a version of 10 or more: [`ClientKind::Web`];
/// 4. no version: [`ClientKind::Unknown`] (browser or desktop app, the record does not say).
///
/// `reset`'s `web_only` covers desktop, web and unknown alike ([`Platform::Web`]).
///
/// ```
/// use slack_sessions_api::methods::{ClientKind, DeviceRecord};
///
/// let kind = |os, version| ClientKind::of(&DeviceRecord::new("hw", os, "1", version, "192.0.2.1"));
/// assert_eq!(kind("iOS", "24.11.10"), ClientKind::Mobile);
/// assert_eq!(kind("Windows", "4.41.105"), ClientKind::Desktop);
/// assert_eq!(kind("OS X", "91.0.4472.77"), ClientKind::Web);
/// assert_eq!(kind("Linux", ""), ClientKind::Unknown);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// A phone or tablet (iOS, iPadOS, Android).
    Mobile,
    /// Slack's desktop app.
    Desktop,
    /// A browser.
    Web,
    /// A browser or the desktop app: the record has no client version to tell.
    Unknown,
}

impl ClientKind {
    /// The kinds a session is judged to be when its record tells (every one but `Unknown`).
    pub const JUDGED: [ClientKind; 3] = [ClientKind::Mobile, ClientKind::Desktop, ClientKind::Web];

    /// The first number of a version below which it is the desktop app's.
    const FIRST_BROWSER_MAJOR: u64 = 10;

    /// Judges a device record (see the rule above).
    pub fn of(device: &DeviceRecord) -> ClientKind {
        if Platform::of(device) == Platform::Mobile {
            return ClientKind::Mobile;
        }
        let major = device.slack_client_version.as_deref().and_then(|v| {
            let digits: String = v.trim().chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u64>().ok()
        });
        match major {
            Some(m) if m < Self::FIRST_BROWSER_MAJOR => ClientKind::Desktop,
            Some(_) => ClientKind::Web,
            None => ClientKind::Unknown,
        }
    }

    /// `mobile`, `desktop`, `web` or `unknown`, as serialized.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClientKind::Mobile => "mobile",
            ClientKind::Desktop => "desktop",
            ClientKind::Web => "web",
            ClientKind::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ClientKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::Validate for ListArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        use crate::{ErrorCode, InvalidArgs};
        match (&self.team_id, &self.user_id) {
            (Some(_), None) => {
                return Err(InvalidArgs::code(
                    ErrorCode::MissingUser,
                    "a user_id must be given with a team_id",
                ));
            }
            (None, Some(_)) => {
                return Err(InvalidArgs::code(
                    ErrorCode::MissingTeam,
                    "a team_id must be given with a user_id",
                ));
            }
            _ => {}
        }
        crate::validate::page_limit(self.limit, crate::validate::MAX_LIST_LIMIT)
    }
}
