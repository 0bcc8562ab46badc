//! TODO(helper): lockfile/pnpm parser.
use crate::{ParseError, Parsed};

pub fn parse(_data: &[u8]) -> Result<Parsed, ParseError> {
    Err(ParseError::new("not implemented yet"))
}
