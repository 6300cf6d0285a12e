//! Faults injected on purpose. One-shot knobs (throttled or failing calls, forced
//! report outcomes) are consumed by the calls they affect, so a test states exactly
//! how many calls misbehave. [`Faults`] adds probabilistic chaos per operation and
//! per store: every decision is drawn from the seed, the operation, who calls and
//! how many calls they made before, so a chaos run with the same seed and the same
//! calls meets the same faults.
//!
//! Beyond error statuses, chance can break the transport itself: a connection
//! closed mid-response ([`FaultRates::reset`]), a response that never completes
//! ([`FaultRates::timeout`]), and downloads cut short or corrupted
//! ([`FaultRates::truncated`], [`FaultRates::corrupt`]); and it can leave a report
//! stuck in processing for hours ([`FaultRates::report_stuck`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use crate::rng::Rng;
use crate::timing::ReportTiming;
use crate::usage_plan::Operation;

/// Probabilities of faults on one operation, each in `0.0..=1.0` (0 never, 1
/// always). Fields that do not apply to an operation are ignored there.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultRates {
    /// A 500 (`InternalFailure` on the SP-API, `server_error` on LWA,
    /// `InternalError` on downloads).
    pub server_error: f64,
    /// A 503 (`ServiceUnavailable` on the SP-API, `temporarily_unavailable` on
    /// LWA, S3's `SlowDown` on downloads).
    pub unavailable: f64,
    /// A 429 even though the usage plan has tokens left: Amazon's hidden per-type
    /// quotas and peak-hour Ads limits (PROTOCOL.md §3.8, §5.9).
    pub throttle: f64,
    /// A response that takes [`FaultRates::latency`] longer. The server really
    /// waits: the latency itself on a manual clock, the latency divided by the
    /// speed on a live one (it is simulated time there).
    pub slow: f64,
    /// How long a slow response takes.
    pub latency: Duration,
    /// A download (`Operation::DownloadReportDocument`,
    /// `Operation::DownloadAdsReport`) whose body stops part-way, so the gzip or
    /// JSON is incomplete although the response is a 200. A flat file (no gzip)
    /// announces its whole length, as S3 does, so its cut is a body shorter than
    /// its `Content-Length`.
    pub truncated: f64,
    /// A report that ends `FATAL` (createReport) or `FAILED`
    /// (createAsyncReport).
    pub report_fatal: f64,
    /// A report that ends `CANCELLED` (createReport).
    pub report_cancelled: f64,
    /// A connection closed mid-response: the status line and headers may arrive,
    /// the body does not (a download stops part-way). The client sees a transport
    /// error, not an HTTP status.
    pub reset: f64,
    /// A response that never completes: the call hangs for
    /// [`FaultRates::timeout_after`] (a download after sending part of its body),
    /// then the connection is closed. A client must give up on its own timeout.
    pub timeout: f64,
    /// How long a timed-out call hangs before its connection is closed: simulated
    /// time, so a live clock waits it divided by its speed; a manual clock waits
    /// it in real time, at most [`MANUAL_HANG_LIMIT`]. Zero means
    /// [`DEFAULT_TIMEOUT_AFTER`].
    pub timeout_after: Duration,
    /// A gzip download (sales and traffic, Ads) with one byte of its compressed
    /// data flipped: a complete 200 whose gzip fails to decode or fails its
    /// CRC-32. Uncompressed documents are never corrupted.
    pub corrupt: f64,
    /// A report (createReport, createAsyncReport) that stays `IN_PROGRESS`
    /// (`PROCESSING` on the Ads API) until [`FaultRates::stuck_for`] of simulated
    /// time has passed since its creation, however often it is polled, as
    /// Amazon's reports sometimes do for hours.
    pub report_stuck: f64,
    /// How long a stuck report stays in processing. Zero means
    /// [`DEFAULT_STUCK_FOR`].
    pub stuck_for: Duration,
}

/// How long a timed-out call hangs when [`FaultRates::timeout_after`] is zero:
/// API Gateway's integration timeout (29 s) and then some.
pub const DEFAULT_TIMEOUT_AFTER: Duration = Duration::from_secs(60);

/// The longest real wait of a timed-out call on a manual clock, so a test whose
/// client has no timeout fails in bounded time rather than hanging.
pub const MANUAL_HANG_LIMIT: Duration = Duration::from_secs(60);

/// How long a stuck report stays in processing when [`FaultRates::stuck_for`] is
/// zero.
pub const DEFAULT_STUCK_FOR: Duration = Duration::from_secs(6 * 3600);

impl FaultRates {
    /// [`FaultRates::timeout_after`], or its default when zero.
    pub fn hang(&self) -> Duration {
        if self.timeout_after.is_zero() {
            DEFAULT_TIMEOUT_AFTER
        } else {
            self.timeout_after
        }
    }

