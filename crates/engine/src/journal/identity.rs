//! Which run a journal holds, and what a command does with it. The rules, for every kind of
//! run:
//!
//! - **No journal** (or an empty one): a new run.
//! - **A finished run**: the same command starts a new run over what matches now; the finished
//!   journal is kept beside the new one, renamed with its finish time
//!   (`r.csv.2026-12-03T04-55-12Z.journal`).
//! - **An unfinished run of the same command** (same kind, input digest, options, org and API):
//!   resumed, and nothing it did is done again.
//! - **An unfinished run of another command**: refused, naming the journal and both ways on:
//!   finish it with its own command, or `--fresh`, which archives it
//!   (`….unfinished.journal`) and starts over. One that sent no call yet gives way on its own.
//! - `--fresh` archives any unfinished run of the journal, the same command's too.
//!
//! A dry run asks [`check`]: the same verdict, read-only, so that it refuses what the run
//! would refuse.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{FORMAT, Header, Journal, Line, parse, utc};
use crate::error::{Error, Result};
use crate::events::Events;

/// A journal opened for a run.
#[derive(Debug)]
pub struct Opened<R> {
    /// The journal, locked.
    pub journal: Journal,
    /// Its lines, the header first (a resumed run's, then its `Resume`).
    pub lines: Vec<Line<R>>,
    /// Whether an unfinished run is resumed.
    pub resumed: bool,
}

/// What a journal holds, against the run about to start.
enum Verdict<R> {
    /// Nothing.
    Empty,
    /// A finished run (it finished then).
    Finished { at_ms: u64 },
    /// An unfinished run of the same command.
    Same(Vec<Line<R>>),
    /// An unfinished run of another command: how it differs, and whether it sent any call.
    Other { diffs: Vec<String>, sent: bool },
}

/// Opens the journal at `path` for the run `header` describes, by the rules above.
pub fn open<R: DeserializeOwned + Serialize>(
    path: &Path,
    header: &Header,
    fresh: bool,
    events: &Events,
) -> Result<Opened<R>> {
    let (journal, bytes) = Journal::open(path)?;
    let verdict = judge::<R>(path, &bytes, header)?;
    let journal = match verdict {
        Verdict::Empty => journal,
        Verdict::Finished { at_ms } => {
            let kept = journal.archive(archived_names(path, at_ms, false))?;
            events.note(format!(
                "the previous run finished at {}; starting a new one (its journal is kept as {})",
                utc(at_ms).replace('T', " ").replace('Z', " UTC"),
                file_name(&kept)
            ));
            Journal::open(path)?.0
        }
        Verdict::Same(_) | Verdict::Other { .. } if fresh => {
            let kept = journal.archive(archived_names(path, super::now_ms(), true))?;
            events.note(format!(
                "--fresh: the unfinished run of {} is archived as {}; starting over",
                path.display(),
                file_name(&kept)
            ));
            Journal::open(path)?.0
        }
        Verdict::Same(mut lines) => {
            let resume = Line::Resume {
                at_ms: super::now_ms(),
            };
            let mut journal = journal;
            journal.append(&resume, true)?;
            lines.push(resume);
            events.note(format!(
                "resuming the unfinished run kept in {}",
                path.display()
            ));
            return Ok(Opened {
                journal,
                lines,
                resumed: true,
            });
        }
        Verdict::Other { sent: false, .. } => {
            let kept = journal.archive(archived_names(path, super::now_ms(), true))?;
            events.note(format!(
                "the journal {} held another command's run that sent nothing (kept as {}); starting over",
                path.display(),
                file_name(&kept)
            ));
            Journal::open(path)?.0
        }
        Verdict::Other { diffs, .. } => return Err(refusal(path, &diffs)),
    };
    let mut journal = journal;
    let start = Line::Start(header.clone());
    journal.append(&start, true)?;
    Ok(Opened {
        journal,
        lines: vec![start],
        resumed: false,
    })
}

