use amzsync_test_support::TestDb;

use crate::Cli;

const ADD: &[&str] = &[
    "stores",
    "add",
    "--user",
    "ann",
    "--name",
    "Ann US",
    "--region",
    "na",
    "--marketplace",
    "US",
    "--marketplace",
    "A2EUQ1WTGCTBG2",
    "--seller-id",
    "AANNSELLER",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    ADD.iter().chain(extra).copied().collect()
}

fn store_count(cli: &Cli) -> usize {
    let list: serde_json::Value = serde_json::from_str(&cli.ok(&["stores", "list", "--json"])).unwrap();
    list.as_array().unwrap().len()
}

#[test]
fn stores_are_added_listed_shown_deactivated_and_removed() {
    let cli = Cli::new();
    cli.ok(&["users", "add", "ann"]);
    let added = cli.run_with_stdin(
        &with(&[
            "--sp-api-refresh-token",
            "-",
            "--advertising-api-refresh-token",
            "-",
        ]),
        "Atzr|sp-secret\nAtzr|ads-secret\n",
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    assert!(added.stdout.contains("added store 1 (Ann US) for ann"));

    let table = cli.ok(&["stores", "list"]);
    assert!(table.contains("AANNSELLER") && table.contains("US,CA"), "{table}");
    let shown = cli.ok(&["stores", "show", "1"]);
    assert!(shown.contains("SP-API refresh token:          set"), "{shown}");
    assert!(shown.contains("Ads API refresh token:         set"), "{shown}");
    let json: serde_json::Value = serde_json::from_str(&cli.ok(&["stores", "show", "1", "--json"])).unwrap();
    assert_eq!(
        json["marketplaces"],
        serde_json::json!(["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"])
    );
    assert_eq!(json["region"], "na");
    for out in [&table, &shown, &json.to_string(), &added.stdout, &added.stderr] {
        assert!(!out.contains("Atzr"), "secrets are never printed: {out}");
    }

    assert!(cli.ok(&["stores", "deactivate", "1"]).contains("is inactive"));
    let json: serde_json::Value = serde_json::from_str(&cli.ok(&["stores", "show", "1", "--json"])).unwrap();
    assert_eq!(json["is_active"], false);
    cli.ok(&["stores", "activate", "1"]);

    cli.run(&["stores", "remove", "1"])
        .fails_with("pass --yes to confirm");
    assert_eq!(store_count(&cli), 1);
    cli.ok(&["stores", "remove", "1", "--yes"]);
    assert_eq!(store_count(&cli), 0);
}

#[test]
fn a_secret_can_come_from_the_environment() {
    let cli = Cli::new().with_env("AMZSYNC_STORE_SP_API_REFRESH_TOKEN", "Atzr|from-env");
    cli.ok(&["users", "add", "ann"]);
    cli.ok(&with(&[]));
    assert_eq!(store_count(&cli), 1);
}

#[test]
fn bad_input_is_one_clear_line_and_writes_nothing() {
    let cli = Cli::new();
    cli.ok(&["users", "add", "ann"]);
    cli.run(&with(&[])).fails_with("missing the SP-API refresh token");
    cli.run_with_stdin(&with(&["--sp-api-refresh-token", "-"]), "")
        .fails_with("no SP-API refresh token on stdin");

    let mut bad_market = with(&["--sp-api-refresh-token", "t"]);
    bad_market[9] = "A1C3SOZ6ARJ6G9"; // the wrong Polish id that circulates
    cli.run(&bad_market)
        .fails_with("\"A1C3SOZ6ARJ6G9\" is not a known Amazon marketplace id");

    let mut wrong_region = with(&["--sp-api-refresh-token", "t"]);
    wrong_region[9] = "DE";
    cli.run(&wrong_region)
        .fails_with("marketplaces: marketplace A1PA6795UKMFR9 (DE) is in region eu");

    let mut bad_region = with(&["--sp-api-refresh-token", "t"]);
    bad_region[7] = "asia";
    cli.run(&bad_region).fails_with("\"asia\" is not a region");

    let mut bad_seller = with(&["--sp-api-refresh-token", "t"]);
    bad_seller[13] = "not-a-seller";
    cli.run(&bad_seller).fails_with("seller_id");

    let mut nobody = with(&["--sp-api-refresh-token", "t"]);
    nobody[3] = "nobody";
    cli.run(&nobody).fails_with("user \"nobody\"");
    assert_eq!(store_count(&cli), 0, "nothing half-written");

    cli.ok(&with(&["--sp-api-refresh-token", "t"]));
    cli.run(&with(&["--sp-api-refresh-token", "t"]))
        .fails_with("already has a store for that seller id in that region");
    assert_eq!(store_count(&cli), 1);

    cli.run(&["stores", "show", "7"])
        .fails_with("store 7: store not found");
    cli.run(&["stores", "show", "seven"])
        .fails_with("\"seven\" is not a valid store id");
    cli.run(&["stores", "deactivate", "7"])
        .fails_with("store not found");
    cli.run(&["stores", "remove", "7", "--yes"])
        .fails_with("store not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_commands_work_on_postgresql() {
    let db = TestDb::postgres().await;
    let url = db.url();
    let result = tokio::task::spawn_blocking(move || {
        let cli = Cli::new().with_env("AMZSYNC_DATABASE_URL", &url).with_env(
            "AMZSYNC_ENCRYPTION_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        );
        assert_eq!(cli.ok(&["migrate"]).trim(), "PostgreSQL database is up to date");
        cli.ok(&["users", "add", "ann"]);
        cli.ok(&with(&["--sp-api-refresh-token", "t"]));
        assert_eq!(store_count(&cli), 1);
        assert!(!cli.data_dir().exists(), "no embedded files with PostgreSQL");

        let keyless = Cli::new().with_env("AMZSYNC_DATABASE_URL", &url);
        keyless.run(&["stores", "list"]).fails_with("encryption_key");
    })
    .await;
    result.unwrap();
    let stores = db.stores().list(amzsync_db::Scope::All).await.unwrap();
    assert_eq!(stores.len(), 1);
    assert_eq!(stores[0].seller_id, "AANNSELLER");
}

#[test]
fn a_store_s_lookbacks_are_set_on_add_changed_reset_and_bounded() {
    let cli = Cli::new();
    cli.ok(&["users", "add", "ann"]);
    cli.ok(&with(&[
        "--sp-api-refresh-token",
        "t",
        "--business-lookback-days",
        "10",
    ]));
    let shown = cli.ok(&["stores", "show", "1"]);
    assert!(
        shown.contains("business lookback:             10 days"),
        "{shown}"
    );
    assert!(
        shown.contains("advertising lookback:          default"),
        "{shown}"
    );

    let changed = cli.ok(&[
        "stores",
        "update",
        "1",
        "--business-lookback-days",
        "default",
        "--ads-lookback-days",
        "30",
    ]);
    assert!(
        changed.contains("business lookback default, advertising lookback 30 days"),
        "{changed}"
    );
    let json: serde_json::Value = serde_json::from_str(&cli.ok(&["stores", "show", "1", "--json"])).unwrap();
    assert_eq!(
        (&json["business_lookback_days"], &json["ads_lookback_days"]),
        (&serde_json::Value::Null, &serde_json::json!(30))
    );

    cli.run(&["stores", "update", "1", "--ads-lookback-days", "61"])
        .fails_with("ads_lookback_days: 61 days is outside 1..=60");
    cli.run(&["stores", "update", "1", "--ads-lookback-days", "a week"])
        .fails_with("neither a number of days nor `default`");
    cli.run(&["stores", "update", "1"])
        .fails_with("nothing to change");
    cli.run(&["stores", "update", "9", "--ads-lookback-days", "7"])
        .fails_with("updating store 9: store not found");
    let json: serde_json::Value = serde_json::from_str(&cli.ok(&["stores", "show", "1", "--json"])).unwrap();
    assert_eq!(json["ads_lookback_days"], 30, "a refused change writes nothing");
}
