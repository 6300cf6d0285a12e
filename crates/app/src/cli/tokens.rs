//! `amzsync tokens …`: API tokens are shown once, at creation.

use anyhow::Context;
use clap::Subcommand;
use secrecy::ExposeSecret;

use amzsync_db::Db;

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token for a user; it is printed once, alone on the last line.
    Create {
        #[arg(long)]
        user: String,
        /// What the token is for (shown in listings).
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List a user's tokens (never their values).
    List {
        #[arg(long)]
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id.
    Revoke { id: i64 },
}

impl TokensCommand {
    pub async fn run(self, db: &Db) -> anyhow::Result<()> {
        match self {
            TokensCommand::Create { user, name } => {
                let owner = db
                    .users()
                    .by_name(&user)
                    .await
                    .with_context(|| format!("user {user:?}"))?;
                let (token, secret) = db.tokens().create(owner.id, &name).await?;
                eprintln!(
                    "created token {} for {}; store it now, it is not shown again",
                    token.id, owner.name
                );
                println!("{}", secret.expose_secret());
            }
            TokensCommand::List { user, json } => {
                let owner = db
                    .users()
                    .by_name(&user)
                    .await
                    .with_context(|| format!("user {user:?}"))?;
                let tokens = db.tokens().list(owner.id).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&tokens)?);
                } else {
                    println!(
                        "{:<6} {:<20} {:<17} {:<17} REVOKED",
                        "ID", "NAME", "CREATED", "LAST USED"
                    );
                    let t = |d: Option<chrono::DateTime<chrono::Utc>>| {
                        d.map_or_else(|| "-".to_owned(), |d| d.format("%Y-%m-%d %H:%M").to_string())
                    };
                    for k in tokens {
                        println!(
                            "{:<6} {:<20} {:<17} {:<17} {}",
                            k.id,
                            k.name,
                            t(Some(k.created_at)),
                            t(k.last_used_at),
                            t(k.revoked_at)
                        );
                    }
                }
            }
            TokensCommand::Revoke { id } => {
                db.tokens()
                    .revoke(None, id)
                    .await
                    .with_context(|| format!("token {id}"))?;
                println!("revoked token {id}");
            }
        }
        Ok(())
    }
}
