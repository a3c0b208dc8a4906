//! What the typed tasks answer, whoever wrote it: the LLM or the sandbox writer.

use serde::{Deserialize, Serialize};
use tochen_domain::Platform;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Idea {
    pub title: String,
    pub angle: String,
}

/// The text of a post on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftText {
    pub platform: Platform,
    pub body: String,
    pub hashtags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub title: String,
    pub image_prompt: String,
    pub texts: Vec<DraftText>,
}
