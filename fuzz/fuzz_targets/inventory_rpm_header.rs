#![no_main]
use libfuzzer_sys::fuzz_target;

// One rpm header blob (a row of rpmdb.sqlite's Packages table), fuzzed directly: reaching
// it through `inventory_rpmdb_sqlite` needs a valid SQLite file around it.
fuzz_target!(|data: &[u8]| {
    let _ = patchpilot_inventory::os::rpm::parse_header(data);
});
