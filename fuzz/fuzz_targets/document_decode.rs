//! `document::decode` on any body (plain or gzip, whole or cut), under any of
//! the charsets Amazon declares, an unknown one, or none with a fallback:
//! an error or UTF-8 text, never a panic.
#![no_main]

use std::io::Read;

use amzsync_amazon::document::{self, Encoded};
use libfuzzer_sys::fuzz_target;

const LABELS: [&str; 8] = [
    "UTF-8",
    "utf8",
    "Cp1252",
    "Shift_JIS",
    "cp932",
    "UTF-16LE",
    "klingon",
    "",
];

fuzz_target!(|data: &[u8]| {
    let Some((&how, body)) = data.split_first() else {
        return;
    };
    let content_type =
        (how & 0x08 != 0).then(|| format!("text/plain; charset={}", LABELS[usize::from(how & 0x07)]));
    let encoded = Encoded {
        compression: (how & 0x10 != 0).then_some("GZIP"),
        content_type: content_type.as_deref(),
        fallback_charset: (how & 0x20 != 0).then_some("Shift_JIS"),
    };
    if let Ok(mut text) = document::decode(body, &encoded) {
        let mut out = String::new();
        let _ = text.read_to_string(&mut out);
    }
});
