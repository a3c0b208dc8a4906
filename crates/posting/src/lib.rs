//! The post operations every front shares (the bot, the HTTP API, the Mini App), so a post submitted from the API
//! waits for the same approval, with the same cards, as one submitted in the chat.
//!
//! - `approval`: who gets an approval card and what it says ([`approval::Round`]), read before the transaction that
//!   queues the cards (`Store::submit_for_approval`, `Store::resubmit_for_approval`, `Store::edit_post`).
//! - `queue`: where "Add to queue" puts a post (the next free queue slot of its accounts).

pub mod approval;
pub mod queue;
