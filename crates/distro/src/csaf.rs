//! Red Hat CSAF 2.0 VEX, one CVE per document
//! (`https://security.access.redhat.com/data/csaf/v2/vex/<year>/cve-….json`) → advisories.
//!
//! The facts are Red Hat's, only spelled differently from the Security Data API, so this
//! module reads the document into the same [`CveFacts`] as `redhat.rs` and builds the
//! advisory there: the CPE → release rules, EUS/AUS streams kept apart, "lowest fix per
//! stream", "a fix beats an open state", severity and CVSS handling and the `RHEL-` id are
//! one piece of code for both feeds, and the same CVE gives the same advisory from either.
//!
//! Reading a document (CSAF 2.0 section numbers):
//! - Profile (§4.5): `document.csaf_version` must be `2.0` and `document.category`
//!   `csaf_vex`; `product_tree` and `vulnerabilities` must be present. Anything else is
//!   refused with the field and the reason (a `csaf_security_advisory`, i.e. one RHSA,
//!   lists only what that erratum fixed).
//! - Products (§3.1.3, §3.2.2): every `product` of the `branches` tree, of
//!   `full_product_names` and of `relationships` is indexed by `product_id`. The ids that
//!   statuses name are relationships of category `default_component_of` (§3.2.2.4) tying
//!   a package (`product_reference`, identified by a `purl` helper) to a product stream
//!   (`relates_to_product_reference`, identified by a `cpe` helper, §3.1.3.3.1). The id
//!   strings themselves (`BaseOS-8.8.0.Z.MAIN:openssh-0:8.0p1-19.el8_8.src`) are never
//!   parsed. Product groups (§3.2.2.3) are expanded where remediations name them.
//! - Packages: an `rpm` purl (`pkg:rpm/redhat/openssh@8.0p1-19.el8_8?arch=src`, epoch in
//!   the `epoch` qualifier, as Red Hat's purl guide says). Skipped: other purl types,
//!   module builds (an `rpmmod` qualifier, a `.module+`/`.module_` release, or a
//!   `stream:version/package` name): one (package, release) range cannot tell module
//!   streams apart, and the Security Data API does not give their RPMs either.
//! - Statuses (§3.2.3.9): `fixed`, `first_fixed` and `recommended` with a versioned
//!   package → a fix at that EVR (`introduced 0, fixed V-R`, epoch kept when not 0).
//!   `known_affected` → affected with no fix; its state is the `none_available` /
//!   `no_fix_planned` remediation's details (§3.2.3.12.1; Red Hat writes `Affected`,
//!   `Deferred`, `Will not fix`, `Out of support scope`), spelled as the Security Data API
//!   spells it. `known_not_affected` and `under_investigation` (and `first_affected` /
//!   `last_affected`, which Red Hat does not use) give nothing. A `workaround` changes no
//!   status.
//! - Source and binary RPMs: advisories name *source* RPMs (`arch=src`), as the Security
//!   Data API does; the matcher also looks a binary up under its source RPM. Red Hat lists
//!   a fixed build's binaries beside its source RPM (in `CRB` or `AppStream` variants
//!   often without it): a binary is dropped when the same release key has a source RPM of
//!   the same status and EVR. A binary without one stays, under its own name.
//! - The rest: the `RHSA` of a fix is the last path segment of the `vendor_fix`
//!   remediation's `url` naming the product; severity is `document.aggregate_severity`
//!   (§3.2.1.2; a per-document value, so only for a one-vulnerability document), else the
//!   highest `threats` entry of category `impact` (§3.2.3.14); CVSS is the highest-scoring
//!   `scores[].cvss_v3.vectorString` (§3.2.3.13). Both prefer entries naming a product
//!   converted here, so a layered product's image left out does not set the rating of the
//!   RHEL packages. The summary is the `summary` note, else
//!   the vulnerability's or the document's `title`; details are the `description` notes;
//!   `published` is the vulnerability's `release_date`, else `tracking.initial_release_date`
//!   (`+00:00` spelled `Z`); the bug is the `bugzilla.redhat.com` reference.
//! - Rejected ids: CSAF 2.0 has no withdrawn status (`tracking.status` is only `draft`,
//!   `interim` or `final`, §3.2.1.12.7), so, as for the Security Data API, a note or title
//!   starting `This CVE ID has been rejected` or `** REJECT **` makes the advisory
//!   withdrawn.

use std::collections::{HashMap, HashSet};

use patchpilot_osv::{Advisory, Ecosystem};
use serde::Deserialize;

use crate::redhat::{self, CveFacts, FixFact, StateFact};
use crate::{invalid, looks_like_id, syntax, DistroError, Format};

#[derive(Deserialize)]
struct RawDoc {
    document: RawDocument,
    #[serde(default)]
    product_tree: Option<RawProductTree>,
    #[serde(default)]
    vulnerabilities: Option<Vec<RawVulnerability>>,
}

#[derive(Deserialize)]
struct RawDocument {
    csaf_version: String,
    category: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    aggregate_severity: Option<RawAggregateSeverity>,
    #[serde(default)]
    tracking: Option<RawTracking>,
}

