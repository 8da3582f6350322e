//! The request log: every API call, with the token left out, bounded in entries and bytes.
//!
//! Arguments are kept as compact JSON text, at most [`MAX_ARGS_BYTES`] of it per call: past that
//! an argument's value is replaced by a note of its size, so a junk request costs the log
//! a few kilobytes, not a copy of its body. The whole log keeps at most its capacity in
//! entries and [`MAX_BYTES`] in bytes; the oldest entries go first.

use std::collections::VecDeque;
use std::time::Instant;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::Who;

/// Most bytes of argument JSON kept per call (a `resetBulk` of 1,000 user ids takes ~15 KiB).
pub const MAX_ARGS_BYTES: usize = 32 * 1024;
/// Most bytes the request log keeps in all (the oldest entries go first).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// One API call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// Rising id.
    pub id: u64,
    /// The request id the answer carried in its `x-slack-req-id` header (a fault's answer
    /// too; a reset connection carried none), to join with a client's logs.
    #[serde(default)]
    pub request_id: String,
    /// When it arrived, in ms since the Unix epoch.
    pub at_ms: u64,
    /// The method name as requested.
    pub method: String,
    /// The token's org, if the token is known.
    pub org_id: Option<String>,
    /// The token's user, if the token is known.
    pub user_id: Option<String>,
    /// The decoded arguments; the token is never among them. A value past the per-call bound
    /// is replaced by the string `"<N bytes, not kept>"`.
    pub args: Map<String, Value>,
    /// Whether some argument values were not kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub args_truncated: bool,
    /// HTTP status answered (0: the connection was reset).
    pub status: u16,
    /// Slack error code answered, if any.
    pub error: Option<String>,
    /// The fault applied, if any.
    pub fault: Option<String>,
    /// Time to answer, in microseconds.
    pub duration_us: u64,
}

impl LoggedRequest {
    /// An entry for a call to `method` that arrived at `at_ms`.
    pub(crate) fn new(at_ms: u64, method: &str, request_id: &str) -> Self {
        LoggedRequest {
            id: 0,
            request_id: request_id.to_owned(),
            at_ms,
            // A method name is at most a few dozen characters; a junk one is cut.
            method: method.chars().take(128).collect(),
            org_id: None,
            user_id: None,
            args: Map::new(),
            args_truncated: false,
            status: 0,
            error: None,
            fault: None,
            duration_us: 0,
        }
    }

    /// Keeps `args`, within [`MAX_ARGS_BYTES`]. `user_ids` is kept as an array of ids however
    /// the request spelled it (a form's `W1,W2`, a JSON-array string, Python's `['W1']`).
    pub(crate) fn set_args(&mut self, args: &Map<String, Value>) {
        let mut used = 0;
        for (name, value) in args {
            let listed;
            let value = match value {
                Value::String(text) if name == "user_ids" => {
                    match slack_sessions_api::lenient::split_list(text) {
                        Ok(ids) => {
                            listed = Value::from(ids);
                            &listed
                        }
                        Err(_) => value,
                    }
                }
                _ => value,
            };
            let size = serde_json::to_string(value).map_or(0, |s| s.len()) + name.len();
            if used + size > MAX_ARGS_BYTES {
                self.args.insert(
                    name.clone(),
                    Value::String(format!("<{size} bytes, not kept>")),
                );
                self.args_truncated = true;
            } else {
                used += size;
                self.args.insert(name.clone(), value.clone());
            }
        }
    }

    /// Names the token's org and user.
    pub(crate) fn set_who(&mut self, who: Option<&Who>) {
        if let Some(who) = who {
            self.org_id = Some(who.org_id.clone());
            self.user_id = Some(who.user_id.clone());
        }
    }
}

/// Which entries to return.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RequestFilter {
    /// Only this method.
    pub method: Option<String>,
    /// Only entries at or after this time (ms since the Unix epoch).
    pub since: Option<u64>,
    /// Only this HTTP status.
    pub status: Option<u16>,
    /// Only entries with an id above this one (for paging).
    pub after: Option<u64>,
}

impl RequestFilter {
    /// Every entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only calls to `method`.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Only entries at or after `ms` since the Unix epoch.
    pub fn since(mut self, ms: u64) -> Self {
        self.since = Some(ms);
        self
    }

    /// Only answers with HTTP status `status`.
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Only entries after id `id`.
    pub fn after(mut self, id: u64) -> Self {
        self.after = Some(id);
        self
    }

    fn matches(&self, e: &LoggedRequest) -> bool {
        self.method.as_deref().is_none_or(|m| m == e.method)
            && self.since.is_none_or(|s| e.at_ms >= s)
            && self.status.is_none_or(|s| e.status == s)
            && self.after.is_none_or(|a| e.id > a)
    }
}

#[derive(Debug)]
struct Inner {
    next_id: u64,
    bytes: usize,
    entries: VecDeque<(usize, LoggedRequest)>,
}

/// A bounded request log: the oldest entries go first when it is full.
#[derive(Debug)]
pub struct RequestLog {
    capacity: usize,
    max_bytes: usize,
    inner: Mutex<Inner>,
}

