//! `amzsync users …`

use clap::Subcommand;

use amzsync_db::Db;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user.
    Add {
        name: String,
        /// May manage users and tokens through the API.
        #[arg(long)]
        admin: bool,
    },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
}

impl UsersCommand {
    pub async fn run(self, db: &Db) -> anyhow::Result<()> {
        match self {
            UsersCommand::Add { name, admin } => {
                let user = db
                    .users()
                    .create(&name, admin)
                    .await
                    .map_err(super::stores::explain)?;
                println!(
                    "added user {} (id {}{})",
                    user.name,
                    user.id,
                    if user.is_admin { ", admin" } else { "" }
                );
            }
            UsersCommand::List { json } => {
                let users = db.users().list().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&users)?);
                } else {
                    println!("{:<6} {:<24} {:<6} CREATED", "ID", "NAME", "ADMIN");
                    for u in users {
                        println!(
                            "{:<6} {:<24} {:<6} {}",
                            u.id,
                            u.name,
                            if u.is_admin { "yes" } else { "no" },
                            u.created_at.format("%Y-%m-%d %H:%M")
                        );
                    }
                }
            }
        }
        Ok(())
    }
}
