//! Sync planning: which days a sync task covers ([`window`]) and which Amazon
//! reports it needs ([`units`]). Pure functions of the store, the settings
//! and `now`, so they are unit-tested without I/O.
//!
//! Days are marketplace days (PRODUCT §2 "window"), taken in the time zone of
//! the store's first (primary) marketplace for the task's window and of each
//! marketplace for its own inventory snapshot.

use amzsync_domain::{Marketplace, SyncKind, SyncWindow};
use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::checkpoint::{AdsProfile, AdsReport, Unit};
use crate::reports::advertising;
use crate::settings::SyncSettings;

/// Sales & Traffic history Amazon keeps: two years.
const BUSINESS_MAX_DAYS: u32 = 730;

/// Days per inventory ledger report of a backfill: a unit's rows are held in
/// memory until they are committed, so a long backfill is cut into reports
/// of about a month (a year is 12 reports per marketplace, within
/// `createReport`'s burst).
const LEDGER_REPORT_DAYS: u32 = 31;

/// Today in a marketplace's time zone (UTC for an unknown marketplace id,
/// which the store validation makes impossible in practice).
pub fn today_in(marketplace_id: &str, now: DateTime<Utc>) -> NaiveDate {
    Marketplace::by_id(marketplace_id)
        .and_then(|m| m.time_zone().parse::<Tz>().ok())
        .map_or_else(|| now.date_naive(), |tz| now.with_timezone(&tz).date_naive())
}

/// The window of a new task: `explicit` if given (validated), else the
/// default of its kind.
///
/// - inventory: today's snapshot; an explicit window of days before today is
///   a backfill from the daily inventory ledger (FR-1), ending by yesterday
///   in both the marketplace and UTC (ledger windows are sent as UTC days,
///   and Amazon refuses a window ending in the future);
/// - business: the first run backfills `first_run_backfill_days`, later runs
///   re-pull `business_lookback_days`, ending `business_settling_days` before
///   yesterday (PROTOCOL §4.4.4);
/// - advertising: the same with `ads_lookback_days`, ending yesterday.
pub fn window(
    kind: SyncKind,
    primary_marketplace: &str,
    explicit: Option<SyncWindow>,
    now: DateTime<Utc>,
    first_run: bool,
    settings: &SyncSettings,
) -> Result<SyncWindow, String> {
    let today = today_in(primary_marketplace, now);
    let yesterday = today - Days::new(1);
    match (kind, explicit) {
        (SyncKind::Inventory, None) => Ok(SyncWindow::day(today)),
        (SyncKind::Inventory, Some(w)) if w.start() == today && w.end() == today => Ok(w),
        (SyncKind::Inventory, Some(w)) => {
            let last = today.min(now.date_naive()) - Days::new(1);
            if w.end() <= last {
                Ok(w)
            } else {
                Err(format!(
                    "inventory is today's snapshot ({today}) or a backfill from the daily ledger \
                     ending by {last}: sync the two separately"
                ))
            }
        }
        (_, Some(w)) if w.end() > yesterday => Err(format!(
            "the window must end by yesterday ({yesterday}): Amazon has no complete day after it"
        )),
        (SyncKind::Business, Some(w)) if w.days() > BUSINESS_MAX_DAYS => Err(format!(
            "at most {BUSINESS_MAX_DAYS} days: Amazon keeps two years of Sales & Traffic"
        )),
        (SyncKind::Advertising, Some(w))
            if w.start() < advertising::earliest(AdsReport::AdvertisedProduct, today) =>
        {
            Err(format!(
                "the window must start by {}: Amazon keeps advertising reports for {} days",
                advertising::earliest(AdsReport::AdvertisedProduct, today),
                advertising::retention_days(AdsReport::AdvertisedProduct)
            ))
        }
        (_, Some(w)) => Ok(w),
        (SyncKind::Business, None) => {
            let end = yesterday - Days::new(u64::from(settings.business_settling_days));
            let days = if first_run {
                settings.first_run_backfill_days
            } else {
                settings.business_lookback_days
            };
            Ok(ending(end, days))
        }
        (SyncKind::Advertising, None) => {
            let days = if first_run {
                settings.first_run_backfill_days
            } else {
                settings.ads_lookback_days
            };
            Ok(ending(yesterday, days))
        }
    }
}

/// `days` days ending at `end` (at least one).
fn ending(end: NaiveDate, days: u32) -> SyncWindow {
    let start = end - Days::new(u64::from(days.max(1) - 1));
    // `start <= end` by construction.
    SyncWindow::new(start, end).unwrap_or(SyncWindow::day(end))
}

