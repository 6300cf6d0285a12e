//! `amzsync config …`: the configuration reference and the effective configuration.

use std::path::Path;

use clap::Subcommand;

use crate::config::{Config, reference};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration reference: every key with its environment
    /// variable, default and meaning, as a Markdown table.
    Reference,
    /// Print the effective configuration (defaults, then the file, then the
    /// environment) as JSON, secrets and URL credentials redacted.
    Show,
}

impl ConfigCommand {
    /// `file` is `--config`; the reference needs no configuration at all.
    pub fn run(self, file: Option<&Path>) -> anyhow::Result<()> {
        match self {
            ConfigCommand::Reference => print!("{}", reference::markdown()),
            ConfigCommand::Show => {
                let mut shown = Config::load(file)?;
                // Secret keys serialize as "[redacted]"; URLs may carry credentials too.
                for url in [&mut shown.database_url, &mut shown.redis_url]
                    .into_iter()
                    .flatten()
                {
                    *url = redact_credentials(url);
                }
                if let Some(url) = &mut shown.sync.alert_webhook_url {
                    *url = redact_path(url);
                }
                println!("{}", serde_json::to_string_pretty(&shown)?);
            }
        }
        Ok(())
    }
}

const REDACTED: &str = "[redacted]";
/// The same inside a URL, where brackets would be percent-encoded.
const IN_URL: &str = "redacted";

/// A database or Redis URL without its password, in the user part or the query.
fn redact_credentials(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        return REDACTED.to_owned();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some(IN_URL));
    }
    if url.query_pairs().any(|(name, _)| is_password(&name)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_password(&name) {
                    IN_URL.into()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

fn is_password(name: &str) -> bool {
    name.to_ascii_lowercase().contains("password")
}

/// A webhook URL's path and query are often its token: only where it goes is shown.
fn redact_path(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(url) if url.has_host() => format!("{}/{REDACTED}", url.origin().ascii_serialization()),
        _ => REDACTED.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_credentials("postgres://amzsync:s3cret@db.internal:5432/amzsync?sslmode=require"),
            "postgres://amzsync:redacted@db.internal:5432/amzsync?sslmode=require"
        );
        let shown = redact_credentials("postgres://amzsync@db/amzsync?password=s3cret&sslmode=require");
        assert!(
            !shown.contains("s3cret") && shown.contains("sslmode=require"),
            "{shown}"
        );
        assert_eq!(
            redact_credentials("redis://:s3cret@redis.internal:6379"),
            "redis://:redacted@redis.internal:6379"
        );
        assert_eq!(
            redact_credentials("sqlite:data/amzsync.db"),
            "sqlite:data/amzsync.db"
        );
        assert_eq!(
            redact_path("https://hooks.example.com/services/T000/B000/s3cret?x=1"),
            "https://hooks.example.com/[redacted]"
        );
    }
}
