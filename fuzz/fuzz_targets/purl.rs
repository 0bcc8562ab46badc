#![no_main]
use libfuzzer_sys::fuzz_target;

// Parsing never panics, and a parsed purl survives a round trip through its canonical form.
fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = patchpilot_purl::Purl::parse(s) {
        let again = patchpilot_purl::Purl::parse(&p.to_string()).expect("canonical form parses");
        assert_eq!(p, again);
    }
});
