//! The response envelope every Web API answer shares, and the one encoder and decoder for it.
//!
//! Slack answers `{"ok":true, …body…}` or `{"ok":false,"error":"…"}`, always as a JSON object,
//! plus optional `warning`, `needed`/`provided` (for `missing_scope`) and `response_metadata`.
//! The emulator encodes with [`encode`]; the client decodes with [`decode`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{ErrorCode, WarningCode};

/// `response_metadata`: the list cursor, warnings and human-readable messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseMetadata {
    /// Cursor of the next page; `""` (or absent) on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The warning codes, duplicating the top-level `warning`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningCode>,
    /// Details such as `"[ERROR] missing required field: user_id [json-pointer:/user_id]"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
}

impl ResponseMetadata {
    /// True when nothing would be serialized.
    pub fn is_empty(&self) -> bool {
        self.next_cursor.is_none() && self.warnings.is_empty() && self.messages.is_empty()
    }
}

/// The envelope fields of an answer, apart from the method's own body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Status {
    /// Whether the call succeeded.
    pub ok: bool,
    /// The error code when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
    /// Comma-separated warning codes of a call that succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// For `missing_scope`: the scope the method needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed: Option<String>,
    /// For `missing_scope`: the token's scopes, comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provided: Option<String>,
    /// Cursor, warnings and messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_metadata: Option<ResponseMetadata>,
}

impl Status {
    /// A success with the given warnings (in both `warning` and `response_metadata.warnings`).
    pub fn success(warnings: &[WarningCode]) -> Self {
        let mut status = Status {
            ok: true,
            ..Status::default()
        };
        status.add_warnings(warnings);
        status
    }

    /// A failure with `code`.
    pub fn failure(code: ErrorCode) -> Self {
        Status {
            ok: false,
            error: Some(code),
            ..Status::default()
        }
    }

    /// Adds warnings to both places Slack reports them.
    pub fn add_warnings(&mut self, warnings: &[WarningCode]) {
        if warnings.is_empty() {
            return;
        }
        let joined = warnings
            .iter()
            .map(WarningCode::as_str)
            .collect::<Vec<_>>()
            .join(",");
        self.warning = Some(joined);
        self.metadata_mut()
            .warnings
            .extend(warnings.iter().cloned());
    }

    /// Adds a human-readable message to `response_metadata.messages`.
    pub fn add_message(&mut self, message: impl Into<String>) {
        self.metadata_mut().messages.push(message.into());
    }

    /// `response_metadata`, created when absent.
    pub fn metadata_mut(&mut self) -> &mut ResponseMetadata {
        self.response_metadata.get_or_insert_with(Default::default)
    }

    /// Every warning code, from `warning` and `response_metadata.warnings`, without repeats.
    pub fn warnings(&self) -> Vec<WarningCode> {
        let mut out: Vec<WarningCode> = Vec::new();
        let top = self
            .warning
            .iter()
            .flat_map(|w| w.split(','))
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(WarningCode::parse);
        let meta = self
            .response_metadata
            .iter()
            .flat_map(|m| m.warnings.iter().cloned());
        for w in top.chain(meta) {
            if !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }

    /// The list cursor of the next page, `None` on the last page (`""`, null or absent).
    pub fn next_cursor(&self) -> Option<&str> {
        self.response_metadata
            .as_ref()
            .and_then(|m| m.next_cursor.as_deref())
            .filter(|c| !c.is_empty())
    }

    /// `response_metadata.messages`, empty when absent.
    pub fn messages(&self) -> &[String] {
        self.response_metadata
            .as_ref()
            .map(|m| m.messages.as_slice())
            .unwrap_or(&[])
    }
}

/// An answer as Slack orders it: `ok` and the other envelope fields first, the method's body,
/// then `response_metadata` last (as in the examples of Slack's method pages).
#[derive(Serialize)]
struct Envelope<'a, T> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: &'a Option<ErrorCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    needed: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provided: &'a Option<String>,
    #[serde(flatten)]
    body: Option<&'a T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_metadata: &'a Option<ResponseMetadata>,
}

