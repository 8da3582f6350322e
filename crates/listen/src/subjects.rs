//! Whom a signal is about: a subject identifier (RFC 9493, <https://www.rfc-editor.org/rfc/rfc9493>,
//! and the Shared Signals Framework's `complex` subject) turned into an email the engine can
//! look up, or into [`Subject::Unmapped`].
//!
//! - `email` → its `email`;
//! - `iss_sub` → the email the subject map (`subject_map`, a CSV file `iss,sub,email`) gives
//!   that issuer's user; Okta sends its own user ids this way
//!   (<https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SSFTransmitter>);
//! - `complex` → its `user` member (SSF 1.0 §Complex Subject Members); the legacy in-event
//!   `subject` of Okta's SETs is a `complex` subject written without its `format`;
//! - anything else (`opaque`, `phone_number`, …), or an email that is not one, →
//!   [`Subject::Unmapped`]: accepted, recorded and counted, never acted on.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::path::Path;

use serde_json::Value;
use slack_sessions_engine::files::read_capped;
use slack_sessions_engine::listen::Subject;
use slack_sessions_engine::users::looks_like_email;
use slack_sessions_engine::{Error, Result};

use crate::shown::shown;

/// The largest subject map read: 32 MiB holds some 300,000 rows, more users than an org has.
pub const MAX_MAP_BYTES: u64 = 32 << 20;

/// `iss_sub` subjects and their emails.
#[derive(Clone, Default, PartialEq)]
pub struct SubjectMap {
    emails: HashMap<(String, String), String>,
}

impl fmt::Debug for SubjectMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectMap({} subjects)", self.emails.len())
    }
}

impl SubjectMap {
    /// Reads a subject map: a CSV file with the header `iss,sub,email` (in any order), at most
    /// [`MAX_MAP_BYTES`]. A subject given two different emails is refused.
    pub fn load(path: &Path) -> Result<SubjectMap> {
        SubjectMap::parse(path, &read_capped(path, MAX_MAP_BYTES, "subject map")?)
    }

    /// Parses a subject map's bytes (`path` names it in errors).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<SubjectMap> {
        let fail = |line: Option<u64>, what: String| {
            Error::refused(match line {
                Some(line) => format!("the subject map {} line {line}: {what}", path.display()),
                None => format!("the subject map {}: {what}", path.display()),
            })
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let header = reader
            .headers()
            .map_err(|e| fail(Some(1), e.to_string()))?
            .clone();
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    fail(
                        Some(1),
                        format!("no `{name}` column: the header must be iss,sub,email"),
                    )
                })
        };
        let (iss, sub, email) = (column("iss")?, column("sub")?, column("email")?);
        let mut emails = HashMap::new();
        for row in reader.records() {
            let row = row.map_err(|e| fail(e.position().map(|p| p.line()), e.to_string()))?;
            let line = row.position().map(|p| p.line());
            let get = |i: usize| row.get(i).unwrap_or_default();
            let (i, s, e) = (get(iss), get(sub), get(email));
            if i.is_empty() || s.is_empty() {
                return Err(fail(line, "an empty iss or sub".into()));
            }
            if !looks_like_email(e) {
                return Err(fail(
                    line,
                    format!("{:?} is not an email address", shown(e)),
                ));
            }
            match emails.entry((i.to_owned(), s.to_owned())) {
                Entry::Vacant(v) => {
                    v.insert(e.to_owned());
                }
                Entry::Occupied(o) if o.get().eq_ignore_ascii_case(e) => {}
                Entry::Occupied(o) => {
                    return Err(fail(
                        line,
                        format!(
                            "{} {} is given a second email ({} and {})",
                            shown(i),
                            shown(s),
                            shown(o.get()),
                            shown(e)
                        ),
                    ));
                }
            }
        }
        Ok(SubjectMap { emails })
    }

    /// The email of issuer `iss`'s user `sub`.
    pub fn email(&self, iss: &str, sub: &str) -> Option<&str> {
        self.emails
            .get(&(iss.to_owned(), sub.to_owned()))
            .map(String::as_str)
    }

    /// How many subjects it maps.
    pub fn len(&self) -> usize {
        self.emails.len()
    }

    /// Whether it maps none.
    pub fn is_empty(&self) -> bool {
        self.emails.is_empty()
    }
}

/// A subject for the log, its text shown safely.
pub fn describe(subject: &Subject) -> String {
    match subject {
        Subject::Email { email } => shown(email),
        Subject::Unmapped { described } => format!("unmapped ({})", shown(described)),
    }
}

