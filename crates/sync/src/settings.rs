//! The engine's slices of configuration: how to reach Amazon
//! ([`AmazonSettings`]) and how syncs are planned, retried and scheduled
//! ([`SyncSettings`], [`ScheduleSettings`]). Plain values with defaults in
//! code; `app` fills them from its configuration tree.

use std::collections::HashMap;
use std::time::Duration;

use amzsync_amazon::{Endpoints, LwaApp, Timeouts};
use amzsync_domain::Region;

/// How the engine talks to Amazon.
#[derive(Debug, Clone)]
pub struct AmazonSettings {
    /// The LWA application used for stores that have no client id and secret
    /// of their own. `None` makes such stores fail their syncs with a clear
    /// message (configuration, not Amazon, is at fault).
    pub lwa_app: Option<LwaApp>,
    /// Endpoint overrides per region (the simulator in tests and demos);
    /// regions not listed use Amazon's production hosts.
    pub endpoints: HashMap<Region, Endpoints>,
    /// Network timeouts of every call.
    pub timeouts: Timeouts,
    /// The longest a call may wait for a rate-limit permit before it gives up
    /// as paced, so the task is rescheduled instead of holding a worker.
    pub max_permit_wait: Duration,
}

impl Default for AmazonSettings {
    fn default() -> Self {
        Self {
            lwa_app: None,
            endpoints: HashMap::new(),
            timeouts: Timeouts::default(),
            // Short: a worker sleeps for a permit only briefly. A longer wait
            // (a report request beyond createReport's burst is a minute away)
            // reschedules the task, which meanwhile polls and downloads its
            // other reports instead of holding the worker.
            max_permit_wait: Duration::from_secs(10),
        }
    }
}

/// How syncs are planned, paced and retried.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Days of Sales & Traffic re-pulled by every business sync after the
    /// first: Amazon restates a day for about a week (FR-2). Also the age at
    /// which a day is final (see `plan`). A store's own
    /// `business_lookback_days` replaces it.
    pub business_lookback_days: u32,
    /// The same for advertising: attribution restates for up to 14 days
    /// (FR-3). A store's own `ads_lookback_days` replaces it.
    pub ads_lookback_days: u32,
    /// Days a store's first business or advertising sync backfills.
    pub first_run_backfill_days: u32,
    /// Days before yesterday that a business window stops: 0 syncs
    /// yesterday's provisional figures (and the lookback corrects them on
    /// later runs); PROTOCOL §4.4.4 suggests up to 3 for settled figures only.
    pub business_settling_days: u32,
    /// Retries of a transient failure (network, 5xx, throttling, a truncated
    /// download) after the first attempt (FR-7: 3).
    pub retries: u32,
    /// Delay before each such retry (FR-7: 5 minutes), unless Amazon said how
    /// long to wait.
    pub retry_delay: Duration,
    /// Delay before requesting a new report after one ended `FATAL`: Amazon
    /// refuses to regenerate near-real-time reports for about 30 minutes.
    /// (An Ads report that ended `FAILED` is requested again after
    /// `retry_delay`: the Ads API names no cooldown.)
    pub fatal_cooldown: Duration,
    /// Delay before polling a report that is not ready yet. A wait spends no
    /// retry (FR-7).
    pub poll_delay: Duration,
    /// How long a report may stay not ready after its request before it is
    /// given up: its unit is planned again and the task fails `transient`,
    /// so the retry requests a new report and a report that never finishes
    /// cannot hold its store and kind forever (reports have sat queued for
    /// days; PROTOCOL.md §3.3). The engine's clock. Keep it past
    /// `report_reuse_within`: the lookup before a request never reaches
    /// further back, and Amazon refuses a second near-real-time inventory
    /// report within half an hour.
    pub report_deadline: Duration,
    /// How long a claimed task belongs to the delivery that claimed it. A
    /// dead worker's task is claimable again after this, so short is good,
    /// but it must outlast one delivery's work (requests, polls, downloads
    /// and their rate-limit waits up to `amazon.max_permit_wait`). It is
    /// independent of `poll_delay`: a delivery that waits for a report gives
    /// its lease up until the next poll. Real time, even under a simulated
    /// clock: it bounds how long a process may be silent.
    pub lease: Duration,
    /// A report of the same type, marketplace and window requested within
    /// this long is reused instead of requesting another (a task that crashed
    /// after `createReport` finds its report again; FR-7 "resume").
    pub report_reuse_within: Duration,
    /// How long past its due time (a pending task's `next_attempt_at` or
    /// creation, a running task's lease expiry) a task may wait for its job
    /// before the reconciler enqueues another. Longer than a busy queue's
    /// usual delay: a re-ring of a task whose job is merely late costs one
    /// harmless delivery. Real time, like `lease`.
    pub reconcile_grace: Duration,
    /// Rows per bulk upsert statement.
    pub batch_size: usize,
    /// Cron schedules of the scheduler (FR-4).
    pub schedule: ScheduleSettings,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            business_lookback_days: 7,
            ads_lookback_days: 14,
            first_run_backfill_days: 30,
            business_settling_days: 0,
            retries: 3,
            retry_delay: Duration::from_secs(5 * 60),
            fatal_cooldown: Duration::from_secs(30 * 60),
            poll_delay: Duration::from_secs(60),
            report_deadline: Duration::from_secs(4 * 3600),
            lease: Duration::from_secs(5 * 60),
            report_reuse_within: Duration::from_secs(30 * 60),
            reconcile_grace: Duration::from_secs(10 * 60),
            batch_size: 1000,
            schedule: ScheduleSettings::default(),
        }
    }
}

/// [`ScheduleSettings::time_zone`] that reads the crons in each store's own
/// zone (see there).
pub const MARKETPLACE_TIME_ZONE: &str = "marketplace";

/// When the scheduler starts each kind of sync for every active store.
#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    /// IANA time zone the cron expressions are read in, or
    /// [`MARKETPLACE_TIME_ZONE`]: each store's in its own zone, that of its
    /// marketplace whose day ends last, so 02:00 is the night after the
    /// store's day everywhere it sells. The nightly archival then runs in
    /// UTC.
    pub time_zone: String,
    /// Inventory (FR-1: 02:00).
    pub inventory: String,
    /// Business reports (FR-2: 02:30).
    pub business: String,
    /// Advertising (FR-3: 03:00).
    pub advertising: String,
    /// How far back a starting scheduler looks for a missed tick; only the
    /// latest one per store and kind is caught up.
    pub catch_up: Duration,
    /// The longest a running scheduler waits between passes (real time); it
    /// also wakes when the next tick falls due.
    pub check_interval: Duration,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            time_zone: "UTC".to_owned(),
            inventory: "0 2 * * *".to_owned(),
            business: "30 2 * * *".to_owned(),
            advertising: "0 3 * * *".to_owned(),
            catch_up: Duration::from_secs(24 * 3600),
            check_interval: Duration::from_secs(30),
        }
    }
}
