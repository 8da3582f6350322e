use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Empty, method};
use crate::{Scope, UserId, lenient};

method! {
    /// Read the session settings (duration, quit on close) of up to 1,000 users.
    GetSettings = "admin.users.session.getSettings" {
        scope: Some(Scope::AdminUsersRead), tier: Tier4, admin: true, writes: false,
        idempotent: true, args: GetSettingsArgs, response: GetSettingsResponse,
        errors: [AdminUnauthorized, BotsNotAllowed, FeatureNotEnabled, InternalError, InvalidArguments, NotAnAdmin, RestrictedAction, UserNotFound],
    }
}

method! {
    /// Set the session settings of up to 1,000 users.
    SetSettings = "admin.users.session.setSettings" {
        scope: Some(Scope::AdminUsersWrite), tier: Tier4, admin: true, writes: true,
        idempotent: true, args: SetSettingsArgs, response: Empty,
        errors: [AdminUnauthorized, AtLeastOneSessionSettingRequired, BotsNotAllowed, FeatureNotEnabled, InternalError, InvalidArguments, NotAnAdmin, UnableToUpdateExistingSessions, UserNotFound],
    }
}

method! {
    /// Clear the session settings of up to 1,000 users (back to the org's defaults).
    ClearSettings = "admin.users.session.clearSettings" {
        scope: Some(Scope::AdminUsersWrite), tier: Tier4, admin: true, writes: true,
        idempotent: true, args: ClearSettingsArgs, response: Empty,
        errors: [AdminUnauthorized, BotsNotAllowed, FeatureNotEnabled, InternalError, InvalidArguments, NotAnAdmin, UserNotFound],
    }
}

/// Arguments of `admin.users.session.getSettings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetSettingsArgs {
    /// 1 to 1,000 users.
    #[serde(deserialize_with = "lenient::user_ids")]
    pub user_ids: Vec<UserId>,
}

impl GetSettingsArgs {
    /// The settings of `user_ids`.
    pub fn new<I: IntoIterator<Item = U>, U: Into<UserId>>(user_ids: I) -> Self {
        GetSettingsArgs {
            user_ids: user_ids.into_iter().map(Into::into).collect(),
        }
    }
}

/// The body of a `getSettings` answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetSettingsResponse {
    /// The users that have settings.
    #[serde(default)]
    pub session_settings: Vec<SessionSetting>,
    /// The users asked for that have none.
    #[serde(default)]
    pub no_settings_applied: Vec<UserId>,
}

impl GetSettingsResponse {
    /// An answer.
    pub fn new(session_settings: Vec<SessionSetting>, no_settings_applied: Vec<UserId>) -> Self {
        GetSettingsResponse {
            session_settings,
            no_settings_applied,
        }
    }
}

/// One user's session settings; `null` fields follow the org's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionSetting {
    /// The user.
    pub user_id: UserId,
    /// End the session when the desktop app or browser window closes.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub desktop_app_browser_quit: Option<bool>,
    /// Session duration in seconds.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub duration: Option<u64>,
}

impl SessionSetting {
    /// [`Self::duration`] as a [`Duration`].
    pub fn session_duration(&self) -> Option<Duration> {
        self.duration.map(Duration::from_secs)
    }

    /// A user's settings.
    pub fn new(
        user_id: UserId,
        desktop_app_browser_quit: Option<bool>,
        duration: Option<u64>,
    ) -> Self {
        SessionSetting {
            user_id,
            desktop_app_browser_quit,
            duration,
        }
    }
}

/// A session duration as `setSettings` takes it: whole seconds, from a number of seconds or a
/// [`Duration`] (a fraction of a second is dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionDuration(pub u64);

impl SessionDuration {
    /// Whole seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// As a [`Duration`].
    pub const fn as_duration(self) -> Duration {
        Duration::from_secs(self.0)
    }
}

impl From<u64> for SessionDuration {
    fn from(seconds: u64) -> Self {
        SessionDuration(seconds)
    }
}

impl From<Duration> for SessionDuration {
    fn from(duration: Duration) -> Self {
        SessionDuration(duration.as_secs())
    }
}

/// Arguments of `admin.users.session.setSettings`: at least one setting is required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SetSettingsArgs {
    /// 1 to 1,000 users.
    #[serde(deserialize_with = "lenient::user_ids")]
    pub user_ids: Vec<UserId>,
    /// Session duration in seconds (Slack: 28,800 documented minimum, 180 in its schema;
    /// at most 315,569,520, ten years).
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<u64>,
    /// End the session when the desktop app or browser window closes.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub desktop_app_browser_quit: Option<bool>,
}

impl SetSettingsArgs {
    /// Settings for `user_ids`; add at least one of the setters.
    pub fn new<I: IntoIterator<Item = U>, U: Into<UserId>>(user_ids: I) -> Self {
        SetSettingsArgs {
            user_ids: user_ids.into_iter().map(Into::into).collect(),
            duration: None,
            desktop_app_browser_quit: None,
        }
    }

    /// Session duration: seconds, or a [`Duration`](std::time::Duration) (whole seconds).
    ///
    /// ```
    /// use std::time::Duration;
    /// use slack_sessions_api::methods::SetSettingsArgs;
    ///
    /// let a = SetSettingsArgs::new(["W1"]).duration(28_800);
    /// let b = SetSettingsArgs::new(["W1"]).duration(Duration::from_secs(8 * 3600));
    /// assert_eq!(a, b);
    /// ```
    pub fn duration(mut self, duration: impl Into<SessionDuration>) -> Self {
        self.duration = Some(duration.into().as_secs());
        self
    }

    /// End sessions when the desktop app or browser closes.
    pub fn desktop_app_browser_quit(mut self, yes: bool) -> Self {
        self.desktop_app_browser_quit = Some(yes);
        self
    }
}

/// Arguments of `admin.users.session.clearSettings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClearSettingsArgs {
    /// 1 to 1,000 users.
    #[serde(deserialize_with = "lenient::user_ids")]
    pub user_ids: Vec<UserId>,
}

impl ClearSettingsArgs {
    /// Clears the settings of `user_ids`.
    pub fn new<I: IntoIterator<Item = U>, U: Into<UserId>>(user_ids: I) -> Self {
        ClearSettingsArgs {
            user_ids: user_ids.into_iter().map(Into::into).collect(),
        }
    }
}

impl crate::Validate for GetSettingsArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        crate::validate::user_count(&self.user_ids, "user_ids")
    }
}

impl crate::Validate for SetSettingsArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        use crate::validate::{MAX_SESSION_DURATION, MIN_SESSION_DURATION};
        use crate::{ErrorCode, InvalidArgs};
        crate::validate::user_count(&self.user_ids, "user_ids")?;
        if self.duration.is_none() && self.desktop_app_browser_quit.is_none() {
            return Err(InvalidArgs::code(
                ErrorCode::AtLeastOneSessionSettingRequired,
                "give duration, desktop_app_browser_quit or both",
            ));
        }
        if let Some(d) = self.duration
            && !(MIN_SESSION_DURATION..=MAX_SESSION_DURATION).contains(&d)
        {
            return Err(InvalidArgs::arg(
                "duration",
                format!(
                    "must be between {MIN_SESSION_DURATION} and {MAX_SESSION_DURATION} seconds"
                ),
            ));
        }
        Ok(())
    }
}

impl crate::Validate for ClearSettingsArgs {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        crate::validate::user_count(&self.user_ids, "user_ids")
    }
}
