//! A civil (proleptic Gregorian) calendar date, `YYYY-MM-DD`.
//!
//! Feeds and SLA policies only ever need whole days: KEV's `dateAdded`/`dueDate`, EPSS's
//! score date, a finding's due date. A 60-line value type with exact day arithmetic
//! (Howard Hinnant's `days_from_civil`) is enough and keeps both feed and risk crates free of
//! time-zone questions. Years are limited to 1..=9999 so the text form is always 4 digits;
//! arithmetic saturates at those bounds instead of panicking.

use std::fmt;
use std::str::FromStr;

/// A calendar date. Ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Why a date string or triple was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {input:?}: {reason}")]
pub struct DateError {
    input: String,
    reason: &'static str,
}

const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// The earliest representable date, 0001-01-01.
    pub const MIN: Date = Date {
        year: MIN_YEAR,
        month: 1,
        day: 1,
    };
    /// The latest representable date, 9999-12-31.
    pub const MAX: Date = Date {
        year: MAX_YEAR,
        month: 12,
        day: 31,
    };

    /// A validated date.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Date, DateError> {
        let err = |reason| DateError {
            input: format!("{year:04}-{month:02}-{day:02}"),
            reason,
        };
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(err("year out of range 1..=9999"));
        }
        if !(1..=12).contains(&month) {
            return Err(err("month out of range 1..=12"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(err("day out of range for the month"));
        }
        Ok(Date { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before).
    pub fn to_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01, saturating at [`Date::MIN`] / [`Date::MAX`].
    pub fn from_days(days: i64) -> Date {
        if days <= Date::MIN.to_days() {
            return Date::MIN;
        }
        if days >= Date::MAX.to_days() {
            return Date::MAX;
        }
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// This date plus `days` (may be negative), saturating at the representable range.
    pub fn add_days(self, days: i64) -> Date {
        Date::from_days(self.to_days().saturating_add(days))
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.to_days() - self.to_days()
    }

    /// Parse the date at the start of an RFC 3339 timestamp (`2026-08-07T16:45:47.0648Z`),
    /// or a bare date. The time part, when present, must start with `T` or a space.
    pub fn parse_prefix(s: &str) -> Result<Date, DateError> {
        let s = s.trim();
        match s.get(10..11) {
            None => s.parse(),
            Some("T") | Some("t") | Some(" ") => s[..10].parse(),
            Some(_) => Err(DateError {
                input: s.to_string(),
                reason: "expected YYYY-MM-DD optionally followed by T and a time",
            }),
        }
    }
}

impl FromStr for Date {
    type Err = DateError;

    /// Strictly `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Date, DateError> {
        let err = |reason| DateError {
            input: s.to_string(),
            reason,
        };
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err("expected YYYY-MM-DD"));
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, DateError> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err("expected digits in YYYY-MM-DD"));
            }
            part.parse::<u32>().map_err(|_| err("expected digits"))
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        Date::new(y as i32, m as u8, d as u8).map_err(|e| DateError {
            input: s.to_string(),
            reason: e.reason,
        })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_day_numbers() {
        let cases = [
            ("1970-01-01", 0),
            ("1970-01-02", 1),
            ("1969-12-31", -1),
            ("2000-02-29", 11_016),
            ("2024-05-02", 19_845),
            ("0001-01-01", -719_162),
        ];
        for (s, days) in cases {
            let d: Date = s.parse().unwrap();
            assert_eq!(d.to_days(), days, "{s}");
            assert_eq!(Date::from_days(days), d, "{s}");
            assert_eq!(d.to_string(), s);
        }
    }

    #[test]
    fn rejects_bad_dates() {
        for s in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "0000-01-01",
            "24-01-01",
            "2024/01/01",
            "2024-1-01x",
            "+024-01-01",
            "",
            "２０２４-01-01",
        ] {
            assert!(s.parse::<Date>().is_err(), "{s} should be rejected");
        }
        assert!("2024-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn timestamp_prefix() {
        let d = Date::parse_prefix("2026-08-07T16:45:47.0648Z").unwrap();
        assert_eq!(d.to_string(), "2026-08-07");
        assert!(Date::parse_prefix("2026-08-07X16").is_err());
        assert_eq!(Date::parse_prefix("2026-08-07").unwrap(), d);
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Date::MAX.add_days(10), Date::MAX);
        assert_eq!(Date::MIN.add_days(-10), Date::MIN);
        assert_eq!(Date::MAX.add_days(i64::MAX), Date::MAX);
        let d: Date = "2024-12-25".parse().unwrap();
        assert_eq!(d.add_days(14).to_string(), "2025-01-08");
        assert_eq!(d.days_until("2025-01-08".parse().unwrap()), 14);
    }

    proptest! {
        #[test]
        fn days_round_trip(days in Date::MIN.to_days()..=Date::MAX.to_days()) {
            let d = Date::from_days(days);
            prop_assert_eq!(d.to_days(), days);
            prop_assert_eq!(d.to_string().parse::<Date>().unwrap(), d);
            // Chronological order agrees with day numbers.
            if days < Date::MAX.to_days() {
                prop_assert!(Date::from_days(days + 1) > d);
            }
        }
    }
}
