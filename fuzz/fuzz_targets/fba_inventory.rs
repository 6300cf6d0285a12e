//! The FBA inventory (MYI) TSV parser on any text: a document error, or rows
//! and counted skips, never a panic. The first byte chooses between the raw
//! bytes and the bytes through `document::decode`.
#![no_main]

use amzsync_amazon::document::{self, Encoded};
use amzsync_amazon::sp::fba_inventory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&how, body)) = data.split_first() else {
        return;
    };
    if how & 1 == 0 {
        if let Ok(rows) = fba_inventory::rows(body) {
            rows.for_each(drop);
        }
    } else if let Ok(text) = document::decode(body, &Encoded::default())
        && let Ok(rows) = fba_inventory::rows(text)
    {
        rows.for_each(drop);
    }
});