    /// [`FaultRates::stuck_for`], or its default when zero.
    pub fn stuck(&self) -> Duration {
        if self.stuck_for.is_zero() {
            DEFAULT_STUCK_FOR
        } else {
            self.stuck_for
        }
    }
}

/// Probabilistic fault injection for a whole simulator: rates for every operation,
/// overridden per operation, and per store (seller). The default injects nothing.
///
/// `Faults::everywhere(FaultRates { server_error: 0.05, ..FaultRates::default() })
/// .operation(Operation::CreateReport, FaultRates { throttle: 0.3, ..FaultRates::default() })
/// .seller("A3EXAMPLESELLER", SellerFaults::everywhere(FaultRates { reset: 0.1, ..FaultRates::default() }))`
///
/// The rates of a call by a seller are, from the most specific: the seller's entry
/// for the operation, the seller's [`SellerFaults::all`], the operation's entry,
/// [`Faults::all`]. An LWA call with an unknown refresh token has no seller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Rates of every operation without its own entry.
    pub all: FaultRates,
    /// Rates of single operations, replacing [`Faults::all`] for them.
    pub operations: BTreeMap<Operation, FaultRates>,
    /// Rates of single stores by seller id, replacing the rates above for every
    /// call made for that seller.
    pub sellers: BTreeMap<String, SellerFaults>,
}

/// The fault rates of one store (seller): for all its calls, overridden per
/// operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SellerFaults {
    /// Rates of every operation of the store without its own entry.
    pub all: FaultRates,
    /// Rates of single operations of the store.
    pub operations: BTreeMap<Operation, FaultRates>,
}

impl SellerFaults {
    /// The same rates on every operation of the store.
    pub fn everywhere(rates: FaultRates) -> Self {
        Self {
            all: rates,
            operations: BTreeMap::new(),
        }
    }

    /// Gives `op` its own rates for this store.
    #[must_use]
    pub fn operation(mut self, op: Operation, rates: FaultRates) -> Self {
        self.operations.insert(op, rates);
        self
    }
}

impl Faults {
    /// The same rates on every operation.
    pub fn everywhere(rates: FaultRates) -> Self {
        Self {
            all: rates,
            ..Self::default()
        }
    }

    /// Gives `op` its own rates.
    #[must_use]
    pub fn operation(mut self, op: Operation, rates: FaultRates) -> Self {
        self.operations.insert(op, rates);
        self
    }

    /// Gives the store of `seller` its own rates.
    #[must_use]
    pub fn seller(mut self, seller: impl Into<String>, faults: SellerFaults) -> Self {
        self.sellers.insert(seller.into(), faults);
        self
    }

    /// The rates that apply to `op` for a caller without a store entry.
    pub fn rates(&self, op: Operation) -> FaultRates {
        self.operations.get(&op).copied().unwrap_or(self.all)
    }

    /// The rates that apply to `op` called for `seller`.
    pub fn rates_for(&self, seller: &str, op: Operation) -> FaultRates {
        match self.sellers.get(seller) {
            Some(store) => store.operations.get(&op).copied().unwrap_or(store.all),
            None => self.rates(op),
        }
    }
}

/// A fault that replaces the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    ServerError,
    Unavailable,
    Throttle,
    /// The connection closes instead of an answer.
    Reset,
    /// The call hangs this long (simulated), then the connection closes.
    Timeout(Duration),
}

/// What chance decided for one call: at most one failure, and maybe a delay.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Decision {
    pub(crate) failure: Option<Failure>,
    pub(crate) delay: Option<Duration>,
}

/// What chance does to a download's body, at a byte offset drawn from the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFault {
    /// The body ends early; the response still completes.
    Truncate,
    /// One byte is flipped; the response completes.
    Corrupt,
    /// The connection closes at the offset.
    Reset,
    /// The body stalls at the offset for this long (simulated), then the
    /// connection closes.
    Stall(Duration),
}

/// One draw for the `n`-th call of `op` by `who`, independent per `kind` so that
/// turning one rate up does not move the others' faults.
fn hits(seed: u64, kind: &str, who: &str, op: Operation, n: u64, p: f64) -> bool {
    p > 0.0 && Rng::keyed(seed, &["fault", kind, who, op.name(), &n.to_string()]).unit() < p
}

