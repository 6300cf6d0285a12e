//! FBA Inventory API v1 `getInventorySummaries` (PROTOCOL.md §4.3): the MYI
//! snapshot of the day as `InventorySummary` objects, 50 per page in SKU order,
//! with a `nextToken` that expires 30 seconds after it was issued.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::marketplace::Marketplace;
use crate::rng::{Rng, hash};
use crate::server::Shared;
use crate::sp::{SpError, admit};
use crate::truth::{InventoryRow, Truth};
use crate::usage_plan::Operation;
use crate::world::InventoryPage;

/// Observed page size (selling-partner-api-docs#2312).
const PAGE_SIZE: usize = 50;
const MAX_SELLER_SKUS: usize = 50;

pub(crate) async fn summaries(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, SpError> {
    let caller = admit(&shared, &headers, Operation::GetInventorySummaries).await?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let single = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    // Arrays are csv (§2.7); repeated keys are accepted too.
    let list = |name: &str| -> Vec<String> {
        params
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let invalid = |details: &str| SpError::invalid_input(&caller, details);

    if single("granularityType") != Some("Marketplace") {
        return Err(invalid("granularityType is required and must be Marketplace."));
    }
    let Some(marketplace_id) = single("granularityId") else {
        return Err(invalid("granularityId is required."));
    };
    if Marketplace::by_id(marketplace_id).is_none() {
        return Err(invalid(&format!("Invalid granularityId: {marketplace_id}")));
    }
    if list("marketplaceIds") != [marketplace_id] {
        return Err(invalid("marketplaceIds must contain exactly the granularityId."));
    }
    let details = match single("details") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(invalid("details must be true or false.")),
    };
    let start = single("startDateTime")
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| invalid(&format!("startDateTime is not a valid ISO 8601 date-time: {v}")))
        })
        .transpose()?;
    let seller_skus = list("sellerSkus");
    if seller_skus.len() > MAX_SELLER_SKUS {
        return Err(invalid("sellerSkus accepts at most 50 SKUs."));
    }
    // Selection precedence of §4.3.1: startDateTime, then sellerSkus, then sellerSku.
    let skus: Option<Vec<String>> = match (start, seller_skus.is_empty(), single("sellerSku")) {
        (Some(_), _, _) => None,
        (None, false, _) => Some(seller_skus),
        (None, true, Some(sku)) => Some(vec![sku.to_owned()]),
        (None, true, None) => None,
    };

    let now = shared.clock.now();
    let lifetime = chrono::Duration::from_std(shared.config.inventory_next_token_lifetime)
        .unwrap_or(chrono::Duration::MAX);
    let (date, offset) = match single("nextToken") {
        None => (now.date_naive(), 0),
        Some(token) => {
            let world = shared.world();
            let page = world
                .inventory_pages
                .get(token)
                .filter(|p| p.seller == caller.seller && p.marketplace_id == marketplace_id)
                .filter(|p| now - p.issued <= lifetime)
                .ok_or_else(|| SpError::invalid_next_token(&caller))?;
            (page.date, page.offset)
        }
    };

    let truth = Truth::new(Arc::clone(&shared));
    let seed = shared.config.seed;
    // A seller that does not sell in the marketplace simply has no summaries.
    let mut rows = truth
        .inventory_on(&caller.seller, marketplace_id, date)
        .unwrap_or_default();
    rows.sort_by(|a, b| a.sku.cmp(&b.sku));
    let selected: Vec<(InventoryRow, DateTime<Utc>)> = rows
        .into_iter()
        .map(|row| {
            let updated = last_updated(seed, &caller.seller, marketplace_id, date, &row.sku);
            (row, updated)
        })
        .filter(|(row, updated)| {
            skus.as_ref().is_none_or(|s| s.contains(&row.sku)) && start.is_none_or(|t| *updated >= t)
        })
        .collect();

    let page: Vec<Value> = selected
        .iter()
        .skip(offset)
        .take(PAGE_SIZE)
        .map(|(row, updated)| summary(row, *updated, details))
        .collect();
    let mut pagination = json!({});
    if offset + PAGE_SIZE < selected.len() {
        let mut world = shared.world();
        let token = next_token(seed, world.next_sequence());
        world.inventory_pages.insert(
            token.clone(),
            InventoryPage {
                seller: caller.seller.clone(),
                marketplace_id: marketplace_id.to_owned(),
                date,
                offset: offset + PAGE_SIZE,
                issued: now,
            },
        );
        pagination["nextToken"] = token.into();
    }
    let body = json!({
        "payload": {
            "granularity": { "granularityType": "Marketplace", "granularityId": marketplace_id },
            "inventorySummaries": page,
        },
        "pagination": pagination,
    });
    Ok(caller.json(StatusCode::OK, &body))
}

