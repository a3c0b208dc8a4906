//! The integration tests of tochen-delivery, in one test binary so a test build links once.

mod ads_report;
mod ads_sync;
mod alerts;
mod delivery_automations;
mod delivery_email;
mod delivery_webhooks;
mod reports;
mod reports_metrics_sync;
mod reports_sandbox;