#[derive(Deserialize)]
struct RawAggregateSeverity {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct RawTracking {
    #[serde(default)]
    initial_release_date: Option<String>,
}

#[derive(Deserialize)]
struct RawProductTree {
    #[serde(default)]
    branches: Option<Vec<RawBranch>>,
    #[serde(default)]
    full_product_names: Option<Vec<RawProduct>>,
    #[serde(default)]
    relationships: Option<Vec<RawRelationship>>,
    #[serde(default)]
    product_groups: Option<Vec<RawGroup>>,
}

#[derive(Deserialize)]
struct RawBranch {
    #[serde(default)]
    product: Option<RawProduct>,
    #[serde(default)]
    branches: Option<Vec<RawBranch>>,
}

#[derive(Deserialize)]
struct RawProduct {
    #[serde(default)]
    name: Option<String>,
    product_id: String,
    #[serde(default)]
    product_identification_helper: Option<RawHelper>,
}

#[derive(Deserialize)]
struct RawHelper {
    #[serde(default)]
    cpe: Option<String>,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RawRelationship {
    category: String,
    full_product_name: RawProduct,
    product_reference: String,
    relates_to_product_reference: String,
}

#[derive(Deserialize)]
struct RawGroup {
    group_id: String,
    product_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawVulnerability {
    #[serde(default)]
    cve: Option<String>,
    #[serde(default)]
    ids: Option<Vec<RawId>>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    cwe: Option<RawCwe>,
    #[serde(default)]
    notes: Option<Vec<RawNote>>,
    #[serde(default)]
    release_date: Option<String>,
    #[serde(default)]
    product_status: Option<RawStatus>,
    #[serde(default)]
    remediations: Option<Vec<RawRemediation>>,
    #[serde(default)]
    scores: Option<Vec<RawScore>>,
    #[serde(default)]
    threats: Option<Vec<RawThreat>>,
    #[serde(default)]
    references: Option<Vec<RawReference>>,
}

#[derive(Deserialize)]
struct RawId {
    text: String,
}

#[derive(Deserialize)]
struct RawCwe {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct RawNote {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawStatus {
    #[serde(default)]
    fixed: Option<Vec<String>>,
    #[serde(default)]
    first_fixed: Option<Vec<String>>,
    #[serde(default)]
    recommended: Option<Vec<String>>,
    #[serde(default)]
    known_affected: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawRemediation {
    category: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    product_ids: Option<Vec<String>>,
    #[serde(default)]
    group_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawScore {
    #[serde(default)]
    cvss_v3: Option<RawCvss3>,
    #[serde(default)]
    products: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawCvss3 {
    #[serde(default, rename = "vectorString")]
    vector_string: Option<String>,
}

#[derive(Deserialize)]
struct RawThreat {
    category: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    product_ids: Option<Vec<String>>,
    #[serde(default)]
    group_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawReference {
    url: String,
}

/// The parts of an `rpm` purl this converter reads.
#[derive(Debug, PartialEq)]
struct RpmPurl {
    name: String,
    version: Option<String>,
    /// Keys lower-cased, values percent-decoded, in order.
    qualifiers: Vec<(String, String)>,
}

impl RpmPurl {
    fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `%XX` escapes decoded; `None` for a bad escape or text that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// An `rpm` purl (`pkg:rpm/redhat/name@version?arch=src&epoch=1`); `None` for another
/// type or a malformed one. The namespace is not checked, the subpath is dropped.
fn rpm_purl(purl: &str) -> Option<RpmPurl> {
    let rest = purl.trim().strip_prefix("pkg:")?.trim_start_matches('/');
    let rest = rest.split('#').next().unwrap_or(rest);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let (ty, path) = path.split_once('/')?;
    if !ty.eq_ignore_ascii_case("rpm") {
        return None;
    }
    let (path, version) = match path.rsplit_once('@') {
        Some((p, v)) => (p, Some(percent_decode(v)?).filter(|v| !v.is_empty())),
        None => (path, None),
    };
    let name = percent_decode(path.trim_end_matches('/').rsplit('/').next()?)?;
    if name.is_empty() {
        return None;
    }
    let mut qualifiers = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=')?;
        qualifiers.push((k.to_ascii_lowercase(), percent_decode(v)?));
    }
    Some(RpmPurl {
        name,
        version,
        qualifiers,
    })
}

/// A package a status names, as the matcher will look it up.
#[derive(Debug, Clone, PartialEq)]
struct Rpm {
    name: String,
    /// `V-R`, `E:` in front when the epoch is not 0; `None` for an unversioned package.
    evr: Option<String>,
    /// A source RPM (`arch=src`).
    source: bool,
}

/// The RPM a product is, from its purl; `None` for anything else (see the module docs).
fn rpm_of(product: &RawProduct) -> Option<Rpm> {
    let purl = product
        .product_identification_helper
        .as_ref()?
        .purl
        .as_deref()?;
    let p = rpm_purl(purl)?;
    let module_name = |s: &str| s.contains('/');
    if !redhat::rpm_name(&p.name)
        || p.qualifier("rpmmod").is_some()
        || product.name.as_deref().is_some_and(module_name)
        || module_name(&product.product_id)
    {
        return None;
    }
    let evr = match &p.version {
        None => None,
        Some(v) => {
            if v.contains(".module+") || v.contains(".module_") {
                return None;
            }
            let text = match p.qualifier("epoch").filter(|e| !e.is_empty()) {
                Some(_) if v.contains(':') => return None,
                Some(e) => format!("{}-{e}:{v}", p.name),
                None => format!("{}-{v}", p.name),
            };
            let (name, vr) = redhat::nevra(&text)?;
            if name != p.name {
                return None;
            }
            Some(vr)
        }
    };
    Some(Rpm {
        source: p.qualifier("arch") == Some("src"),
        name: p.name,
        evr,
    })
}

/// What a status's product id stands for: a package in a product stream.
struct Target<'a> {
    /// The product id of the status.
    id: &'a str,
    /// The stream as [`redhat::cpe_release`] spells it.
    release: &'a str,
    /// The stream's name (`Red Hat Enterprise Linux BaseOS (v. 8)`).
    product: Option<&'a str>,
    rpm: Rpm,
}

impl Target<'_> {
    /// (release key, EVR) of a versioned source RPM.
    fn source_key(&self) -> Option<(String, String)> {
        let evr = self.rpm.evr.clone().filter(|_| self.rpm.source)?;
        Some((
            Ecosystem::RedHat.release_key(self.release).into_owned(),
            evr,
        ))
    }

    /// A versioned binary RPM whose (release key, EVR) is among `sources`.
    fn covered_by(&self, sources: &HashSet<(String, String)>) -> bool {
        match &self.rpm.evr {
            Some(evr) if !self.rpm.source => {
                let key = Ecosystem::RedHat.release_key(self.release).into_owned();
                sources.contains(&(key, evr.clone()))
            }
            _ => false,
        }
    }
}

/// The product tree, indexed.
struct Tree<'a> {
    products: HashMap<&'a str, &'a RawProduct>,
    /// Relationship product id → (package id, stream id).
    components: HashMap<&'a str, (&'a str, &'a str)>,
    groups: HashMap<&'a str, &'a [String]>,
}

impl<'a> Tree<'a> {
    fn new(tree: &'a RawProductTree) -> Tree<'a> {
        let mut t = Tree {
            products: HashMap::new(),
            components: HashMap::new(),
            groups: HashMap::new(),
        };
        let mut stack: Vec<&'a RawBranch> = tree.branches.iter().flatten().collect();
        while let Some(b) = stack.pop() {
            if let Some(p) = &b.product {
                t.products.entry(p.product_id.as_str()).or_insert(p);
            }
            stack.extend(b.branches.iter().flatten());
        }
        for p in tree.full_product_names.iter().flatten() {
            t.products.entry(p.product_id.as_str()).or_insert(p);
        }
        for r in tree.relationships.iter().flatten() {
            let id = r.full_product_name.product_id.as_str();
            t.products.entry(id).or_insert(&r.full_product_name);
            if r.category == "default_component_of" {
                t.components.entry(id).or_insert((
                    r.product_reference.as_str(),
                    r.relates_to_product_reference.as_str(),
                ));
            }
        }
        for g in tree.product_groups.iter().flatten() {
            t.groups.insert(g.group_id.as_str(), &g.product_ids);
        }
        t
    }

    /// The package and stream a product id names; `None` when it is not a package of a
    /// Red Hat product stream this converter reads.
    fn resolve(&self, id: &'a str) -> Option<Target<'a>> {
        let id = id.trim();
        let (package, stream) = *self.components.get(id)?;
        let stream = *self.products.get(stream)?;
        let cpe = stream
            .product_identification_helper
            .as_ref()?
            .cpe
            .as_deref()?;
        Some(Target {
            id,
            release: redhat::cpe_release(cpe)?,
            product: stream.name.as_deref(),
            rpm: rpm_of(self.products.get(package)?)?,
        })
    }

    /// Product ids, with those of the named product groups.
    fn ids_of<'r>(
        &'r self,
        product_ids: &'r Option<Vec<String>>,
        group_ids: &'r Option<Vec<String>>,
    ) -> impl Iterator<Item = &'r str> + 'r {
        let groups = group_ids
            .iter()
            .flatten()
            .filter_map(|g| self.groups.get(g.as_str()))
            .flat_map(|ids| ids.iter());
        product_ids.iter().flatten().chain(groups).map(|s| s.trim())
    }
}

/// The items (scores, threats) that name a product in `used` or no product at all; all of
/// them when none does.
fn naming_used<'t, T>(
    items: impl Iterator<Item = &'t T>,
    used: &HashSet<&str>,
    ids: impl Fn(&'t T) -> Vec<&'t str>,
) -> Vec<&'t T> {
    let all: Vec<&T> = items.collect();
    let mine: Vec<&T> = all
        .iter()
        .copied()
        .filter(|item| {
            let ids = ids(item);
            ids.is_empty() || ids.iter().any(|id| used.contains(id))
        })
        .collect();
    if mine.is_empty() {
        all
    } else {
        mine
    }
}

/// The erratum a `vendor_fix` URL points at (`…/errata/RHSA-2023:4419` → `RHSA-2023:4419`).
fn erratum(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("/errata/")?;
    let id = rest.split(['?', '#', '/']).next()?.trim();
    (!id.is_empty()).then_some(id)
}

/// A `known_affected` state as the Security Data API words it, from the remediation's
/// details, else its category.
fn state_word(category: &str, details: Option<&str>) -> &'static str {
    match details.map(|d| d.trim().to_ascii_lowercase()).as_deref() {
        Some("affected") => "Affected",
        Some("will not fix") => "Will not fix",
        Some("deferred" | "fix deferred") => "Fix deferred",
        Some("out of support scope") => "Out of support scope",
        _ if category == "no_fix_planned" => "Will not fix",
        _ => "Affected",
    }
}

/// The Security Data API spells UTC as `Z`; CSAF producers often write `+00:00`.
fn utc_z(date: &str) -> String {
    let d = date.trim();
    match d.strip_suffix("+00:00") {
        Some(head) => format!("{head}Z"),
        None => d.to_string(),
    }
}

/// Impact ratings from low to high, to pick the highest.
fn threat_rank(s: &str) -> Option<u8> {
    Some(match redhat::threat_word(s)? {
        "LOW" => 0,
        "MODERATE" => 1,
        "IMPORTANT" => 2,
        _ => 3,
    })
}

pub(crate) fn convert(bytes: &[u8], source_name: &str) -> Result<Vec<Advisory>, DistroError> {
    let format = Format::RedHatCsafVex;
    let doc: RawDoc = serde_json::from_slice(bytes).map_err(|e| syntax(source_name, format, e))?;
    let version = doc.document.csaf_version.trim();
    if version != "2.0" {
        return Err(invalid(
            source_name,
            "document.csaf_version",
            format!("{version:?}: only CSAF 2.0 documents are read"),
        ));
    }
    let category = doc.document.category.trim();
    if category != "csaf_vex" {
        return Err(invalid(
            source_name,
            "document.category",
            format!(
                "{category:?} is not a VEX document (csaf_vex); import Red Hat's per-CVE VEX \
                 files (security.access.redhat.com/data/csaf/v2/vex/)"
            ),
        ));
    }
    let Some(tree) = &doc.product_tree else {
        return Err(invalid(
            source_name,
            "product_tree",
            "missing; a VEX document names every product it gives a status for",
        ));
    };
    let Some(vulnerabilities) = &doc.vulnerabilities else {
        return Err(invalid(
            source_name,
            "vulnerabilities",
            "missing; a VEX document lists the vulnerabilities it is about",
        ));
    };
    let tree = Tree::new(tree);
    let mut out = Vec::new();
    for (i, v) in vulnerabilities.iter().enumerate() {
        let aggregate = (vulnerabilities.len() == 1)
            .then_some(doc.document.aggregate_severity.as_ref())
            .flatten()
            .and_then(|a| a.text.as_deref());
        let facts = facts(&doc.document, aggregate, &tree, v, i, source_name)?;
        out.extend(redhat::advisory(facts, source_name));
    }
    Ok(crate::merge(out))
}

/// One vulnerability of the document as Red Hat's facts.
fn facts(
    document: &RawDocument,
    aggregate_severity: Option<&str>,
    tree: &Tree<'_>,
    v: &RawVulnerability,
    index: usize,
    source_name: &str,
) -> Result<CveFacts, DistroError> {
    let id = match v.cve.as_deref().map(str::trim) {
        Some(cve) if looks_like_id(cve) => cve.to_string(),
        Some(cve) => {
            return Err(invalid(
                source_name,
                format!("vulnerabilities[{index}].cve"),
                format!("{cve:?} is not a vulnerability id"),
            ))
        }
        None => v
            .ids
            .iter()
            .flatten()
            .map(|i| i.text.trim())
            .find(|t| looks_like_id(t))
            .ok_or_else(|| {
                invalid(
                    source_name,
                    format!("vulnerabilities[{index}]"),
                    "names no vulnerability (no cve, and no ids entry that is an id)",
                )
            })?
            .to_string(),
    };

    // Remediations by the product ids they name (groups expanded), in document order.
    let mut remediations: HashMap<&str, Vec<&RawRemediation>> = HashMap::new();
    for r in v.remediations.iter().flatten() {
        for pid in tree.ids_of(&r.product_ids, &r.group_ids) {
            remediations.entry(pid).or_default().push(r);
        }
    }
    let remediations_of = |pid: &str| remediations.get(pid.trim()).into_iter().flatten();

    let status = v.product_status.as_ref();
    let mut seen = HashSet::new();
    let fixed_ids = status
        .into_iter()
        .flat_map(|s| [&s.fixed, &s.first_fixed, &s.recommended])
        .flatten()
        .flatten()
        .filter(|pid| seen.insert(pid.trim()));
    let mut fixed: Vec<(Target<'_>, Option<&str>)> = Vec::new();
    for pid in fixed_ids {
        let Some(t) = tree.resolve(pid) else { continue };
        if t.rpm.evr.is_none() {
            continue; // "fixed" without a version says nothing a range can hold
        }
        let advisory = remediations_of(pid)
            .filter(|r| r.category == "vendor_fix")
            .find_map(|r| r.url.as_deref().and_then(erratum));
        fixed.push((t, advisory));
    }
    let affected: Vec<(Target<'_>, &'static str)> = status
        .and_then(|s| s.known_affected.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|pid| {
            let t = tree.resolve(pid)?;
            let state = remediations_of(pid)
                .find(|r| matches!(r.category.as_str(), "none_available" | "no_fix_planned"))
                .map_or("Affected", |r| {
                    state_word(&r.category, r.details.as_deref())
                });
            Some((t, state))
        })
        .collect();

    // A binary is dropped when a source RPM of the same status, release key and EVR
    // covers it.
    let fixed_sources: HashSet<(String, String)> =
        fixed.iter().filter_map(|(t, _)| t.source_key()).collect();
    fixed.retain(|(t, _)| !t.covered_by(&fixed_sources));
    let affected_sources: HashSet<(String, String)> = affected
        .iter()
        .filter_map(|(t, _)| t.source_key())
        .collect();
    let affected: Vec<_> = affected
        .iter()
        .filter(|(t, _)| !t.covered_by(&affected_sources))
        .collect();
    // Scores and impact ratings that name the products converted here win over those
    // of products left out (a layered product's image, a module stream).
    let used: HashSet<&str> = fixed
        .iter()
        .map(|(t, _)| t.id)
        .chain(affected.iter().map(|(t, _)| t.id))
        .collect();
    let threats = naming_used(
        v.threats
            .iter()
            .flatten()
            .filter(|t| t.category == "impact"),
        &used,
        |t| tree.ids_of(&t.product_ids, &t.group_ids).collect(),
    );
    let scores = naming_used(v.scores.iter().flatten(), &used, |s| {
        s.products.iter().flatten().map(|p| p.trim()).collect()
    });
    let fixes = fixed
        .iter()
        .map(|(t, advisory)| FixFact {
            release: t.release.to_string(),
            name: t.rpm.name.clone(),
            version: t.rpm.evr.clone().unwrap_or_default(),
            advisory: advisory.map(str::to_string),
            product: t.product.map(str::to_string),
        })
        .collect();
    let states = affected
        .iter()
        .map(|(t, state)| StateFact {
            release: t.release.to_string(),
            name: t.rpm.name.clone(),
            state: (*state).to_string(),
            product: t.product.map(str::to_string),
        })
        .collect();

    let notes = || v.notes.iter().flatten();
    let note = |category: &'static str| {
        notes()
            .filter(move |n| n.category.as_deref() == Some(category))
            .filter_map(|n| n.text.clone())
    };
    let threat_severity = aggregate_severity
        .filter(|s| redhat::threat_word(s).is_some())
        .or_else(|| {
            threats
                .iter()
                .filter_map(|t| t.details.as_deref())
                .filter_map(|d| Some((threat_rank(d)?, d)))
                .fold(None, |best: Option<(u8, &str)>, x| match best {
                    Some(b) if b.0 >= x.0 => Some(b),
                    _ => Some(x),
                })
                .map(|(_, d)| d)
        })
        .map(str::to_string);
    let cvss3_vector = scores
        .iter()
        .filter_map(|s| s.cvss_v3.as_ref()?.vector_string.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .fold(None, |best: Option<(f64, &str)>, vector| {
            let score = redhat::cvss3(vector)
                .and_then(|s| s.base_score)
                .unwrap_or(-1.0);
            match best {
                Some(b) if b.0 >= score => Some(b),
                _ => Some((score, vector)),
            }
        })
        .map(|(_, v)| v.to_string());
    let title = note("summary")
        .next()
        .or_else(|| v.title.clone())
        .or_else(|| document.title.clone());
    let rejected = notes()
        .filter_map(|n| n.text.as_deref())
        .chain(v.title.as_deref())
        .chain(document.title.as_deref())
        .any(redhat::is_rejection);
    let errata = v
        .remediations
        .iter()
        .flatten()
        .filter(|r| r.category == "vendor_fix")
        .filter_map(|r| r.url.as_deref().and_then(erratum))
        .map(str::to_string)
        .collect();
    let bugzilla_url = v
        .references
        .iter()
        .flatten()
        .map(|r| r.url.trim())
        .find(|u| u.contains("bugzilla.redhat.com/show_bug.cgi"))
        .map(str::to_string);
    let public_date = v
        .release_date
        .as_deref()
        .or_else(|| document.tracking.as_ref()?.initial_release_date.as_deref())
        .map(utc_z);
    Ok(CveFacts {
        id,
        threat_severity,
        public_date,
        title,
        details: note("description").collect(),
        cwe: v.cwe.as_ref().and_then(|c| c.id.clone()),
        cvss3_vector,
        fixes,
        states,
        errata,
        bugzilla_url,
        rejected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchpilot_osv::{Event, SeverityLevel};

    fn fixture(name: &str) -> Vec<Advisory> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/csaf")
            .join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        convert(&bytes, name).unwrap_or_else(|e| panic!("{e}"))
    }

    fn one(json: &str) -> Result<Vec<Advisory>, DistroError> {
        convert(json.as_bytes(), "x.json")
    }

    /// (name, release, events, ecosystem_specific) of every entry.
    fn entries(a: &Advisory) -> Vec<(&str, &str, Vec<Event>, serde_json::Value)> {
        a.affected
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.release.as_deref().unwrap(),
                    e.ranges[0].events.clone(),
                    serde_json::from_str(e.ecosystem_specific.as_deref().unwrap()).unwrap(),
                )
            })
            .collect()
    }

