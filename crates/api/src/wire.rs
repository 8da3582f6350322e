//! Arguments on the wire: encoding them (client) and decoding request bodies the way Slack
//! accepts them (emulator).
//!
//! Decoding happens in two steps. [`decode_body`] turns a request (content type, query string,
//! body) into a flat JSON object of arguments plus the `token` field, or into the Slack error a
//! malformed request earns. [`args_from_map`] then builds a method's typed arguments from that
//! object, with the JSON pointer of the argument at fault when it fails.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{ErrorCode, WarningCode};

/// Encodes arguments as form fields: lists comma-separated, booleans `true`/`false`,
/// numbers in decimal, absent options left out.
pub fn to_form<A: Serialize>(args: &A) -> Vec<(String, String)> {
    let Ok(Value::Object(map)) = serde_json::to_value(args) else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(name, value)| form_value(value).map(|v| (name, v)))
        .collect()
}

fn form_value(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(form_value)
                .collect::<Vec<_>>()
                .join(","),
        ),
        other @ Value::Object(_) => Some(other.to_string()),
    }
}

/// Encodes arguments as a JSON object body.
pub fn to_json<A: Serialize>(args: &A) -> Vec<u8> {
    serde_json::to_vec(args).expect("argument types serialize infallibly")
}

/// Why a request body was refused: the Slack code and a detail for `response_metadata.messages`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct WireError {
    /// The Slack error code.
    pub code: ErrorCode,
    /// What was wrong, for a human.
    pub detail: String,
}

impl WireError {
    fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        WireError {
            code,
            detail: detail.into(),
        }
    }
}

/// A request's arguments, decoded.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct RawArgs {
    /// The arguments (without `token`): strings from forms and queries, typed values from JSON.
    pub args: Map<String, Value>,
    /// A `token` given as a form or query field (never taken from a JSON body).
    pub token: Option<String>,
    /// Warnings the request earned, such as `superfluous_charset`.
    pub warnings: Vec<WarningCode>,
    /// The body was JSON, so the token must come from the `Authorization` header.
    pub json: bool,
}

/// The longest argument name accepted; longer ones are `invalid_arg_name`.
pub const MAX_ARG_NAME: usize = 64;

/// The most distinct arguments one request may carry (no method takes more than six): a body of
/// thousands of names is refused as it is read, not kept.
pub const MAX_ARGS: usize = 64;

enum Charset {
    Utf8,
    Latin1,
}

/// Decodes a request the way Slack does.
///
/// - no content type: the body must be empty (`missing_post_type` otherwise);
/// - `application/x-www-form-urlencoded` and `multipart/form-data`: a `charset` parameter earns
///   `superfluous_charset`;
/// - `application/json`: a JSON object (`invalid_json`, `json_not_object`); no charset earns
///   `missing_charset`;
/// - `text/plain`: read as a form; no charset earns `missing_charset`;
/// - any other type: `invalid_post_type`; a charset other than UTF-8 or ISO-8859-1:
///   `invalid_charset`.
///
/// Query-string arguments are merged in; body arguments win. Argument names must be letters,
/// digits and `_` (`invalid_arg_name`); PHP-style `foo[0]`/`foo[]` names are `invalid_array_arg`.
pub fn decode_body(
    content_type: Option<&str>,
    query: Option<&str>,
    body: &[u8],
) -> Result<RawArgs, WireError> {
    let mut out = RawArgs::default();
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        parse_form(query.as_bytes(), &Charset::Utf8, &mut out)?;
    }
    let Some(content_type) = content_type.map(str::trim).filter(|c| !c.is_empty()) else {
        if body.is_empty() {
            return Ok(out);
        }
        return Err(WireError::new(
            ErrorCode::MissingPostType,
            "the request has a body but no Content-Type",
        ));
    };
    let mut parts = content_type.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let mut charset = None;
    for param in parts {
        if let Some((name, value)) = param.split_once('=')
            && name.trim().eq_ignore_ascii_case("charset")
        {
            charset = Some(value.trim().trim_matches('"').to_ascii_lowercase());
        }
    }
    let cs = match charset.as_deref() {
        None | Some("utf-8" | "utf8") => Charset::Utf8,
        Some("iso-8859-1" | "latin1" | "latin-1") => Charset::Latin1,
        Some(other) => {
            return Err(WireError::new(
                ErrorCode::InvalidCharset,
                format!("charset {other:?} is not one of utf-8, iso-8859-1"),
            ));
        }
    };
    match mime.as_str() {
        "application/x-www-form-urlencoded" => {
            if charset.is_some() {
                out.warnings.push(WarningCode::SuperfluousCharset);
            }
            parse_form(body, &cs, &mut out)?;
        }
        "multipart/form-data" => {
            if charset.is_some() {
                out.warnings.push(WarningCode::SuperfluousCharset);
            }
            parse_multipart(content_type, body, &cs, &mut out)?;
        }
        "text/plain" => {
            if charset.is_none() {
                out.warnings.push(WarningCode::MissingCharset);
            }
            parse_form(body, &cs, &mut out)?;
        }
        "application/json" => {
            if charset.is_none() {
                out.warnings.push(WarningCode::MissingCharset);
            }
            out.json = true;
            parse_json(body, &mut out)?;
        }
        _ => {
            return Err(WireError::new(
                ErrorCode::InvalidPostType,
                format!("Content-Type {mime:?} is not accepted"),
            ));
        }
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), WireError> {
    if let Some(open) = name.find('[')
        && name.ends_with(']')
        && open > 0
    {
        return Err(WireError::new(
            ErrorCode::InvalidArrayArg,
            format!("argument {name:?} is a PHP-style array; pass a string"),
        ));
    }
    let valid = !name.is_empty()
        && name.len() <= MAX_ARG_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        let shown: String = name.chars().take(MAX_ARG_NAME).collect();
        Err(WireError::new(
            ErrorCode::InvalidArgName,
            format!("argument name {shown:?} is empty, too long or not letters, digits and _"),
        ))
    }
}