impl<'a, T> Envelope<'a, T> {
    fn new(status: &'a Status, body: Option<&'a T>) -> Self {
        Envelope {
            ok: status.ok,
            error: &status.error,
            warning: &status.warning,
            needed: &status.needed,
            provided: &status.provided,
            body,
            response_metadata: &status.response_metadata,
        }
    }
}

/// Encodes an answer: the envelope fields and, on success, the method's body, in Slack's
/// order (`response_metadata` last).
pub fn encode<T: Serialize>(status: &Status, body: Option<&T>) -> Vec<u8> {
    // Serializing plain data types into a Vec cannot fail.
    serde_json::to_vec(&Envelope::new(status, body)).expect("response types serialize infallibly")
}

/// Encodes a successful answer whose body's members `write_members` writes as JSON text
/// (`"name":value,…`, already escaped), in the same order as [`encode`]: for a body that is
/// cheaper to write by hand than through serde (the emulator's `list` pages).
pub fn encode_members(status: &Status, write_members: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut head = status.clone();
    let metadata = head.response_metadata.take();
    let mut out = encode::<()>(&head, None);
    out.pop(); // the closing brace
    out.push(b',');
    write_members(&mut out);
    if let Some(metadata) = &metadata {
        out.extend_from_slice(b",\"response_metadata\":");
        serde_json::to_writer(&mut out, metadata).expect("metadata serializes infallibly");
    }
    out.push(b'}');
    out
}

/// A JSON body that did not decode, with the JSON path where it failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode the answer at `{path}`: {message}")]
pub struct DecodeError {
    /// The JSON path that failed, e.g. `active_sessions[3].session_id` (`.` for the root).
    pub path: String,
    /// What was wrong there.
    pub message: String,
    /// Whether the bytes were not JSON, cut short, or JSON of the wrong shape.
    pub kind: DecodeErrorKind,
}

/// What kind of body failed to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Not JSON at all (an HTML error page, say).
    NotJson,
    /// JSON that ends too early: the answer was cut off.
    Truncated,
    /// Valid JSON whose fields do not have the expected types.
    Shape,
}

impl DecodeError {
    fn from_path(err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = err.path().to_string();
        let inner = err.into_inner();
        DecodeError {
            path,
            kind: match inner.classify() {
                serde_json::error::Category::Eof => DecodeErrorKind::Truncated,
                serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                    DecodeErrorKind::NotJson
                }
                serde_json::error::Category::Data => DecodeErrorKind::Shape,
            },
            message: inner.to_string(),
        }
    }
}

/// Decodes `T` from the whole of `bytes`. Tracking the JSON path costs as much as the decoding
/// itself, so only a body that failed is decoded again to name where.
fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(bytes).map_err(|_| decode_error::<T>(bytes))
}

/// Decodes again, tracking the path, for the error of bytes that did not decode.
fn decode_error<T: DeserializeOwned>(bytes: &[u8]) -> DecodeError {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Err(err) => DecodeError::from_path(err),
        Ok(_) => unreachable!("serde_json decodes the same bytes the same way twice"),
    }
}

/// Decodes the envelope of an answer (`ok`, `error`, `warning`, `response_metadata`...). The
/// rest of the body is skipped without being built, but its syntax is checked to the end.
pub fn decode_status(bytes: &[u8]) -> Result<Status, DecodeError> {
    decode_json(bytes)
}

/// Decodes the method's body from a successful answer (the envelope's fields are ignored).
///
/// The body's UTF-8 is checked once, in bulk, and then decoded as text: decoding bytes checks
/// every string it builds on its own, which cost a sixth of a session page's decoding.
/// Invalid UTF-8 is decoded as bytes, for the error that says where.
pub fn decode_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text).map_err(|_| decode_error::<T>(bytes)),
        Err(_) => decode_json(bytes),
    }
}