    fn fixed(v: &str) -> Vec<Event> {
        vec![Event::Introduced("0".into()), Event::Fixed(v.into())]
    }

    fn open() -> Vec<Event> {
        vec![Event::Introduced("0".into())]
    }

    #[test]
    fn purls() {
        let p = |name: &str, version: Option<&str>, q: &[(&str, &str)]| RpmPurl {
            name: name.into(),
            version: version.map(str::to_string),
            qualifiers: q
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let cases: &[(&str, Option<RpmPurl>)] = &[
            (
                "pkg:rpm/redhat/openssh@8.0p1-19.el8_8?arch=src",
                Some(p("openssh", Some("8.0p1-19.el8_8"), &[("arch", "src")])),
            ),
            (
                "pkg:rpm/redhat/nodejs@18.17.1-1.module%2Bel8.8.0%2B19757%2B8ca87034?arch=src&epoch=1&rpmmod=nodejs:18:8080020230802123356:63b34585",
                Some(p(
                    "nodejs",
                    Some("18.17.1-1.module+el8.8.0+19757+8ca87034"),
                    &[
                        ("arch", "src"),
                        ("epoch", "1"),
                        ("rpmmod", "nodejs:18:8080020230802123356:63b34585"),
                    ],
                )),
            ),
            (
                "pkg:rpm/redhat/kernel?arch=src",
                Some(p("kernel", None, &[("arch", "src")])),
            ),
            ("pkg:rpm/glibc", Some(p("glibc", None, &[]))),
            (
                "pkg:RPM/redhat/emacs@27.2-9.el9?Arch=x86_64#sub/path",
                Some(p("emacs", Some("27.2-9.el9"), &[("arch", "x86_64")])),
            ),
            ("pkg:oci/ubi@sha256%3Aabc?arch=amd64", None),
            ("pkg:rpm/redhat/x@1%zz-1", None),
            ("pkg:rpm/redhat/x@1-1?arch", None),
            ("pkg:rpm/", None),
            ("rpm/redhat/x@1-1", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(rpm_purl(text), *want, "{text}");
        }
    }

    #[test]
    fn rpms_from_products() {
        let product = |id: &str, purl: &str| RawProduct {
            name: Some(id.into()),
            product_id: id.into(),
            product_identification_helper: Some(RawHelper {
                cpe: None,
                purl: Some(purl.into()),
            }),
        };
        let rpm = |name: &str, evr: Option<&str>, source: bool| Rpm {
            name: name.into(),
            evr: evr.map(str::to_string),
            source,
        };
        let cases: &[(&str, &str, Option<Rpm>)] = &[
            (
                "openssh-0:8.0p1-19.el8_8.src",
                "pkg:rpm/redhat/openssh@8.0p1-19.el8_8?arch=src",
                Some(rpm("openssh", Some("8.0p1-19.el8_8"), true)),
            ),
            (
                "openssh-clients-0:8.0p1-19.el8_8.x86_64",
                "pkg:rpm/redhat/openssh-clients@8.0p1-19.el8_8?arch=x86_64",
                Some(rpm("openssh-clients", Some("8.0p1-19.el8_8"), false)),
            ),
            // Epoch from its qualifier; 0 is dropped as redhat.rs drops it.
            (
                "java",
                "pkg:rpm/redhat/java-1.8.0-openjdk@1.8.0.392.b08-4.el8?arch=src&epoch=1",
                Some(rpm("java-1.8.0-openjdk", Some("1:1.8.0.392.b08-4.el8"), true)),
            ),
            (
                "e0",
                "pkg:rpm/redhat/bash@5.1.8-6.el9?epoch=0&arch=src",
                Some(rpm("bash", Some("5.1.8-6.el9"), true)),
            ),
            (
                "kernel",
                "pkg:rpm/redhat/kernel?arch=src",
                Some(rpm("kernel", None, true)),
            ),
            // Beta-style binaries without an arch qualifier.
            (
                "glibc-0:2.34-231.el9_7.10",
                "pkg:rpm/redhat/glibc@2.34-231.el9_7.10",
                Some(rpm("glibc", Some("2.34-231.el9_7.10"), false)),
            ),
            // Module builds, however they are marked.
            (
                "m1",
                "pkg:rpm/redhat/nodejs@18.17.1-1.module%2Bel8.8.0%2B19757%2B8ca87034?arch=src&epoch=1&rpmmod=nodejs:18:1:2",
                None,
            ),
            (
                "m2",
                "pkg:rpm/redhat/nodejs@18.17.1-1.module%2Bel8.8.0%2B19757%2B8ca87034?arch=x86_64",
                None,
            ),
            (
                "m3",
                "pkg:rpm/redhat/perl-DBI@1.641-3.module_el8.1.0%2B199%2B8f0a6bbd?arch=src",
                None,
            ),
            (
                "nodejs:16/nodejs",
                "pkg:rpm/redhat/nodejs?arch=src",
                None,
            ),
            // Not an RPM, or not an RPM version.
            ("img", "pkg:oci/ubi?arch=amd64", None),
            ("v", "pkg:rpm/redhat/x@1.0?arch=src", None),
            ("e", "pkg:rpm/redhat/x@1:1.0-1?arch=src&epoch=1", None),
        ];
        for (id, purl, want) in cases {
            assert_eq!(rpm_of(&product(id, purl)), *want, "{id} {purl}");
        }
        let no_helper = RawProduct {
            name: None,
            product_id: "x".into(),
            product_identification_helper: None,
        };
        assert_eq!(rpm_of(&no_helper), None);
    }

    /// Fixed in RHEL 8 (BaseOS and AppStream variants), 8.6 EUS and 9, with source and
    /// binary RPMs; not affected in RHEL 7.
    #[test]
    fn fixed_streams_source_rpms_and_eus() {
        let advs = fixture("cve-2023-38408.json");
        assert_eq!(advs.len(), 1);
        let a = &advs[0];
        assert_eq!(a.id, "RHEL-CVE-2023-38408");
        assert_eq!(a.aliases, ["CVE-2023-38408"]);
        // Binaries (openssh-clients, openssh-askpass in AppStream) are covered by the
        // source RPM of the same release key and EVR; EUS keeps its own build.
        let want = [
            (
                "openssh",
                "enterprise_linux:8::baseos",
                fixed("8.0p1-19.el8_8"),
                serde_json::json!({"advisory": "RHSA-2023:4419", "product": "Red Hat Enterprise Linux BaseOS (v. 8)"}),
            ),
            (
                "openssh",
                "enterprise_linux:9::baseos",
                fixed("8.7p1-30.el9_2"),
                serde_json::json!({"advisory": "RHSA-2023:4382", "product": "Red Hat Enterprise Linux BaseOS (v. 9)"}),
            ),
            (
                "openssh",
                "rhel_eus:8.6::baseos",
                fixed("8.0p1-13.el8_6.2"),
                serde_json::json!({"advisory": "RHSA-2023:4412", "product": "Red Hat Enterprise Linux BaseOS EUS (v.8.6)"}),
            ),
        ];
        assert_eq!(entries(a), want);
        assert_eq!(a.severity_level(), Some(SeverityLevel::High));
        assert_eq!(a.cvss_vector().and_then(|s| s.base_score), Some(7.5));
        assert_eq!(
            a.summary.as_deref(),
            Some("openssh: Remote code execution in ssh-agent PKCS#11 support")
        );
        assert!(a
            .details
            .as_deref()
            .unwrap()
            .starts_with("A flaw was found"));
        assert_eq!(a.published.as_deref(), Some("2023-07-19T00:00:00Z"));
        assert!(!a.is_withdrawn());
        let urls: Vec<&str> = a.references.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://access.redhat.com/security/cve/CVE-2023-38408",
                "https://access.redhat.com/errata/RHSA-2023:4382",
                "https://access.redhat.com/errata/RHSA-2023:4412",
                "https://access.redhat.com/errata/RHSA-2023:4419",
                "https://bugzilla.redhat.com/show_bug.cgi?id=2224260",
            ]
        );
        let ds: serde_json::Value =
            serde_json::from_str(a.database_specific.as_deref().unwrap()).unwrap();
        assert_eq!(
            ds,
            serde_json::json!({"source": "cve-2023-38408.json", "severity": "IMPORTANT", "cwe": "CWE-428"})
        );
    }