/// The reports a task needs, in the order they are worked on.
///
/// - inventory: one MYI report per marketplace (Amazon refuses a
///   multi-marketplace near-real-time report), stored under that
///   marketplace's today;
/// - business: one Sales & Traffic report per marketplace per day, because
///   the by-SKU section of a multi-day report sums its days (PROTOCOL §4.4);
/// - advertising: planned from its discovered profiles by [`ads_units`].
pub fn units(kind: SyncKind, marketplaces: &[String], window: SyncWindow, now: DateTime<Utc>) -> Vec<Unit> {
    match kind {
        SyncKind::Inventory => marketplaces
            .iter()
            .map(|m| Unit::planned(m.clone(), today_in(m, now)))
            .collect(),
        SyncKind::Business => window
            .iter_days()
            .flat_map(|day| marketplaces.iter().map(move |m| Unit::planned(m.clone(), day)))
            .collect(),
        SyncKind::Advertising => Vec::new(),
    }
}

/// Whether an inventory task is a ledger backfill: its window ends before
/// the day it was created (in its primary marketplace), which [`window`]
/// allows only for a backfill. Decided by the creation time, not the
/// planning time, so a snapshot task planned after midnight stays one.
pub fn is_ledger_backfill(primary_marketplace: &str, window: SyncWindow, created_at: DateTime<Utc>) -> bool {
    window.end() < today_in(primary_marketplace, created_at)
}

/// The ledger reports of an inventory backfill: for each marketplace, the
/// window cut into reports of at most [`LEDGER_REPORT_DAYS`] days (rows are
/// stored under their own day, so one report serves many).
pub fn ledger_units(marketplaces: &[String], window: SyncWindow) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut start = window.start();
    while start <= window.end() {
        let end = (start + Days::new(u64::from(LEDGER_REPORT_DAYS - 1))).min(window.end());
        units.extend(
            marketplaces
                .iter()
                .map(|m| Unit::planned_ledger(m.clone(), start, end)),
        );
        start = end + Days::new(1);
    }
    units
}