/// Decodes an answer: the envelope always, the body only when `ok` is true.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<(Status, Option<T>), DecodeError> {
    let status = decode_status(bytes)?;
    if !status.ok {
        return Ok((status, None));
    }
    let body = decode_body(bytes)?;
    Ok((status, Some(body)))
}

/// Decodes a successful answer's envelope and body in one pass: what [`decode`] finds, when
/// `ok` is true and both decode. `None` otherwise (an error answer, a body that is not JSON,
/// cut off or of the wrong shape): [`decode_status`] and [`decode_body`] then say what is
/// wrong and where. A page of 1,000 sessions is read once instead of twice.
pub fn decode_answer<T: DeserializeOwned>(bytes: &[u8]) -> Option<(Status, T)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let answer: Answer<T> = serde_json::from_str(text).ok()?;
    answer.status.ok.then_some((answer.status, answer.body))
}

/// The cursor of a successful answer, read from its two ends only: `Some` when the body begins
/// `{"ok":true,` and ends `"response_metadata":{"next_cursor":"…"}}`, as Slack's list answers
/// do (whitespace allowed between the tokens); `Some("")` on a last page.
///
/// For a body that is JSON (no key repeated, as [`decode_answer`] requires), this is exact:
/// a JSON string ends at the first quote not escaped (preceded by an even run of
/// backslashes), so the tokens read backwards from the document's last brace are its own
/// last tokens, and the cursor is `response_metadata.next_cursor` of the top-level object.
/// What lies between is not read, so a body that is not JSON can pass: only a decoding of
/// the whole body ([`decode_answer`]) says it is one. A list walk reads the cursor this way
/// to ask for the next page while it decodes this one.
pub fn peek_cursor(bytes: &[u8]) -> Option<String> {
    let front = after_ok_true(bytes)?;
    let mut back = Backwards(&bytes[front..]);
    back.byte(b'}')?;
    back.byte(b'}')?;
    let cursor = back.string()?;
    back.byte(b':')?;
    (back.string()? == br#""next_cursor""#).then_some(())?;
    back.byte(b'{')?;
    back.byte(b':')?;
    (back.string()? == br#""response_metadata""#).then_some(())?;
    // `ok` is the first member, so `response_metadata` follows a comma (the one after `true`
    // when there is nothing between).
    back.skip_whitespace();
    if !back.0.is_empty() {
        back.byte(b',')?;
    }
    serde_json::from_slice(cursor).ok()
}

/// The bytes after `{"ok":true,`, whitespace allowed between the tokens.
fn after_ok_true(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    for token in [&b"{"[..], b"\"ok\"", b":", b"true", b","] {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        if !bytes[at..].starts_with(token) {
            return None;
        }
        at += token.len();
    }
    Some(at)
}

/// JSON tokens read from the end of a slice towards its start.
struct Backwards<'a>(&'a [u8]);

impl<'a> Backwards<'a> {
    fn skip_whitespace(&mut self) {
        while let [rest @ .., last] = self.0
            && last.is_ascii_whitespace()
        {
            self.0 = rest;
        }
    }

    fn byte(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        let [rest @ .., last] = self.0 else {
            return None;
        };
        (*last == byte).then(|| self.0 = rest)
    }

    /// A string token, quotes included.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.skip_whitespace();
        let bytes = self.0;
        let close = bytes.len().checked_sub(1)?;
        if bytes[close] != b'"' || escaped(bytes, close) {
            return None;
        }
        let open = (0..close)
            .rev()
            .find(|&i| bytes[i] == b'"' && !escaped(bytes, i))?;
        self.0 = &bytes[..open];
        Some(&bytes[open..=close])
    }
}

/// Whether the quote at `at` is escaped: preceded by an odd run of backslashes.
fn escaped(bytes: &[u8], at: usize) -> bool {
    let run = bytes[..at]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    run % 2 == 1
}

