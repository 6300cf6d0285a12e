#![doc = include_str!("../README.md")]

mod builders;
pub mod proc_stats;
mod redis_namespace;
mod test_db;
pub mod truth;

pub use builders::{create_store, new_store, new_user};
pub use redis_namespace::{RedisNamespace, redis_url};
pub use test_db::TestDb;

/// Runs each named `async fn(TestDb)` once on SQLite and once on PostgreSQL,
/// as two tests: `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::TestDb::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::TestDb::postgres().await).await;
                }
            }
        )+
    };
}
