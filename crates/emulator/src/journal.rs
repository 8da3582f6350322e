//! The request journal: every API call, with the token left out.

use std::collections::VecDeque;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One API call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Rising id.
    pub id: u64,
    /// When it arrived, in ms since the Unix epoch.
    pub at_ms: u64,
    /// The method name as requested.
    pub method: String,
    /// The token's org, if the token is known.
    pub org_id: Option<String>,
    /// The token's user, if the token is known.
    pub user_id: Option<String>,
    /// The decoded arguments; the token is never among them.
    pub args: Map<String, Value>,
    /// HTTP status answered (0: the connection was reset).
    pub status: u16,
    /// Slack error code answered, if any.
    pub error: Option<String>,
    /// The fault applied, if any.
    pub fault: Option<String>,
    /// Time to answer, in microseconds.
    pub duration_us: u64,
}

/// Which entries to return.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JournalFilter {
    /// Only this method.
    pub method: Option<String>,
    /// Only entries at or after this time (ms since the Unix epoch).
    pub since: Option<u64>,
    /// Only this HTTP status.
    pub status: Option<u16>,
}

/// A bounded journal: the oldest entries go first when it is full.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    inner: Mutex<(u64, VecDeque<JournalEntry>)>,
}

impl Journal {
    /// A journal keeping at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Journal {
            capacity,
            inner: Mutex::new((1, VecDeque::new())),
        }
    }

    /// Records a call (its id is assigned here).
    pub fn record(&self, mut entry: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.inner.lock();
        entry.id = inner.0;
        inner.0 += 1;
        if inner.1.len() == self.capacity {
            inner.1.pop_front();
        }
        inner.1.push_back(entry);
    }

    /// The entries matching `filter`, oldest first.
    pub fn list(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        self.inner
            .lock()
            .1
            .iter()
            .filter(|e| filter.method.as_deref().is_none_or(|m| m == e.method))
            .filter(|e| filter.since.is_none_or(|s| e.at_ms >= s))
            .filter(|e| filter.status.is_none_or(|s| e.status == s))
            .cloned()
            .collect()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.inner.lock().1.clear();
    }
}
