//! Cron schedules in a time zone: which ticks fell due between two instants,
//! and enqueueing a tick so that any number of scheduler processes add it once.
//!
//! Time is always an input (`after`, `until`): nothing here reads the clock,
//! so the scheduler decides what "now" and "last run" are and tests can pick
//! any instant.
//!
//! Daylight saving time, for a tick whose wall-clock time
//! - happens twice (autumn): it fires once, at the first occurrence;
//! - does not exist (spring): it fires once, at the instant the wall clock
//!   would have shown it without the jump (02:30 in a 02:00→03:00 gap fires
//!   at 03:30 new time). The `cron` crate alone fires the first twice and
//!   silently skips the second, which would lose a daily sync once a year.

use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, SecondsFormat, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{Enqueued, Error, Job, Options, Queue};

/// At most this many ticks are returned by one [`Schedule::due_ticks`] call,
/// so a per-second schedule after a month of downtime cannot exhaust memory.
const MAX_TICKS: usize = 10_000;

/// Wall-clock slack around a window when looking for ticks: longer than any
/// DST jump, so a tick shifted across the window's edge is still seen.
const SLACK: TimeDelta = TimeDelta::hours(3);

/// A cron expression evaluated in a time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: String,
    cron: cron::Schedule,
    tz: Tz,
}

/// One due firing of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tick {
    /// When the tick fell due.
    pub at: DateTime<Utc>,
}

