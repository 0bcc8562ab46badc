//! CycloneDX SBOMs, JSON and XML, spec versions 1.2–1.6 (1.0 and 1.1 XML parse too).
//!
//! Both encodings are read into the same small model (type, name, version, purl,
//! properties, nested components) and then turned into packages by one function, shared
//! with SPDX ([`PackageCollector`]), so the two formats cannot drift apart.
//!
//! Decisions:
//! - Every component in `components`, at any depth of nested `components`, is a candidate.
//!   `pedigree` ancestors/variants and `metadata.tools` are not installed software and are
//!   not read.
//! - `metadata.component` is the subject of the BOM (the application or image that was
//!   scanned), not one of its dependencies, so it is never a package. When it, or any
//!   component, has type `operating-system`, its name and version become the
//!   [`Parsed::distro`].
//! - A component needs a purl: without one we cannot know its ecosystem, and guessing from
//!   a bare name would produce false matches. A purl that does not parse (`pkg:pypi/`,
//!   `pkg:///`) is skipped the same way, so one bad component does not lose the whole
//!   file. (`Parsed` has no warnings channel; such components are silently left out.)
//! - The version is the purl's, else the component's `version`; with neither the component
//!   is skipped (nothing can be matched against it).
//! - Identical purls are reported once (a flat npm BOM lists a package once per path).
//! - For `deb`, `rpm` and `apk` purls the release comes from the `distro` qualifier
//!   (`debian-9` → `9`, `alpine-3.17.2` → `v3.17`, `bookworm` → `12`), and the source
//!   package from the `upstream`/`source`/`origin` qualifiers or the syft / Trivy
//!   properties (`syft:metadata:source`, `aquasecurity:trivy:SrcName`).

use std::borrow::Cow;
use std::collections::HashSet;

use patchpilot_purl::Purl;
use quick_xml::events::{BytesStart, Event};
use serde::Deserialize;

use crate::{Distro, Ecosystem, Package, ParseError, Parsed};

/// How deep XML elements may nest before we refuse the document (serde_json has its own
/// limit of 128 for JSON).
const MAX_XML_DEPTH: usize = 256;

/// One CycloneDX component, as much of it as we read.
#[derive(Debug, Default, Deserialize)]
struct Component {
    #[serde(rename = "type", default)]
    ty: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    properties: Vec<Property>,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Debug, Default, Deserialize)]
struct Property {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonBom {
    #[serde(default)]
    bom_format: Option<String>,
    #[serde(default)]
    spec_version: Option<String>,
    #[serde(default)]
    metadata: Option<JsonMetadata>,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Debug, Deserialize)]
struct JsonMetadata {
    #[serde(default)]
    component: Option<Component>,
}

/// Parse a CycloneDX JSON document.
pub fn parse_json(data: &[u8]) -> Result<Parsed, ParseError> {
    let bom: JsonBom =
        serde_json::from_slice(data).map_err(|e| ParseError::new(format!("invalid JSON: {e}")))?;
    match bom.bom_format.as_deref() {
        Some("CycloneDX") => {}
        Some(other) => {
            return Err(ParseError::new(format!(
                "bomFormat is {other:?}, not \"CycloneDX\""
            )))
        }
        None => return Err(ParseError::new("no bomFormat: not a CycloneDX JSON BOM")),
    }
    let spec = bom
        .spec_version
        .as_deref()
        .ok_or_else(|| ParseError::new("no specVersion"))?;
    check_spec_version(spec)?;
    let mut c = PackageCollector::default();
    if let Some(meta) = bom.metadata.as_ref().and_then(|m| m.component.as_ref()) {
        c.os_component(meta);
    }
    walk(&bom.components, &mut c);
    Ok(c.finish())
}

fn walk(components: &[Component], c: &mut PackageCollector) {
    for comp in components {
        c.component(comp);
        walk(&comp.components, c);
    }
}

fn check_spec_version(spec: &str) -> Result<(), ParseError> {
    match spec {
        "1.0" | "1.1" | "1.2" | "1.3" | "1.4" | "1.5" | "1.6" => Ok(()),
        other => Err(ParseError::new(format!(
            "unsupported CycloneDX spec version {other:?} (supported: 1.0 to 1.6)"
        ))),
    }
}

