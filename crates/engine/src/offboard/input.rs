//! The list of users: a text file (one a line) or a CSV file with a column of emails or IDs.
//!
//! - **Encoding**: UTF-8 (with or without a BOM) or UTF-16 with a BOM. A file with NUL bytes
//!   (binary, or UTF-16 without a BOM) or a line that is not UTF-8 is refused, naming the line.
//! - **Separators**: `,`, `;` or tab, whichever the first row uses most.
//! - **The column**: a header row is recognised (a first row of more than one cell, none of
//!   them a user, or a lone `email`/`user_id`/… cell). Only one column may hold users: if
//!   several do (`Name,Manager Email,Work Email`), the file is refused unless one is named
//!   exactly `user_id`, `email`, `user` or `id`, or `--column` picks one (by name or 1-based
//!   number). Guessing would sign out the wrong people.
//! - Empty lines and lines starting with `#` are skipped. Every other line becomes an
//!   [`Entry`], valid or not, so that the report accounts for every line.

use std::path::Path;

use sha2::{Digest, Sha256};
use slack_sessions_client::api::UserId;

use crate::error::{Error, Result};
use crate::journal::hex;
use crate::users::{UserRef, parse};

/// What a line names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A user ID.
    Id(UserId),
    /// An email address to resolve.
    Email(String),
    /// Neither: why.
    Invalid(String),
}

/// One line of the input that names (or fails to name) a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number in the file.
    pub line: u64,
    /// The value as written (the chosen cell).
    pub text: String,
    /// What it is.
    pub kind: Kind,
}

/// The column the users were read from (a file of several columns).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UserColumn {
    /// 1-based.
    pub number: usize,
    /// Its header, if the file has one.
    pub name: Option<String>,
    /// The first two distinct users in it, as written.
    pub samples: Vec<String>,
}

impl UserColumn {
    /// `"Work Email" (3), e.g. ada@example.com, bob@example.com`.
    pub fn describe(&self) -> String {
        let which = match &self.name {
            Some(name) => format!("{name:?} ({})", self.number),
            None => format!("column {}", self.number),
        };
        if self.samples.is_empty() {
            which
        } else {
            format!("{which}, e.g. {}", self.samples.join(", "))
        }
    }

    /// How the journal keeps the choice: the header, or the number.
    pub fn key(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("#{}", self.number))
    }
}

/// The input file, read.
#[derive(Clone, Debug)]
pub struct Input {
    /// SHA-256 of its bytes, hex: a resumed run must see the same file.
    pub sha256: String,
    /// Its entries, in file order.
    pub entries: Vec<Entry>,
    /// The column used, for a file of several columns.
    pub column: Option<UserColumn>,
}

/// The largest input file read: an HR export of every user of the largest org, with a few
/// columns each, is well under it. Past it the file is refused (`/dev/zero`, a wrong file).
pub const MAX_BYTES: u64 = 64 << 20;

/// Reads (up to [`MAX_BYTES`]) and parses the input file; `column` is `--column` (a header or
/// a 1-based number).
pub fn read(path: &Path, column: Option<&str>) -> Result<Input> {
    let bytes = crate::files::read_capped(path, MAX_BYTES, "input file")?;
    let sha256 = hex(&Sha256::digest(&bytes));
    let parsed = parse_entries(&bytes, column).map_err(|refusal| {
        let error = Error::refused(format!("{}: {}", path.display(), refusal.message));
        match refusal.hint {
            Some(hint) => error.hint(hint),
            None => error,
        }
    })?;
    if parsed.entries.is_empty() {
        return Err(Error::refused(format!(
            "{} names no user (one email address or user ID a line)",
            path.display()
        )));
    }
    Ok(Input {
        sha256,
        entries: parsed.entries,
        column: parsed.column,
    })
}

/// Why a file is refused.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong, naming the line or the columns.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

fn refuse(message: impl Into<String>) -> Refusal {
    Refusal {
        message: message.into(),
        hint: None,
    }
}

/// The entries of a file and the column they came from.
#[derive(Debug)]
pub struct Parsed {
    /// In file order.
    pub entries: Vec<Entry>,
    /// The column, for a file of several.
    pub column: Option<UserColumn>,
}

/// Header names picked without `--column`, in order of preference.
const EXACT: [&str; 4] = ["user_id", "email", "user", "id"];