fn insert(out: &mut RawArgs, name: String, value: Value) -> Result<(), WireError> {
    check_name(&name)?;
    if name == "token" {
        if !out.json {
            out.token = value.as_str().map(str::to_owned);
        }
    } else {
        if out.args.len() >= MAX_ARGS && !out.args.contains_key(&name) {
            return Err(WireError::new(
                ErrorCode::InvalidArguments,
                format!("more than {MAX_ARGS} arguments"),
            ));
        }
        out.args.insert(name, value);
    }
    Ok(())
}

fn decode_component(raw: &[u8], cs: &Charset) -> Result<String, WireError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    match cs {
        Charset::Utf8 => String::from_utf8(bytes).map_err(|_| {
            WireError::new(ErrorCode::InvalidFormData, "form data is not valid UTF-8")
        }),
        Charset::Latin1 => Ok(bytes.into_iter().map(char::from).collect()),
    }
}

fn parse_form(body: &[u8], cs: &Charset, out: &mut RawArgs) -> Result<(), WireError> {
    for pair in body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let name = decode_component(name, cs)?;
        let value = decode_component(value, cs)?;
        insert(out, name, Value::String(value))?;
    }
    Ok(())
}

fn parse_json(body: &[u8], out: &mut RawArgs) -> Result<(), WireError> {
    // slack_sdk sends `application/json` with an empty body for a call without arguments, and
    // Slack answers it: no body means no arguments.
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| WireError::new(ErrorCode::InvalidJson, format!("invalid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(WireError::new(
            ErrorCode::JsonNotObject,
            "the JSON body is not an object",
        ));
    };
    for (name, value) in map {
        insert(out, name, value)?;
    }
    Ok(())
}

/// A small multipart/form-data reader: text fields only, which is all these methods take.
fn parse_multipart(
    content_type: &str,
    body: &[u8],
    cs: &Charset,
    out: &mut RawArgs,
) -> Result<(), WireError> {
    let bad = |why: &str| WireError::new(ErrorCode::InvalidFormData, why.to_owned());
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| bad("multipart body without a boundary"))?;
    let delimiter = format!("--{boundary}");
    let text = match cs {
        Charset::Utf8 => std::str::from_utf8(body)
            .map_err(|_| bad("form data is not valid UTF-8"))?
            .to_owned(),
        Charset::Latin1 => body.iter().map(|&b| char::from(b)).collect(),
    };
    let mut sections = text.split(delimiter.as_str());
    if sections.next().is_none() {
        return Err(bad("multipart body without parts"));
    }
    let mut closed = false;
    for section in sections {
        if section.starts_with("--") {
            closed = true;
            break;
        }
        let section = section.strip_prefix("\r\n").unwrap_or(section);
        let (head, value) = section
            .split_once("\r\n\r\n")
            .ok_or_else(|| bad("multipart part without headers"))?;
        let name = head
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .flat_map(|l| l.split(';'))
            .filter_map(|p| p.trim().strip_prefix("name="))
            .map(|n| n.trim_matches('"').to_owned())
            .next()
            .ok_or_else(|| bad("multipart part without a name"))?;
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        insert(out, name, Value::String(value.to_owned()))?;
    }
    if !closed {
        return Err(bad("multipart body is not terminated"));
    }
    Ok(())
}

/// Why arguments did not fit a method: the JSON pointer of the argument and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} [json-pointer:{pointer}]")]
pub struct ArgsError {
    /// e.g. `/user_ids`.
    pub pointer: String,
    /// e.g. `missing required field`.
    pub message: String,
}

impl ArgsError {
    /// An error about the argument `name`.
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        ArgsError {
            pointer: format!("/{name}"),
            message: message.into(),
        }
    }

    /// The line for `response_metadata.messages`, as Slack writes it.
    pub fn to_message(&self) -> String {
        format!("[ERROR] {self}")
    }
}

