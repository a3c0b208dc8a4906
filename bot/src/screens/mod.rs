//! What several flows draw or need: the draft screen (and its photo form), moments in the workspace's zone, talking
//! to the LLM, names. Flows import from here, never from each other, so the module graph stays one-way.

pub mod buttons;
pub mod draft;
pub mod llm;
pub mod media_checks;
pub mod metrics;
pub mod names;
pub mod photo;
pub mod slots;
pub mod time;
