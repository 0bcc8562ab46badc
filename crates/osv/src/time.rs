//! RFC 3339 timestamps, as OSV's `modified` / `published` / `withdrawn` use them.
//!
//! OSV keeps timestamps as text, and so does [`crate::Advisory`]. Text does not order
//! correctly when precision differs (`…00.5Z` sorts before `…00Z`), so comparisons go
//! through [`Timestamp`], a UTC instant parsed here without any date-time dependency.

use std::fmt;

/// A UTC instant with nanosecond precision, parsed from RFC 3339 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix_seconds: i64,
    /// Sub-second part, `0..1_000_000_000`.
    pub nanos: u32,
}

/// Why a timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError(&'static str);

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Timestamp {
    /// Parse `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. `t`/`z` are accepted in lower case
    /// (RFC 3339 allows it). A leap second (`:60`) is folded onto the next second.
    pub fn parse(s: &str) -> Result<Timestamp, TimestampError> {
        let b = s.as_bytes();
        if b.len() < 20 {
            return Err(TimestampError("too short for an RFC 3339 date-time"));
        }
        let num = |from: usize, len: usize| -> Result<i64, TimestampError> {
            let part = b.get(from..from + len).ok_or(TimestampError("truncated"))?;
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(TimestampError("expected digits"));
            }
            Ok(part.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
        };
        let sep = |i: usize, c: &[u8]| -> Result<(), TimestampError> {
            match b.get(i) {
                Some(x) if c.contains(x) => Ok(()),
                _ => Err(TimestampError("not an RFC 3339 date-time")),
            }
        };
        let year = num(0, 4)?;
        sep(4, b"-")?;
        let month = num(5, 2)?;
        sep(7, b"-")?;
        let day = num(8, 2)?;
        sep(10, b"Tt")?;
        let hour = num(11, 2)?;
        sep(13, b":")?;
        let minute = num(14, 2)?;
        sep(16, b":")?;
        let second = num(17, 2)?;
        if !(1..=12).contains(&month) {
            return Err(TimestampError("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(TimestampError("day out of range"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(TimestampError("time of day out of range"));
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            let digits = i - start;
            if digits == 0 {
                return Err(TimestampError("empty fraction of a second"));
            }
            for _ in digits..9 {
                nanos *= 10;
            }
        }
        let offset_seconds = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(&c @ (b'+' | b'-')) if i + 6 == b.len() => {
                let oh = num(i + 1, 2)?;
                sep(i + 3, b":")?;
                let om = num(i + 4, 2)?;
                if oh > 23 || om > 59 {
                    return Err(TimestampError("time zone offset out of range"));
                }
                let o = oh * 3600 + om * 60;
                if c == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return Err(TimestampError("missing or malformed time zone (want `Z`)")),
        };
        let days = days_from_civil(year, month, day);
        let unix_seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
        Ok(Timestamp {
            unix_seconds,
            nanos,
        })
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_timestamps() {
        let cases: &[(&str, i64, u32)] = &[
            ("1970-01-01T00:00:00Z", 0, 0),
            ("2023-06-13T13:10:24Z", 1_686_661_824, 0),
            ("2021-07-09T00:00:00.123456Z", 1_625_788_800, 123_456_000),
            ("2021-07-09T02:00:00+02:00", 1_625_788_800, 0),
            ("2021-07-08T22:00:00-02:00", 1_625_788_800, 0),
            ("2020-02-29t00:00:00z", 1_582_934_400, 0),
            ("2000-01-01T00:00:00.1234567891Z", 946_684_800, 123_456_789),
        ];
        for (s, secs, nanos) in cases {
            let t = Timestamp::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!((t.unix_seconds, t.nanos), (*secs, *nanos), "{s}");
        }
    }

    #[test]
    fn rejects_invalid_timestamps() {
        for s in [
            "",
            "2023-06-13",
            "2023-06-13 13:10:24Z",
            "2023-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2023-06-13T24:00:00Z",
            "2023-06-13T13:10:24",
            "2023-06-13T13:10:24.Z",
            "2023-06-13T13:10:24Zjunk",
            "2023-06-13T13:10:24+0200",
            "２023-06-13T13:10:24Z",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s:?} should be rejected");
        }
    }

    #[test]
    fn orders_by_instant_not_text() {
        let a = Timestamp::parse("2023-01-01T00:00:00Z").unwrap();
        let b = Timestamp::parse("2023-01-01T00:00:00.5Z").unwrap();
        assert!(a < b);
        assert!("2023-01-01T00:00:00Z" > "2023-01-01T00:00:00.5Z");
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn datetime() -> impl Strategy<Value = (i64, i64, i64, i64, i64, i64, u32)> {
        (
            1900i64..2200,
            1i64..=12,
            0i64..24,
            0i64..60,
            0i64..60,
            0u32..1_000_000_000,
        )
            .prop_flat_map(|(y, m, h, mi, s, n)| {
                (1..=days_in_month(y, m)).prop_map(move |d| (y, m, d, h, mi, s, n))
            })
    }

    fn text(t: &(i64, i64, i64, i64, i64, i64, u32)) -> String {
        let (y, m, d, h, mi, s, n) = *t;
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{n:09}Z")
    }

    proptest! {
        /// Parsing is faithful to calendar order: instants compare like the fields.
        #[test]
        fn order_matches_calendar(a in datetime(), b in datetime()) {
            let (ta, tb) = (Timestamp::parse(&text(&a)).unwrap(), Timestamp::parse(&text(&b)).unwrap());
            prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
            prop_assert_eq!(ta.nanos, a.6);
        }

        /// Any text either parses or is refused; never a panic.
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
            let _ = Timestamp::parse(&s);
        }
    }
}