/// The Ads reports of an advertising task: for each profile, each report
/// type over the task's window, cut into reports of at most 31 days.
///
/// Ads days are the profile's days (PROTOCOL §5.9), taken here as its
/// marketplace's: each profile's window ends by yesterday there, and each
/// report's starts no earlier than Amazon keeps it (search terms: 65 days, so
/// an older part of the window has no search terms; the other types 95).
pub fn ads_units(profiles: &[AdsProfile], window: SyncWindow, now: DateTime<Utc>) -> Vec<Unit> {
    let mut units = Vec::new();
    for profile in profiles {
        let today = today_in(&profile.marketplace_id, now);
        let end = window.end().min(today - Days::new(1));
        for report in AdsReport::ALL {
            let start = window.start().max(advertising::earliest(report, today));
            for (from, to) in advertising::windows(start, end) {
                units.push(Unit::planned_ads(profile, report, from, to));
            }
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: &str = "ATVPDKIKX0DER";
    const JP: &str = "A1VC38T7YXB528";

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid test instant")
            .with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("valid test date")
    }

    #[test]
    fn today_is_the_marketplace_day() {
        // 03:00 UTC is still the previous evening in Los Angeles, already noon in Tokyo.
        let now = at("2026-03-10T03:00:00Z");
        assert_eq!(today_in(US, now), day("2026-03-09"));
        assert_eq!(today_in(JP, now), day("2026-03-10"));
    }

    #[test]
    fn business_backfills_on_the_first_run_then_re_pulls_the_lookback() {
        let settings = SyncSettings::default();
        let now = at("2026-03-10T12:00:00Z");
        let first = window(SyncKind::Business, US, None, now, true, &settings).expect("valid");
        assert_eq!(
            (first.start(), first.end()),
            (day("2026-02-08"), day("2026-03-09"))
        );
        assert_eq!(first.days(), 30);
        let later = window(SyncKind::Business, US, None, now, false, &settings).expect("valid");
        assert_eq!(
            (later.start(), later.end()),
            (day("2026-03-03"), day("2026-03-09"))
        );
        let settled = SyncSettings {
            business_settling_days: 2,
            ..SyncSettings::default()
        };
        let w = window(SyncKind::Business, US, None, now, false, &settled).expect("valid");
        assert_eq!(w.end(), day("2026-03-07"));
    }

    #[test]
    fn advertising_looks_back_fourteen_days() {
        let now = at("2026-03-10T12:00:00Z");
        let w = window(
            SyncKind::Advertising,
            US,
            None,
            now,
            false,
            &SyncSettings::default(),
        )
        .expect("valid");
        assert_eq!((w.start(), w.end()), (day("2026-02-24"), day("2026-03-09")));
    }

    #[test]
    fn explicit_windows_must_be_possible() {
        let s = SyncSettings::default();
        let now = at("2026-03-10T12:00:00Z");
        let today = SyncWindow::day(day("2026-03-10"));
        assert!(window(SyncKind::Inventory, US, Some(today), now, false, &s).is_ok());
        let history = SyncWindow::new(day("2026-03-01"), day("2026-03-09")).expect("ordered");
        assert_eq!(
            window(SyncKind::Inventory, US, Some(history), now, false, &s),
            Ok(history)
        );
        let reaching_today = SyncWindow::new(day("2026-03-01"), day("2026-03-10")).expect("ordered");
        let err = window(SyncKind::Inventory, US, Some(reaching_today), now, false, &s).unwrap_err();
        assert!(err.contains("ending by 2026-03-09"), "{err}");
        // Just after midnight in Tokyo, its yesterday has not ended in UTC:
        // the ledger's window (UTC days) would end in the future.
        let tokyo_morning = at("2026-03-09T16:00:00Z");
        let tokyo_yesterday = SyncWindow::day(day("2026-03-09"));
        assert!(
            window(
                SyncKind::Inventory,
                JP,
                Some(tokyo_yesterday),
                tokyo_morning,
                false,
                &s
            )
            .is_err()
        );
        assert!(
            window(
                SyncKind::Inventory,
                JP,
                Some(SyncWindow::day(day("2026-03-08"))),
                tokyo_morning,
                false,
                &s
            )
            .is_ok()
        );
        assert!(window(SyncKind::Business, US, Some(today), now, false, &s).is_err());
        let past = SyncWindow::new(day("2026-03-01"), day("2026-03-09")).expect("ordered");
        assert_eq!(
            window(SyncKind::Business, US, Some(past), now, false, &s),
            Ok(past)
        );
    }

    #[test]
    fn advertising_needs_each_report_per_profile_in_windows_of_31_days() {
        let profile = AdsProfile {
            profile_id: 1,
            marketplace_id: US.into(),
            currency: "USD".into(),
        };
        let now = at("2026-03-10T12:00:00Z");
        let w = SyncWindow::new(day("2026-01-24"), day("2026-03-09")).expect("ordered");
        assert_eq!(w.days(), 45);
        let units = ads_units(std::slice::from_ref(&profile), w, now);
        assert_eq!(units.len(), 10);
        let products: Vec<(NaiveDate, Option<NaiveDate>)> = units
            .iter()
            .filter(|u| u.report == Some(AdsReport::AdvertisedProduct))
            .map(|u| (u.date, u.end))
            .collect();
        assert_eq!(
            products,
            [
                (day("2026-01-24"), Some(day("2026-02-23"))),
                (day("2026-02-24"), Some(day("2026-03-09")))
            ]
        );
        // Search terms are kept 65 days: an older window starts later.
        let old = SyncWindow::new(day("2025-12-15"), day("2026-01-10")).expect("ordered");
        let units = ads_units(&[profile], old, now);
        let terms: Vec<NaiveDate> = units
            .iter()
            .filter(|u| u.report == Some(AdsReport::SearchTerms))
            .map(|u| u.date)
            .collect();
        assert_eq!(terms, [day("2026-01-05")]);
        assert!(
            window(
                SyncKind::Advertising,
                US,
                Some(old),
                now,
                false,
                &SyncSettings::default()
            )
            .is_ok()
        );
        let too_old = SyncWindow::new(day("2025-12-01"), day("2026-01-10")).expect("ordered");
        assert!(
            window(
                SyncKind::Advertising,
                US,
                Some(too_old),
                now,
                false,
                &SyncSettings::default()
            )
            .is_err()
        );
    }

    #[test]
    fn a_ledger_backfill_is_decided_by_the_creation_day_and_cut_into_months() {
        let created = at("2026-03-10T12:00:00Z");
        let past = SyncWindow::new(day("2026-01-01"), day("2026-03-09")).expect("ordered");
        assert!(is_ledger_backfill(US, past, created));
        // A snapshot task created today and planned tomorrow stays a snapshot.
        assert!(!is_ledger_backfill(
            US,
            SyncWindow::day(day("2026-03-10")),
            created
        ));
        let marketplaces = vec![US.to_owned(), JP.to_owned()];
        let labels: Vec<String> = ledger_units(&marketplaces, past)
            .iter()
            .map(Unit::label)
            .collect();
        assert_eq!(
            labels,
            [
                format!("{US} ledger 2026-01-01..2026-01-31"),
                format!("{JP} ledger 2026-01-01..2026-01-31"),
                format!("{US} ledger 2026-02-01..2026-03-03"),
                format!("{JP} ledger 2026-02-01..2026-03-03"),
                format!("{US} ledger 2026-03-04..2026-03-09"),
                format!("{JP} ledger 2026-03-04..2026-03-09"),
            ]
        );
    }

    #[test]
    fn business_needs_one_report_per_day_and_marketplace() {
        let w = SyncWindow::new(day("2026-03-01"), day("2026-03-02")).expect("ordered");
        let marketplaces = vec![US.to_owned(), JP.to_owned()];
        let units = units(SyncKind::Business, &marketplaces, w, at("2026-03-10T12:00:00Z"));
        let labels: Vec<String> = units.iter().map(Unit::label).collect();
        assert_eq!(
            labels,
            [
                format!("{US} 2026-03-01"),
                format!("{JP} 2026-03-01"),
                format!("{US} 2026-03-02"),
                format!("{JP} 2026-03-02")
            ]
        );
    }
}