/// Parse a CycloneDX XML document (namespace `http://cyclonedx.org/schema/bom/1.x`).
pub fn parse_xml(data: &[u8]) -> Result<Parsed, ParseError> {
    let mut reader = quick_xml::Reader::from_reader(data);
    reader.config_mut().trim_text(true);

    /// What an open element is, for the parts of the tree we read.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Frame {
        Bom,
        /// `components` directly under `bom` or under an inventory component.
        Components,
        /// An inventory component: index into `comps`.
        Component(usize),
        /// `metadata` and its `component` (read only for its type, name and version).
        Metadata,
        MetaComponent,
        /// `properties` of an inventory component, and one `property` in it.
        Properties(usize),
        Property(usize),
        /// A text field (`name`, `version`, `purl`) of an inventory or metadata component.
        Field(Owner, FieldKind),
        /// Anything else.
        Other,
    }
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Owner {
        Comp(usize),
        Meta,
    }
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum FieldKind {
        Name,
        Version,
        Purl,
    }

    let mut stack: Vec<Frame> = Vec::new();
    let mut comps: Vec<Component> = Vec::new();
    let mut meta = Component::default();
    let mut text = String::new();
    let mut seen_root = false;

    let err = |reader: &quick_xml::Reader<&[u8]>, what: String| {
        ParseError::new(format!(
            "invalid XML at byte {}: {what}",
            reader.buffer_position()
        ))
    };

    loop {
        let ev = reader
            .read_event()
            .map_err(|e| err(&reader, e.to_string()))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let local = e.local_name();
                let local = local.as_ref();
                let parent = stack.last().copied();
                let frame = match parent {
                    None => {
                        if seen_root {
                            return Err(err(&reader, "more than one root element".into()));
                        }
                        seen_root = true;
                        if local != b"bom" {
                            return Err(ParseError::new(format!(
                                "root element is <{}>, not a CycloneDX <bom>",
                                String::from_utf8_lossy(local)
                            )));
                        }
                        check_xml_namespace(e)?;
                        Frame::Bom
                    }
                    Some(Frame::Bom) => match local {
                        b"components" => Frame::Components,
                        b"metadata" => Frame::Metadata,
                        _ => Frame::Other,
                    },
                    Some(Frame::Components) if local == b"component" => {
                        comps.push(Component {
                            ty: attr(e, b"type"),
                            ..Component::default()
                        });
                        Frame::Component(comps.len() - 1)
                    }
                    Some(Frame::Component(i)) => match local {
                        b"components" => Frame::Components,
                        b"properties" => Frame::Properties(i),
                        b"name" => Frame::Field(Owner::Comp(i), FieldKind::Name),
                        b"version" => Frame::Field(Owner::Comp(i), FieldKind::Version),
                        b"purl" => Frame::Field(Owner::Comp(i), FieldKind::Purl),
                        _ => Frame::Other,
                    },
                    Some(Frame::Properties(i)) if local == b"property" => {
                        if let Some(c) = comps.get_mut(i) {
                            c.properties.push(Property {
                                name: attr(e, b"name"),
                                value: None,
                            });
                        }
                        Frame::Property(i)
                    }
                    Some(Frame::Metadata) if local == b"component" => {
                        meta.ty = attr(e, b"type");
                        Frame::MetaComponent
                    }
                    Some(Frame::MetaComponent) => match local {
                        b"name" => Frame::Field(Owner::Meta, FieldKind::Name),
                        b"version" => Frame::Field(Owner::Meta, FieldKind::Version),
                        _ => Frame::Other,
                    },
                    Some(_) => Frame::Other,
                };
                if !empty {
                    if stack.len() >= MAX_XML_DEPTH {
                        return Err(err(
                            &reader,
                            format!("elements nested deeper than {MAX_XML_DEPTH}"),
                        ));
                    }
                    stack.push(frame);
                    text.clear();
                }
            }
            Event::Text(t) => {
                if matches!(stack.last(), Some(Frame::Field(..) | Frame::Property(_))) {
                    let s = t.unescape().map_err(|e| err(&reader, e.to_string()))?;
                    text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if matches!(stack.last(), Some(Frame::Field(..) | Frame::Property(_))) {
                    let s = std::str::from_utf8(&t).map_err(|e| err(&reader, e.to_string()))?;
                    text.push_str(s);
                }
            }
            Event::End(_) => {
                let value = || Some(text.trim().to_string()).filter(|s| !s.is_empty());
                match stack.pop() {
                    Some(Frame::Field(owner, kind)) => {
                        let target = match owner {
                            Owner::Comp(i) => comps.get_mut(i),
                            Owner::Meta => Some(&mut meta),
                        };
                        if let Some(c) = target {
                            let slot = match kind {
                                FieldKind::Name => &mut c.name,
                                FieldKind::Version => &mut c.version,
                                FieldKind::Purl => &mut c.purl,
                            };
                            *slot = value();
                        }
                    }
                    Some(Frame::Property(i)) => {
                        if let Some(p) = comps.get_mut(i).and_then(|c| c.properties.last_mut()) {
                            p.value = value();
                        }
                    }
                    Some(_) => {}
                    None => return Err(err(&reader, "closing tag without an opening tag".into())),
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(ParseError::new(format!(
            "document ends inside an open element ({} still open): truncated?",
            stack.len()
        )));
    }
    if !seen_root {
        return Err(ParseError::new("no root element: not a CycloneDX XML BOM"));
    }
    let mut c = PackageCollector::default();
    c.os_component(&meta);
    for comp in &comps {
        c.component(comp);
    }
    Ok(c.finish())
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name && a.key.prefix().is_none())
        .and_then(|a| a.unescape_value().ok().map(Cow::into_owned))
}

