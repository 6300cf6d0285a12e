//! Usage plans: one token bucket per (seller, operation) with Amazon's default SP-API
//! rate and burst (PROTOCOL.md §2.6), or per (Ads profile, operation) with the
//! configured Ads plan (§5.9), refilled by the simulated clock.

use chrono::{DateTime, Utc};

/// An operation the simulator serves; usage plans, statistics and faults are kept
/// per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// LWA `POST /auth/o2/token`. Has no published usage plan; only
    /// [`crate::Simulator::fail_next`] applies to it.
    Token,
    /// `POST /reports/2021-06-30/reports`.
    CreateReport,
    /// `GET /reports/2021-06-30/reports/{reportId}`.
    GetReport,
    /// `GET /reports/2021-06-30/reports`.
    GetReports,
    /// `DELETE /reports/2021-06-30/reports/{reportId}`.
    CancelReport,
    /// `GET /reports/2021-06-30/documents/{reportDocumentId}`.
    GetReportDocument,
    /// `GET /fba/inventory/v1/summaries`.
    GetInventorySummaries,
    /// Ads `GET /v2/profiles`. Not rate limited by the simulator (it has no profile
    /// to key a bucket by); only injected faults apply.
    ListProfiles,
    /// Ads `POST /reporting/reports`.
    CreateAsyncReport,
    /// Ads `GET /reporting/reports/{reportId}`.
    GetAsyncReport,
    /// Ads `DELETE /reporting/reports/{reportId}`.
    DeleteAsyncReport,
    /// The download of an SP-API report document from its pre-signed URL (S3 on
    /// Amazon). No usage plan; counted under the report's seller.
    DownloadReportDocument,
    /// The download of an Ads report from its pre-signed URL (S3 on Amazon). No
    /// usage plan; counted under the profile's seller.
    DownloadAdsReport,
}

/// Every operation, for lookups by name.
const OPERATIONS: [Operation; 13] = [
    Operation::Token,
    Operation::CreateReport,
    Operation::GetReport,
    Operation::GetReports,
    Operation::CancelReport,
    Operation::GetReportDocument,
    Operation::GetInventorySummaries,
    Operation::ListProfiles,
    Operation::CreateAsyncReport,
    Operation::GetAsyncReport,
    Operation::DeleteAsyncReport,
    Operation::DownloadReportDocument,
    Operation::DownloadAdsReport,
];

impl Operation {
    /// Amazon's operation name, e.g. `createReport`.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Token => "token",
            Operation::CreateReport => "createReport",
            Operation::GetReport => "getReport",
            Operation::GetReports => "getReports",
            Operation::CancelReport => "cancelReport",
            Operation::GetReportDocument => "getReportDocument",
            Operation::GetInventorySummaries => "getInventorySummaries",
            Operation::ListProfiles => "listProfiles",
            Operation::CreateAsyncReport => "createAsyncReport",
            Operation::GetAsyncReport => "getAsyncReport",
            Operation::DeleteAsyncReport => "deleteAsyncReport",
            Operation::DownloadReportDocument => "downloadReportDocument",
            Operation::DownloadAdsReport => "downloadAdsReport",
        }
    }

    /// The operation with this [`Operation::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        OPERATIONS.into_iter().find(|op| op.name() == name)
    }

    /// Every operation the simulator serves.
    pub fn all() -> &'static [Operation] {
        &OPERATIONS
    }

    /// The default SP-API usage plan, or `None` where Amazon publishes none. Ads
    /// limits are dynamic and unpublished: see [`crate::Config::ads_rate`] and
    /// [`crate::Config::ads_burst`].
    pub fn usage_plan(self) -> Option<UsagePlan> {
        let plan = |rate, burst, header| UsagePlan { rate, burst, header };
        match self {
            Operation::Token
            | Operation::ListProfiles
            | Operation::CreateAsyncReport
            | Operation::GetAsyncReport
            | Operation::DeleteAsyncReport
            | Operation::DownloadReportDocument
            | Operation::DownloadAdsReport => None,
            Operation::GetReports | Operation::CancelReport => Some(plan(0.0222, 10, "0.0222")),
            Operation::CreateReport | Operation::GetReportDocument => Some(plan(0.0167, 15, "0.0167")),
            Operation::GetReport => Some(plan(2.0, 15, "2.0")),
            Operation::GetInventorySummaries => Some(plan(2.0, 2, "2.0")),
        }
    }
}

/// Rate (requests per second) and burst of a usage plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsagePlan {
    /// Tokens added per second.
    pub rate: f64,
    /// Bucket capacity, and its content at the first call.
    pub burst: u32,
    /// The rate as Amazon writes it in `x-amzn-RateLimit-Limit` (SP-API only; the
    /// Ads API sends no such header).
    pub header: &'static str,
}

/// A token bucket, filled to `burst` at the first call.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    tokens: f64,
    updated: DateTime<Utc>,
}

impl Bucket {
    pub(crate) fn full(plan: UsagePlan, now: DateTime<Utc>) -> Self {
        Self {
            tokens: f64::from(plan.burst),
            updated: now,
        }
    }

    /// Takes one token if there is one; refills first for the time that passed.
    pub(crate) fn try_take(&mut self, plan: UsagePlan, now: DateTime<Utc>) -> bool {
        let elapsed = (now - self.updated).num_milliseconds().max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * plan.rate).min(f64::from(plan.burst));
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whole seconds until the next token, at least 1: what a `Retry-After` says.
    pub(crate) fn seconds_to_next_token(&self, plan: UsagePlan) -> u64 {
        if plan.rate <= 0.0 {
            return 60;
        }
        ((1.0 - self.tokens).max(0.0) / plan.rate).ceil().max(1.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_the_plan_rate() {
        let plan = Operation::CreateReport
            .usage_plan()
            .expect("createReport has a plan");
        let t0 = Utc.with_ymd_and_hms(2024, 5, 2, 10, 0, 0).unwrap();
        let mut bucket = Bucket::full(plan, t0);
        for _ in 0..15 {
            assert!(bucket.try_take(plan, t0));
        }
        assert!(!bucket.try_take(plan, t0));
        // 0.0167 tokens/s: one token after ~60 s, not after 59 s.
        assert!(!bucket.try_take(plan, t0 + chrono::Duration::seconds(59)));
        assert!(bucket.try_take(plan, t0 + chrono::Duration::seconds(61)));
    }
}
