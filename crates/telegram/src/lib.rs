//! tochen-telegram: what every crate that talks to Telegram must agree on: how long a text is as Telegram counts
//! it (and how to cut it), how a button's callback data is signed and read back, and which errors say a chat is
//! closed to the bot.

pub mod callback;
pub mod closed;
pub mod text;
