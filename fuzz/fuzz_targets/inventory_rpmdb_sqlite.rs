#![no_main]
use libfuzzer_sys::fuzz_target;

// The sqlite rpmdb is read from a file: write the input to one and read it back.
fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("pp-fuzz-rpmdb-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("rpmdb.sqlite");
    if std::fs::write(&path, data).is_ok() {
        let _ =
            patchpilot_inventory::read_path(&path, Some(patchpilot_inventory::Format::RpmSqlite));
    }
});
