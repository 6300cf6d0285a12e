//! Why a step of a sync failed, in the terms that decide what happens next
//! (FR-7): the [`ErrorClass`] stored on the task, the message shown to the
//! user, and how long Amazon asked us to wait.

use std::time::Duration;

use amzsync_amazon::{DocumentError, Error as AmazonError};
use amzsync_domain::ErrorClass;

/// A failed step.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) class: ErrorClass,
    pub(crate) message: String,
    /// Amazon's (or the rate limiter's) wait, when it said.
    pub(crate) retry_after: Option<Duration>,
    /// Whether only our usage-plan accounting refused the call: nothing was
    /// sent, so it is no sign of a fault and spends no attempt.
    pub(crate) paced: bool,
    /// Whether the delivery lost the task to another (its lease expired):
    /// not a failure of the task, which the other delivery carries on.
    pub(crate) lease_lost: bool,
}

impl Failure {
    pub(crate) fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            retry_after: None,
            paced: false,
            lease_lost: false,
        }
    }

    /// Classifies a failed call to Amazon; `doing` says what we were doing
    /// ("requesting the report for ATVPDKIKX0DER 2026-03-01").
    pub(crate) fn amazon(doing: &str, error: &AmazonError) -> Self {
        let class = match error {
            AmazonError::Unauthorized { .. } => ErrorClass::Unauthorized,
            AmazonError::Forbidden { .. } => ErrorClass::Forbidden,
            AmazonError::Throttled { .. } | AmazonError::Paced { .. } => ErrorClass::Throttled,
            AmazonError::ReportFatal { .. } => ErrorClass::ReportFatal,
            AmazonError::InvalidInput { .. } => ErrorClass::InvalidInput,
            // A cut or damaged download is fetched again; a document that
            // arrived intact but is corrupt or lacks required columns will
            // not improve.
            AmazonError::Document(e) if !e.is_retryable() => ErrorClass::InvalidData,
            // Transport, timeouts, 5xx, an unexpected body, a report id that
            // vanished: all may be fine on the next attempt.
            e if e.is_retryable() => ErrorClass::Transient,
            AmazonError::Decode { .. } | AmazonError::NotFound => ErrorClass::Transient,
            _ => ErrorClass::Internal,
        };
        Self {
            class,
            message: format!("{doing}: {}", describe(error)),
            retry_after: error.retry_after(),
            paced: matches!(error, AmazonError::Paced { .. }),
            lease_lost: false,
        }
    }

    /// A database failure: usually a lost connection or a busy SQLite file,
    /// so it is retried like a network fault.
    pub(crate) fn db(doing: &str, error: &amzsync_db::Error) -> Self {
        Self {
            lease_lost: matches!(error, amzsync_db::Error::LeaseLost { .. }),
            ..Self::new(ErrorClass::Transient, format!("{doing}: database: {error}"))
        }
    }
}

/// The error and its sources on one line (`reqwest` keeps the useful part in
/// its source chain).
fn describe(error: &AmazonError) -> String {
    let mut text = error.to_string();
    if let AmazonError::Document(DocumentError::Truncated(_)) = error {
        return text;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_and_a_lost_lease_are_told_apart_from_faults() {
        let paced = Failure::amazon(
            "requesting",
            &AmazonError::Paced {
                wait: Duration::from_secs(59),
            },
        );
        assert_eq!(
            (paced.class, paced.paced, paced.retry_after),
            (ErrorClass::Throttled, true, Some(Duration::from_secs(59)))
        );
        let throttled = Failure::amazon("requesting", &AmazonError::Throttled { retry_after: None });
        assert!(!throttled.paced, "a 429 from Amazon is not our own pacing");

        let task_id = amzsync_domain::SyncTaskId(ulid::Ulid::nil());
        let lost = Failure::db("recording progress", &amzsync_db::Error::LeaseLost { task_id });
        assert!(lost.lease_lost);
        let down = Failure::db(
            "recording progress",
            &amzsync_db::Error::NotFound { what: "sync task" },
        );
        assert!(!down.lease_lost);
    }

    #[test]
    fn each_amazon_error_gets_the_class_fr7_acts_on() {
        let class = |e: AmazonError| Failure::amazon("x", &e).class;
        assert_eq!(
            class(AmazonError::Unauthorized {
                code: "invalid_grant".into(),
                description: String::new()
            }),
            ErrorClass::Unauthorized
        );
        assert_eq!(
            class(AmazonError::Throttled { retry_after: None }),
            ErrorClass::Throttled
        );
        assert_eq!(class(AmazonError::Timeout), ErrorClass::Transient);
        assert_eq!(
            class(AmazonError::Document(DocumentError::Truncated("cut".into()))),
            ErrorClass::Transient
        );
        assert_eq!(
            class(AmazonError::Document(DocumentError::Damaged("crc".into()))),
            ErrorClass::Transient
        );
        assert_eq!(
            class(AmazonError::Document(DocumentError::Corrupt("not JSON".into()))),
            ErrorClass::InvalidData
        );
        assert_eq!(
            class(AmazonError::Document(DocumentError::MissingColumns(vec![
                "sku".into()
            ]))),
            ErrorClass::InvalidData
        );
        assert_eq!(
            class(AmazonError::ReportFatal {
                report_id: "1".into(),
                error_document: None
            }),
            ErrorClass::ReportFatal
        );
        let throttled = Failure::amazon(
            "polling",
            &AmazonError::Throttled {
                retry_after: Some(Duration::from_secs(7)),
            },
        );
        assert_eq!(throttled.retry_after, Some(Duration::from_secs(7)));
        assert!(
            throttled.message.starts_with("polling: throttled"),
            "{}",
            throttled.message
        );
    }
}
