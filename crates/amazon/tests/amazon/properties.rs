//! Property tests of the document decoder and the parsers: what is written the
//! way Amazon writes it reads back the same (whatever the column order, extra
//! columns, charset or gzip framing), and whatever arrives, nothing panics and
//! every malformed row is counted, not lost.

use std::io::{Read, Write as _};

use amzsync_amazon::ads::report_rows::{self, AdvertisedProductRow, Metrics, SearchTermRow};
use amzsync_amazon::document::{self, Encoded};
use amzsync_amazon::sp::fba_inventory::{self, InventoryRow};
use amzsync_amazon::sp::ledger::{self, LedgerRow};
use amzsync_amazon::sp::sales_traffic::{self, Amount, SalesAndTrafficByAsin, SalesByAsin, TrafficByAsin};
use amzsync_amazon::{DocumentError, Parsed};
use chrono::NaiveDate;
use encoding_rs::{Encoding, SHIFT_JIS, UTF_8, WINDOWS_1252};
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// What a parse handed out, split into rows and skipped lines.
fn split<T>(parsed: Vec<Parsed<T>>) -> (Vec<T>, Vec<amzsync_amazon::RowError>) {
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for p in parsed {
        match p {
            Parsed::Row(r) => rows.push(r),
            Parsed::Skipped(e) => skipped.push(e),
        }
    }
    (rows, skipped)
}

/// A cell of text as Amazon writes it: no tabs or line ends, no surrounding
/// blanks (the parsers trim), quotes and non-ASCII welcome.
fn text_cell() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 \"'.,:;/&()#+-]{0,6}[A-Za-z0-9\"#ü–マ]{1,3}[A-Za-z0-9 \"'#ßマグ-]{0,20}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("not blank", |s| !s.is_empty())
}

fn opt<T: std::fmt::Debug + Clone>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.8, s)
}

fn cents() -> impl Strategy<Value = Decimal> {
    (-1_000_000_000i64..1_000_000_000).prop_map(|c| Decimal::new(c, 2))
}

// ---------------------------------------------------------------- inventory

const MYI_COLUMNS: [&str; 16] = [
    "sku",
    "fnsku",
    "asin",
    "product-name",
    "condition",
    "your-price",
    "afn-fulfillable-quantity",
    "afn-unsellable-quantity",
    "afn-reserved-quantity",
    "afn-inbound-working-quantity",
    "afn-inbound-shipped-quantity",
    "afn-inbound-receiving-quantity",
    "afn-researching-quantity",
    "afn-warehouse-quantity",
    "afn-total-quantity",
    "mfn-fulfillable-quantity",
];

/// Indexes into [`MYI_COLUMNS`] of the columns a file must have.
const MYI_REQUIRED: [usize; 8] = [0, 2, 6, 7, 8, 9, 10, 11];

fn inventory_row() -> impl Strategy<Value = InventoryRow> {
    let texts = (
        text_cell(),
        opt(text_cell()),
        opt("[0-9A-Z]{10}"),
        opt(text_cell()),
        opt(prop::sample::select(vec!["New", "UsedGood", "CollectibleLikeNew"]).prop_map(str::to_owned)),
        opt(cents()),
    );
    let quantities = vec(opt(any::<i64>()), 10);
    (texts, quantities).prop_map(|((sku, fnsku, asin, product_name, condition, your_price), q)| {
        InventoryRow {
            sku,
            fnsku,
            asin,
            product_name,
            condition,
            your_price,
            afn_fulfillable_quantity: q[0],
            afn_unsellable_quantity: q[1],
            afn_reserved_quantity: q[2],
            afn_inbound_working_quantity: q[3],
            afn_inbound_shipped_quantity: q[4],
            afn_inbound_receiving_quantity: q[5],
            afn_researching_quantity: q[6],
            afn_warehouse_quantity: q[7],
            afn_total_quantity: q[8],
            mfn_fulfillable_quantity: q[9],
        }
    })
}

