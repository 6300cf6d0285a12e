//! Time as an input. Code that stamps rows, schedules or backs off asks a
//! [`Clock`], so tests can hold time still or move it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Seconds of this clock per real second: 1 except for a
    /// [`SimulatedClock`]. Whoever waits in real time (a queue's delay, a
    /// scheduler's sleep) divides by it; whoever measures a real-time span on
    /// this clock (a worker's lease) multiplies by it.
    fn speed(&self) -> f64 {
        1.0
    }
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self
            .0
            .lock()
            .expect("the clock's lock is never held across a panic") = to;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self
            .0
            .lock()
            .expect("the clock's lock is never held across a panic");
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .expect("the clock's lock is never held across a panic")
    }
}

/// Simulated time for running against the simulator: `start` at the real
/// instant `origin`, then `speed` times real time. It is a pure function of
/// the wall clock, so every process given the same three values (workers and
/// schedulers on several machines, restarted ones too) reads the same time,
/// and the simulator's live clock can be set to agree with them. Never for
/// Amazon itself: its usage plans and report days run on real time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatedClock {
    start: DateTime<Utc>,
    origin: DateTime<Utc>,
    speed: f64,
}

impl SimulatedClock {
    /// Fails unless `speed` is positive and finite.
    pub fn new(start: DateTime<Utc>, origin: DateTime<Utc>, speed: f64) -> Result<Self, String> {
        if !(speed.is_finite() && speed > 0.0) {
            return Err(format!(
                "a simulated clock's speed must be a positive number (got {speed})"
            ));
        }
        Ok(Self { start, origin, speed })
    }

    /// The time at real instant `real`.
    pub fn at(&self, real: DateTime<Utc>) -> DateTime<Utc> {
        let elapsed_ms = (real - self.origin).num_milliseconds() as f64 * self.speed;
        // Clamped: a speed that runs past chrono's range is a configuration
        // error the caller already refused, not a reason to panic.
        let elapsed = chrono::Duration::milliseconds(elapsed_ms.clamp(-1e15, 1e15) as i64);
        self.start.checked_add_signed(elapsed).unwrap_or(self.start)
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> DateTime<Utc> {
        self.at(Utc::now())
    }

    fn speed(&self) -> f64 {
        self.speed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_simulated_clock_runs_from_its_start_at_its_speed() {
        let origin = Utc.with_ymd_and_hms(2026, 11, 29, 18, 0, 0).unwrap();
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let clock = SimulatedClock::new(start, origin, 1440.0).unwrap();
        assert_eq!(clock.at(origin), start);
        // A real minute is a simulated day.
        assert_eq!(
            clock.at(origin + chrono::Duration::minutes(1)),
            start + chrono::Duration::days(1)
        );
        assert_eq!(clock.speed(), 1440.0);
        assert_eq!(SystemClock.speed(), 1.0);
    }

    #[test]
    fn a_simulated_clock_needs_a_positive_speed() {
        let now = Utc::now();
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = SimulatedClock::new(now, now, bad).unwrap_err();
            assert!(err.contains("speed"), "{err}");
        }
    }
}