/// When the SKU's inventory last changed: a moment of the day before the snapshot,
/// so it is never in the future and stays put within the day.
fn last_updated(
    seed: u64,
    seller: &str,
    marketplace_id: &str,
    date: chrono::NaiveDate,
    sku: &str,
) -> DateTime<Utc> {
    let seconds = hash(
        seed,
        &[
            "inventory-updated",
            seller,
            marketplace_id,
            &date.to_string(),
            sku,
        ],
    ) % 86_400;
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    midnight - chrono::Duration::days(1) + chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(0))
}

/// An `InventorySummary` with the same quantities as the MYI row: reserved,
/// researching and unfulfillable totals are the MYI columns, broken down
/// deterministically.
fn summary(row: &InventoryRow, updated: DateTime<Utc>, details: bool) -> Value {
    let mut summary = json!({
        "asin": row.asin,
        "fnSku": row.fnsku,
        "sellerSku": row.sku,
        "condition": if row.condition == "New" { "NewItem" } else { row.condition.as_str() },
        "lastUpdatedTime": updated.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "productName": row.product_name,
        "totalQuantity": row.afn_total_quantity,
        "stores": [],
    });
    if details {
        let reserved = row.afn_reserved_quantity;
        let unfulfillable = row.afn_unsellable_quantity;
        let researching = row.afn_researching_quantity;
        summary["inventoryDetails"] = json!({
            "fulfillableQuantity": row.afn_fulfillable_quantity,
            "inboundWorkingQuantity": row.afn_inbound_working_quantity,
            "inboundShippedQuantity": row.afn_inbound_shipped_quantity,
            "inboundReceivingQuantity": row.afn_inbound_receiving_quantity,
            "reservedQuantity": {
                "totalReservedQuantity": reserved,
                "pendingCustomerOrderQuantity": reserved - reserved / 3,
                "pendingTransshipmentQuantity": reserved / 3,
                "fcProcessingQuantity": 0,
            },
            "researchingQuantity": {
                "totalResearchingQuantity": researching,
                "researchingQuantityBreakdown": [
                    { "name": "researchingQuantityInShortTerm", "quantity": researching },
                    { "name": "researchingQuantityInMidTerm", "quantity": 0 },
                    { "name": "researchingQuantityInLongTerm", "quantity": 0 },
                ],
            },
            "unfulfillableQuantity": {
                "totalUnfulfillableQuantity": unfulfillable,
                "customerDamagedQuantity": unfulfillable / 2,
                "warehouseDamagedQuantity": 0,
                "distributorDamagedQuantity": 0,
                "carrierDamagedQuantity": 0,
                "defectiveQuantity": unfulfillable - unfulfillable / 2,
                "expiredQuantity": 0,
            },
        });
    }
    summary
}

/// An opaque token with `+`, `/` and `=`, so an un-encoded one breaks here as on
/// Amazon (selling-partner-api-models#4946).
fn next_token(seed: u64, sequence: u64) -> String {
    let mut bytes = vec![0xfb, 0xff, 0xbf];
    let mut r = Rng::keyed(seed, &["inventory-token", &sequence.to_string()]);
    bytes.extend((0..13).map(|_| r.next_u64().to_le_bytes()[0]));
    bytes.push(0xfe);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