fn inventory_cells(r: &InventoryRow) -> [String; 16] {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        r.sku.clone(),
        s(&r.fnsku),
        s(&r.asin),
        s(&r.product_name),
        s(&r.condition),
        r.your_price.map(|p| p.to_string()).unwrap_or_default(),
        n(r.afn_fulfillable_quantity),
        n(r.afn_unsellable_quantity),
        n(r.afn_reserved_quantity),
        n(r.afn_inbound_working_quantity),
        n(r.afn_inbound_shipped_quantity),
        n(r.afn_inbound_receiving_quantity),
        n(r.afn_researching_quantity),
        n(r.afn_warehouse_quantity),
        n(r.afn_total_quantity),
        n(r.mfn_fulfillable_quantity),
    ]
}

/// The row as read from a file without the optional columns in `absent`.
fn without(mut r: InventoryRow, present: &[usize]) -> InventoryRow {
    let has = |c: usize| present.contains(&c);
    if !has(1) {
        r.fnsku = None;
    }
    if !has(3) {
        r.product_name = None;
    }
    if !has(4) {
        r.condition = None;
    }
    if !has(5) {
        r.your_price = None;
    }
    if !has(12) {
        r.afn_researching_quantity = None;
    }
    if !has(13) {
        r.afn_warehouse_quantity = None;
    }
    if !has(14) {
        r.afn_total_quantity = None;
    }
    if !has(15) {
        r.mfn_fulfillable_quantity = None;
    }
    r
}

/// A file layout: which of our columns, which extra ones, in which order.
#[derive(Debug, Clone)]
struct Layout {
    /// Our column index, or `None` for an extra column.
    order: Vec<Option<usize>>,
    extra_names: Vec<String>,
}

fn layout() -> impl Strategy<Value = Layout> {
    let optional: Vec<usize> = (0..16).filter(|c| !MYI_REQUIRED.contains(c)).collect();
    let n = optional.len();
    (
        subsequence(optional, 0..=n),
        vec("[a-z]{1,8}(-[a-z]{1,8}){0,2}", 0..4),
    )
        .prop_flat_map(|(chosen, extra_names)| {
            let extra_names: Vec<String> = extra_names
                .into_iter()
                .filter(|e| !MYI_COLUMNS.contains(&e.as_str()))
                .collect();
            let mut order: Vec<Option<usize>> = MYI_REQUIRED.iter().copied().map(Some).collect();
            order.extend(chosen.into_iter().map(Some));
            order.extend((0..extra_names.len()).map(|_| None));
            (Just(order).prop_shuffle(), Just(extra_names))
        })
        .prop_map(|(order, extra_names)| Layout { order, extra_names })
}

fn render_inventory(layout: &Layout, rows: &[InventoryRow], extra_value: &str, crlf: bool) -> String {
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut extra = layout.extra_names.iter();
    let header: Vec<String> = layout
        .order
        .iter()
        .map(|c| match c {
            // Header names are matched case-insensitively.
            Some(c) if c % 3 == 0 => MYI_COLUMNS[*c].to_ascii_uppercase(),
            Some(c) => MYI_COLUMNS[*c].to_owned(),
            None => extra.next().cloned().unwrap_or_default(),
        })
        .collect();
    let mut out = header.join("\t") + eol;
    for r in rows {
        let cells = inventory_cells(r);
        let line: Vec<&str> = layout
            .order
            .iter()
            .map(|c| c.map_or(extra_value, |c| cells[c].as_str()))
            .collect();
        out.push_str(&line.join("\t"));
        out.push_str(eol);
    }
    out
}

