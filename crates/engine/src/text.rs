//! Text for people: numbers in words, and text from outside made safe to print on a terminal.
//!
//! Every string Slack sends is written by someone else: a member sets their own name, a
//! client reports its own OS, version and device. Printed raw, an escape sequence in one
//! (`ESC ] 0 ; … BEL` retitles the window, `ESC [ 2 J` clears the screen, OSC 52 writes the
//! clipboard, a `CR` and cursor-up overwrites the line above) is obeyed by the terminal.
//! [`visible`] shows such characters as text instead.

use std::borrow::Cow;

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 user` / `2 users`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Whether a terminal may act on `c` rather than draw it: the C0 controls (U+0000–U+001F,
/// TAB, CR and LF included), DEL (U+007F) and the C1 controls (U+0080–U+009F, which a
/// terminal may read as ESC sequences: U+009B is CSI), and the bidirectional embeddings,
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069), which reorder what follows on the
/// line (CVE-2021-42574, "Trojan Source").
pub fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [`is_control`] character written out as its escape (`\u{1b}`), so that
/// it is seen, never obeyed, and takes one column per character shown. Text without one
/// is returned as it is.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_control(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert!(matches!(visible("Ada Lovelace 4.41"), Cow::Borrowed(_)));
        assert_eq!(
            visible("OS X\u{1b}]0;pwned\u{7}\u{1b}[2J"),
            "OS X\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"
        );
        // CR and cursor-up, tab and newline, DEL, C1 CSI, a right-to-left override.
        assert_eq!(
            visible("a\r\u{1b}[1A\tb\nc\u{7f}\u{9b}2J\u{202e}d"),
            "a\\u{d}\\u{1b}[1A\\u{9}b\\u{a}c\\u{7f}\\u{9b}2J\\u{202e}d"
        );
        // Letters of any script are not controls.
        assert_eq!(visible("Zoë 李 שלום"), "Zoë 李 שלום");
        assert!((0..=0x10ffff_u32).filter_map(char::from_u32).all(|c| {
            let shown = visible(c.encode_utf8(&mut [0; 4])).into_owned();
            !shown.chars().any(is_control)
        }));
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(plural(1, "user", "users"), "1 user");
        assert_eq!(plural(2_000, "user", "users"), "2,000 users");
    }
}
