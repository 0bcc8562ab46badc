//! TODO(helper): sbom/spdx parser.
use crate::{ParseError, Parsed};

pub fn parse_json(_data: &[u8]) -> Result<Parsed, ParseError> {
    Err(ParseError::new("not implemented yet"))
}
