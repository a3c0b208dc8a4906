//! tochen-telegram: what every crate that talks to Telegram must agree on: how long a text is as Telegram counts
//! it (and how to cut it), and how a button's callback data is signed and read back.

pub mod callback;
pub mod text;
