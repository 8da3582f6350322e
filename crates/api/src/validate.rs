//! Argument limits and the checks every side applies: the emulator refuses what Slack refuses,
//! and a client can check arguments before it spends a rate-limited call on them.

use crate::ErrorCode;

/// Most users one call names (`resetBulk`, and the settings methods: documented for
/// `resetBulk` and `setSettings`, applied to all four).
pub const MAX_USER_IDS: usize = 1000;
/// Largest (and default) page of `admin.users.session.list`.
pub const MAX_LIST_LIMIT: u32 = 1000;
/// Largest page of `users.list`; a larger `limit` is served as this many.
pub const MAX_USERS_LIST_LIMIT: u32 = 1000;
/// Shortest session `duration` `setSettings` accepts, in seconds: the schema's 180, not the
/// prose's 28,800, so that no value a real client sends is refused (contract §4.3).
pub const MIN_SESSION_DURATION: u64 = 180;
/// Longest session `duration`, in seconds (ten years).
pub const MAX_SESSION_DURATION: u64 = 315_569_520;

/// Arguments that Slack would refuse before looking anything up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
#[non_exhaustive]
pub struct InvalidArgs {
    /// The error Slack answers.
    pub code: ErrorCode,
    /// The argument at fault, if one is.
    pub arg: Option<&'static str>,
    /// What is wrong, for `response_metadata.messages`.
    pub detail: String,
}

impl InvalidArgs {
    /// `invalid_arguments` about `arg`.
    pub fn arg(arg: &'static str, detail: impl Into<String>) -> Self {
        InvalidArgs {
            code: ErrorCode::InvalidArguments,
            arg: Some(arg),
            detail: detail.into(),
        }
    }

    /// A method-specific code (e.g. `missing_team`).
    pub fn code(code: ErrorCode, detail: impl Into<String>) -> Self {
        InvalidArgs {
            code,
            arg: None,
            detail: detail.into(),
        }
    }
}

/// The checks of a method's arguments that need no state.
pub trait Validate {
    /// `Ok` when Slack would go on to look the named entities up.
    fn validate(&self) -> Result<(), InvalidArgs>;
}

/// Checks a user-id list: 1 to [`MAX_USER_IDS`] entries.
pub fn user_count<T>(ids: &[T], arg: &'static str) -> Result<(), InvalidArgs> {
    match ids.len() {
        0 => Err(InvalidArgs::arg(arg, "must contain at least 1 user id")),
        n if n > MAX_USER_IDS => Err(InvalidArgs::arg(
            arg,
            format!("must contain at most {MAX_USER_IDS} user ids, got {n}"),
        )),
        _ => Ok(()),
    }
}

/// Checks a page size against `1..=max`.
pub fn page_limit(limit: Option<u32>, max: u32) -> Result<(), InvalidArgs> {
    match limit {
        Some(l) if !(1..=max).contains(&l) => Err(InvalidArgs::arg(
            "limit",
            format!("must be between 1 - {max} both inclusive"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_counts() {
        assert!(user_count::<u8>(&[], "user_ids").is_err());
        assert!(user_count(&[0u8; MAX_USER_IDS], "user_ids").is_ok());
        let err = user_count(&[0u8; MAX_USER_IDS + 1], "user_ids").unwrap_err();
        assert_eq!(err.arg, Some("user_ids"));
        assert!(err.detail.contains("1001"), "{err}");
    }

    #[test]
    fn limits() {
        assert!(page_limit(None, 1000).is_ok());
        assert!(page_limit(Some(1000), 1000).is_ok());
        assert!(page_limit(Some(0), 1000).is_err());
        assert!(page_limit(Some(1001), 1000).is_err());
    }
}
