//! [`CallObserver`]: a hook told how every HTTP call to Amazon ended, so a
//! caller can count calls in whatever metrics system it uses without this
//! crate depending on one.

use std::fmt;

/// How one HTTP call to Amazon ended. One call of the pipeline may make
/// several (its in-call retries): each is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallOutcome {
    /// A 2xx answer.
    Ok,
    /// 429: the usage plan was exhausted.
    Throttled,
    /// 401: the access token or the grant was refused.
    Unauthorized,
    /// 403: authenticated but not allowed (or, on the SP-API, a token
    /// problem that a refresh may fix).
    Forbidden,
    /// Another 4xx: Amazon refused what was asked (404 and 425 included).
    InvalidInput,
    /// A 5xx answer, or no answer at all (connection, timeout).
    Transient,
}

impl CallOutcome {
    /// A stable lower-case label (`ok`, `throttled`, `unauthorized`,
    /// `forbidden`, `invalid_input`, `transient`): the error classes callers
    /// already use, so a metric label set stays small and bounded.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Throttled => "throttled",
            CallOutcome::Unauthorized => "unauthorized",
            CallOutcome::Forbidden => "forbidden",
            CallOutcome::InvalidInput => "invalid_input",
            CallOutcome::Transient => "transient",
        }
    }

    /// The outcome of an HTTP answer with `status`.
    pub fn from_status(status: reqwest::StatusCode) -> Self {
        match status.as_u16() {
            200..=299 => CallOutcome::Ok,
            429 => CallOutcome::Throttled,
            401 => CallOutcome::Unauthorized,
            403 => CallOutcome::Forbidden,
            500..=599 => CallOutcome::Transient,
            _ => CallOutcome::InvalidInput,
        }
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Told about every HTTP call the client makes to Amazon, as it ends.
///
/// `operation` is the operation's name ([`crate::throttle::Operation::name`],
/// e.g. `createReport`), or `downloadDocument` for the download of a report
/// document from its pre-signed URL. Called on the request's task: keep it
/// cheap and never block.
pub trait CallObserver: Send + Sync + fmt::Debug {
    /// One call of `operation` ended with `outcome`.
    fn observe(&self, operation: &'static str, outcome: CallOutcome);
}

/// The operation name reported for document downloads.
pub const DOWNLOAD_DOCUMENT: &str = "downloadDocument";

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn statuses_map_to_bounded_outcomes() {
        for (status, outcome) in [
            (200, "ok"),
            (202, "ok"),
            (429, "throttled"),
            (401, "unauthorized"),
            (403, "forbidden"),
            (404, "invalid_input"),
            (425, "invalid_input"),
            (500, "transient"),
            (503, "transient"),
        ] {
            let status = StatusCode::from_u16(status).expect("a valid status");
            assert_eq!(CallOutcome::from_status(status).as_str(), outcome, "{status}");
        }
    }
}
