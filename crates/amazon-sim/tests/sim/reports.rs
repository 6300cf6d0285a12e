//! Reports API lifecycle and documents (PROTOCOL.md §3, §4.1, §4.4).

use std::collections::HashMap;

use amzsync_amazon_sim::{InventoryRow, ReportOutcome, Seller};
use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{DE, MYI, SALES, SELLER, TestSim, US, example, myi_request, sales_request, sp_error};

#[tokio::test]
async fn an_inventory_report_goes_through_the_queue_to_done_and_its_document_is_the_ground_truth() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    let report_id = t.create(&token, &myi_request(US)).await;
    let (statuses, report) = t.poll_until_terminal(&token, &report_id).await;

    assert_eq!(statuses, ["IN_QUEUE", "IN_PROGRESS", "DONE"]);
    assert_eq!(report["reportType"], MYI);
    assert_eq!(report["marketplaceIds"], json!([US]));
    assert!(report["processingStartTime"].is_string());
    assert!(report["processingEndTime"].is_string());
    let document_id = report["reportDocumentId"].as_str().unwrap();
    assert!(document_id.starts_with("amzn1.spdoc.1.4.na."));

    let (document, content_type, bytes) = t.download(&token, document_id).await;
    assert!(
        document.get("compressionAlgorithm").is_none(),
        "MYI files come uncompressed"
    );
    assert!(document["url"].as_str().unwrap().contains("X-Amz-Expires=300"));
    assert_eq!(content_type, "text/plain; charset=UTF-8");
    let text = String::from_utf8(bytes).expect("NA files are UTF-8");
    let rows = parse_tsv(&text, "\n");
    let expected = t.sim.truth().inventory(SELLER, US).unwrap();
    assert_eq!(rows.len(), expected.len());
    assert_eq!(expected.len(), 12);
    for (row, truth) in rows.iter().zip(&expected) {
        assert_inventory_row_matches(row, truth);
    }
}

#[tokio::test]
async fn a_european_inventory_file_is_windows_1252_with_crlf() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    t.sim.set_report_polls(0);

    let report_id = t.create(&token, &myi_request(DE)).await;
    let report = t.get_report(&token, &report_id).await;
    assert_eq!(report["processingStatus"], "DONE");
    assert!(
        report["reportDocumentId"]
            .as_str()
            .unwrap()
            .starts_with("amzn1.spdoc.1.4.eu.")
    );
    let (_, content_type, bytes) = t
        .download(&token, report["reportDocumentId"].as_str().unwrap())
        .await;

    assert_eq!(content_type, "text/plain; charset=Cp1252");
    let text = decode_cp1252(&bytes);
    let rows = parse_tsv(&text, "\r\n");
    let expected = t.sim.truth().inventory(SELLER, DE).unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, truth) in rows.iter().zip(&expected) {
        assert_inventory_row_matches(row, truth);
    }
}

#[tokio::test]
async fn a_japanese_inventory_file_is_shift_jis_with_crlf_and_japanese_titles() {
    let t = TestSim::start().await;
    let jp = "A1VC38T7YXB528";
    let credentials = t
        .sim
        .add_seller(Seller::new("A1JAPANSELLER").marketplace(jp, 8))
        .unwrap();
    let token = {
        let response = t
            .token_response(&credentials.refresh_token, &credentials.client_secret)
            .await;
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    };
    t.sim.set_report_polls(0);

    let report_id = t.create(&token, &myi_request(jp)).await;
    let report = t.get_report(&token, &report_id).await;
    let document_id = report["reportDocumentId"].as_str().unwrap();
    assert!(document_id.starts_with("amzn1.spdoc.1.4.fe."));
    let (_, content_type, bytes) = t.download(&token, document_id).await;

    assert_eq!(content_type, "text/plain; charset=Shift_JIS");
    assert!(String::from_utf8(bytes.clone()).is_err(), "not UTF-8");
    let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!had_errors);
    let rows = parse_tsv(&text, "\r\n");
    let expected = t.sim.truth().inventory("A1JAPANSELLER", jp).unwrap();
    assert_eq!(rows.len(), expected.len());
    for (row, truth) in rows.iter().zip(&expected) {
        assert_inventory_row_matches(row, truth);
    }
    assert!(expected.iter().any(|r| r.product_name.contains('～')));
    assert!(expected.iter().all(|r| !r.product_name.is_ascii()));
}

