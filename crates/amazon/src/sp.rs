//! Selling Partner API: the Reports API client ([`reports`]), the FBA Inventory
//! API client ([`inventory`]) and the parsers of the report documents.

use std::fmt;

use secrecy::SecretString;

pub mod fba_inventory;
pub mod inventory;
pub mod ledger;
pub mod reports;
pub mod sales_traffic;
mod tsv;

/// A seller account the client acts for: its id (whose quotas calls spend) and
/// the refresh token of its authorization.
#[derive(Clone)]
pub struct SellingPartner {
    /// The selling partner id (`A3…`), the key of its rate-limit buckets.
    pub seller_id: String,
    /// The LWA refresh token (`Atzr|…`) the seller granted our application.
    pub refresh_token: SecretString,
}

impl SellingPartner {
    /// A seller and its refresh token.
    pub fn new(seller_id: impl Into<String>, refresh_token: impl Into<SecretString>) -> Self {
        Self {
            seller_id: seller_id.into(),
            refresh_token: refresh_token.into(),
        }
    }
}

impl fmt::Debug for SellingPartner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SellingPartner")
            .field("seller_id", &self.seller_id)
            .field("refresh_token", &"[REDACTED]")
            .finish()
    }
}
