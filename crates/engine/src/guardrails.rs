//! The guardrails' memory: every action taken on a user in an org under one policy, kept
//! across runs in a ledger of its own, so that a cooldown or an hourly cap holds whatever
//! journal, audit log or process a run uses. The ledger lives in the state directory
//! (`$SLACK_SESSIONS_STATE_DIR`, else `$XDG_STATE_HOME/slack-sessions`, else
//! `~/.local/state/slack-sessions`), one file per org and policy, and is locked while a run
//! uses it: two runs acting under one policy at once are refused.
//!
//! An action is recorded as taken *before* its call is sent and voided once it is known not to
//! have taken effect, so a crash never lets one through uncounted. The ledger forgets what is
//! older than it needs (an hour of counts, a cooldown of actions), and is compacted as it grows.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use slack_sessions_client::api::UserId;

use crate::error::{Error, Result};
use crate::journal::{Header, Journal, Line, RunKind, now_ms, parse};
use crate::journaled::{Calls, Journaled, Replay};
use crate::org::Org;

/// The environment variable naming the state directory.
pub const STATE_DIR_ENV: &str = "SLACK_SESSIONS_STATE_DIR";

/// An hour, in ms: the window of the hourly cap.
pub const HOUR_MS: u64 = 3_600_000;

/// The state directory: `$SLACK_SESSIONS_STATE_DIR`, else `$XDG_STATE_HOME/slack-sessions`,
/// else `~/.local/state/slack-sessions`.
pub fn state_dir() -> Result<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var(STATE_DIR_ENV)
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("slack-sessions")))
        .or_else(|| var("HOME").map(|d| d.join(".local/state/slack-sessions")))
        .ok_or_else(|| Error::refused("no state directory: set SLACK_SESSIONS_STATE_DIR (or HOME)"))
}

/// A ledger's records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// An action on a user is about to be sent.
    Taken {
        /// Its number in the ledger.
        id: u64,
        /// The user.
        user_id: UserId,
        /// When.
        at_ms: u64,
    },
    /// The action `id` did not take effect (refused, or certainly not applied).
    Void {
        /// Its number.
        id: u64,
    },
    /// Actions taken within one second of the last hour (written by a compaction, which keeps
    /// the hourly cap's count without every action of the hour).
    Tally {
        /// The second (Unix time).
        second: u64,
        /// Actions taken in it.
        taken: u64,
    },
    /// An action within the cooldown window, already counted in a [`Record::Tally`] (written
    /// by a compaction).
    Recent {
        /// Its number in the ledger.
        id: u64,
        /// The user.
        user_id: UserId,
        /// When.
        at_ms: u64,
    },
    /// The last number given to an action (written by a compaction, which may keep none).
    Numbered {
        /// The number.
        last_id: u64,
    },
}

/// One action as the ledger keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Action {
    id: u64,
    user_id: UserId,
    at_ms: u64,
    void: bool,
}

/// What the guardrails need of the past: how many actions each second of the last hour took
/// (the hourly cap), and the actions within the longest cooldown (whom it holds). Both are
/// bounded by time, not by how long the run goes: a run of months keeps at most an hour of
/// counts and a cooldown of actions.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Actions taken per second (Unix time), oldest first, within the hour.
    tally: VecDeque<(u64, u64)>,
    /// Actions within the cooldown window, oldest first.
    recent: VecDeque<Action>,
    last_id: u64,
    cooldown_ms: u64,
}

impl Replay for History {
    type Record = Record;

    fn apply(&mut self, line: &Line<Record>, _: &Calls) {
        match line {
            Line::Run(Record::Taken { id, user_id, at_ms }) => {
                self.count(at_ms / 1000, 1);
                self.remember(*id, user_id, *at_ms);
            }
            Line::Run(Record::Recent { id, user_id, at_ms }) => {
                self.remember(*id, user_id, *at_ms);
            }
            Line::Run(Record::Tally { second, taken }) => self.count(*second, *taken),
            Line::Run(Record::Numbered { last_id }) => self.last_id = self.last_id.max(*last_id),
            Line::Run(Record::Void { id }) => {
                if let Some(a) = self.recent.iter_mut().rev().find(|a| a.id == *id) {
                    a.void = true;
                }
            }
            Line::Checkpoint { last_step, .. } => self.last_id = self.last_id.max(*last_step),
            _ => {}
        }
    }

