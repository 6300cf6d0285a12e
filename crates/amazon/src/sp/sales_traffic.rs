//! `GET_SALES_AND_TRAFFIC_REPORT` (JSON, PROTOCOL.md §4.4). The by-ASIN
//! section has no date: it sums the whole requested range, so per-SKU-per-day
//! figures need one report per day. By-ASIN items are handed out as they are
//! read (the section can be large); the by-date section is small and kept.

use std::fmt;
use std::io::Read;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::document::DocumentError;
use crate::json_stream::{EachElement, Text};
use crate::number::{decimal, opt_decimal};
use crate::parse::{Parsed, RowError};

/// An amount of money: `{"amount": 12.5, "currencyCode": "USD"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    /// Exact amount.
    #[serde(deserialize_with = "decimal")]
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency_code: String,
}

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportSpecification {
    /// Always `GET_SALES_AND_TRAFFIC_REPORT`.
    pub report_type: String,
    /// First day covered.
    pub data_start_time: NaiveDate,
    /// Last day covered.
    pub data_end_time: NaiveDate,
    /// The one marketplace of the report.
    pub marketplace_ids: Vec<String>,
}

/// Sales of one ASIN or SKU over the report's range.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesByAsin {
    /// Units ordered.
    pub units_ordered: i64,
    /// Units ordered by business customers (B2B sellers only).
    #[serde(default, rename = "unitsOrderedB2B")]
    pub units_ordered_b2b: Option<i64>,
    /// Ordered product sales.
    pub ordered_product_sales: Amount,
    /// Ordered product sales to business customers.
    #[serde(default, rename = "orderedProductSalesB2B")]
    pub ordered_product_sales_b2b: Option<Amount>,
    /// Order items.
    pub total_order_items: i64,
    /// Order items of business customers.
    #[serde(default, rename = "totalOrderItemsB2B")]
    pub total_order_items_b2b: Option<i64>,
}

/// Traffic of one ASIN or SKU over the report's range. Percentages are
/// percent values (`2.54` is 2.54 %) and may exceed 100.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficByAsin {
    /// Sessions (browser and app).
    pub sessions: i64,
    /// Page views (browser and app).
    pub page_views: i64,
    /// Share of all sessions of the marketplace.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub session_percentage: Option<Decimal>,
    /// Share of all page views of the marketplace.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub page_views_percentage: Option<Decimal>,
    /// Share of page views where the seller held the buy box.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub buy_box_percentage: Option<Decimal>,
    /// Units ordered per 100 sessions.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub unit_session_percentage: Option<Decimal>,
    /// Browser sessions.
    #[serde(default)]
    pub browser_sessions: Option<i64>,
    /// App sessions.
    #[serde(default)]
    pub mobile_app_sessions: Option<i64>,
}

/// One item of `salesAndTrafficByAsin`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesAndTrafficByAsin {
    /// Parent ASIN (always present).
    pub parent_asin: String,
    /// Child ASIN (CHILD and SKU granularity).
    #[serde(default)]
    pub child_asin: Option<String>,
    /// Seller SKU (SKU granularity).
    #[serde(default)]
    pub sku: Option<String>,
    /// Sales.
    pub sales_by_asin: SalesByAsin,
    /// Traffic.
    pub traffic_by_asin: TrafficByAsin,
}

/// Account-wide sales of one day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesByDate {
    /// Ordered product sales.
    pub ordered_product_sales: Amount,
    /// Units ordered.
    pub units_ordered: i64,
    /// Order items.
    pub total_order_items: i64,
}

/// Account-wide traffic of one day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficByDate {
    /// Sessions.
    pub sessions: i64,
    /// Page views.
    pub page_views: i64,
    /// Buy box percentage.
    #[serde(default, deserialize_with = "opt_decimal")]
    pub buy_box_percentage: Option<Decimal>,
}

/// One item of `salesAndTrafficByDate`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesAndTrafficByDate {
    /// The day (or first day of the week or month).
    pub date: NaiveDate,
    /// Sales.
    pub sales_by_date: SalesByDate,
    /// Traffic.
    pub traffic_by_date: TrafficByDate,
}

/// Everything but the by-ASIN items, which went to the caller as they came.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// What was asked for (absent only in a malformed document).
    pub specification: Option<ReportSpecification>,
    /// Account-wide figures per day.
    pub by_date: Vec<SalesAndTrafficByDate>,
    /// By-date items that could not be read.
    pub skipped_by_date: Vec<RowError>,
    /// How many by-ASIN items were seen (read or skipped).
    pub by_asin_items: u64,
}

/// Reads a decoded (UTF-8) document, calling `on_item` for each by-ASIN item
/// as it is parsed.
pub fn read<R: Read>(
    text: R,
    on_item: impl FnMut(Parsed<SalesAndTrafficByAsin>),
) -> Result<Summary, DocumentError> {
    read_text(crate::json_stream::take(text)?, on_item)
}

