//! tochen-telegram: what every crate that talks to Telegram must agree on: how long a text is as Telegram counts
//! it (and how to cut it), every inline button as one `Button` type and its callback data, and which errors say a chat is
//! closed to the bot, and how a Mini App's `initData` is checked.

pub mod button;
pub mod closed;
pub mod init_data;
pub mod text;
