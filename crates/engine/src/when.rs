//! A moment as people write it on a command line: a duration back from now, in the units of
//! [`crate::duration`] (`7d`, `12h`, `1h30m`), or an RFC 3339 date (`2026-11-01`, a whole day
//! in UTC) or date-time with its offset (`2026-11-01T09:30:00Z`, `2026-11-01T09:30:00+01:00`;
//! RFC 3339, section 5.6: <https://www.rfc-editor.org/rfc/rfc3339#section-5.6>).

use std::time::Duration;

/// A moment, or a day, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// This long before now.
    Ago(Duration),
    /// A whole day in UTC, by its first second (Unix seconds).
    Day(u64),
    /// A moment, Unix seconds.
    At(u64),
}

const DAY: u64 = 86_400;

/// Parses a moment: a duration back from now, an RFC 3339 date, or an RFC 3339 date-time
/// with its offset (`Z` or `±hh:mm`).
pub fn parse(text: &str) -> Result<When, String> {
    let text = text.trim();
    // A date starts with its four-digit year and a dash; anything else is a duration.
    let dated = text.len() >= 5
        && text.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && text.as_bytes()[4] == b'-';
    if !dated {
        return crate::duration::parse(text).map(When::Ago).map_err(|e| {
            format!(
                "{e}; or give an RFC 3339 date (2026-11-01) or date-time (2026-11-01T09:30:00Z)"
            )
        });
    }
    let before_1970 = || format!("{text:?} is before 1970");
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return u64::try_from(at.as_second())
            .map(When::At)
            .map_err(|_| before_1970());
    }
    // A full-date is `YYYY-MM-DD` and nothing else (jiff reads a date out of a date-time too).
    if text.len() == "2026-11-01".len()
        && let Ok(day) = text.parse::<jiff::civil::Date>()
    {
        let start = jiff::tz::Offset::UTC
            .to_timestamp(day.at(0, 0, 0, 0))
            .map_err(|e| format!("{text:?}: {e}"))?;
        return u64::try_from(start.as_second())
            .map(When::Day)
            .map_err(|_| before_1970());
    }
    match text.parse::<jiff::civil::DateTime>() {
        // A date-time without an offset names no moment: which zone was meant is not guessed.
        Ok(_) => Err(format!(
            "{text:?} has no offset: add Z for UTC (2026-11-01T09:30:00Z) or one like +01:00"
        )),
        Err(e) => Err(format!(
            "{text:?} is not an RFC 3339 date (2026-11-01) or date-time (2026-11-01T09:30:00Z): {e}"
        )),
    }
}

impl When {
    /// Its first second, Unix seconds, now being `now`: for a lower bound (`--since`).
    pub fn start(self, now: u64) -> u64 {
        match self {
            When::Ago(d) => now.saturating_sub(d.as_secs()),
            When::Day(first) => first,
            When::At(at) => at,
        }
    }

    /// Its last second: for an upper bound (`--until 2026-11-01` includes that whole day).
    pub fn end(self, now: u64) -> u64 {
        match self {
            When::Day(first) => first + DAY - 1,
            other => other.start(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_798_761_600; // 2027-01-01T00:00:00Z

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(parse("7d").unwrap().start(NOW), NOW - 7 * DAY);
        assert_eq!(parse("1h30m").unwrap().end(NOW), NOW - 5_400);
        assert_eq!(parse("0s").unwrap().start(NOW), NOW);
        assert_eq!(
            parse("99999d").unwrap().start(NOW),
            0,
            "not before the epoch"
        );
    }

    #[test]
    fn a_date_is_a_whole_utc_day() {
        let day = parse("2026-11-01").unwrap();
        assert_eq!(day, When::Day(1_793_491_200));
        assert_eq!(day.start(NOW), 1_793_491_200);
        assert_eq!(day.end(NOW), 1_793_491_200 + DAY - 1);
    }

    #[test]
    fn a_date_time_needs_its_offset() {
        assert_eq!(
            parse("2026-11-01T09:30:00Z").unwrap(),
            When::At(1_793_491_200 + 9 * 3_600 + 1_800)
        );
        assert_eq!(
            parse("2026-11-01T10:30:00+01:00").unwrap(),
            parse("2026-11-01T09:30:00Z").unwrap()
        );
        assert!(
            parse("2026-11-01T09:30:00")
                .unwrap_err()
                .contains("no offset")
        );
    }

    #[test]
    fn nonsense_is_refused_with_a_reason() {
        assert!(parse("2026-13-01").unwrap_err().contains("RFC 3339"));
        assert!(parse("yesterday").unwrap_err().contains("RFC 3339"));
        assert!(parse("1969-12-31").unwrap_err().contains("before 1970"));
        assert!(parse("").is_err());
    }
}
