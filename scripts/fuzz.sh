#!/usr/bin/env bash
# Runs every `cargo fuzz` target of fuzz/ (the document decoder and the report
# parsers of amzsync-amazon, the API's JSON request bodies) for SECONDS each (default 60), one after another,
# and prints what each did. Not part of CI. Usage: scripts/fuzz.sh [SECONDS]
#
# cargo-fuzz passes nightly-only flags to rustc (-Zsanitizer=address, coverage
# instrumentation); on a stable toolchain RUSTC_BOOTSTRAP=1 lets rustc accept
# them, which is how this runs without nightly. Findings land in
# fuzz/artifacts/<target>/; reproduce one with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>`.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

# Seeds: the example documents, behind the selector byte some targets read first.
seed() {
    local target=$1 prefix=$2 file=$3
    mkdir -p "corpus/$target"
    { printf "$prefix"; cat "$root/testdata/amazon-api/$file"; } >"corpus/$target/seed-$file"
}
seed document_decode '\x00' sales_and_traffic_sku_day.json.gz
seed document_decode '\x0a' fba_myi_unsuppressed_inventory_de_cp1252.tsv
seed document_decode '\x00' ads_sp_advertised_product_daily.json.gz
seed fba_inventory '\x00' fba_myi_unsuppressed_inventory.tsv
seed fba_inventory '\x00' fba_myi_unsuppressed_inventory_de_cp1252.tsv
seed ledger '' ledger_summary_daily.tsv
seed sales_traffic '' sales_and_traffic_sku_day.json
seed ads_report_rows '\x00' ads_sp_advertised_product_daily.json
seed ads_report_rows '\x03' ads_sp_targeting_summary.json
# api_json_bodies: the selector byte picks the body, in the order of
# amzsync_web::fuzzing::Body::ALL.
json_seed() {
    mkdir -p corpus/api_json_bodies
    printf "$1%s" "$2" >"corpus/api_json_bodies/seed-$3"
}
json_seed '\x00' '{"store_name":"s","region":"na","marketplaces":["US","CA"],"seller_id":"A1","sp_api_refresh_token":"Atzr|x","advertising_api_refresh_token":"Atzr|y","sp_api_client_id":"c","sp_api_client_secret":"s","business_lookback_days":7,"ads_lookback_days":14}' create-store
json_seed '\x01' '{"store_name":"t","marketplaces":["ATVPDKIKX0DER"],"is_active":false,"use_global_lwa_client":true,"business_lookback_days":null}' update-store
json_seed '\x02' '{"from":"2026-03-01","to":"2026-03-07"}' sync-dates
json_seed '\x02' '{"days":7}' sync-days
json_seed '\x03' '{"name":"acme","is_admin":true}' create-user
json_seed '\x04' '{"name":"reporting script"}' create-token

cargo fuzz build
mkdir -p logs
failed=()
for target in $(cargo fuzz list); do
    echo "== $target: ${seconds}s"
    log="logs/$target.log"
    if cargo fuzz run "$target" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1; then
        grep -E '^Done [0-9]+ runs' "$log" || tail -n 3 "$log"
    else
        failed+=("$target")
        tail -n 30 "$log"
    fi
done

if ((${#failed[@]})); then
    echo "Findings in: ${failed[*]} (see fuzz/logs/ and fuzz/artifacts/)" >&2
    exit 1
fi
echo "No findings."
