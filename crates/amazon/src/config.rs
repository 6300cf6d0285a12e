//! [`Config`]: where the client sends requests (per-region [`Endpoints`], every
//! one overridable, which is how tests and demos point it at the simulator), the
//! LWA application it authenticates as, timeouts, retries and the longest wait
//! for a rate-limit permit.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::retry::RetryPolicy;

/// An Amazon API endpoint group (PROTOCOL.md §2.1). Marketplaces belong to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// North America: US, CA, MX, BR.
    NorthAmerica,
    /// Europe, including UK, TR, AE, SA, EG, IN, ZA.
    Europe,
    /// Far East: JP, AU, SG.
    FarEast,
}

/// Base URLs of the services the client calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The LWA token endpoint (the full URL, not a base).
    pub lwa_token: Url,
    /// The SP-API base URL; operation paths are joined onto it.
    pub sp_api: Url,
    /// The Amazon Ads API base URL (PROTOCOL.md §5.1); operation paths are
    /// joined onto it.
    pub ads_api: Url,
}

impl Endpoints {
    /// Amazon's production hosts for a region. SP-API and the Ads API use one
    /// LWA endpoint for all regions (PROTOCOL.md §1.1, §1.6).
    pub fn for_region(region: Region) -> Self {
        let (sp_api, ads_api) = match region {
            Region::NorthAmerica => (
                "https://sellingpartnerapi-na.amazon.com/",
                "https://advertising-api.amazon.com/",
            ),
            Region::Europe => (
                "https://sellingpartnerapi-eu.amazon.com/",
                "https://advertising-api-eu.amazon.com/",
            ),
            Region::FarEast => (
                "https://sellingpartnerapi-fe.amazon.com/",
                "https://advertising-api-fe.amazon.com/",
            ),
        };
        Self {
            lwa_token: Url::parse("https://api.amazon.com/auth/o2/token").expect("a fixed, valid URL parses"),
            sp_api: Url::parse(sp_api).expect("a fixed, valid URL parses"),
            ads_api: Url::parse(ads_api).expect("a fixed, valid URL parses"),
        }
    }
}

/// The LWA application the client authenticates as.
#[derive(Debug, Clone)]
pub struct LwaApp {
    /// `amzn1.application-oa2-client.…`
    pub client_id: String,
    /// The client secret (Amazon makes apps rotate it every 180 days).
    pub client_secret: SecretString,
}

/// How long the client waits for Amazon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a connection.
    pub connect: Duration,
    /// A whole API call (not a document download, which may be large).
    pub request: Duration,
    /// Silence on an open connection, downloads included.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
            read: Duration::from_secs(60),
        }
    }
}

/// Settings of a [`crate::Client`]. Build with [`Config::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where requests go.
    pub endpoints: Endpoints,
    /// Who we are to LWA.
    pub app: LwaApp,
    /// Network timeouts.
    pub timeouts: Timeouts,
    /// In-call retries of throttled, failed and timed-out calls.
    pub retry: RetryPolicy,
    /// The longest a call waits for a rate-limit permit (or sleeps after a 429)
    /// before returning [`crate::Error::Paced`] ([`crate::Error::Throttled`]
    /// after a 429) so the caller can reschedule instead of holding a worker.
    pub max_permit_wait: Duration,
    /// Access tokens are refreshed this long before they expire; Amazon's own
    /// SDK uses 60 s (PROTOCOL.md §1.3).
    pub token_refresh_margin: Duration,
}

impl Config {
    /// Defaults for a region and an LWA application.
    pub fn new(region: Region, app: LwaApp) -> Self {
        Self {
            endpoints: Endpoints::for_region(region),
            app,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            // Long enough for one interval of the 1-per-minute operations, short
            // enough that a worker is not held while a quota refills.
            max_permit_wait: Duration::from_secs(90),
            token_refresh_margin: Duration::from_secs(60),
        }
    }
}

/// `amzsync/<version> (Language=Rust; Platform=<os>)`, the shape Amazon asks for
/// (PROTOCOL.md §2.3).
pub(crate) fn user_agent() -> String {
    format!(
        "amzsync/{} (Language=Rust; Platform={})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_region_has_its_own_sp_api_host_and_the_shared_lwa_endpoint() {
        let eu = Endpoints::for_region(Region::Europe);
        assert_eq!(eu.sp_api.as_str(), "https://sellingpartnerapi-eu.amazon.com/");
        assert_eq!(eu.lwa_token.as_str(), "https://api.amazon.com/auth/o2/token");
        assert_eq!(
            Endpoints::for_region(Region::FarEast).sp_api.host_str(),
            Some("sellingpartnerapi-fe.amazon.com")
        );
    }

    #[test]
    fn each_region_has_its_own_ads_api_host() {
        let host = |r| Endpoints::for_region(r).ads_api.host_str().map(str::to_owned);
        assert_eq!(
            host(Region::NorthAmerica).as_deref(),
            Some("advertising-api.amazon.com")
        );
        assert_eq!(
            host(Region::Europe).as_deref(),
            Some("advertising-api-eu.amazon.com")
        );
        assert_eq!(
            host(Region::FarEast).as_deref(),
            Some("advertising-api-fe.amazon.com")
        );
    }

    #[test]
    fn the_user_agent_names_amzsync_and_its_version() {
        assert!(user_agent().starts_with(&format!("amzsync/{} (", env!("CARGO_PKG_VERSION"))));
    }
}
