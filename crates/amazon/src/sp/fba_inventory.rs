//! `GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA`: FBA inventory as it is now, one
//! row per SKU (and condition). Tab-separated, no quoting, header-named columns
//! (PROTOCOL.md §4.1). Empty cells mean "not applicable" and stay `None`.

use std::io::Read;

use rust_decimal::Decimal;

use super::tsv::{self, Line, Quoting, Rows};
use crate::document::DocumentError;
use crate::parse::Parsed;

/// One row of the report, with Amazon's meanings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRow {
    /// Seller SKU (may contain spaces and punctuation).
    pub sku: String,
    /// Fulfillment network SKU.
    pub fnsku: Option<String>,
    /// ASIN (ISBNs keep their leading zeros).
    pub asin: Option<String>,
    /// Product title.
    pub product_name: Option<String>,
    /// `New`, `UsedGood`, …
    pub condition: Option<String>,
    /// Listing price in the marketplace currency.
    pub your_price: Option<Decimal>,
    /// Units ready to ship.
    pub afn_fulfillable_quantity: Option<i64>,
    /// Units in fulfillment centers but not sellable.
    pub afn_unsellable_quantity: Option<i64>,
    /// Units reserved (customer orders, transfers, processing).
    pub afn_reserved_quantity: Option<i64>,
    /// Units in shipments still being prepared.
    pub afn_inbound_working_quantity: Option<i64>,
    /// Units in shipments on their way.
    pub afn_inbound_shipped_quantity: Option<i64>,
    /// Units being received at fulfillment centers.
    pub afn_inbound_receiving_quantity: Option<i64>,
    /// Units under investigation.
    pub afn_researching_quantity: Option<i64>,
    /// Units in fulfillment centers (fulfillable + unsellable + reserved).
    pub afn_warehouse_quantity: Option<i64>,
    /// Warehouse plus inbound units.
    pub afn_total_quantity: Option<i64>,
    /// Units the seller also fulfils itself (empty without an MFN offer).
    pub mfn_fulfillable_quantity: Option<i64>,
}

