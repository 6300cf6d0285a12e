#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

// Library surface: the running server and its knobs.
mod config;
mod control;
mod error;
mod server;

// The wire protocol, one module per Amazon API section.
mod ads;
mod document;
mod lwa;
mod sp;

// The simulated world.
mod ads_report;
mod clock;
mod faults;
mod marketplace;
mod report;
mod rng;
mod seller;
mod stats;
mod stream;
mod timing;
mod truth;
mod usage_plan;
mod world;

pub use clock::ClockMode;
pub use config::Config;
pub use error::Error;
pub use faults::{
    AdsReportOutcome, DEFAULT_STUCK_FOR, DEFAULT_TIMEOUT_AFTER, FaultRates, Faults, MANUAL_HANG_LIMIT,
    ReportOutcome, SellerFaults,
};
pub use marketplace::{MARKETPLACES, Marketplace, Region};
pub use report::{ProcessingStatus, ReportType};
pub use seller::{Credentials, Seller};
pub use server::Simulator;
pub use stats::CallStats;
pub use timing::ReportTiming;
pub use truth::{
    AdsMetrics, AdsProfile, AdsRow, AsinGranularity, Conversions, DateTotals, InventoryRow, LedgerRow,
    Product, SalesAndTrafficDay, SkuSalesAndTraffic, Truth,
};
pub use usage_plan::{Operation, UsagePlan};
