//! `amzsync stores …`. Secrets come from flags, the environment, or stdin
//! (a flag value of `-`), and are never printed.

use std::io::BufRead as _;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use secrecy::SecretString;

use amzsync_db::{Db, Error, NewStore, Scope, Store, StoreUpdate};
use amzsync_domain::{Marketplace, Region, StoreId};

#[derive(Debug, Subcommand)]
pub enum StoresCommand {
    /// Add a store (a seller account in one region).
    Add(AddArgs),
    /// List stores.
    List {
        /// Only this user's stores.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one store (never its secrets).
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a store's settings (options left out stay as they are).
    Update(UpdateArgs),
    /// Stop scheduled syncs for a store.
    Deactivate { id: String },
    /// Resume scheduled syncs for a store.
    Activate { id: String },
    /// Delete a store with all its tasks and data.
    Remove {
        id: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The user who owns the store.
    #[arg(long)]
    user: String,
    /// A name for people.
    #[arg(long = "name")]
    store_name: String,
    /// na, eu or fe.
    #[arg(long)]
    region: String,
    /// Marketplace id or country code; repeat for more; the first is the primary one.
    #[arg(long = "marketplace", required = true)]
    marketplaces: Vec<String>,
    /// The selling partner id (merchant token).
    #[arg(long)]
    seller_id: String,
    /// SP-API refresh token (`-` reads a line from stdin).
    #[arg(long, env = "AMZSYNC_STORE_SP_API_REFRESH_TOKEN", hide_env_values = true)]
    sp_api_refresh_token: Option<String>,
    /// Ads API refresh token, if the store advertises (`-` reads a line from stdin).
    #[arg(
        long,
        env = "AMZSYNC_STORE_ADVERTISING_API_REFRESH_TOKEN",
        hide_env_values = true
    )]
    advertising_api_refresh_token: Option<String>,
    /// The store's own LWA client id (default: the global one).
    #[arg(long)]
    sp_api_client_id: Option<String>,
    /// The store's own LWA client secret (`-` reads a line from stdin).
    #[arg(long, env = "AMZSYNC_STORE_SP_API_CLIENT_SECRET", hide_env_values = true)]
    sp_api_client_secret: Option<String>,
    /// Days a later business sync re-pulls, 1 to 60 (default: sync.business_lookback_days).
    #[arg(long, value_name = "DAYS")]
    business_lookback_days: Option<u32>,
    /// Days a later advertising sync re-pulls, 1 to 60 (default: sync.ads_lookback_days).
    #[arg(long, value_name = "DAYS")]
    ads_lookback_days: Option<u32>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    id: String,
    /// Days a later business sync re-pulls, 1 to 60, or `default` for sync.business_lookback_days.
    #[arg(long, value_name = "DAYS|default", value_parser = lookback)]
    business_lookback_days: Option<Lookback>,
    /// Days a later advertising sync re-pulls, 1 to 60, or `default` for sync.ads_lookback_days.
    #[arg(long, value_name = "DAYS|default", value_parser = lookback)]
    ads_lookback_days: Option<Lookback>,
}

/// A lookback flag's value: days, or `None` for the configured default.
#[derive(Debug, Clone, Copy)]
struct Lookback(Option<u32>);

fn lookback(value: &str) -> Result<Lookback, String> {
    if value.trim().eq_ignore_ascii_case("default") {
        return Ok(Lookback(None));
    }
    value
        .trim()
        .parse::<u32>()
        .map(|d| Lookback(Some(d)))
        .map_err(|_| format!("{value:?} is neither a number of days nor `default`"))
}

/// Turns a `-` into the next line of stdin. Secrets given as `-` are read in
/// the order: SP-API token, Ads token, client secret.
fn secret(
    value: Option<String>,
    what: &str,
    stdin: &mut impl FnMut() -> anyhow::Result<String>,
) -> anyhow::Result<Option<SecretString>> {
    match value.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => bail!("{what} is empty"),
        Some("-") => {
            let line = stdin().with_context(|| format!("reading the {what} from stdin"))?;
            if line.is_empty() {
                bail!("no {what} on stdin");
            }
            Ok(Some(SecretString::from(line)))
        }
        Some(v) => Ok(Some(SecretString::from(v.to_owned()))),
    }
}