/// The root must declare a CycloneDX namespace `http://cyclonedx.org/schema/bom/1.N`.
fn check_xml_namespace(e: &BytesStart<'_>) -> Result<(), ParseError> {
    let mut found = None;
    for a in e.attributes().flatten() {
        let key = a.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            let v = a.unescape_value().map(Cow::into_owned).unwrap_or_default();
            if let Some(ver) = v.strip_prefix("http://cyclonedx.org/schema/bom/") {
                found = Some(ver.to_string());
                break;
            }
        }
    }
    match found {
        Some(ver) => check_spec_version(&ver),
        None => Err(ParseError::new(
            "<bom> has no CycloneDX namespace (xmlns=\"http://cyclonedx.org/schema/bom/1.x\")",
        )),
    }
}

/// Turns SBOM entries (a purl, maybe a version, maybe properties) into packages: the one
/// place both CycloneDX and SPDX go through.
#[derive(Default)]
pub(crate) struct PackageCollector {
    seen: HashSet<(Purl, String)>,
    packages: Vec<Package>,
    /// From an `operating-system` component: wins over purl qualifiers.
    os: Option<Distro>,
    /// Distros named by the `distro` qualifiers of OS packages.
    qualifier_distros: Vec<Distro>,
}

impl PackageCollector {
    fn os_component(&mut self, c: &Component) {
        if c.ty.as_deref() != Some("operating-system") || self.os.is_some() {
            return;
        }
        let Some(id) = c.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
            return;
        };
        self.os = Some(Distro {
            id: id.to_ascii_lowercase(),
            version_id: c.version.clone().filter(|v| !v.is_empty()),
            codename: None,
            pretty_name: None,
        });
    }

    fn component(&mut self, c: &Component) {
        if c.ty.as_deref() == Some("operating-system") {
            self.os_component(c);
            return;
        }
        let Some(purl) = c.purl.as_deref() else {
            return;
        };
        let props: Vec<(&str, &str)> = c
            .properties
            .iter()
            .filter_map(|p| Some((p.name.as_deref()?, p.value.as_deref()?)))
            .collect();
        self.add(purl, c.version.as_deref(), &props);
    }

    /// Add one entry; entries without a usable purl or version are skipped.
    pub(crate) fn add(&mut self, purl_text: &str, version: Option<&str>, props: &[(&str, &str)]) {
        let purl_text = purl_text.trim();
        let Ok(purl) = Purl::parse(purl_text) else {
            return;
        };
        if purl.name.trim().is_empty() {
            return;
        }
        let ecosystem = Ecosystem::from_purl(&purl);
        let Some(mut version) = purl
            .version
            .clone()
            .or_else(|| version.map(str::to_string))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
        else {
            return;
        };
        if !self.seen.insert((purl.clone(), version.clone())) {
            return;
        }
        let name = ecosystem.package_name_from_purl(&purl);
        let q = |k: &str| {
            purl.qualifiers
                .get(k)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let prop = |k: &str| {
            props
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| *v)
                .filter(|v| !v.is_empty())
        };
        let os_type = matches!(purl.ty.as_str(), "deb" | "rpm" | "apk");
        let mut release = None;
        let (mut source_name, mut source_version) = (None, None);
        if os_type {
            if purl.ty == "rpm" && !version.contains(':') {
                if let Some(e) = q("epoch").filter(|e| *e != "0") {
                    version = format!("{e}:{version}");
                }
            }
            if let Some(d) = q("distro").and_then(|d| distro_from_qualifier(d, &purl)) {
                release = d.ecosystem().1;
                self.qualifier_distros.push(d);
            }
            let upstream = q("upstream")
                .or_else(|| q("source"))
                .or_else(|| q("origin"));
            if let Some(up) = upstream {
                if purl.ty == "rpm" {
                    source_name = Some(
                        crate::os::rpm::source_rpm_name(up)
                            .unwrap_or(up)
                            .to_string(),
                    );
                } else {
                    let (n, v) = up.split_once('@').map_or((up, None), |(n, v)| (n, Some(v)));
                    source_name = Some(n.to_string());
                    source_version = v.map(str::to_string);
                }
            }
            if source_name.is_none() {
                source_name = prop("syft:metadata:source")
                    .or_else(|| prop("aquasecurity:trivy:SrcName"))
                    .map(str::to_string);
            }
            if source_version.is_none() {
                source_version = prop("syft:metadata:sourceVersion")
                    .or_else(|| prop("aquasecurity:trivy:SrcVersion"))
                    .map(str::to_string);
            }
            source_version = source_version.filter(|v| *v != version);
        }
        let mut p = Package::new(ecosystem, name, version);
        p.release = release;
        p.purl = Some(purl_text.to_string());
        p.source_name = source_name.filter(|s| !s.is_empty());
        p.source_version = source_version.filter(|s| !s.is_empty());
        self.packages.push(p);
    }

    pub(crate) fn finish(mut self) -> Parsed {
        let distro = self.os.take().or_else(|| {
            let first = self.qualifier_distros.first()?;
            self.qualifier_distros
                .iter()
                .all(|d| d == first)
                .then(|| first.clone())
        });
        Parsed {
            packages: self.packages,
            distro,
        }
    }
}

