//! Call statistics per (seller, operation), so tests and benchmarks can check how
//! efficiently and politely a client used the API, and how many faults it met.

/// Counters for one (seller, operation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallStats {
    /// Authenticated calls received.
    pub calls: u64,
    /// Calls answered 429 `QuotaExceeded` (injected or by the usage plan).
    pub throttled: u64,
    /// Calls that found the usage plan's bucket empty, whether or not the plan is
    /// enforced: a well-behaved client keeps this at zero.
    pub violations: u64,
    /// Calls answered 500 by [`crate::Simulator::fail_next`] or by chance
    /// ([`crate::FaultRates::server_error`]).
    pub failed: u64,
    /// Calls answered 503 by chance ([`crate::FaultRates::unavailable`]).
    pub unavailable: u64,
    /// Responses delayed by chance ([`crate::FaultRates::slow`]).
    pub slowed: u64,
    /// Downloads cut short by chance ([`crate::FaultRates::truncated`]).
    pub truncated: u64,
    /// Calls whose connection chance closed mid-response
    /// ([`crate::FaultRates::reset`]).
    pub reset: u64,
    /// Calls chance left hanging until their connection closed
    /// ([`crate::FaultRates::timeout`]).
    pub timed_out: u64,
    /// Gzip downloads chance corrupted ([`crate::FaultRates::corrupt`]).
    pub corrupted: u64,
    /// Reports chance left stuck in processing ([`crate::FaultRates::report_stuck`]),
    /// counted on the create operation.
    pub stuck: u64,
    /// Reports whose outcome chance forced ([`crate::FaultRates::report_fatal`],
    /// [`crate::FaultRates::report_cancelled`]), counted on the create operation.
    pub forced_outcomes: u64,
    /// Every injected fault, by knob or by chance: what a client had to survive
    /// beyond Amazon's ordinary behaviour (usage-plan 429s are not counted).
    pub injected: u64,
}