fn read_stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

fn parse_id(id: &str) -> anyhow::Result<StoreId> {
    Ok(id.parse::<StoreId>()?)
}

/// The store a command names, or an error naming it.
async fn find(db: &Db, id: &str) -> anyhow::Result<Store> {
    let id = parse_id(id)?;
    db.stores()
        .get(Scope::All, id)
        .await
        .map_err(explain)
        .with_context(|| format!("store {id}"))
}

/// A data-layer error in words for the person at the terminal.
pub fn explain(e: Error) -> anyhow::Error {
    match e {
        Error::Conflict {
            constraint: "amazon_stores_seller_region_key",
        } => {
            anyhow::anyhow!("this user already has a store for that seller id in that region")
        }
        Error::Conflict {
            constraint: "users_name_key",
        } => anyhow::anyhow!("a user with that name already exists"),
        other => other.into(),
    }
}

impl StoresCommand {
    pub async fn run(self, db: &Db) -> anyhow::Result<()> {
        match self {
            StoresCommand::Add(args) => add(db, args).await,
            StoresCommand::List { user, json } => {
                let scope = match user {
                    Some(name) => Scope::Owner(
                        db.users()
                            .by_name(&name)
                            .await
                            .map_err(explain)
                            .with_context(|| format!("user {name:?}"))?
                            .id,
                    ),
                    None => Scope::All,
                };
                let stores = db.stores().list(scope).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&stores)?);
                } else {
                    print_table(&stores);
                }
                Ok(())
            }
            StoresCommand::Show { id, json } => {
                let store = find(db, &id).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&store)?);
                } else {
                    print_store(&store);
                }
                Ok(())
            }
            StoresCommand::Update(args) => update(db, args).await,
            StoresCommand::Deactivate { id } => set_active(db, &id, false).await,
            StoresCommand::Activate { id } => set_active(db, &id, true).await,
            StoresCommand::Remove { id, yes } => {
                let store = find(db, &id).await?;
                let id = store.id;
                if !yes {
                    bail!(
                        "removing store {id} ({}) deletes all its tasks and data; pass --yes to confirm",
                        store.store_name
                    );
                }
                db.stores().delete(Scope::All, id).await.map_err(explain)?;
                println!("removed store {id} ({})", store.store_name);
                Ok(())
            }
        }
    }
}

async fn set_active(db: &Db, id: &str, active: bool) -> anyhow::Result<()> {
    let id = parse_id(id)?;
    let store = db
        .stores()
        .set_active(Scope::All, id, active)
        .await
        .map_err(explain)
        .with_context(|| format!("store {id}"))?;
    println!(
        "store {} ({}) is {}",
        store.id,
        store.store_name,
        if active { "active" } else { "inactive" }
    );
    Ok(())
}

async fn update(db: &Db, args: UpdateArgs) -> anyhow::Result<()> {
    let id = parse_id(&args.id)?;
    if args.business_lookback_days.is_none() && args.ads_lookback_days.is_none() {
        bail!("nothing to change: pass --business-lookback-days or --ads-lookback-days");
    }
    let change = StoreUpdate {
        business_lookback_days: args.business_lookback_days.map(|l| l.0),
        ads_lookback_days: args.ads_lookback_days.map(|l| l.0),
        ..StoreUpdate::default()
    };
    let store = db
        .stores()
        .update(Scope::All, id, change)
        .await
        .map_err(explain)
        .with_context(|| format!("updating store {id}"))?;
    println!(
        "store {} ({}): business lookback {}, advertising lookback {}",
        store.id,
        store.store_name,
        days(store.business_lookback_days),
        days(store.ads_lookback_days)
    );
    Ok(())
}

