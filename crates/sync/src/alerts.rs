//! Alerts (FR-10): a JSON webhook fired when a sync task fails for good, when
//! a store needs re-authorization, and when a store's data of a kind is stale
//! (no successful sync for longer than a threshold).
//!
//! The engine only calls the small [`Alerts`] handle; delivery happens in a
//! background task with a few retries and exponential backoff, so a slow or
//! dead receiver never holds a worker. Payloads carry names, ids, the kind,
//! the error class and a message, and never a secret: messages go through
//! [`redact`] first, because error texts can quote presigned document URLs or
//! tokens echoed by a misbehaving endpoint. Without a configured URL the
//! handle logs the alert and sends nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use amzsync_db::Freshness;
use amzsync_domain::{ErrorClass, StoreId, SyncKind, SyncTaskId};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// Where and how alerts are delivered.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// The webhook; `None` logs alerts without sending them.
    pub webhook_url: Option<reqwest::Url>,
    /// Tries per alert, the first included.
    pub attempts: u32,
    /// Pause before the second try; doubled before each further one.
    pub backoff: Duration,
    /// Limit of one try.
    pub timeout: Duration,
    /// Data of a kind is stale once the store's last successful sync of it
    /// ended longer ago than this (FR-10).
    pub stale_after: Duration,
    /// The kinds checked for staleness (advertising is left out by default:
    /// stores without an Ads authorization never sync it).
    pub stale_kinds: Vec<SyncKind>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            webhook_url: None,
            attempts: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
            // A daily sync that missed one run, plus slack for a slow one.
            stale_after: Duration::from_secs(36 * 3600),
            stale_kinds: vec![SyncKind::Inventory, SyncKind::Business],
        }
    }
}

/// What happened, as the webhook receives it (with `source` and `at`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Alert {
    /// A sync task failed with no retry left (or a permanent error).
    TaskFailed {
        /// The store.
        store_id: StoreId,
        /// Its name, for people reading the alert.
        store_name: String,
        /// The task.
        task_id: SyncTaskId,
        /// Its kind.
        kind: SyncKind,
        /// Why, by class (FR-7).
        error_class: ErrorClass,
        /// The task's error message, redacted.
        message: String,
    },
    /// Amazon refused the store's grant: scheduled syncs stop until its
    /// credentials change.
    NeedsReauth {
        /// The store.
        store_id: StoreId,
        /// Its name.
        store_name: String,
        /// The task that found out, if any.
        task_id: Option<SyncTaskId>,
        /// Amazon's answer, redacted.
        message: String,
    },
    /// No successful sync of `kind` for longer than the threshold.
    StaleData {
        /// The store.
        store_id: StoreId,
        /// Its name.
        store_name: String,
        /// The kind whose data is stale.
        kind: SyncKind,
        /// When its last successful sync ended (`None`: never).
        last_success: Option<DateTime<Utc>>,
        /// Seconds since then (or since the store was added).
        stale_for_secs: u64,
        /// The threshold, in seconds.
        threshold_secs: u64,
    },
}

impl Alert {
    /// The event name (`task_failed`, `needs_reauth`, `stale_data`).
    pub fn event(&self) -> &'static str {
        match self {
            Alert::TaskFailed { .. } => "task_failed",
            Alert::NeedsReauth { .. } => "needs_reauth",
            Alert::StaleData { .. } => "stale_data",
        }
    }
}

/// The body posted: the alert and its envelope.
#[derive(Serialize)]
struct Envelope<'a> {
    source: &'static str,
    at: DateTime<Utc>,
    #[serde(flatten)]
    alert: &'a Alert,
}

/// Why an alert was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlertError {
    /// The receiver could not be reached or kept failing.
    #[error("webhook delivery failed after {attempts} attempts: {last}")]
    Delivery {
        /// Tries made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// The handle the engine fires alerts through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Alerts {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: AlertSettings,
    http: OnceLock<reqwest::Client>,
    /// Staleness already reported, by store and kind: the reference time it
    /// was reported for. One alert per episode and process, not one per check.
    reported_stale: Mutex<HashMap<(StoreId, SyncKind), DateTime<Utc>>>,
}

impl Default for Alerts {
    fn default() -> Self {
        Self::new(AlertSettings::default())
    }
}

