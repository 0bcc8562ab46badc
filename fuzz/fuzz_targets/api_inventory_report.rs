#![no_main]
use libfuzzer_sys::fuzz_target;

// The body an agent posts: decoded as the server does, then canonicalized and checked
// the way the server stores it (encode, decode round trip).
fuzz_target!(|data: &[u8]| {
    if let Ok(report) = serde_json::from_slice::<patchpilot_api::InventoryReport>(data) {
        let mut packages = report.packages;
        let _ = patchpilot_api::canonicalize(&mut packages);
        let body = patchpilot_store::codec::encode_packages(&packages);
        let back = patchpilot_store::codec::decode_packages(&body).expect("own encoding decodes");
        assert_eq!(back, packages);
    }
});