/// The file as text: UTF-8 (BOM or not) or UTF-16 with a BOM; binary or other encodings are
/// refused, naming the line.
pub fn decode(bytes: &[u8]) -> std::result::Result<String, Refusal> {
    let utf16 = |le: bool, body: &[u8]| -> std::result::Result<String, Refusal> {
        if !body.len().is_multiple_of(2) {
            return Err(refuse(
                "starts with a UTF-16 byte-order mark but has an odd number of bytes",
            ));
        }
        let units = body.chunks_exact(2).map(|p| {
            if le {
                u16::from_le_bytes([p[0], p[1]])
            } else {
                u16::from_be_bytes([p[0], p[1]])
            }
        });
        let mut text = String::with_capacity(body.len() / 2);
        for c in char::decode_utf16(units) {
            match c {
                Ok(c) => text.push(c),
                Err(_) => {
                    let line = text.matches('\n').count() + 1;
                    return Err(refuse(format!("line {line} is not valid UTF-16")));
                }
            }
        }
        Ok(text)
    };
    if let Some(body) = bytes.strip_prefix(b"\xff\xfe") {
        return utf16(true, body);
    }
    if let Some(body) = bytes.strip_prefix(b"\xfe\xff") {
        return utf16(false, body);
    }
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Some(at) = body.iter().position(|b| *b == 0) {
        let n = body[..at].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(Refusal {
            message: format!("line {n} holds a NUL byte: this looks like a binary file"),
            hint: Some(
                "give a text or CSV file; a UTF-16 file needs its byte-order mark (or save it as UTF-8)"
                    .into(),
            ),
        });
    }
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let n = i + 1;
        if let Err(e) = std::str::from_utf8(line) {
            return Err(Refusal {
                message: format!(
                    "line {n} is not UTF-8 text (byte {} of the line is 0x{:02x})",
                    e.valid_up_to() + 1,
                    line[e.valid_up_to()]
                ),
                hint: Some("save the file as UTF-8 (or UTF-16 with a byte-order mark)".into()),
            });
        }
    }
    Ok(String::from_utf8_lossy(body).into_owned())
}

/// The separator the first row uses most: `,`, `;` or tab.
fn separator(first: &str) -> u8 {
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|s| (first.bytes().filter(|b| b == s).count(), *s == b','))
        .unwrap_or(b',')
}

/// The cells of one line (quotes honoured, cells trimmed).
fn cells_of(line: &str, sep: u8) -> std::result::Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sep)
        .trim(csv::Trim::All)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    reader.read_record(&mut record).map_err(|e| e.to_string())?;
    Ok(record.iter().map(|c| c.trim().to_owned()).collect())
}

fn is_header(cells: &[String]) -> bool {
    if cells.iter().any(|c| parse(c).is_ok()) {
        return false;
    }
    if cells.len() > 1 {
        return true;
    }
    let name = cells[0].to_ascii_lowercase();
    EXACT.contains(&name.as_str()) || name.contains("email") || name.contains("user")
}

/// Parses the file's bytes into entries. Each line is read on its own, so that line numbers
/// are those an editor shows.
pub fn parse_entries(bytes: &[u8], column: Option<&str>) -> std::result::Result<Parsed, Refusal> {
    let text = decode(bytes)?;
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    let mut sep = None;
    for (i, raw) in text.split('\n').enumerate() {
        let line = (i + 1) as u64;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let sep = *sep.get_or_insert_with(|| separator(trimmed));
        let cells = cells_of(raw, sep).map_err(|e| refuse(format!("line {line}: {e}")))?;
        if cells.iter().all(String::is_empty) {
            continue;
        }
        rows.push((line, cells));
    }
    let header = match rows.first() {
        Some((_, cells)) if is_header(cells) => Some(rows.remove(0).1),
        _ => None,
    };
    let width = rows
        .iter()
        .map(|(_, c)| c.len())
        .chain(header.as_ref().map(Vec::len))
        .max()
        .unwrap_or(1);
    let name_of = |i: usize| header.as_ref().and_then(|h| h.get(i)).cloned();
    let shown = |i: usize| match name_of(i) {
        Some(name) => format!("{name:?} ({})", i + 1),
        None => format!("column {}", i + 1),
    };
    let holds_users = |i: usize| {
        rows.iter()
            .any(|(_, c)| c.get(i).is_some_and(|v| parse(v).is_ok()))
    };
    let exact = |i: usize| {
        name_of(i).and_then(|n| {
            let n = n.to_ascii_lowercase();
            EXACT.iter().position(|e| *e == n)
        })
    };
    let index = match column {
        Some(asked) => pick(asked, width, header.as_deref(), &shown)?,
        None => {
            let with_users: Vec<usize> = (0..width).filter(|i| holds_users(*i)).collect();
            match with_users.as_slice() {
                [] => (0..width)
                    .min_by_key(|i| exact(*i).unwrap_or(EXACT.len()))
                    .unwrap_or(0),
                [one] => *one,
                several => match several
                    .iter()
                    .filter_map(|i| exact(*i).map(|p| (p, *i)))
                    .min()
                {
                    Some((_, i)) => i,
                    None => {
                        let names: Vec<String> = several.iter().map(|i| shown(*i)).collect();
                        return Err(Refusal {
                            message: format!(
                                "{} columns hold email addresses or user IDs: {}; which one \
                                 names the users to sign out is not guessed",
                                several.len(),
                                names.join(", ")
                            ),
                            hint: Some(column_hint(several, &name_of)),
                        });
                    }
                },
            }
        }
    };
    let mut entries = Vec::with_capacity(rows.len());
    let mut samples: Vec<String> = Vec::new();
    for (line, cells) in rows {
        let text = cells.get(index).cloned().unwrap_or_default();
        let kind = match parse(&text) {
            Ok(r) => {
                if samples.len() < 2 && !samples.contains(&text) {
                    samples.push(text.clone());
                }
                kind_of(r)
            }
            Err(_) if text.is_empty() => Kind::Invalid(format!("no value in {}", shown(index))),
            Err(why) => Kind::Invalid(why),
        };
        entries.push(Entry { line, text, kind });
    }
    let column = (width > 1 || header.is_some()).then(|| UserColumn {
        number: index + 1,
        name: name_of(index),
        samples,
    });
    Ok(Parsed { entries, column })
}

