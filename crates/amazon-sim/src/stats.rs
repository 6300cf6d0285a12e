//! Call statistics per (seller, operation), so tests and benchmarks can check how
//! efficiently and politely a client used the API.

/// Counters for one (seller, operation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Authenticated calls received.
    pub calls: u64,
    /// Calls answered 429 `QuotaExceeded` (injected or by the usage plan).
    pub throttled: u64,
    /// Calls that found the usage plan's bucket empty, whether or not the plan is
    /// enforced: a well-behaved client keeps this at zero.
    pub violations: u64,
    /// Calls answered 500 by [`crate::Simulator::fail_next`].
    pub failed: u64,
}
