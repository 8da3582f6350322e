//! Which sessions a run looks at: by network, OS, Slack client version, client kind and
//! workspace. Every filter is checked on each session as its page arrives, so nothing is kept.

use std::fmt;

use slack_sessions_client::Client;
use slack_sessions_client::api::{CompactString, TeamId};
pub use slack_sessions_client::api::{Network, Version, parse_network};
use slack_sessions_client::methods::{ActiveSession, ClientKind, DeviceRecord, ListArgs};

/// A field of the device as last seen: `recent`'s when it has it, else `created`'s.
pub fn latest<'a>(
    s: &'a ActiveSession,
    field: impl Fn(&'a DeviceRecord) -> Option<&'a CompactString>,
) -> Option<&'a str> {
    s.recent
        .as_ref()
        .and_then(&field)
        .or_else(|| field(&s.created))
        .map(CompactString::as_str)
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
    pub networks: Vec<Network>,
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
        if !self.networks.is_empty() && !self.networks.iter().any(|n| s.in_network(n)) {
            return false;
        }
        if !self.os.is_empty() {
            let os = latest(s, |d| d.os.as_ref()).map(str::to_lowercase);
            if !os.is_some_and(|os| self.os.contains(&os)) {
                return false;
            }
        }
        if let Some(below) = &self.client_version_below
            && s.client_version().is_none_or(|v| v >= *below)
        {
            return false;
        }
        true
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