/// What [`open`] would do, without changing anything: an error where it would refuse, a note
/// of what it would resume or archive.
pub fn check<R: DeserializeOwned>(
    path: &Path,
    header: &Header,
    fresh: bool,
    events: &Events,
) -> Result<()> {
    let Some(mut file) = crate::files::open_existing(path, "journal")? else {
        return Ok(());
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes)
        .map_err(|e| Error::file("read", "journal", path, e))?;
    // A line cut short at the end is left out, as opening would cut it off.
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    match judge::<R>(path, &bytes[..whole], header)? {
        Verdict::Empty => {}
        Verdict::Finished { at_ms } => events.note(format!(
            "the previous run finished at {}: the run would start a new one",
            utc(at_ms)
        )),
        Verdict::Same(_) | Verdict::Other { .. } if fresh => events.note(format!(
            "--fresh: the run would archive the unfinished run of {}",
            path.display()
        )),
        Verdict::Same(_) => events.note(format!(
            "the run would resume the unfinished run kept in {}; this plan is of what matches now",
            path.display()
        )),
        Verdict::Other { sent: false, .. } => {}
        Verdict::Other { diffs, .. } => return Err(refusal(path, &diffs)),
    }
    Ok(())
}

fn refusal(path: &Path, diffs: &[String]) -> Error {
    Error::refused(format!(
        "the journal {} holds an unfinished run of another command: {}",
        path.display(),
        diffs.join("; ")
    ))
    .hint(
        "finish that run first (the command that started it, with the options above), or add \
         --fresh to archive it and start over (what it did may be done again)",
    )
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `dir/r.csv.journal` → `dir/r.csv.2026-12-03T04-55-12Z.journal` (`….unfinished.journal`),
/// then with a number added (`….2.journal`) for as long as a name is taken.
fn archived_names(path: &Path, at_ms: u64, unfinished: bool) -> impl Fn(usize) -> PathBuf {
    let name = file_name(path);
    let stem = name.strip_suffix(".journal").unwrap_or(&name).to_owned();
    let stamp = utc(at_ms).replace(':', "-");
    let tail = if unfinished { ".unfinished" } else { "" };
    let path = path.to_owned();
    move |n| {
        let number = if n == 1 {
            String::new()
        } else {
            format!(".{n}")
        };
        path.with_file_name(format!("{stem}.{stamp}{tail}{number}.journal"))
    }
}

/// Judges a journal's bytes against the run about to start.
fn judge<R: DeserializeOwned>(path: &Path, bytes: &[u8], header: &Header) -> Result<Verdict<R>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Verdict::Empty);
    }
    if let Some(verdict) = judge_other_format(bytes) {
        return Ok(verdict);
    }
    let (lines, _) = parse::<R>(path, bytes)?;
    let Some(Line::Start(first)) = lines.first() else {
        return Err(Error::local(format!(
            "the journal {} does not start with a run's header",
            path.display()
        ))
        .hint("move it away to start over (what it did would be done again)"));
    };
    let finished_at = lines.iter().fold(None, |at, line| match line {
        Line::Finished { at_ms } => Some(*at_ms),
        Line::Start(_) | Line::Resume { .. } => None,
        _ => at,
    });
    if let Some(at_ms) = finished_at {
        return Ok(Verdict::Finished { at_ms });
    }
    let diffs = differences(first, header);
    if diffs.is_empty() {
        Ok(Verdict::Same(lines))
    } else {
        let sent = lines.iter().any(|l| matches!(l, Line::Intent { .. }));
        Ok(Verdict::Other { diffs, sent })
    }
}

/// A journal of another format (1: the CLI's own): finished, or another run.
fn judge_other_format<R>(bytes: &[u8]) -> Option<Verdict<R>> {
    let first = bytes.split(|b| *b == b'\n').next()?;
    let first: serde_json::Value = serde_json::from_slice(first).ok()?;
    let format = first["format"]
        .as_u64()
        .or_else(|| first["version"].as_u64())?;
    if format == u64::from(FORMAT) {
        return None;
    }
    let last = bytes
        .split(|b| *b == b'\n')
        .rfind(|l| !l.iter().all(u8::is_ascii_whitespace))
        .and_then(|l| serde_json::from_slice::<serde_json::Value>(l).ok())?;
    Some(if last["type"] == "finished" {
        Verdict::Finished {
            at_ms: last["at_ms"].as_u64().unwrap_or(0),
        }
    } else {
        Verdict::Other {
            diffs: vec![format!(
                "it was written by another version of the tool (journal format {format}, this is {FORMAT})"
            )],
            sent: true,
        }
    })
}