    /// known_affected without a fix (will not fix, deferred); not affected, under
    /// investigation and a container image give nothing; no aggregate severity.
    #[test]
    fn open_states_and_statuses_that_give_nothing() {
        let advs = fixture("cve-2023-6228.json");
        assert_eq!(advs.len(), 1);
        let a = &advs[0];
        assert_eq!(
            entries(a),
            [
                (
                    "libtiff",
                    "enterprise_linux:8",
                    open(),
                    serde_json::json!({"fix_state": "Will not fix", "product": "Red Hat Enterprise Linux 8"}),
                ),
                (
                    "libtiff",
                    "enterprise_linux:9",
                    open(),
                    serde_json::json!({"fix_state": "Fix deferred", "product": "Red Hat Enterprise Linux 9"}),
                ),
            ]
        );
        // The OpenShift image's higher rating and score are not this advisory's.
        assert_eq!(a.severity_level(), Some(SeverityLevel::Medium));
        assert_eq!(a.cvss_vector().and_then(|s| s.base_score), Some(5.5));
        assert!(a.references.iter().all(|r| !r.url.contains("/errata/")));
    }

    /// Module builds are skipped however they are marked; the non-modular RHEL 9 build
    /// (epoch 1) is kept and covers its binaries (including a noarch one).
    #[test]
    fn module_streams_are_skipped() {
        let advs = fixture("cve-2023-32002.json");
        assert_eq!(advs.len(), 1);
        assert_eq!(
            entries(&advs[0]),
            [(
                "nodejs",
                "enterprise_linux:9::appstream",
                fixed("1:16.20.2-1.el9_2"),
                serde_json::json!({"advisory": "RHSA-2023:4034", "product": "Red Hat Enterprise Linux AppStream (v. 9)"}),
            )]
        );
        // Every erratum is referenced, the module ones too (as redhat.rs does).
        assert_eq!(
            advs[0]
                .references
                .iter()
                .filter(|r| r.url.contains("/errata/"))
                .count(),
            3
        );
        assert_eq!(advs[0].severity_level(), Some(SeverityLevel::High));
    }