/// An answer decoded in one pass: the envelope's members go to `status`, the others to the
/// body's own `Deserialize`, which never sees the envelope's.
struct Answer<T> {
    status: Status,
    body: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Answer<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AnswerVisitor(std::marker::PhantomData))
    }
}

struct AnswerVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for AnswerVisitor<T> {
    type Value = Answer<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Answer<T>, A::Error> {
        let mut head = Head::default();
        // The body's visitor asks for members until there are none left, so every member,
        // the envelope's included, has been read when it returns.
        let body = T::deserialize(BodyMembers {
            map,
            head: &mut head,
        })?;
        let ok = head
            .ok
            .ok_or_else(|| serde::de::Error::missing_field("ok"))?;
        Ok(Answer {
            status: Status {
                ok,
                error: head.error,
                warning: head.warning,
                needed: head.needed,
                provided: head.provided,
                response_metadata: head.response_metadata,
            },
            body,
        })
    }
}

/// The envelope's members as they are met: [`Status`]'s fields.
#[derive(Default)]
struct Head {
    ok: Option<bool>,
    error: Option<ErrorCode>,
    warning: Option<String>,
    needed: Option<String>,
    provided: Option<String>,
    response_metadata: Option<ResponseMetadata>,
    seen: [bool; Head::MEMBERS.len()],
}

impl Head {
    const MEMBERS: [&'static str; 6] = [
        "ok",
        "error",
        "warning",
        "needed",
        "provided",
        "response_metadata",
    ];

    /// Reads the value of `key` when it is an envelope member (and says so); a member met
    /// twice is an error, as it is for [`Status`].
    fn take<'de, A: serde::de::MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        let Some(i) = Head::MEMBERS.iter().position(|member| *member == key) else {
            return Ok(false);
        };
        if std::mem::replace(&mut self.seen[i], true) {
            return Err(serde::de::Error::duplicate_field(Head::MEMBERS[i]));
        }
        match i {
            0 => self.ok = Some(map.next_value()?),
            1 => self.error = map.next_value()?,
            2 => self.warning = map.next_value()?,
            3 => self.needed = map.next_value()?,
            4 => self.provided = map.next_value()?,
            _ => self.response_metadata = map.next_value()?,
        }
        Ok(true)
    }
}

/// The answer's members minus the envelope's, as a map for the body's `Deserialize`.
struct BodyMembers<'h, A> {
    map: A,
    head: &'h mut Head,
}

