#![no_main]
use libfuzzer_sys::fuzz_target;
use patchpilot_inventory::{sbom, Format};

// Asset-context labels (`patchpilot:asset:*`) read from CycloneDX JSON/XML and SPDX.
fuzz_target!(|data: &[u8]| {
    for f in [
        Format::CycloneDxJson,
        Format::CycloneDxXml,
        Format::SpdxJson,
    ] {
        let _ = sbom::labels(f, data, "patchpilot:asset:");
    }
});
