//! Faults injected on purpose. One-shot knobs (throttled or failing calls, forced
//! report outcomes) are consumed by the calls they affect, so a test states exactly
//! how many calls misbehave. [`Faults`] adds probabilistic chaos per operation:
//! every decision is drawn from the seed, the operation, who calls and how many
//! calls they made before, so a chaos run with the same seed and the same calls
//! meets the same faults.

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
    /// JSON is incomplete although the response is a 200.
    pub truncated: f64,
    /// A report that ends `FATAL` (createReport) or `FAILED`
    /// (createAsyncReport).
    pub report_fatal: f64,
    /// A report that ends `CANCELLED` (createReport).
    pub report_cancelled: f64,
}

/// Probabilistic fault injection for a whole simulator: rates for every operation,
/// overridden per operation. The default injects nothing.
///
/// `Faults::everywhere(FaultRates { server_error: 0.05, ..FaultRates::default() })
/// .operation(Operation::CreateReport, FaultRates { throttle: 0.3, ..FaultRates::default() })`
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Rates of every operation without its own entry.
    pub all: FaultRates,
    /// Rates of single operations, replacing [`Faults::all`] for them.
    pub operations: BTreeMap<Operation, FaultRates>,
}

impl Faults {
    /// The same rates on every operation.
    pub fn everywhere(rates: FaultRates) -> Self {
        Self {
            all: rates,
            operations: BTreeMap::new(),
        }
    }

    /// Gives `op` its own rates.
    #[must_use]
    pub fn operation(mut self, op: Operation, rates: FaultRates) -> Self {
        self.operations.insert(op, rates);
        self
    }

    /// The rates that apply to `op`.
    pub fn rates(&self, op: Operation) -> FaultRates {
        self.operations.get(&op).copied().unwrap_or(self.all)
    }
}

/// A fault that replaces the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    ServerError,
    Unavailable,
    Throttle,
}

/// What chance decided for one call: at most one failure, and maybe a delay.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Decision {
    pub(crate) failure: Option<Failure>,
    pub(crate) delay: Option<Duration>,
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
        let rates = self.rates(op);
        let hit = |kind: &str, p: f64| hits(seed, kind, who, op, n, p);
        let failure = if hit("500", rates.server_error) {
            Some(Failure::ServerError)
        } else if hit("503", rates.unavailable) {
            Some(Failure::Unavailable)
        } else if hit("429", rates.throttle) {
            Some(Failure::Throttle)
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
        let rates = self.rates(op);
        if hits(seed, "fatal", who, op, n, rates.report_fatal) {
            Some(ReportOutcome::Fatal)
        } else if hits(seed, "cancelled", who, op, n, rates.report_cancelled) {
            Some(ReportOutcome::Cancelled)
        } else {
            None
        }
    }

    /// Where to cut the `n`-th download of `key`, if chance truncates it: between a
    /// tenth and nine tenths of `len`, so something arrives but never all.
    pub(crate) fn truncation(
        &self,
        seed: u64,
        key: &str,
        op: Operation,
        n: u64,
        len: usize,
    ) -> Option<usize> {
        if len < 2 || !hits(seed, "truncated", key, op, n, self.rates(op).truncated) {
            return None;
        }
        let mut r = Rng::keyed(seed, &["cut", key, &n.to_string()]);
        let (lo, hi) = ((len / 10).max(1), (len * 9 / 10).max(1));
        Some(
            usize::try_from(r.between(lo as u64, hi as u64))
                .unwrap_or(lo)
                .min(len - 1),
        )
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
