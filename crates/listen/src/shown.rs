//! Text from a request, as it may reach a log line or an error: control characters shown as
//! escapes ([`visible`]), never obeyed by a terminal, and cut to a length a log line can hold
//! (a sender chooses its `jti`, its emails and its reasons, and could send megabytes).

use slack_sessions_engine::text::visible;

/// The most characters of one value shown.
pub const MAX_CHARS: usize = 200;

/// `text` safe to print: controls escaped, at most [`MAX_CHARS`] characters (then `…`).
pub fn shown(text: &str) -> String {
    let cut = match text.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    };
    let mut out = visible(cut).into_owned();
    if cut.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_text_is_escaped_and_cut() {
        assert_eq!(shown("a@x.example"), "a@x.example");
        assert_eq!(shown("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        let long = "é".repeat(MAX_CHARS + 5);
        let s = shown(&long);
        assert_eq!(s.chars().count(), MAX_CHARS + 1);
        assert!(s.ends_with('…'));
    }
}
