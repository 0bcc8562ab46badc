//! Per-type rules: which purl types lowercase which components, which require or forbid a
//! namespace, and the few type-specific checks the spec's test vectors rely on.
//!
//! Only rules the spec states (and the vectors exercise or imply) are here; an unknown type
//! gets none, so any well-formed purl of a new type still parses. Case folding is ASCII only:
//! the names of every type that folds case are ASCII in their registries, and ASCII folding
//! is idempotent, which `parse(display(p)) == p` needs.

use std::collections::BTreeMap;

/// Whether a type wants a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Namespace {
    Optional,
    Required,
    Prohibited,
}

/// The case and namespace rules of one type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TypeRules {
    pub namespace: Namespace,
    pub lowercase_namespace: bool,
    pub lowercase_name: bool,
}

pub(crate) fn rules(ty: &str) -> TypeRules {
    let namespace = match ty {
        // Vendor / owner / group / host is part of the identity.
        "alpm" | "apk" | "bitbucket" | "composer" | "deb" | "git" | "github" | "gitlab"
        | "maven" | "qpkg" | "rpm" | "swift" | "vscode-extension" => Namespace::Required,
        // Flat registries: a namespace would be a misparse (`pkg:vcpkg/boost/asio`).
        "bazel" | "bitnami" | "cargo" | "chrome-extension" | "cocoapods" | "conda" | "cran"
        | "gem" | "hackage" | "julia" | "mlflow" | "nuget" | "oci" | "opam" | "otp" | "pub"
        | "pypi" | "vcpkg" => Namespace::Prohibited,
        _ => Namespace::Optional,
    };
    // Registries that are case-insensitive: the canonical purl is lowercase.
    let lowercase_name = matches!(
        ty,
        "alpm"
            | "apk"
            | "bitbucket"
            | "bitnami"
            | "brew"
            | "chrome-extension"
            | "composer"
            | "deb"
            | "git"
            | "github"
            | "gitlab"
            | "hex"
            | "npm"
            | "oci"
            | "pub"
            | "pypi"
    );
    let lowercase_namespace = lowercase_name || ty == "rpm";
    TypeRules {
        namespace,
        lowercase_namespace,
        lowercase_name,
    }
}

/// Normalize the name of a type whose rule is more than "lowercase".
pub(crate) fn normalize_name(
    ty: &str,
    name: String,
    qualifiers: &BTreeMap<String, String>,
) -> String {
    match ty {
        // PyPI treats `-` and `_` as the same character.
        "pypi" => name.to_ascii_lowercase().replace('_', "-"),
        // Databricks' model registry is case-insensitive, Azure ML's is not; other
        // registries keep the name as given.
        "mlflow" => match qualifiers.get("repository_url") {
            Some(url) if url.to_ascii_lowercase().contains("databricks") => {
                name.to_ascii_lowercase()
            }
            _ => name,
        },
        _ if rules(ty).lowercase_name => name.to_ascii_lowercase(),
        _ => name,
    }
}

/// Normalize the version of a type that folds its case (commit hashes).
pub(crate) fn normalize_version(ty: &str, version: String) -> String {
    match ty {
        "huggingface" => version.to_ascii_lowercase(),
        _ => version,
    }
}

/// Type-specific checks on the normalized components.
pub(crate) fn check(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
    qualifiers: &BTreeMap<String, String>,
) -> Result<(), String> {
    match (rules(ty).namespace, namespace) {
        (Namespace::Required, None) => {
            return Err(format!("type {ty:?} requires a namespace"));
        }
        (Namespace::Prohibited, Some(ns)) => {
            return Err(format!(
                "type {ty:?} does not allow a namespace (found {ns:?})"
            ));
        }
        _ => {}
    }
    match ty {
        "cpan" if name.contains("::") => Err(format!(
            "cpan name {name:?} is a module name; a purl names the distribution (e.g. URI-PackageURL)"
        )),
        "hackage" if version.is_none() => Err("type \"hackage\" requires a version".into()),
        "julia" if !qualifiers.contains_key("uuid") => {
            Err("type \"julia\" requires the `uuid` qualifier".into())
        }
        "swid" if !qualifiers.contains_key("tag_id") => {
            Err("type \"swid\" requires the `tag_id` qualifier".into())
        }
        "chrome-extension" => check_chrome_extension(name, version),
        _ => Ok(()),
    }
}

/// Chrome extension IDs are 32 letters `a`-`p`; versions are 1 to 4 dot-separated integers
/// in 0..=65535.
fn check_chrome_extension(name: &str, version: Option<&str>) -> Result<(), String> {
    if name.len() != 32 || !name.bytes().all(|b| (b'a'..=b'p').contains(&b)) {
        return Err(format!(
            "chrome-extension name {name:?} is not an extension ID (32 letters a-p)"
        ));
    }
    if let Some(v) = version {
        let parts: Vec<&str> = v.split('.').collect();
        let ok = parts.len() <= 4
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 5
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.parse::<u32>().is_ok_and(|n| n <= 65535)
            });
        if !ok {
            return Err(format!(
                "chrome-extension version {v:?} must be 1 to 4 dot-separated integers 0-65535"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_and_mlflow_names() {
        let none = BTreeMap::new();
        assert_eq!(
            normalize_name("pypi", "Django_Package".into(), &none),
            "django-package"
        );
        let mut q = BTreeMap::new();
        q.insert(
            "repository_url".to_string(),
            "https://x.azuredatabricks.net/api".to_string(),
        );
        assert_eq!(
            normalize_name("mlflow", "CreditFraud".into(), &q),
            "creditfraud"
        );
        q.insert(
            "repository_url".to_string(),
            "https://westus2.api.azureml.ms/m".to_string(),
        );
        assert_eq!(
            normalize_name("mlflow", "CreditFraud".into(), &q),
            "CreditFraud"
        );
        assert_eq!(
            normalize_name("maven", "HTTPClient".into(), &none),
            "HTTPClient"
        );
        assert_eq!(
            normalize_name("npm", "JSONStream".into(), &none),
            "jsonstream"
        );
    }

    #[test]
    fn chrome_extension_ids_and_versions() {
        let id = "dlpngalgnefjeiefhmpklpfiohadpglk";
        assert!(check_chrome_extension(id, Some("6.0.2.3611")).is_ok());
        assert!(check_chrome_extension(id, None).is_ok());
        assert!(check_chrome_extension(id, Some("1.2.3.4.5")).is_err());
        assert!(check_chrome_extension(id, Some("1.2.3-beta")).is_err());
        assert!(check_chrome_extension(id, Some("1.65536")).is_err());
        assert!(check_chrome_extension(id, Some("1..2")).is_err());
        assert!(check_chrome_extension("dogs", None).is_err());
        assert!(check_chrome_extension("44444algnefjeiefhmpklpfiohadpglk", None).is_err());
    }
}
