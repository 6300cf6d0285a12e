//! What a sync is about: its kind, its state, why it failed and what started it.
//! The strings here are stored in `sync_tasks`; never rename one, add a new one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that is not one of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a {what} (expected one of: {expected})")]
pub struct ParseEnumError {
    pub what: &'static str,
    pub input: String,
    pub expected: &'static str,
}

macro_rules! stored_enum {
    (
        $(#[$meta:meta])* $name:ident, $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)*),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling stored in the database and used by the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($text $(| $alias)* => Ok($name::$variant),)+
                    _ => Err(ParseEnumError {
                        what: $what,
                        input: s.to_owned(),
                        expected: concat!($($text, " "),+).trim_ascii_end(),
                    }),
                }
            }
        }
    };
}

stored_enum!(
    /// What a sync fetches.
    SyncKind, "sync kind" {
        /// FBA inventory snapshot (FR-1).
        Inventory = "inventory",
        /// Sales & Traffic per SKU per day (FR-2). The REST paths say `business-reports`.
        Business = "business" | "business-reports" | "business_reports",
        /// Sponsored Products reports (FR-3).
        Advertising = "advertising",
    }
);

stored_enum!(
    /// Where a sync task is in its life: pending → running → success | failed;
    /// failed → pending on retry.
    TaskStatus, "task status" {
        Pending = "pending",
        Running = "running",
        Success = "success",
        Failed = "failed",
    }
);

impl TaskStatus {
    /// Pending and running tasks hold the (store, kind) slot (FR-6).
    pub fn is_active(self) -> bool {
        matches!(self, TaskStatus::Pending | TaskStatus::Running)
    }
}

stored_enum!(
    /// Why a task failed, in the terms that decide what happens next (FR-7).
    ErrorClass, "error class" {
        /// Network, timeout or a 5xx answer: retried.
        Transient = "transient",
        /// Amazon's usage plan was exhausted: retried after Amazon's wait.
        Throttled = "throttled",
        /// The grant is revoked or the client is invalid: the store needs re-authorization.
        Unauthorized = "unauthorized",
        /// Authenticated, but not allowed (a role is missing from the app).
        Forbidden = "forbidden",
        /// Amazon failed to generate the report (FATAL): retried after its cooldown.
        ReportFatal = "report_fatal",
        /// Amazon rejected what we asked for.
        InvalidInput = "invalid_input",
        /// A document that could not be read (missing columns, corrupt data).
        InvalidData = "invalid_data",
        /// A fault of ours.
        Internal = "internal",
    }
);

impl ErrorClass {
    /// Whether a task failing this way is tried again on its own.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorClass::Transient | ErrorClass::Throttled | ErrorClass::ReportFatal
        )
    }
}

stored_enum!(
    /// What started a task. Manual triggers outrank scheduled ones.
    Trigger, "trigger" {
        Manual = "manual",
        Scheduled = "scheduled",
        Retry = "retry",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_accept_the_rest_path_spelling() {
        assert_eq!("business-reports".parse::<SyncKind>(), Ok(SyncKind::Business));
        assert_eq!(SyncKind::Business.as_str(), "business");
    }

    #[test]
    fn a_bad_value_lists_the_good_ones() {
        let err = "done".parse::<TaskStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#""done" is not a task status (expected one of: pending running success failed)"#
        );
    }

    #[test]
    fn every_spelling_round_trips() {
        for k in SyncKind::ALL {
            assert_eq!(k.as_str().parse::<SyncKind>().as_ref(), Ok(k));
        }
        for s in TaskStatus::ALL {
            assert_eq!(s.as_str().parse::<TaskStatus>().as_ref(), Ok(s));
        }
        for c in ErrorClass::ALL {
            assert_eq!(c.as_str().parse::<ErrorClass>().as_ref(), Ok(c));
        }
        for t in Trigger::ALL {
            assert_eq!(t.as_str().parse::<Trigger>().as_ref(), Ok(t));
        }
    }
}