/// What one entry costs, about: its argument JSON and its strings, plus the struct.
fn cost(e: &LoggedRequest) -> usize {
    let args: usize = e
        .args
        .iter()
        .map(|(k, v)| k.len() + serde_json::to_string(v).map_or(0, |s| s.len()))
        .sum();
    std::mem::size_of::<LoggedRequest>() + 64 + e.method.len() + args
}

impl RequestLog {
    /// A request log keeping at most `capacity` entries and `max_bytes` bytes.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        RequestLog {
            capacity,
            max_bytes,
            inner: Mutex::new(Inner {
                next_id: 1,
                bytes: 0,
                entries: VecDeque::new(),
            }),
        }
    }

    /// Records a call that started at `started` (its id is assigned here).
    pub(crate) fn record(&self, mut entry: LoggedRequest, started: Instant) {
        if self.capacity == 0 {
            return;
        }
        entry.duration_us = started.elapsed().as_micros() as u64;
        let size = cost(&entry);
        let mut inner = self.inner.lock();
        entry.id = inner.next_id;
        inner.next_id += 1;
        while !inner.entries.is_empty()
            && (inner.entries.len() >= self.capacity || inner.bytes + size > self.max_bytes)
        {
            if let Some((old, _)) = inner.entries.pop_front() {
                inner.bytes -= old;
            }
        }
        inner.bytes += size;
        inner.entries.push_back((size, entry));
    }

    /// The entries matching `filter`, oldest first, at most `limit`; and whether more match.
    pub fn page(&self, filter: &RequestFilter, limit: usize) -> (Vec<LoggedRequest>, bool) {
        let inner = self.inner.lock();
        let mut matching = inner
            .entries
            .iter()
            .map(|(_, e)| e)
            .filter(|e| filter.matches(e));
        let page: Vec<LoggedRequest> = matching.by_ref().take(limit).cloned().collect();
        let more = matching.next().is_some();
        (page, more)
    }

    /// Every entry matching `filter`, oldest first.
    pub fn list(&self, filter: &RequestFilter) -> Vec<LoggedRequest> {
        self.page(filter, usize::MAX).0
    }

    /// Forgets every entry, and gives their memory back.
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.entries = VecDeque::new();
        inner.bytes = 0;
    }

    /// The bytes the log accounts for now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.inner.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(args: Map<String, Value>) -> LoggedRequest {
        let mut e = LoggedRequest::new(0, "m", "r");
        e.set_args(&args);
        e
    }

    #[test]
    fn user_ids_are_kept_as_an_array_however_spelled() {
        for spelled in ["W1,W2", r#"["W1","W2"]"#, "['W1', 'W2']"] {
            let mut args = Map::new();
            args.insert("user_ids".into(), Value::String(spelled.into()));
            args.insert("team_id".into(), Value::String("T1,T2".into()));
            let e = entry(args);
            assert_eq!(
                e.args["user_ids"],
                serde_json::json!(["W1", "W2"]),
                "{spelled}"
            );
            assert_eq!(e.args["team_id"], "T1,T2", "other arguments as sent");
        }
        let mut args = Map::new();
        args.insert("user_ids".into(), serde_json::json!(["W3"]));
        assert_eq!(entry(args).args["user_ids"], serde_json::json!(["W3"]));
        let mut args = Map::new();
        args.insert("user_ids".into(), Value::String("[W1".into()));
        assert_eq!(entry(args).args["user_ids"], "[W1", "unreadable: as sent");
    }

    #[test]
    fn big_arguments_are_noted_not_kept() {
        let mut args = Map::new();
        args.insert("small".into(), Value::String("x".into()));
        args.insert("big".into(), Value::String("y".repeat(MAX_ARGS_BYTES * 2)));
        let e = entry(args);
        assert_eq!(e.args["small"], "x");
        assert!(
            e.args["big"]
                .as_str()
                .unwrap()
                .ends_with("bytes, not kept>")
        );
        assert!(e.args_truncated);
    }

    #[test]
    fn the_request_log_is_bounded_in_bytes_and_entries() {
        let j = RequestLog::new(1000, 200_000);
        let mut args = Map::new();
        args.insert("v".into(), Value::String("z".repeat(20_000)));
        for _ in 0..100 {
            j.record(entry(args.clone()), Instant::now());
        }
        assert!(j.bytes() <= 200_000, "{}", j.bytes());
        let (all, _) = j.page(&RequestFilter::new(), usize::MAX);
        assert!(
            all.len() < 10 && all.last().unwrap().id == 100,
            "newest kept"
        );

        let j = RequestLog::new(3, usize::MAX);
        for _ in 0..5 {
            j.record(entry(Map::new()), Instant::now());
        }
        let ids: Vec<u64> = j.list(&RequestFilter::new()).iter().map(|e| e.id).collect();
        assert_eq!(ids, [3, 4, 5]);
        let (page, more) = j.page(&RequestFilter::new().after(3), 1);
        assert_eq!((page[0].id, more), (4, true));
        j.clear();
        assert_eq!(j.bytes(), 0);
    }
}
