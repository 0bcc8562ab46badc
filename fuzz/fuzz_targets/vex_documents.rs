#![no_main]
use libfuzzer_sys::fuzz_target;

// CycloneDX VEX and OpenVEX documents, sniffed and forced.
fuzz_target!(|data: &[u8]| {
    let _ = patchpilot_vex::parse(data, "fuzz");
    let _ = patchpilot_vex::parse_cyclonedx(data, "fuzz");
    let _ = patchpilot_vex::parse_openvex(data, "fuzz");
});
