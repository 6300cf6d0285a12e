//! Serves the dashboard over a freshly seeded SQLite file, for the browser
//! tests (`e2e/run.sh`) and for a look by hand:
//!
//! ```text
//! cargo run -p amzsync-web --example dashboard-demo -- --db target/e2e/demo.db [--port 0]
//! ```
//!
//! Prints one JSON line, `{"url": ..., "token": ...}`, once it accepts
//! connections, then serves until killed. The sync engine is real, its queue
//! in the same SQLite file, but no worker runs and no Amazon is reached: a
//! "Sync now" or a retry records a pending task and queues its job, which
//! waits there; the seeded tasks and data stand for what workers would have
//! left behind.
//!
//! Seeded: user `demo`; store "Acme US" (US, CA) with 30 days of sales, ads
//! and today's inventory, a successful business and inventory sync and a
//! failed advertising one; store "Acme EU" (DE) marked as needing
//! re-authorization after a revoked grant.

use std::path::PathBuf;

use amzsync_db::{
    AdsMetricRow, BusinessMetricRow, Cipher, Db, InventoryRow, NewSyncTask, SalesTrafficMetrics, Snapshots,
    StoreStatus,
};
use amzsync_domain::{ErrorClass, Marketplace, StoreId, SyncKind, SyncTaskId, Trigger, UserId};
use amzsync_jobs::{Backend, Queue};
use amzsync_sync::{AmazonSettings, Engine, QUEUE, SyncSettings};
use amzsync_web::AppState;
use chrono::{Days, Utc};
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut db_path = PathBuf::from("target/e2e/demo.db");
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => db_path = args.next().ok_or("--db needs a path")?.into(),
            "--port" => port = args.next().ok_or("--port needs a number")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if let Some(dir) = db_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A fresh world every run.
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db_path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    let db = Db::open_sqlite(&db_path, Cipher::new(&Cipher::generate_key())).await?;
    db.migrate().await?;
    let token = seed(&db).await?;
    let pool = db.sqlite_pool().ok_or("an SQLite database")?.clone();
    let queue = Queue::connect(Backend::Sqlite(pool), QUEUE).await?;
    queue.setup().await?;
    let engine = Engine::new(
        db.clone(),
        queue,
        AmazonSettings::default(),
        SyncSettings::default(),
    )?;

    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("{}", serde_json::json!({ "url": url, "token": token }));
    amzsync_web::serve(listener, AppState::new(db, engine), CancellationToken::new()).await?;
    Ok(())
}

async fn seed(db: &Db) -> Result<String, Error> {
    let user = db.users().create("demo", false).await?;
    let (_, token) = db.tokens().create(user.id, "dashboard demo").await?;

    let us = store(db, user.id, "Acme US", "A1DEMOSELLERUS", &["US", "CA"]).await?;
    run_task(db, us, SyncKind::Business, Ok(3 * 30)).await?;
    run_task(db, us, SyncKind::Inventory, Ok(3)).await?;
    run_task(
        db,
        us,
        SyncKind::Advertising,
        Err((ErrorClass::Transient, "Ads API answered 503 three times")),
    )
    .await?;
    data(db, us).await?;

    let eu = store(db, user.id, "Acme EU", "A1DEMOSELLEREU", &["DE"]).await?;
    run_task(
        db,
        eu,
        SyncKind::Inventory,
        Err((
            ErrorClass::Unauthorized,
            "LWA refused the refresh token: invalid_grant",
        )),
    )
    .await?;
    db.stores()
        .set_status(
            eu,
            StoreStatus::NeedsReauth,
            Some("LWA refused the refresh token: invalid_grant"),
        )
        .await?;
    Ok(token.expose_secret().to_owned())
}

async fn store(
    db: &Db,
    user: UserId,
    name: &str,
    seller: &str,
    marketplaces: &[&str],
) -> Result<StoreId, Error> {
    let mut new = amzsync_test_support::new_store(user, seller);
    new.store_name = name.to_owned();
    new.marketplaces = marketplaces
        .iter()
        .map(|m| m.parse::<Marketplace>())
        .collect::<Result<_, _>>()?;
    new.region = new.marketplaces[0].region();
    Ok(db.stores().create(new).await?.id)
}