/// `7 days`, or `default` for the configured one.
fn days(lookback: Option<u32>) -> String {
    lookback.map_or_else(|| "default".to_owned(), |d| format!("{d} days"))
}

async fn add(db: &Db, args: AddArgs) -> anyhow::Result<()> {
    // Every input is checked before anything is written.
    let region: Region = args.region.parse().context("--region")?;
    let marketplaces = args
        .marketplaces
        .iter()
        .map(|m| m.parse::<Marketplace>().context("--marketplace"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut stdin = read_stdin_line;
    let sp = secret(args.sp_api_refresh_token, "SP-API refresh token", &mut stdin)?.context(
        "missing the SP-API refresh token: pass --sp-api-refresh-token (or `-` to read it from stdin) \
         or set AMZSYNC_STORE_SP_API_REFRESH_TOKEN",
    )?;
    let ads = secret(
        args.advertising_api_refresh_token,
        "Ads API refresh token",
        &mut stdin,
    )?;
    let client_secret = secret(args.sp_api_client_secret, "LWA client secret", &mut stdin)?;
    let owner = db
        .users()
        .by_name(&args.user)
        .await
        .map_err(explain)
        .with_context(|| format!("user {:?}", args.user))?;
    let store = db
        .stores()
        .create(NewStore {
            user_id: owner.id,
            store_name: args.store_name,
            region,
            marketplaces,
            seller_id: args.seller_id,
            sp_api_refresh_token: sp,
            advertising_api_refresh_token: ads,
            sp_api_client_id: args.sp_api_client_id,
            sp_api_client_secret: client_secret,
            business_lookback_days: args.business_lookback_days,
            ads_lookback_days: args.ads_lookback_days,
        })
        .await
        .map_err(explain)?;
    println!(
        "added store {} ({}) for {}",
        store.id, store.store_name, owner.name
    );
    Ok(())
}

fn print_table(stores: &[Store]) {
    println!(
        "{:<5} {:<24} {:<6} {:<16} {:<28} {:<8} STATUS",
        "ID", "NAME", "REGION", "SELLER", "MARKETPLACES", "ACTIVE"
    );
    for s in stores {
        let markets: Vec<&str> = s
            .marketplaces
            .iter()
            .map(|m| Marketplace::by_id(m).map_or(m.as_str(), |m| m.country()))
            .collect();
        println!(
            "{:<5} {:<24} {:<6} {:<16} {:<28} {:<8} {}",
            s.id,
            s.store_name,
            s.region.as_str(),
            s.seller_id,
            markets.join(","),
            if s.is_active { "yes" } else { "no" },
            s.sync_status.as_str()
        );
    }
}

fn print_store(s: &Store) {
    let set = |b: bool| if b { "set" } else { "not set" };
    println!("id:                            {}", s.id);
    println!("name:                          {}", s.store_name);
    println!("region:                        {}", s.region);
    println!("seller id:                     {}", s.seller_id);
    println!("marketplaces:                  {}", s.marketplaces.join(", "));
    println!(
        "active:                        {}",
        if s.is_active { "yes" } else { "no" }
    );
    println!("sync status:                   {}", s.sync_status.as_str());
    println!(
        "last sync:                     {}",
        s.last_sync_at
            .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339())
    );
    if let Some(e) = &s.last_sync_error {
        println!("last error:                    {e}");
    }
    println!(
        "SP-API refresh token:          {}",
        set(s.has_sp_api_refresh_token)
    );
    println!(
        "Ads API refresh token:         {}",
        set(s.has_advertising_api_refresh_token)
    );
    println!(
        "LWA client:                    {}",
        s.sp_api_client_id.as_deref().unwrap_or("global")
    );
    println!(
        "business lookback:             {}",
        days(s.business_lookback_days)
    );
    println!("advertising lookback:          {}", days(s.ads_lookback_days));
    println!("created:                       {}", s.created_at.to_rfc3339());
}
