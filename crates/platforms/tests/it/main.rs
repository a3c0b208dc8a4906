//! The integration tests of tochen-platforms, in one test binary so a test build links once.

mod ads_clients;
mod common;
mod media_checks;
mod media_publishing;
mod platform_publishing;
mod published_edits;
mod secrets_at_rest;
