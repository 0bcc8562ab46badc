#![no_main]
use libfuzzer_sys::fuzz_target;
use patchpilot_version::Scheme;

// Parsing never panics; a parsed version compares Equal to itself; for two versions (the input
// split at its first newline) comparing b with a gives the reverse of comparing a with b.
fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let scheme = Scheme::from_name("maven").expect("known scheme");
    if let Some((a, b)) = s.split_once('\n') {
        if let (Ok(ab), Ok(ba)) = (scheme.compare(a, b), scheme.compare(b, a)) {
            assert_eq!(ab, ba.reverse(), "{a:?} vs {b:?}");
        }
    }
    if let Ok(v) = scheme.parse(s) {
        assert_eq!(v.partial_cmp(&v), Some(std::cmp::Ordering::Equal));
    }
});
