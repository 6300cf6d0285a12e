//! Integration tests: the simulator over real HTTP on 127.0.0.1 port 0, driven by
//! reqwest exactly as a client would.

mod ads;
mod control;
mod faults;
mod granularity;
mod harness;
mod inventory;
mod ledger;
mod lwa;
mod reports;
mod restatement;
mod scale;
mod timing;
mod transport;
mod usage_plans;
