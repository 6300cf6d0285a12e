//! `GET /v2/profiles` (PROTOCOL.md §5.3): one seller profile per marketplace of the
//! seller whose Ads grant minted the token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::ads::{AdsError, admit, json_response};
use crate::server::Shared;
use crate::truth::Truth;
use crate::usage_plan::Operation;

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, AdsError> {
    // Profiles are listed before a client knows any profile: no Scope header.
    let caller = admit(&shared, &headers, Operation::ListProfiles, false).await?;
    let truth = Truth::new(Arc::clone(&shared));
    let profiles = truth
        .ads_profiles(&caller.seller)
        .map_err(|_| AdsError::v3(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))?;
    let body: Vec<Value> = profiles
        .iter()
        .map(|p| {
            json!({
                // A JSON number: ids need 64 bits (i64), not f64.
                "profileId": p.profile_id,
                "countryCode": p.country_code,
                "currencyCode": p.currency_code,
                "dailyBudget": 999_999_999.0,
                "timezone": p.timezone,
                "accountInfo": {
                    "marketplaceStringId": p.marketplace_id,
                    "id": p.seller_id,
                    "type": "seller",
                    "name": format!("{} Store", p.seller_id),
                    "validPaymentMethod": true,
                },
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Value::Array(body)))
}
