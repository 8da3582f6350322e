//! Dotted version numbers, compared part by part as numbers: `4.9` < `4.10`, which a string
//! comparison gets wrong (Slack's desktop app went from 4.9 to 4.10).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A dotted version, compared part by part as numbers (`4.9` < `4.10`; `4.10` = `4.10.0`).
///
/// ```
/// use slack_sessions_api::Version;
///
/// let v = |s: &str| s.parse::<Version>().unwrap();
/// assert!(v("4.9") < v("4.10"));
/// assert_eq!(v("4.10"), v("4.10.0"));
/// // As a session reports it: what follows a part's number is not part of the version.
/// assert_eq!(Version::of_session("4.29.149-beta"), Some(v("4.29.149")));
/// assert!(v("24.11.10").starts_with(&v("24")));
/// ```
#[derive(Clone, Debug)]
pub struct Version(Vec<u64>);

/// A version that did not parse; `Display` says why, naming the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseVersionError(String);

impl Version {
    /// Parses a version as a person writes it (on a command line, in a policy): numbers
    /// separated by dots.
    pub fn parse(text: &str) -> Result<Version, ParseVersionError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ParseVersionError(
                "a version is numbers separated by dots, e.g. 4.41 or 24.11.10".into(),
            ));
        }
        text.split('.')
            .map(|part| {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    Err(ParseVersionError(format!(
                        "{text:?} is not a version: use numbers separated by dots, e.g. 4.41 or 24.11.10"
                    )))
                } else {
                    part.parse::<u64>().map_err(|_| {
                        ParseVersionError(format!("{text:?}: the part {part:?} is too large"))
                    })
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Version)
    }

    /// Reads a version as a session reports it (`slack_client_version`): each dotted part's
    /// leading digits (`4.29.149-beta` is 4.29.149); `None` when even the first part has none.
    pub fn of_session(text: &str) -> Option<Version> {
        let mut parts = Vec::new();
        for part in text.trim().split('.') {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            match digits.parse::<u64>() {
                Ok(n) => parts.push(n),
                Err(_) => break,
            }
            if digits.len() != part.len() {
                break; // `149-beta`: what follows the number is not part of the version
            }
        }
        (!parts.is_empty()).then_some(Version(parts))
    }

    /// Whether this version begins with `prefix`'s parts (`12.7.6` begins with `12`).
    pub fn starts_with(&self, prefix: &Version) -> bool {
        self.0.len() >= prefix.0.len() && self.0[..prefix.0.len()] == prefix.0[..]
    }

    /// The numbers, in order.
    pub fn parts(&self) -> &[u64] {
        &self.0
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.0.len().max(other.0.len());
        (0..len)
            .map(|i| {
                let a = self.0.get(i).copied().unwrap_or(0);
                let b = other.0.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

impl FromStr for Version {
    type Err = ParseVersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_compare_by_numbers() {
        assert!(v("4.9") < v("4.10"));
        assert!(v("4.10") == v("4.10.0"));
        assert!(v("4.41.105") > v("4.41"));
        assert!(v("24.11.10.0") > v("4.99"));
        assert_eq!(Version::of_session("4.29.149-beta"), Some(v("4.29.149")));
        assert_eq!(Version::of_session("beta"), None);
        assert_eq!(Version::of_session(""), None);
        for bad in ["", "4..1", "v4", "4.x", "4. 1"] {
            assert!(Version::parse(bad).is_err(), "{bad:?}");
        }
        assert!(
            Version::parse("4.99999999999999999999999")
                .unwrap_err()
                .to_string()
                .contains("too large")
        );
        assert!(v("12.7.6").starts_with(&v("12")));
        assert!(!v("1").starts_with(&v("1.2")));
        assert_eq!(v("4.010").to_string(), "4.10");
    }
}
