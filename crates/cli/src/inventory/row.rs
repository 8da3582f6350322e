//! One session as the list shows it: its columns (the same in a table and in CSV), its cells
//! and its JSON object. The client kind is called `client` everywhere: the flag, the table's
//! header, the CSV column and the JSON field.

use serde_json::{Map, Value};
use slack_sessions_client::methods::ActiveSession;

use crate::output::{Column, col};
use slack_sessions_engine::filter::latest;
use slack_sessions_engine::users::Person;

const ID: Column = col("SESSION", "session_id");
const USER: Column = col("USER", "user_id");
const NAME: Column = col("NAME", "name");
const EMAIL: Column = col("EMAIL", "email");
const REST: [Column; 8] = [
    col("TEAM", "team_id"),
    col("CLIENT", "client"),
    col("DEVICE", "device_hardware"),
    col("OS", "os"),
    col("OS VERSION", "os_version"),
    col("SLACK VERSION", "slack_client_version"),
    col("CREATED IP", "created_ip"),
    col("RECENT IP", "recent_ip"),
];

/// The columns of a session list, with or without the user's name and email.
pub fn columns(names: bool) -> Vec<Column> {
    let mut cols = vec![ID, USER];
    if names {
        cols.extend([NAME, EMAIL]);
    }
    cols.extend(REST);
    cols
}

/// A session's cells, in the order of [`columns`]. The device fields are the latest
/// (`recent`'s, else `created`'s); both IPs are kept (the recent one is empty when Slack
/// reports no change since the session began).
pub fn cells(s: &ActiveSession, person: Option<&Person>) -> Vec<String> {
    let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
    let mut out = vec![s.session_id.to_string(), s.user_id.to_string()];
    if let Some(p) = person {
        out.push(p.name.clone());
        out.push(p.email.clone().unwrap_or_default());
    }
    out.extend([
        s.team_id.to_string(),
        s.client_kind().to_string(),
        text(latest(s, |d| d.device_hardware.as_ref())),
        text(latest(s, |d| d.os.as_ref())),
        text(latest(s, |d| d.os_version.as_ref())),
        text(latest(s, |d| d.slack_client_version.as_ref())),
        text(s.created.ip.as_deref()),
        text(s.recent.as_ref().and_then(|r| r.ip.as_deref())),
    ]);
    out
}

/// A session's JSON object: Slack's fields (`created` and `recent` as Slack gives them), the
/// client kind, and the user's name and email unless left out.
pub fn json(s: &ActiveSession, person: Option<&Person>) -> Value {
    let mut map = Map::new();
    map.insert("session_id".into(), s.session_id.0.into());
    map.insert("user_id".into(), s.user_id.to_string().into());
    if let Some(p) = person {
        map.insert("name".into(), p.name.clone().into());
        map.insert(
            "email".into(),
            p.email.clone().map_or(Value::Null, Value::from),
        );
    }
    map.insert("team_id".into(), s.team_id.to_string().into());
    map.insert("client".into(), s.client_kind().as_str().into());
    map.insert(
        "created".into(),
        serde_json::to_value(&s.created).unwrap_or(Value::Null),
    );
    if let Some(recent) = &s.recent {
        map.insert(
            "recent".into(),
            serde_json::to_value(recent).unwrap_or(Value::Null),
        );
    }
    Value::Object(map)
}
