//! Every error and warning code of the contract, typed, with a fallback for codes Slack adds later.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! codes {
    (
        $(#[$doc:meta])*
        pub enum $name:ident { $( $(#[$vdoc:meta])* $variant:ident => $code:literal : $text:literal, )* }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", $code, "`: ", $text)]
                $(#[$vdoc])*
                $variant,
            )*
            /// A code this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every known code, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The code as Slack spells it on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $code,)*
                    $name::Other(code) => code,
                }
            }

            /// Slack's description of the code (empty for unknown codes).
            pub fn description(&self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(_) => "",
                }
            }

            /// Parses a wire code; unknown codes become [`Self::Other`].
            pub fn parse(code: &str) -> Self {
                match code {
                    $($code => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }
        }
    };
}

codes! {
    /// A Slack error code (`"error"` of an `ok:false` answer).
    pub enum ErrorCode {
        NotAuthed => "not_authed": "No authentication token provided.",
        InvalidAuth => "invalid_auth": "Some aspect of authentication cannot be validated.",
        AccountInactive => "account_inactive": "Authentication token is for a deleted user or workspace.",
        TokenRevoked => "token_revoked": "Authentication token is for a deleted user or workspace or the app has been removed.",
        TokenExpired => "token_expired": "Authentication token has expired.",
        MissingScope => "missing_scope": "The token used is not granted the specific scope permissions required to complete this request.",
        NotAllowedTokenType => "not_allowed_token_type": "The token type used in this request is not allowed.",
        NoPermission => "no_permission": "The workspace token used in this request does not have the permissions necessary to complete the request.",
        AccessDenied => "access_denied": "Access to a resource specified in the request is denied.",
        AccessLimited => "accesslimited": "Access to this method is limited on the current network.",
        EkmAccessDenied => "ekm_access_denied": "Administrators have suspended the ability to post a message.",
        EnterpriseIsRestricted => "enterprise_is_restricted": "The method cannot be called from an Enterprise.",
        OrgLoginRequired => "org_login_required": "The workspace is undergoing an enterprise migration and will not be available until migration is complete.",
        TeamAddedToOrg => "team_added_to_org": "The workspace associated with your request is currently undergoing migration to an Enterprise Organization.",
        TwoFactorSetupRequired => "two_factor_setup_required": "Two factor setup is required.",
        IsBot => "is_bot": "This method cannot be called by a legacy bot.",
        MethodDeprecated => "method_deprecated": "The method has been deprecated.",
        DeprecatedEndpoint => "deprecated_endpoint": "The endpoint has been deprecated.",
        UnknownMethod => "unknown_method": "This method is currently not available.",
        InvalidArgName => "invalid_arg_name": "The method was passed an argument whose name falls outside the bounds of accepted or expected values.",
        InvalidArrayArg => "invalid_array_arg": "The method was passed an array as an argument. Please only input valid strings.",
        InvalidCharset => "invalid_charset": "The method was called via a POST request, but the charset specified in the Content-Type header was invalid. Valid charset names are: utf-8 iso-8859-1.",
        InvalidFormData => "invalid_form_data": "The method was called via a POST request with Content-Type application/x-www-form-urlencoded or multipart/form-data, but the form data was either missing or syntactically invalid.",
        InvalidPostType => "invalid_post_type": "The method was called via a POST request, but the specified Content-Type was invalid. Valid types are: application/json application/x-www-form-urlencoded multipart/form-data text/plain.",
        MissingPostType => "missing_post_type": "The method was called via a POST request and included a data payload, but the request did not include a Content-Type header.",
        RequestTimeout => "request_timeout": "The method was called via a POST request, but the POST data was either missing or truncated.",
        InvalidJson => "invalid_json": "The request body could not be parsed as JSON.",
        JsonNotObject => "json_not_object": "The request body is valid JSON but not a JSON object.",
        InvalidArguments => "invalid_arguments": "The method was called with invalid arguments.",
        Ratelimited => "ratelimited": "The request has been ratelimited. Refer to the Retry-After header for when to retry the request.",
        ServiceUnavailable => "service_unavailable": "The service is temporarily unavailable.",
        FatalError => "fatal_error": "The server could not complete your operation(s) without encountering a catastrophic error. It's possible some aspect of the operation succeeded before the error was raised.",
        InternalError => "internal_error": "The server could not complete your operation(s) without encountering an error, likely due to a transient issue on our end.",
        AdminUnauthorized => "admin_unauthorized": "The token provided is not authorized to perform this action.",
        FeatureNotEnabled => "feature_not_enabled": "This method is only available to Enterprise Grid organizations.",
        NotAnAdmin => "not_an_admin": "This method is only accessible by Org Owners and Admins.",
        RestrictedAction => "restricted_action": "The owner of this token isn't an Org Owner or Admin.",
        CannotInvalidatePrimaryOwner => "cannot_invalidate_primary_owner": "Only the primary owner can invalidate the primary owner's sessions.",
        SessionInvalidationFailed => "session_invalidation_failed": "The session could not be invalidated.",
        SessionNotFound => "session_not_found": "The session could not be found.",
        SessionExpired => "session_expired": "The requested session has already expired.",
        ///
        /// A user **id** names nobody in the token's org: answered by the session methods
        /// (for `resetBulk` and the settings methods, at least one of the ids) and by
        /// `users.info`. Not to be confused with [`UsersNotFound`](Self::UsersNotFound).
        UserNotFound => "user_not_found": "At least one of the requested users doesn't exist.",
        CannotResetBot => "cannot_reset_bot": "Bot users' sessions cannot be reset.",
        CannotResetPrimaryOwner => "cannot_reset_primary_owner": "Only the primary owner can reset the primary owner's sessions.",
        SessionResetNotAllowed => "session_reset_not_allowed": "Only the primary owner can reset the primary owner's sessions.",
        UserSessionResetFailed => "user_session_reset_failed": "There was an error starting the session reset. Try again.",
        FailedForSomeUsers => "failed_for_some_users": "Some user ids failed to have their session invalidated.",
        BotsNotAllowed => "bots_not_allowed": "Bot users are not allowed here.",
        InvalidCursor => "invalid_cursor": "The cursor is invalid.",
        NoActiveSessions => "no_active_sessions": "There are no active sessions.",
        MissingTeam => "missing_team": "A team_id must be provided with a user_id.",
        MissingUser => "missing_user": "A user_id must be provided with a team_id.",
        TeamNotFound => "team_not_found": "The team could not be found.",
        AtLeastOneSessionSettingRequired => "at_least_one_session_setting_required": "At least one of duration or desktop_app_browser_quit must be provided.",
        UnableToUpdateExistingSessions => "unable_to_update_existing_sessions": "The session settings could not be applied to users' existing sessions.",
        ///
        /// How `users.lookupByEmail` says that no user has the **email address** given. Not to
        /// be confused with [`UserNotFound`](Self::UserNotFound), the answer for an unknown id.
        UsersNotFound => "users_not_found": "Value passed for user was invalid.",
        UserNotVisible => "user_not_visible": "The requested user is not visible to the calling user.",
        LimitRequired => "limit_required": "For large teams a limit is required.",
        MissingArgument => "missing_argument": "A required argument is missing.",
        ///
        /// The Audit Logs API's codes follow (Slack's reference of that API); its
        /// [`RateLimited`](Self::RateLimited) is spelled apart from the Web API's
        /// [`Ratelimited`](Self::Ratelimited).
        InvalidAuthentication => "invalid_authentication": "The token is invalid, is not an org owner's, or lacks the auditlogs:read scope.",
        MissingAuthentication => "missing_authentication": "The token is missing or malformed.",
        InvalidRange => "invalid_range": "The filter range is not valid: before data was collected, or in the future.",
        InvalidAction => "invalid_action": "The action is not supported.",
        RateLimited => "rate_limited": "Too many calls to the Audit Logs API.",
        BadEndpoint => "bad_endpoint": "The endpoint URL does not exist.",
        InvalidWorkspace => "invalid_workspace": "The call cannot be used with this workspace.",
        MethodNotAllowed => "method_not_allowed": "The method is not allowed.",
        TeamNotAuthorized => "team_not_authorized": "The app is installed on a workspace, not on the organization.",
        UserNotAuthorized => "user_not_authorized": "The user who installed the app is not an org owner.",
    }
}

codes! {
    /// A warning of a call that succeeded (`"warning"` and `response_metadata.warnings`).
    pub enum WarningCode {
        MissingCharset => "missing_charset": "The request's Content-Type should carry a charset but none was given.",
        SuperfluousCharset => "superfluous_charset": "The request's form Content-Type does not take a charset, but one was given.",
    }
}

/// Categories, so that a caller can react to a kind of failure without listing codes.
///
/// `user_not_found` and `users_not_found` are different codes of different methods:
/// `user_not_found` answers the session methods and `users.info` when a user id names nobody in
/// the token's org (for `resetBulk` and the settings methods: at least one of the ids);
/// `users_not_found` is how `users.lookupByEmail` says that no user has the address. Both are
/// [`is_not_found`](Self::is_not_found); only `user_not_found` is a
/// [`is_user_refusal`](Self::is_user_refusal) (a batch refused with it can be split to find the
/// user).
///
/// ```
/// use slack_sessions_api::ErrorCode;
///
/// assert!(ErrorCode::InvalidAuth.is_auth());
/// assert!(ErrorCode::MissingScope.is_permission());
/// assert!(ErrorCode::UsersNotFound.is_not_found());
/// assert!(ErrorCode::InternalError.is_transient());
/// assert!(ErrorCode::CannotResetBot.is_user_refusal());
/// assert!(!ErrorCode::Other("new_code".into()).is_transient());
/// ```
impl ErrorCode {
    /// The token itself is refused: missing, invalid, revoked, expired, of a deleted user, or of
    /// a kind the method does not take (a bot token for an admin method). A new token is needed.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            ErrorCode::NotAuthed
                | ErrorCode::InvalidAuth
                | ErrorCode::AccountInactive
                | ErrorCode::TokenRevoked
                | ErrorCode::TokenExpired
                | ErrorCode::NotAllowedTokenType
                | ErrorCode::IsBot
                | ErrorCode::InvalidAuthentication
                | ErrorCode::MissingAuthentication
        )
    }

    /// The token is valid but may not do this: a scope is missing, its user is not an Org Owner
    /// or Admin, the org is not on Enterprise Grid, or an org policy forbids it.
    pub fn is_permission(&self) -> bool {
        matches!(
            self,
            ErrorCode::MissingScope
                | ErrorCode::NoPermission
                | ErrorCode::AccessDenied
                | ErrorCode::AccessLimited
                | ErrorCode::EkmAccessDenied
                | ErrorCode::EnterpriseIsRestricted
                | ErrorCode::OrgLoginRequired
                | ErrorCode::TeamAddedToOrg
                | ErrorCode::TwoFactorSetupRequired
                | ErrorCode::AdminUnauthorized
                | ErrorCode::FeatureNotEnabled
                | ErrorCode::NotAnAdmin
                | ErrorCode::RestrictedAction
                | ErrorCode::InvalidWorkspace
                | ErrorCode::MethodNotAllowed
                | ErrorCode::TeamNotAuthorized
                | ErrorCode::UserNotAuthorized
        )
    }

    /// Something the call names does not exist (or no longer does, or is not visible to the
    /// token): a user, the user of an email address, a session, a workspace.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            ErrorCode::UserNotFound
                | ErrorCode::UsersNotFound
                | ErrorCode::UserNotVisible
                | ErrorCode::SessionNotFound
                | ErrorCode::SessionExpired
                | ErrorCode::TeamNotFound
        )
    }

    /// A passing condition on Slack's side (rate limit, server trouble): the same call may pass
    /// later. The client retries these by default.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorCode::Ratelimited
                | ErrorCode::RateLimited
                | ErrorCode::InternalError
                | ErrorCode::ServiceUnavailable
                | ErrorCode::RequestTimeout
        )
    }

    /// Slack refuses the call because of one of the users it names (unknown, a bot, the primary
    /// owner), before acting on any of them: a batch refused with one of these applied to nobody,
    /// and the others can be sent without the user at fault.
    pub fn is_user_refusal(&self) -> bool {
        matches!(
            self,
            ErrorCode::UserNotFound
                | ErrorCode::UserNotVisible
                | ErrorCode::CannotResetBot
                | ErrorCode::CannotResetPrimaryOwner
                | ErrorCode::CannotInvalidatePrimaryOwner
                | ErrorCode::SessionResetNotAllowed
                | ErrorCode::BotsNotAllowed
        )
    }
}

