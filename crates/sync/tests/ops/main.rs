//! Shared limits (FR-8), archival (FR-9), alerts and metrics (FR-10) against
//! real Redis, SQLite and PostgreSQL. Needs PostgreSQL on 127.0.0.1:5432 and
//! Redis on 127.0.0.1:6379 (`scripts/services.sh`). Every Redis test works
//! under a namespace of its own and deletes it at the end.

mod support;

mod alerts;
mod archival;
mod redis_limiter;
mod redis_tokens;
mod telemetry;
