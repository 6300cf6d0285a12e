//! The dashboard over HTTP: the real router on 127.0.0.1:0, a SQLite database
//! per test, a real client that does not follow redirects, and the session
//! cookie set by hand. The browser journeys live in `e2e/`.

mod glance;
mod helpers;
mod history;
mod overview;
mod session;
mod stores;
mod sync;
