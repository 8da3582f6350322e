//! The counts of `sessions summary`: the sessions the filters find, counted by client kind, OS and version,
//! Slack client version, workspace and network (/24 for IPv4, /48 for IPv6, of the latest IP),
//! and the users with the most sessions. Counted as pages arrive: memory grows with the
//! number of distinct values and users, never with the number of sessions.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;
use slack_sessions_client::api::UserId;
use slack_sessions_client::methods::ActiveSession;

use crate::output::{Format, ListPrinter, col, thousands};
use slack_sessions_engine::filter::latest;
use slack_sessions_engine::users::Person;

/// The dimensions counted, with their names in JSON and CSV and their titles.
pub const DIMENSIONS: [(&str, &str); 5] = [
    ("client", "Client kind"),
    ("os", "OS and version"),
    ("slack_client_version", "Slack client version"),
    ("team", "Workspace"),
    ("network", "Network (/24, /48)"),
];

/// One value of a dimension and its count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The value (`web`, `OS X 14.6.1`, `198.51.100.0/24`, …).
    pub key: String,
    /// Sessions with it.
    pub sessions: u64,
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

/// The value of each dimension for a session.
pub fn keys(s: &ActiveSession) -> [String; 5] {
    let or_unknown = |v: Option<&str>| v.filter(|v| !v.is_empty()).unwrap_or("unknown").to_owned();
    let os = match (
        latest(s, |d| d.os.as_ref()),
        latest(s, |d| d.os_version.as_ref()),
    ) {
        (Some(os), Some(v)) => format!("{os} {v}"),
        (Some(os), None) => os.to_owned(),
        _ => "unknown".to_owned(),
    };
    [
        s.client_kind().to_string(),
        os,
        or_unknown(latest(s, |d| d.slack_client_version.as_ref())),
        s.team_id.to_string(),
        network_of(s),
    ]
}

/// Counts as sessions arrive.
#[derive(Debug, Default)]
pub struct Counter {
    sessions: u64,
    by: [HashMap<String, u64>; 5],
    users: HashMap<UserId, u64>,
}

fn sorted(map: &HashMap<String, u64>) -> Vec<Count> {
    let mut out: Vec<Count> = map
        .iter()
        .map(|(k, v)| Count {
            key: k.clone(),
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
            *map.entry(key).or_default() += 1;
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

    /// The summary, with the top users' names from `people`.
    pub fn finish(
        &self,
        filters: String,
        org_id: String,
        top: &[(UserId, u64)],
        people: &HashMap<UserId, Person>,
    ) -> Summary {
        let none = Person::default();
        Summary {
            filters,
            org_id,
            sessions: self.sessions,
            users: self.users.len() as u64,
            by: DIMENSIONS
                .iter()
                .zip(&self.by)
                .map(|((name, _), map)| ((*name).to_owned(), sorted(map)))
                .collect(),
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
                    let json =
                        serde_json::json!({"dimension": dim, "key": c.key, "sessions": c.sessions});
                    printer.push(
                        &json,
                        vec![
                            dim.clone(),
                            c.key.clone(),
                            String::new(),
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
            writeln!(
                out,
                "{} of {}{}",
                crate::output::plural(s.sessions as usize, "session", "sessions"),
                crate::output::plural(s.users as usize, "user", "users"),
                if s.filters.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", s.filters)
                }
            )?;
            for ((_, title), (_, counts)) in DIMENSIONS.iter().zip(&s.by) {
                writeln!(out)?;
                let headers = vec![title.to_uppercase(), "SESSIONS".into(), "SHARE".into()];
                let rows: Vec<Vec<String>> = counts
                    .iter()
                    .map(|c| {
                        vec![
                            c.key.clone(),
                            thousands(c.sessions as usize),
                            share(c.sessions, s.sessions),
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
    use slack_sessions_client::api::{SessionId, TeamId};
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
        let sum = c.finish(String::new(), "E1".into(), &top, &HashMap::new());
        assert_eq!(sum.sessions, 3);
        assert_eq!(sum.users, 2);
        let os = &sum.by[1].1;
        assert_eq!(os[0].key, "Windows 1");
        assert_eq!(os[0].sessions, 2);
        let nets = &sum.by[4].1;
        assert_eq!(nets[0].key, "10.0.0.0/24");
        assert_eq!(share(1, 3), "33.3%");
    }
}
