//! UTC dates and times as FOCUS writes them, parsed by hand (no time zone database needed).
//!
//! FOCUS datetimes are ISO 8601 in UTC. The specification writes `2024-09-01T00:00:00Z`;
//! real exports also write `2024-09-01 00:00:00` (the FOCUS sample), fractions of a second and
//! offsets (`+00:00`). All of them are accepted; an offset is converted to UTC.

use std::fmt;

/// A day as the number of days since 1970-01-01 (UTC): `0` is 1970-01-01.
///
/// # Examples
/// ```
/// use perfcore::cost::Day;
/// let day = Day::parse("2024-09-30").unwrap();
/// assert_eq!(day.to_string(), "2024-09-30");
/// assert_eq!(day.next().to_string(), "2024-10-01");
/// assert_eq!(day.month_start().to_string(), "2024-09-01");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

impl Day {
    /// The day of a calendar date, or `None` if the date does not exist.
    #[must_use]
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Day(days_from_civil(year, month, day)))
    }

    /// Parses `YYYY-MM-DD` (a datetime is accepted too: its UTC day).
    #[must_use]
    pub fn parse(text: &str) -> Option<Day> {
        parse_datetime(text.as_bytes()).map(Day::of_unix_seconds)
    }

    /// The UTC day an instant (seconds since the epoch) falls on.
    #[must_use]
    pub fn of_unix_seconds(seconds: i64) -> Day {
        Day(seconds.div_euclid(86_400) as i32)
    }

    /// The year, month and day of the month.
    #[must_use]
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// The next day.
    #[must_use]
    pub fn next(self) -> Day {
        Day(self.0 + 1)
    }

    /// The first day of this day's month.
    #[must_use]
    pub fn month_start(self) -> Day {
        let (y, m, _) = self.ymd();
        Day(days_from_civil(y, m, 1))
    }

    /// The first day of the next month.
    #[must_use]
    pub fn next_month_start(self) -> Day {
        let (y, m, _) = self.ymd();
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        Day(days_from_civil(y, m, 1))
    }

    /// The Monday of this day's ISO week.
    #[must_use]
    pub fn week_start(self) -> Day {
        // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
        Day(self.0 - (self.0 + 3).rem_euclid(7))
    }

    /// Today, in UTC, from the system clock.
    #[must_use]
    pub fn today() -> Day {
        Day::of_unix_seconds(unix_now())
    }
}

/// Now, in seconds since the epoch, from the system clock (0 before 1970).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Day::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a YYYY-MM-DD date")))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// The inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, &b| n * 10 + u32::from(b - b'0')))
}

/// Parses a FOCUS datetime into seconds since the epoch, UTC.
///
/// Accepts `YYYY-MM-DD`, then optionally `T` or a space, `HH:MM`, `:SS`, a fraction of a
/// second (truncated), and `Z`, `+HH:MM`, `-HH:MM` or `+HHMM` (converted to UTC; no offset
/// means UTC, as FOCUS requires).
pub(crate) fn parse_datetime(text: &[u8]) -> Option<i64> {
    let text = text.trim_ascii();
    if text.len() < 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let year = digits(&text[0..4])? as i32;
    let day = Day::from_ymd(year, digits(&text[5..7])?, digits(&text[8..10])?)?;
    let mut secs = i64::from(day.0) * 86_400;
    let mut rest = &text[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    if !matches!(rest[0], b'T' | b't' | b' ') || rest.len() < 6 || rest[3] != b':' {
        return None;
    }
    let hour = digits(&rest[1..3])?;
    let minute = digits(&rest[4..6])?;
    rest = &rest[6..];
    let mut second = 0;
    if rest.first() == Some(&b':') {
        second = digits(rest.get(1..3)?)?;
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            rest = &rest[1 + n..];
        }
    }
    // 24:00:00 is the end of a day in ISO 8601; a leap second 60 is not accepted.
    if hour > 24 || minute > 59 || second > 59 || (hour == 24 && (minute, second) != (0, 0)) {
        return None;
    }
    secs += i64::from(hour * 3600 + minute * 60 + second);
    // BigQuery's CSV (GCP's FOCUS view) writes `2024-09-01 00:00:00 UTC`.
    let rest = rest
        .strip_suffix(b" UTC")
        .or_else(|| rest.strip_suffix(b"UTC"))
        .map_or(rest, |r| if r.is_empty() { b"Z" } else { r });
    match rest {
        [] | [b'Z' | b'z'] => Some(secs),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [a, b, b':', c, d] | [a, b, c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                [a, b] => (digits(&[*a, *b])?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let offset = i64::from(h * 3600 + m * 60);
            Some(if *sign == b'+' { secs - offset } else { secs + offset })
        }
        _ => None,
    }
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn format_datetime(seconds: i64) -> String {
    let day = Day::of_unix_seconds(seconds);
    let s = seconds.rem_euclid(86_400);
    format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_forms_real_exports_write() {
        let base = i64::from(Day::from_ymd(2024, 9, 1).unwrap().0) * 86_400;
        for (text, expect) in [
            ("2024-09-01", base),
            ("2024-09-01 00:00:00", base),
            ("2024-09-01T00:00:00Z", base),
            ("2024-09-01T01:30:15.123456Z", base + 5415),
            ("2024-09-01T02:00:00+02:00", base),
            ("2024-09-01T02:00:00+0200", base),
            ("2024-08-31T22:00:00-02:00", base),
            ("2024-08-31 24:00:00", base),
            ("2024-09-01 00:00:00 UTC", base),
            ("2024-09-01 02:00:00+02 UTC", base),
            (" 2024-09-01 00:00 ", base),
        ] {
            assert_eq!(parse_datetime(text.as_bytes()), Some(expect), "{text}");
        }
        for bad in [
            "",
            "2024-9-01",
            "2024-02-30",
            "2024-13-01",
            "2024-09-01X",
            "2024-09-01 25:00:00",
            "2024-09-01 00:60",
            "2024-09-01T00:00:00.",
            "2024-09-01T00:00:00+2",
            "NULL",
            "2024-09-01T00:00:00ZZ",
            "٢٠٢٤-09-01",
        ] {
            assert_eq!(parse_datetime(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(format_datetime(base + 5415), "2024-09-01T01:30:15Z");
    }

    #[test]
    fn weeks_start_on_monday_and_months_roll_over() {
        // 2024-09-04 was a Wednesday.
        assert_eq!(Day::parse("2024-09-04").unwrap().week_start().to_string(), "2024-09-02");
        assert_eq!(Day::parse("2024-09-02").unwrap().week_start().to_string(), "2024-09-02");
        assert_eq!(Day::parse("2024-12-31").unwrap().next_month_start().to_string(), "2025-01-01");
        assert_eq!(Day::parse("2024-02-29").unwrap().next().to_string(), "2024-03-01");
        assert_eq!(Day(0).to_string(), "1970-01-01");
        assert_eq!(Day(-1).to_string(), "1969-12-31");
    }

    /// Days counted one by one from 1970-01-01 agree with the closed form.
    #[test]
    fn the_closed_form_agrees_with_counting() {
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for n in 0..(200 * 366) {
            assert_eq!(days_from_civil(y, m, d), n);
            assert_eq!(civil_from_days(n), (y, m, d));
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_the_identity(secs in -5_000_000_000i64..20_000_000_000) {
            prop_assert_eq!(parse_datetime(format_datetime(secs).as_bytes()), Some(secs));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_datetime(&bytes);
        }
    }
}
