//! Delivering results to a workspace's destinations: Standard Webhooks (signed, retried on the spec's schedule,
//! guarded against server-side request forgery) and email over SMTP with TLS. Telegram destinations are plain
//! `notify` jobs and need nothing here.

pub mod automations;
pub mod email;
pub mod email_queue;
pub mod events;
pub mod outbox;
pub mod ssrf;
pub mod webhook;
