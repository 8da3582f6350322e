//! The list of users: a text file (one a line) or a CSV file (one column of emails or IDs,
//! found by its header, or the first cell that looks like one).
//!
//! Empty lines and lines starting with `#` are skipped; a header row is recognised by its
//! column names (`email`, `user_id`, `id`, …) and skipped. Every other line becomes an
//! [`Entry`], valid or not, so that the report accounts for every line.

use std::path::Path;

use sha2::{Digest, Sha256};
use slack_sessions_client::api::UserId;

use crate::exit::{Failure, Result};
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

/// The input file, read.
#[derive(Clone, Debug)]
pub struct Input {
    /// SHA-256 of its bytes, hex: a resumed run must see the same file.
    pub sha256: String,
    /// Its entries, in file order.
    pub entries: Vec<Entry>,
}

/// Reads and parses the input file.
pub fn read(path: &Path) -> Result<Input> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let sha256 = hex(&Sha256::digest(&bytes));
    let entries = parse_entries(&bytes)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    if entries.is_empty() {
        return Err(Failure::usage(format!(
            "{} names no user (one email address or user ID a line)",
            path.display()
        )));
    }
    Ok(Input { sha256, entries })
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Header names, in order of preference: a Slack ID needs no lookup; an email is next best;
/// a bare `id` comes last (it may be an employee number).
const HEADERS: [&str; 11] = [
    "user_id",
    "userid",
    "user id",
    "slack_id",
    "slack id",
    "slack user id",
    "email",
    "e-mail",
    "email address",
    "user",
    "id",
];

fn header_column(cells: &[String]) -> Option<usize> {
    if cells.iter().any(|c| parse(c).is_ok()) {
        return None;
    }
    let names: Vec<String> = cells
        .iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    HEADERS
        .iter()
        .find_map(|h| names.iter().position(|n| n == h))
        .or_else(|| names.iter().position(|n| n.contains("email")))
}

/// The cells of one CSV line (quotes honoured, cells trimmed).
fn cells_of(line: &[u8]) -> std::result::Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(line);
    let mut record = csv::ByteRecord::new();
    reader
        .read_byte_record(&mut record)
        .map_err(|e| e.to_string())?;
    Ok(record
        .iter()
        .map(|c| String::from_utf8_lossy(c).trim().to_owned())
        .collect())
}

/// Parses the file's bytes into entries. Each line is read on its own, so that line numbers
/// are those an editor shows.
pub fn parse_entries(bytes: &[u8]) -> std::result::Result<Vec<Entry>, String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut entries = Vec::new();
    let mut column: Option<usize> = None;
    let mut first = true;
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = (i + 1) as u64;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let trimmed = String::from_utf8_lossy(raw);
        let trimmed = trimmed.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let cells = cells_of(raw).map_err(|e| format!("line {line}: {e}"))?;
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if first {
            first = false;
            if let Some(col) = header_column(&cells) {
                column = Some(col);
                continue;
            }
        }
        let (text, kind) = match column {
            Some(col) => {
                let text = cells.get(col).cloned().unwrap_or_default();
                let kind = match parse(&text) {
                    Ok(r) => kind_of(r),
                    Err(why) if text.is_empty() => Kind::Invalid(format!("no value ({why})")),
                    Err(why) => Kind::Invalid(why),
                };
                (text, kind)
            }
            None => match cells.iter().find_map(|c| parse(c).ok().map(|r| (c, r))) {
                Some((text, r)) => (text.clone(), kind_of(r)),
                None => {
                    let text = cells.join(",");
                    let why = parse(&cells[0]).err().unwrap_or_default();
                    (text, Kind::Invalid(why))
                }
            },
        };
        entries.push(Entry { line, text, kind });
    }
    Ok(entries)
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

    fn entries(text: &str) -> Vec<(u64, String, Kind)> {
        parse_entries(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|e| (e.line, e.text, e.kind))
            .collect()
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
        assert!(matches!(&got[1].2, Kind::Invalid(why) if why.contains("no value")));
        assert_eq!(got[2].0, 4);
        assert_eq!(got[2].2, email("grace@example.com"));
    }

    #[test]
    fn a_user_id_column_wins_over_email() {
        let got = entries("email,user_id\nada@example.com,W1ADA\n");
        assert_eq!(got, vec![(2, "W1ADA".into(), id("W1ADA"))]);
    }

    #[test]
    fn csv_without_a_header_takes_the_first_matching_cell() {
        let got = entries("Ada,ada@example.com\nBob,W0BOB\n");
        assert_eq!(got[0].2, email("ada@example.com"));
        assert_eq!(got[1].2, id("W0BOB"));
    }

    #[test]
    fn bom_crlf_and_odd_bytes() {
        let got = parse_entries(b"\xef\xbb\xbfemail\r\nada@example.com\r\n\xff\r\n").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].kind, email("ada@example.com"));
        assert!(matches!(got[1].kind, Kind::Invalid(_)));
    }

    #[test]
    fn a_work_email_header() {
        let got = entries("Full name,Work Email\nAda,ada@example.com\n");
        assert_eq!(
            got,
            vec![(2, "ada@example.com".into(), email("ada@example.com"))]
        );
    }
}
