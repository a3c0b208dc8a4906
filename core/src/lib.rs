//! tochen-core: everything the bot, the scheduler and the web service share.
//!
//! The three front crates never import each other; they meet here and in the database. This crate holds the
//! configuration, the domain types, the store (one API over SQLite and PostgreSQL), and the encryption of secrets.

pub mod alerts;
pub mod callback;
pub mod clock;
pub mod config;
pub mod cron;
pub mod crypto;
pub mod delivery;
pub mod domain;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod llm;
pub mod media_url;
pub mod platforms;
pub mod publish;
pub mod readiness;
pub mod refresh;
pub mod reports;
pub mod secret;
pub mod store;
pub mod telegram_text;

pub use config::Config;
pub use crypto::SecretBox;
pub use ids::*;
pub use secret::SecretString;
pub use store::{Store, StoreError};