    fn must_sync(_: &Record) -> bool {
        true
    }

    fn snapshot(&self, _: &Calls) -> Option<Vec<Line<Record>>> {
        let tally = self.tally.iter().map(|(second, taken)| {
            Line::Run(Record::Tally {
                second: *second,
                taken: *taken,
            })
        });
        let recent = self.recent.iter().flat_map(|a| {
            let kept = Line::Run(Record::Recent {
                id: a.id,
                user_id: a.user_id.clone(),
                at_ms: a.at_ms,
            });
            let void = a.void.then_some(Line::Run(Record::Void { id: a.id }));
            std::iter::once(kept).chain(void)
        });
        let numbered = Line::Run(Record::Numbered {
            last_id: self.last_id,
        });
        Some(
            std::iter::once(numbered)
                .chain(tally)
                .chain(recent)
                .collect(),
        )
    }

    fn emptied(&self) -> Self {
        History {
            cooldown_ms: self.cooldown_ms,
            ..History::default()
        }
    }
}

impl History {
    fn count(&mut self, second: u64, taken: u64) {
        match self.tally.back_mut() {
            Some((s, n)) if *s == second => *n += taken,
            _ => self.tally.push_back((second, taken)),
        }
        let hour_ago = second.saturating_sub(HOUR_MS / 1000);
        while self.tally.front().is_some_and(|(s, _)| *s < hour_ago) {
            self.tally.pop_front();
        }
    }

    fn remember(&mut self, id: u64, user_id: &UserId, at_ms: u64) {
        self.last_id = self.last_id.max(id);
        self.recent.push_back(Action {
            id,
            user_id: user_id.clone(),
            at_ms,
            void: false,
        });
        // A void arrives after its action, within seconds (or at the next start, which settles
        // what a stop left open): what is older than the cooldown holds no one.
        let since = at_ms.saturating_sub(self.cooldown_ms);
        while self.recent.front().is_some_and(|a| a.at_ms < since) {
            self.recent.pop_front();
        }
    }

    /// Actions taken (void or not: an action counts against a cap when it is sent) since
    /// `since_ms`, counted by the second: an action in the second `since_ms` falls in counts.
    pub fn taken_since(&self, since_ms: u64) -> u64 {
        let since = since_ms / 1000;
        self.tally
            .iter()
            .filter(|(s, _)| *s >= since)
            .map(|(_, n)| n)
            .sum()
    }

    /// When each user was last acted on with effect (or with an outcome still open), within
    /// the cooldown window.
    pub fn last_applied(&self) -> HashMap<&UserId, u64> {
        let mut last: HashMap<&UserId, u64> = HashMap::new();
        for a in self.recent.iter().filter(|a| !a.void) {
            let t = last.entry(&a.user_id).or_default();
            *t = (*t).max(a.at_ms);
        }
        last
    }

    /// When the oldest action counted by [`taken_since`](Self::taken_since)`(since_ms)` leaves
    /// an hourly window that starts at `since_ms` now: the ms at which the hourly cap frees a
    /// slot (`None` when no action is counted).
    pub fn frees_at(&self, since_ms: u64) -> Option<u64> {
        let since = since_ms / 1000;
        self.tally
            .iter()
            .find(|(s, n)| *s >= since && *n > 0)
            .map(|(s, _)| (s + 1) * 1000 + HOUR_MS)
    }

    /// The distinct users acted on with effect (or with an outcome still open) since
    /// `since_ms`, within the cooldown window: whom a circuit breaker counts.
    pub fn users_since(&self, since_ms: u64) -> HashSet<&UserId> {
        self.recent
            .iter()
            .filter(|a| !a.void && a.at_ms >= since_ms)
            .map(|a| &a.user_id)
            .collect()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.tally.is_empty() && self.recent.is_empty()
    }

    /// A history of `(user, at_ms, void)` actions with a cooldown window of an hour, for tests.
    #[cfg(test)]
    pub(crate) fn of(actions: &[(&str, u64, bool)]) -> History {
        let mut h = History {
            cooldown_ms: HOUR_MS,
            ..History::default()
        };
        for (i, (user, at_ms, void)) in actions.iter().enumerate() {
            h.count(at_ms / 1000, 1);
            h.remember(i as u64 + 1, &UserId::new(*user), *at_ms);
            h.recent.back_mut().expect("just pushed").void = *void;
        }
        h
    }
}