    /// A minimal VEX document: `products` are (stream id, CPE) pairs, `packages` (id,
    /// purl) pairs, `links` (package id, stream id) pairs; `vuln` is the vulnerability.
    fn doc(
        streams: &[(&str, &str)],
        packages: &[(&str, &str)],
        links: &[(&str, &str)],
        vuln: serde_json::Value,
    ) -> String {
        let mut products: Vec<serde_json::Value> = streams
            .iter()
            .map(|(id, cpe)| serde_json::json!({"category": "product_name", "name": id, "product": {"name": format!("Stream {id}"), "product_id": id, "product_identification_helper": {"cpe": cpe}}}))
            .collect();
        products.extend(packages.iter().map(|(id, purl)| serde_json::json!({"category": "product_version", "name": id, "product": {"name": id, "product_id": id, "product_identification_helper": {"purl": purl}}})));
        let relationships: Vec<serde_json::Value> = links
            .iter()
            .map(|(p, s)| serde_json::json!({"category": "default_component_of", "full_product_name": {"name": format!("{p} in {s}"), "product_id": format!("{s}:{p}")}, "product_reference": p, "relates_to_product_reference": s}))
            .collect();
        serde_json::json!({
            "document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "t"},
            "product_tree": {"branches": [{"category": "vendor", "name": "Red Hat", "branches": products}], "relationships": relationships},
            "vulnerabilities": [vuln],
        })
        .to_string()
    }

