//! The integration tests of the tochen binary, in one test binary so a test build links once.

mod admin_bot;
mod admin_cli;
mod architecture;
mod cli;
mod components;
mod connect_e2e;
mod deploy_files;
mod inbound_webhooks;
mod ingest_crash;
mod media_key;
mod platform_pipeline;
mod sandbox_e2e;
mod telegram_webhook_mode;
