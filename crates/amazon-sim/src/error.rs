//! Errors of the library API (starting a simulator, using its knobs and truth).
//! Wire-level errors are HTTP responses, not this type.

/// What can go wrong when driving a simulator from code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listener could not be used or the server failed.
    #[error("simulator I/O failed")]
    Io(#[from] std::io::Error),
    /// No seller with this id was added.
    #[error("unknown seller {0}")]
    UnknownSeller(String),
    /// No seller has an Ads profile with this id.
    #[error("unknown Ads profile {0}")]
    UnknownProfile(i64),
    /// The id is not an Amazon marketplace id (PROTOCOL.md §2.2).
    #[error("unknown marketplace id {0}")]
    UnknownMarketplace(String),
    /// The seller exists but does not sell in this marketplace.
    #[error("seller {seller} does not sell in marketplace {marketplace}")]
    MarketplaceNotEnabled {
        /// The seller id.
        seller: String,
        /// The marketplace id.
        marketplace: String,
    },
}
