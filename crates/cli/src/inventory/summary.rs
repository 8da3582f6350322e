//! The counts of `sessions summary`: the sessions the filters find, counted by client kind,
//! OS and version, the version of each kind of client apart (the desktop app's, the mobile
//! app's, the browser's: a browser's `132.0` is not a Slack version), workspace (named where
//! its name is known) and network (/24 for IPv4, /48 for IPv6, of the latest IP), and the
//! users with the most sessions. Counted as pages arrive: memory grows with the number of
//! distinct values and users, never with the number of sessions.
//!
//! For people (the table and the HTML page) each dimension shows its [`SHOWN`] largest values
//! and adds up the rest as one `other (N values)` line, the same in both ([`for_people`]);
//! JSON and CSV, for programs, keep every value.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;
use slack_sessions_client::api::{TeamId, UserId};
use slack_sessions_client::methods::{ActiveSession, ClientKind};

use crate::output::{Format, ListPrinter, col, thousands};
use slack_sessions_engine::filter::latest;
use slack_sessions_engine::users::Person;

/// The dimensions counted, with their names in JSON and CSV and their titles.
pub const DIMENSIONS: [(&str, &str); 7] = [
    ("client", "Client kind"),
    ("os", "OS and version"),
    ("desktop_version", "Slack desktop app version"),
    ("mobile_version", "Slack mobile app version"),
    ("browser_version", "Browser version (web sessions)"),
    ("team", "Workspace"),
    ("network", "Network (/24, /48)"),
];

/// The dimension of workspaces (its counts carry the workspaces' names).
const TEAM: usize = 5;

/// The values of a dimension a table or a chart shows; the rest are added up in one line.
pub const SHOWN: usize = 15;

/// One value of a dimension and its count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The value (`web`, `OS X 14.6.1`, `198.51.100.0/24`, …).
    pub key: String,
    /// Its name, where the value is an id with one (a workspace's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Sessions with it.
    pub sessions: u64,
}

impl Count {
    /// The value as people read it: `Acme Sales (T0DEMOSAL1)`, or the value.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.key),
            None => self.key.clone(),
        }
    }
}

/// The counts people are shown: the [`SHOWN`] largest, then the rest added up as
/// `other (N values)`.
pub fn for_people(counts: &[Count]) -> Vec<Count> {
    let mut out: Vec<Count> = counts.iter().take(SHOWN).cloned().collect();
    if counts.len() > SHOWN {
        out.push(Count {
            key: format!("other ({} values)", thousands(counts.len() - SHOWN)),
            name: None,
            sessions: counts[SHOWN..].iter().map(|c| c.sessions).sum(),
        });
    }
    out
}

/// A user with many sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopUser {
    /// The user.
    pub user_id: String,
    /// Their name (empty with `--no-names`).
    pub name: String,
    /// Their email.
    pub email: String,
    /// Their sessions.
    pub sessions: u64,
}

/// The summary.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The filters, as flags (empty: every session).
    pub filters: String,
    /// The org.
    pub org_id: String,
    /// Sessions found.
    pub sessions: u64,
    /// Their users.
    pub users: u64,
    /// Counts by dimension, in the order of [`DIMENSIONS`], each largest first.
    pub by: Vec<(String, Vec<Count>)>,
    /// Users with the most sessions.
    pub top_users: Vec<TopUser>,
}

/// The network a session's latest IP is in: its /24 (IPv4) or /48 (IPv6).
pub fn network_of(s: &ActiveSession) -> String {
    let ip = latest(s, |d| d.ip.as_ref()).and_then(|ip| ip.trim().parse::<IpAddr>().ok());
    let net = match ip {
        Some(IpAddr::V4(v4)) => Ipv4Net::new(v4, 24).map(|n| IpNet::V4(n.trunc())).ok(),
        Some(IpAddr::V6(v6)) => Ipv6Net::new(v6, 48).map(|n| IpNet::V6(n.trunc())).ok(),
        None => None,
    };
    net.map_or_else(|| "unknown".to_owned(), |n| n.to_string())
}

