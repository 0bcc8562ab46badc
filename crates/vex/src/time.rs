//! Timestamps to order statements: RFC 3339 through `patchpilot-osv`'s parser (offsets
//! applied, so timestamps written in different zones compare right), plus the bare dates and
//! space-separated date-times some VEX documents use.

/// Nanoseconds since 1970-01-01T00:00:00Z, or `None` when `s` is not RFC 3339.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let owned;
    let s = if b.len() == 10 {
        owned = format!("{s}T00:00:00Z");
        &owned
    } else if b.get(10) == Some(&b' ') {
        // Byte 10 is ASCII, so both slices fall on character boundaries.
        owned = format!("{}T{}", &s[..10], &s[11..]);
        &owned
    } else {
        s
    };
    let t = patchpilot_osv::Timestamp::parse(s).ok()?;
    Some(i128::from(t.unix_seconds) * 1_000_000_000 + i128::from(t.nanos))
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339 as p;

    #[test]
    fn valid_and_ordering() {
        assert_eq!(p("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(p("1970-01-02"), Some(86_400 * 1_000_000_000));
        assert_eq!(
            p("2000-03-01T00:00:00Z").map(|n| n / 1_000_000_000),
            Some(951_868_800)
        );
        assert_eq!(p("2023-01-01T01:00:00+01:00"), p("2023-01-01T00:00:00Z"));
        assert_eq!(
            p("2023-01-01T00:00:00.5Z").map(|n| n % 1_000_000_000),
            Some(500_000_000)
        );
        assert!(p("2023-01-01T00:00:00Z") < p("2023-01-01T00:00:00.000000001Z"));
        assert!(p("2022-12-31T23:59:59-05:00") > p("2023-01-01T04:00:00Z"));
    }

    #[test]
    fn invalid() {
        for s in [
            "",
            "2023",
            "2023-13-01",
            "2023-02-30",
            "2023-01-01T",
            "2023-01-01T25:00:00Z",
            "2023-01-01T00:00:00",
            "2023-01-01T00:00:00.Z",
            "2023-01-01T00:00:00+0100",
            "yesterday",
            "2023-1-01T00:00:00Z",
            "２023-01-01",
        ] {
            assert_eq!(p(s), None, "{s:?}");
        }
    }
}
