//! The Ads API side of an advertising sync task (FR-3): discovering the
//! store's profiles, and one Sponsored Products report per unit (profile,
//! report type, window) through reporting v3.

use amzsync_amazon::Error as AmazonError;
use amzsync_amazon::ads::Ads;
use amzsync_db::{Db, NewAdsProfile, Store};
use amzsync_domain::{ErrorClass, Marketplace};
use chrono::NaiveDate;

use super::{Polled, Stage};
use crate::checkpoint::{AdsProfile, AdsReport};
use crate::failure::Failure;
use crate::reports::advertising::{self, Context};

/// The store's profiles: the seller profiles of the authorization whose
/// account is the store's seller and whose marketplace is one of the store's,
/// in the store's marketplace order. They replace the store's recorded
/// profiles. None is a failure: the Ads authorization does not reach this
/// seller, and "success" would claim data that was never fetched.
pub(super) async fn discover(ads: &Ads<'_>, db: &Db, store: &Store) -> Result<Vec<AdsProfile>, Failure> {
    let all = ads
        .profiles()
        .await
        .map_err(|e| Failure::amazon("listing the Ads profiles", &e))?;
    let mut found: Vec<NewAdsProfile> = Vec::new();
    for marketplace_id in &store.marketplaces {
        let marketplace = Marketplace::by_id(marketplace_id);
        for p in all.iter().filter(|p| {
            p.is_seller() && p.account_info.id == store.seller_id && p.marketplace_id() == marketplace_id
        }) {
            found.push(NewAdsProfile {
                profile_id: p.profile_id,
                marketplace_id: marketplace_id.clone(),
                country_code: p.country_code.clone(),
                // Amazon always sends both; the marketplace's are the same.
                currency_code: p
                    .currency_code
                    .clone()
                    .or_else(|| marketplace.map(|m| m.currency().to_owned()))
                    .unwrap_or_default(),
                timezone: p
                    .timezone
                    .clone()
                    .or_else(|| marketplace.map(|m| m.time_zone().to_owned()))
                    .unwrap_or_default(),
                account_type: p.account_info.account_type.clone(),
                account_name: p.account_info.name.clone(),
            });
        }
    }
    if found.is_empty() {
        return Err(Failure::new(
            ErrorClass::Forbidden,
            format!(
                "the store's Ads authorization reaches no seller profile of {} in {}: authorize the Ads API with the seller's account",
                store.seller_id,
                store.marketplaces.join(", ")
            ),
        ));
    }
    db.ads_profiles()
        .replace(store.id, &found)
        .await
        .map_err(|e| Failure::db("recording the Ads profiles", &e))?;
    tracing::info!(profiles = found.len(), "Ads profiles discovered");
    Ok(found
        .into_iter()
        .map(|p| AdsProfile {
            profile_id: p.profile_id,
            marketplace_id: p.marketplace_id,
            currency: p.currency_code,
        })
        .collect())
}

/// Requests `report` of `profile` over `start..=end`. A 425 naming the same
/// request still in progress reuses that report (the client checks it is
/// the same), so a crash between the request and the checkpoint costs no
/// second report. Returns its id.
pub(super) async fn request(
    ads: &Ads<'_>,
    profile: &AdsProfile,
    report: AdsReport,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<String, AmazonError> {
    let requested = ads
        .reporting(profile.profile_id)
        .create_report(&advertising::request(report, start, end))
        .await?;
    tracing::debug!(profile_id = profile.profile_id, report = report.name(), %start, %end,
        report_id = %requested.report_id, reused = requested.reused, "Ads report requested");
    Ok(requested.report_id)
}

/// Polls report `report_id`; downloads and converts its rows once COMPLETED.
/// FAILED comes back as [`AmazonError::ReportFatal`].
pub(super) async fn poll(
    ads: &Ads<'_>,
    ctx: Context,
    report: AdsReport,
    report_id: &str,
) -> Result<Polled, (Stage, AmazonError)> {
    let reporting = ads.reporting(ctx.profile.profile_id);
    let status = reporting
        .get_report(report_id)
        .await
        .map_err(|e| (Stage::Polling, e))?;
    if !reporting.ready(&status).map_err(|e| (Stage::Polling, e))? {
        return Ok(Polled::NotReady);
    }
    let fetched = reporting
        .download(&status, move |text| advertising::read(report, text, &ctx))
        .await
        .map_err(|e| (Stage::Downloading, e))?;
    Ok(Polled::Ready(fetched))
}