/// The value of each dimension for a session: `None` for the version of a kind of client it
/// is not (a session counts in one version chart at most; one of unknown kind has no version).
pub fn keys(s: &ActiveSession) -> [Option<String>; 7] {
    let or_unknown = |v: Option<&str>| v.filter(|v| !v.is_empty()).unwrap_or("unknown").to_owned();
    let os = match (
        latest(s, |d| d.os.as_ref()),
        latest(s, |d| d.os_version.as_ref()),
    ) {
        (Some(os), Some(v)) => format!("{os} {v}"),
        (Some(os), None) => os.to_owned(),
        _ => "unknown".to_owned(),
    };
    let kind = s.client_kind();
    let version = |of: ClientKind| {
        (kind == of).then(|| or_unknown(latest(s, |d| d.slack_client_version.as_ref())))
    };
    [
        Some(kind.to_string()),
        Some(os),
        version(ClientKind::Desktop),
        version(ClientKind::Mobile),
        version(ClientKind::Web),
        Some(s.team_id.to_string()),
        Some(network_of(s)),
    ]
}

/// Counts as sessions arrive.
#[derive(Debug, Default)]
pub struct Counter {
    sessions: u64,
    by: [HashMap<String, u64>; 7],
    users: HashMap<UserId, u64>,
}

fn sorted(map: &HashMap<String, u64>) -> Vec<Count> {
    let mut out: Vec<Count> = map
        .iter()
        .map(|(k, v)| Count {
            key: k.clone(),
            name: None,
            sessions: *v,
        })
        .collect();
    out.sort_by(|a, b| b.sessions.cmp(&a.sessions).then_with(|| a.key.cmp(&b.key)));
    out
}

impl Counter {
    /// Counts one session.
    pub fn add(&mut self, s: &ActiveSession) {
        self.sessions += 1;
        for (map, key) in self.by.iter_mut().zip(keys(s)) {
            if let Some(key) = key {
                *map.entry(key).or_default() += 1;
            }
        }
        *self.users.entry(s.user_id.clone()).or_default() += 1;
    }

    /// The users with the most sessions (ties by id), at most `n`.
    pub fn top(&self, n: usize) -> Vec<(UserId, u64)> {
        let mut users: Vec<(&UserId, &u64)> = self.users.iter().collect();
        users.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.as_str().cmp(b.0.as_str())));
        users
            .into_iter()
            .take(n)
            .map(|(u, c)| (u.clone(), *c))
            .collect()
    }

    /// The summary, with the top users' names from `people` and the workspaces' from `teams`.
    pub fn finish(
        &self,
        filters: String,
        org_id: String,
        top: &[(UserId, u64)],
        people: &HashMap<UserId, Person>,
        teams: &HashMap<TeamId, String>,
    ) -> Summary {
        let none = Person::default();
        let mut by: Vec<(String, Vec<Count>)> = DIMENSIONS
            .iter()
            .zip(&self.by)
            .map(|((name, _), map)| ((*name).to_owned(), sorted(map)))
            .collect();
        for c in &mut by[TEAM].1 {
            c.name = teams
                .get(&TeamId::new(c.key.as_str()))
                .filter(|n| !n.is_empty())
                .cloned();
        }
        Summary {
            filters,
            org_id,
            sessions: self.sessions,
            users: self.users.len() as u64,
            by,
            top_users: top
                .iter()
                .map(|(u, n)| {
                    let p = people.get(u).unwrap_or(&none);
                    TopUser {
                        user_id: u.to_string(),
                        name: p.name.clone(),
                        email: p.email.clone().unwrap_or_default(),
                        sessions: *n,
                    }
                })
                .collect(),
        }
    }
}

/// The summary as JSON: an object with one array per dimension.
pub fn to_json(s: &Summary) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    map.insert("filters".into(), s.filters.clone().into());
    map.insert("org_id".into(), s.org_id.clone().into());
    map.insert("sessions".into(), s.sessions.into());
    map.insert("users".into(), s.users.into());
    for (name, counts) in &s.by {
        map.insert(
            format!("by_{name}"),
            serde_json::to_value(counts).unwrap_or_default(),
        );
    }
    map.insert(
        "top_users".into(),
        serde_json::to_value(&s.top_users).unwrap_or_default(),
    );
    serde_json::Value::Object(map)
}

