#![doc = include_str!("../README.md")]

mod clock;
mod ids;
mod marketplace;
mod money;
mod sync;
mod window;

pub use clock::{Clock, ManualClock, SimulatedClock, SystemClock};
pub use ids::{ParseIdError, StoreId, SyncTaskId, UserId};
pub use marketplace::{Marketplace, ParseMarketplaceError, ParseRegionError, Region};
pub use money::Money;
pub use sync::{ErrorClass, ParseEnumError, SyncKind, TaskStatus, Trigger};
pub use window::{SyncWindow, WindowError};
