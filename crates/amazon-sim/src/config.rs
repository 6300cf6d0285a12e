//! Settings of one simulator instance, fixed at start-up.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::clock::ClockMode;
use crate::faults::Faults;
use crate::timing::ReportTiming;

/// How a simulator behaves. Build with struct update syntax:
/// `Config { seed: 7, ..Config::default() }`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed of the generated world: catalogs, inventory, sales, ids and tokens.
    pub seed: u64,
    /// The LWA application's client id every token request must present.
    pub client_id: String,
    /// The LWA application's client secret.
    pub client_secret: String,
    /// Lifetime of issued access tokens (`expires_in`). Amazon uses 3600 s.
    pub access_token_lifetime: Duration,
    /// How many `getReport` polls a new report answers with a non-terminal status
    /// before it reaches its outcome, unless [`Config::report_timing`] says
    /// otherwise. The first half of them say `IN_QUEUE`, the
    /// rest `IN_PROGRESS`; 0 makes reports terminal at once. Ads reports take as
    /// many `getAsyncReport` polls (`PENDING`, then `PROCESSING`).
    pub report_polls: u32,
    /// How SP-API and Ads reports take their time; `None` means
    /// `ReportTiming::Polls(report_polls)`. A live server wants a
    /// [`ReportTiming::Duration`] so reports complete as simulated time passes.
    pub report_timing: Option<ReportTiming>,
    /// Like [`Config::report_timing`] for Ads reports, which take longer on
    /// Amazon (minutes to hours, PROTOCOL.md §5.9); `None` means
    /// `ReportTiming::Polls(report_polls)`.
    pub ads_report_timing: Option<ReportTiming>,
    /// Where the simulated clock starts; `None` follows the system clock (a live
    /// clock then starts at the real now).
    pub start: Option<DateTime<Utc>>,
    /// Whether the clock moves only through [`crate::Simulator::advance`]
    /// (tests) or also with real time at a speed (a long-running server).
    pub clock: ClockMode,
    /// Whether an exhausted usage plan answers 429. When false the call is served
    /// and only counted as a violation, which lets a test measure how far a client
    /// strays from the plan without the simulator hiding it.
    pub enforce_usage_plans: bool,
    /// How long a report document URL stays valid (Amazon: 5 minutes).
    pub document_url_lifetime: Duration,
    /// Amazon generates a near-real-time FBA report at most once per ~30 minutes per
    /// seller and marketplace; a new request inside the window ends `FATAL`
    /// (PROTOCOL.md §3.8). `None` turns the rule off.
    pub nrt_cooldown: Option<Duration>,
    /// Ads usage plan, per profile and operation: tokens added per second. Amazon's
    /// Ads limits are dynamic and unpublished (PROTOCOL.md §5.9), so tests pick them.
    pub ads_rate: f64,
    /// Ads usage plan: bucket capacity, and its content at the first call.
    pub ads_burst: u32,
    /// How long an Ads report download URL stays valid after the `getAsyncReport`
    /// that minted it (Amazon: `X-Amz-Expires=3599`).
    pub ads_url_lifetime: Duration,
    /// Days over which sales and traffic figures of a day keep changing: a day
    /// younger than this at the simulated now shows provisional figures, most of
    /// the gap closing in its first 72 h (PROTOCOL.md §4.4.4: up to 72 h to be
    /// complete, restated for about a week; the exact window is unconfirmed). 0
    /// makes every day final at once.
    pub restatement_days: u32,
    /// Whether Ads conversions grow after the click day as Amazon's do: the 1-,
    /// 7-, 14- and 30-day metrics are final after 1, 7, 14 and 30 days
    /// (PROTOCOL.md §5.8). When false every day is final at once.
    pub ads_restatement: bool,
    /// The charset label of Japanese flat files' `Content-Type`. Amazon's exact
    /// label is unconfirmed (PROTOCOL.md §7): `Shift_JIS`, `cp932` and
    /// `windows-31j` are all seen in clients; the bytes are cp932 whichever.
    pub shift_jis_charset_label: String,
    /// Probabilistic fault injection per operation, drawn from the seed (none by
    /// default); [`crate::Simulator::set_faults`] replaces it at run time.
    pub faults: Faults,
    /// How long a `getInventorySummaries` `nextToken` stays valid (Amazon: 30 s,
    /// PROTOCOL.md §4.3.1).
    pub inventory_next_token_lifetime: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            seed: 1,
            client_id: "amzn1.application-oa2-client.5151a1b2c3d4e5f60718293a4b5c6d7e".into(),
            client_secret: "amzn1.oa2-cs.v1.simulatorsecret0123456789abcdef".into(),
            access_token_lifetime: Duration::from_secs(3600),
            report_polls: 2,
            report_timing: None,
            ads_report_timing: None,
            // A pinned default keeps ground truth for "today" reproducible.
            start: Some(
                Utc.with_ymd_and_hms(2024, 5, 2, 10, 0, 0)
                    .single()
                    .unwrap_or_default(),
            ),
            clock: ClockMode::Manual,
            enforce_usage_plans: true,
            document_url_lifetime: Duration::from_secs(300),
            nrt_cooldown: Some(Duration::from_secs(30 * 60)),
            ads_rate: 1.0,
            ads_burst: 10,
            ads_url_lifetime: Duration::from_secs(3599),
            inventory_next_token_lifetime: Duration::from_secs(30),
            shift_jis_charset_label: "Shift_JIS".to_owned(),
            faults: Faults::default(),
            restatement_days: 7,
            ads_restatement: true,
        }
    }
}
