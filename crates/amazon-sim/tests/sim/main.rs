//! Integration tests: the simulator over real HTTP on 127.0.0.1 port 0, driven by
//! reqwest exactly as a client would.

mod ads;
mod harness;
mod inventory;
mod ledger;
mod lwa;
mod reports;
mod usage_plans;
