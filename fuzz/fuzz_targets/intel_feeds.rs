#![no_main]
use libfuzzer_sys::fuzz_target;

// CISA KEV JSON, FIRST EPSS CSV (plain or gzip), NVD CVE API 2.0 pages, the NVD store.
fuzz_target!(|data: &[u8]| {
    let _ = patchpilot_intel::kev::parse_kev(data);
    let _ = patchpilot_intel::epss::parse_epss(data);
    let _ = patchpilot_intel::nvd::parse_nvd(data);
    let _ = patchpilot_intel::nvd::NvdStore::from_json(data);
});