impl Tick {
    /// `"<kind>:<scope>:<tick time>"`, the tick time in RFC 3339 UTC seconds
    /// (`"sync_inventory:store-7:2026-03-29T01:30:00Z"`): the same on every
    /// scheduler process, so the queue keeps one job per tick (STACK §1.4.7).
    pub fn idempotency_key(&self, kind: &str, scope: &str) -> String {
        format!(
            "{kind}:{scope}:{}",
            self.at.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }
}

impl Schedule {
    /// Parses `expression` (standard 5 fields `min hour dom mon dow`, or the
    /// `cron` crate's 6–7 fields with seconds first) in the IANA time zone
    /// `time_zone` (`"Europe/Berlin"`).
    pub fn new(expression: &str, time_zone: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::Schedule {
            expression: expression.to_owned(),
            reason,
        };
        let tz = Tz::from_str(time_zone).map_err(|e| invalid(format!("time zone: {e}")))?;
        let fields = expression.split_whitespace().count();
        // The cron crate wants seconds first; operators write five fields.
        let full = if fields == 5 {
            format!("0 {expression}")
        } else {
            expression.to_owned()
        };
        let cron = cron::Schedule::from_str(&full).map_err(|e| invalid(e.to_string()))?;
        Ok(Schedule {
            expression: expression.to_owned(),
            cron,
            tz,
        })
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Every tick in `(after, until]`, oldest first (at most 10 000).
    ///
    /// Pass the last tick already handled as `after` to catch up on every
    /// tick missed while the scheduler was down; use [`Schedule::latest_due`]
    /// to catch up once instead.
    pub fn due_ticks(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Tick> {
        if until <= after {
            return Vec::new();
        }
        let start = self.wall_clock(after) - SLACK;
        let end = self.wall_clock(until) + SLACK;
        let mut ticks = Vec::new();
        // Iterating in a zone without DST (UTC standing in for the local
        // wall clock) yields every wall-clock tick exactly once; `resolve`
        // then applies our DST policy.
        for wall in self.cron.after_owned(Utc.from_utc_datetime(&start)) {
            let wall = wall.naive_utc();
            if wall > end || ticks.len() >= MAX_TICKS {
                break;
            }
            let at = self.resolve(wall);
            if at > after && at <= until {
                ticks.push(Tick { at });
            }
        }
        // A tick moved forward out of a DST gap can overtake the next one.
        ticks.sort_unstable();
        ticks.dedup();
        ticks
    }

    /// The latest tick in `(after, until]`: what a scheduler that was down
    /// runs once on start for a kind of job where only the newest run matters.
    pub fn latest_due(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Option<Tick> {
        if until <= after {
            return None;
        }
        let start = self.wall_clock(after) - SLACK;
        let end = self.wall_clock(until) + SLACK;
        let mut latest: Option<Tick> = None;
        for wall in self.cron.after_owned(Utc.from_utc_datetime(&end)).rev() {
            let wall = wall.naive_utc();
            // Once a tick is found, only the DST slack can still hide a later one.
            let floor = latest.map_or(start, |t| self.wall_clock(t.at) - SLACK);
            if wall < floor {
                break;
            }
            let at = self.resolve(wall);
            if at > after && at <= until && latest.is_none_or(|t| at > t.at) {
                latest = Some(Tick { at });
            }
        }
        latest
    }

    fn wall_clock(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.tz).naive_local()
    }

    /// The instant of a wall-clock tick, under the DST policy in the module doc.
    fn resolve(&self, wall: NaiveDateTime) -> DateTime<Utc> {
        match self.tz.from_local_datetime(&wall) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap: read the wall time with the offset in force before
                // the jump. A day earlier is before the gap in every zone
                // (offsets span -12..+14 h) and after any previous transition.
                let before = self
                    .tz
                    .offset_from_utc_datetime(&(wall - TimeDelta::days(1)))
                    .fix();
                Utc.from_utc_datetime(&(wall - TimeDelta::seconds(i64::from(before.local_minus_utc()))))
            }
        }
    }
}

impl Queue {
    /// Enqueues `job` for `tick` of a schedule, with the idempotency key
    /// `"<job.kind>:<scope>:<tick time>"` ([`Tick::idempotency_key`]).
    ///
    /// Every scheduler process may call this for the same tick: the first
    /// enqueue adds the job, the others get [`Enqueued::Duplicate`], so no
    /// singleton "beat" process is needed. `scope` names what the tick is for
    /// (a store id), and the job's `sync_task_id` may differ between
    /// processes: deduplication is by key only.
    pub async fn enqueue_tick(&self, job: &Job, scope: &str, tick: &Tick) -> Result<Enqueued, Error> {
        let options = Options::default().idempotency_key(tick.idempotency_key(&job.kind, scope));
        self.enqueue(job, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test instants are valid RFC 3339")
            .with_timezone(&Utc)
    }

    fn ats(ticks: &[Tick]) -> Vec<String> {
        ticks
            .iter()
            .map(|t| t.at.to_rfc3339_opts(SecondsFormat::Secs, true))
            .collect()
    }

    #[test]
    fn a_daily_schedule_fires_at_local_time_in_its_time_zone() {
        let s = Schedule::new("0 2 * * *", "Europe/Berlin").expect("valid schedule");
        let ticks = s.due_ticks(utc("2026-01-10T00:00:00Z"), utc("2026-01-13T00:00:00Z"));
        assert_eq!(
            ats(&ticks),
            [
                "2026-01-10T01:00:00Z",
                "2026-01-11T01:00:00Z",
                "2026-01-12T01:00:00Z"
            ]
        );
    }

    #[test]
    fn the_window_excludes_its_start_and_includes_its_end() {
        let s = Schedule::new("0 2 * * *", "UTC").expect("valid schedule");
        let ticks = s.due_ticks(utc("2026-01-10T02:00:00Z"), utc("2026-01-11T02:00:00Z"));
        assert_eq!(ats(&ticks), ["2026-01-11T02:00:00Z"]);
        assert!(
            s.due_ticks(utc("2026-01-11T02:00:00Z"), utc("2026-01-11T02:00:00Z"))
                .is_empty()
        );
        assert!(
            s.due_ticks(utc("2026-01-12T00:00:00Z"), utc("2026-01-11T00:00:00Z"))
                .is_empty()
        );
    }

    #[test]
    fn missed_ticks_are_caught_up_all_or_only_the_latest() {
        let s = Schedule::new("30 2 * * *", "America/New_York").expect("valid schedule");
        let last_run = utc("2026-02-01T07:30:00Z");
        let now = utc("2026-02-04T12:00:00Z");
        assert_eq!(
            ats(&s.due_ticks(last_run, now)),
            [
                "2026-02-02T07:30:00Z",
                "2026-02-03T07:30:00Z",
                "2026-02-04T07:30:00Z"
            ]
        );
        assert_eq!(
            s.latest_due(last_run, now).map(|t| t.at),
            Some(utc("2026-02-04T07:30:00Z"))
        );
        assert_eq!(s.latest_due(now, utc("2026-02-04T13:00:00Z")), None);
    }

    #[test]
    fn a_tick_in_the_spring_forward_gap_fires_once_just_after_the_jump() {
        // Berlin jumps from 02:00 CET to 03:00 CEST on 2026-03-29.
        let s = Schedule::new("30 2 * * *", "Europe/Berlin").expect("valid schedule");
        let ticks = s.due_ticks(utc("2026-03-27T12:00:00Z"), utc("2026-03-30T12:00:00Z"));
        assert_eq!(
            ats(&ticks),
            [
                "2026-03-28T01:30:00Z", // 02:30 CET
                "2026-03-29T01:30:00Z", // 03:30 CEST: 02:30 did not exist
                "2026-03-30T00:30:00Z", // 02:30 CEST
            ]
        );
        assert_eq!(
            s.latest_due(utc("2026-03-28T12:00:00Z"), utc("2026-03-29T12:00:00Z"))
                .map(|t| t.at),
            Some(utc("2026-03-29T01:30:00Z"))
        );
    }

    #[test]
    fn a_tick_in_the_repeated_autumn_hour_fires_once() {
        // Berlin goes back from 03:00 CEST to 02:00 CET on 2026-10-25.
        let s = Schedule::new("30 2 * * *", "Europe/Berlin").expect("valid schedule");
        let ticks = s.due_ticks(utc("2026-10-24T12:00:00Z"), utc("2026-10-26T12:00:00Z"));
        assert_eq!(
            ats(&ticks),
            ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"] // 02:30 CEST (first), 02:30 CET
        );
    }

    #[test]
    fn an_hourly_schedule_over_the_spring_gap_keeps_every_instant_once() {
        let s = Schedule::new("30 * * * *", "Europe/Berlin").expect("valid schedule");
        let ticks = s.due_ticks(utc("2026-03-28T23:00:00Z"), utc("2026-03-29T03:00:00Z"));
        // 00:30 CET, 01:30 CET, 02:30 (moved to 03:30 CEST, the instant of the
        // real 03:30 CEST tick: kept once), 04:30 CEST.
        assert_eq!(
            ats(&ticks),
            [
                "2026-03-28T23:30:00Z",
                "2026-03-29T00:30:00Z",
                "2026-03-29T01:30:00Z",
                "2026-03-29T02:30:00Z"
            ]
        );
    }

    #[test]
    fn expressions_with_seconds_are_accepted_and_bad_input_is_rejected() {
        let s = Schedule::new("15 0 3 * * *", "UTC").expect("six fields parse");
        assert_eq!(
            ats(&s.due_ticks(utc("2026-01-01T00:00:00Z"), utc("2026-01-02T00:00:00Z"))),
            ["2026-01-01T03:00:15Z"]
        );
        assert!(matches!(
            Schedule::new("0 2 * *", "UTC"),
            Err(Error::Schedule { .. })
        ));
        assert!(matches!(
            Schedule::new("0 2 * * *", "Mars/Olympus"),
            Err(Error::Schedule { .. })
        ));
    }

    #[test]
    fn catch_up_is_bounded() {
        let s = Schedule::new("* * * * * *", "UTC").expect("valid schedule");
        let ticks = s.due_ticks(utc("2026-01-01T00:00:00Z"), utc("2026-02-01T00:00:00Z"));
        assert_eq!(ticks.len(), MAX_TICKS);
    }

    #[test]
    fn a_tick_key_names_kind_scope_and_utc_time() {
        let tick = Tick {
            at: utc("2026-03-29T03:30:00+02:00"),
        };
        assert_eq!(
            tick.idempotency_key("sync_inventory", "store-7"),
            "sync_inventory:store-7:2026-03-29T01:30:00Z"
        );
    }
}
