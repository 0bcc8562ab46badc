#![no_main]
use libfuzzer_sys::fuzz_target;
use patchpilot_distro::{convert, detect, Format};

// Every tracker converter on the same bytes, whatever `detect` says: Debian tracker
// JSON, Alpine secdb (JSON and YAML), Red Hat Security Data, Red Hat CSAF VEX, distro OSV.
fuzz_target!(|data: &[u8]| {
    let _ = detect(data, "fuzz.json");
    let _ = detect(data, "fuzz.yaml");
    for f in [
        Format::DebianTracker,
        Format::AlpineSecDb,
        Format::RedHatSecurityData,
        Format::RedHatCsafVex,
        Format::Osv,
    ] {
        let _ = convert(f, data, "fuzz");
    }
});
