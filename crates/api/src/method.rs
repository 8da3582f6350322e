//! The catalogue: each method declared once with its name, scope, tier and types.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ErrorCode;
use crate::validate::Validate;

/// An OAuth scope a method requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// `admin.users:read`: list sessions, read session settings.
    AdminUsersRead,
    /// `admin.users:write`: invalidate, reset, change session settings.
    AdminUsersWrite,
    /// `users:read`: read users (`users.list`, `users.info`), without their email addresses.
    UsersRead,
    /// `users:read.email`: look users up by email, and see email addresses in user objects.
    UsersReadEmail,
    /// `auditlogs:read`: read the org's audit logs (an org owner's token only).
    AuditLogsRead,
}

impl Scope {
    /// The scope as Slack spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::AdminUsersRead => "admin.users:read",
            Scope::AdminUsersWrite => "admin.users:write",
            Scope::UsersRead => "users:read",
            Scope::UsersReadEmail => "users:read.email",
            Scope::AuditLogsRead => "auditlogs:read",
        }
    }
}

/// A Web API rate-limit tier (contract §1.5): calls per minute, per method, workspace and app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Tier {
    /// 1+ per minute.
    Tier1,
    /// 20+ per minute: most methods, occasional bursts.
    Tier2,
    /// 50+ per minute: paginating collections.
    Tier3,
    /// 100+ per minute: generous bursts.
    Tier4,
    /// Slack's "Special" tier: each method documents its own rule; the budget per minute used
    /// for it here.
    Special(u32),
}

impl Tier {
    /// The documented budget in calls per minute.
    pub const fn per_minute(self) -> u32 {
        match self {
            Tier::Tier1 => 1,
            Tier::Tier2 => 20,
            Tier::Tier3 => 50,
            Tier::Tier4 => 100,
            Tier::Special(per_minute) => per_minute,
        }
    }
}

/// A Web API method: one declaration shared by the client (encode args, decode answers) and the
/// emulator (decode args, encode answers).
pub trait Method: 'static {
    /// Slack's method name, the last segment of the URL.
    const NAME: &'static str;
    /// The scope a token needs, if any.
    const SCOPE: Option<Scope>;
    /// The rate-limit tier.
    const TIER: Tier;
    /// An `admin.*` method: user tokens of Org Owners and Admins on Enterprise Grid only.
    const ADMIN: bool;
    /// Changes state, so a blind repeat may act twice.
    const WRITES: bool;
    /// A second call with the same arguments leaves the state as one call did, so a request that
    /// may have been applied can be sent again (smithy's `@idempotent`). Every read is; a write
    /// says why in its declaration.
    const IDEMPOTENT: bool;
    /// The error codes Slack documents for this method (and the emulator answers), besides
    /// those any method may answer (see [`ErrorCode::is_auth`], [`ErrorCode::is_permission`],
    /// [`ErrorCode::is_transient`]). Listed in each method's docs.
    const ERRORS: &'static [ErrorCode] = &[];
    /// The arguments (without the token).
    type Args: Validate
        + Serialize
        + DeserializeOwned
        + Debug
        + Clone
        + PartialEq
        + Send
        + Sync
        + 'static;
    /// The body of a successful answer (without the envelope).
    type Response: Serialize + DeserializeOwned + Debug + Clone + PartialEq + Send + Sync + 'static;
}

/// A method's declaration as plain data, for lookups by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodInfo {
    /// See [`Method::NAME`].
    pub name: &'static str,
    /// See [`Method::SCOPE`].
    pub scope: Option<Scope>,
    /// See [`Method::TIER`].
    pub tier: Tier,
    /// See [`Method::ADMIN`].
    pub admin: bool,
    /// See [`Method::WRITES`].
    pub writes: bool,
    /// See [`Method::IDEMPOTENT`].
    pub idempotent: bool,
    /// See [`Method::ERRORS`].
    pub errors: &'static [ErrorCode],
}

impl MethodInfo {
    /// The declaration of `M`.
    pub const fn of<M: Method>() -> Self {
        MethodInfo {
            name: M::NAME,
            scope: M::SCOPE,
            tier: M::TIER,
            admin: M::ADMIN,
            writes: M::WRITES,
            idempotent: M::IDEMPOTENT,
            errors: M::ERRORS,
        }
    }

    /// Looks a method up by its Slack name.
    pub fn find(name: &str) -> Option<&'static MethodInfo> {
        CATALOGUE.iter().find(|m| m.name == name)
    }
}

/// Calls `$callback! { path::To::Method, … }` with every method this project speaks: the seven
/// session methods and the helpers the CLI needs. This list is the catalogue: [`CATALOGUE`], the
/// emulator's routing (a method without a handler does not compile), and the fuzz and proptest
/// argument lists are all generated from it.
///
/// ```
/// macro_rules! names {
///     ($($m:path),* $(,)?) => { [$(<$m as slack_sessions_api::Method>::NAME),*] };
/// }
/// let names = slack_sessions_api::for_each_method!(names);
/// assert!(names.contains(&"admin.users.session.list"));
/// ```
#[macro_export]
macro_rules! for_each_method {
    ($callback:ident) => {
        $callback! {
            $crate::methods::Invalidate,
            $crate::methods::Reset,
            $crate::methods::ResetBulk,
            $crate::methods::List,
            $crate::methods::GetSettings,
            $crate::methods::SetSettings,
            $crate::methods::ClearSettings,
            $crate::methods::AuthTest,
            $crate::methods::LookupByEmail,
            $crate::methods::UsersList,
            $crate::methods::UsersInfo,
        }
    };
}

macro_rules! catalogue {
    ($($m:path),* $(,)?) => {
        /// Every method this project speaks, as data (generated by [`for_each_method!`]).
        pub static CATALOGUE: &[MethodInfo] = &[$(MethodInfo::of::<$m>()),*];
    };
}
for_each_method!(catalogue);