async fn run_task(
    db: &Db,
    store: StoreId,
    kind: SyncKind,
    outcome: Result<i64, (ErrorClass, &str)>,
) -> Result<(), Error> {
    let now = Utc::now();
    let id = SyncTaskId::new(u64::try_from(now.timestamp_millis())?, rand::random());
    let tasks = db.sync_tasks();
    tasks
        .create(&NewSyncTask {
            id,
            store_id: store,
            kind,
            trigger: Trigger::Scheduled,
            window: None,
        })
        .await?;
    tasks
        .claim(id, "demo-worker", now + chrono::Duration::minutes(5))
        .await?;
    match outcome {
        Ok(records) => tasks.succeed(id, records, 0).await?,
        Err((class, message)) => tasks.fail(id, class, message).await?,
    }
    Ok(())
}

/// 30 days of three SKUs' sales and ads in the US, and today's inventory.
async fn data(db: &Db, store: StoreId) -> Result<(), Error> {
    let us = "ATVPDKIKX0DER".to_owned();
    // The US day, which the store page's window ends on.
    let today = amzsync_sync::plan::today_in(&us, Utc::now());
    let skus = [
        ("ACME-MUG", 14_i64, "Acme mug"),
        ("ACME-TEE", 6, "Acme T-shirt"),
        ("ACME-CAP", 0, "Acme cap"),
    ];
    let mut business = Vec::new();
    let mut ads = Vec::new();
    for back in 0..30u64 {
        let date = today.checked_sub_days(Days::new(back)).ok_or("date underflow")?;
        for (i, (sku, base_units, _)) in skus.iter().enumerate() {
            let units = (base_units + i64::try_from((back * 7 + i as u64 * 3) % 5)?).max(0)
                * i64::from(*base_units > 0);
            let price = Decimal::new(1999 + 500 * i64::try_from(i)?, 2);
            business.push(BusinessMetricRow {
                store_id: store,
                marketplace_id: us.clone(),
                date,
                sku: (*sku).to_owned(),
                asin: None,
                parent_asin: None,
                metrics: SalesTrafficMetrics {
                    currency: "USD".into(),
                    ordered_product_sales: price * Decimal::from(units),
                    ordered_product_sales_b2b: None,
                    units_ordered: units,
                    units_ordered_b2b: None,
                    total_order_items: units,
                    total_order_items_b2b: None,
                    sessions: units * 9,
                    page_views: units * 12,
                    session_percentage: None,
                    page_views_percentage: None,
                    buy_box_percentage: None,
                    unit_session_percentage: None,
                },
            });
            if *base_units > 0 {
                let spend = Decimal::new(1500 + i64::try_from((back * 37) % 900)?, 2);
                ads.push(AdsMetricRow {
                    store_id: store,
                    marketplace_id: us.clone(),
                    date,
                    sku: (*sku).to_owned(),
                    asin: None,
                    currency: "USD".into(),
                    impressions: 1000 + i64::try_from(back)? * 10,
                    clicks: 40,
                    spend,
                    sales_7d: spend * Decimal::new(35 + i64::try_from(back % 10)?, 1),
                    orders_7d: 4,
                    units_7d: 5,
                });
            }
        }
    }
    let inventory: Vec<InventoryRow> = skus
        .iter()
        .enumerate()
        .map(|(i, (sku, _, name))| InventoryRow {
            store_id: store,
            marketplace_id: us.clone(),
            date: today,
            sku: (*sku).to_owned(),
            asin: Some(format!("B0DEMO000{i}")),
            fnsku: None,
            product_name: Some((*name).to_owned()),
            condition: Some("NewItem".into()),
            fulfillable_quantity: [150, 400, 75][i],
            inbound_working_quantity: 0,
            inbound_shipped_quantity: [200, 0, 0][i],
            inbound_receiving_quantity: 0,
            reserved_quantity: [12, 3, 0][i],
            unfulfillable_quantity: 0,
            researching_quantity: 0,
            total_quantity: [362, 403, 75][i],
        })
        .collect();
    let mut tx = db.begin().await?;
    Snapshots::upsert_business(&mut tx, &business).await?;
    Snapshots::upsert_ads(&mut tx, &ads).await?;
    Snapshots::upsert_inventory(&mut tx, &inventory).await?;
    tx.commit().await?;
    Ok(())
}
