//! The catalogue: each method declared once with its name, scope, tier and types.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// An OAuth scope a method requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// `admin.users:read`: list sessions, read session settings.
    AdminUsersRead,
    /// `admin.users:write`: invalidate, reset, change session settings.
    AdminUsersWrite,
    /// `users:read.email`: look users up by email.
    UsersReadEmail,
}

impl Scope {
    /// The scope as Slack spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::AdminUsersRead => "admin.users:read",
            Scope::AdminUsersWrite => "admin.users:write",
            Scope::UsersReadEmail => "users:read.email",
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
}

impl Tier {
    /// The documented budget in calls per minute.
    pub const fn per_minute(self) -> u32 {
        match self {
            Tier::Tier1 => 1,
            Tier::Tier2 => 20,
            Tier::Tier3 => 50,
            Tier::Tier4 => 100,
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
    /// The arguments (without the token).
    type Args: Serialize + DeserializeOwned + Debug + Clone + PartialEq + Send + Sync + 'static;
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
        }
    }

    /// Looks a method up by its Slack name.
    pub fn find(name: &str) -> Option<&'static MethodInfo> {
        CATALOGUE.iter().find(|m| m.name == name)
    }
}

use crate::methods::*;

/// Every method this project speaks: the seven session methods and the two helpers the CLI needs.
pub static CATALOGUE: [MethodInfo; 9] = [
    MethodInfo::of::<Invalidate>(),
    MethodInfo::of::<Reset>(),
    MethodInfo::of::<ResetBulk>(),
    MethodInfo::of::<List>(),
    MethodInfo::of::<GetSettings>(),
    MethodInfo::of::<SetSettings>(),
    MethodInfo::of::<ClearSettings>(),
    MethodInfo::of::<AuthTest>(),
    MethodInfo::of::<LookupByEmail>(),
];