impl<'de, A: serde::de::MapAccess<'de>> serde::Deserializer<'de> for BodyMembers<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for BodyMembers<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
        loop {
            let Some(key) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            if self.head.take(key.as_str(), &mut self.map)? {
                continue;
            }
            return match key {
                Key::Borrowed(key) => seed.deserialize(BorrowedStrDeserializer::new(key)),
                Key::Owned(key) => seed.deserialize(StringDeserializer::new(key)),
            }
            .map(Some);
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A member's name: borrowed from the body unless it had escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(key) => key,
            Key::Owned(key) => key,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(key))
            }

            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(key.to_owned()))
            }

            fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(key))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_go_to_both_fields() {
        let status = Status::success(&[WarningCode::SuperfluousCharset]);
        let json: serde_json::Value = serde_json::from_slice(&encode::<()>(&status, None)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"ok": true, "warning": "superfluous_charset",
                "response_metadata": {"warnings": ["superfluous_charset"]}})
        );
        assert_eq!(status.warnings(), vec![WarningCode::SuperfluousCharset]);
    }

    #[test]
    fn empty_cursor_means_last_page() {
        let (status, _) =
            decode::<serde_json::Value>(br#"{"ok":true,"response_metadata":{"next_cursor":""}}"#)
                .unwrap();
        assert_eq!(status.next_cursor(), None);
        let (status, _) = decode::<serde_json::Value>(
            br#"{"ok":true,"response_metadata":{"next_cursor":"abc"}}"#,
        )
        .unwrap();
        assert_eq!(status.next_cursor(), Some("abc"));
    }

    #[test]
    fn decode_error_names_the_path() {
        #[derive(Debug, Deserialize)]
        struct Body {
            #[allow(dead_code)]
            items: Vec<u32>,
        }
        let err = decode::<Body>(br#"{"ok":true,"items":[1,"x"]}"#).unwrap_err();
        assert_eq!(err.path, "items[1]");
        assert_eq!(err.kind, DecodeErrorKind::Shape);
        let cut = decode_status(br#"{"ok":true,"items":[1,"#).unwrap_err();
        assert_eq!(cut.kind, DecodeErrorKind::Truncated);
        let html = decode_status(b"<html>busy</html>").unwrap_err();
        assert_eq!(html.kind, DecodeErrorKind::NotJson);
    }

    /// The body is checked for UTF-8 as a whole and decoded as text; bytes that are not UTF-8
    /// are decoded as bytes, so they answer as they always did: an error naming the string when
    /// it is one the body keeps, nothing when it is one it skips.
    #[test]
    fn a_body_that_is_not_utf8_decodes_as_bytes_did() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Body {
            names: Vec<String>,
        }
        let text = "{\"ok\":true,\"names\":[\"Ola\",\"Åsa\"],\"skipped\":\"ü\"}";
        let body: Body = decode_body(text.as_bytes()).unwrap();
        assert_eq!(body.names, ["Ola", "Åsa"]);

        let kept = b"{\"ok\":true,\"names\":[\"Ola\",\"\xff\"]}";
        let err = decode_body::<Body>(kept).unwrap_err();
        assert_eq!(err.path, "names[1]");
        assert!(err.message.contains("invalid unicode"), "{}", err.message);

        let skipped = b"{\"ok\":true,\"names\":[\"Ola\"],\"other\":\"\xff\"}";
        let bytes_said: Result<Body, _> = serde_json::from_slice(skipped);
        assert_eq!(decode_body::<Body>(skipped).ok(), bytes_said.ok());
    }

    /// Slack's example page, pretty-printed, and cursors with every character that needs
    /// care: quotes, backslashes before a quote, escaped slashes, braces, non-ASCII.
    #[test]
    fn a_page_cursor_is_read_from_its_ends() {
        let slack = "{\"ok\": true,\n \"active_sessions\": [{\"session_id\": 1}],\n \
                     \"response_metadata\": {\"next_cursor\": \"\"}}\n";
        assert_eq!(peek_cursor(slack.as_bytes()).as_deref(), Some(""));
        let escaped = br#"{"ok":true,"response_metadata":{"next_cursor":"dXNl\/cjo="}}"#;
        assert_eq!(peek_cursor(escaped).as_deref(), Some("dXNl/cjo="));
        for cursor in [
            "abc",
            "a\"b",
            "a\\",
            "\\\"",
            "}}\"",
            "\"response_metadata\"",
            "Åsa 🦀",
            "",
        ] {
            let mut status = Status::success(&[]);
            status.metadata_mut().next_cursor = Some(cursor.to_owned());
            let body = serde_json::json!({"active_sessions": [{"ip": "\\\"}}"}]});
            let bytes = encode(&status, Some(&body));
            assert_eq!(peek_cursor(&bytes).as_deref(), Some(cursor), "{cursor:?}");
            let (decoded, _) = decode_answer::<serde_json::Value>(&bytes).unwrap();
            assert_eq!(decoded, status);
        }
    }

    proptest::proptest! {
        /// Any cursor, after any body, whitespace or not: read from the ends as decoded.
        #[test]
        fn any_cursor_is_read_as_decoded(cursor in ".*", ip in ".*", pretty: bool) {
            let mut status = Status::success(&[]);
            status.metadata_mut().next_cursor = Some(cursor.clone());
            let body = serde_json::json!({"active_sessions": [{"ip": ip}]});
            let mut bytes = encode(&status, Some(&body));
            if pretty {
                let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                bytes = serde_json::to_vec_pretty(&value).unwrap();
            }
            proptest::prop_assert_eq!(peek_cursor(&bytes), Some(cursor));
        }
    }

    /// Whatever does not end as a page's envelope does at the top level gives no cursor:
    /// the walk then reads the whole envelope before it asks for the next page.
    #[test]
    fn no_cursor_is_guessed() {
        for body in [
            // Not at the top level, or not the last member, or not the only one.
            r#"{"ok":true,"x":{"response_metadata":{"next_cursor":"evil"}}}"#,
            r#"{"ok":true,"x":"\"response_metadata\":{\"next_cursor\":\"evil\"}}"}"#,
            r#"{"ok":true,"response_metadata":{"next_cursor":"abc"},"active_sessions":[]}"#,
            r#"{"ok":true,"response_metadata":{"warnings":["w"],"next_cursor":"abc"}}"#,
            // Not a success whose first member is `ok`.
            r#"{"ok":false,"error":"ratelimited","response_metadata":{"next_cursor":"a"}}"#,
            r#"{"active_sessions":[],"ok":true,"response_metadata":{"next_cursor":"a"}}"#,
            r#"{"ok":true"response_metadata":{"next_cursor":"a"}}"#,
            // The cursor's closing quote escaped; a key spelled with an escape.
            r#"{"ok":true,"response_metadata":{"next_cursor":"a\"}}"#,
            r#"{"ok":true,"response_metadata":{"next\u005fcursor":"a"}}"#,
            "",
            "{",
            r#"{"ok":true,"#,
        ] {
            assert_eq!(peek_cursor(body.as_bytes()), None, "{body}");
        }
    }

    /// One pass gives what two do, and the body never sees the envelope's members.
    #[test]
    fn an_answer_decodes_in_one_pass_as_in_two() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Body {
            items: Vec<u32>,
        }
        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct Strict {
            items: Vec<u32>,
        }
        let text = br#"{"ok":true,"warning":"superfluous_charset","items":[1,2],
            "response_metadata":{"next_cursor":"c","warnings":["superfluous_charset"],
            "messages":["[WARN] x"]}}"#;
        let (status, body) = decode_answer::<Body>(text).unwrap();
        let (two_status, two_body) = decode::<Body>(text).unwrap();
        assert_eq!((&status, Some(body)), (&two_status, two_body));
        let (strict_status, strict) = decode_answer::<Strict>(text).unwrap();
        assert_eq!((strict_status, strict.items), (status, vec![1, 2]));
        for broken in [
            &br#"{"ok":false,"error":"invalid_auth"}"#[..],
            br#"{"ok":true,"ok":true,"items":[]}"#,
            br#"{"ok":true,"items":[1,"x"]}"#,
            br#"{"ok":true,"items":[1,"#,
            br#"{"items":[]}"#,
            b"<html>busy</html>",
            b"{\"ok\":true,\"items\":[],\"x\":\"\xff\"}",
        ] {
            assert!(decode_answer::<Body>(broken).is_none(), "{broken:?}");
        }
    }

    #[test]
    fn an_answer_is_encoded_in_slacks_order() {
        let mut status = Status::success(&[WarningCode::SuperfluousCharset]);
        status.metadata_mut().next_cursor = Some(String::new());
        let body = serde_json::json!({"active_sessions": []});
        let text = String::from_utf8(encode(&status, Some(&body))).unwrap();
        assert_eq!(
            text,
            r#"{"ok":true,"warning":"superfluous_charset","active_sessions":[],"response_metadata":{"next_cursor":"","warnings":["superfluous_charset"]}}"#
        );
    }

    #[test]
    fn failure_has_no_body() {
        let (status, body) =
            decode::<serde_json::Value>(br#"{"ok":false,"error":"invalid_auth"}"#).unwrap();
        assert_eq!(status.error, Some(ErrorCode::InvalidAuth));
        assert!(body.is_none());
    }
}