fn read_text<R: Read>(
    text: Text<R>,
    on_item: impl FnMut(Parsed<SalesAndTrafficByAsin>),
) -> Result<Summary, DocumentError> {
    match text {
        Text::Whole(bytes) => read_from(serde_json::Deserializer::from_slice(&bytes), on_item),
        Text::Stream(reader) => read_from(serde_json::Deserializer::from_reader(reader), on_item),
    }
}

fn read_from<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    mut on_item: impl FnMut(Parsed<SalesAndTrafficByAsin>),
) -> Result<Summary, DocumentError> {
    let summary = DocumentSeed {
        on_item: &mut on_item,
    }
    .deserialize(&mut de)
    .and_then(|s| de.end().map(|()| s))
    .map_err(json_error)?;
    if summary.specification.is_none() {
        return Err(DocumentError::Corrupt(
            "no reportSpecification in a Sales & Traffic report".into(),
        ));
    }
    Ok(summary)
}

pub(crate) fn json_error(e: serde_json::Error) -> DocumentError {
    if e.is_eof() {
        DocumentError::Truncated(e.to_string())
    } else if e.is_io() {
        DocumentError::from_io(e.into())
    } else {
        DocumentError::Corrupt(e.to_string())
    }
}

/// The sections of the document that are read.
const SECTIONS: [&str; 3] = [
    "reportSpecification",
    "salesAndTrafficByDate",
    "salesAndTrafficByAsin",
];

struct DocumentSeed<'f, F> {
    on_item: &'f mut F,
}

