//! The API's JSON request bodies (store create and update, sync trigger, user
//! and token create) on any bytes, the first byte choosing the body: parsed
//! and checked as their handlers do, refused with a client error (4xx),
//! never a panic and never a server error.
#![no_main]

use amzsync_web::fuzzing::{Body, check_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let body = Body::ALL[usize::from(selector) % Body::ALL.len()];
    if let Err(status) = check_body(body, bytes) {
        assert!(status.is_client_error(), "{body:?} answered {status}");
    }
});
