//! Which sessions a run looks at: by network, OS, Slack client version, client kind and
//! workspace. Every filter is checked on each session as its page arrives, so nothing is kept.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use slack_sessions_client::Client;
use slack_sessions_client::api::TeamId;
use slack_sessions_client::methods::{ActiveSession, ClientKind, DeviceRecord, ListArgs};

/// A dotted version, compared part by part as numbers (`4.9` < `4.10`; `4.10` = `4.10.0`).
#[derive(Clone, Debug)]
pub struct Version(Vec<u64>);

impl Version {
    /// Parses a version given on the command line or in a policy: numbers separated by dots.
    pub fn parse(text: &str) -> Result<Version, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("a version is numbers separated by dots, e.g. 4.41 or 24.11.10".into());
        }
        text.split('.')
            .map(|part| {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    Err(format!(
                        "{text:?} is not a version: use numbers separated by dots, e.g. 4.41 or 24.11.10"
                    ))
                } else {
                    part.parse::<u64>()
                        .map_err(|_| format!("{text:?}: the part {part:?} is too large"))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Version)
    }

    /// Reads a version as a session reports it: each dotted part's leading digits
    /// (`4.29.149-beta` is 4.29.149); `None` when even the first part has none.
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
}

impl Version {
    /// Whether this version begins with `prefix`'s parts (`12.7.6` begins with `12`).
    pub fn starts_with(&self, prefix: &Version) -> bool {
        self.0.len() >= prefix.0.len() && self.0[..prefix.0.len()] == prefix.0[..]
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
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

/// Parses a network: `10.0.0.0/8`, `2001:db8::/32`, or one address (`/32` or `/128`). A network
/// with host bits set (`10.1.2.3/8`) is refused: which network was meant is not guessed.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    let net: IpNet = text.parse().map_err(|_| {
        format!("{text:?} is not a network: use CIDR notation, e.g. 10.0.0.0/8 or 2001:db8::/32")
    })?;
    if net.trunc() != net {
        return Err(format!(
            "{text:?} has host bits set: did you mean {}?",
            net.trunc()
        ));
    }
    Ok(net)
}

/// A field of the device as last seen: `recent`'s when it has it, else `created`'s.
pub fn latest<'a>(
    s: &'a ActiveSession,
    field: impl Fn(&'a DeviceRecord) -> Option<&'a String>,
) -> Option<&'a str> {
    s.recent
        .as_ref()
        .and_then(&field)
        .or_else(|| field(&s.created))
        .map(String::as_str)
}

/// Sessions counted by client kind, for a summary line: `3 mobile, 2 desktop, 1 web`.
#[derive(Clone, Debug, Default)]
pub struct KindCounts(std::collections::BTreeMap<ClientKind, usize>);

impl KindCounts {
    /// Counts one session.
    pub fn add(&mut self, s: &ActiveSession) {
        *self.0.entry(s.client_kind()).or_default() += 1;
    }
}

impl<'a> FromIterator<&'a ActiveSession> for KindCounts {
    fn from_iter<I: IntoIterator<Item = &'a ActiveSession>>(iter: I) -> Self {
        let mut counts = KindCounts::default();
        iter.into_iter().for_each(|s| counts.add(s));
        counts
    }
}

impl fmt::Display for KindCounts {
    /// Each kind met, in the order mobile, desktop, web, unknown; `no sessions` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no sessions");
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(kind, n)| format!("{} {kind}", crate::text::thousands(*n)))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// The sessions asked for.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Networks: the created or recent IP in any of them.
    pub networks: Vec<IpNet>,
    /// OS names, lower-case: the latest OS is one of them.
    pub os: Vec<String>,
    /// The latest Slack client version is below this one.
    pub client_version_below: Option<Version>,
    /// Mobile, desktop app or browser.
    pub client: Option<ClientKind>,
    /// One workspace (or the org id for org-level sessions).
    pub team: Option<TeamId>,
}