const COLUMNS: &[&str] = &[
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

/// Without these a snapshot cannot be stored.
const REQUIRED: &[&str] = &[
    "sku",
    "asin",
    "afn-fulfillable-quantity",
    "afn-unsellable-quantity",
    "afn-reserved-quantity",
    "afn-inbound-working-quantity",
    "afn-inbound-shipped-quantity",
    "afn-inbound-receiving-quantity",
];

fn parse(l: &Line<'_>) -> Result<InventoryRow, String> {
    Ok(InventoryRow {
        sku: tsv::text(l, 0, "sku")?,
        fnsku: tsv::opt_text(l, 1),
        asin: tsv::opt_text(l, 2),
        product_name: tsv::opt_text(l, 3),
        condition: tsv::opt_text(l, 4),
        your_price: tsv::decimal(l, 5, COLUMNS[5])?,
        afn_fulfillable_quantity: tsv::int(l, 6, COLUMNS[6])?,
        afn_unsellable_quantity: tsv::int(l, 7, COLUMNS[7])?,
        afn_reserved_quantity: tsv::int(l, 8, COLUMNS[8])?,
        afn_inbound_working_quantity: tsv::int(l, 9, COLUMNS[9])?,
        afn_inbound_shipped_quantity: tsv::int(l, 10, COLUMNS[10])?,
        afn_inbound_receiving_quantity: tsv::int(l, 11, COLUMNS[11])?,
        afn_researching_quantity: tsv::int(l, 12, COLUMNS[12])?,
        afn_warehouse_quantity: tsv::int(l, 13, COLUMNS[13])?,
        afn_total_quantity: tsv::int(l, 14, COLUMNS[14])?,
        mfn_fulfillable_quantity: tsv::int(l, 15, COLUMNS[15])?,
    })
}

/// The rows of a decoded (UTF-8) document, as they are read.
pub fn rows<R: Read>(
    text: R,
) -> Result<impl Iterator<Item = Result<Parsed<InventoryRow>, DocumentError>>, DocumentError> {
    Rows::new(text, Quoting::None, COLUMNS, REQUIRED, parse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Encoded, decode};
    use proptest::prelude::*;

    const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/amazon-api");

    fn read(bytes: &[u8], content_type: Option<&str>) -> Vec<Parsed<InventoryRow>> {
        let text = decode(
            bytes,
            &Encoded {
                content_type,
                ..Default::default()
            },
        )
        .unwrap();
        rows(text).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn the_na_example_file_is_read_by_header_name() {
        let bytes = std::fs::read(format!("{EXAMPLES}/fba_myi_unsuppressed_inventory.tsv")).unwrap();
        let rows: Vec<_> = read(&bytes, None).into_iter().map(|p| p.row().unwrap()).collect();
        let mug = &rows[0];
        assert_eq!(mug.sku, "MUG-RED-12OZ");
        assert_eq!(mug.fnsku.as_deref(), Some("X000EXMPL1"));
        assert_eq!(mug.your_price, Some("14.99".parse().unwrap()));
        assert_eq!(
            (
                mug.afn_fulfillable_quantity,
                mug.afn_reserved_quantity,
                mug.afn_unsellable_quantity
            ),
            (Some(120), Some(7), Some(3))
        );
        assert_eq!(mug.mfn_fulfillable_quantity, None, "empty means not applicable");
        let shirt = &rows[1];
        assert_eq!(
            shirt.product_name.as_deref(),
            Some("Men's T-Shirt, Black, Size M \"Classic Fit\"")
        );
        assert_eq!(
            rows[2].asin.as_deref(),
            Some("0131899058"),
            "ISBN keeps its leading zero"
        );
        assert!(rows.iter().any(|r| r.mfn_fulfillable_quantity == Some(25)));
    }

    #[test]
    fn the_eu_example_file_is_cp1252_with_crlf_and_extra_columns() {
        let bytes =
            std::fs::read(format!("{EXAMPLES}/fba_myi_unsuppressed_inventory_de_cp1252.tsv")).unwrap();
        let rows: Vec<_> = read(&bytes, Some("text/plain; charset=Cp1252"))
            .into_iter()
            .map(|p| p.row().unwrap())
            .collect();
        assert!(!rows.is_empty());
        let names: String = rows.iter().filter_map(|r| r.product_name.clone()).collect();
        assert!(names.contains('ü') || names.contains('Ü'), "{names}");
        assert!(names.contains('–'), "0x96 is an en dash in Cp1252: {names}");
        assert!(rows.iter().all(|r| !r.sku.ends_with('\r')));
    }

    #[test]
    fn reordered_and_extra_columns_are_fine() {
        let tsv = "afn-inbound-receiving-quantity\tnew-column\tasin\tsku\tafn-fulfillable-quantity\tafn-unsellable-quantity\tafn-reserved-quantity\tafn-inbound-working-quantity\tafn-inbound-shipped-quantity\n\
                   3\tx\tB0001\tSKU 1\t10\t1\t2\t0\t5\n";
        let rows: Vec<_> = read(tsv.as_bytes(), None)
            .into_iter()
            .map(|p| p.row().unwrap())
            .collect();
        assert_eq!(rows[0].sku, "SKU 1");
        assert_eq!(rows[0].afn_fulfillable_quantity, Some(10));
        assert_eq!(rows[0].afn_inbound_receiving_quantity, Some(3));
        assert_eq!(rows[0].afn_total_quantity, None, "optional and absent");
    }

    #[test]
    fn missing_required_columns_are_named() {
        let err = rows("sku\tasin\n1\t2\n".as_bytes()).err().unwrap();
        let message = err.to_string();
        assert!(
            message.contains("afn-fulfillable-quantity") && message.contains("afn-inbound-shipped-quantity"),
            "{message}"
        );
    }

    #[test]
    fn malformed_rows_are_skipped_with_line_and_reason() {
        let header = "sku\tasin\tafn-fulfillable-quantity\tafn-unsellable-quantity\tafn-reserved-quantity\tafn-inbound-working-quantity\tafn-inbound-shipped-quantity\tafn-inbound-receiving-quantity\tyour-price";
        let tsv = format!(
            "{header}\nA\tB1\t1\t0\t0\t0\t0\t0\t1.00\nB\tB2\tmany\t0\t0\t0\t0\t0\t1.00\n\tB3\t1\t0\t0\t0\t0\t0\t1\nC\tB4\t2\t0\t0\t0\t0\t0\t$3\nD\tB5\t4\t0\t0\t0\t0\t0\t\n"
        );
        let parsed = read(tsv.as_bytes(), None);
        let skipped: Vec<_> = parsed
            .iter()
            .filter_map(|p| match p {
                Parsed::Skipped(e) => Some((e.line, e.reason.clone())),
                Parsed::Row(_) => None,
            })
            .collect();
        assert_eq!(
            skipped,
            vec![
                (
                    3,
                    "afn-fulfillable-quantity: \"many\" is not a whole number".to_owned()
                ),
                (4, "sku is empty".to_owned()),
                (5, "your-price: \"$3\" is not a decimal number".to_owned()),
            ]
        );
        let skus: Vec<_> = parsed
            .into_iter()
            .filter_map(Parsed::row)
            .map(|r| r.sku)
            .collect();
        assert_eq!(skus, vec!["A", "D"]);
    }

    /// Found by the property `every_inventory_line_is_a_row_or_a_counted_skip`:
    /// csv's line numbers skip blank lines and, in CRLF files, put every record
    /// on the line before its own.
    #[test]
    fn skipped_rows_name_their_own_line_after_blank_lines_and_in_crlf_files() {
        let header = REQUIRED.join("\t");
        let bad = "B\tB2\tmany\t0\t0\t0\t0\t0";
        let good = "A\tB1\t1\t0\t0\t0\t0\t0";
        for eol in ["\n", "\r\n"] {
            let doc = [header.as_str(), good, "", bad, "", "", bad, good, bad, ""].join(eol);
            let lines: Vec<u64> = read(doc.as_bytes(), None)
                .into_iter()
                .filter_map(|p| match p {
                    Parsed::Skipped(e) => Some(e.line),
                    Parsed::Row(_) => None,
                })
                .collect();
            assert_eq!(lines, vec![4, 7, 9], "line ends {eol:?}");
        }
    }

    #[test]
    fn a_truncated_gzip_document_fails_instead_of_ending_early() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write as _;
        let header = REQUIRED.join("\t");
        let mut doc = format!("{header}\n");
        for n in 0..20_000 {
            doc.push_str(&format!("SKU-{n}\tB{n:09}\t1\t0\t0\t0\t0\t0\n"));
        }
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(doc.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let cut = &gz[..gz.len() * 2 / 3];
        let results: Vec<_> = rows(decode(cut, &Encoded::default()).unwrap()).unwrap().collect();
        let last = results.last().unwrap();
        assert!(matches!(last, Err(DocumentError::Truncated(_))), "{last:?}");
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2_000)) {
            if let Ok(text) = decode(&body[..], &Encoded::default())
                && let Ok(rows) = rows(text)
            {
                for _ in rows {}
            }
        }
    }
}
