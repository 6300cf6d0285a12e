//! Amazon Ads API (PROTOCOL.md §5): advertising profiles ([`profiles`]),
//! Sponsored Products reporting v3 ([`reporting`]) and the report rows
//! ([`report_rows`]).
//!
//! Calls go through the same pipeline as the SP-API (rate limit → token →
//! retries → error classification) with the Ads headers: `Authorization:
//! Bearer`, `Amazon-Advertising-API-ClientId` (the LWA application) and, on
//! profile-scoped calls, `Amazon-Advertising-API-Scope` (the profile id).

use std::fmt;

use secrecy::SecretString;

use crate::client::Client;
use crate::error::Error;

pub mod profiles;
pub mod report_rows;
pub mod reporting;

/// A store's Ads API authorization. A store grants the Ads API separately from
/// the SP-API (PROTOCOL.md §1.6), so this refresh token is a different grant:
/// its access tokens are cached under their own key (the key includes the
/// refresh token) and work on the Ads API only.
#[derive(Clone)]
pub struct AdsAccount {
    /// The LWA refresh token (`Atzr|…`) of the Ads authorization.
    pub refresh_token: SecretString,
}

impl AdsAccount {
    /// The account of an Ads refresh token.
    pub fn new(refresh_token: impl Into<SecretString>) -> Self {
        Self {
            refresh_token: refresh_token.into(),
        }
    }
}

impl fmt::Debug for AdsAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdsAccount")
            .field("refresh_token", &"[REDACTED]")
            .finish()
    }
}

/// The Ads API acting through one authorization. Obtained from [`Client::ads`].
#[derive(Debug, Clone, Copy)]
pub struct Ads<'a> {
    client: &'a Client,
    account: &'a AdsAccount,
}

impl<'a> Ads<'a> {
    pub(crate) fn new(client: &'a Client, account: &'a AdsAccount) -> Self {
        Self { client, account }
    }

    /// `GET /v2/profiles`: the advertising profiles the authorization reaches,
    /// one per (account, marketplace).
    pub async fn profiles(&self) -> Result<Vec<profiles::Profile>, Error> {
        profiles::list(self.client, self.account).await
    }

    /// Reporting v3 for one profile (its id is the `-Scope` header and the key
    /// of the rate-limit buckets).
    pub fn reporting(&self, profile_id: i64) -> reporting::Reporting<'a> {
        reporting::Reporting::new(self.client, self.account, profile_id)
    }
}