/// A purl `distro` qualifier as a [`Distro`]: `debian-9`, `ubuntu-22.04`,
/// `alpine-3.17.2`, `rhel-9.3`, a bare version (`3.22.0`, with the id from the purl
/// namespace) or a Debian/Ubuntu codename (`bookworm`, `focal`).
pub fn distro_from_qualifier(q: &str, purl: &Purl) -> Option<Distro> {
    let q = q.trim().to_ascii_lowercase();
    let starts_digit = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_digit());
    let (id, version, codename) = match q.rsplit_once('-') {
        Some((id, v)) if starts_digit(v) && !id.is_empty() => {
            (id.to_string(), Some(v.to_string()), None)
        }
        _ if starts_digit(&q) => {
            let id = match purl.ty.as_str() {
                "apk" => "alpine".to_string(),
                _ => purl.namespace.clone()?.to_ascii_lowercase(),
            };
            (id, Some(q.clone()), None)
        }
        _ => {
            let (id, v) = codename_release(&q)?;
            (id.to_string(), Some(v.to_string()), Some(q.clone()))
        }
    };
    Some(Distro {
        id,
        version_id: version,
        codename,
        pretty_name: None,
    })
}

/// Debian and Ubuntu release codenames.
fn codename_release(codename: &str) -> Option<(&'static str, &'static str)> {
    const TABLE: &[(&str, &str, &str)] = &[
        ("squeeze", "debian", "6"),
        ("wheezy", "debian", "7"),
        ("jessie", "debian", "8"),
        ("stretch", "debian", "9"),
        ("buster", "debian", "10"),
        ("bullseye", "debian", "11"),
        ("bookworm", "debian", "12"),
        ("trixie", "debian", "13"),
        ("forky", "debian", "14"),
        ("trusty", "ubuntu", "14.04"),
        ("xenial", "ubuntu", "16.04"),
        ("bionic", "ubuntu", "18.04"),
        ("focal", "ubuntu", "20.04"),
        ("groovy", "ubuntu", "20.10"),
        ("hirsute", "ubuntu", "21.04"),
        ("impish", "ubuntu", "21.10"),
        ("jammy", "ubuntu", "22.04"),
        ("kinetic", "ubuntu", "22.10"),
        ("lunar", "ubuntu", "23.04"),
        ("mantic", "ubuntu", "23.10"),
        ("noble", "ubuntu", "24.04"),
        ("oracular", "ubuntu", "24.10"),
        ("plucky", "ubuntu", "25.04"),
        ("questing", "ubuntu", "25.10"),
    ];
    TABLE
        .iter()
        .find(|(c, _, _)| *c == codename)
        .map(|(_, id, v)| (*id, *v))
}