impl Faults {
    /// The faults of the `n`-th call of `op` by `who` (a seller id, or a key of
    /// the resource when there is no caller).
    pub(crate) fn decide(&self, seed: u64, who: &str, op: Operation, n: u64) -> Decision {
        let rates = self.rates_for(who, op);
        let hit = |kind: &str, p: f64| hits(seed, kind, who, op, n, p);
        let failure = if hit("500", rates.server_error) {
            Some(Failure::ServerError)
        } else if hit("503", rates.unavailable) {
            Some(Failure::Unavailable)
        } else if hit("429", rates.throttle) {
            Some(Failure::Throttle)
        } else if hit("reset", rates.reset) {
            Some(Failure::Reset)
        } else if hit("timeout", rates.timeout) {
            Some(Failure::Timeout(rates.hang()))
        } else {
            None
        };
        Decision {
            failure,
            delay: hit("slow", rates.slow).then_some(rates.latency),
        }
    }

    /// The outcome chance forces on the `n`-th report `who` creates with `op`.
    pub(crate) fn report_outcome(
        &self,
        seed: u64,
        who: &str,
        op: Operation,
        n: u64,
    ) -> Option<ReportOutcome> {
        let rates = self.rates_for(who, op);
        if hits(seed, "fatal", who, op, n, rates.report_fatal) {
            Some(ReportOutcome::Fatal)
        } else if hits(seed, "cancelled", who, op, n, rates.report_cancelled) {
            Some(ReportOutcome::Cancelled)
        } else {
            None
        }
    }

    /// How long the `n`-th report `who` creates with `op` stays stuck in
    /// processing, if chance makes it stuck.
    pub(crate) fn stuck(&self, seed: u64, who: &str, op: Operation, n: u64) -> Option<Duration> {
        let rates = self.rates_for(who, op);
        hits(seed, "stuck", who, op, n, rates.report_stuck).then(|| rates.stuck())
    }

    /// What chance does to the body of the `n`-th download of `key` by `who`, if
    /// anything. Resets and timeouts of a download happen mid-body, so they are
    /// decided here rather than by [`Faults::decide`]. `gzip` says whether the
    /// body can be corrupted.
    pub(crate) fn body_fault(
        &self,
        seed: u64,
        (who, key): (&str, &str),
        op: Operation,
        n: u64,
        gzip: bool,
    ) -> Option<BodyFault> {
        let rates = self.rates_for(who, op);
        let hit = |kind: &str, p: f64| hits(seed, kind, key, op, n, p);
        if hit("truncated", rates.truncated) {
            Some(BodyFault::Truncate)
        } else if gzip && hit("corrupt", rates.corrupt) {
            Some(BodyFault::Corrupt)
        } else if hit("reset", rates.reset) {
            Some(BodyFault::Reset)
        } else if hit("timeout", rates.timeout) {
            Some(BodyFault::Stall(rates.hang()))
        } else {
            None
        }
    }

    /// Where the body fault of the `n`-th download of `key` strikes in a body of
    /// `len` bytes: between a tenth and nine tenths of it, so something arrives but
    /// never all.
    pub(crate) fn offset(seed: u64, key: &str, n: u64, len: u64) -> u64 {
        let mut r = Rng::keyed(seed, &["cut", key, &n.to_string()]);
        let (lo, hi) = ((len / 10).max(1), (len * 9 / 10).max(1));
        r.between(lo, hi).min(len.saturating_sub(1))
    }
}

/// How a report ends once its polls are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportOutcome {
    /// `DONE` with a document.
    Done,
    /// `CANCELLED`, as Amazon does when there is no data.
    Cancelled,
    /// `FATAL` with an error document (`{"errorDetails": …}`).
    Fatal,
    /// `FATAL` without a `reportDocumentId`.
    FatalWithoutDocument,
}

/// How an Ads report ends once its polls are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdsReportOutcome {
    /// `COMPLETED` with a download URL.
    Completed,
    /// `FAILED` with a `failureReason`.
    Failed,
}

/// One-shot faults and overrides set through the knobs, consumed by the calls they
/// affect.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// Calls of an operation still to answer with 429, whatever the usage plan says.
    pub(crate) throttle: HashMap<Operation, u32>,
    /// Calls of an operation still to answer with 500.
    pub(crate) fail: HashMap<Operation, u32>,
    /// Timing of reports created from now on; `None` uses the config.
    pub(crate) report_timing: Option<ReportTiming>,
    /// Outcomes forced on the next created reports, in order.
    pub(crate) next_outcomes: VecDeque<ReportOutcome>,
    /// Timing of Ads reports created from now on; `None` uses the config.
    pub(crate) ads_report_timing: Option<ReportTiming>,
    /// Outcomes forced on the next created Ads reports, in order.
    pub(crate) next_ads_outcomes: VecDeque<AdsReportOutcome>,
    /// Probabilistic faults set at run time; `None` uses the config's.
    pub(crate) faults: Option<Faults>,
}

impl Pending {
    /// Consumes one pending fault of the kind in `pending` for `op`, if any.
    pub(crate) fn take(pending: &mut HashMap<Operation, u32>, op: Operation) -> bool {
        match pending.get_mut(&op) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}