macro_rules! string_serde {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = std::borrow::Cow::<str>::deserialize(d)?;
                Ok(Self::parse(&code))
            }
        }
    };
}

string_serde!(ErrorCode);
string_serde!(WarningCode);

/// `"internal_error".into()`: [`ErrorCode::parse`] (an unknown code is [`ErrorCode::Other`]).
impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        ErrorCode::parse(code)
    }
}

impl From<String> for ErrorCode {
    fn from(code: String) -> Self {
        ErrorCode::parse(&code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(&ErrorCode::parse(code.as_str()), code);
            assert!(!code.description().is_empty());
        }
        assert_eq!(
            ErrorCode::parse("brand_new_code"),
            ErrorCode::Other("brand_new_code".into())
        );
        let json = serde_json::to_string(&ErrorCode::MissingScope).unwrap();
        assert_eq!(json, r#""missing_scope""#);
        let back: ErrorCode = serde_json::from_str(r#""later_code""#).unwrap();
        assert_eq!(back.as_str(), "later_code");
    }

    #[test]
    fn auth_and_permission_do_not_overlap_and_unknown_codes_have_no_category() {
        for code in ErrorCode::ALL {
            assert!(!(code.is_auth() && code.is_permission()), "{code}");
            assert!(!(code.is_transient() && code.is_not_found()), "{code}");
        }
        let other = ErrorCode::Other("x".into());
        assert!(
            !other.is_auth()
                && !other.is_permission()
                && !other.is_not_found()
                && !other.is_transient()
                && !other.is_user_refusal()
        );
    }
}
