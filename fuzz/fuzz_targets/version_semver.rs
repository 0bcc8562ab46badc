#![no_main]
use libfuzzer_sys::fuzz_target;
use patchpilot_version::Scheme;

// Parsing never panics; comparing a parsed version with itself is Equal.
fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let scheme = Scheme::from_name("semver").expect("known scheme");
    if let Some((a, b)) = s.split_once('\n') {
        let _ = scheme.compare(a, b);
    }
    if let Ok(v) = scheme.parse(s) {
        assert_eq!(v.partial_cmp(&v), Some(std::cmp::Ordering::Equal));
    }
});
