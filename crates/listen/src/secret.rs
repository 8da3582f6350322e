//! A shared secret a sender must put in its `Authorization` header (an SSF stream's
//! `authorization_header`, an Okta Event Hook's key). It is read from the environment variable
//! the config names, never from the config file, and is never shown: not in a log, an error
//! or a `Debug` print.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A shared secret, and the environment variable it came from.
#[derive(Clone)]
pub struct Secret {
    /// The variable's name (shown in messages instead of the value).
    env: String,
    /// SHA-256 of the value: compared instead of the value itself, so that neither the
    /// comparison's time nor its length gives the value away.
    digest: [u8; 32],
}

impl Secret {
    /// The secret `value`, read from the variable `env`.
    pub fn new(env: impl Into<String>, value: &str) -> Secret {
        Secret {
            env: env.into(),
            digest: Sha256::digest(value.as_bytes()).into(),
        }
    }

    /// The environment variable it came from.
    pub fn env(&self) -> &str {
        &self.env
    }

    /// Whether a request's `Authorization` header is exactly the secret (in constant time).
    pub fn matches(&self, header: Option<&[u8]>) -> bool {
        let Some(header) = header else {
            return false;
        };
        let given: [u8; 32] = Sha256::digest(header).into();
        bool::from(self.digest.ct_eq(&given))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(${}, redacted)", self.env)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.env == other.env && bool::from(self.digest.ct_eq(&other.digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_only_itself_and_is_never_shown() {
        let s = Secret::new("HOOK", "s3cret-value");
        assert!(s.matches(Some(b"s3cret-value")));
        assert!(!s.matches(Some(b"s3cret-valu")));
        assert!(!s.matches(Some(b"s3cret-value ")));
        assert!(!s.matches(Some(b"")));
        assert!(!s.matches(None));
        let shown = format!("{s:?}");
        assert!(
            shown.contains("HOOK") && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
