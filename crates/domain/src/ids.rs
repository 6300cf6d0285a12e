//! Identifiers. Stores and users are database sequences; sync tasks are ULIDs,
//! because the same id is handed to the job queue and must sort by creation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// A malformed identifier, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid {what}")]
pub struct ParseIdError {
    pub what: &'static str,
    pub input: String,
}

macro_rules! sequence_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl From<i64> for $name {
            fn from(n: i64) -> Self {
                Self(n)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().parse::<i64>() {
                    Ok(n) if n > 0 => Ok(Self(n)),
                    _ => Err(ParseIdError { what: $what, input: s.to_owned() }),
                }
            }
        }
    };
}

sequence_id!(
    /// A store: one seller account in one region.
    StoreId,
    "store id (a positive integer)"
);
sequence_id!(
    /// A user: a tenant owning stores.
    UserId,
    "user id (a positive integer)"
);

/// A sync task. The same ULID is the job id in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SyncTaskId(pub Ulid);

impl SyncTaskId {
    /// A new id for a task created at `now_ms` (milliseconds since the Unix epoch).
    /// The time comes from the caller's clock so tests control the ordering.
    pub fn new(now_ms: u64, random: u128) -> Self {
        Self(Ulid::from_parts(now_ms, random))
    }
}

impl fmt::Display for SyncTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for SyncTaskId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ulid::from_string(s.trim()).map(Self).map_err(|_| ParseIdError {
            what: "sync task id (a 26-character ULID)",
            input: s.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_ids_are_positive_integers() {
        assert_eq!("42".parse::<StoreId>(), Ok(StoreId(42)));
        assert!("0".parse::<StoreId>().is_err());
        assert!("-3".parse::<StoreId>().is_err());
        let err = "abc".parse::<StoreId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#""abc" is not a valid store id (a positive integer)"#
        );
    }

    #[test]
    fn sync_task_ids_round_trip_through_text() {
        let id = SyncTaskId::new(1_700_000_000_000, 7);
        assert_eq!(id.to_string().parse::<SyncTaskId>(), Ok(id));
        assert!("not-a-ulid".parse::<SyncTaskId>().is_err());
    }

    #[test]
    fn sync_task_ids_sort_by_creation_time() {
        let earlier = SyncTaskId::new(1_000, u128::MAX);
        let later = SyncTaskId::new(1_001, 0);
        assert!(earlier < later);
        assert!(earlier.to_string() < later.to_string());
    }
}
