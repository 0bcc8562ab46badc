//! Helpers shared by the vector test modules.

use std::cmp::Ordering;

use patchpilot_version::Scheme;

/// A shared data file as text; `None` (skipped) without the shared data.
pub fn read(test: &str, rel: &str) -> Option<String> {
    let path = patchpilot_testdata::shared_file(test, rel)?;
    Some(
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{test}: reading {}: {e}", path.display())),
    )
}

pub fn sym(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

/// Compare under `scheme`, both ways; `Err` describes a parse failure or an inconsistency.
pub fn compare_both(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, String> {
    let pa = scheme.parse(a).map_err(|e| e.to_string())?;
    let pb = scheme.parse(b).map_err(|e| e.to_string())?;
    let ab = pa.partial_cmp(&pb).expect("same scheme");
    let ba = pb.partial_cmp(&pa).expect("same scheme");
    if ab != ba.reverse() {
        return Err(format!(
            "not antisymmetric: a{}b but b{}a",
            sym(ab),
            sym(ba)
        ));
    }
    Ok(ab)
}
