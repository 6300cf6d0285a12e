//! Sync planning: which days a sync task covers ([`window`]) and which Amazon
//! reports it needs ([`units`], [`ads_units`]). Pure functions of the store,
//! the settings, what earlier syncs fetched ([`Synced`]) and `now`, so they
//! are unit-tested without I/O.
//!
//! Days are marketplace days (PRODUCT §2 "window"), taken in the time zone of
//! the store's first (primary) marketplace for the task's window and of each
//! marketplace for its own inventory snapshot.
//!
//! **Final days.** Amazon restates a day for a while (Sales & Traffic about a
//! week, attributed ad sales for weeks). A store's lookback of a kind is its
//! restatement horizon: a day is *final* once it is `lookback` days old (the
//! oldest day a scheduled run re-pulls is the day it becomes final, so a
//! store synced every day fetches each day once after it can no longer
//! change). A final day fetched after it became final is not requested
//! again, by scheduled and explicit windows alike; a scheduled window reaches
//! back to the oldest day that is not final-and-synced yet, so a scheduler
//! that was down leaves no hole.

use std::collections::HashMap;
use std::time::Duration;

use amzsync_db::Store;
use amzsync_domain::{Marketplace, SyncKind, SyncWindow};
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::checkpoint::{AdsProfile, AdsReport, Checkpoint, Unit};
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

/// The store's lookback of `kind` (its own, else the configured default):
/// the days a later run re-pulls and the age at which a day is final.
pub fn lookback_days(kind: SyncKind, store: &Store, settings: &SyncSettings) -> u32 {
    match kind {
        SyncKind::Advertising => store.ads_lookback_days.unwrap_or(settings.ads_lookback_days),
        SyncKind::Business | SyncKind::Inventory => store
            .business_lookback_days
            .unwrap_or(settings.business_lookback_days),
    }
    .max(1)
}

/// Reports whose days are fetched independently of each other: one
/// marketplace's Sales & Traffic, or one report type of one Ads profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Series {
    /// Sales & Traffic of a marketplace.
    Business {
        /// The marketplace.
        marketplace_id: String,
    },
    /// One Sponsored Products report type of one Ads profile.
    Ads {
        /// The profile.
        profile_id: i64,
        /// Its marketplace (the profile's days are taken as its).
        marketplace_id: String,
        /// The report type.
        report: AdsReport,
    },
}

impl Series {
    /// The series of every report of a business task's marketplaces, or of an
    /// advertising task's profiles.
    pub fn all(kind: SyncKind, marketplaces: &[String], profiles: &[AdsProfile]) -> Vec<Series> {
        match kind {
            SyncKind::Inventory => Vec::new(),
            SyncKind::Business => marketplaces
                .iter()
                .map(|m| Series::Business {
                    marketplace_id: m.clone(),
                })
                .collect(),
            SyncKind::Advertising => profiles
                .iter()
                .flat_map(|p| {
                    AdsReport::ALL.into_iter().map(|report| Series::Ads {
                        profile_id: p.profile_id,
                        marketplace_id: p.marketplace_id.clone(),
                        report,
                    })
                })
                .collect(),
        }
    }

    /// The series a unit belongs to (`None` for inventory's, which are
    /// snapshots, and for an Ads unit lacking its profile or report).
    fn of(kind: SyncKind, unit: &Unit) -> Option<Series> {
        match (kind, unit.profile_id, unit.report) {
            (SyncKind::Business, _, _) => Some(Series::Business {
                marketplace_id: unit.marketplace_id.clone(),
            }),
            (SyncKind::Advertising, Some(profile_id), Some(report)) => Some(Series::Ads {
                profile_id,
                marketplace_id: unit.marketplace_id.clone(),
                report,
            }),
            _ => None,
        }
    }

    fn marketplace_id(&self) -> &str {
        match self {
            Series::Business { marketplace_id } | Series::Ads { marketplace_id, .. } => marketplace_id,
        }
    }

    /// The first day Amazon still has, at `now`: a day before it cannot be
    /// fetched again, so there is nothing to catch up.
    fn kept_since(&self, now: DateTime<Utc>) -> NaiveDate {
        let today = today_in(self.marketplace_id(), now);
        match self {
            Series::Business { .. } => today - Days::new(u64::from(BUSINESS_MAX_DAYS)),
            Series::Ads { report, .. } => advertising::earliest(*report, today),
        }
    }
}

