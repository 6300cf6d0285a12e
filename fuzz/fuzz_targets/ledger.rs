//! The inventory ledger (quoted TSV) parser on any bytes: a document error,
//! or rows and counted skips, never a panic.
#![no_main]

use amzsync_amazon::sp::ledger;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rows) = ledger::rows(data) {
        rows.for_each(drop);
    }
});
