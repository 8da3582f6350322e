//! Human durations: `8h`, `30d`, `90m`, `1h30m`, `2w`, `45s`, or plain seconds (`28800`).

use std::time::Duration;

/// Parses a duration: plain seconds, or numbers with units `w`, `d`, `h`, `m`, `s`
/// (`1d12h`, `90m`); spaces between parts are allowed.
pub fn parse(text: &str) -> Result<Duration, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.to_ascii_lowercase();
    if compact.is_empty() {
        return Err("empty duration".to_owned());
    }
    if compact.bytes().all(|b| b.is_ascii_digit()) {
        return compact
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("{text:?} is too large"));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut chars = compact.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&next) = chars.peek() {
            if next.is_ascii_alphabetic() {
                unit.push(next);
                chars.next();
            } else {
                break;
            }
        }
        if digits.is_empty() {
            return Err(format!("{text:?}: a number must come before {unit:?}"));
        }
        let factor = match unit.as_str() {
            "w" | "wk" | "week" | "weeks" => 7 * 86_400,
            "d" | "day" | "days" => 86_400,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            _ => {
                return Err(format!(
                    "{text:?}: unknown unit {unit:?} (use w, d, h, m or s, e.g. 8h, 30d, 90m)"
                ));
            }
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("{text:?} is too large"))?;
        digits.clear();
        total = n
            .checked_mul(factor)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{text:?} is too large"))?;
    }
    if !digits.is_empty() {
        return Err(format!(
            "{text:?}: a unit must follow {digits} (e.g. 8h, 30d, 90m; plain seconds alone)"
        ));
    }
    Ok(Duration::from_secs(total))
}

/// A clap value parser for durations.
pub fn parse_arg(text: &str) -> Result<Duration, String> {
    parse(text)
}

/// A clap value parser for durations that must be longer than zero (a timeout of 0 would
/// make every call time out).
pub fn parse_positive(text: &str) -> Result<Duration, String> {
    match parse(text)? {
        d if d.is_zero() => Err("must be longer than 0 (e.g. 30s)".to_owned()),
        d => Ok(d),
    }
}

/// Formats whole seconds the short way: `8h`, `30d`, `1h30m`, `0s`.
pub fn format_secs(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

/// Formats a duration for people: `850ms`, `4.2s`, `3m05s`, `1h02m`.
pub fn format_elapsed(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1_000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> u64 {
        parse(text).unwrap().as_secs()
    }

    #[test]
    fn units_and_plain_seconds() {
        assert_eq!(secs("8h"), 28_800);
        assert_eq!(secs("30d"), 2_592_000);
        assert_eq!(secs("90m"), 5_400);
        assert_eq!(secs("45s"), 45);
        assert_eq!(secs("28800"), 28_800);
        assert_eq!(secs("1h30m"), 5_400);
        assert_eq!(secs("1d 12h"), 129_600);
        assert_eq!(secs("2w"), 1_209_600);
        assert_eq!(secs("3 hours"), 10_800);
        assert_eq!(secs("8H"), 28_800);
        assert_eq!(secs("0"), 0);
    }

    #[test]
    fn nonsense_is_refused_with_a_reason() {
        for bad in ["", "h", "8x", "8h3", "1.5h", "-3h", "99999999999999999999d"] {
            let err = parse(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
        assert!(parse("8y").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn formatting_round_trips() {
        for s in [
            1u64, 59, 60, 180, 3_600, 5_400, 28_800, 86_400, 2_592_000, 90_061,
        ] {
            assert_eq!(secs(&format_secs(s)), s, "{}", format_secs(s));
        }
        assert_eq!(format_secs(28_800), "8h");
        assert_eq!(format_secs(2_592_000), "30d");
        assert_eq!(format_secs(5_400), "1h30m");
        assert_eq!(format_secs(0), "0s");
    }

    #[test]
    fn elapsed() {
        assert_eq!(format_elapsed(Duration::from_millis(850)), "850ms");
        assert_eq!(format_elapsed(Duration::from_millis(4_200)), "4.2s");
        assert_eq!(format_elapsed(Duration::from_secs(185)), "3m05s");
        assert_eq!(format_elapsed(Duration::from_secs(3_720)), "1h02m");
    }
}