/// What a store's successful tasks of a kind fetched: for each series and
/// day, the latest marketplace day on which it was fetched.
///
/// The evidence is the checkpoints of successful tasks (`sync_tasks`): a
/// unit is `done` (or `no_data`) exactly when its rows committed, in the
/// transaction that also recorded the checkpoint, so no other record can
/// disagree with the rows. (`amazon_reports` has a data range and a
/// completion time too, but nothing writes it: a second record of the same
/// fact.) A task's reports were requested after it was created, or reused
/// from a matching SP-API request at most `report_reuse_within` earlier (an
/// Ads 425 reuses a report still being generated, whose data is younger
/// still), so that instant is taken as when the data was fetched: never
/// later than it was, so a day is at worst fetched once more, never skipped
/// while it could still change. Only successful tasks count: a failed one's
/// finished units are fetched again, which costs a report, not a hole.
#[derive(Debug, Clone, Default)]
pub struct Synced {
    fetched_on: HashMap<(Series, NaiveDate), NaiveDate>,
}

impl Synced {
    /// From successful tasks of `kind`: each one's creation time and
    /// checkpoint.
    pub fn from_tasks<'a>(
        kind: SyncKind,
        tasks: impl IntoIterator<Item = (DateTime<Utc>, &'a Checkpoint)>,
        reuse_within: Duration,
    ) -> Self {
        let mut synced = Synced::default();
        let reuse = TimeDelta::from_std(reuse_within).unwrap_or(TimeDelta::zero());
        for (created_at, checkpoint) in tasks {
            let fetched_at = created_at - reuse;
            for unit in checkpoint.units.iter().filter(|u| u.is_finished()) {
                let Some(series) = Series::of(kind, unit) else {
                    continue;
                };
                let on = today_in(&unit.marketplace_id, fetched_at);
                let last = unit.end.unwrap_or(unit.date);
                for day in unit.date.iter_days().take_while(|d| *d <= last) {
                    synced.record(series.clone(), day, on);
                }
            }
        }
        synced
    }

    /// Notes that `day` of `series` was fetched on the marketplace day `on`.
    pub fn record(&mut self, series: Series, day: NaiveDate, on: NaiveDate) {
        let latest = self.fetched_on.entry((series, day)).or_insert(on);
        *latest = (*latest).max(on);
    }

    /// Whether `day` of `series` was fetched when it was already final, that
    /// is at least `lookback` days old.
    pub fn is_final(&self, series: &Series, day: NaiveDate, lookback: u32) -> bool {
        self.fetched_on
            .get(&(series.clone(), day))
            .is_some_and(|on| (*on - day).num_days() >= i64::from(lookback))
    }
}

/// What a scheduled window may catch up and how old its days may be final:
/// the store's lookback, what was fetched, and the series a day needs.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    /// The store's lookback of the task's kind ([`lookback_days`]).
    pub lookback: u32,
    /// What earlier tasks fetched.
    pub synced: &'a Synced,
    /// The series every day needs ([`Series::all`]; none known yet, as for
    /// an advertising store whose profiles were never discovered, means
    /// nothing was synced).
    pub series: &'a [Series],
}

impl History<'_> {
    /// Whether every series has `day` final and synced, or no longer kept.
    fn is_settled(&self, day: NaiveDate, now: DateTime<Utc>) -> bool {
        !self.series.is_empty()
            && self
                .series
                .iter()
                .all(|s| day < s.kept_since(now) || self.synced.is_final(s, day, self.lookback))
    }
}

/// The days a scheduled task of `kind` may cover at `now`: from the oldest
/// it would catch up (`first_run_backfill_days` back, and never before
/// Amazon's retention) to the last complete one. `None` for inventory.
pub fn reach(
    kind: SyncKind,
    primary_marketplace: &str,
    now: DateTime<Utc>,
    settings: &SyncSettings,
) -> Option<SyncWindow> {
    let today = today_in(primary_marketplace, now);
    let yesterday = today - Days::new(1);
    let (end, kept_since) = match kind {
        SyncKind::Inventory => return None,
        SyncKind::Business => {
            let end = yesterday - Days::new(u64::from(settings.business_settling_days));
            (end, ending(end, BUSINESS_MAX_DAYS).start())
        }
        SyncKind::Advertising => (
            yesterday,
            advertising::earliest(AdsReport::AdvertisedProduct, today),
        ),
    };
    let start = ending(end, settings.first_run_backfill_days)
        .start()
        .max(kept_since)
        .min(end);
    SyncWindow::new(start, end).ok()
}