const CSV_COLUMNS: [crate::output::Column; 5] = [
    col("DIMENSION", "dimension"),
    col("KEY", "key"),
    col("NAME", "name"),
    col("EMAIL", "email"),
    col("SESSIONS", "sessions"),
];

/// Prints the summary in a format.
pub fn print(s: &Summary, format: Format, out: &mut impl std::io::Write) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &to_json(s)).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Ndjson | Format::Csv => {
            let mut printer = ListPrinter::new(format, &CSV_COLUMNS, &mut *out);
            let total = [
                ("total", "sessions", s.sessions),
                ("total", "users", s.users),
            ];
            for (dim, key, n) in total {
                let json = serde_json::json!({"dimension": dim, "key": key, "sessions": n});
                printer.push(
                    &json,
                    vec![
                        dim.into(),
                        key.into(),
                        String::new(),
                        String::new(),
                        n.to_string(),
                    ],
                )?;
            }
            for (dim, counts) in &s.by {
                for c in counts {
                    let mut json =
                        serde_json::json!({"dimension": dim, "key": c.key, "sessions": c.sessions});
                    if let Some(name) = &c.name {
                        json["name"] = name.as_str().into();
                    }
                    printer.push(
                        &json,
                        vec![
                            dim.clone(),
                            c.key.clone(),
                            c.name.clone().unwrap_or_default(),
                            String::new(),
                            c.sessions.to_string(),
                        ],
                    )?;
                }
            }
            for u in &s.top_users {
                let json = serde_json::json!({"dimension": "user", "key": u.user_id,
                    "name": u.name, "email": u.email, "sessions": u.sessions});
                printer.push(
                    &json,
                    vec![
                        "user".into(),
                        u.user_id.clone(),
                        u.name.clone(),
                        u.email.clone(),
                        u.sessions.to_string(),
                    ],
                )?;
            }
            printer.finish(None, "")?;
        }
        Format::Table => {
            let filters = if s.filters.is_empty() {
                String::new()
            } else {
                format!(" ({})", crate::output::visible(&s.filters))
            };
            writeln!(out, "{}{filters}", headline(s))?;
            for ((_, title), (_, counts)) in DIMENSIONS.iter().zip(&s.by) {
                if counts.is_empty() {
                    continue;
                }
                writeln!(out)?;
                let headers = vec![title.to_uppercase(), "SESSIONS".into(), "SHARE".into()];
                let total = total(counts);
                let rows: Vec<Vec<String>> = for_people(counts)
                    .iter()
                    .map(|c| {
                        vec![
                            c.label(),
                            thousands(c.sessions as usize),
                            share(c.sessions, total),
                        ]
                    })
                    .collect();
                out.write_all(crate::output::render_table(&headers, &rows).as_bytes())?;
            }
            if !s.top_users.is_empty() {
                writeln!(out)?;
                let headers = vec![
                    "USER".into(),
                    "NAME".into(),
                    "EMAIL".into(),
                    "SESSIONS".into(),
                ];
                let rows: Vec<Vec<String>> = s
                    .top_users
                    .iter()
                    .map(|u| {
                        vec![
                            u.user_id.clone(),
                            u.name.clone(),
                            u.email.clone(),
                            thousands(u.sessions as usize),
                        ]
                    })
                    .collect();
                out.write_all(crate::output::render_table(&headers, &rows).as_bytes())?;
            }
        }
    }
    out.flush()
}

/// What the summary counts, in words: `176 sessions of 46 users`.
pub fn headline(s: &Summary) -> String {
    format!(
        "{} of {}",
        crate::output::plural(s.sessions as usize, "session", "sessions"),
        crate::output::plural(s.users as usize, "user", "users"),
    )
}

/// The sessions a dimension counts: all of them, but for a version chart, the sessions of
/// its kind of client (a share there is of those).
pub fn total(counts: &[Count]) -> u64 {
    counts.iter().map(|c| c.sessions).sum()
}

