use crate::Cli;

#[test]
fn migrate_creates_the_embedded_database_and_a_private_key() {
    let cli = Cli::new();
    assert_eq!(cli.ok(&["migrate"]).trim(), "SQLite database is up to date");
    assert!(cli.data_dir().join("amzsync.db").is_file());
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(cli.data_dir().join("encryption.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        cli.ok(&["migrate"]).trim(),
        "SQLite database is up to date",
        "idempotent"
    );
}

#[test]
fn users_are_added_and_listed() {
    let cli = Cli::new();
    assert!(
        cli.ok(&["users", "add", "ann", "--admin"])
            .contains("added user ann (id 1, admin)")
    );
    cli.ok(&["users", "add", "bob"]);
    let list: serde_json::Value = serde_json::from_str(&cli.ok(&["users", "list", "--json"])).unwrap();
    assert_eq!(list[0]["name"], "ann");
    assert_eq!(list[0]["is_admin"], true);
    assert_eq!(list[1]["name"], "bob");
    assert!(cli.ok(&["users", "list"]).contains("bob"));
    cli.run(&["users", "add", "ann"])
        .fails_with("a user with that name already exists");
    cli.run(&["users", "add", " "])
        .fails_with("name: a user name is 1 to 64 printable characters");
}

#[test]
fn a_token_is_printed_once_alone_on_the_last_line() {
    let cli = Cli::new();
    cli.ok(&["users", "add", "ann"]);
    let out = cli.ok(&["tokens", "create", "--user", "ann", "--name", "ci"]);
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("amzs_") && !last.contains(' '), "{out:?}");
    assert_eq!(out.trim(), last, "nothing else on stdout");

    let listed = cli.ok(&["tokens", "list", "--user", "ann", "--json"]);
    assert!(!listed.contains(last), "tokens are never shown again");
    let tokens: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(tokens[0]["name"], "ci");
    assert!(tokens[0]["revoked_at"].is_null());

    cli.ok(&["tokens", "revoke", "1"]);
    let tokens: serde_json::Value =
        serde_json::from_str(&cli.ok(&["tokens", "list", "--user", "ann", "--json"])).unwrap();
    assert!(!tokens[0]["revoked_at"].is_null());

    cli.run(&["tokens", "create", "--user", "nobody"])
        .fails_with("user \"nobody\": user not found");
    cli.run(&["tokens", "revoke", "42"]).fails_with("token 42");
}

#[test]
fn a_bad_configuration_value_stops_start_up_naming_the_key() {
    let cli = Cli::new().with_env("AMZSYNC_DATABASE_MAX_CONNECTIONS", "lots");
    cli.run(&["migrate"]).fails_with("DATABASE_MAX_CONNECTIONS");
    let cli = Cli::new().with_env("AMZSYNC_DATABASE_URL", "mysql://localhost/x");
    cli.run(&["migrate"]).fails_with("database_url");
    let cli = Cli::new();
    cli.run(&["--config", "missing.toml", "migrate"])
        .fails_with("missing.toml");
    assert!(!cli.data_dir().exists(), "nothing is created when start-up fails");
}

#[test]
fn the_demo_syncs_all_three_kinds_from_the_simulator_and_can_run_again() {
    let cli = Cli::new();
    let out = cli.ok(&["demo", "--no-serve", "--skus", "5"]);
    assert!(out.contains("demo store 1: Demo store (US, CA)"), "{out}");
    for kind in ["inventory", "business", "advertising"] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(kind) && l.contains("rows  ("))
            .unwrap_or_else(|| panic!("no summary line for {kind}: {out}"));
        assert!(line.ends_with("(success)"), "{line}");
        let rows: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(rows > 0, "{kind} landed rows: {line}");
    }
    // Again: the same store, new simulator credentials, another round of syncs.
    let again = cli.ok(&["demo", "--no-serve", "--skus", "5"]);
    assert!(
        again.contains("demo store 1:") && !again.contains("demo store 2:"),
        "{again}"
    );
    assert!(again.contains("(success)"), "{again}");
}

/// The distributed set-up in one test: data in PostgreSQL, the queue, the
/// shared usage plans and the shared access tokens in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_on_postgresql_with_the_queue_and_limits_on_redis() {
    let db = amzsync_test_support::TestDb::postgres().await;
    let url = db.url();
    let redis = amzsync_test_support::RedisNamespace::new("demo");
    let ns = redis.name().to_owned();
    let redis_url = redis.url().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let cli = Cli::new()
            .with_env("AMZSYNC_DATABASE_URL", &url)
            .with_env(
                "AMZSYNC_ENCRYPTION_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            )
            .with_env("AMZSYNC_QUEUE", "redis")
            .with_env("AMZSYNC_REDIS_URL", &redis_url)
            .with_env("AMZSYNC_REDIS_NAMESPACE", &ns);
        cli.run(&["demo", "--no-serve", "--skus", "3"])
    })
    .await
    .unwrap();
    drop(redis); // empties the namespace, and would on a failed assertion too
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.lines().filter(|l| l.ends_with("(success)")).count() == 3,
        "{}",
        out.stdout
    );
    let tasks = db
        .sync_tasks()
        .list(
            amzsync_db::Scope::All,
            &amzsync_db::SyncTaskFilter::default(),
            1,
            10,
        )
        .await
        .unwrap();
    assert_eq!(tasks.total, 3, "the tasks live in PostgreSQL");
}
