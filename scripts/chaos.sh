#!/usr/bin/env bash
# The chaos suite (issue 8): 3 `amzsync worker` and 2 `amzsync scheduler`
# processes on PostgreSQL and Redis against the simulator with faults on
# (throttling, 5xx, slow and stuck reports, truncated downloads), every clock
# (the simulator's and the processes', `[clock]`) simulated so that the daily
# schedules come round DAYS times, while a driver SIGKILLs a random process
# after every few reports ingested and starts a new one in its place. At the
# end it checks that every task is `success` or `failed` with a reason, that
# every successful (store, kind, day) equals the simulator's ground truth,
# that no tick started two tasks and every tick started one (or was skipped
# because the previous day's was still going), and that no usage plan was
# exceeded; it prints the counts (tasks, kills, retries, faults, rows
# checked, mismatches).
#
# CI runs the short form (6 stores, 2 days at 2,880x) with the rest of the
# tests. This runs the long form:
#   scripts/chaos.sh [STORES] [DAYS] [SEED] [SPEED]     (defaults 50, 3, 7, 1440)
# At 1,440x a simulated day is a real minute. The driver is the test
# `chaos_kills_and_faults_lose_and_duplicate_nothing` in
# crates/app/tests/procs/chaos.rs; a seed replays the same faults and victims.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh
export SQLX_OFFLINE=true
export AMZSYNC_TEST_CHAOS_STORES="${1:-50}"
export AMZSYNC_TEST_CHAOS_DAYS="${2:-3}"
export AMZSYNC_TEST_CHAOS_SEED="${3:-7}"
export AMZSYNC_TEST_CHAOS_SPEED="${4:-1440}"

# cargo test rather than nextest: the long form outlasts nextest's per-test
# time limit, which is right for CI and wrong here.
cargo test -p amzsync --test procs --locked -- --exact --nocapture \
  chaos::chaos_kills_and_faults_lose_and_duplicate_nothing