    const EL8: (&str, &str) = ("BaseOS-8", "cpe:/o:redhat:enterprise_linux:8::baseos");
    const CRB8: (&str, &str) = ("CRB-8", "cpe:/a:redhat:enterprise_linux:8::crb");
    const EUS86: (&str, &str) = ("BaseOS-8.6.EUS", "cpe:/o:redhat:rhel_eus:8.6::baseos");

    #[test]
    fn binaries_without_their_source_rpm_stay_under_their_own_name() {
        let packages = [
            (
                "kernel-src",
                "pkg:rpm/redhat/kernel@4.18.0-477.10.1.el8_8?arch=src",
            ),
            (
                "kernel-tools-libs-devel",
                "pkg:rpm/redhat/kernel-tools-libs-devel@4.18.0-477.10.1.el8_8?arch=x86_64",
            ),
            (
                "bpftool",
                "pkg:rpm/redhat/bpftool@4.18.0-372.70.1.el8_6?arch=x86_64",
            ),
        ];
        let json = doc(
            &[EL8, CRB8, EUS86],
            &packages,
            // The source RPM in BaseOS covers the CRB binary (same key "8"); the EUS
            // binary has no source RPM of its key and EVR.
            &[
                ("kernel-src", "BaseOS-8"),
                ("kernel-tools-libs-devel", "CRB-8"),
                ("bpftool", "BaseOS-8.6.EUS"),
            ],
            serde_json::json!({"cve": "CVE-2024-1", "product_status": {"fixed": [
                "BaseOS-8:kernel-src", "CRB-8:kernel-tools-libs-devel", "BaseOS-8.6.EUS:bpftool"]}}),
        );
        let out = one(&json).unwrap();
        let got: Vec<(&str, &str)> = out[0]
            .affected
            .iter()
            .map(|e| (e.name.as_str(), e.release.as_deref().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("bpftool", "rhel_eus:8.6::baseos"),
                ("kernel", "enterprise_linux:8::baseos")
            ]
        );
    }