/// `metadata.properties` and `metadata.component.properties`, as much as [`labels_json`]
/// reads (everything else is skipped unparsed).
#[derive(Deserialize)]
struct LabelBom {
    #[serde(default)]
    metadata: Option<LabelMetadata>,
}

#[derive(Deserialize)]
struct LabelMetadata {
    #[serde(default)]
    properties: Vec<Property>,
    #[serde(default)]
    component: Option<LabelComponent>,
}

#[derive(Deserialize)]
struct LabelComponent {
    #[serde(default)]
    properties: Vec<Property>,
}

fn keep(props: &[Property], prefix: &str, out: &mut Vec<(String, String)>) {
    for p in props {
        if let Some(name) = p.name.as_deref().filter(|n| super::in_namespace(n, prefix)) {
            out.push((name.to_string(), p.value.clone().unwrap_or_default()));
        }
    }
}

/// Labels of a CycloneDX JSON BOM: `metadata.properties`, then
/// `metadata.component.properties` (see [`super::labels`]).
pub fn labels_json(data: &[u8], prefix: &str) -> Result<Vec<(String, String)>, ParseError> {
    let bom: LabelBom =
        serde_json::from_slice(data).map_err(|e| ParseError::new(format!("invalid JSON: {e}")))?;
    let mut out = Vec::new();
    if let Some(m) = &bom.metadata {
        keep(&m.properties, prefix, &mut out);
        if let Some(c) = &m.component {
            keep(&c.properties, prefix, &mut out);
        }
    }
    Ok(out)
}