/// `12` of `48` as `25.0%`.
pub fn share(n: u64, total: u64) -> String {
    if total == 0 {
        return "0%".into();
    }
    format!("{:.1}%", n as f64 * 100.0 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_sessions_client::api::SessionId;
    use slack_sessions_client::methods::DeviceRecord;

    fn s(id: u64, user: &str, ip: &str, os: &str) -> ActiveSession {
        ActiveSession::new(
            UserId::new(user),
            TeamId::new("T1"),
            SessionId(id),
            DeviceRecord::new("hw", os, "1", "4.41.0", ip),
            None,
        )
    }

    #[test]
    fn networks_are_slash_24_and_slash_48() {
        assert_eq!(
            network_of(&s(1, "W1", "198.51.100.77", "iOS")),
            "198.51.100.0/24"
        );
        assert_eq!(
            network_of(&s(1, "W1", "2001:db8:aa:bb::1", "iOS")),
            "2001:db8:aa::/48"
        );
        assert_eq!(network_of(&s(1, "W1", "nonsense", "iOS")), "unknown");
    }

    #[test]
    fn counts_are_sorted_largest_first() {
        let mut c = Counter::default();
        c.add(&s(1, "W1", "10.0.0.1", "iOS"));
        c.add(&s(2, "W1", "10.0.0.2", "Windows"));
        c.add(&s(3, "W2", "10.0.1.2", "Windows"));
        let top = c.top(1);
        assert_eq!(top, vec![(UserId::new("W1"), 2)]);
        let teams = HashMap::from([(TeamId::new("T1"), "Sales".to_owned())]);
        let sum = c.finish(String::new(), "E1".into(), &top, &HashMap::new(), &teams);
        assert_eq!(sum.sessions, 3);
        assert_eq!(sum.users, 2);
        assert_eq!(headline(&sum), "3 sessions of 2 users");
        let os = &sum.by[1].1;
        assert_eq!(os[0].key, "Windows 1");
        assert_eq!(os[0].sessions, 2);
        let nets = &sum.by[6].1;
        assert_eq!(nets[0].key, "10.0.0.0/24");
        assert_eq!(share(1, 3), "33.3%");
        assert_eq!(sum.by[TEAM].1[0].label(), "Sales (T1)");
    }

    #[test]
    fn each_kind_of_client_has_its_own_versions() {
        let mut c = Counter::default();
        c.add(&s(1, "W1", "10.0.0.1", "Windows")); // 4.41.0: the desktop app
        let mut web = s(2, "W1", "10.0.0.1", "Windows");
        web.created.slack_client_version = Some("132.0".into());
        c.add(&web);
        c.add(&s(3, "W2", "10.0.0.1", "iOS")); // the mobile app's 4.41.0
        let mut none = s(4, "W2", "10.0.0.1", "Linux");
        none.created.slack_client_version = None;
        c.add(&none);
        let sum = c.finish(
            String::new(),
            "E1".into(),
            &[],
            &HashMap::new(),
            &HashMap::new(),
        );
        let keys =
            |i: usize| -> Vec<String> { sum.by[i].1.iter().map(|c| c.key.clone()).collect() };
        assert_eq!(sum.by[2].0, "desktop_version");
        assert_eq!(keys(2), ["4.41.0"]);
        assert_eq!(keys(3), ["4.41.0"]);
        assert_eq!(keys(4), ["132.0"], "a browser's version is not Slack's");
        assert_eq!(total(&sum.by[4].1), 1);
    }

    #[test]
    fn people_see_the_largest_values_and_the_rest_added_up() {
        let counts: Vec<Count> = (0..20)
            .map(|i| Count {
                key: format!("k{i}"),
                name: None,
                sessions: 20 - i,
            })
            .collect();
        let shown = for_people(&counts);
        assert_eq!(shown.len(), SHOWN + 1);
        assert_eq!(shown[SHOWN].key, "other (5 values)");
        assert_eq!(shown[SHOWN].sessions, 5 + 4 + 3 + 2 + 1);
        assert_eq!(for_people(&counts[..SHOWN]).len(), SHOWN);
    }
}