impl Alerts {
    /// Alerts delivered as `settings` say.
    pub fn new(settings: AlertSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                http: OnceLock::new(),
                reported_stale: Mutex::default(),
            }),
        }
    }

    /// The webhook's HTTP client, built on first use: reqwest needs the
    /// process's TLS provider, which the app installs at start, and an
    /// engine without a webhook should not need one at all.
    fn http(&self) -> Result<&reqwest::Client, AlertError> {
        if let Some(client) = self.inner.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .timeout(self.inner.settings.timeout)
            .build()
            .map_err(|e| AlertError::Delivery {
                attempts: 0,
                last: format!("building the HTTP client: {}", e.without_url()),
            })?;
        Ok(self.inner.http.get_or_init(|| client))
    }

    /// The settings in force.
    pub fn settings(&self) -> &AlertSettings {
        &self.inner.settings
    }

    /// A task failed for good. Returns at once; delivery runs in the background.
    pub fn task_failed(
        &self,
        store_id: StoreId,
        store_name: &str,
        task_id: SyncTaskId,
        kind: SyncKind,
        error_class: ErrorClass,
        message: &str,
    ) {
        self.fire(Alert::TaskFailed {
            store_id,
            store_name: store_name.to_owned(),
            task_id,
            kind,
            error_class,
            message: redact(message),
        });
    }

    /// A store was marked as needing re-authorization. Returns at once.
    pub fn needs_reauth(
        &self,
        store_id: StoreId,
        store_name: &str,
        task_id: Option<SyncTaskId>,
        message: &str,
    ) {
        self.fire(Alert::NeedsReauth {
            store_id,
            store_name: store_name.to_owned(),
            task_id,
            message: redact(message),
        });
    }

    /// Sends `alert` in the background (logged if it cannot be delivered).
    pub fn fire(&self, alert: Alert) {
        let alerts = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(error) = alerts.send(&alert).await {
                        tracing::error!(event = alert.event(), %error, "alert not delivered");
                    }
                });
            }
            Err(_) => tracing::error!(event = alert.event(), "alert not delivered: no async runtime"),
        }
    }

    /// Sends `alert` and waits for the receiver to accept it (2xx), trying
    /// again on network errors, 429 and 5xx.
    pub async fn send(&self, alert: &Alert) -> Result<(), AlertError> {
        let settings = &self.inner.settings;
        tracing::warn!(alert = ?alert, "alert");
        let Some(url) = &settings.webhook_url else {
            return Ok(());
        };
        let body = Envelope {
            source: "amzsync",
            at: Utc::now(),
            alert,
        };
        let http = self.http()?;
        let attempts = settings.attempts.max(1);
        let mut pause = settings.backoff;
        let mut last = String::new();
        for attempt in 1..=attempts {
            match http.post(url.clone()).json(&body).send().await {
                Ok(response) if response.status().is_success() => {
                    metrics::counter!(crate::telemetry::ALERTS, "event" => alert.event(), "outcome" => "delivered")
                        .increment(1);
                    return Ok(());
                }
                Ok(response) => {
                    let status = response.status();
                    last = format!("the receiver answered {status}");
                    // A 4xx other than 429 will not change on a retry.
                    if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
                        break;
                    }
                }
                // Without the URL: it is configuration, and may embed a token.
                Err(error) => last = error.without_url().to_string(),
            }
            if attempt < attempts {
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
            }
        }
        metrics::counter!(crate::telemetry::ALERTS, "event" => alert.event(), "outcome" => "failed")
            .increment(1);
        Err(AlertError::Delivery { attempts, last })
    }

    /// The stale entries of `freshness` as of `now` that were not reported
    /// yet, marked as reported. A store synced again and stale again later is
    /// a new episode and reported again.
    pub fn newly_stale(&self, freshness: &[Freshness], now: DateTime<Utc>) -> Vec<Alert> {
        let threshold = self.inner.settings.stale_after;
        let limit = TimeDelta::from_std(threshold).unwrap_or(TimeDelta::MAX);
        let mut reported = self
            .inner
            .reported_stale
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut alerts = Vec::new();
        for f in freshness {
            let key = (f.store_id, f.kind);
            let since = f.since();
            let age = now - since;
            if age <= limit {
                reported.remove(&key);
                continue;
            }
            if reported.get(&key) == Some(&since) {
                continue;
            }
            reported.insert(key, since);
            alerts.push(Alert::StaleData {
                store_id: f.store_id,
                store_name: f.store_name.clone(),
                kind: f.kind,
                last_success: f.last_success,
                stale_for_secs: u64::try_from(age.num_seconds()).unwrap_or(0),
                threshold_secs: threshold.as_secs(),
            });
        }
        alerts
    }
}

/// `message` without anything that could be a secret: query strings of URLs
/// (presigned report documents carry signatures there), LWA tokens and client
/// secrets, bearer values; cut to 1,000 characters.
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1_000));
    let mut after_bearer = false;
    for (i, word) in message.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.to_ascii_lowercase();
        if let Some(at) = lower.find("atza|").or_else(|| lower.find("atzr|")) {
            out.push_str(&word[..at]);
            out.push_str("[REDACTED]");
        } else if after_bearer || lower.contains("amzn1.oa2-cs.") {
            out.push_str("[REDACTED]");
        } else if lower.contains("://")
            && let Some(q) = word.find('?')
        {
            out.push_str(&word[..q]);
            out.push_str("?[REDACTED]");
            // Keep a closing bracket that ended the URL in the original text.
            if let Some(close) = word[q..].rfind([')', ']']) {
                out.push_str(&word[q + close..]);
            }
        } else {
            out.push_str(word);
        }
        after_bearer = lower == "bearer";
    }
    if out.chars().count() > 1_000 {
        out = out.chars().take(1_000).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_removes_signed_urls_tokens_and_client_secrets() {
        let message = "downloading: error sending request for url (https://s3.example/doc?X-Amz-Signature=abc&X-Amz-Credential=k): \
                       refused Atza|IwEBIAbc123 and Atzr|xyz with amzn1.oa2-cs.v1.secret, Bearer eyJhbGc";
        let redacted = redact(message);
        for secret in [
            "abc",
            "X-Amz-Credential",
            "IwEBI",
            "Atzr|xyz",
            "oa2-cs",
            "eyJhbGc",
        ] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
        assert!(
            redacted.contains("https://s3.example/doc?[REDACTED])"),
            "{redacted}"
        );
        assert!(redacted.starts_with("downloading: error sending request"));
    }

    #[test]
    fn long_messages_are_cut() {
        assert_eq!(redact(&"x".repeat(5_000)).chars().count(), 1_001);
    }
}
