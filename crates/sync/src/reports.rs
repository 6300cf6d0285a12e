//! Report kinds the engine ingests: what to ask Amazon for, and how its rows
//! become snapshot rows. `amazon` owns the wire format and the parsers; these
//! modules only convert its types into ours (STYLE §2).

pub(crate) mod business;
pub(crate) mod inventory;

/// The rows of one report document, converted, and the reasons the others
/// were skipped (malformed in the document, or unusable for us).
#[derive(Debug)]
pub(crate) struct Fetched<T> {
    pub(crate) rows: Vec<T>,
    pub(crate) skipped: Vec<String>,
}

impl<T> Default for Fetched<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            skipped: Vec::new(),
        }
    }
}