/// Labels of a CycloneDX XML BOM: `<metadata><properties>`, then
/// `<metadata><component><properties>` (see [`super::labels`]).
pub fn labels_xml(data: &[u8], prefix: &str) -> Result<Vec<(String, String)>, ParseError> {
    let mut reader = quick_xml::Reader::from_reader(data);
    reader.config_mut().trim_text(true);
    let err = |reader: &quick_xml::Reader<&[u8]>, what: String| {
        ParseError::new(format!(
            "invalid XML at byte {}: {what}",
            reader.buffer_position()
        ))
    };
    // Local names of the open elements; `current` is the property being read, if it is a
    // label: (name, text so far).
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<(String, String)> = None;
    let mut document = Vec::new();
    let mut subject = Vec::new();
    let is_label_parent = |path: &[Vec<u8>]| -> Option<bool> {
        let names: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
        match names.as_slice() {
            [b"bom", b"metadata", b"properties"] => Some(false),
            [b"bom", b"metadata", b"component", b"properties"] => Some(true),
            _ => None,
        }
    };
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| err(&reader, e.to_string()))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name().as_ref().to_vec();
                let label = (local == b"property")
                    .then(|| is_label_parent(&path))
                    .flatten()
                    .and_then(|of_subject| {
                        let name = attr(e, b"name")?;
                        super::in_namespace(&name, prefix).then_some((of_subject, name))
                    });
                if matches!(ev, Event::Empty(_)) {
                    if let Some((of_subject, name)) = label {
                        let to = if of_subject {
                            &mut subject
                        } else {
                            &mut document
                        };
                        to.push((name, String::new()));
                    }
                    continue;
                }
                if path.len() >= MAX_XML_DEPTH {
                    return Err(err(
                        &reader,
                        format!("elements nested deeper than {MAX_XML_DEPTH}"),
                    ));
                }
                if let Some((_, name)) = &label {
                    current = Some((name.clone(), String::new()));
                }
                path.push(local);
            }
            Event::Text(t) => {
                if let Some((_, text)) = &mut current {
                    let s = t.unescape().map_err(|e| err(&reader, e.to_string()))?;
                    text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some((_, text)) = &mut current {
                    let s = std::str::from_utf8(&t).map_err(|e| err(&reader, e.to_string()))?;
                    text.push_str(s);
                }
            }
            Event::End(_) => {
                if path.pop().is_none() {
                    return Err(err(&reader, "closing tag without an opening tag".into()));
                }
                if let Some((name, text)) = current.take() {
                    // Only a `property` can be current, and it has no label children.
                    let to = if is_label_parent(&path) == Some(true) {
                        &mut subject
                    } else {
                        &mut document
                    };
                    to.push((name, text.trim().to_string()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err(ParseError::new(format!(
            "document ends inside an open element ({} still open): truncated?",
            path.len()
        )));
    }
    document.extend(subject);
    Ok(document)
}

#[cfg(test)]
mod label_tests {
    use super::*;

    const P: &str = "patchpilot:asset:";

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn json_reads_document_then_subject_properties() {
        let doc = br#"{
          "bomFormat": "CycloneDX", "specVersion": "1.6",
          "metadata": {
            "properties": [
              {"name": "patchpilot:asset:owner", "value": "payments"},
              {"name": "syft:location", "value": "/"}
            ],
            "component": {
              "type": "application", "name": "shop",
              "properties": [
                {"name": "patchpilot:asset:tier", "value": "1"},
                {"name": "PatchPilot:Asset:tag", "value": "pci"},
                {"name": "patchpilot:asset:site"}
              ]
            }
          },
          "components": [{"purl": "pkg:npm/a@1", "properties": [{"name": "patchpilot:asset:tier", "value": "4"}]}]
        }"#;
        assert_eq!(
            labels_json(doc, P).unwrap(),
            pairs(&[
                ("patchpilot:asset:owner", "payments"),
                ("patchpilot:asset:tier", "1"),
                ("PatchPilot:Asset:tag", "pci"),
                ("patchpilot:asset:site", ""),
            ]),
            "a component's properties are about that component, not the asset"
        );
        assert!(labels_json(br#"{"bomFormat":"CycloneDX"}"#, P)
            .unwrap()
            .is_empty());
        assert!(labels_json(b"{", P).unwrap_err().0.contains("invalid JSON"));
    }

    #[test]
    fn xml_reads_document_then_subject_properties() {
        let doc = br#"<?xml version="1.0"?>
        <bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">
          <metadata>
            <component type="application">
              <name>shop</name>
              <properties>
                <property name="patchpilot:asset:tier">1</property>
                <property name="patchpilot:asset:exposure"><![CDATA[internet-facing]]></property>
                <property name="patchpilot:asset:site"/>
              </properties>
            </component>
            <properties>
              <property name="patchpilot:asset:owner">payments &amp; risk</property>
              <property name="other:thing">x</property>
            </properties>
          </metadata>
          <components>
            <component type="library"><purl>pkg:npm/a@1</purl>
              <properties><property name="patchpilot:asset:tier">4</property></properties>
            </component>
          </components>
        </bom>"#;
        assert_eq!(
            labels_xml(doc, P).unwrap(),
            pairs(&[
                ("patchpilot:asset:owner", "payments & risk"),
                ("patchpilot:asset:tier", "1"),
                ("patchpilot:asset:exposure", "internet-facing"),
                ("patchpilot:asset:site", ""),
            ])
        );
        let truncated = &doc[..doc.len() / 2];
        assert!(labels_xml(truncated, P).is_err());
    }

    #[test]
    fn a_truncated_xml_bom_gives_no_labels() {
        let doc = br#"<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><metadata><properties><property name="patchpilot:asset:tier">1</property></properties></metadata></bom>"#;
        assert_eq!(labels_xml(doc, P).unwrap().len(), 1);
        for cut in 0..doc.len() {
            // Either an error, or (before the root opens) nothing at all.
            let got = labels_xml(&doc[..cut], P);
            assert!(
                got.as_ref().map_or(true, Vec::is_empty),
                "cut {cut}: {got:?}"
            );
        }
    }
}