    #[test]
    fn first_fixed_recommended_and_groups_count() {
        let json = doc(
            &[EL8],
            &[
                ("a", "pkg:rpm/redhat/a@1-2.el8?arch=src"),
                ("b", "pkg:rpm/redhat/b@1-2.el8?arch=src"),
            ],
            &[("a", "BaseOS-8"), ("b", "BaseOS-8")],
            serde_json::json!({"cve": "CVE-2024-1",
                "product_status": {"first_fixed": ["BaseOS-8:a"], "recommended": ["BaseOS-8:b"]},
                "remediations": [{"category": "vendor_fix", "details": "d", "group_ids": ["G"],
                                  "url": "https://access.redhat.com/errata/RHSA-2024:7"}]}),
        );
        let json = json.replace(
            "\"relationships\"",
            "\"product_groups\": [{\"group_id\": \"G\", \"product_ids\": [\"BaseOS-8:a\", \"BaseOS-8:b\"]}], \"relationships\"",
        );
        let a = &one(&json).unwrap()[0];
        for e in entries(a) {
            assert_eq!(e.2, fixed("1-2.el8"), "{}", e.0);
            assert_eq!(e.3["advisory"], "RHSA-2024:7", "{}", e.0);
        }
        assert_eq!(a.affected.len(), 2);
    }

    #[test]
    fn statuses_table() {
        // (status list, remediation (category, details), want: None = no advisory)
        type Case<'a> = (
            &'a str,
            Option<(&'a str, &'a str)>,
            Option<(Vec<Event>, &'a str)>,
        );
        let cases: &[Case] = &[
            ("fixed", None, Some((fixed("1-2.el8"), "advisory"))),
            ("known_affected", None, Some((open(), "Affected"))),
            (
                "known_affected",
                Some(("none_available", "Affected")),
                Some((open(), "Affected")),
            ),
            (
                "known_affected",
                Some(("none_available", "Deferred")),
                Some((open(), "Fix deferred")),
            ),
            (
                "known_affected",
                Some(("no_fix_planned", "Out of support scope")),
                Some((open(), "Out of support scope")),
            ),
            (
                "known_affected",
                Some(("no_fix_planned", "We will not ship a fix.")),
                Some((open(), "Will not fix")),
            ),
            (
                "known_affected",
                Some(("workaround", "Disable the feature.")),
                Some((open(), "Affected")),
            ),
            ("known_not_affected", None, None),
            ("under_investigation", None, None),
            ("first_affected", None, None),
            ("last_affected", None, None),
        ];
        for (status, remediation, want) in cases {
            let remediations: Vec<serde_json::Value> = remediation
                .iter()
                .map(|(c, d)| serde_json::json!({"category": c, "details": d, "product_ids": ["BaseOS-8:p"]}))
                .collect();
            let json = doc(
                &[EL8],
                &[("p", "pkg:rpm/redhat/p@1-2.el8?arch=src")],
                &[("p", "BaseOS-8")],
                serde_json::json!({"cve": "CVE-2024-1", "product_status": {*status: ["BaseOS-8:p"]}, "remediations": remediations}),
            );
            let out = one(&json).unwrap();
            match want {
                None => assert!(out.is_empty(), "{status}: {out:?}"),
                Some((events, word)) => {
                    let e = &entries(&out[0])[0];
                    assert_eq!(e.2, *events, "{status}");
                    let specific = e.3.to_string();
                    assert!(
                        specific.contains(word),
                        "{status} {remediation:?}: {specific}"
                    );
                }
            }
        }
    }

