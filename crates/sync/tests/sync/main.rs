//! The sync engine end to end: the simulator over real HTTP, real SQLite and
//! PostgreSQL databases, and the job queue on SQLite, PostgreSQL and Redis.
//! Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379
//! (`scripts/services.sh`).

mod compare;
mod harness;

mod accuracy;
mod advertising;
mod amazon_calls;
mod business;
mod commits;
mod faults;
mod inventory;
mod ledger;
mod queues;
mod reconciler;
mod scheduler;
mod triggers;
mod verify;
