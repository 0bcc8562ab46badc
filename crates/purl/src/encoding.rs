//! Percent-encoding as the purl spec uses it.
//!
//! Decoding is strict: a `%` must be followed by two hex digits and the decoded bytes must
//! be UTF-8, otherwise the purl is rejected (a lenient decoder would let two different
//! strings mean the same purl, and break `parse(display(p)) == p`). `+` is a literal plus,
//! never a space: purls are not form-encoded.
//!
//! Encoding keeps only the RFC 3986 unreserved characters (`A-Z a-z 0-9 . - _ ~`) and the
//! colon, which the spec says must not be encoded (`sha256:...`, epochs `1:2.4`). Everything
//! else, including `/`, `@`, `+`, `,`, `?`, `#`, `&`, `=` and space, becomes `%XX` with
//! uppercase hex.

use std::fmt::{self, Write};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Bytes that are percent-encoded in every purl component.
const PURL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~')
    .remove(b':');

/// Write `s` percent-encoded for a purl component.
pub(crate) fn write_encoded(f: &mut impl Write, s: &str) -> fmt::Result {
    for chunk in percent_encoding::utf8_percent_encode(s, PURL_ENCODE) {
        f.write_str(chunk)?;
    }
    Ok(())
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decode one component. `what` names the component in error messages.
pub(crate) fn decode(s: &str, what: &str) -> Result<String, String> {
    if !s.contains('%') {
        return Ok(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hi = bytes.get(i + 1).copied().and_then(hex_value);
        let lo = bytes.get(i + 2).copied().and_then(hex_value);
        match (hi, lo) {
            (Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            _ => {
                let end = (i + 3).min(bytes.len());
                let bad = String::from_utf8_lossy(&bytes[i..end]);
                return Err(format!(
                    "invalid percent-encoding {bad:?} in {what} (a '%' must be followed by two hex digits)"
                ));
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("{what} is not valid UTF-8 after percent-decoding"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        let mut out = String::new();
        write_encoded(&mut out, s).unwrap();
        out
    }

    #[test]
    fn encodes_like_the_spec_vectors() {
        let cases = [
            ("@angular", "%40angular"),
            ("1:2.4.47-2+b1", "1:2.4.47-2%2Bb1"),
            ("https://a.b/c", "https:%2F%2Fa.b%2Fc"),
            ("sha1:ab,sha256:cd", "sha1:ab%2Csha256:cd"),
            ("Visual Studio", "Visual%20Studio"),
            ("a~b_c.d-e", "a~b_c.d-e"),
            ("é", "%C3%A9"),
        ];
        for (raw, want) in cases {
            assert_eq!(enc(raw), want, "encoding {raw:?}");
        }
    }

    #[test]
    fn decodes_and_rejects_bad_escapes() {
        assert_eq!(decode("%40scope", "x").unwrap(), "@scope");
        assert_eq!(decode("a+b", "x").unwrap(), "a+b");
        assert_eq!(decode("%c3%A9", "x").unwrap(), "é");
        for bad in ["%", "%4", "%zz", "ab%g1"] {
            let err = decode(bad, "name").unwrap_err();
            assert!(err.contains("percent-encoding"), "{bad:?}: {err}");
        }
        assert!(decode("%FF", "name").unwrap_err().contains("UTF-8"));
    }
}