fn parse_inventory(text: &str) -> Result<Vec<Parsed<InventoryRow>>, DocumentError> {
    fba_inventory::rows(text.as_bytes())?.collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn inventory_rows_read_back_whatever_the_column_order_and_extra_columns(
        layout in layout(),
        rows in vec(inventory_row(), 0..20),
        extra_value in "[^\t\r\n]{0,12}",
        crlf in any::<bool>(),
    ) {
        let present: Vec<usize> = layout.order.iter().flatten().copied().collect();
        let text = render_inventory(&layout, &rows, &extra_value, crlf);
        let parsed = parse_inventory(&text).expect("a well-formed document");
        let (read, skipped) = split(parsed);
        prop_assert!(skipped.is_empty(), "{skipped:?}");
        let expected: Vec<InventoryRow> = rows.into_iter().map(|r| without(r, &present)).collect();
        prop_assert_eq!(read, expected);
    }

    #[test]
    fn a_missing_required_inventory_column_is_named(layout in layout(), drop in 0..MYI_REQUIRED.len()) {
        let dropped = MYI_REQUIRED[drop];
        let layout = Layout {
            order: layout.order.into_iter().filter(|c| *c != Some(dropped)).collect(),
            ..layout
        };
        let text = render_inventory(&layout, &[], "", false);
        match parse_inventory(&text) {
            Err(DocumentError::MissingColumns(missing)) => {
                prop_assert_eq!(missing, vec![MYI_COLUMNS[dropped].to_owned()]);
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn every_inventory_line_is_a_row_or_a_counted_skip(
        lines in vec(vec("[^\t\r\n]{0,8}", 0..20), 0..30),
        crlf in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let header: Vec<&str> = MYI_COLUMNS.to_vec();
        let mut text = header.join("\t") + eol;
        for cells in &lines {
            text.push_str(&cells.join("\t"));
            text.push_str(eol);
        }
        let parsed = parse_inventory(&text).expect("no document error in well-framed text");
        let with_content: Vec<u64> = lines
            .iter()
            .enumerate()
            .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
            .map(|(i, _)| i as u64 + 2)
            .collect();
        prop_assert_eq!(parsed.len(), with_content.len());
        let (_, skipped) = split(parsed);
        for e in &skipped {
            prop_assert!(with_content.contains(&e.line), "{e:?} is not a line with content");
            prop_assert!(!e.reason.is_empty());
        }
    }
}

// ---------------------------------------------------------------- ledger

const LEDGER_COLUMNS: [&str; 21] = [
    "Date",
    "FNSKU",
    "ASIN",
    "MSKU",
    "Title",
    "Disposition",
    "Starting Warehouse Balance",
    "In Transit Between Warehouses",
    "Receipts",
    "Customer Shipments",
    "Customer Returns",
    "Vendor Returns",
    "Warehouse Transfer In/Out",
    "Found",
    "Lost",
    "Damaged",
    "Disposed",
    "Other Events",
    "Ending Warehouse Balance",
    "Unknown Events",
    "Location",
];

fn ledger_row() -> impl Strategy<Value = LedgerRow> {
    let head = (
        (0i64..20_000).prop_map(|d| {
            NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date") + chrono::Duration::days(d)
        }),
        opt("X[0-9A-Z]{9}"),
        opt("[0-9A-Z]{10}"),
        text_cell(),
        opt(text_cell()),
        prop::sample::select(vec!["SELLABLE", "CUSTOMER_DAMAGED", "DEFECTIVE"]).prop_map(str::to_owned),
        opt("[A-Z]{2,4}[0-9]?"),
    );
    let numbers = (any::<i64>(), any::<i64>(), vec(opt(any::<i64>()), 12));
    (head, numbers).prop_map(
        |((date, fnsku, asin, msku, title, disposition, location), (start, end, n))| LedgerRow {
            date,
            fnsku,
            asin,
            msku,
            title,
            disposition,
            starting_warehouse_balance: start,
            in_transit_between_warehouses: n[0],
            receipts: n[1],
            customer_shipments: n[2],
            customer_returns: n[3],
            vendor_returns: n[4],
            warehouse_transfer_in_out: n[5],
            found: n[6],
            lost: n[7],
            damaged: n[8],
            disposed: n[9],
            other_events: n[10],
            ending_warehouse_balance: end,
            unknown_events: n[11],
            location,
        },
    )
}

fn ledger_cells(r: &LedgerRow) -> Vec<String> {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    vec![
        r.date.format("%m/%d/%Y").to_string(),
        s(&r.fnsku),
        s(&r.asin),
        r.msku.clone(),
        s(&r.title),
        r.disposition.clone(),
        r.starting_warehouse_balance.to_string(),
        n(r.in_transit_between_warehouses),
        n(r.receipts),
        n(r.customer_shipments),
        n(r.customer_returns),
        n(r.vendor_returns),
        n(r.warehouse_transfer_in_out),
        n(r.found),
        n(r.lost),
        n(r.damaged),
        n(r.disposed),
        n(r.other_events),
        r.ending_warehouse_balance.to_string(),
        n(r.unknown_events),
        s(&r.location),
    ]
}

fn quoted(cells: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    cells
        .into_iter()
        .map(|c| format!("\"{}\"", c.as_ref().replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join("\t")
}

fn parse_ledger(text: &str) -> Result<Vec<Parsed<LedgerRow>>, DocumentError> {
    ledger::rows(text.as_bytes())?.collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ledger_rows_read_back_in_any_column_order(
        order in Just((0..LEDGER_COLUMNS.len()).collect::<Vec<_>>()).prop_shuffle(),
        rows in vec(ledger_row(), 0..15),
    ) {
        let mut text = quoted(order.iter().map(|&c| LEDGER_COLUMNS[c])) + "\r\n";
        for r in &rows {
            let cells = ledger_cells(r);
            text.push_str(&quoted(order.iter().map(|&c| &cells[c])));
            text.push_str("\r\n");
        }
        let (read, skipped) = split(parse_ledger(&text).expect("a well-formed document"));
        prop_assert!(skipped.is_empty(), "{skipped:?}");
        prop_assert_eq!(read, rows);
    }

    #[test]
    fn every_ledger_line_is_a_row_or_a_counted_skip(
        lines in vec(vec("[^\t\r\n\"]{0,10}", 21), 0..20),
    ) {
        let mut text = quoted(LEDGER_COLUMNS) + "\n";
        for cells in &lines {
            text.push_str(&quoted(cells));
            text.push('\n');
        }
        let parsed = parse_ledger(&text).expect("no document error in well-framed text");
        let with_content = lines
            .iter()
            .filter(|cells| cells.iter().any(|c| !c.trim().is_empty()))
            .count();
        prop_assert_eq!(parsed.len(), with_content);
        for e in split(parsed).1 {
            prop_assert!(e.line >= 2 && e.line <= lines.len() as u64 + 1, "{e:?}");
        }
    }

    #[test]
    fn any_ledger_text_never_panics(body in "\"Date\"\t\"MSKU\"\t\"Disposition\"\t\"Starting Warehouse Balance\"\t\"Ending Warehouse Balance\"\n(\\PC|[\t\n\"])*") {
        if let Ok(rows) = ledger::rows(body.as_bytes()) {
            for _ in rows {}
        }
    }
}

// ---------------------------------------------------------------- Sales & Traffic

/// A decimal written as a JSON number or a decimal string, both as Amazon does.
fn money_json(d: Decimal, as_string: bool) -> Value {
    if as_string {
        Value::String(d.to_string())
    } else {
        serde_json::from_str(&d.to_string()).expect("a decimal is a JSON number")
    }
}

fn amount() -> impl Strategy<Value = Amount> {
    (cents(), "[A-Z]{3}").prop_map(|(amount, currency_code)| Amount {
        amount,
        currency_code,
    })
}

fn percentage() -> impl Strategy<Value = Decimal> {
    (0i64..100_000).prop_map(|c| Decimal::new(c, 2))
}

fn by_asin_item() -> impl Strategy<Value = SalesAndTrafficByAsin> {
    let sales = (
        any::<i64>(),
        opt(any::<i64>()),
        amount(),
        opt(amount()),
        any::<i64>(),
        opt(any::<i64>()),
    )
        .prop_map(
            |(units, units_b2b, sales, sales_b2b, items, items_b2b)| SalesByAsin {
                units_ordered: units,
                units_ordered_b2b: units_b2b,
                ordered_product_sales: sales,
                ordered_product_sales_b2b: sales_b2b,
                total_order_items: items,
                total_order_items_b2b: items_b2b,
            },
        );
    let traffic = (
        any::<i64>(),
        any::<i64>(),
        vec(opt(percentage()), 4),
        opt(any::<i64>()),
        opt(any::<i64>()),
    )
        .prop_map(|(sessions, page_views, p, browser, app)| TrafficByAsin {
            sessions,
            page_views,
            session_percentage: p[0],
            page_views_percentage: p[1],
            buy_box_percentage: p[2],
            unit_session_percentage: p[3],
            browser_sessions: browser,
            mobile_app_sessions: app,
        });
    (text_cell(), opt("B[0-9A-Z]{9}"), opt(text_cell()), sales, traffic).prop_map(
        |(parent_asin, child_asin, sku, sales_by_asin, traffic_by_asin)| SalesAndTrafficByAsin {
            parent_asin,
            child_asin,
            sku,
            sales_by_asin,
            traffic_by_asin,
        },
    )
}

/// Renders an item as Amazon does; `style` picks, field by field, between a
/// JSON number and a string for money, and between absent and `null` for
/// what is missing.
fn item_json(item: &SalesAndTrafficByAsin, style: u64) -> Value {
    let bit = |n: u32| style >> (n % 64) & 1 == 1;
    let mut next = 0;
    let mut flip = || {
        next += 1;
        bit(next)
    };
    let mut out = serde_json::Map::new();
    let put = |out: &mut serde_json::Map<String, Value>, key: &str, v: Option<Value>, null: bool| match v {
        Some(v) => {
            out.insert(key.to_owned(), v);
        }
        None if null => {
            out.insert(key.to_owned(), Value::Null);
        }
        None => {}
    };
    let amount =
        |a: &Amount, s: bool| json!({"amount": money_json(a.amount, s), "currencyCode": a.currency_code});
    let s = &item.sales_by_asin;
    let mut sales = serde_json::Map::new();
    sales.insert("unitsOrdered".into(), json!(s.units_ordered));
    put(
        &mut sales,
        "unitsOrderedB2B",
        s.units_ordered_b2b.map(|v| json!(v)),
        flip(),
    );
    sales.insert(
        "orderedProductSales".into(),
        amount(&s.ordered_product_sales, flip()),
    );
    let b2b = s.ordered_product_sales_b2b.as_ref().map(|a| amount(a, flip()));
    put(&mut sales, "orderedProductSalesB2B", b2b, flip());
    sales.insert("totalOrderItems".into(), json!(s.total_order_items));
    put(
        &mut sales,
        "totalOrderItemsB2B",
        s.total_order_items_b2b.map(|v| json!(v)),
        flip(),
    );
    sales.insert("unknownMetric".into(), json!({"nested": [1, 2.5, "x"]}));

    let t = &item.traffic_by_asin;
    let mut traffic = serde_json::Map::new();
    traffic.insert("sessions".into(), json!(t.sessions));
    traffic.insert("pageViews".into(), json!(t.page_views));
    for (key, value) in [
        ("sessionPercentage", t.session_percentage),
        ("pageViewsPercentage", t.page_views_percentage),
        ("buyBoxPercentage", t.buy_box_percentage),
        ("unitSessionPercentage", t.unit_session_percentage),
    ] {
        let as_string = flip();
        put(&mut traffic, key, value.map(|d| money_json(d, as_string)), flip());
    }
    put(
        &mut traffic,
        "browserSessions",
        t.browser_sessions.map(|v| json!(v)),
        flip(),
    );
    put(
        &mut traffic,
        "mobileAppSessions",
        t.mobile_app_sessions.map(|v| json!(v)),
        flip(),
    );

    out.insert("parentAsin".into(), json!(item.parent_asin));
    put(
        &mut out,
        "childAsin",
        item.child_asin.clone().map(Value::String),
        flip(),
    );
    put(&mut out, "sku", item.sku.clone().map(Value::String), flip());
    out.insert("salesByAsin".into(), Value::Object(sales));
    out.insert("trafficByAsin".into(), Value::Object(traffic));
    Value::Object(out)
}

const SPECIFICATION: &str = r#"{"reportType":"GET_SALES_AND_TRAFFIC_REPORT","reportOptions":{"asinGranularity":"SKU"},"dataStartTime":"2024-05-01","dataEndTime":"2024-05-01","marketplaceIds":["ATVPDKIKX0DER"]}"#;

fn sales_document(items: &[Value], pretty: bool) -> String {
    let items = Value::Array(items.to_vec());
    let items = if pretty {
        serde_json::to_string_pretty(&items)
    } else {
        serde_json::to_string(&items)
    }
    .expect("JSON serializes");
    format!(
        r#"{{"reportSpecification":{SPECIFICATION},"salesAndTrafficByDate":[],"salesAndTrafficByAsin":{items}}}"#
    )
}

/// Anything JSON that is not a by-ASIN item.
fn garbage_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sales_and_traffic_items_read_back(
        items in vec((by_asin_item(), any::<u64>()), 0..20),
        pretty in any::<bool>(),
    ) {
        let values: Vec<Value> = items.iter().map(|(item, style)| item_json(item, *style)).collect();
        let doc = sales_document(&values, pretty);
        let mut parsed = Vec::new();
        let summary = sales_traffic::read(doc.as_bytes(), |p| parsed.push(p)).expect("a well-formed document");
        let (read, skipped) = split(parsed);
        prop_assert!(skipped.is_empty(), "{skipped:?}");
        prop_assert_eq!(summary.by_asin_items, items.len() as u64);
        let expected: Vec<SalesAndTrafficByAsin> = items.into_iter().map(|(item, _)| item).collect();
        prop_assert_eq!(read, expected);
    }

    #[test]
    fn malformed_sales_and_traffic_items_are_counted_at_their_position(
        items in vec(prop_oneof![
            (by_asin_item(), any::<u64>()).prop_map(|(item, style)| (true, item_json(&item, style))),
            garbage_json().prop_map(|v| (false, v)),
        ], 0..20),
    ) {
        let values: Vec<Value> = items.iter().map(|(_, v)| v.clone()).collect();
        let doc = sales_document(&values, false);
        let mut parsed = Vec::new();
        let summary = sales_traffic::read(doc.as_bytes(), |p| parsed.push(p)).expect("a well-formed document");
        prop_assert_eq!(summary.by_asin_items, items.len() as u64);
        prop_assert_eq!(parsed.len(), items.len());
        for (i, (p, (valid, _))) in parsed.iter().zip(&items).enumerate() {
            match p {
                Parsed::Row(_) => prop_assert!(*valid, "item {} is garbage yet read", i + 1),
                Parsed::Skipped(e) => {
                    prop_assert!(!*valid, "item {} is valid yet skipped: {e}", i + 1);
                    prop_assert_eq!(e.line, i as u64 + 1);
                }
            }
        }
    }

    #[test]
    fn any_sales_and_traffic_text_never_panics(body in "(\\PC|[{}\\[\\]\":,0-9])*") {
        let _ = sales_traffic::read(body.as_bytes(), |_| {});
    }
}

// ---------------------------------------------------------------- Ads rows

fn metrics() -> impl Strategy<Value = Metrics> {
    (
        opt((0i64..20_000)
            .prop_map(|d| NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid") + chrono::Duration::days(d))),
        any::<i64>(),
        any::<i64>(),
        cents(),
        any::<i64>(),
        any::<i64>(),
        cents(),
    )
        .prop_map(
            |(date, impressions, clicks, cost, purchases, units, sales)| Metrics {
                date,
                start_date: None,
                end_date: None,
                impressions,
                clicks,
                cost,
                purchases_7d: purchases,
                units_sold_clicks_7d: units,
                sales_7d: sales,
            },
        )
}

fn metrics_json(m: &Metrics, out: &mut serde_json::Map<String, Value>, as_string: bool) {
    if let Some(date) = m.date {
        out.insert("date".into(), json!(date.format("%Y-%m-%d").to_string()));
    }
    out.insert("impressions".into(), json!(m.impressions));
    out.insert("clicks".into(), json!(m.clicks));
    out.insert("cost".into(), money_json(m.cost, as_string));
    out.insert("purchases7d".into(), json!(m.purchases_7d));
    out.insert("unitsSoldClicks7d".into(), json!(m.units_sold_clicks_7d));
    out.insert("sales7d".into(), money_json(m.sales_7d, !as_string));
    out.insert("attributedSalesSameSku14d".into(), json!(1.25));
}

fn advertised_product_row() -> impl Strategy<Value = AdvertisedProductRow> {
    (
        any::<i64>(),
        any::<i64>(),
        opt(any::<i64>()),
        text_cell(),
        opt("B[0-9A-Z]{9}"),
        opt("[A-Z]{3}"),
        metrics(),
    )
        .prop_map(
            |(campaign_id, ad_group_id, ad_id, sku, asin, currency, metrics)| AdvertisedProductRow {
                campaign_id,
                ad_group_id,
                ad_id,
                advertised_sku: sku,
                advertised_asin: asin,
                campaign_budget_currency_code: currency,
                metrics,
            },
        )
}

fn advertised_product_json(r: &AdvertisedProductRow, as_string: bool) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("campaignId".into(), json!(r.campaign_id));
    out.insert("adGroupId".into(), json!(r.ad_group_id));
    out.insert("adId".into(), json!(r.ad_id));
    out.insert("advertisedSku".into(), json!(r.advertised_sku));
    out.insert("advertisedAsin".into(), json!(r.advertised_asin));
    out.insert(
        "campaignBudgetCurrencyCode".into(),
        json!(r.campaign_budget_currency_code),
    );
    metrics_json(&r.metrics, &mut out, as_string);
    Value::Object(out)
}

fn read_ads<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(u64, Vec<Parsed<T>>), DocumentError> {
    let mut parsed = Vec::new();
    let text = document::decode(body, &Encoded::default())?;
    let count = report_rows::read(text, |p| parsed.push(p))?;
    Ok((count, parsed))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn advertised_product_rows_read_back_gzipped(
        rows in vec((advertised_product_row(), any::<bool>()), 0..20),
    ) {
        let values: Vec<Value> = rows.iter().map(|(r, s)| advertised_product_json(r, *s)).collect();
        let body = gzip(&serde_json::to_vec(&values).expect("JSON serializes"));
        let (count, parsed) = read_ads::<AdvertisedProductRow>(&body).expect("a well-formed document");
        prop_assert_eq!(count, rows.len() as u64);
        let (read, skipped) = split(parsed);
        prop_assert!(skipped.is_empty(), "{skipped:?}");
        let expected: Vec<AdvertisedProductRow> = rows.into_iter().map(|(r, _)| r).collect();
        prop_assert_eq!(read, expected);
    }

    #[test]
    fn malformed_ads_rows_are_counted_at_their_position(
        items in vec(prop_oneof![
            (any::<i64>(), any::<i64>(), any::<i64>(), text_cell()).prop_map(|(c, g, k, term)| {
                (true, json!({"campaignId": c, "adGroupId": g, "keywordId": k, "searchTerm": term, "cost": "1.50"}))
            }),
            garbage_json().prop_map(|v| (false, v)),
        ], 0..20),
    ) {
        let values: Vec<Value> = items.iter().map(|(_, v)| v.clone()).collect();
        let body = serde_json::to_vec(&values).expect("JSON serializes");
        let (count, parsed) = read_ads::<SearchTermRow>(&body).expect("a well-formed document");
        prop_assert_eq!(count, items.len() as u64);
        prop_assert_eq!(parsed.len(), items.len());
        for (i, (p, (valid, _))) in parsed.iter().zip(&items).enumerate() {
            match p {
                Parsed::Row(r) => {
                    prop_assert!(*valid, "item {} is garbage yet read", i + 1);
                    prop_assert_eq!(r.metrics.cost, Decimal::new(150, 2));
                }
                Parsed::Skipped(e) => {
                    prop_assert!(!*valid, "item {} is valid yet skipped: {e}", i + 1);
                    prop_assert_eq!(e.line, i as u64 + 1);
                }
            }
        }
    }

    #[test]
    fn any_ads_bytes_never_panic(body in vec(any::<u8>(), 0..2_000), gzipped in any::<bool>()) {
        let body = if gzipped { gzip(&body) } else { body };
        let _ = read_ads::<SearchTermRow>(&body);
        let _ = read_ads::<AdvertisedProductRow>(&body);
    }
}

// ---------------------------------------------------------------- documents

fn read_text(body: &[u8], how: &Encoded<'_>) -> Result<String, DocumentError> {
    let mut out = String::new();
    document::decode(body, how)?
        .read_to_string(&mut out)
        .map_err(DocumentError::Io)?;
    Ok(out)
}

/// Text in the alphabet of a charset, and the charset's name as Amazon sends it.
fn charset_and_text() -> impl Strategy<Value = (&'static Encoding, &'static str, String)> {
    prop_oneof![
        (
            prop::sample::select(vec!["UTF-8", "utf8", "utf-8"]),
            "(\\PC|[\t\r\n])*"
        )
            .prop_map(|(label, text)| (UTF_8, label, text)),
        (
            prop::sample::select(vec!["Cp1252", "windows-1252", "ISO-8859-1"]),
            "[ -~\t\r\nÀ-ÿ€–—„‚‘’“”•™]*"
        )
            .prop_map(|(label, text)| (WINDOWS_1252, label, text)),
        (
            prop::sample::select(vec!["Shift_JIS", "cp932", "windows-31j", "MS932"]),
            "[ -~\t\r\nぁ-んァ-ヶ赤青白黒大小中円本日月火水木金土品在庫商ー｡-ﾟ]*"
        )
            .prop_map(|(label, text)| (SHIFT_JIS, label, text)),
    ]
}

/// The bytes cut into 1 to 3 gzip members (Amazon's are one; concatenated
/// members are one valid document).
fn gzip_members(bytes: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        out.extend(gzip(&bytes[start..cut]));
        start = cut;
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn declared_charsets_decode_to_the_text_plain_or_gzipped(
        (encoding, label, text) in charset_and_text(),
        gzipped in any::<bool>(),
        cuts in vec(any::<usize>(), 0..3),
    ) {
        let (bytes, _, unmappable) = encoding.encode(&text);
        prop_assume!(!unmappable);
        // A text starting with a BOM would lose it, as it should.
        prop_assume!(!text.starts_with('\u{feff}'));
        let body = if gzipped { gzip_members(&bytes, &cuts) } else { bytes.into_owned() };
        let content_type = format!("text/plain; charset={label}");
        let how = Encoded {
            content_type: Some(&content_type),
            ..Encoded::default()
        };
        prop_assert_eq!(read_text(&body, &how).expect("a whole document"), text);
    }

    #[test]
    fn undeclared_japanese_text_falls_back_to_shift_jis(
        text in "[ぁ-んァ-ヶ]{1,4}[ -~ぁ-んァ-ヶ]{0,40}",
        gzipped in any::<bool>(),
    ) {
        let (bytes, _, unmappable) = SHIFT_JIS.encode(&text);
        prop_assert!(!unmappable);
        let body = if gzipped { gzip(&bytes) } else { bytes.into_owned() };
        let how = Encoded {
            fallback_charset: Some("Shift_JIS"),
            ..Encoded::default()
        };
        prop_assert_eq!(read_text(&body, &how).expect("a whole document"), text);
    }

    #[test]
    fn any_bytes_under_any_charset_never_panic(
        body in vec(any::<u8>(), 0..4_000),
        gzipped in any::<bool>(),
        label in opt(prop::sample::select(vec!["UTF-8", "Cp1252", "Shift_JIS", "cp932", "utf8", "klingon", "", "UTF-16LE", "x-user-defined"])),
        fallback in opt(prop::sample::select(vec!["Shift_JIS", "klingon", "UTF-8"])),
    ) {
        let body = if gzipped { gzip(&body) } else { body };
        let content_type = label.map(|l| format!("text/plain; charset={l}"));
        let how = Encoded {
            content_type: content_type.as_deref(),
            fallback_charset: fallback,
            ..Encoded::default()
        };
        if let Ok(text) = read_text(&body, &how) {
            // Whatever came in, what comes out is text a parser can take.
            let _ = fba_inventory::rows(text.as_bytes()).map(|rows| rows.count());
        }
    }

    #[test]
    fn a_gzip_document_cut_anywhere_is_an_error_not_a_shorter_text(
        text in "[a-z\t\n]{1,3000}",
        cut_at in any::<prop::sample::Index>(),
    ) {
        let body = gzip(text.as_bytes());
        // The 10-byte header alone is only "gzip"; cut after it, inside the stream.
        let cut = 10 + cut_at.index(body.len() - 10);
        let result = read_text(&body[..cut], &Encoded::default());
        prop_assert!(result.is_err(), "{} bytes of {} read as a whole document", cut, body.len());
    }
}
