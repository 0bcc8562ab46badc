//! TODO(helper): os/rpm parser.
use crate::{ParseError, Parsed};

pub fn parse_qa(_data: &[u8]) -> Result<Parsed, ParseError> {
    Err(ParseError::new("not implemented yet"))
}

pub fn read_sqlite(_path: &std::path::Path) -> Result<Parsed, ParseError> {
    Err(ParseError::new("not implemented yet"))
}
