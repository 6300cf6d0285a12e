//! Amazon Ads API: Sponsored Products report rows (reporting v3).

pub mod report_rows;
