//! Job handlers, one module per job kind family.

pub mod automation;
pub mod delivery;
pub mod notify;
pub mod publish;
pub mod results;