/// The ledger of an org under one policy.
#[derive(Debug)]
pub struct Ledger {
    run: Journaled<History>,
}

/// The ledger's file for `org` under the policy (or listener) `key`.
pub fn ledger_path(dir: &Path, org: &Org, key: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = crate::journal::hex(&Sha256::digest(key.as_bytes()));
    dir.join(format!("guardrails-{}-{}.journal", org.id, &digest[..16]))
}

fn header(org: &Org, key: &str, api_url: &str) -> Header {
    Header::new(
        RunKind::Guardrails,
        key,
        key.as_bytes(),
        BTreeMap::new(),
        org,
        api_url,
    )
}

/// Reads a ledger's lines and checks that it is of this org and API.
fn read(path: &Path, bytes: &[u8], org: &Org, api_url: &str) -> Result<Vec<Line<Record>>> {
    let (lines, _) = parse::<Record>(path, bytes)?;
    if let Some(Line::Start(h)) = lines.first()
        && (h.org_id != org.id.as_str() || h.api_url != api_url)
    {
        return Err(Error::refused(format!(
            "the guardrails ledger {} is of another org or API ({} at {})",
            path.display(),
            h.org_id,
            h.api_url
        )));
    }
    Ok(lines)
}

impl Ledger {
    /// Opens (and locks) the ledger of `org` under `key` in `dir`, keeping the actions of the
    /// last `cooldown_ms` (the longest cooldown) and an hour of counts.
    pub fn open(
        dir: &Path,
        org: &Org,
        key: &str,
        api_url: &str,
        cooldown_ms: u64,
    ) -> Result<Ledger> {
        create_dir(dir)?;
        let path = ledger_path(dir, org, key);
        let (mut journal, bytes) = Journal::open(&path)?;
        let mut lines = read(&path, &bytes, org, api_url)?;
        let header = match lines.first() {
            Some(Line::Start(h)) => h.clone(),
            _ => {
                let h = header(org, key, api_url);
                let start = Line::Start(h.clone());
                journal.append(&start, true)?;
                lines = vec![start];
                h
            }
        };
        let history = History {
            cooldown_ms,
            ..History::default()
        };
        let run = Journaled::with_state(Some(journal), header, history, &lines);
        let mut ledger = Ledger { run };
        ledger.compact()?;
        Ok(ledger)
    }

    /// The history of `org` under `key` without opening the ledger for writing (for a dry
    /// run, while a run may hold it).
    pub fn peek(
        dir: &Path,
        org: &Org,
        key: &str,
        api_url: &str,
        cooldown_ms: u64,
    ) -> Result<History> {
        let path = ledger_path(dir, org, key);
        let mut bytes = Vec::new();
        if let Some(mut file) = crate::files::open_existing(&path, "guardrails ledger")? {
            std::io::Read::read_to_end(&mut file, &mut bytes)
                .map_err(|e| Error::file("read", "guardrails ledger", &path, e))?;
        }
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let mut history = History {
            cooldown_ms,
            ..History::default()
        };
        let calls = Calls::default();
        for line in read(&path, &bytes[..whole], org, api_url)? {
            history.apply(&line, &calls);
        }
        Ok(history)
    }

    /// Records an action on `user` about to be sent; returns its number.
    pub fn taken(&mut self, user: &UserId) -> Result<u64> {
        let id = self.run.state.last_id + 1;
        self.run.run(Record::Taken {
            id,
            user_id: user.clone(),
            at_ms: now_ms(),
        })?;
        Ok(id)
    }

    /// Records that the action `id` did not take effect.
    pub fn void(&mut self, id: u64) -> Result<()> {
        self.run.run(Record::Void { id })
    }

    /// The history.
    pub fn history(&self) -> &History {
        &self.run.state
    }

    /// Rewrites the ledger with only what it needs, once it has grown.
    pub fn compact(&mut self) -> Result<bool> {
        self.run.compact()
    }
}