#[tokio::test]
async fn a_one_day_sales_and_traffic_report_is_gzip_json_equal_to_the_ground_truth() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    let day = NaiveDate::from_ymd_opt(2024, 4, 28).unwrap();

    let report_id = t.create(&token, &sales_request(US, &day.to_string())).await;
    let (_, report) = t.poll_until_terminal(&token, &report_id).await;
    assert_eq!(report["processingStatus"], "DONE");
    let (document, content_type, bytes) = t
        .download(&token, report["reportDocumentId"].as_str().unwrap())
        .await;

    assert_eq!(document["compressionAlgorithm"], "GZIP");
    assert!(content_type.contains("charset=UTF-8"));
    let body: Value = serde_json::from_slice(&bytes).expect("the document is JSON");
    assert_eq!(body["reportSpecification"]["dataStartTime"], day.to_string());
    let truth = t.sim.truth().sales_and_traffic(SELLER, US, day).unwrap();
    let by_date = &body["salesAndTrafficByDate"];
    assert_eq!(by_date.as_array().unwrap().len(), 1);
    assert_eq!(by_date[0]["date"], day.to_string());
    assert_eq!(
        by_date[0]["salesByDate"]["unitsOrdered"],
        truth.totals.units_ordered
    );
    assert_eq!(
        by_date[0]["salesByDate"]["orderedProductSales"],
        json!({ "amount": truth.totals.ordered_product_sales_cents as f64 / 100.0, "currencyCode": "USD" })
    );
    let rows = body["salesAndTrafficByAsin"].as_array().unwrap();
    assert!(!truth.skus.is_empty(), "the seeded day has orders");
    assert_eq!(rows.len(), truth.skus.len());
    for (row, sku) in rows.iter().zip(&truth.skus) {
        assert_eq!(row["sku"], sku.sku.as_str());
        assert_eq!(row["childAsin"], sku.child_asin.as_str());
        assert_eq!(row["parentAsin"], sku.parent_asin.as_str());
        assert_eq!(row["salesByAsin"]["unitsOrdered"], sku.units_ordered);
        assert_eq!(row["salesByAsin"]["totalOrderItems"], sku.total_order_items);
        assert_eq!(
            row["salesByAsin"]["orderedProductSales"]["amount"]
                .as_f64()
                .unwrap(),
            sku.ordered_product_sales_cents as f64 / 100.0
        );
        assert_eq!(row["trafficByAsin"]["sessions"], sku.sessions());
        assert_eq!(row["trafficByAsin"]["pageViews"], sku.page_views());
        assert_eq!(
            row["trafficByAsin"]["buyBoxPercentage"].as_f64().unwrap(),
            sku.buy_box_percentage
        );
    }
    // By-date totals count every SKU; the by-ASIN section only those with orders.
    let units: u32 = truth.skus.iter().map(|s| s.units_ordered).sum();
    assert_eq!(units, truth.totals.units_ordered);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ground_truth_and_another_seed_does_not() {
    let a = TestSim::start().await;
    let b = TestSim::start().await;
    let c = TestSim::with_config(amzsync_amazon_sim::Config {
        seed: 99,
        ..Default::default()
    })
    .await;
    let day = NaiveDate::from_ymd_opt(2024, 4, 28).unwrap();

    let truth = |t: &TestSim| {
        (
            t.sim.truth().inventory(SELLER, US).unwrap(),
            t.sim.truth().sales_and_traffic(SELLER, US, day).unwrap(),
        )
    };

    assert_eq!(truth(&a), truth(&b));
    assert_ne!(truth(&a), truth(&c));
}

