//! The token, kept out of every `Debug`, `Display`, error and log line.

use std::fmt;
use std::sync::Arc;

/// A Slack token (`xoxp-…` for the admin methods).
///
/// `Debug` and `Display` show only the token's kind (`xoxp-…`), never the secret; the only way
/// to read it is [`Token::expose_secret`]. Cloning is cheap.
///
/// ```
/// use slack_sessions_client::Token;
///
/// let token = Token::new("xoxp-1234-5678-secret");
/// assert_eq!(format!("{token}"), "xoxp-…");
/// assert_eq!(format!("{token:?}"), "Token(xoxp-…)");
/// assert_eq!(token.expose_secret(), "xoxp-1234-5678-secret");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Token(Arc<str>);

impl Token {
    /// Wraps a token. Surrounding whitespace (a trailing newline from a file or a
    /// variable) is removed.
    pub fn new(token: impl AsRef<str>) -> Self {
        Token(Arc::from(token.as_ref().trim()))
    }

    /// The secret itself, for sending it. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The token's kind as its prefix shows it (`xoxp`, `xoxb`, …), if it has a recognisable one.
    pub fn kind(&self) -> Option<&str> {
        let (prefix, _) = self.0.split_once('-')?;
        let recognisable = prefix.len() == 4
            && prefix.starts_with("xox")
            && prefix.bytes().all(|b| b.is_ascii_lowercase());
        recognisable.then_some(prefix)
    }

    /// True when empty (after trimming).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            Some(kind) => write!(f, "{kind}-…"),
            None => f.write_str("…"),
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({self})")
    }
}

impl From<String> for Token {
    fn from(token: String) -> Self {
        Token::new(token)
    }
}

impl From<&str> for Token {
    fn from(token: &str) -> Self {
        Token::new(token)
    }
}

impl std::str::FromStr for Token {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Token::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "xoxp-111-222-333-abcdef0123456789";

    #[test]
    fn debug_and_display_hide_the_secret() {
        let token = Token::new(SECRET);
        for shown in [
            format!("{token}"),
            format!("{token:?}"),
            format!("{token:#?}"),
            format!("{:?}", Some(&token)),
        ] {
            assert!(!shown.contains("abcdef"), "{shown}");
            assert!(!shown.contains("111"), "{shown}");
            assert!(shown.contains("xoxp-…"), "{shown}");
        }
    }

    #[test]
    fn unrecognised_tokens_show_nothing_at_all() {
        for secret in ["plainsecret", "abcd-efgh", "XOXP-123", "xoxpp-1"] {
            let token = Token::new(secret);
            assert_eq!(token.kind(), None, "{secret}");
            assert_eq!(format!("{token}"), "…");
            assert_eq!(format!("{token:?}"), "Token(…)");
        }
    }

    #[test]
    fn kinds_and_trimming() {
        assert_eq!(Token::new("xoxb-1").kind(), Some("xoxb"));
        assert_eq!(Token::new(" xoxp-1\n").expose_secret(), "xoxp-1");
        assert!(Token::new("  ").is_empty());
    }
}
