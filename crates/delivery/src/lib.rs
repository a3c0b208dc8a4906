//! Delivering results to a workspace's destinations: Standard Webhooks (signed, retried on the spec's schedule,
//! guarded against server-side request forgery) and email over SMTP with TLS. Telegram destinations are plain
//! `notify` jobs and need nothing here. Automations live here too: the reports (with their charts and exports)
//! and the alerts they send, so an automation's config, its run and its delivery are read in one place. Which
//! accounts' numbers count (sandbox or not) is decided in `sources`.

pub mod ads_pick;
pub mod ads_report;
pub mod ads_sync;
pub mod alerts;
pub mod automations;
pub mod email;
pub mod email_queue;
pub mod fetch;
pub mod outbox;
pub mod reports;
pub mod sources;
pub mod ssrf;
pub mod webhook;
