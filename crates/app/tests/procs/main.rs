//! The `amzsync` binary as a distributed deployment: worker and scheduler
//! processes on PostgreSQL and Redis against the simulator, killed with
//! SIGKILL and restarted. What a single process's tests cannot show: a dead
//! process loses nothing, several processes duplicate nothing, and Amazon's
//! usage plans hold for all of them together (issues 5 and 8).

mod chaos;
mod crash;
mod harness;
mod scale_out;
mod security;
mod truth;
