//! FBA Inventory API v1 `getInventorySummaries` (PROTOCOL.md §4.3): a
//! marketplace's FBA stock per SKU with its details (fulfillable, inbound,
//! reserved, unfulfillable, researching), 50 summaries a page.
//!
//! A `nextToken` expires 30 seconds after it was issued, so a walk slowed down
//! by rate-limit waits or throttling can lose its place. Pages are snapshots of
//! a moving inventory, and resuming from a later token is impossible, so
//! [`Inventory::list_inventory_summaries`] starts over from the first page and
//! throws away what it had: the result is every summary exactly once, or an
//! error, never a partial list.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Deserializer};

use crate::client::{Client, SpRequest};
use crate::error::Error;
use crate::sp::SellingPartner;
use crate::throttle::Operation;

const SUMMARIES: [&str; 4] = ["fba", "inventory", "v1", "summaries"];

/// How many times a walk starts over after its `nextToken` expired before
/// giving up with [`Error::PageTokenExpired`].
pub const MAX_RESTARTS: u32 = 3;

/// `InventorySummary` with `details=true`. Amazon marks every field optional.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventorySummary {
    /// The ASIN.
    #[serde(default)]
    pub asin: Option<String>,
    /// The fulfillment network SKU (`fnSku`, capital S, unlike the MYI report).
    #[serde(default)]
    pub fn_sku: Option<String>,
    /// The seller SKU.
    #[serde(default)]
    pub seller_sku: Option<String>,
    /// `NewItem`, `UsedGood`, …
    #[serde(default)]
    pub condition: Option<String>,
    /// The quantities by state.
    #[serde(default)]
    pub inventory_details: Option<InventoryDetails>,
    /// When the quantities last changed; Amazon sometimes sends `""`, read as
    /// `None` (selling-partner-api-docs#1174).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub last_updated_time: Option<DateTime<Utc>>,
    /// The product title.
    #[serde(default)]
    pub product_name: Option<String>,
    /// Every unit in the fulfillment network, inbound included.
    #[serde(default)]
    pub total_quantity: Option<i64>,
    /// Stores the inventory belongs to (a recent addition).
    #[serde(default)]
    pub stores: Vec<String>,
}

/// `InventoryDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryDetails {
    /// Units that can be picked and shipped now.
    #[serde(default)]
    pub fulfillable_quantity: Option<i64>,
    /// Units in shipments the seller is still preparing.
    #[serde(default)]
    pub inbound_working_quantity: Option<i64>,
    /// Units shipped to Amazon, not yet arrived.
    #[serde(default)]
    pub inbound_shipped_quantity: Option<i64>,
    /// Units arrived and being received.
    #[serde(default)]
    pub inbound_receiving_quantity: Option<i64>,
    /// Units set aside (customer orders, transfers, FC processing).
    #[serde(default)]
    pub reserved_quantity: Option<ReservedQuantity>,
    /// Units Amazon is looking for.
    #[serde(default)]
    pub researching_quantity: Option<ResearchingQuantity>,
    /// Units that cannot be sold (damaged, defective, expired).
    #[serde(default)]
    pub unfulfillable_quantity: Option<UnfulfillableQuantity>,
}

/// `ReservedQuantity`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservedQuantity {
    /// All reserved units.
    #[serde(default)]
    pub total_reserved_quantity: Option<i64>,
    /// Reserved for customer orders.
    #[serde(default)]
    pub pending_customer_order_quantity: Option<i64>,
    /// Being transferred between fulfillment centers.
    #[serde(default)]
    pub pending_transshipment_quantity: Option<i64>,
    /// Set aside for processing (measurements, sampling).
    #[serde(default)]
    pub fc_processing_quantity: Option<i64>,
}

/// `ResearchingQuantity`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResearchingQuantity {
    /// All units being researched.
    #[serde(default)]
    pub total_researching_quantity: Option<i64>,
    /// By how long they have been missing.
    #[serde(default)]
    pub researching_quantity_breakdown: Vec<ResearchingQuantityEntry>,
}

/// One entry of `researchingQuantityBreakdown`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResearchingQuantityEntry {
    /// `researchingQuantityInShortTerm`, `…InMidTerm` or `…InLongTerm`.
    pub name: String,
    /// Units.
    pub quantity: i64,
}

/// `UnfulfillableQuantity`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnfulfillableQuantity {
    /// All unfulfillable units.
    #[serde(default)]
    pub total_unfulfillable_quantity: Option<i64>,
    /// Damaged by a customer.
    #[serde(default)]
    pub customer_damaged_quantity: Option<i64>,
    /// Damaged in a warehouse.
    #[serde(default)]
    pub warehouse_damaged_quantity: Option<i64>,
    /// Damaged by a distributor.
    #[serde(default)]
    pub distributor_damaged_quantity: Option<i64>,
    /// Damaged by a carrier.
    #[serde(default)]
    pub carrier_damaged_quantity: Option<i64>,
    /// Defective.
    #[serde(default)]
    pub defective_quantity: Option<i64>,
    /// Expired.
    #[serde(default)]
    pub expired_quantity: Option<i64>,
}

