//! The REST API over HTTP: the real router on 127.0.0.1:0, a real database per
//! test (SQLite, and PostgreSQL where the engine matters), a real client.

mod admin;
mod auth;
mod contract;
mod data;
mod errors;
mod helpers;
mod isolation;
mod operations;
mod secrets;
mod stores;
mod sync;
mod sync_tasks;
mod verify;
