//! Slack's tolerant argument decoding.
//!
//! Form and query arguments arrive as strings, JSON arguments as typed values, and the official
//! SDKs disagree on how to spell booleans and lists (contract §1.8): Python and Java send `1`/`0`
//! and comma-joined lists, Node sends `true`/`false` and JSON-array strings, the docs show JSON
//! arrays and Python-style `['U1']`. These visitors accept every one of those spellings so that one
//! argument struct decodes all of them.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, SeqAccess, Visitor};

use crate::UserId;

/// Parses a boolean given as `true`/`false`, `1`/`0` (string or number).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "1" | "true" | "TRUE" | "True" => Some(true),
        "0" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean (true, false, 1 or 0)")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        match v {
            0 => Ok(Some(false)),
            1 => Ok(Some(true)),
            _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        match v {
            0 => Ok(Some(false)),
            1 => Ok(Some(true)),
            _ => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_bool(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// An optional boolean in any of Slack's spellings; JSON `null` means "not given".
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_option(BoolVisitor)
}

struct U64Visitor;

impl<'de> Visitor<'de> for U64Visitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v)
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::invalid_type(de::Unexpected::Float(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(v), &self));
        }
        t.parse()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// An optional integer given as a JSON number or a decimal string.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_option(U64Visitor)
}

/// An optional `u32` given as a JSON number or a decimal string.
pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match opt_u64(d)? {
        None => Ok(None),
        Some(v) => u32::try_from(v)
            .map(Some)
            .map_err(|_| de::Error::invalid_value(de::Unexpected::Unsigned(v), &"an integer")),
    }
}

/// A required integer given as a JSON number or a decimal string.
pub fn u64_value<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(U64Visitor)?
        .ok_or_else(|| de::Error::invalid_type(de::Unexpected::Unit, &U64Visitor))
}

/// Splits a list given as one string: a JSON array (`["U1","U2"]`), a Python-style array
/// (`['U1', 'U2']`, as in Slack's own examples) or comma-separated values (`U1,U2`).
pub fn split_list(s: &str) -> Result<Vec<String>, String> {
    let t = s.trim();
    if let Some(inner) = t.strip_prefix('[') {
        if let Ok(items) = serde_json::from_str::<Vec<String>>(t) {
            return Ok(items);
        }
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("unterminated array: {s:?}"))?;
        return Ok(inner
            .split(',')
            .map(|item| item.trim().trim_matches(|c| c == '\'' || c == '"').trim())
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect());
    }
    Ok(t.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect())
}

struct UserIdsVisitor;

impl<'de> Visitor<'de> for UserIdsVisitor {
    type Value = Vec<UserId>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of user IDs (JSON array, JSON-array string or comma-separated string)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        split_list(v)
            .map(|items| items.into_iter().map(UserId::new).collect())
            .map_err(E::custom)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1000));
        while let Some(id) = seq.next_element::<String>()? {
            out.push(UserId::new(id));
        }
        Ok(out)
    }
}

/// A required list of user IDs in any of Slack's spellings.
pub fn user_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<UserId>, D::Error> {
    d.deserialize_any(UserIdsVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_in_every_spelling() {
        let want = vec!["U1".to_owned(), "W2".to_owned()];
        for s in [
            "U1,W2",
            " U1 , W2 ",
            r#"["U1","W2"]"#,
            r#"[ "U1", "W2" ]"#,
            "['U1', 'W2']",
            "[U1,W2]",
            "U1,,W2,",
        ] {
            assert_eq!(split_list(s).unwrap(), want, "{s}");
        }
        assert!(split_list("[U1").is_err());
        assert!(split_list("").unwrap().is_empty());
    }

    #[test]
    fn booleans_in_every_spelling() {
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("true"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_bool(""), None);
    }
}
