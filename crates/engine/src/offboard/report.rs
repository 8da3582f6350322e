//! The offboarding's report: one row per input line (comments, blank lines and the header
//! aside): what was written, the user, what was done, the result and the sessions left.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use slack_sessions_client::api::UserId;

use super::Hold;
use super::input::{Entry, Kind, UserColumn};
use super::state::{State, UserState};
use crate::calls::code_detail;
use crate::journaled::Calls;
use crate::report::{Column, Status, col};

/// One row of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    /// Line number in the input.
    pub line: u64,
    /// As written.
    pub input: String,
    /// The user, when known.
    pub user_id: Option<UserId>,
    /// What was done: `resetBulk`, `reset`, `lookup`, `none`.
    pub action: String,
    /// The result.
    pub result: Status,
    /// Sessions (of the run's kind) left, when counted.
    pub sessions_left: Option<u64>,
    /// Why, in words.
    pub detail: String,
    /// The user's account was deactivated before the run (Slack ended its sessions then): the
    /// detail says so; kept apart for a summary that names them.
    #[serde(skip)]
    pub deactivated: bool,
}

/// How the run was set up, for the wording of the report.
#[derive(Clone, Debug)]
pub(crate) struct Setup {
    /// The method used to reset (`resetBulk`, `reset`).
    pub method: &'static str,
    /// Sessions are counted after the reset (no `--no-verify`).
    pub verified: bool,
    /// The verification timeout, as written.
    pub verify_timeout: String,
    /// A dry run: the plan, with each user's call number and current sessions.
    pub forecast: Option<Forecast>,
}

/// What a dry run would do.
#[derive(Clone, Debug, Default)]
pub(crate) struct Forecast {
    /// For each user to reset, its call (1-based) and the number of calls.
    pub call_of: HashMap<UserId, (usize, usize)>,
    /// Sessions each user has now.
    pub sessions_now: HashMap<UserId, u64>,
    /// Users the dry run's list calls found Slack would refuse, with the code a reset gets.
    pub refused: HashMap<UserId, &'static str>,
}

/// A method's name without `admin.users.session.` (`reset`, `resetBulk`), for reports.
pub fn short(method: &str) -> String {
    method.trim_start_matches("admin.users.session.").to_owned()
}

/// Builds the report's rows.
pub(crate) fn build(
    entries: &[Entry],
    state: &State,
    calls: &Calls,
    hold: &dyn Fn(&UserId) -> Option<Hold>,
    setup: &Setup,
) -> Vec<Line> {
    let mut first_line: HashMap<UserId, u64> = HashMap::new();
    let mut lines = Vec::with_capacity(entries.len());
    for e in entries {
        let (user, not_found) = match &e.kind {
            Kind::Invalid(why) => {
                lines.push(Line {
                    line: e.line,
                    input: e.text.clone(),
                    user_id: None,
                    action: "none".into(),
                    result: Status::Invalid,
                    sessions_left: None,
                    detail: why.clone(),
                    deactivated: false,
                });
                continue;
            }
            Kind::Id(id) => (Some(id.clone()), None),
            Kind::Email(email) => {
                let key = email.to_ascii_lowercase();
                match state.resolved.get(&key) {
                    Some(Some(id)) => (Some(id.clone()), None),
                    Some(None) => (None, Some(not_found_detail(state.unlisted.contains(&key)))),
                    None => (None, None),
                }
            }
        };
        let Some(user) = user else {
            lines.push(Line {
                line: e.line,
                input: e.text.clone(),
                user_id: None,
                action: "lookup".into(),
                result: if not_found.is_some() {
                    Status::NotFound
                } else {
                    Status::Pending
                },
                sessions_left: None,
                detail: not_found.unwrap_or_else(|| {
                    "not looked up yet; run the same command again to resume".into()
                }),
                deactivated: false,
            });
            continue;
        };
        let mut line = user_line(e, &user, state, calls, hold(&user), setup);
        if state.facts.get(&user).is_some_and(|f| f.deleted) {
            line.deactivated = true;
            line.detail = format!(
                "already deactivated (Slack ended its sessions then); {}",
                line.detail
            );
        }
        match first_line.get(&user) {
            Some(first) => {
                line.detail = format!("same user as line {first}; {}", line.detail);
            }
            None => {
                first_line.insert(user.clone(), e.line);
            }
        }
        lines.push(line);
    }
    lines
}

