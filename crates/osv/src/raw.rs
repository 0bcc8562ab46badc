//! The OSV document as serde reads it: every field optional and loosely typed, so that
//! a missing or odd field reaches [`crate::parse`] and gets a precise error there instead of
//! a generic serde message. Unknown fields (`credits`, `schema_version`, `upstream`, ...)
//! are ignored.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct RawAdvisory {
    pub id: Option<String>,
    pub modified: Option<String>,
    pub published: Option<String>,
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub related: Option<Vec<String>>,
    pub summary: Option<String>,
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    pub affected: Option<Vec<RawAffected>>,
    #[serde(default)]
    pub references: Option<Vec<RawReference>>,
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
pub(crate) struct RawSeverity {
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub score: Option<Text>,
}

#[derive(Deserialize)]
pub(crate) struct RawPackage {
    pub ecosystem: Option<String>,
    pub name: Option<String>,
    pub purl: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawAffected {
    pub package: Option<RawPackage>,
    #[serde(default)]
    pub severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    pub ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    pub versions: Option<Vec<Text>>,
    pub ecosystem_specific: Option<serde_json::Value>,
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
pub(crate) struct RawRange {
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub repo: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<BTreeMap<String, Option<Text>>>>,
}

#[derive(Deserialize)]
pub(crate) struct RawReference {
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub url: Option<String>,
}

/// A version or score string. YAML turns an unquoted `2` into an integer; integers are
/// taken back as text losslessly. An unquoted `1.10` becomes the float 1.1, which has lost
/// the original text, so floats are refused with a hint to quote the value.
pub(crate) struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Err(E::custom(format_args!(
                    "got the number {v} where a string is expected (quote it: the original text is lost)"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// Serde's derived struct visitors also accept a sequence of field values (`[id, ...]`),
/// which is not an OSV record; this wrapper only accepts a map.
pub(crate) struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OSV record (an object)")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}