    #[test]
    fn lowest_fix_per_stream_and_fix_beats_open_state() {
        let json = doc(
            &[
                EL8,
                ("AppStream-8", "cpe:/a:redhat:enterprise_linux:8::appstream"),
            ],
            &[
                ("p3", "pkg:rpm/redhat/pkg@1.2-3.el8_9?arch=src"),
                ("p2", "pkg:rpm/redhat/pkg@1.2-2.el8_8?arch=src"),
                ("p", "pkg:rpm/redhat/pkg?arch=src"),
            ],
            &[("p3", "AppStream-8"), ("p2", "BaseOS-8"), ("p", "BaseOS-8")],
            serde_json::json!({"cve": "CVE-2024-1", "product_status": {
                "fixed": ["AppStream-8:p3", "BaseOS-8:p2"], "known_affected": ["BaseOS-8:p"]}}),
        );
        let a = &one(&json).unwrap()[0];
        let e = entries(a);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].1, e[0].2.clone()),
            ("enterprise_linux:8::baseos", fixed("1.2-2.el8_8"))
        );
    }

    #[test]
    fn rejected_cves_are_withdrawn() {
        let vuln = |text: &str| {
            serde_json::json!({"cve": "CVE-2024-1",
                "notes": [{"category": "description", "text": text}],
                "product_status": {"fixed": ["BaseOS-8:p"]}})
        };
        let make = |text: &str| {
            doc(
                &[EL8],
                &[("p", "pkg:rpm/redhat/p@1-2.el8?arch=src")],
                &[("p", "BaseOS-8")],
                vuln(text),
            )
        };
        let rejected = make("This CVE ID has been rejected or withdrawn by its CVE Numbering Authority. Duplicate of CVE-2024-2.");
        assert!(one(&rejected).unwrap()[0].is_withdrawn());
        assert!(one(&make("** REJECT ** Not a vulnerability.")).unwrap()[0].is_withdrawn());
        assert!(!one(&make("A flaw was found.")).unwrap()[0].is_withdrawn());
    }

    #[test]
    fn several_vulnerabilities_and_ids_without_cve() {
        let json = doc(
            &[EL8],
            &[("p", "pkg:rpm/redhat/p@1-2.el8?arch=src")],
            &[("p", "BaseOS-8")],
            serde_json::json!({"cve": "CVE-2024-2", "product_status": {"fixed": ["BaseOS-8:p"]}}),
        );
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let second = serde_json::json!({"ids": [{"system_name": "Red Hat Bugzilla ID", "text": "2224260"},
            {"system_name": "GHSA", "text": "GHSA-abcd-1234-xyz1"}], "product_status": {"known_affected": ["BaseOS-8:p"]}});
        v["vulnerabilities"].as_array_mut().unwrap().push(second);
        let out = one(&v.to_string()).unwrap();
        let ids: Vec<&str> = out.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["RHEL-CVE-2024-2", "RHEL-GHSA-abcd-1234-xyz1"]);
        assert!(out[1].aliases.is_empty());
    }

    #[test]
    fn bad_input_is_one_clear_error() {
        let ok = doc(
            &[EL8],
            &[("p", "pkg:rpm/redhat/p@1-2.el8?arch=src")],
            &[("p", "BaseOS-8")],
            serde_json::json!({"cve": "CVE-2024-1", "product_status": {"fixed": ["BaseOS-8:p"]}}),
        );
        assert_eq!(one(&ok).unwrap().len(), 1);
        // (input, text the error must contain)
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "invalid Red Hat CSAF VEX JSON"),
            ("{".into(), "invalid Red Hat CSAF VEX JSON"),
            ("[]".into(), "invalid Red Hat CSAF VEX JSON"),
            ("{}".into(), "missing field `document`"),
            (
                r#"{"id": "ALSA-2023:1", "affected": []}"#.into(),
                "missing field `document`",
            ),
            (
                ok.replace("\"csaf_vex\"", "\"csaf_security_advisory\""),
                "document.category: \"csaf_security_advisory\" is not a VEX document",
            ),
            (
                ok.replace("\"2.0\"", "\"2.1\""),
                "document.csaf_version: \"2.1\": only CSAF 2.0",
            ),
            (
                r#"{"document": {"category": "csaf_vex", "csaf_version": "2.0"}, "vulnerabilities": []}"#.into(),
                "product_tree: missing",
            ),
            (
                r#"{"document": {"category": "csaf_vex", "csaf_version": "2.0"}, "product_tree": {}}"#.into(),
                "vulnerabilities: missing",
            ),
            (
                ok.replace("\"cve\":\"CVE-2024-1\"", "\"cve\":\"not an id\""),
                "vulnerabilities[0].cve: \"not an id\" is not a vulnerability id",
            ),
            (
                ok.replace("\"cve\":\"CVE-2024-1\",", ""),
                "vulnerabilities[0]: names no vulnerability",
            ),
            (
                ok.replace("[\"BaseOS-8:p\"]", "\"BaseOS-8:p\""),
                "invalid type: string",
            ),
            (
                ok.replace("\"product_id\":\"p\"", "\"product\":\"p\""),
                "missing field `product_id`",
            ),
            (
                ok.replace("\"vulnerabilities\":[", "\"vulnerabilities\":[5,"),
                "invalid type: integer",
            ),
        ];
        for (input, want) in &cases {
            let e = one(input).unwrap_err().to_string();
            assert!(e.starts_with("x.json: "), "{input}: {e}");
            assert!(e.contains(want), "{input}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
