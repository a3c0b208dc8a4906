//! The integration tests of tochen-store, in one test binary so a test build links once.

mod ad_accounts;
mod api_tokens;
mod approval_cards;
mod automation_dst;
mod automations;
mod calendar;
mod campaigns;
mod job_claims;
mod job_fencing;
mod library;
mod listen_reconnect;
mod media_facts;
mod migrations_in_step;
mod operator;
mod person;
mod post_edits;
mod post_lists;
mod published_changes;
mod queue_slots;
mod readers;
mod store;
mod telegram_updates;
