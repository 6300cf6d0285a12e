//! The simulated clock: token expiry, report timestamps and delays, usage-plan
//! refill, restatement and document URL expiry all read it, so a test moves time
//! instead of sleeping, and a long-running server can run time faster than real.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// How the simulated clock moves.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum ClockMode {
    /// Only [`crate::Simulator::advance`] moves it: what tests want, since nothing
    /// then depends on how fast the machine is.
    #[default]
    Manual,
    /// Simulated now = start + real elapsed time × `speed` + manual advances, for
    /// a long-running server (`amzsync sim`, the demo): tokens expire, buckets
    /// refill and reports complete while nobody calls `advance`. `speed` 60 makes
    /// one real second a simulated minute, so a backfill bound by Amazon's usage
    /// plans can be measured in seconds.
    Live {
        /// Simulated seconds per real second; must be positive.
        speed: f64,
    },
}

#[derive(Debug)]
pub(crate) struct Clock {
    /// `None` follows the system clock.
    base: Option<DateTime<Utc>>,
    mode: ClockMode,
    /// Real time is read from Tokio's clock, so a test can pause and advance it
    /// (`tokio::time::advance`) instead of sleeping; outside a paused runtime it
    /// is the monotonic system clock.
    started: Instant,
    offset: Mutex<chrono::Duration>,
}

impl Clock {
    pub(crate) fn new(base: Option<DateTime<Utc>>, mode: ClockMode) -> Self {
        // A live clock without a pinned start starts at the real now and then runs
        // at its own speed, so it needs the base fixed once.
        let base = match mode {
            ClockMode::Live { .. } => Some(base.unwrap_or_else(Utc::now)),
            ClockMode::Manual => base,
        };
        Self {
            base,
            mode,
            started: Instant::now(),
            offset: Mutex::new(chrono::Duration::zero()),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
        self.base.unwrap_or_else(Utc::now) + self.running() + offset
    }

    pub(crate) fn advance(&self, by: chrono::Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += by;
    }

    /// Converts a simulated duration into the real time it takes at this clock's
    /// speed (unchanged on a manual clock), for waits the server really performs.
    pub(crate) fn real(&self, simulated: std::time::Duration) -> std::time::Duration {
        match self.mode {
            ClockMode::Live { speed } if speed > 0.0 => simulated.div_f64(speed),
            _ => simulated,
        }
    }

    /// The real time a call left hanging by a fault waits: the simulated duration
    /// at this clock's speed on a live clock; on a manual clock, where simulated
    /// time does not pass by itself, the duration in real time up to
    /// [`crate::faults::MANUAL_HANG_LIMIT`], so a forgotten client timeout fails a
    /// test in bounded time instead of hanging it.
    pub(crate) fn hang(&self, simulated: std::time::Duration) -> std::time::Duration {
        match self.mode {
            ClockMode::Live { speed } if speed > 0.0 => simulated.div_f64(speed),
            _ => simulated.min(crate::faults::MANUAL_HANG_LIMIT),
        }
    }

    /// Simulated time that real time has added since start-up.
    fn running(&self) -> chrono::Duration {
        match self.mode {
            ClockMode::Manual => chrono::Duration::zero(),
            ClockMode::Live { speed } => {
                let real = self.started.elapsed().as_secs_f64() * speed.max(0.0);
                chrono::Duration::milliseconds((real * 1000.0) as i64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test(start_paused = true)]
    async fn a_live_clock_runs_at_its_speed_on_top_of_manual_advances() {
        let start = Utc.with_ymd_and_hms(2024, 5, 2, 10, 0, 0).unwrap();
        let clock = Clock::new(Some(start), ClockMode::Live { speed: 60.0 });
        assert_eq!(clock.now(), start);

        tokio::time::advance(std::time::Duration::from_secs(2)).await;
        assert_eq!(clock.now(), start + chrono::Duration::minutes(2));

        clock.advance(chrono::Duration::hours(1));
        assert_eq!(clock.now(), start + chrono::Duration::minutes(62));
        assert_eq!(
            clock.real(std::time::Duration::from_secs(120)),
            std::time::Duration::from_secs(2)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_manual_clock_ignores_real_time() {
        let start = Utc.with_ymd_and_hms(2024, 5, 2, 10, 0, 0).unwrap();
        let clock = Clock::new(Some(start), ClockMode::Manual);
        tokio::time::advance(std::time::Duration::from_secs(3600)).await;
        assert_eq!(clock.now(), start);
    }
}
