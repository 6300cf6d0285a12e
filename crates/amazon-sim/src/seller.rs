//! Sellers the simulator knows and the credentials it hands out for them.

/// A seller account to simulate: its id and how many SKUs it lists per marketplace.
///
/// Everything else (catalog, stock, sales) is generated from the simulator's seed,
/// the seller id and the marketplace, so two simulators with the same seed agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub(crate) id: String,
    pub(crate) marketplaces: Vec<(String, u32)>,
}

impl Seller {
    /// A seller with no marketplaces yet. Ids look like `A3EXAMPLESELLER`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            marketplaces: Vec::new(),
        }
    }

    /// Lists `sku_count` SKUs in the marketplace with this id. The first SKUs are the
    /// same across marketplaces, as for a real seller selling one catalog abroad.
    #[must_use]
    pub fn marketplace(mut self, marketplace_id: impl Into<String>, sku_count: u32) -> Self {
        self.marketplaces.push((marketplace_id.into(), sku_count));
        self
    }

    /// The seller id.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn sku_count(&self, marketplace_id: &str) -> Option<u32> {
        self.marketplaces
            .iter()
            .find(|(id, _)| id == marketplace_id)
            .map(|(_, n)| *n)
    }
}

/// What a client needs to call the simulator as a seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The seller these credentials act for.
    pub seller_id: String,
    /// The long-lived LWA refresh token (`Atzr|…`) of the SP-API authorization.
    pub refresh_token: String,
    /// The refresh token of the Ads API authorization. A store authorizes the Ads
    /// API separately (PROTOCOL.md §1.6), so it has its own grant: tokens minted from
    /// it work on the Ads API only, and SP-API tokens do not work there.
    pub ads_refresh_token: String,
    /// The LWA application's client id.
    pub client_id: String,
    /// The LWA application's client secret.
    pub client_secret: String,
}