/// How the run a journal holds differs from the run about to start, in words.
fn differences(was: &Header, now: &Header) -> Vec<String> {
    let mut diffs = Vec::new();
    if was.kind != now.kind {
        diffs.push(format!(
            "it is a journal of `{}`, not of `{}`",
            was.kind.as_str(),
            now.kind.as_str()
        ));
        return diffs;
    }
    let keys: std::collections::BTreeSet<&String> =
        was.options.keys().chain(now.options.keys()).collect();
    for key in keys {
        let (a, b) = (was.options.get(key), now.options.get(key));
        if a != b {
            let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "not given".to_owned());
            diffs.push(format!(
                "{key} differs (journal: {}, now: {})",
                show(a),
                show(b)
            ));
        }
    }
    if diffs.is_empty() && was.digest != now.digest {
        diffs.push(format!(
            "the input file differs (journal: {}, digest {}…; now: {}, digest {}…)",
            was.input,
            &was.digest[..12.min(was.digest.len())],
            now.input,
            &now.digest[..12.min(now.digest.len())]
        ));
    }
    if was.org_id != now.org_id {
        diffs.push(format!(
            "the token belongs to another org (journal: {}, now: {})",
            was.org_id, now.org_id
        ));
    }
    if was.api_url != now.api_url {
        diffs.push(format!(
            "--api-url differs (journal: {}, now: {})",
            was.api_url, now.api_url
        ));
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::header;
    use super::super::{Call, Devices, RunKind};
    use super::*;
    use slack_sessions_client::api::UserId;

    type R = serde_json::Value;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    fn intent() -> Line<R> {
        Line::Intent {
            step: 1,
            call: Call::Reset {
                user_ids: vec![UserId::new("W2")],
                devices: Devices::All,
            },
            at_ms: 3,
        }
    }

    #[test]
    fn new_resumed_finished_and_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv.journal");
        let events = Events::silent();
        let h = header(RunKind::Invalidate, "aa");
        // New.
        let o = open::<R>(&path, &h, false, &events).unwrap();
        assert!(!o.resumed);
        let mut j = o.journal;
        j.append(&intent(), true).unwrap();
        drop(j);
        // The same command: resumed.
        let o = open::<R>(&path, &h, false, &events).unwrap();
        assert!(o.resumed);
        assert_eq!(o.lines.len(), 3);
        drop(o);
        // Another command: refused, naming the difference.
        let mut other = header(RunKind::Invalidate, "bb");
        other.options.insert("--os".into(), "os x".into());
        let err = open::<R>(&path, &other, false, &events).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("--os differs (journal: windows, now: os x)"),
            "{text}"
        );
        assert!(err.hint_text().unwrap().contains("--fresh"));
        assert!(check::<R>(&path, &other, false, &events).is_err());
        assert!(check::<R>(&path, &other, true, &events).is_ok());
        // --fresh archives it.
        let o = open::<R>(&path, &other, true, &events).unwrap();
        let mut j = o.journal;
        j.append(
            &Line::<R>::Finished {
                at_ms: 1_764_737_712_000,
            },
            true,
        )
        .unwrap();
        drop(j);
        // Finished: the same command starts a new run, the old journal kept.
        let o = open::<R>(&path, &other, false, &events).unwrap();
        assert!(!o.resumed);
        drop(o);
        let kept = names(dir.path());
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert!(
            kept.contains(&"r.csv.2025-12-03T04-55-12Z.journal".to_owned()),
            "{kept:?}"
        );
        assert!(kept.iter().any(|n| n.ends_with(".unfinished.journal")));
    }

    #[test]
    fn an_unfinished_run_that_sent_nothing_gives_way() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let events = Events::silent();
        drop(open::<R>(&path, &header(RunKind::Offboard, "aa"), false, &events).unwrap());
        let o = open::<R>(&path, &header(RunKind::Offboard, "bb"), false, &events).unwrap();
        assert!(!o.resumed);
    }

    #[test]
    fn a_journal_of_the_first_format_is_finished_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let events = Events::silent();
        let old_start = r#"{"type":"start","version":1,"tool":"t","input":"i","input_sha256":"s","options":{},"org_id":"E1","admin_user_id":"W1","at_ms":1}"#;
        std::fs::write(
            &path,
            format!("{old_start}\n{{\"type\":\"resume\",\"at_ms\":2}}\n"),
        )
        .unwrap();
        let h = header(RunKind::Offboard, "aa");
        let err = open::<R>(&path, &h, false, &events).unwrap_err();
        assert!(err.to_string().contains("journal format 1"), "{err}");
        std::fs::write(
            &path,
            format!("{old_start}\n{{\"type\":\"finished\",\"exit_code\":0,\"at_ms\":5}}\n"),
        )
        .unwrap();
        assert!(!open::<R>(&path, &h, false, &events).unwrap().resumed);
    }
}
