//! The date range a sync task covers, in marketplace time, both ends included.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SyncWindow {
    start: NaiveDate,
    end: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("the window starts ({start}) after it ends ({end})")]
    Reversed { start: NaiveDate, end: NaiveDate },
}

impl SyncWindow {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, WindowError> {
        if start > end {
            return Err(WindowError::Reversed { start, end });
        }
        Ok(Self { start, end })
    }

    /// One day.
    pub fn day(date: NaiveDate) -> Self {
        Self {
            start: date,
            end: date,
        }
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Number of days covered, both ends included.
    pub fn days(&self) -> u32 {
        u32::try_from((self.end - self.start).num_days() + 1)
            .expect("a window's end is never before its start")
    }

    /// The days of the window in order.
    pub fn iter_days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let end = self.end;
        self.start.iter_days().take_while(move |d| *d <= end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn windows_count_both_ends() {
        let w = SyncWindow::new(d("2024-05-01"), d("2024-05-31")).unwrap();
        assert_eq!(w.days(), 31);
        assert_eq!(w.iter_days().count(), 31);
        assert_eq!(SyncWindow::day(d("2024-02-29")).days(), 1);
    }

    #[test]
    fn reversed_windows_are_refused() {
        let err = SyncWindow::new(d("2024-05-02"), d("2024-05-01")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the window starts (2024-05-02) after it ends (2024-05-01)"
        );
    }
}