/// The window of a new task: `explicit` if given (validated), else the
/// default of its kind.
///
/// - inventory: today's snapshot; an explicit window of days before today is
///   a backfill from the daily inventory ledger (FR-1), ending by yesterday
///   in both the marketplace and UTC (ledger windows are sent as UTC days,
///   and Amazon refuses a window ending in the future);
/// - business: the store's lookback ending `business_settling_days` before
///   yesterday (PROTOCOL §4.4.4), reaching further back to the oldest day not
///   yet final and synced, but no further than [`reach`] (a store's first
///   run therefore backfills `first_run_backfill_days`);
/// - advertising: the same ending yesterday.
pub fn window(
    kind: SyncKind,
    primary_marketplace: &str,
    explicit: Option<SyncWindow>,
    now: DateTime<Utc>,
    history: History<'_>,
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
        (SyncKind::Business | SyncKind::Advertising, None) => {
            let reach = reach(kind, primary_marketplace, now, settings)
                .ok_or_else(|| format!("no {kind} window can be planned"))?;
            let end = reach.end();
            let lookback_start = ending(end, history.lookback).start();
            let oldest_open = reach
                .iter_days()
                .take_while(|d| *d < lookback_start)
                .find(|d| !history.is_settled(*d, now));
            let start = oldest_open.unwrap_or(lookback_start);
            SyncWindow::new(start, end).map_err(|e| e.to_string())
        }
    }
}

/// `days` days ending at `end` (at least one).
fn ending(end: NaiveDate, days: u32) -> SyncWindow {
    let start = end - Days::new(u64::from(days.max(1) - 1));
    // `start <= end` by construction.
    SyncWindow::new(start, end).unwrap_or(SyncWindow::day(end))
}

/// The reports a task needs, and how many days it skips as already final
/// and synced (per marketplace or Ads profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The reports, in the order they are worked on.
    pub units: Vec<Unit>,
    /// Days not requested because they are final and were fetched after
    /// they became final.
    pub skipped_final_days: u32,
}