/// Why an email address names nobody. `listed`: the org's user list, which holds deactivated
/// users too, was checked; otherwise only Slack's lookup answered, and it answers
/// `users_not_found` for a deactivated account as well ("If the user has been deactivated,
/// users_not_found will be returned instead").
fn not_found_detail(listed: bool) -> String {
    if listed {
        "users_not_found: no active or deactivated Slack user has this email address".into()
    } else {
        "users_not_found: no active Slack user has this email address (a deactivated account \
         gets the same answer)"
            .into()
    }
}

fn user_line(
    e: &Entry,
    user: &UserId,
    state: &State,
    calls: &Calls,
    hold: Option<Hold>,
    setup: &Setup,
) -> Line {
    let line = |action: &str, result, sessions_left, detail: String| Line {
        line: e.line,
        input: e.text.clone(),
        user_id: Some(user.clone()),
        action: action.to_owned(),
        result,
        sessions_left,
        detail,
        deactivated: false,
    };
    let method = short(setup.method);
    match state.of(user, calls) {
        UserState::Verified { sessions_left: 0 } => {
            line(&method, Status::Done, Some(0), "no sessions left".into())
        }
        UserState::Verified { sessions_left } => line(
            &method,
            Status::Failed,
            Some(sessions_left),
            format!(
                "{sessions_left} session(s) still active {} after the reset",
                setup.verify_timeout
            ),
        ),
        UserState::Reconciled => line(
            &method,
            Status::Done,
            Some(0),
            "the reset's answer was lost (interrupted); checked afterwards: no sessions left"
                .into(),
        ),
        UserState::Sent if !setup.verified => line(
            &method,
            Status::Reset,
            None,
            "acknowledged by Slack; not verified (--no-verify)".into(),
        ),
        UserState::Sent => line(
            &method,
            Status::Pending,
            None,
            "reset acknowledged, not verified yet; run the same command again to resume".into(),
        ),
        UserState::Refused { code } => line(&method, Status::Failed, None, code_detail(&code)),
        UserState::InFlight { .. } => line(
            &method,
            Status::Pending,
            None,
            "reset sent, answer not received; the next run checks it before sending again".into(),
        ),
        UserState::Pending => match (hold, &setup.forecast) {
            (Some(Hold::Myself), _) => line(
                "none",
                Status::Skipped,
                None,
                "the token's own user: not signed out without --include-self".into(),
            ),
            (Some(hold), _) => line(
                "none",
                Status::Failed,
                None,
                format!(
                    "{}; known from Slack's user record, so not sent",
                    code_detail(hold.code())
                ),
            ),
            (None, Some(p)) if p.refused.contains_key(user) => line(
                &method,
                Status::Failed,
                None,
                format!(
                    "{}; the dry run's list call said so",
                    code_detail(p.refused[user])
                ),
            ),
            (None, Some(p)) => {
                let (call, calls) = p.call_of.get(user).copied().unwrap_or((0, 0));
                let now = p.sessions_now.get(user).copied();
                line(
                    &method,
                    Status::Planned,
                    now,
                    format!(
                        "would be reset by call {call} of {calls}; sessions now: {}",
                        now.map_or_else(|| "?".to_owned(), |n| n.to_string())
                    ),
                )
            }
            (None, None) => line(
                &method,
                Status::Pending,
                None,
                "not reset yet; run the same command again to resume".into(),
            ),
        },
    }
}

/// Lines by result.
pub fn tally(lines: &[Line]) -> BTreeMap<Status, usize> {
    let mut counts = BTreeMap::new();
    for l in lines {
        *counts.entry(l.result).or_default() += 1;
    }
    counts
}

/// The report as a JSON document.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    /// The input file.
    pub input: String,
    /// The org.
    pub org_id: String,
    /// `resetBulk` or `reset`.
    pub method: String,
    /// `all`, `mobile` or `web`.
    pub scope: String,
    /// The input's column, for a file of several columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<UserColumn>,
    /// Whether the run is over (nothing pending).
    pub complete: bool,
    /// Lines by result.
    pub summary: BTreeMap<&'static str, usize>,
    /// Every line.
    pub lines: &'a [Line],
}

