#!/usr/bin/env bash
# The soak (issue 8): a scheduler and worker processes (the sync bench's own
# binary in those roles, wired as `amzsync scheduler` / `amzsync worker`) on a
# PostgreSQL database and queue, against the simulator, with every clock of
# the processes and the simulator running SPEED times real time, so the
# product's daily schedules come round every minute or so. Every few seconds
# it samples each process's resident memory and open file descriptors and the
# database's PostgreSQL connections, prints them, and ends with a verdict per
# series (flat or growing: the last third of the samples against the first,
# after a warm-up).
#
#   scripts/soak.sh [STORES] [SECONDS] [SPEED]     (defaults 1000, 600, 1440)
#   scripts/soak.sh --short                        (100 stores, 150 s: under 3 minutes once built)
#
# More knobs (environment): SOAK_SKUS (5), SOAK_WORKERS (2),
# SOAK_SAMPLE_SECONDS (5), SOAK_DAYS (2: first-run backfill and lookbacks).
# The driver is the `soak` part of crates/sync/benches/sync.rs (sync/fleet.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--short" ]]; then
  set -- 100 150 1440
fi
scripts/services.sh
export SQLX_OFFLINE=true
export SOAK_STORES="${1:-1000}"
export SOAK_SECONDS="${2:-600}"
export SOAK_SPEED="${3:-1440}"
BENCH_ONLY=soak exec cargo bench -p amzsync-sync --bench sync --locked
