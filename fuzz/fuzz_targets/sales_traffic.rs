//! The Sales & Traffic JSON parser on any bytes: a document error, or a
//! summary whose by-ASIN count is every item handed out, never a panic.
#![no_main]

use amzsync_amazon::sp::sales_traffic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut items = 0;
    if let Ok(summary) = sales_traffic::read(data, |_| items += 1) {
        assert_eq!(summary.by_asin_items, items);
    }
});
