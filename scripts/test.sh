#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test against
# real SQLite, PostgreSQL and Redis (started here if they are down).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

# apalis/sqlx query macros must not look for a database at build time (STACK.md P0);
# .cargo/config.toml sets it too, this covers an overriding environment.
export SQLX_OFFLINE=true
# Incremental artifacts only pay off across edits; a CI build has none.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# insta snapshots are compared, never written: a missing or changed snapshot fails
# the run (accept one locally with `cargo insta review` or INSTA_UPDATE=always).
export INSTA_UPDATE=no
export AMZSYNC_TEST_DATABASE_URL="${AMZSYNC_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo nextest run --workspace --locked
# The API against its own OpenAPI document (schemathesis, installed into a venv
# under target/): no 5xx, every response as documented.
scripts/api-fuzz.sh
# Browser journeys through the dashboard in headless Chromium (installs
# Debian's chromium and playwright-core when missing).
e2e/run.sh
