//! Identifier newtypes. Slack IDs are opaque strings, kept inline (no allocation) up to 24
//! bytes; session ids are 64-bit integers.

use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(CompactString);

        impl $name {
            /// Wraps an ID as given; Slack IDs are not validated client-side.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into().into())
            }

            /// The ID as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.into())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id.into())
            }
        }

        impl From<&String> for $name {
            fn from(id: &String) -> Self {
                Self(id.as_str().into())
            }
        }

        /// So that an argument builder takes `&id` as well as `id`.
        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A user: `U…` (workspace-local) or `W…` (Enterprise Grid global).
    UserId
);
impl UserId {
    /// Slackbot's id, the same in every workspace: `users.list` lists it as a user (`is_bot`
    /// false), but nobody signs in as it.
    pub const SLACKBOT: &str = "USLACKBOT";
}

string_id!(
    /// A workspace `T…`, or an Enterprise Grid org `E…` where Slack accepts either
    /// (a session's `team_id` is the enterprise id for org-level sign-ins).
    TeamId
);

/// A session id: a 64-bit integer on the wire (`1112275520242`).
///
/// Slack documents it as an integer while every official SDK sends it as a string, so decoding
/// accepts a JSON number or a string of decimal digits. Encoding always writes a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u64> for SessionId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

impl From<&SessionId> for SessionId {
    fn from(id: &SessionId) -> Self {
        *id
    }
}

impl std::str::FromStr for SessionId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse().map(Self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::lenient::u64_value(d).map(Self)
    }
}
