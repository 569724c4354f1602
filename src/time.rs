//! Timestamps: parsing RFC 3339 text into Unix milliseconds and formatting them back.
//!
//! GitLab writes `time` as UTC with millisecond precision (`2024-05-22T10:11:12.345Z`), and container
//! runtimes prefix lines with nanosecond precision. Both are parsed here without allocation. This
//! module does not know about the command line's relative times (`30m`); `config` handles those.

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        b.iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0')),
    )
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a date `YYYY-MM-DD` into the Unix milliseconds of its midnight UTC.
pub fn parse_date(s: &[u8]) -> Option<Millis> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let y = i64::from(digits(&s[0..4])?);
    let m = digits(&s[5..7])?;
    let d = digits(&s[8..10])?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400_000)
}

/// Parses RFC 3339 (`2024-05-22T10:11:12.345Z`, `…+02:00`, a space instead of `T`, any fraction
/// length) into Unix milliseconds. Returns `None` for anything else; never panics.
pub fn parse_rfc3339(s: &[u8]) -> Option<Millis> {
    if s.len() < 20 {
        return None;
    }
    let day = parse_date(&s[..10])?;
    if !matches!(s[10], b'T' | b't' | b' ') || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let hh = i64::from(digits(&s[11..13])?);
    let mm = i64::from(digits(&s[14..16])?);
    let ss = i64::from(digits(&s[17..19])?);
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0i64;
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, &c) in rest[1..1 + n].iter().take(3).enumerate() {
            millis += i64::from(c - b'0') * [100, 10, 1][i];
        }
        rest = &rest[1 + n..];
    }
    let offset_min = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let oh = i64::from(digits(&[*h1, *h2])?);
            let om = i64::from(digits(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let total = oh * 60 + om;
            if *sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    Some(day + ((hh * 60 + mm) * 60 + ss) * 1000 + millis - offset_min * 60_000)
}

/// Formats Unix milliseconds as RFC 3339 UTC with milliseconds: `2024-05-14T00:00:03.120Z`.
pub fn format_rfc3339(t: Millis) -> String {
    let (day, ms) = (t.div_euclid(86_400_000), t.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(day);
    let secs = ms / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ms % 1000
    )
}

/// Formats Unix milliseconds for people: `2024-05-14 00:00:03` (UTC, seconds precision).
pub fn format_human(t: Millis) -> String {
    let s = format_rfc3339(t);
    format!("{} {}", &s[..10], &s[11..19])
}

/// Formats the UTC day of Unix milliseconds: `2024-05-14`.
pub fn format_day(t: Millis) -> String {
    format_rfc3339(t)[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gitlab_times() {
        assert_eq!(parse_rfc3339(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339(b"2024-05-14T00:00:03.120Z"),
            Some(1_715_644_803_120)
        );
        assert_eq!(
            parse_rfc3339(b"2024-01-19T14:12:24.214148186Z"),
            parse_rfc3339(b"2024-01-19T14:12:24.214Z")
        );
        assert_eq!(
            parse_rfc3339(b"2024-05-14T02:00:03+02:00"),
            parse_rfc3339(b"2024-05-14T00:00:03Z")
        );
        assert_eq!(parse_rfc3339(b"2024-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339(b"2024-05-14T00:00:03"), None);
        assert_eq!(parse_rfc3339(b"2024-05-14T24:00:03Z"), None);
        assert_eq!(parse_rfc3339(b"garbage garbage garbage"), None);
    }

    #[test]
    fn formats_round_trip() {
        for t in [0, 1_715_644_803_120, -86_400_001, 253_402_300_799_999] {
            assert_eq!(parse_rfc3339(format_rfc3339(t).as_bytes()), Some(t), "{t}");
        }
        assert_eq!(format_human(1_715_644_803_120), "2024-05-14 00:00:03");
        assert_eq!(format_day(1_715_644_803_120), "2024-05-14");
    }
}
