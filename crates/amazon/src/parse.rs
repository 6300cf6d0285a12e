//! What every parser hands out: a row, or a row skipped with why.

use std::fmt;

/// A row that could not be read. The rest of the document still is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line of a flat file, or 1-based position of a JSON array element.
    pub line: u64,
    /// What was wrong, naming the column or field.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for RowError {}

/// One item of a parsed document.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<T> {
    /// A row read in full.
    Row(T),
    /// A malformed row, counted and reported, not ingested.
    Skipped(RowError),
}

impl<T> Parsed<T> {
    /// The row, if it was read.
    pub fn row(self) -> Option<T> {
        match self {
            Parsed::Row(r) => Some(r),
            Parsed::Skipped(_) => None,
        }
    }
}