#[tokio::test]
async fn sales_and_traffic_more_than_two_years_back_is_cancelled_without_a_document() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    let report_id = t.create(&token, &sales_request(US, "2022-01-01")).await;
    let (statuses, report) = t.poll_until_terminal(&token, &report_id).await;

    assert_eq!(statuses.last().unwrap(), "CANCELLED");
    assert!(report.get("reportDocumentId").is_none());
    assert!(report["processingEndTime"].is_string());
}

#[tokio::test]
async fn a_forced_fatal_report_has_an_error_document() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    t.sim.force_next_report(ReportOutcome::Fatal);

    let report_id = t.create(&token, &myi_request(US)).await;
    let (_, report) = t.poll_until_terminal(&token, &report_id).await;

    assert_eq!(report["processingStatus"], "FATAL");
    let (_, _, bytes) = t
        .download(&token, report["reportDocumentId"].as_str().unwrap())
        .await;
    let error: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(error["errorDetails"].is_string());
}

#[tokio::test]
async fn an_inventory_report_requested_again_within_thirty_minutes_ends_fatal() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    t.sim.set_report_polls(0);

    let first = t.create(&token, &myi_request(US)).await;
    let second = t.create(&token, &myi_request(US)).await;
    t.sim.advance(std::time::Duration::from_secs(31 * 60));
    let third = t.create(&token, &myi_request(US)).await;

    assert_eq!(t.get_report(&token, &first).await["processingStatus"], "DONE");
    assert_eq!(t.get_report(&token, &second).await["processingStatus"], "FATAL");
    assert_eq!(t.get_report(&token, &third).await["processingStatus"], "DONE");
}

#[tokio::test]
async fn a_report_takes_the_number_of_polls_it_was_set_to() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    t.sim.set_report_polls(5);

    let report_id = t.create(&token, &myi_request(US)).await;
    let (statuses, _) = t.poll_until_terminal(&token, &report_id).await;

    assert_eq!(
        statuses,
        [
            "IN_QUEUE",
            "IN_QUEUE",
            "IN_PROGRESS",
            "IN_PROGRESS",
            "IN_PROGRESS",
            "DONE"
        ]
    );
}

#[tokio::test]
async fn a_queued_report_can_be_cancelled_but_a_finished_one_cannot() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    let queued = t.create(&token, &sales_request(US, "2024-04-28")).await;
    t.sim.set_report_polls(0);
    let done = t.create(&token, &sales_request(US, "2024-04-27")).await;
    let path = |id: &str| t.url(&format!("reports/2021-06-30/reports/{id}"));

    let cancelled = t
        .http
        .delete(path(&queued))
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();
    let refused = t
        .http
        .delete(path(&done))
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();

    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(
        t.get_report(&token, &queued).await["processingStatus"],
        "CANCELLED"
    );
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(sp_error(refused).await["code"], "InvalidInput");
}

#[tokio::test]
async fn get_reports_pages_with_a_next_token_that_must_be_sent_alone() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    let mut created = Vec::new();
    for day in [
        "2024-04-21",
        "2024-04-22",
        "2024-04-23",
        "2024-04-24",
        "2024-04-25",
    ] {
        created.push(t.create(&token, &sales_request(US, day)).await);
    }
    t.create(&token, &myi_request(US)).await; // another type: filtered out

    let first = t
        .sp_get(
            &token,
            &format!("reports/2021-06-30/reports?reportTypes={SALES}&pageSize=2"),
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().contains_key("x-amzn-RateLimit-Limit"));
    let first: Value = first.json().await.unwrap();
    let next = first["nextToken"].as_str().expect("more pages follow").to_owned();
    assert!(
        next.contains('+') && next.contains('/') && next.contains('='),
        "{next}"
    );

    let mixed = t
        .http
        .get(t.url("reports/2021-06-30/reports"))
        .query(&[("nextToken", next.as_str()), ("pageSize", "2")])
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(mixed.status(), StatusCode::BAD_REQUEST);

    let mut ids: Vec<String> = ids_of(&first);
    let mut next = Some(next);
    while let Some(token_value) = next {
        let page: Value = t
            .http
            .get(t.url("reports/2021-06-30/reports"))
            .query(&[("nextToken", token_value.as_str())])
            .header("x-amz-access-token", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.extend(ids_of(&page));
        next = page["nextToken"].as_str().map(str::to_owned);
    }

    created.reverse(); // newest first
    assert_eq!(ids, created);
}