/// The columns of a line (table headers and CSV names).
pub const COLUMNS: [Column; 7] = [
    col("LINE", "line"),
    col("INPUT", "input"),
    col("USER", "user_id"),
    col("ACTION", "action"),
    col("RESULT", "result"),
    col("LEFT", "sessions_left"),
    col("DETAIL", "detail"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::fixtures::header;
    use crate::journal::{Call, Devices, Outcome, RunKind};
    use crate::journaled::Journaled;
    use crate::offboard::state::{Facts, Record};

    type L = crate::journal::Line<Record>;

    fn entry(line: u64, text: &str, kind: Kind) -> Entry {
        Entry {
            line,
            text: text.into(),
            kind,
        }
    }

    #[test]
    fn every_line_is_accounted_for() {
        let w = |s: &str| UserId::new(s);
        let entries = vec![
            entry(1, "W1", Kind::Id(w("W1"))),
            entry(2, "ada@x.org", Kind::Email("ada@x.org".into())),
            entry(3, "ghost@x.org", Kind::Email("ghost@x.org".into())),
            entry(4, "bob", Kind::Invalid("not a user".into())),
            entry(5, "W1", Kind::Id(w("W1"))),
            entry(6, "W9", Kind::Id(w("W9"))),
            entry(7, "later@x.org", Kind::Email("later@x.org".into())),
            entry(8, "W0ME", Kind::Id(w("W0ME"))),
        ];
        let h = header(RunKind::Offboard, "d");
        let run: Journaled<State> = Journaled::new(
            None,
            h.clone(),
            &[
                L::Start(h),
                L::Run(Record::Resolved {
                    email: "Ada@x.org".into(),
                    user_id: Some(w("W2")),
                    facts: Facts::default(),
                    listed: false,
                }),
                L::Run(Record::Resolved {
                    email: "ghost@x.org".into(),
                    user_id: None,
                    facts: Facts::default(),
                    listed: true,
                }),
                L::Intent {
                    step: 1,
                    call: Call::ResetBulk {
                        user_ids: vec![w("W1"), w("W2")],
                        devices: Devices::All,
                    },
                    at_ms: 0,
                },
                L::Result {
                    step: 1,
                    outcome: Outcome::Ok,
                    error: None,
                    at_ms: 0,
                },
                L::Run(Record::Verified {
                    user_id: w("W1"),
                    sessions_left: 0,
                }),
                L::Run(Record::Verified {
                    user_id: w("W2"),
                    sessions_left: 3,
                }),
            ],
        );
        let setup = Setup {
            method: "admin.users.session.resetBulk",
            verified: true,
            verify_timeout: "2m".into(),
            forecast: None,
        };
        let hold = |u: &UserId| (u.as_str() == "W0ME").then_some(Hold::Myself);
        let lines = build(&entries, &run.state, &run.calls, &hold, &setup);
        let results: Vec<_> = lines.iter().map(|l| (l.line, l.result)).collect();
        assert_eq!(
            results,
            vec![
                (1, Status::Done),
                (2, Status::Failed),
                (3, Status::NotFound),
                (4, Status::Invalid),
                (5, Status::Done),
                (6, Status::Pending),
                (7, Status::Pending),
                (8, Status::Skipped),
            ]
        );
        assert_eq!(lines[1].sessions_left, Some(3));
        assert!(lines[4].detail.starts_with("same user as line 1"));
        assert_eq!(lines[0].action, "resetBulk");
        assert_eq!(tally(&lines)[&Status::Pending], 2);
        assert_eq!(
            crate::report::cells(&lines[0], &COLUMNS)[..6],
            ["1", "W1", "W1", "resetBulk", "done", "0"]
        );
        assert_eq!(crate::report::cells(&lines[2], &COLUMNS)[2], "", "no user");
        assert_eq!(
            lines[2].detail,
            "users_not_found: no active or deactivated Slack user has this email address"
        );
    }

    #[test]
    fn an_address_only_slacks_lookup_answered_is_hedged() {
        // A journal line of a lookup whose answer the user list could not check (or written
        // before the list was checked): users_not_found is also a deactivated account's answer.
        let resolved: Record =
            serde_json::from_str(r#"{"type":"resolved","email":"gone@x.org","user_id":null}"#)
                .unwrap();
        let h = header(RunKind::Offboard, "d");
        let run: Journaled<State> =
            Journaled::new(None, h.clone(), &[L::Start(h), L::Run(resolved)]);
        let setup = Setup {
            method: "admin.users.session.resetBulk",
            verified: true,
            verify_timeout: "2m".into(),
            forecast: None,
        };
        let entries = [entry(1, "gone@x.org", Kind::Email("gone@x.org".into()))];
        let lines = build(&entries, &run.state, &run.calls, &|_| None, &setup);
        assert_eq!(lines[0].result, Status::NotFound);
        assert!(
            lines[0]
                .detail
                .contains("a deactivated account gets the same answer"),
            "{}",
            lines[0].detail
        );
    }
}
