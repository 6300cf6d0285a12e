//! [`AmazonTime`]: one clock for the whole engine under a simulated clock.

use std::sync::Arc;
use std::time::Duration;

use amzsync_domain::Clock;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

/// The engine's clock (the database's) as the Amazon client's: the same now,
/// and a wait of `d` lasts `d / speed` of real time. A process on a simulated
/// clock gives it to the client, so that usage plans, token lifetimes and
/// backoffs run on the simulator's time, as the simulator counts them.
#[derive(Debug, Clone)]
pub struct AmazonTime(pub Arc<dyn Clock>);

impl amzsync_amazon::Clock for AmazonTime {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration.div_f64(self.0.speed())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use amzsync_domain::SimulatedClock;

    #[tokio::test(start_paused = true)]
    async fn a_wait_on_a_simulated_clock_lasts_its_share_of_real_time() {
        let now = Utc::now();
        let clock = AmazonTime(Arc::new(SimulatedClock::new(now, now, 60.0).unwrap()));
        let started = tokio::time::Instant::now();
        amzsync_amazon::Clock::sleep(&clock, Duration::from_secs(120)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }
}
