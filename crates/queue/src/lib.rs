//! tochen-queue: the typed job queue over `tochen-store`'s `jobs` table.
//!
//! A job's payload type implements [`JobArgs`] (in `tochen-domain`: its kind and the insert options it implies);
//! producers enqueue it with `tochen_store::NewJob::new(&args)` or `Store::enqueue_args`. A consumer registers one
//! [`Worker`] per payload type in [`Workers`]; the [`Runner`] claims only the kinds it has workers for, decodes each
//! payload once (a payload that does not decode fails the job permanently), and hands the worker the decoded
//! payload and a [`JobContext`] (the store, the job row, slot release, lease extension). The claim, lease and
//! completion SQL lives in the store (`tochen_store::job_queue`); the "jobs changed" signal is the store's.

mod context;
mod error;
mod runner;
mod workers;

pub use context::JobContext;
pub use error::{Backoff, JobError};
pub use runner::{owner_name, Runner, RunnerConfig};
pub use tochen_domain::jobs::{InsertOpts, JobArgs};
pub use workers::{FailureHooks, RunJob, Worker, Workers};