/// Words of a header that names someone other than the user: `Manager Email`, `Reports To`.
const SOMEONE_ELSE: [&str; 12] = [
    "manager",
    "supervisor",
    "boss",
    "lead",
    "report",
    "approver",
    "sponsor",
    "owner",
    "mentor",
    "buddy",
    "assistant",
    "contact",
];

/// Whether a header reads as someone else's column (a manager's, an approver's…).
fn someone_elses(header: &str) -> bool {
    let header = header.to_ascii_lowercase();
    SOMEONE_ELSE.iter().any(|w| header.contains(w))
}

/// The hint for a file whose `several` columns hold users: how to pick one, and the likeliest
/// only when exactly one of them has a header that does not read as someone else's (a
/// manager's, a supervisor's…). Otherwise no column is suggested: a suggestion is copied as it
/// is, and the wrong one signs out the people who stay.
fn column_hint(several: &[usize], name_of: &dyn Fn(usize) -> Option<String>) -> String {
    let likely: Vec<String> = several
        .iter()
        .filter_map(|i| name_of(*i))
        .filter(|n| !someone_elses(n))
        .collect();
    let pick = "pick the column of the users to sign out with --column NAME or --column NUMBER";
    match likely.as_slice() {
        [one] if several.iter().all(|i| name_of(*i).is_some()) => {
            let arg = if one.contains(' ') {
                format!("{one:?}")
            } else {
                one.clone()
            };
            format!("{pick}, e.g. --column {arg}")
        }
        _ => pick.to_owned(),
    }
}

/// The column `--column` names: a header (any case) or a 1-based number.
fn pick(
    asked: &str,
    width: usize,
    header: Option<&[String]>,
    shown: &dyn Fn(usize) -> String,
) -> std::result::Result<usize, Refusal> {
    let all = || (0..width).map(shown).collect::<Vec<_>>().join(", ");
    if let Some(i) = header.and_then(|h| {
        h.iter()
            .position(|n| n.trim().eq_ignore_ascii_case(asked.trim()))
    }) {
        return Ok(i);
    }
    match asked.trim().parse::<usize>() {
        Ok(n) if (1..=width).contains(&n) => Ok(n - 1),
        _ => Err(refuse(format!(
            "--column {asked:?} names no column; the file has {}",
            all()
        ))),
    }
}

