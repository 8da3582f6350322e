//! Turning an HTTP answer into a [`Response`] or the error of the stage that failed, and its
//! body into the method's type.
//!
//! An answer is read in two steps: [`classify`] judges the status, headers and envelope (so
//! that the call's retries can be decided), and [`decode_body`] decodes the method's body.
//! A `list` page's envelope is not read twice: its cursor is read from the body's ends, and
//! the rest of its envelope is decoded with its body, in one pass.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use slack_sessions_api::{DecodeErrorKind, ErrorCode, Status, envelope};

use crate::Response;
use crate::error::{
    CallInfo, DecodeFailure, Error, NoAnswer, NoAnswerReason, NotSent, NotSentReason, SlackError,
};

/// The longest `Retry-After` taken from a server; longer values are capped to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A successful answer's body, not decoded yet.
#[derive(Debug)]
pub(crate) struct Raw {
    pub(crate) bytes: Bytes,
    /// The HTTP status when only the envelope's cursor has been read (from the body's ends):
    /// the rest of the envelope is decoded with the body.
    pending: Option<u16>,
}

impl Raw {
    /// A body whose envelope has been read in full.
    pub(crate) fn read(bytes: Bytes) -> Self {
        Raw {
            bytes,
            pending: None,
        }
    }
}

/// The envelope's `ok`, for a body whose envelope did not decode in full.
#[derive(Deserialize)]
struct OkOnly {
    ok: bool,
}

/// Classifies a transport failure by the stage it happened at.
pub(crate) fn transport_error(call: CallInfo, err: reqwest::Error, status: Option<u16>) -> Error {
    let not_sent = if err.is_builder() {
        Some(NotSentReason::Build)
    } else if err.is_connect() && err.is_timeout() {
        Some(NotSentReason::ConnectTimeout)
    } else if err.is_connect() {
        Some(NotSentReason::Connect)
    } else {
        None
    };
    if let Some(reason) = not_sent {
        return Error::NotSent(Box::new(NotSent {
            call,
            reason,
            source: Some(Box::new(err)),
        }));
    }
    let reason = if err.is_timeout() {
        NoAnswerReason::Timeout
    } else {
        NoAnswerReason::ConnectionLost
    };
    Error::NoAnswer(Box::new(NoAnswer {
        call,
        reason,
        status,
        body_snippet: None,
        source: Some(Box::new(err)),
    }))
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The server's request id (`x-slack-req-id`, or `x-request-id`).
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    header_str(headers, "x-slack-req-id")
        .or_else(|| header_str(headers, "x-request-id"))
        .map(str::to_owned)
}

/// `Retry-After` as delay-seconds (integer, or decimal from lenient servers), capped at a day.
pub(crate) fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let value = value?.trim();
    let seconds: f64 = value.parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(
        seconds.min(MAX_RETRY_AFTER.as_secs_f64()),
    ))
}

pub(crate) fn scope_list(value: Option<&str>) -> Option<Vec<String>> {
    value.map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

/// Turns an HTTP answer into a successful envelope, with the body still to decode, or the
/// error of the stage that failed.
pub(crate) fn classify(
    mut call: CallInfo,
    status: StatusCode,
    headers: &HeaderMap,
    bytes: Bytes,
) -> Result<Response<Raw>, Error> {
    call.request_id = request_id(headers);
    let retry_after = parse_retry_after(header_str(headers, RETRY_AFTER.as_str()));
    let code = status.as_u16();
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(Error::rate_limited(call, retry_after, code, &bytes));
    }
    if !status.is_success() {
        return Err(Error::http(call, code, retry_after, &bytes));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::no_answer(
            call,
            NoAnswerReason::EmptyBody,
            code,
            &bytes,
        ));
    }
    // A page that begins `{"ok":true,` and ends with its cursor is a success: a walk can ask
    // for the next page at once, and the rest of the envelope is decoded with the body, in
    // one pass (`decode_body`), instead of a pass of its own over the whole page first.
    let (envelope, pending) = match envelope::peek_cursor(&bytes) {
        Some(cursor) => {
            let mut envelope = Status::success(&[]);
            envelope.metadata_mut().next_cursor = Some(cursor);
            (envelope, Some(code))
        }
        None => (read_envelope(&call, code, retry_after, &bytes)?, None),
    };
    Ok(Response {
        warnings: envelope.warnings(),
        metadata: envelope.response_metadata.unwrap_or_default(),
        scopes: scope_list(header_str(headers, "x-oauth-scopes")),
        accepted_scopes: scope_list(header_str(headers, "x-accepted-oauth-scopes")),
        request_id: call.request_id,
        attempts: 1,
        paced: Duration::ZERO,
        body: Raw { bytes, pending },
    })
}