/// The reports a task needs, in the order they are worked on.
///
/// - inventory: one MYI report per marketplace (Amazon refuses a
///   multi-marketplace near-real-time report), stored under that
///   marketplace's today;
/// - business: one Sales & Traffic report per marketplace per day, because
///   the by-SKU section of a multi-day report sums its days (PROTOCOL §4.4),
///   but none for a day final and synced (`lookback`, `synced`);
/// - advertising: planned from its discovered profiles by [`ads_units`].
pub fn units(
    kind: SyncKind,
    marketplaces: &[String],
    window: SyncWindow,
    now: DateTime<Utc>,
    lookback: u32,
    synced: &Synced,
) -> Plan {
    let mut plan = Plan {
        units: Vec::new(),
        skipped_final_days: 0,
    };
    match kind {
        SyncKind::Inventory => {
            plan.units = marketplaces
                .iter()
                .map(|m| Unit::planned(m.clone(), today_in(m, now)))
                .collect();
        }
        SyncKind::Business => {
            for day in window.iter_days() {
                for m in marketplaces {
                    let series = Series::Business {
                        marketplace_id: m.clone(),
                    };
                    if synced.is_final(&series, day, lookback) {
                        plan.skipped_final_days += 1;
                    } else {
                        plan.units.push(Unit::planned(m.clone(), day));
                    }
                }
            }
        }
        SyncKind::Advertising => {}
    }
    plan
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
/// type over the task's days that are not final and synced, cut into reports
/// of at most 31 days.
///
/// Ads days are the profile's days (PROTOCOL §5.9), taken here as its
/// marketplace's: each profile's window ends by yesterday there, and each
/// report's starts no earlier than Amazon keeps it (search terms: 65 days, so
/// an older part of the window has no search terms; the other types 95).
///
/// A report spans up to 31 days, so skipping a final day does not always
/// save one: the days to fetch are covered by as few reports as possible
/// (each starts at the oldest day still to fetch), and a final day that
/// falls inside one of them is fetched again at no extra request.
pub fn ads_units(
    profiles: &[AdsProfile],
    window: SyncWindow,
    now: DateTime<Utc>,
    lookback: u32,
    synced: &Synced,
) -> Plan {
    let mut plan = Plan {
        units: Vec::new(),
        skipped_final_days: 0,
    };
    for profile in profiles {
        let today = today_in(&profile.marketplace_id, now);
        let end = window.end().min(today - Days::new(1));
        let first = plan.units.len();
        for report in AdsReport::ALL {
            let series = Series::Ads {
                profile_id: profile.profile_id,
                marketplace_id: profile.marketplace_id.clone(),
                report,
            };
            let start = window.start().max(advertising::earliest(report, today));
            let needed: Vec<NaiveDate> = start
                .iter_days()
                .take_while(|d| *d <= end)
                .filter(|d| !synced.is_final(&series, *d, lookback))
                .collect();
            for (from, to) in covering(&needed, advertising::MAX_DAYS) {
                plan.units.push(Unit::planned_ads(profile, report, from, to));
            }
        }
        let planned = &plan.units[first..];
        let skipped = window
            .start()
            .iter_days()
            .take_while(|d| *d <= end)
            .filter(|d| {
                !planned
                    .iter()
                    .any(|u| u.date <= *d && u.end.is_some_and(|e| *d <= e))
            })
            .count();
        plan.skipped_final_days += u32::try_from(skipped).unwrap_or(u32::MAX);
    }
    plan
}

/// The fewest ranges of at most `max_days` days that cover `days` (sorted):
/// each starts at the oldest day not covered yet and ends at the last day of
/// `days` it can reach.
fn covering(days: &[NaiveDate], max_days: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let mut ranges: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &day in days {
        match ranges.last_mut() {
            Some((from, to)) if (day - *from).num_days() < i64::from(max_days) => *to = day,
            _ => ranges.push((day, day)),
        }
    }
    ranges
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

    fn us() -> Vec<Series> {
        Series::all(SyncKind::Business, &[US.to_owned()], &[])
    }

    /// No history: nothing synced yet.
    fn fresh(lookback: u32) -> History<'static> {
        static NOTHING: std::sync::LazyLock<Synced> = std::sync::LazyLock::new(Synced::default);
        History {
            lookback,
            synced: &NOTHING,
            series: &[],
        }
    }

    /// A business store synced every day from `first` to `last` (inclusive),
    /// each run re-pulling the `lookback` days before it, the first one
    /// backfilling 30.
    fn daily_runs(first: &str, last: &str, lookback: u32) -> Synced {
        let mut synced = Synced::default();
        let series = &us()[0];
        for run in day(first).iter_days().take_while(|d| *d <= day(last)) {
            let days = if run == day(first) { 30 } else { lookback };
            for d in ending(run - Days::new(1), days).iter_days() {
                synced.record(series.clone(), d, run);
            }
        }
        synced
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
        let first = window(SyncKind::Business, US, None, now, fresh(7), &settings).expect("valid");
        assert_eq!(
            (first.start(), first.end()),
            (day("2026-02-08"), day("2026-03-09"))
        );
        assert_eq!(first.days(), 30);
        let synced = daily_runs("2026-03-09", "2026-03-09", 7);
        let series = us();
        let history = History {
            lookback: 7,
            synced: &synced,
            series: &series,
        };
        let later = window(SyncKind::Business, US, None, now, history, &settings).expect("valid");
        assert_eq!(
            (later.start(), later.end()),
            (day("2026-03-03"), day("2026-03-09"))
        );
        let settled = SyncSettings {
            business_settling_days: 2,
            ..SyncSettings::default()
        };
        let synced = daily_runs("2026-03-01", "2026-03-09", 7);
        let history = History {
            lookback: 7,
            synced: &synced,
            series: &series,
        };
        let w = window(SyncKind::Business, US, None, now, history, &settled).expect("valid");
        assert_eq!((w.start(), w.end()), (day("2026-03-01"), day("2026-03-07")));
    }

    #[test]
    fn advertising_looks_back_fourteen_days() {
        let now = at("2026-03-10T12:00:00Z");
        let profile = AdsProfile {
            profile_id: 1,
            marketplace_id: US.into(),
            currency: "USD".into(),
        };
        let series = Series::all(SyncKind::Advertising, &[], std::slice::from_ref(&profile));
        let mut synced = Synced::default();
        // Yesterday's run fetched 30 days, the oldest 16 of them already final.
        for s in &series {
            for d in ending(day("2026-03-08"), 30).iter_days() {
                synced.record(s.clone(), d, day("2026-03-09"));
            }
        }
        let history = History {
            lookback: 14,
            synced: &synced,
            series: &series,
        };
        let w = window(
            SyncKind::Advertising,
            US,
            None,
            now,
            history,
            &SyncSettings::default(),
        )
        .expect("valid");
        assert_eq!((w.start(), w.end()), (day("2026-02-24"), day("2026-03-09")));
        // Profiles never discovered: a first run, 30 days.
        let first = window(
            SyncKind::Advertising,
            US,
            None,
            now,
            fresh(14),
            &SyncSettings::default(),
        )
        .expect("valid");
        assert_eq!(first.days(), 30);
    }

    #[test]
    fn explicit_windows_must_be_possible() {
        let s = SyncSettings::default();
        let now = at("2026-03-10T12:00:00Z");
        let today = SyncWindow::day(day("2026-03-10"));
        assert!(window(SyncKind::Inventory, US, Some(today), now, fresh(7), &s).is_ok());
        let history = SyncWindow::new(day("2026-03-01"), day("2026-03-09")).expect("ordered");
        assert_eq!(
            window(SyncKind::Inventory, US, Some(history), now, fresh(7), &s),
            Ok(history)
        );
        let reaching_today = SyncWindow::new(day("2026-03-01"), day("2026-03-10")).expect("ordered");
        let err = window(SyncKind::Inventory, US, Some(reaching_today), now, fresh(7), &s).unwrap_err();
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
                fresh(7),
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
                fresh(7),
                &s
            )
            .is_ok()
        );
        assert!(window(SyncKind::Business, US, Some(today), now, fresh(7), &s).is_err());
        let past = SyncWindow::new(day("2026-03-01"), day("2026-03-09")).expect("ordered");
        assert_eq!(
            window(SyncKind::Business, US, Some(past), now, fresh(7), &s),
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
        let nothing = Synced::default();
        let units = ads_units(std::slice::from_ref(&profile), w, now, 14, &nothing).units;
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
        let units = ads_units(&[profile], old, now, 14, &nothing).units;
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
                fresh(14),
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
                fresh(14),
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
        let plan = units(
            SyncKind::Business,
            &marketplaces,
            w,
            at("2026-03-10T12:00:00Z"),
            7,
            &Synced::default(),
        );
        assert_eq!(plan.skipped_final_days, 0);
        let units = plan.units;
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
    #[test]
    fn a_scheduler_that_was_down_leaves_no_hole() {
        let settings = SyncSettings::default();
        let series = us();
        // Daily runs until 2026-02-28, then ten days down: 02-21 was last
        // fetched at 7 days old (final), 02-22 at 6 (still provisional).
        let synced = daily_runs("2026-02-01", "2026-02-28", 7);
        let history = History {
            lookback: 7,
            synced: &synced,
            series: &series,
        };
        let now = at("2026-03-10T12:00:00Z");
        let w = window(SyncKind::Business, US, None, now, history, &settings).expect("valid");
        assert_eq!((w.start(), w.end()), (day("2026-02-22"), day("2026-03-09")));
        // None of those days was fetched final: every one is requested.
        let plan = units(SyncKind::Business, &[US.to_owned()], w, now, 7, &synced);
        assert_eq!((plan.units.len(), plan.skipped_final_days), (16, 0));
        // A store last synced a year ago catches up the backfill, not a year.
        let old = daily_runs("2025-02-01", "2025-03-01", 7);
        let history = History {
            lookback: 7,
            synced: &old,
            series: &series,
        };
        let w = window(SyncKind::Business, US, None, now, history, &settings).expect("valid");
        assert_eq!((w.start(), w.days()), (day("2026-02-08"), 30));
    }

    #[test]
    fn a_store_s_own_lookback_decides_the_window_and_what_is_final() {
        let settings = SyncSettings::default();
        let series = us();
        let now = at("2026-03-10T12:00:00Z");
        let synced = daily_runs("2026-02-01", "2026-03-09", 3);
        let history = History {
            lookback: 3,
            synced: &synced,
            series: &series,
        };
        let w = window(SyncKind::Business, US, None, now, history, &settings).expect("valid");
        assert_eq!((w.start(), w.end()), (day("2026-03-07"), day("2026-03-09")));
        // The same fetches are not final for a 7-day horizon: a day fetched
        // at 3 days old may still change, so the window reaches back to them.
        let history = History {
            lookback: 7,
            ..history
        };
        let w = window(SyncKind::Business, US, None, now, history, &settings).expect("valid");
        assert_eq!(w.start(), day("2026-02-08"));
    }

    #[test]
    fn final_days_fetched_after_they_became_final_are_not_requested_again() {
        let now = at("2026-03-10T12:00:00Z");
        let series = &us()[0];
        let mut synced = Synced::default();
        let month = ending(day("2026-03-09"), 30);
        for d in month.iter_days() {
            synced.record(series.clone(), d, day("2026-03-10"));
        }
        let plan = units(SyncKind::Business, &[US.to_owned()], month, now, 7, &synced);
        // 03-03 was 7 days old: final. 03-04..03-09 may still change.
        assert_eq!(plan.skipped_final_days, 24);
        let days: Vec<NaiveDate> = plan.units.iter().map(|u| u.date).collect();
        assert_eq!(days.first(), Some(&day("2026-03-04")));
        assert_eq!(days.len(), 6);
        // Another marketplace of the store was never synced: all its days are.
        let both = units(
            SyncKind::Business,
            &[US.to_owned(), "A2EUQ1WTGCTBG2".to_owned()],
            month,
            now,
            7,
            &synced,
        );
        assert_eq!((both.units.len(), both.skipped_final_days), (36, 24));
    }

    #[test]
    fn the_evidence_is_finished_units_of_successful_tasks_fetched_no_later_than_created() {
        let mut cp = Checkpoint::new(vec![
            Unit::planned(JP, day("2026-03-02")),
            Unit::planned(JP, day("2026-03-03")),
        ]);
        cp.units[0].state = crate::checkpoint::UnitState::Done;
        cp.units[1].state = crate::checkpoint::UnitState::Requested;
        let series = Series::Business {
            marketplace_id: JP.to_owned(),
        };
        // 00:10 on 03-09 in Tokyo.
        let created = at("2026-03-08T15:10:00Z");
        let no_reuse = Synced::from_tasks(SyncKind::Business, [(created, &cp)], Duration::ZERO);
        assert!(no_reuse.is_final(&series, day("2026-03-02"), 7));
        assert!(!no_reuse.is_final(&series, day("2026-03-03"), 1));
        // A report reused from up to 30 minutes before may be from 03-08.
        let reuse = Synced::from_tasks(SyncKind::Business, [(created, &cp)], Duration::from_secs(30 * 60));
        assert!(!reuse.is_final(&series, day("2026-03-02"), 7));
        assert!(reuse.is_final(&series, day("2026-03-02"), 6));
    }

    #[test]
    fn ads_reports_cover_the_days_to_fetch_with_the_fewest_ranges() {
        let d = |n: u64| day("2026-01-01") + Days::new(n);
        let days: Vec<NaiveDate> = [0, 1, 2, 3, 4, 9, 10, 11, 40, 41, 42, 43, 44, 45]
            .into_iter()
            .map(d)
            .collect();
        assert_eq!(covering(&days, 31), [(d(0), d(11)), (d(40), d(45))]);
        assert_eq!(covering(&[], 31), []);
        let profile = AdsProfile {
            profile_id: 1,
            marketplace_id: US.into(),
            currency: "USD".into(),
        };
        let now = at("2026-03-10T12:00:00Z");
        let w = SyncWindow::new(day("2026-01-24"), day("2026-03-09")).expect("ordered");
        let mut synced = Synced::default();
        for s in Series::all(SyncKind::Advertising, &[], std::slice::from_ref(&profile)) {
            // Everything up to 02-20 fetched final on 03-09 (14 days old or more).
            for d in day("2026-01-24")
                .iter_days()
                .take_while(|d| *d <= day("2026-02-20"))
            {
                synced.record(s.clone(), d, day("2026-03-09"));
            }
        }
        let plan = ads_units(std::slice::from_ref(&profile), w, now, 14, &synced);
        assert_eq!(plan.skipped_final_days, 28);
        assert_eq!(plan.units.len(), 5);
        assert!(
            plan.units
                .iter()
                .all(|u| (u.date, u.end) == (day("2026-02-21"), Some(day("2026-03-09")))),
            "{:?}",
            plan.units
        );
    }
}
