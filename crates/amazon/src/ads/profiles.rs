//! `GET /v2/profiles` (PROTOCOL.md §5.3): a top-level JSON array of profiles,
//! one per advertising account and marketplace. A seller's profile joins to its
//! SP-API data through `accountInfo.marketplaceStringId` and `accountInfo.id`.

use reqwest::Method;
use serde::Deserialize;

use crate::ads::AdsAccount;
use crate::client::{AdsRequest, Client};
use crate::error::Error;
use crate::throttle::Operation;

/// An advertising profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The profile id: the `Amazon-Advertising-API-Scope` of its calls. A 64-bit
    /// integer in the JSON; never read through `f64`.
    pub profile_id: i64,
    /// `US`, `DE`, … The Ads API writes `UK` for Britain, where the SP-API
    /// says `GB`; use [`Profile::marketplace_id`] to join.
    pub country_code: String,
    /// The currency of its budgets and report money columns.
    #[serde(default)]
    pub currency_code: Option<String>,
    /// IANA time zone of its reports' days.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Daily budget (sellers only).
    #[serde(default)]
    pub daily_budget: Option<f64>,
    /// Whose account it is.
    pub account_info: AccountInfo,
}

impl Profile {
    /// The SP-API marketplace id of the profile.
    pub fn marketplace_id(&self) -> &str {
        &self.account_info.marketplace_string_id
    }

    /// Whether it is a seller's profile (not a vendor's or an agency's).
    pub fn is_seller(&self) -> bool {
        self.account_info.account_type == "seller"
    }
}

/// `accountInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// The SP-API marketplace id (it lives here, not on the profile).
    pub marketplace_string_id: String,
    /// The seller id (`A3…`, the SP-API selling partner id) or vendor entity id.
    pub id: String,
    /// `seller`, `vendor` or `agency`.
    #[serde(rename = "type")]
    pub account_type: String,
    /// The account's name.
    #[serde(default)]
    pub name: Option<String>,
    /// E.g. `KDP_AUTHOR`.
    #[serde(default)]
    pub sub_type: Option<String>,
    /// Whether the account can pay for ads.
    #[serde(default)]
    pub valid_payment_method: Option<bool>,
}

pub(crate) async fn list(client: &Client, account: &AdsAccount) -> Result<Vec<Profile>, Error> {
    client
        .ads_json(
            account,
            AdsRequest {
                operation: Operation::ListProfiles,
                method: Method::GET,
                path: &["v2", "profiles"],
                // Profiles are what a client learns the scopes from.
                profile_id: None,
                body: None,
                content_type: "application/json",
                accept: "application/json",
                idempotent: true,
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_profiles_keep_their_16_digit_ids_and_marketplace() {
        let json = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/amazon-api/ads_profiles.json"
        ))
        .expect("the example exists");
        let profiles: Vec<Profile> = serde_json::from_slice(&json).expect("the example parses");
        let first = &profiles[0];
        assert!(first.profile_id > 999_999_999_999_999);
        assert!(!first.marketplace_id().is_empty());
        assert!(first.is_seller());
    }
}
