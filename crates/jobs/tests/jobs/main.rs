//! The queue facade on real SQLite, PostgreSQL and Redis. Every scenario runs
//! once per backend (`<module>::<backend>::<scenario>`), each in its own world.

mod delivery;
mod orphans;
mod setup;
mod stats;
mod support;
mod ticks;
mod transactions;

/// Declares one test per backend for each scenario `async fn name(Engine)`
/// of the calling module.
macro_rules! on_each_backend {
    ($($scenario:ident),* $(,)?) => {
        on_each_backend!(@backend sqlite, Sqlite, $($scenario),*);
        on_each_backend!(@backend postgres, Postgres, $($scenario),*);
        on_each_backend!(@backend redis, Redis, $($scenario),*);
    };
    (@backend $module:ident, $engine:ident, $($scenario:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(crate::support::Engine::$engine).await;
                }
            )*
        }
    };
}
pub(crate) use on_each_backend;
