//! The Ads report rows parser, for each Sponsored Products row type (chosen by
//! the first byte), on any bytes: a document error, or a count equal to the
//! rows and skips handed out, never a panic.
#![no_main]

use amzsync_amazon::Parsed;
use amzsync_amazon::ads::report_rows::{
    self, AdGroupRow, AdvertisedProductRow, CampaignRow, SearchTermRow, TargetingRow,
};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

fn check<T: DeserializeOwned>(body: &[u8]) {
    let mut seen = 0;
    if let Ok(count) = report_rows::read(body, |_: Parsed<T>| seen += 1) {
        assert_eq!(count, seen);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => check::<AdvertisedProductRow>(body),
        1 => check::<CampaignRow>(body),
        2 => check::<AdGroupRow>(body),
        3 => check::<TargetingRow>(body),
        _ => check::<SearchTermRow>(body),
    }
});