/// One page of `GetInventorySummariesResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryPage {
    /// The summaries of this page.
    pub summaries: Vec<InventorySummary>,
    /// Present when more pages follow; valid for 30 seconds.
    pub next_token: Option<String>,
}

/// The response envelope: `pagination` is a sibling of `payload`, not inside it
/// (PROTOCOL.md §4.3.2).
#[derive(Deserialize)]
struct Envelope {
    payload: Payload,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    #[serde(default)]
    inventory_summaries: Vec<InventorySummary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    #[serde(default)]
    next_token: Option<String>,
}

fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(&s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(serde::de::Error::custom),
    }
}

/// The FBA Inventory API acting for one seller. Obtained from
/// [`Client::inventory`].
#[derive(Debug, Clone, Copy)]
pub struct Inventory<'a> {
    client: &'a Client,
    seller: &'a SellingPartner,
}

impl<'a> Inventory<'a> {
    pub(crate) fn new(client: &'a Client, seller: &'a SellingPartner) -> Self {
        Self { client, seller }
    }

    /// `getInventorySummaries` with details, at marketplace granularity: the
    /// first page, or the page after `next_token`. Amazon wants every original
    /// parameter again with the token (PROTOCOL.md §4.3.1).
    pub async fn get_inventory_summaries(
        &self,
        marketplace_id: &str,
        next_token: Option<&str>,
    ) -> Result<InventoryPage, Error> {
        let mut query = vec![
            ("details", "true".to_owned()),
            ("granularityType", "Marketplace".to_owned()),
            ("granularityId", marketplace_id.to_owned()),
            ("marketplaceIds", marketplace_id.to_owned()),
        ];
        if let Some(token) = next_token {
            // Percent-encoded by the request builder: tokens carry `+`, `/`
            // and `=`, and Amazon refuses them raw (§2.7).
            query.push(("nextToken", token.to_owned()));
        }
        let envelope: Envelope = self
            .client
            .sp_json(
                self.seller,
                SpRequest {
                    operation: Operation::GetInventorySummaries,
                    method: Method::GET,
                    path: &SUMMARIES,
                    query,
                    body: None,
                    idempotent: true,
                },
            )
            .await?;
        Ok(InventoryPage {
            summaries: envelope.payload.inventory_summaries,
            next_token: envelope
                .pagination
                .and_then(|p| p.next_token)
                .filter(|t| !t.is_empty()),
        })
    }

    /// Every summary of the marketplace, walking every page. A `nextToken` that
    /// expired mid-walk restarts the walk from the first page (at most
    /// [`MAX_RESTARTS`] times, then [`Error::PageTokenExpired`]), discarding the
    /// pages already read, so each SKU is in the result exactly once.
    pub async fn list_inventory_summaries(
        &self,
        marketplace_id: &str,
    ) -> Result<Vec<InventorySummary>, Error> {
        let mut restarts = 0;
        'walk: loop {
            let mut summaries = Vec::new();
            let mut next_token: Option<String> = None;
            loop {
                let page = match self
                    .get_inventory_summaries(marketplace_id, next_token.as_deref())
                    .await
                {
                    Ok(page) => page,
                    Err(Error::InvalidInput { message })
                        if next_token.is_some() && is_expired_token(&message) =>
                    {
                        restarts += 1;
                        tracing::debug!(
                            marketplace_id,
                            restarts,
                            pages_discarded = summaries.len().div_ceil(50),
                            "The inventory nextToken expired; restarting from the first page."
                        );
                        if restarts > MAX_RESTARTS {
                            return Err(Error::PageTokenExpired {
                                restarts: MAX_RESTARTS,
                            });
                        }
                        continue 'walk;
                    }
                    Err(e) => return Err(e),
                };
                summaries.extend(page.summaries);
                match page.next_token {
                    Some(token) => next_token = Some(token),
                    None => return Ok(summaries),
                }
            }
        }
    }
}

/// Amazon's 400 for a stale or mangled token: "Next token is invalid or
/// expired" (selling-partner-api-models#4946).
fn is_expired_token(message: &str) -> bool {
    message.to_ascii_lowercase().contains("next token")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/amazon-api");

    #[test]
    fn a_page_reads_details_and_the_token_beside_the_payload() {
        let json = std::fs::read(format!("{EXAMPLES}/fba_inventory_summaries_page1.json"))
            .expect("the example exists");
        let envelope: Envelope = serde_json::from_slice(&json).expect("the example parses");
        let first = &envelope.payload.inventory_summaries[0];
        let details = first.inventory_details.as_ref().expect("details=true");
        assert!(first.seller_sku.is_some());
        assert!(details.fulfillable_quantity.is_some());
        assert!(
            details
                .reserved_quantity
                .as_ref()
                .and_then(|r| r.total_reserved_quantity)
                .is_some()
        );
        assert!(envelope.pagination.and_then(|p| p.next_token).is_some());
    }

    #[test]
    fn an_empty_last_updated_time_is_none() {
        let summary: InventorySummary =
            serde_json::from_str(r#"{"sellerSku":"A","lastUpdatedTime":""}"#).expect("parses");
        assert_eq!(summary.last_updated_time, None);
        assert!(is_expired_token("InvalidInput: Next token is invalid or expired"));
    }
}
