#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

// The client: configuration, the HTTP pipeline and its errors.
mod client;
mod clock;
mod config;
mod error;

// Cross-cutting policies of every call: tokens, quotas, retries.
pub mod lwa;
pub mod observe;
pub mod retry;
pub mod throttle;

// Amazon's API sections, and the documents they deliver.
pub mod ads;
pub mod document;
mod json_stream;
mod number;
pub mod parse;
pub mod sp;

pub use client::{Client, ClientBuilder};
pub use clock::{Clock, SystemClock};
pub use config::{Config, Endpoints, LwaApp, Region, Timeouts};
pub use document::DocumentError;
pub use error::Error;
pub use parse::{Parsed, RowError};
pub use sp::SellingPartner;