impl Filter {
    /// Whether no filter is set (every session matches).
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
            && self.os.is_empty()
            && self.client_version_below.is_none()
            && self.client.is_none()
            && self.team.is_none()
    }

    /// Whether a session passes every filter.
    pub fn matches(&self, s: &ActiveSession) -> bool {
        if self.team.as_ref().is_some_and(|t| *t != s.team_id) {
            return false;
        }
        if self.client.is_some_and(|c| c != s.client_kind()) {
            return false;
        }
        if !self.networks.is_empty() && !self.in_networks(s) {
            return false;
        }
        if !self.os.is_empty() {
            let os = latest(s, |d| d.os.as_ref()).map(str::to_lowercase);
            if !os.is_some_and(|os| self.os.contains(&os)) {
                return false;
            }
        }
        if let Some(below) = &self.client_version_below {
            let version =
                latest(s, |d| d.slack_client_version.as_ref()).and_then(Version::of_session);
            if version.is_none_or(|v| v >= *below) {
                return false;
            }
        }
        true
    }

    fn in_networks(&self, s: &ActiveSession) -> bool {
        let ips = [Some(&s.created), s.recent.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|d| d.ip.as_deref())
            .filter_map(|ip| ip.trim().parse::<IpAddr>().ok());
        ips.into_iter()
            .any(|ip| self.networks.iter().any(|n| n.contains(&ip)))
    }

    /// The filters by flag (`--os` → `windows`), for a run's identity.
    pub fn options(&self) -> std::collections::BTreeMap<String, String> {
        let mut o = std::collections::BTreeMap::new();
        let mut put = |flag: &str, values: Vec<String>| {
            if !values.is_empty() {
                o.insert(flag.to_owned(), values.join(" "));
            }
        };
        put(
            "--team",
            self.team.iter().map(ToString::to_string).collect(),
        );
        put(
            "--client",
            self.client.iter().map(ToString::to_string).collect(),
        );
        put(
            "--ip",
            self.networks.iter().map(ToString::to_string).collect(),
        );
        put("--os", self.os.clone());
        put(
            "--client-version-below",
            self.client_version_below
                .iter()
                .map(ToString::to_string)
                .collect(),
        );
        o
    }

    /// The filters as command-line flags, in a fixed order (`--ip 10.0.0.0/8 --os windows`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.team {
            parts.push(format!("--team {t}"));
        }
        if let Some(c) = self.client {
            parts.push(format!("--client {c}"));
        }
        for n in &self.networks {
            parts.push(format!("--ip {n}"));
        }
        for os in &self.os {
            parts.push(format!("--os {os}"));
        }
        if let Some(v) = &self.client_version_below {
            parts.push(format!("--client-version-below {v}"));
        }
        parts.join(" ")
    }
}

/// Walks the sessions of `list` (the org's, or one user's), calling `each` with every one that
/// passes `filter`, as pages arrive; `each` returns `false` to stop the walk.
/// `E`: the caller's error, which a failed list call converts into.
pub async fn walk<E: From<crate::Error>>(
    client: &Client,
    filter: &Filter,
    list: ListArgs,
    mut each: impl AsyncFnMut(ActiveSession) -> Result<bool, E>,
) -> Result<(), E> {
    use futures::TryStreamExt;
    let mut sessions = client.list_sessions(list);
    while let Some(s) = sessions
        .try_next()
        .await
        .map_err(|e| E::from(crate::Error::slack("cannot list sessions", e)))?
    {
        if filter.matches(&s) && !each(s).await? {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_sessions_client::api::{SessionId, UserId};

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
    }

    #[test]
    fn networks_are_parsed_strictly() {
        assert_eq!(
            parse_network("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_network("203.0.113.9").unwrap().to_string(),
            "203.0.113.9/32"
        );
        assert_eq!(
            parse_network("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        let err = parse_network("10.1.2.3/8").unwrap_err();
        assert!(err.contains("did you mean 10.0.0.0/8"), "{err}");
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("office").is_err());
    }

    fn session(created: DeviceRecord, recent: Option<DeviceRecord>) -> ActiveSession {
        ActiveSession::new(
            UserId::new("W1"),
            TeamId::new("T1"),
            SessionId(1),
            created,
            recent,
        )
    }

    #[test]
    fn a_network_matches_the_created_or_the_recent_ip() {
        let created = DeviceRecord::new("x", "Windows", "11", "4.9.1", "10.1.2.3");
        let recent = DeviceRecord::new("x", "Windows", "11", "4.10.2", "2001:db8::7");
        let s = session(created, Some(recent));
        let f = |nets: &[&str]| Filter {
            networks: nets.iter().map(|n| parse_network(n).unwrap()).collect(),
            ..Filter::default()
        };
        assert!(f(&["10.0.0.0/8"]).matches(&s));
        assert!(f(&["2001:db8::/32"]).matches(&s));
        assert!(f(&["192.168.0.0/16", "2001:db8::/48"]).matches(&s));
        assert!(!f(&["192.168.0.0/16"]).matches(&s));
        // The version and the OS are the recent ones.
        let below = |x: &str| Filter {
            client_version_below: Some(v(x)),
            ..Filter::default()
        };
        assert!(!below("4.10").matches(&s));
        assert!(below("4.11").matches(&s));
        let os = Filter {
            os: vec!["windows".into()],
            ..Filter::default()
        };
        assert!(os.matches(&s));
    }

    #[test]
    fn a_session_without_a_version_is_not_below_any() {
        let s = session(DeviceRecord::default(), None);
        let f = Filter {
            client_version_below: Some(v("99")),
            ..Filter::default()
        };
        assert!(!f.matches(&s));
        assert!(Filter::default().matches(&s));
    }
}