/// Creates the state directory (0700) if it is not there.
fn create_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::file("create", "state directory", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_sessions_client::methods::AuthTestResponse;

    fn org(id: &str) -> Org {
        let me: AuthTestResponse = serde_json::from_value(serde_json::json!({
            "ok": true, "url": "https://x/", "team": "X", "user": "admin",
            "team_id": "T1", "user_id": "W1", "enterprise_id": id
        }))
        .unwrap();
        Org::from(me)
    }

    #[test]
    fn actions_outlive_the_process_and_two_runs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (o, api) = (org("E1"), "http://127.0.0.1/api/");
        let mut l = Ledger::open(dir.path(), &o, "/p.toml", api, HOUR_MS).unwrap();
        let a = l.taken(&UserId::new("W2")).unwrap();
        let b = l.taken(&UserId::new("W3")).unwrap();
        l.void(b).unwrap();
        assert!(Ledger::open(dir.path(), &o, "/p.toml", api, HOUR_MS).is_err());
        drop(l);
        let l = Ledger::open(dir.path(), &o, "/p.toml", api, HOUR_MS).unwrap();
        let h = l.history();
        assert_eq!(h.taken_since(0), 2);
        let last = h.last_applied();
        assert!(last.contains_key(&UserId::new("W2")) && !last.contains_key(&UserId::new("W3")));
        assert_eq!(a, 1);
        let since = now_ms() - HOUR_MS;
        assert_eq!(
            h.users_since(0).into_iter().collect::<Vec<_>>(),
            [&UserId::new("W2")]
        );
        assert!(h.users_since(now_ms() + 1).is_empty());
        let frees = h.frees_at(since).unwrap();
        assert!(frees > now_ms() + HOUR_MS - 2_000 && frees <= now_ms() + HOUR_MS + 1_000);
        assert_eq!(h.frees_at(now_ms() + 2_000), None);
        let peeked = Ledger::peek(dir.path(), &o, "/p.toml", api, HOUR_MS).unwrap();
        assert_eq!(peeked.taken_since(0), 2);
        // Another policy, another org: other ledgers.
        let other = Ledger::open(dir.path(), &o, "/q.toml", api, HOUR_MS).unwrap();
        assert!(other.history().is_empty());
        assert!(
            Ledger::peek(dir.path(), &org("E2"), "/p.toml", api, HOUR_MS)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_compacted_ledger_keeps_counts_numbers_and_the_cooldowns_actions_only() {
        let dir = tempfile::tempdir().unwrap();
        let (o, api) = (org("E1"), "http://127.0.0.1/api/");
        let n = 3 * crate::journaled::COMPACT_AFTER as u64;
        let mut l = Ledger::open(dir.path(), &o, "/p.toml", api, 0).unwrap();
        for i in 0..n {
            let id = l.taken(&UserId::new(format!("W{}", i % 7))).unwrap();
            assert_eq!(id, i + 1, "numbers are never given twice");
            l.compact().unwrap();
        }
        let lines = |d: &Path| {
            let p = ledger_path(d, &o, "/p.toml");
            std::fs::read_to_string(p).unwrap().lines().count()
        };
        // With no cooldown, nothing but the counts of the hour is kept: far fewer lines than
        // actions, and the hourly cap still counts every action.
        assert!(lines(dir.path()) < crate::journaled::COMPACT_AFTER * 2);
        assert_eq!(l.history().taken_since(now_ms() - HOUR_MS), n);
        // (what the same millisecond took is within a cooldown of none)
        assert!((l.history().recent.len() as u64) < n / 10);
        drop(l);
        let mut l = Ledger::open(dir.path(), &o, "/p.toml", api, HOUR_MS).unwrap();
        assert_eq!(l.history().taken_since(now_ms() - HOUR_MS), n);
        assert_eq!(l.taken(&UserId::new("U1")).unwrap(), n + 1);
        // With a cooldown, the actions within it are kept through a compaction.
        let v = l.taken(&UserId::new("U2")).unwrap();
        l.void(v).unwrap();
        l.run.compact_after(1).unwrap();
        let last = l.history().last_applied();
        assert!(last.contains_key(&UserId::new("U1")) && !last.contains_key(&UserId::new("U2")));
        assert_eq!(l.history().taken_since(0), n + 2);
    }
}
