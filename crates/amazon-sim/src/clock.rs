//! The simulated clock: token expiry, report timestamps, usage-plan refill and
//! document URL expiry all read it, so a test moves time instead of sleeping.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

#[derive(Debug)]
pub(crate) struct Clock {
    /// `None` follows the system clock.
    base: Option<DateTime<Utc>>,
    offset: Mutex<chrono::Duration>,
}

impl Clock {
    pub(crate) fn new(base: Option<DateTime<Utc>>) -> Self {
        Self {
            base,
            offset: Mutex::new(chrono::Duration::zero()),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
        self.base.unwrap_or_else(Utc::now) + offset
    }

    pub(crate) fn advance(&self, by: chrono::Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += by;
    }
}
