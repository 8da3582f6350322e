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

#[derive(Serialize)]
struct Envelope<'a, T> {
    #[serde(flatten)]
    status: &'a Status,
    #[serde(flatten)]
    body: &'a T,
}

/// Encodes an answer: the envelope fields and, on success, the method's body.
pub fn encode<T: Serialize>(status: &Status, body: Option<&T>) -> Vec<u8> {
    // Serializing plain data types into a Vec cannot fail.
    match body {
        Some(body) => serde_json::to_vec(&Envelope { status, body }),
        None => serde_json::to_vec(status),
    }
    .expect("response types serialize infallibly")
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

    #[test]
    fn failure_has_no_body() {
        let (status, body) =
            decode::<serde_json::Value>(br#"{"ok":false,"error":"invalid_auth"}"#).unwrap();
        assert_eq!(status.error, Some(ErrorCode::InvalidAuth));
        assert!(body.is_none());
    }
}
