//! The methods: argument and answer types, and their [`Method`](crate::Method) declarations.
//!
//! Arguments are builders: required values in `new`, optional ones as setters. Decoding is
//! tolerant (see [`crate::lenient`]); encoding is canonical.

mod auth_test;
mod flat;
mod invalidate;
mod list;
mod lookup_by_email;
mod reset;
mod settings;
mod users;

pub use auth_test::{AuthTest, AuthTestArgs, AuthTestResponse};
pub use flat::FlatSession;
pub use invalidate::{Invalidate, InvalidateArgs};
pub use list::{ActiveSession, ClientKind, DeviceRecord, List, ListArgs, ListResponse, Platform};
pub use lookup_by_email::{LookupByEmail, LookupByEmailArgs, LookupByEmailResponse};
pub use reset::{Reset, ResetArgs, ResetBulk, ResetBulkArgs};
pub use settings::{
    ClearSettings, ClearSettingsArgs, GetSettings, GetSettingsArgs, GetSettingsResponse,
    SessionDuration, SessionSetting, SetSettings, SetSettingsArgs,
};
pub use users::{
    EnterpriseUser, User, UserProfile, UsersInfo, UsersInfoArgs, UsersInfoResponse, UsersList,
    UsersListArgs, UsersListResponse,
};

use serde::{Deserialize, Serialize};

/// The body of an answer that carries nothing but `ok` (`{"ok":true}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

impl crate::Validate for Empty {
    fn validate(&self) -> Result<(), crate::InvalidArgs> {
        Ok(())
    }
}

/// Declares a method marker type and its [`Method`](crate::Method) impl, with the method's own
/// error codes listed in its docs (generated from the same list as [`Method::ERRORS`](crate::Method::ERRORS)).
macro_rules! method {
    (
        $(#[$doc:meta])*
        $ty:ident = $name:literal {
            scope: $scope:expr, tier: $tier:expr, admin: $admin:literal, writes: $writes:literal,
            idempotent: $idempotent:literal, args: $args:ty, response: $resp:ty,
            errors: [$($err:ident),* $(,)?] $(,)?
        }
    ) => {
        $(#[$doc])*
        #[doc = concat!("\n\nSlack method `", $name, "`.")]
        #[doc = "\n\n# Errors\n\nThe codes of this method (its [`ERRORS`](crate::Method::ERRORS)), on top of \
                 those any method may answer: authentication and permission \
                 ([`ErrorCode::is_auth`](crate::ErrorCode::is_auth), \
                 [`ErrorCode::is_permission`](crate::ErrorCode::is_permission)), rate limits and \
                 server trouble ([`ErrorCode::is_transient`](crate::ErrorCode::is_transient)), \
                 and request-format errors (`invalid_form_data`, `invalid_json`, …).\n"]
        $(#[doc = concat!("- [`", stringify!($err), "`](crate::ErrorCode::", stringify!($err), ")")])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $ty;

        impl $crate::Method for $ty {
            const NAME: &'static str = $name;
            const SCOPE: Option<$crate::Scope> = $scope;
            const TIER: $crate::Tier = {
                #[allow(unused_imports)]
                use $crate::Tier::*;
                $tier
            };
            const ADMIN: bool = $admin;
            const WRITES: bool = $writes;
            const IDEMPOTENT: bool = $idempotent;
            const ERRORS: &'static [$crate::ErrorCode] = &[$($crate::ErrorCode::$err),*];
            type Args = $args;
            type Response = $resp;
        }
    };
}
pub(crate) use method;
