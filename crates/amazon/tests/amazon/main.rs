//! The client against the simulator over real HTTP: one simulator per test,
//! simulated time only (the client's clock moves the simulator's), no sleeps.

mod ads;
mod harness;
mod inventory;
mod lwa;
mod properties;
mod reports;
mod throttle;
