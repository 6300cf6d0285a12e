//! [`Error`]: every failure of a call to Amazon, classified by what the caller
//! does about it (STYLE.md §5), so a job runner decides without parsing strings.

use std::time::Duration;

use reqwest::StatusCode;

use crate::document::DocumentError;

/// Why a call to Amazon failed.
///
/// Each variant exists because some caller handles it differently: wait and
/// retry ([`Error::is_retryable`], [`Error::retry_after`]), pause the store
/// ([`Error::Unauthorized`]), record zero rows ([`Error::ReportCancelled`]) or
/// record the failure and stop (the rest).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Amazon answered 429 `QuotaExceeded` more often than the in-call retries
    /// allow, or the local rate limiter would have had to wait longer than
    /// [`crate::Config::max_permit_wait`]. Reschedule after `retry_after` when
    /// known.
    #[error("throttled (retry after {retry_after:?})")]
    Throttled {
        /// How long to wait before the next attempt, when known.
        retry_after: Option<Duration>,
    },
    /// The local rate limiter would have had to wait longer than
    /// [`crate::Config::max_permit_wait`] for a permit: nothing was sent to
    /// Amazon. Pacing, not a fault: call again after `wait`, when the usage
    /// plan has a permit.
    #[error("paced by the usage plan (next permit in {wait:?})")]
    Paced {
        /// How long until the usage plan has a permit.
        wait: Duration,
    },
    /// Login with Amazon refused the grant for good (`invalid_grant`: the seller
    /// revoked it; `invalid_client`: our app credentials are wrong or expired).
    /// Never retried: pause the store until it is re-authorized.
    #[error("Login with Amazon refused the grant: {code} ({description})")]
    Unauthorized {
        /// LWA's `error` code, e.g. `invalid_grant`.
        code: String,
        /// LWA's `error_description`.
        description: String,
    },
    /// The SP-API refused access with a valid token, usually because the
    /// application lacks the role the operation needs (403 with empty details).
    #[error("access denied: {code}: {message} {details}")]
    Forbidden {
        /// Amazon's error code, e.g. `Unauthorized`.
        code: String,
        /// Amazon's message.
        message: String,
        /// Amazon's details (empty for a missing role).
        details: String,
    },
    /// The report, document or path does not exist (for this seller).
    #[error("not found")]
    NotFound,
    /// Amazon rejected the request itself (400 `InvalidInput`, 415, other 4xx):
    /// sending it again changes nothing.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// Amazon's message and details.
        message: String,
    },
    /// Amazon failed (5xx) after the in-call retries: retry later with backoff.
    #[error("Amazon answered {status}")]
    Server {
        /// The HTTP status.
        status: StatusCode,
    },
    /// The connection failed or broke.
    #[error("HTTP transport failed")]
    Transport(#[source] reqwest::Error),
    /// Amazon did not answer within the configured timeout.
    #[error("timed out waiting for Amazon")]
    Timeout,
    /// A 2xx response whose body is not what Amazon's model promises.
    #[error("{operation}: unexpected response body")]
    Decode {
        /// Amazon's operation name, e.g. `getReport`.
        operation: &'static str,
        /// What serde could not read.
        #[source]
        source: serde_json::Error,
    },
    /// A downloaded document could not be read as a whole.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// The report ended `FATAL` (SP-API) or `FAILED` (Ads API). Amazon's
    /// explanation, when it gave one, is the text of the error document
    /// (`{"errorDetails": …}`) or the Ads report's `failureReason`. Request the
    /// report again later.
    #[error("report {report_id} failed: {}", error_document.as_deref().unwrap_or("no error document"))]
    ReportFatal {
        /// The report.
        report_id: String,
        /// The error document's text or `failureReason`, if there was one.
        error_document: Option<String>,
    },
    /// Ads API 425: an identical report request is still being processed.
    /// [`crate::ads::reporting::Reporting::create_report`] reuses the report the
    /// 425 names when it really is the same request; this is returned when it
    /// named none, or one that differs (Amazon has flagged DAILY and SUMMARY
    /// requests as duplicates of each other). Try again in about a minute.
    #[error("duplicate of a report still being processed: {detail}")]
    DuplicateReport {
        /// The report Amazon named, if it could be read.
        report_id: Option<String>,
        /// Amazon's text.
        detail: String,
    },
    /// A paginated listing could not be read to its end: Amazon's `nextToken`
    /// kept expiring (FBA inventory tokens live 30 s) even after restarting
    /// from the first page. Nothing was returned; retry later.
    #[error("the page token expired {restarts} times; the listing was not read to its end")]
    PageTokenExpired {
        /// How many times the walk was restarted from the first page.
        restarts: u32,
    },
    /// The report ended `CANCELLED`: cancelled while queued, or, far more often,
    /// Amazon had no data for the request. Callers record zero rows.
    #[error("report {report_id} was cancelled (no data)")]
    ReportCancelled {
        /// The report.
        report_id: String,
    },
}

impl Error {
    /// Whether the same call may succeed later, so a job should retry it with
    /// backoff rather than fail.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Throttled { .. }
            | Error::Paced { .. }
            | Error::Server { .. }
            | Error::Transport(_)
            | Error::Timeout
            | Error::DuplicateReport { .. }
            | Error::PageTokenExpired { .. } => true,
            Error::Document(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// How long to wait before retrying, when Amazon or the rate limiter said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Throttled { retry_after } => *retry_after,
            Error::Paced { wait } => Some(*wait),
            _ => None,
        }
    }

    /// Whether the store's authorization is gone for good (re-authorize it).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Unauthorized { .. })
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Error::Timeout
        } else {
            Error::Transport(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_retryable_but_a_revoked_grant_is_not() {
        assert!(Error::Throttled { retry_after: None }.is_retryable());
        assert!(
            Error::Server {
                status: StatusCode::SERVICE_UNAVAILABLE
            }
            .is_retryable()
        );
        assert!(Error::Timeout.is_retryable());
        let revoked = Error::Unauthorized {
            code: "invalid_grant".into(),
            description: String::new(),
        };
        assert!(!revoked.is_retryable());
        assert!(revoked.is_unauthorized());
        assert!(
            !Error::ReportCancelled {
                report_id: "1".into()
            }
            .is_retryable()
        );
    }
}
