//! Everything one simulator instance remembers: sellers and their grants, issued
//! access tokens, reports, getReports pages, usage-plan buckets, statistics and
//! pending faults. Held behind one mutex that is never held across an `.await`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::ads_report::AdsReport;
use crate::config::Config;
use crate::faults::{Faults, Pending};
use crate::report::{Report, ReportType};
use crate::seller::Seller;
use crate::stats::CallStats;
use crate::usage_plan::{Bucket, Operation};

#[derive(Debug, Default)]
pub(crate) struct World {
    pub(crate) sellers: BTreeMap<String, Seller>,
    /// Refresh token → grant.
    pub(crate) grants: HashMap<String, Grant>,
    /// Access token → who it acts for and until when.
    pub(crate) access_tokens: HashMap<String, AccessToken>,
    /// Every report, in creation order.
    pub(crate) reports: Vec<Report>,
    /// getReports `nextToken` → the rest of that listing.
    pub(crate) report_pages: HashMap<String, ReportPage>,
    pub(crate) buckets: HashMap<(String, Operation), Bucket>,
    pub(crate) stats: HashMap<(String, Operation), CallStats>,
    pub(crate) pending: Pending,
    /// Last generated near-real-time report per (seller, marketplace, type), for the
    /// regeneration cooldown.
    pub(crate) last_generated: HashMap<(String, String, ReportType), DateTime<Utc>>,
    /// Every Ads report, in creation order.
    pub(crate) ads_reports: Vec<AdsReport>,
    /// getInventorySummaries `nextToken` → where the listing continues.
    pub(crate) inventory_pages: HashMap<String, InventoryPage>,
    /// Catalog indices in SKU order per (seller, marketplace, SKU count): the
    /// order getInventorySummaries lists in, sorted once per store.
    pub(crate) sku_orders: HashMap<(String, &'static str, usize), std::sync::Arc<Vec<u32>>>,
    /// LWA token requests with an unknown refresh token so far: the index chance
    /// draws their faults for, as they have no seller to count under.
    pub(crate) token_calls: u64,
    /// Source of unique numbers for ids and tokens.
    pub(crate) sequence: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct InventoryPage {
    pub(crate) seller: String,
    pub(crate) marketplace_id: String,
    /// The snapshot being listed, so a listing that crosses midnight stays whole.
    pub(crate) date: chrono::NaiveDate,
    /// Where the next page starts: an index into the catalog in SKU order.
    pub(crate) offset: usize,
    pub(crate) issued: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) seller: String,
    pub(crate) api: Api,
    pub(crate) revoked: bool,
}

/// Which API a grant (and every access token minted from it) may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    SellingPartner,
    Advertising,
}

#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub(crate) refresh_token: String,
    pub(crate) seller: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) api: Api,
}

#[derive(Debug, Clone)]
pub(crate) struct ReportPage {
    pub(crate) seller: String,
    pub(crate) report_ids: Vec<String>,
    pub(crate) page_size: usize,
}

impl World {
    pub(crate) fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    /// The probabilistic faults in force: set at run time, else the config's.
    pub(crate) fn faults<'a>(&'a self, config: &'a Config) -> &'a Faults {
        self.pending.faults.as_ref().unwrap_or(&config.faults)
    }

    /// Counts a call of `op` by `seller` and returns its number, 1 for the first:
    /// the index chance draws faults for.
    pub(crate) fn count_call(&mut self, seller: &str, op: Operation) -> u64 {
        let stats = self.stats_mut(seller, op);
        stats.calls += 1;
        stats.calls
    }

    pub(crate) fn stats_mut(&mut self, seller: &str, op: Operation) -> &mut CallStats {
        self.stats.entry((seller.to_owned(), op)).or_default()
    }

    /// Brings every report's state machine up to `now`, so time-driven reports
    /// show their current status in listings and downloads too.
    pub(crate) fn observe_reports(&mut self, now: DateTime<Utc>) {
        for report in &mut self.reports {
            report.observe(now);
        }
        for report in &mut self.ads_reports {
            report.observe(now);
        }
    }

    /// The seller's report with this id. Report ids are only unique per seller on
    /// Amazon, and another seller's report must look like a missing one.
    pub(crate) fn report_mut(&mut self, seller: &str, id: &str) -> Option<&mut Report> {
        self.reports.iter_mut().find(|r| r.seller == seller && r.id == id)
    }
}