/// The envelope of a 2xx answer, read in full (a pass over the whole body, which so also finds
/// one that is not JSON or cut off): one that says `ok`, or the error of the stage that failed.
fn read_envelope(
    call: &CallInfo,
    code: u16,
    retry_after: Option<Duration>,
    bytes: &Bytes,
) -> Result<Status, Error> {
    let call = call.clone();
    let raw = || String::from_utf8_lossy(bytes).into_owned();
    let no_answer = |reason| Err(Error::no_answer(call.clone(), reason, code, bytes));
    let envelope = match envelope::decode_status(bytes) {
        Ok(envelope) => envelope,
        Err(e) => {
            return match e.kind {
                DecodeErrorKind::Truncated => no_answer(NoAnswerReason::TruncatedBody),
                DecodeErrorKind::NotJson => no_answer(NoAnswerReason::NotJson),
                DecodeErrorKind::Shape => Err(decode_failure(call, e, bytes)),
            };
        }
    };
    log_warnings(call.method, &envelope);
    if envelope.ok {
        return Ok(envelope);
    }
    let messages = envelope.messages().to_vec();
    let warnings = envelope.warnings();
    let Some(error) = envelope.error else {
        return Err(Error::Decode(Box::new(DecodeFailure {
            call,
            path: "error".to_owned(),
            message: "`ok` is false but there is no error code".to_owned(),
            ok: Some(false),
            raw_body: raw(),
        })));
    };
    if error == ErrorCode::Ratelimited {
        return Err(Error::rate_limited(call, retry_after, code, bytes));
    }
    Err(Error::Slack(Box::new(SlackError {
        call,
        code: error,
        needed: envelope.needed,
        provided: envelope.provided,
        messages,
        warnings,
        status: code,
        raw_body: raw(),
    })))
}

/// Logs the warnings of an answer and its `[WARN]` messages.
fn log_warnings(method: &str, envelope: &Status) {
    for warning in envelope.warnings() {
        tracing::warn!(method, %warning, "Slack returned a warning");
    }
    for message in envelope.messages() {
        if message.starts_with("[WARN]") {
            tracing::warn!(method, %message, "Slack returned a message");
        }
    }
}

/// Decodes the method's body of a successful answer (and the rest of its envelope, when
/// only its cursor was read).
pub(crate) fn decode_body<T: DeserializeOwned>(
    method: &'static str,
    mut answer: Response<Raw>,
) -> Result<Response<T>, Error> {
    let call = |answer: &Response<Raw>| {
        let mut call = CallInfo::new(method);
        call.attempts = answer.attempts;
        call.paced = answer.paced;
        call.request_id = answer.request_id.clone();
        call
    };
    if let Some(code) = answer.body.pending {
        if let Some((envelope, body)) = envelope::decode_answer::<T>(&answer.body.bytes) {
            log_warnings(method, &envelope);
            answer.warnings = envelope.warnings();
            answer.metadata = envelope.response_metadata.unwrap_or_default();
            return Ok(answer.map(|_| body));
        }
        // Read as any answer, for the error of the stage that failed: the envelope, then the
        // body. (Its cursor is the one read from its ends, which is exact for JSON, and the
        // envelope decoded: see `envelope::peek_cursor`.)
        let envelope = read_envelope(&call(&answer), code, None, &answer.body.bytes)?;
        answer.warnings = envelope.warnings();
        answer.metadata = envelope.response_metadata.unwrap_or_default();
    }
    match envelope::decode_body::<T>(&answer.body.bytes) {
        Ok(body) => Ok(answer.map(|_| body)),
        Err(e) => Err(decode_failure(call(&answer), e, &answer.body.bytes)),
    }
}