#[tokio::test]
async fn get_reports_filters_by_status_marketplace_and_creation_time() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    t.sim.set_report_polls(0);
    let us_done = t.create(&token, &sales_request(US, "2024-04-28")).await;
    t.sim.force_next_report(ReportOutcome::Cancelled);
    t.create(&token, &sales_request(US, "2024-04-27")).await;
    t.sim.advance(std::time::Duration::from_secs(30 * 60));
    let de_done = t.create(&token, &sales_request(DE, "2024-04-28")).await;
    let (t, token) = (&t, &token);
    let list = |query: String| async move {
        let response = t
            .sp_get(token, &format!("reports/2021-06-30/reports?{query}"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        ids_of(&response.json::<Value>().await.unwrap())
    };

    assert_eq!(
        list(format!("reportTypes={SALES}&processingStatuses=DONE")).await,
        [de_done.clone(), us_done.clone()]
    );
    assert_eq!(
        list(format!(
            "reportTypes={SALES}&processingStatuses=DONE&marketplaceIds={US}"
        ))
        .await,
        [us_done]
    );
    assert_eq!(
        list(format!(
            "reportTypes={SALES}&createdSince=2024-05-02T10:15:00%2B00:00"
        ))
        .await,
        [de_done]
    );
    assert_eq!(
        list(format!("reportTypes={SALES}&processingStatuses=CANCELLED,FATAL"))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_report_document_url_expires_after_five_minutes() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    t.sim.set_report_polls(0);
    let report_id = t.create(&token, &myi_request(US)).await;
    let report = t.get_report(&token, &report_id).await;
    let document: Value = t
        .sp_get(
            &token,
            &format!(
                "reports/2021-06-30/documents/{}",
                report["reportDocumentId"].as_str().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = document["url"].as_str().unwrap();

    t.sim.advance(std::time::Duration::from_secs(301));
    let expired = t.http.get(url).send().await.unwrap();

    assert_eq!(expired.status(), StatusCode::FORBIDDEN);
    assert!(
        expired
            .text()
            .await
            .unwrap()
            .contains("<Code>AccessDenied</Code>")
    );
}

#[tokio::test]
async fn unknown_report_types_and_future_windows_are_invalid_input() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    let unknown = t
        .create_report(
            &token,
            &json!({ "reportType": "GET_NOTHING", "marketplaceIds": [US] }),
        )
        .await;
    let future = t.create_report(&token, &sales_request(US, "2030-01-01")).await;

    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(unknown.headers().contains_key("x-amzn-RateLimit-Limit"));
    assert_eq!(sp_error(unknown).await["code"], "InvalidInput");
    assert_eq!(future.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn another_sellers_report_looks_missing() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    let report_id = t.create(&token, &myi_request(US)).await;
    let other = t
        .sim
        .add_seller(amzsync_amazon_sim::Seller::new("A2OTHERSELLER").marketplace(US, 3))
        .unwrap();
    let other_token = {
        let response = t.token_response(&other.refresh_token, &other.client_secret).await;
        response.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    let response = t
        .sp_get(&other_token, &format!("reports/2021-06-30/reports/{report_id}"))
        .await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(sp_error(response).await["code"], "NotFound");
}

fn ids_of(page: &Value) -> Vec<String> {
    page["reports"]
        .as_array()
        .expect("reports is an array")
        .iter()
        .map(|r| r["reportId"].as_str().unwrap().to_owned())
        .collect()
}

/// Rows of a header-named TSV, as maps from column name to value.
fn parse_tsv(text: &str, eol: &str) -> Vec<HashMap<String, String>> {
    assert!(text.ends_with(eol));
    let mut lines = text.strip_suffix(eol).unwrap().split(eol);
    let header: Vec<&str> = lines.next().expect("a header line").split('\t').collect();
    assert_eq!(header.len(), 21);
    assert_eq!(header[0], "sku");
    assert_eq!(header[20], "afn-future-supply-buyable");
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), header.len(), "{line}");
            header
                .iter()
                .map(|h| h.to_string())
                .zip(fields.into_iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn assert_inventory_row_matches(row: &HashMap<String, String>, truth: &InventoryRow) {
    let quantity = |name: &str| {
        row[name]
            .parse::<u32>()
            .unwrap_or_else(|_| panic!("{name} is an integer"))
    };
    assert_eq!(row["sku"], truth.sku);
    assert_eq!(row["fnsku"], truth.fnsku);
    assert_eq!(row["asin"], truth.asin);
    assert_eq!(row["product-name"], truth.product_name);
    assert_eq!(row["condition"], truth.condition);
    let price: f64 = row["your-price"].parse().unwrap();
    assert_eq!((price * 100.0).round() as i64, truth.your_price_cents);
    assert_eq!(row["mfn-listing-exists"] == "Yes", truth.mfn_listing_exists);
    assert_eq!(
        row["mfn-fulfillable-quantity"].parse::<u32>().ok(),
        truth.mfn_fulfillable_quantity
    );
    assert_eq!(
        quantity("afn-fulfillable-quantity"),
        truth.afn_fulfillable_quantity
    );
    assert_eq!(quantity("afn-warehouse-quantity"), truth.afn_warehouse_quantity);
    assert_eq!(quantity("afn-total-quantity"), truth.afn_total_quantity);
    assert_eq!(quantity("afn-reserved-quantity"), truth.afn_reserved_quantity);
    assert_eq!(
        quantity("afn-inbound-shipped-quantity"),
        truth.afn_inbound_shipped_quantity
    );
    assert_eq!(
        truth.afn_warehouse_quantity,
        truth.afn_fulfillable_quantity + truth.afn_unsellable_quantity + truth.afn_reserved_quantity
    );
}

/// Windows-1252 → text, written out here independently of the simulator's encoder.
fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x96 => '–',
            0x97 => '—',
            0x80 => '€',
            0x00..=0x7f | 0xa0..=0xff => char::from(b),
            _ => panic!("unexpected byte {b:#x} in the generated names"),
        })
        .collect()
}

#[tokio::test]
async fn report_objects_have_the_fields_of_amazons_examples_at_each_status() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    let report_id = t.create(&token, &myi_request(US)).await;
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };

    for name in [
        "spapi_get_report_in_queue.json",
        "spapi_get_report_in_progress.json",
        "spapi_get_report_done.json",
    ] {
        let report = t.get_report(&token, &report_id).await;
        assert_eq!(keys(&report), keys(&example(name)), "{name}");
    }
}

#[tokio::test]
async fn a_create_report_without_a_json_content_type_is_415() {
    let t = TestSim::start().await;
    let token = t.access_token().await;

    let response = t
        .http
        .post(t.url("reports/2021-06-30/reports"))
        .header("x-amz-access-token", &token)
        .header("content-type", "text/plain")
        .body(myi_request(US).to_string())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_report_for_a_marketplace_the_seller_does_not_sell_in_is_cancelled() {
    let t = TestSim::start().await;
    let token = t.access_token().await;
    t.sim.set_report_polls(0);

    let report_id = t.create(&token, &myi_request("A1VC38T7YXB528")).await;

    assert_eq!(
        t.get_report(&token, &report_id).await["processingStatus"],
        "CANCELLED"
    );
}
