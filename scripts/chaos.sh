#!/usr/bin/env bash
# The chaos suite (issue 8): 3 `amzsync worker` and 2 `amzsync scheduler`
# processes on PostgreSQL and Redis against the simulator with faults on
# (throttling, 5xx, slow and stuck reports, truncated downloads), while a driver
# SIGKILLs a random process after every few reports ingested and starts a new
# one in its place. At the end it checks that every task is `success` or
# `failed` with a reason, that every successful (store, kind, day) equals the
# simulator's ground truth, that no tick ran twice and that no usage plan was
# exceeded, and prints the counts (tasks, kills, retries, faults, rows checked,
# mismatches).
#
# CI runs the short form (6 stores, at most 30 s of kills) with the rest of the
# tests. This runs the long form:
#   scripts/chaos.sh [STORES] [SECONDS] [SEED]     (defaults 50, 300, 7)
# The driver is the test `chaos_kills_and_faults_lose_and_duplicate_nothing` in
# crates/app/tests/procs/chaos.rs; a seed replays the same faults and victims.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh
export SQLX_OFFLINE=true
export AMZSYNC_TEST_CHAOS_STORES="${1:-50}"
export AMZSYNC_TEST_CHAOS_SECONDS="${2:-300}"
export AMZSYNC_TEST_CHAOS_SEED="${3:-7}"

# cargo test rather than nextest: the long form outlasts nextest's per-test
# time limit, which is right for CI and wrong here.
cargo test -p amzsync --test procs --locked -- --exact --nocapture \
  chaos::chaos_kills_and_faults_lose_and_duplicate_nothing
