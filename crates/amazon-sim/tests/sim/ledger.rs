//! `GET_LEDGER_SUMMARY_VIEW_DATA` daily by country (PROTOCOL.md §4.2.1).

use std::collections::HashMap;

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{LEDGER, SELLER, TestSim, US, example, example_text, sp_error};

fn ledger_request(start: &str, end: &str) -> Value {
    let mut request = example("spapi_create_report_request_ledger_daily.json");
    request["dataStartTime"] = json!(format!("{start}T00:00:00Z"));
    request["dataEndTime"] = json!(format!("{end}T23:59:59Z"));
    request
}

/// Splits a quoted TSV line, asserting every field is quoted; `""` is a quote.
fn fields(line: &str) -> Vec<String> {
    line.split('\t')
        .map(|f| {
            let inner = f
                .strip_prefix('"')
                .and_then(|f| f.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{f} is not double-quoted"));
            inner.replace("\"\"", "\"")
        })
        .collect()
}

#[tokio::test]
async fn a_daily_ledger_is_quoted_tsv_whose_balances_add_up_and_follow_the_inventory() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    assert_eq!(
        ledger_request("2024-05-01", "2024-05-01"),
        example("spapi_create_report_request_ledger_daily.json")
    );

    let report_id = t
        .create(&token, &ledger_request("2024-04-29", "2024-04-30"))
        .await;
    let (_, report) = t.poll_until_terminal(&token, &report_id).await;
    assert_eq!(report["processingStatus"], "DONE");
    assert_eq!(report["reportType"], LEDGER);
    let (document, content_type, bytes) = t
        .download(&token, report["reportDocumentId"].as_str().unwrap())
        .await;

    assert!(document.get("compressionAlgorithm").is_none());
    assert_eq!(content_type, "text/plain; charset=UTF-8");
    let text = String::from_utf8(bytes).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert_eq!(
        header,
        example_text("ledger_summary_daily.tsv").lines().next().unwrap()
    );
    let columns = fields(header);
    let rows: Vec<HashMap<String, String>> = lines
        .map(|line| columns.iter().cloned().zip(fields(line)).collect())
        .collect();
    let number = |row: &HashMap<String, String>, column: &str| row[column].parse::<i64>().unwrap();
    let movement_columns = &columns[7..18];
    for row in &rows {
        let movements: i64 =
            movement_columns.iter().map(|c| number(row, c)).sum::<i64>() + number(row, "Unknown Events");
        assert_eq!(
            number(row, "Starting Warehouse Balance") + movements,
            number(row, "Ending Warehouse Balance"),
            "{row:?}"
        );
        assert!(number(row, "Customer Shipments") <= 0);
        assert_eq!(row["Location"], "US");
        assert_eq!(row["Store"], "");
    }
    let day = |date: &str, disposition: &str| -> HashMap<String, i64> {
        rows.iter()
            .filter(|r| r["Date"] == date && r["Disposition"] == disposition)
            .map(|r| (r["MSKU"].clone(), number(r, "Ending Warehouse Balance")))
            .collect()
    };
    let first_end = day("04/29/2024", "SELLABLE");
    let second_start: HashMap<String, i64> = rows
        .iter()
        .filter(|r| r["Date"] == "04/30/2024" && r["Disposition"] == "SELLABLE")
        .map(|r| (r["MSKU"].clone(), number(r, "Starting Warehouse Balance")))
        .collect();
    assert_eq!(first_end.len(), 12);
    assert_eq!(
        first_end, second_start,
        "one day's ending is the next day's start"
    );
    // The ending balance is the next day's MYI snapshot (fulfillable + reserved).
    let snapshot = t
        .sim
        .truth()
        .inventory_on(SELLER, US, NaiveDate::from_ymd_opt(2024, 4, 30).unwrap())
        .unwrap();
    for row in &snapshot {
        assert_eq!(
            first_end[&row.sku],
            i64::from(row.afn_fulfillable_quantity + row.afn_reserved_quantity)
        );
    }
    let truth = t
        .sim
        .truth()
        .ledger(SELLER, US, NaiveDate::from_ymd_opt(2024, 4, 29).unwrap())
        .unwrap();
    assert_eq!(
        rows.iter().filter(|r| r["Date"] == "04/29/2024").count(),
        truth.len()
    );
    assert!(
        truth
            .iter()
            .all(|r| r.starting_warehouse_balance + r.movements() == r.ending_warehouse_balance)
    );
}

#[tokio::test]
async fn a_weekly_or_fc_ledger_is_invalid_input() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    for options in [
        json!({ "aggregatedByTimePeriod": "WEEKLY" }),
        json!({ "aggregateByLocation": "FC", "aggregatedByTimePeriod": "DAILY" }),
    ] {
        let mut request = ledger_request("2024-04-29", "2024-04-29");
        request["reportOptions"] = options;

        let response = t.create_report(&token, &request).await;

        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(sp_error(response).await["code"], "InvalidInput");
    }
}

#[tokio::test]
async fn a_monthly_ledger_is_the_default_and_sums_each_calendar_month_of_the_window() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    let mut request = ledger_request("2024-03-30", "2024-04-02");
    request["reportOptions"] = json!({ "aggregateByLocation": "COUNTRY" });

    let id = t.create(&token, &request).await;
    let (_, report) = t.poll_until_terminal(&token, &id).await;
    let (_, _, bytes) = t
        .download(&token, report["reportDocumentId"].as_str().unwrap())
        .await;

    let text = String::from_utf8(bytes).unwrap();
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    let march = t
        .sim
        .truth()
        .ledger_period(SELLER, US, day("2024-03-30"), day("2024-03-31"))
        .unwrap();
    let april = t
        .sim
        .truth()
        .ledger_period(SELLER, US, day("2024-04-01"), day("2024-04-02"))
        .unwrap();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), march.len() + april.len());
    assert!(lines[0].starts_with("\"03/2024\""), "{}", lines[0]);
    assert!(
        lines[march.len()].starts_with("\"04/2024\""),
        "{}",
        lines[march.len()]
    );
    // A month runs from its first day's opening stock to its last day's closing.
    let first_day = t.sim.truth().ledger(SELLER, US, day("2024-04-01")).unwrap();
    let second_day = t.sim.truth().ledger(SELLER, US, day("2024-04-02")).unwrap();
    let (sum, one, two) = (&april[0], &first_day[0], &second_day[0]);
    assert_eq!(sum.starting_warehouse_balance, one.starting_warehouse_balance);
    assert_eq!(sum.ending_warehouse_balance, two.ending_warehouse_balance);
    assert_eq!(
        sum.customer_shipments,
        one.customer_shipments + two.customer_shipments
    );
    assert!(
        april
            .iter()
            .chain(&march)
            .all(|r| r.starting_warehouse_balance + r.movements() == r.ending_warehouse_balance)
    );
    let fields: Vec<&str> = lines[march.len()].split('\t').collect();
    assert_eq!(fields[9], format!("\"{}\"", sum.customer_shipments));
}