fn decode_failure(call: CallInfo, e: envelope::DecodeError, bytes: &[u8]) -> Error {
    Error::Decode(Box::new(DecodeFailure {
        call,
        path: e.path,
        message: e.message,
        ok: serde_json::from_slice::<OkOnly>(bytes).ok().map(|o| o.ok),
        raw_body: String::from_utf8_lossy(bytes).into_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use slack_sessions_api::WarningCode;
    use slack_sessions_api::methods::{Empty, ListResponse};

    fn answer<T: DeserializeOwned>(
        status: u16,
        headers: &[(&'static str, &'static str)],
        body: &str,
    ) -> Result<Response<T>, Error> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        let raw = classify(
            CallInfo::new("admin.users.session.list"),
            StatusCode::from_u16(status).unwrap(),
            &map,
            Bytes::copy_from_slice(body.as_bytes()),
        )?;
        decode_body("admin.users.session.list", raw)
    }

    /// A page in Slack's order has its cursor read from its ends, before its body is decoded,
    /// and comes out of decoding as a page read in full does.
    #[test]
    fn a_page_read_from_its_ends_decodes_as_one_read_in_full() {
        let text = r#"{"ok":true,"warning":"superfluous_charset","active_sessions":[],
            "response_metadata":{"next_cursor":"abc"}}"#;
        let raw = classify(
            CallInfo::new("admin.users.session.list"),
            StatusCode::OK,
            &HeaderMap::new(),
            Bytes::copy_from_slice(text.as_bytes()),
        )
        .unwrap();
        assert_eq!(raw.body.pending, Some(200));
        assert_eq!(raw.next_cursor(), Some("abc"));
        let page = decode_body::<ListResponse>("admin.users.session.list", raw).unwrap();
        // The same answer with its envelope in another order is read in full.
        let reordered = r#"{"ok":true,"warning":"superfluous_charset",
            "response_metadata":{"next_cursor":"abc"},"active_sessions":[]}"#;
        let full = answer::<ListResponse>(200, &[], reordered).unwrap();
        assert_eq!(page.warnings, vec![WarningCode::SuperfluousCharset]);
        assert_eq!(
            (page.warnings, page.metadata, page.body),
            (full.warnings, full.metadata, full.body)
        );
    }

    /// A body whose ends look like a page's but which is broken between them fails as it
    /// would have when read in full: the stage and the path are the same.
    #[test]
    fn a_page_broken_between_its_ends_fails_as_when_read_in_full() {
        let tail = r#","response_metadata":{"next_cursor":"abc"}}"#;
        let not_json = format!(r#"{{"ok":true,"active_sessions":[{{"x":}}]{tail}"#);
        let Error::NoAnswer(e) = answer::<ListResponse>(200, &[], &not_json).unwrap_err() else {
            panic!("not a NoAnswer")
        };
        assert_eq!(e.reason, NoAnswerReason::NotJson);
        let twice = format!(r#"{{"ok":true,"ok":false,"active_sessions":[]{tail}"#);
        let Error::Decode(e) = answer::<ListResponse>(200, &[], &twice).unwrap_err() else {
            panic!("not a Decode")
        };
        assert!(e.message.contains("duplicate field `ok`"), "{}", e.message);
        let shape = format!(r#"{{"ok":true,"active_sessions":[{{"session_id":"x"}}]{tail}"#);
        let Error::Decode(e) = answer::<ListResponse>(200, &[], &shape).unwrap_err() else {
            panic!("not a Decode")
        };
        assert_eq!(e.path, "active_sessions[0].session_id");
        assert_eq!(e.ok, Some(true));
    }

    #[test]
    fn success_keeps_warnings_metadata_and_headers() {
        let r = answer::<ListResponse>(
            200,
            &[
                ("x-oauth-scopes", "admin.users:read, admin.users:write"),
                ("x-accepted-oauth-scopes", "admin.users:read"),
                ("x-slack-req-id", "req-1"),
            ],
            r#"{"ok":true,"active_sessions":[],"warning":"superfluous_charset",
                "response_metadata":{"next_cursor":"abc","warnings":["superfluous_charset"],
                "messages":["[WARN] careful"]}}"#,
        )
        .unwrap();
        assert_eq!(r.warnings, vec![WarningCode::SuperfluousCharset]);
        assert_eq!(r.next_cursor(), Some("abc"));
        assert_eq!(r.messages(), ["[WARN] careful"]);
        assert_eq!(
            r.scopes.as_deref(),
            Some(
                &[
                    "admin.users:read".to_owned(),
                    "admin.users:write".to_owned()
                ][..]
            )
        );
        assert_eq!(r.accepted_scopes.as_ref().unwrap().len(), 1);
        assert_eq!(r.request_id.as_deref(), Some("req-1"));
        assert!(r.active_sessions.is_empty());
    }

    #[test]
    fn ok_false_is_a_typed_slack_error() {
        let err = answer::<Empty>(
            200,
            &[],
            r#"{"ok":false,"error":"missing_scope","needed":"admin.users:write",
                "provided":"admin.users:read","response_metadata":{"messages":["[ERROR] x"]}}"#,
        )
        .unwrap_err();
        let Error::Slack(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.code, ErrorCode::MissingScope);
        assert_eq!(e.needed.as_deref(), Some("admin.users:write"));
        assert_eq!(e.provided.as_deref(), Some("admin.users:read"));
        assert_eq!(e.messages, ["[ERROR] x"]);
        assert!(e.raw_body.contains("missing_scope"));
        assert!(!err.may_have_been_applied());
        let err = answer::<Empty>(200, &[], r#"{"ok":false,"error":"brand_new"}"#).unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::Other("brand_new".into())));
    }

    #[test]
    fn rate_limits_by_status_or_code() {
        let err = answer::<Empty>(
            429,
            &[("retry-after", "7")],
            r#"{"ok":false,"error":"ratelimited"}"#,
        )
        .unwrap_err();
        assert!(err.is_rate_limited());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        // Even without a body.
        let err = answer::<Empty>(429, &[], "").unwrap_err();
        assert!(err.is_rate_limited());
        assert_eq!(err.retry_after(), None);
        // `ratelimited` at HTTP 200.
        let err = answer::<Empty>(
            200,
            &[("retry-after", "2")],
            r#"{"ok":false,"error":"ratelimited"}"#,
        )
        .unwrap_err();
        assert!(err.is_rate_limited());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        assert!(!err.may_have_been_applied());
    }

    #[test]
    fn unusable_bodies_may_have_been_applied() {
        let cases = [
            ("", NoAnswerReason::EmptyBody),
            ("  \n", NoAnswerReason::EmptyBody),
            ("<html>502 Bad Gateway</html>", NoAnswerReason::NotJson),
            ("ok", NoAnswerReason::NotJson),
            (r#"{"ok":true,"active_sess"#, NoAnswerReason::TruncatedBody),
            (r#"{"ok":tr"#, NoAnswerReason::TruncatedBody),
        ];
        for (body, reason) in cases {
            let err = answer::<Empty>(200, &[], body).unwrap_err();
            let Error::NoAnswer(e) = &err else {
                panic!("{body:?}: {err:?}")
            };
            assert_eq!(e.reason, reason, "{body:?}");
            assert_eq!(e.status, Some(200));
            assert!(err.may_have_been_applied());
        }
    }

    #[test]
    fn http_errors_keep_status_and_retry_after() {
        let err = answer::<Empty>(503, &[("retry-after", "3")], "down").unwrap_err();
        let Error::Http(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.status, 503);
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(e.body_snippet, "down");
        assert!(err.may_have_been_applied());
    }

    #[test]
    fn decode_errors_name_the_path() {
        let err = answer::<ListResponse>(
            200,
            &[],
            r#"{"ok":true,"active_sessions":[{"user_id":"W1","team_id":"T1","session_id":"x","created":{}}]}"#,
        )
        .unwrap_err();
        let Error::Decode(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.path, "active_sessions[0].session_id");
        assert_eq!(e.ok, Some(true));
        assert!(err.may_have_been_applied());
        // A broken envelope: `ok` is not even there.
        let err = answer::<Empty>(200, &[], r#"{"okay":true}"#).unwrap_err();
        let Error::Decode(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.ok, None);
        let err = answer::<Empty>(200, &[], r#"{"ok":false}"#).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err:?}");
        let err = answer::<Empty>(200, &[], r#"[1,2]"#).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err:?}");
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after(Some("30")), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after(Some(" 1.5 ")),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(Some("soon")), None);
        assert_eq!(parse_retry_after(Some("inf")), None);
        assert_eq!(parse_retry_after(None), None);
        assert_eq!(
            parse_retry_after(Some("99999999999999999999")),
            Some(MAX_RETRY_AFTER)
        );
    }
}
