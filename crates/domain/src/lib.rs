//! tochen-domain: the vocabulary every other crate shares, without I/O.
//!
//! Typed ids, the enums things move through (roles, platforms, post and target states), time as the store keeps
//! it, cron schedules, secrets and their encryption at rest, the translations, HTML escaping for Telegram, the
//! durable job kinds with their payloads, signed media URLs, and the start-up readiness registry.

pub mod ads;
pub mod api_tokens;
pub mod besttime;
pub mod clock;
pub mod cron;
pub mod crypto;
pub mod html;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod kinds;
pub mod media_url;
pub mod money;
pub mod readiness;
pub mod secret;
pub mod slots;

pub use crypto::SecretBox;
pub use ids::*;
pub use kinds::*;
pub use secret::SecretString;
