//! The engine's jobs, one file each. A job's kind string is stored in the
//! queue: never rename one, add a new kind instead (STYLE §4).

pub(crate) mod scheduled_sync;
pub(crate) mod sync_task;
