#![no_main]
use libfuzzer_sys::fuzz_target;

// The body an agent posts: decoded as the server does, each package checked by the
// store's rules for stored text (never a panic; a row they accept has no control
// character), then canonicalized and checked the way the server stores it (encode,
// decode round trip).
fuzz_target!(|data: &[u8]| {
    if let Ok(report) = serde_json::from_slice::<patchpilot_api::InventoryReport>(data) {
        for p in &report.packages {
            if p.validate().is_ok() {
                assert!(!p.name.chars().chain(p.version.chars()).any(char::is_control));
            }
        }
        let mut packages = report.packages;
        let _ = patchpilot_api::canonicalize(&mut packages);
        let body = patchpilot_store::codec::encode_packages(&packages);
        let back = patchpilot_store::codec::decode_packages(&body).expect("own encoding decodes");
        assert_eq!(back, packages);
    }
});
