//! How long a report takes (PROTOCOL.md §3.9, §5.10): a number of polls, which
//! tests control exactly, or a simulated duration, which a live server needs so
//! that reports complete over time whoever polls them, or both.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// When a new report leaves its queue and reaches its outcome. SP-API reports go
/// `IN_QUEUE` → `IN_PROGRESS` → terminal; Ads reports `PENDING` → `PROCESSING` →
/// terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportTiming {
    /// After this many non-terminal answers to polls: the first half queued, the
    /// rest in progress. 0 makes reports terminal at once.
    Polls(u32),
    /// After simulated time: queued for `in_queue` after creation, then in
    /// progress for `in_progress`, however often it is polled. Amazon's SP-API
    /// reports take seconds to minutes, Ads reports minutes to hours (§5.9).
    Duration {
        /// Time spent queued.
        in_queue: Duration,
        /// Time spent processing once out of the queue.
        in_progress: Duration,
    },
    /// Both must have passed: at least `polls` answers and the durations.
    PollsAndDuration {
        /// Non-terminal answers, as in [`ReportTiming::Polls`].
        polls: u32,
        /// Time spent queued.
        in_queue: Duration,
        /// Time spent processing once out of the queue.
        in_progress: Duration,
    },
}

/// How far a report has come: queued, in progress, or done with processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    Queued,
    Processing,
    Finished,
}

impl ReportTiming {
    /// The stage after `polls_seen` polls at `now` of a report created at
    /// `created`; the slower of the two rules wins when both apply.
    pub(crate) fn stage(self, polls_seen: u32, created: DateTime<Utc>, now: DateTime<Utc>) -> Stage {
        match self {
            Self::Polls(polls) => by_polls(polls, polls_seen),
            Self::Duration {
                in_queue,
                in_progress,
            } => by_time(in_queue, in_progress, created, now),
            Self::PollsAndDuration {
                polls,
                in_queue,
                in_progress,
            } => by_polls(polls, polls_seen).min(by_time(in_queue, in_progress, created, now)),
        }
    }
}

/// The stage of a report a fault left stuck in processing until `until`: it may
/// leave its queue, but not finish before then, however often it is polled.
pub(crate) fn held(stage: Stage, until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Stage {
    match until {
        Some(until) if now < until => stage.min(Stage::Processing),
        _ => stage,
    }
}

/// When a report created at `created` and stuck for `stuck` is released.
pub(crate) fn stuck_until(created: DateTime<Utc>, stuck: Option<Duration>) -> Option<DateTime<Utc>> {
    stuck.map(|d| created + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX))
}

fn by_polls(polls: u32, seen: u32) -> Stage {
    if polls == 0 || seen > polls {
        Stage::Finished
    } else if seen <= polls / 2 {
        Stage::Queued
    } else {
        Stage::Processing
    }
}

fn by_time(in_queue: Duration, in_progress: Duration, created: DateTime<Utc>, now: DateTime<Utc>) -> Stage {
    let to_chrono = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
    let elapsed = now - created;
    if elapsed < to_chrono(in_queue) {
        Stage::Queued
    } else if elapsed
        < to_chrono(in_queue)
            .checked_add(&to_chrono(in_progress))
            .unwrap_or(chrono::Duration::MAX)
    {
        Stage::Processing
    } else {
        Stage::Finished
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_timed_report_moves_with_the_clock_and_the_slower_rule_wins_when_both_apply() {
        let t0 = Utc.with_ymd_and_hms(2024, 5, 2, 10, 0, 0).unwrap();
        let secs = chrono::Duration::seconds;
        let timed = ReportTiming::Duration {
            in_queue: Duration::from_secs(60),
            in_progress: Duration::from_secs(120),
        };
        assert_eq!(timed.stage(100, t0, t0 + secs(59)), Stage::Queued);
        assert_eq!(timed.stage(0, t0, t0 + secs(60)), Stage::Processing);
        assert_eq!(timed.stage(0, t0, t0 + secs(180)), Stage::Finished);

        let both = ReportTiming::PollsAndDuration {
            polls: 2,
            in_queue: Duration::from_secs(60),
            in_progress: Duration::from_secs(120),
        };
        assert_eq!(both.stage(3, t0, t0 + secs(100)), Stage::Processing);
        assert_eq!(both.stage(1, t0, t0 + secs(500)), Stage::Queued);
        assert_eq!(both.stage(3, t0, t0 + secs(500)), Stage::Finished);
    }
}
