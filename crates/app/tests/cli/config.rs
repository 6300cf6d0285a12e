use crate::Cli;

#[test]
fn the_reference_prints_every_key_whatever_the_environment_holds() {
    // A configuration that would stop any other command.
    let cli = Cli::new().with_env("AMZSYNC_QUEUE", "rabbit");
    let table = cli.ok(&["config", "reference"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "| Key | Environment variable | Default | Meaning and checks |"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("| `sync.retries` | `AMZSYNC_SYNC__RETRIES` | `3` | ")),
        "{table}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("| `amazon.lwa_client_secret` | `AMZSYNC_AMAZON__LWA_CLIENT_SECRET` | unset | ")),
        "{table}"
    );
    // The copy in the deployment guide is this table (the unit test that
    // regenerates it compares it with the same function).
    let guide =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/deployment.md")).unwrap();
    assert!(
        guide.contains(&table),
        "docs/deployment.md lacks the table `amzsync config reference` prints"
    );
    cli.run(&["migrate"]).fails_with("rabbit");
}

#[test]
fn show_prints_the_effective_configuration_without_secrets() {
    let key = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
    let cli = Cli::new()
        .with_env("AMZSYNC_ENCRYPTION_KEY", key)
        .with_env(
            "AMZSYNC_DATABASE_URL",
            "postgres://amzsync:db-s3cret@db.internal/amzsync",
        )
        .with_env("AMZSYNC_REDIS_URL", "redis://:redis-s3cret@redis.internal:6379")
        .with_env(
            "AMZSYNC_SYNC__ALERT_WEBHOOK_URL",
            "https://hooks.example.com/services/hook-s3cret",
        )
        .with_env(
            "AMZSYNC_AMAZON__LWA_CLIENT_ID",
            "amzn1.application-oa2-client.abc",
        )
        .with_env("AMZSYNC_AMAZON__LWA_CLIENT_SECRET", "lwa-s3cret")
        .with_env("AMZSYNC_SYNC__RETRIES", "5");
    let shown = cli.ok(&["config", "show"]);
    for secret in [key, "db-s3cret", "redis-s3cret", "hook-s3cret", "lwa-s3cret"] {
        assert!(!shown.contains(secret), "{secret} shown: {shown}");
    }
    let config: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(config["encryption_key"], "[redacted]");
    assert_eq!(config["amazon"]["lwa_client_secret"], "[redacted]");
    assert_eq!(
        config["amazon"]["lwa_client_id"],
        "amzn1.application-oa2-client.abc"
    );
    assert_eq!(
        config["database_url"],
        "postgres://amzsync:redacted@db.internal/amzsync"
    );
    assert_eq!(
        config["sync"]["alert_webhook_url"],
        "https://hooks.example.com/[redacted]"
    );
    assert_eq!(config["sync"]["retries"], 5);
    assert_eq!(config["sync"]["time_zone"], "UTC", "defaults fill the rest");
    assert!(config["clock"].is_null());
    // An invalid configuration is refused as at start-up.
    Cli::new()
        .with_env("AMZSYNC_QUEUE", "rabbit")
        .run(&["config", "show"])
        .fails_with("rabbit");
}