fn kind_of(r: UserRef) -> Kind {
    match r {
        UserRef::Id(id) => Kind::Id(id),
        UserRef::Email(email) => Kind::Email(email),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries_with(text: &str, column: Option<&str>) -> Vec<(u64, String, Kind)> {
        parse_entries(text.as_bytes(), column)
            .unwrap()
            .entries
            .into_iter()
            .map(|e| (e.line, e.text, e.kind))
            .collect()
    }

    fn entries(text: &str) -> Vec<(u64, String, Kind)> {
        entries_with(text, None)
    }

    fn email(e: &str) -> Kind {
        Kind::Email(e.into())
    }

    fn id(i: &str) -> Kind {
        Kind::Id(UserId::new(i))
    }

    #[test]
    fn text_files() {
        let got = entries("# leavers, March\n\nada@example.com\n  W012A3CDE  \nbob\n\n# end\n");
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            (3, "ada@example.com".into(), email("ada@example.com"))
        );
        assert_eq!(got[1], (4, "W012A3CDE".into(), id("W012A3CDE")));
        assert_eq!(got[2].0, 5);
        assert!(matches!(&got[2].2, Kind::Invalid(why) if why.contains("neither")));
    }

    #[test]
    fn csv_with_a_header_uses_its_column() {
        let got = entries(
            "Name,Employee ID,Email\nAda,1001,ada@example.com\nBob,1002,\n\"Lee, Grace\",1003,grace@example.com\n",
        );
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            (2, "ada@example.com".into(), email("ada@example.com"))
        );
        assert!(matches!(&got[1].2, Kind::Invalid(why) if why.contains("no value in \"Email\"")));
        assert_eq!(got[2].0, 4);
        assert_eq!(got[2].2, email("grace@example.com"));
    }

    #[test]
    fn an_exact_name_settles_several_columns_of_users() {
        let got = entries("email,user_id\nada@example.com,W1ADA\n");
        assert_eq!(got, vec![(2, "W1ADA".into(), id("W1ADA"))]);
        let got = entries("Manager Email,Email\nboss@example.com,ada@example.com\n");
        assert_eq!(got[0].2, email("ada@example.com"));
    }

    #[test]
    fn several_columns_of_users_are_refused_naming_them() {
        let err = parse_entries(
            b"Name,Manager Email,Work Email\nAda,boss@x.com,ada@x.com\n",
            None,
        )
        .unwrap_err();
        assert!(
            err.message
                .contains("\"Manager Email\" (2), \"Work Email\" (3)"),
            "{}",
            err.message
        );
        assert!(err.hint.unwrap().contains("--column \"Work Email\""));
        // The manager's column last or first, the suggestion is the user's.
        let err =
            parse_entries(b"Work Email,Manager Email\nada@x.com,boss@x.com\n", None).unwrap_err();
        assert!(err.hint.unwrap().ends_with("e.g. --column \"Work Email\""));
        // Nothing to tell them apart: no suggestion.
        for text in [
            &b"Manager Email,Supervisor Email\nboss@x.com,ada@x.com\n"[..],
            b"Work Email,Personal Email\nada@x.com,ada@home.org\n",
            b"Ada,boss@x.com,ada@x.com\n",
        ] {
            let err = parse_entries(text, None).unwrap_err();
            assert!(!err.hint.unwrap().contains("e.g."), "{text:?}");
        }
        let err = parse_entries(b"Ada,boss@x.com,ada@x.com\n", None).unwrap_err();
        assert!(
            err.message.contains("column 2, column 3"),
            "{}",
            err.message
        );
    }

    #[test]
    fn column_picks_by_name_or_number() {
        let text =
            "Name,Manager Email,Work Email\nAda,boss@x.com,ada@x.com\nBob,boss@x.com,bob@x.com\n";
        for pick in ["work email", "3"] {
            let parsed = parse_entries(text.as_bytes(), Some(pick)).unwrap();
            assert_eq!(parsed.entries[0].kind, email("ada@x.com"));
            let column = parsed.column.unwrap();
            assert_eq!(
                column.describe(),
                "\"Work Email\" (3), e.g. ada@x.com, bob@x.com"
            );
        }
        let err = parse_entries(text.as_bytes(), Some("4")).unwrap_err();
        assert!(err.message.contains("names no column"), "{}", err.message);
    }

    #[test]
    fn a_single_column_of_users_needs_no_exact_name() {
        let got = entries("Full name,Work Email\nAda,ada@example.com\n");
        assert_eq!(
            got,
            vec![(2, "ada@example.com".into(), email("ada@example.com"))]
        );
        let got = entries("Ada,ada@example.com\nBob,W0BOB\n");
        assert_eq!(got[0].2, email("ada@example.com"));
        assert_eq!(got[1].2, id("W0BOB"));
    }

    #[test]
    fn separators() {
        assert_eq!(
            entries("Name;Email\nLee, Grace;grace@x.com\n")[0].2,
            email("grace@x.com")
        );
        assert_eq!(
            entries("Name\tEmail\nGrace\tgrace@x.com\n")[0].2,
            email("grace@x.com")
        );
    }

    #[test]
    fn encodings() {
        let got = parse_entries(b"\xef\xbb\xbfemail\r\nada@example.com\r\n", None).unwrap();
        assert_eq!(got.entries[0].kind, email("ada@example.com"));
        let mut le = vec![0xff, 0xfe];
        le.extend("ada@x.com\n".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(
            parse_entries(&le, None).unwrap().entries[0].kind,
            email("ada@x.com")
        );
        let err = parse_entries(b"ada@x.com\n\xff\n", None).unwrap_err();
        assert!(
            err.message.starts_with("line 2 is not UTF-8"),
            "{}",
            err.message
        );
        let err = parse_entries(b"a\nb\0c\n", None).unwrap_err();
        assert!(err.message.contains("line 2") && err.message.contains("binary"));
        // UTF-16 without its byte-order mark is NUL bytes all over.
        let bare: Vec<u8> = "ada@x.com"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(parse_entries(&bare, None).is_err());
    }
}