impl<'de, F: FnMut(Parsed<SalesAndTrafficByAsin>)> DeserializeSeed<'de> for DocumentSeed<'_, F> {
    type Value = Summary;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Summary, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Parsed<SalesAndTrafficByAsin>)> Visitor<'de> for DocumentSeed<'_, F> {
    type Value = Summary;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Sales & Traffic report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Summary, A::Error> {
        let mut summary = Summary::default();
        // A section given twice would hand out its rows twice (and count and
        // number only the last): the document is not what Amazon writes.
        let mut seen: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if SECTIONS.contains(&key.as_str()) {
                if seen.contains(&key) {
                    return Err(serde::de::Error::custom(format_args!(
                        "the section {key} appears twice"
                    )));
                }
                seen.push(key.clone());
            }
            match key.as_str() {
                "reportSpecification" => summary.specification = Some(map.next_value()?),
                "salesAndTrafficByDate" => {
                    let mut by_date = Vec::new();
                    let mut skipped = Vec::new();
                    let mut collect = |p: Parsed<SalesAndTrafficByDate>| match p {
                        Parsed::Row(r) => by_date.push(r),
                        Parsed::Skipped(e) => skipped.push(e),
                    };
                    map.next_value_seed(&mut EachElement::new(&mut collect))?;
                    summary.by_date = by_date;
                    summary.skipped_by_date = skipped;
                }
                "salesAndTrafficByAsin" => {
                    let mut each = EachElement::new(&mut *self.on_item);
                    map.next_value_seed(&mut each)?;
                    summary.by_asin_items = each.count;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Encoded, decode};

    const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/amazon-api");

    fn read_all(text: impl Read) -> Result<(Summary, Vec<Parsed<SalesAndTrafficByAsin>>), DocumentError> {
        let mut items = Vec::new();
        let summary = read(text, |p| items.push(p))?;
        Ok((summary, items))
    }

    /// The same, forced through the streaming reader that documents larger
    /// than [`crate::json_stream::IN_MEMORY`] take.
    fn stream_all(text: impl Read) -> Result<(Summary, Vec<Parsed<SalesAndTrafficByAsin>>), DocumentError> {
        let mut items = Vec::new();
        let text = crate::json_stream::take_within(text, 64)?;
        assert!(
            matches!(text, Text::Stream(_)),
            "a document past the limit streams"
        );
        let summary = read_text(text, |p| items.push(p))?;
        Ok((summary, items))
    }

    #[test]
    fn a_streamed_document_reads_as_the_same_document_in_memory() {
        let body = std::fs::read_to_string(format!("{EXAMPLES}/sales_and_traffic_sku_day.json")).unwrap();
        let whole = read_all(body.as_bytes()).unwrap();
        let streamed = stream_all(body.as_bytes()).unwrap();
        assert!(!whole.1.is_empty());
        assert_eq!(format!("{whole:?}"), format!("{streamed:?}"));
        // Cut short, both say truncated.
        let cut = &body.as_bytes()[..body.len() * 2 / 3];
        assert!(matches!(read_all(cut), Err(DocumentError::Truncated(_))));
        assert!(matches!(stream_all(cut), Err(DocumentError::Truncated(_))));
    }

    #[test]
    fn the_example_report_is_read_whole_and_its_skus_sum_to_the_day() {
        let gz = std::fs::read(format!("{EXAMPLES}/sales_and_traffic_sku_day.json.gz")).unwrap();
        let (summary, items) = read_all(decode(&gz[..], &Encoded::default()).unwrap()).unwrap();
        let spec = summary.specification.unwrap();
        assert_eq!(spec.marketplace_ids, vec!["ATVPDKIKX0DER"]);
        assert_eq!(spec.data_start_time, NaiveDate::from_ymd_opt(2024, 5, 1).unwrap());
        let rows: Vec<_> = items.into_iter().map(|p| p.row().unwrap()).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].sku.as_deref(), Some("MUG-RED-12OZ"));
        let day = &summary.by_date[0];
        let sales: Decimal = rows
            .iter()
            .map(|r| r.sales_by_asin.ordered_product_sales.amount)
            .sum();
        assert_eq!(sales, day.sales_by_date.ordered_product_sales.amount);
        assert_eq!(
            day.sales_by_date.ordered_product_sales.amount.to_string(),
            "113.95"
        );
        let units: i64 = rows.iter().map(|r| r.sales_by_asin.units_ordered).sum();
        assert_eq!(units, day.sales_by_date.units_ordered);
        assert_eq!(
            rows.iter().map(|r| r.traffic_by_asin.sessions).sum::<i64>(),
            day.traffic_by_date.sessions
        );
    }

    #[test]
    fn a_malformed_item_is_skipped_with_its_position_and_reason() {
        let doc = r#"{"reportSpecification":{"reportType":"GET_SALES_AND_TRAFFIC_REPORT","dataStartTime":"2024-05-01","dataEndTime":"2024-05-01","marketplaceIds":["ATVPDKIKX0DER"],"reportOptions":{"asinGranularity":"SKU"}},
          "salesAndTrafficByDate": [],
          "salesAndTrafficByAsin": [
            {"parentAsin":"P1","sku":"A","salesByAsin":{"unitsOrdered":1,"orderedProductSales":{"amount":9.99,"currencyCode":"USD"},"totalOrderItems":1},"trafficByAsin":{"sessions":3,"pageViews":4}},
            {"parentAsin":"P2","sku":"B","salesByAsin":{"unitsOrdered":"one","orderedProductSales":{"amount":1,"currencyCode":"USD"},"totalOrderItems":1},"trafficByAsin":{"sessions":3,"pageViews":4}},
            {"parentAsin":"P3","sku":"C","salesByAsin":{"unitsOrdered":2,"orderedProductSales":{"amount":"19.90","currencyCode":"USD"},"totalOrderItems":2},"trafficByAsin":{"sessions":1,"pageViews":1,"unitSessionPercentage":300.0}}
          ]}"#;
        let (summary, items) = read_all(doc.as_bytes()).unwrap();
        assert_eq!(summary.by_asin_items, 3);
        assert!(
            matches!(&items[1], Parsed::Skipped(e) if e.line == 2 && e.reason.contains("invalid type")),
            "{:?}",
            items[1]
        );
        let c = items[2].clone().row().unwrap();
        assert_eq!(c.sales_by_asin.ordered_product_sales.amount.to_string(), "19.90");
        assert_eq!(
            c.traffic_by_asin.unit_session_percentage,
            Some(Decimal::from(300))
        );
    }

    /// Fuzz finding `sales_traffic` crash-d67f88bc: a document with
    /// `salesAndTrafficByAsin` twice handed out the items of both arrays but
    /// counted (and numbered) only the last one's.
    #[test]
    fn fuzz_a_repeated_section_is_a_corrupt_document_not_a_miscount() {
        let spec = r#""reportSpecification":{"reportType":"GET_SALES_AND_TRAFFIC_REPORT","dataStartTime":"2024-05-01","dataEndTime":"2024-05-01","marketplaceIds":["ATVPDKIKX0DER"]}"#;
        let item = r#"{"parentAsin":"P1","salesByAsin":{"unitsOrdered":1,"orderedProductSales":{"amount":9.99,"currencyCode":"USD"},"totalOrderItems":1},"trafficByAsin":{"sessions":3,"pageViews":4}}"#;
        for repeated in [
            format!(r#""salesAndTrafficByAsin":[{item}],"salesAndTrafficByAsin":[{item}]"#),
            r#""salesAndTrafficByDate":[],"salesAndTrafficByDate":[]"#.to_owned(),
            spec.to_owned(),
        ] {
            let doc = format!("{{{spec},{repeated}}}");
            let err = read_all(doc.as_bytes()).unwrap_err();
            assert!(
                matches!(&err, DocumentError::Corrupt(m) if m.contains("appears twice")),
                "{doc}: {err:?}"
            );
        }
        // Once each is fine, and the count is every item handed out.
        let doc = format!(r#"{{{spec},"salesAndTrafficByAsin":[{item},{item}]}}"#);
        let (summary, items) = read_all(doc.as_bytes()).unwrap();
        assert_eq!((summary.by_asin_items, items.len()), (2, 2));
    }

    #[test]
    fn a_truncated_report_is_an_error_not_fewer_rows() {
        let json = std::fs::read_to_string(format!("{EXAMPLES}/sales_and_traffic_sku_day.json")).unwrap();
        let cut = &json[..json.len() - 40];
        let err = read_all(cut.as_bytes()).unwrap_err();
        assert!(matches!(err, DocumentError::Truncated(_)), "{err:?}");
        assert!(matches!(read_all(&b"<html>"[..]), Err(DocumentError::Corrupt(_))));
        assert!(matches!(read_all(&b"{}"[..]), Err(DocumentError::Corrupt(_))));
    }
}