/// The subject a subject identifier names (see the module's docs).
pub fn subject_of(id: &Value, map: Option<&SubjectMap>) -> Subject {
    subject_at(id, map, true)
}

fn subject_at(id: &Value, map: Option<&SubjectMap>, complex_allowed: bool) -> Subject {
    let unmapped = |described: String| Subject::Unmapped {
        described: shown(&described),
    };
    let Some(obj) = id.as_object() else {
        return unmapped(format!("not a subject identifier: {id}"));
    };
    let text = |name: &str| obj.get(name).and_then(Value::as_str);
    let format = text("format").or_else(|| obj.contains_key("user").then_some("complex"));
    match format {
        Some("email") => match text("email") {
            Some(email) if looks_like_email(email) => Subject::Email {
                email: email.to_owned(),
            },
            Some(email) => unmapped(format!("email {email}")),
            None => unmapped("email without an email".into()),
        },
        Some("iss_sub") => match (text("iss"), text("sub")) {
            (Some(iss), Some(sub)) => match map.and_then(|m| m.email(iss, sub)) {
                Some(email) => Subject::Email {
                    email: email.to_owned(),
                },
                None => unmapped(format!("iss_sub {iss} {sub}")),
            },
            _ => unmapped("iss_sub without iss and sub".into()),
        },
        Some("complex") if complex_allowed => match obj.get("user") {
            Some(user) => subject_at(user, map, false),
            None => unmapped("complex without a user".into()),
        },
        Some("opaque") => unmapped(format!("opaque {}", text("id").unwrap_or("?"))),
        Some(other) => unmapped(format!("{other} {id}")),
        None => unmapped(format!("no format: {id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn email(e: &str) -> Subject {
        Subject::Email { email: e.into() }
    }

    #[test]
    fn identifiers_name_emails_or_are_unmapped() {
        let map = SubjectMap::parse(
            Path::new("s.csv"),
            b"iss,sub,email\nhttps://idp/,00u1,ada@x.example\n",
        )
        .unwrap();
        let m = Some(&map);
        assert_eq!(
            subject_of(&json!({"format": "email", "email": "ada@x.example"}), m),
            email("ada@x.example")
        );
        assert_eq!(
            subject_of(
                &json!({"format": "iss_sub", "iss": "https://idp/", "sub": "00u1"}),
                m
            ),
            email("ada@x.example")
        );
        assert_eq!(
            subject_of(
                &json!({"format": "iss_sub", "iss": "https://idp/", "sub": "00u2"}),
                m
            ),
            Subject::Unmapped {
                described: "iss_sub https://idp/ 00u2".into()
            }
        );
        // Okta's legacy shape: a complex subject without its format.
        assert_eq!(
            subject_of(
                &json!({"user": {"format": "iss_sub", "iss": "https://idp/", "sub": "00u1"}}),
                m
            ),
            email("ada@x.example")
        );
        assert_eq!(
            subject_of(
                &json!({"format": "complex", "user": {"format": "email", "email": "b@x.example"}, "session": {"format": "opaque", "id": "s"}}),
                None
            ),
            email("b@x.example")
        );
        for id in [
            json!({"format": "opaque", "id": "f67e"}),
            json!({"format": "email", "email": "not an email"}),
            json!({"format": "phone_number", "phone_number": "+1"}),
            json!({"format": "complex", "user": {"format": "complex", "user": {}}}),
            json!("ada@x.example"),
        ] {
            assert!(
                matches!(subject_of(&id, m), Subject::Unmapped { .. }),
                "{id}"
            );
        }
        let Subject::Unmapped { described } =
            subject_of(&json!({"format": "email", "email": "a\u{1b}[2J b"}), None)
        else {
            panic!()
        };
        assert!(!described.contains('\u{1b}'), "{described}");
    }

    #[test]
    fn a_subject_map_is_checked() {
        let err = |text: &str| {
            SubjectMap::parse(Path::new("s.csv"), text.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert!(err("iss,email\n").contains("no `sub` column"));
        let e = err("iss,sub,email\ni,s,a@x.example\ni,s,b@x.example\n");
        assert!(e.contains("line 3") && e.contains("second email"), "{e}");
        assert!(err("iss,sub,email\ni,s,nope\n").contains("not an email"));
        let map = SubjectMap::parse(
            Path::new("s.csv"),
            b"email,sub,iss\na@x.example,s,i\nA@x.example,s,i\n",
        )
        .unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map.email("i", "s"), Some("a@x.example"));
    }
}