/// Builds a method's typed arguments from decoded raw arguments.
pub fn args_from_map<A: DeserializeOwned>(args: Map<String, Value>) -> Result<A, ArgsError> {
    serde_path_to_error::deserialize(Value::Object(args)).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        // serde reports a missing field at the parent with the message "missing field `x`".
        if let Some(field) = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            return ArgsError::new(field, "missing required argument");
        }
        let pointer = if path == "." {
            "/".to_owned()
        } else {
            format!("/{}", path.replace('.', "/"))
        };
        ArgsError {
            pointer,
            message: inner,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::*;

    fn form(body: &str) -> RawArgs {
        decode_body(
            Some("application/x-www-form-urlencoded"),
            None,
            body.as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn form_token_is_taken_out() {
        let raw = form("token=xoxp-1&user_id=W1&mobile_only=1");
        assert_eq!(raw.token.as_deref(), Some("xoxp-1"));
        let args: ResetArgs = args_from_map(raw.args).unwrap();
        assert_eq!(args, ResetArgs::new("W1").mobile_only(true));
    }

    #[test]
    fn json_token_attribute_is_not_a_credential() {
        let raw = decode_body(
            Some("application/json; charset=utf-8"),
            None,
            br#"{"token":"xoxp-1","user_id":"W1"}"#,
        )
        .unwrap();
        assert_eq!(raw.token, None);
        assert!(raw.json);
        assert!(raw.warnings.is_empty());
    }

    #[test]
    fn content_type_errors() {
        let code = |ct: Option<&str>, body: &[u8]| decode_body(ct, None, body).unwrap_err().code;
        assert_eq!(code(None, b"a=b"), ErrorCode::MissingPostType);
        assert_eq!(code(Some("image/png"), b"a=b"), ErrorCode::InvalidPostType);
        assert_eq!(
            code(
                Some("application/x-www-form-urlencoded; charset=koi8-r"),
                b"a=b"
            ),
            ErrorCode::InvalidCharset
        );
        assert_eq!(code(Some("application/json"), b"{"), ErrorCode::InvalidJson);
        assert_eq!(
            code(Some("application/json"), b"null"),
            ErrorCode::JsonNotObject
        );
        assert_eq!(
            code(Some("application/json"), b"[1]"),
            ErrorCode::JsonNotObject
        );
        assert_eq!(
            code(Some("application/x-www-form-urlencoded"), b"user_ids[0]=U1"),
            ErrorCode::InvalidArrayArg
        );
        assert_eq!(
            code(Some("application/x-www-form-urlencoded"), b"user-id=U1"),
            ErrorCode::InvalidArgName
        );
        assert_eq!(
            code(Some("application/x-www-form-urlencoded"), b"a=%ff"),
            ErrorCode::InvalidFormData
        );
    }

    #[test]
    fn empty_json_body_means_no_arguments() {
        let raw = decode_body(Some("application/json;charset=utf-8"), None, b"").unwrap();
        assert!(raw.args.is_empty() && raw.json);
        let raw = decode_body(Some("application/json"), Some("limit=3"), b" \n").unwrap();
        assert_eq!(raw.args["limit"], "3");
    }

    #[test]
    fn charset_warnings() {
        let raw = decode_body(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            None,
            b"a=b",
        )
        .unwrap();
        assert_eq!(raw.warnings, vec![WarningCode::SuperfluousCharset]);
        let raw = decode_body(Some("application/json"), None, b"{}").unwrap();
        assert_eq!(raw.warnings, vec![WarningCode::MissingCharset]);
        let raw = decode_body(Some("text/plain"), None, b"a=b").unwrap();
        assert_eq!(raw.warnings, vec![WarningCode::MissingCharset]);
        assert_eq!(raw.args["a"], "b");
    }

    #[test]
    fn latin1_and_query_merge() {
        let raw = decode_body(
            Some("application/x-www-form-urlencoded; charset=iso-8859-1"),
            Some("limit=5&cursor=x"),
            b"cursor=%E9",
        )
        .unwrap();
        assert_eq!(raw.args["cursor"], "\u{e9}");
        assert_eq!(raw.args["limit"], "5");
    }

    #[test]
    fn multipart_fields() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\nW1\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nxoxp-9\r\n--XyZ--\r\n";
        let raw = decode_body(
            Some("multipart/form-data; boundary=XyZ"),
            None,
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(raw.args["user_id"], "W1");
        assert_eq!(raw.token.as_deref(), Some("xoxp-9"));
    }

    #[test]
    fn missing_and_bad_arguments_name_the_pointer() {
        let err = args_from_map::<ResetArgs>(form("mobile_only=1").args).unwrap_err();
        assert_eq!(err.pointer, "/user_id");
        let err = args_from_map::<ResetArgs>(form("user_id=W1&web_only=maybe").args).unwrap_err();
        assert_eq!(err.pointer, "/web_only");
        let err =
            args_from_map::<InvalidateArgs>(form("user_id=W1&session_id=abc").args).unwrap_err();
        assert_eq!(err.pointer, "/session_id");
        assert!(err.to_message().starts_with("[ERROR] "));
    }
}
