//! FBA Inventory API v1 `getInventorySummaries` (PROTOCOL.md §4.3): the MYI
//! snapshot of the day as `InventorySummary` objects, 50 per page in SKU order,
//! with a `nextToken` that expires 30 seconds after it was issued. A page walks
//! the catalog in SKU order and generates only the SKUs it lists.

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
use crate::truth::catalog::Catalog;
use crate::truth::{InventoryRow, Truth, inventory};
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
    let catalog = truth.catalog(&caller.seller, marketplace_id).ok();
    let order = catalog
        .as_ref()
        .map(|c| sku_order(&shared, c))
        .unwrap_or_default();
    // Walks the catalog in SKU order from `position`, generating only the SKUs it
    // looks at, so a page costs its own rows whatever the size of the store.
    let selected = |position: usize| -> Option<(usize, crate::truth::Product, DateTime<Utc>)> {
        let catalog = catalog.as_ref()?;
        (position..order.len()).find_map(|i| {
            let product = catalog.product(order[i] as usize);
            let updated = last_updated(seed, &caller.seller, marketplace_id, date, &product.sku);
            let wanted =
                skus.as_ref().is_none_or(|s| s.contains(&product.sku)) && start.is_none_or(|t| updated >= t);
            wanted.then_some((i, product, updated))
        })
    };
    let mut page: Vec<Value> = Vec::new();
    let mut position = offset;
    while page.len() < PAGE_SIZE {
        let Some((i, product, updated)) = selected(position) else {
            position = order.len();
            break;
        };
        let row = inventory::row(seed, &caller.seller, marketplace_id, date, &product);
        page.push(summary(&row, updated, details));
        position = i + 1;
    }
    let mut pagination = json!({});
    // A token only when another summary follows; it resumes where that one is.
    if let Some((next, _, _)) = selected(position) {
        let mut world = shared.world();
        let token = next_token(seed, world.next_sequence());
        world.inventory_pages.insert(
            token.clone(),
            InventoryPage {
                seller: caller.seller.clone(),
                marketplace_id: marketplace_id.to_owned(),
                date,
                offset: next,
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

/// The catalog's indices in SKU order, the order summaries are listed in. Sorting
/// needs every SKU once; the order is then kept per store (four bytes a SKU), so
/// each page generates only its own rows.
fn sku_order(shared: &Shared, catalog: &Catalog) -> Arc<Vec<u32>> {
    let key = (
        catalog.seller().to_owned(),
        catalog.marketplace().id,
        catalog.len(),
    );
    if let Some(order) = shared.world().sku_orders.get(&key) {
        return Arc::clone(order);
    }
    let mut skus: Vec<(String, u32)> = catalog
        .iter()
        .zip(0u32..)
        .map(|(product, i)| (product.sku, i))
        .collect();
    skus.sort_unstable();
    let order: Arc<Vec<u32>> = Arc::new(skus.into_iter().map(|(_, i)| i).collect());
    shared.world().sku_orders.insert(key, Arc::clone(&order));
    order
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
