#![no_main]
use libfuzzer_sys::fuzz_target;
use patchpilot_inventory::{parse, Format};

fuzz_target!(|data: &[u8]| {
    let _ = parse(Format::UvLock, data);
});
