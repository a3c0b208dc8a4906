//! The integration tests of tochen-scheduler, in one test binary so a test build links once.

mod common;

mod ads_jobs;
mod automations;
mod crash;
mod delivery;
mod email_deliver;
mod inbound_exactly_once;
mod notify;
mod notify_chat_fate;
mod pipeline;
mod post_changes;
mod publish_safety;
mod publish_store;
mod queue;
mod revocations;
mod run_with;
mod sweeps;
