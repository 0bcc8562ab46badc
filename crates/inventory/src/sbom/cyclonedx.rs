//! TODO(helper): sbom/cyclonedx parser.
use crate::{ParseError, Parsed};

pub fn parse_json(_data: &[u8]) -> Result<Parsed, ParseError> {
    Err(ParseError::new("not implemented yet"))
}

pub fn parse_xml(_data: &[u8]) -> Result<Parsed, ParseError> {
    Err(ParseError::new("not implemented yet"))
}
