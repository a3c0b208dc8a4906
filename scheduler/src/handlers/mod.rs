//! Job handlers, one module per job kind family.

pub mod ads;
pub mod automation;
mod chat_changes;
pub mod delivery;
pub mod inbound;
pub mod notify;
pub mod post_change;
pub mod publish;
pub mod results;
pub mod revoke;
