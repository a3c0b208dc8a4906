//! What a call costs, from a price table in configuration (prices change faster than releases).
//!
//! Prices are US dollars per million tokens, so `tokens x price` is directly in micro-dollars, the unit the
//! usage table stores. Images are priced per image. The built-in table covers common models; `LLM_PRICE_TABLE`
//! names a JSON file of the same shape that replaces it.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct ModelPrice {
    /// USD per million prompt tokens.
    #[serde(default)]
    pub input: f64,
    /// USD per million completion tokens.
    #[serde(default)]
    pub output: f64,
    /// USD per generated image.
    #[serde(default)]
    pub image: f64,
}

/// Prices by model name. A model missing from the table costs nothing (and is logged once per call).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct PriceTable(pub HashMap<String, ModelPrice>);

#[derive(Debug, thiserror::Error)]
pub enum PriceTableError {
    #[error("cannot read price table {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("price table {path} is not valid JSON of {{\"model\": {{\"input\", \"output\", \"image\"}}}}: {source}")]
    Parse { path: String, source: serde_json::Error },
}

impl PriceTable {
    /// Built-in prices (USD, late 2026 list prices; override with `LLM_PRICE_TABLE`).
    pub fn builtin() -> Self {
        let mut m = HashMap::new();
        let mut add = |name: &str, input: f64, output: f64, image: f64| {
            m.insert(name.to_owned(), ModelPrice { input, output, image });
        };
        add("gpt-4o-mini", 0.15, 0.60, 0.0);
        add("gpt-4o", 2.50, 10.0, 0.0);
        add("gpt-4.1-mini", 0.40, 1.60, 0.0);
        add("claude-sonnet-4-5", 3.0, 15.0, 0.0);
        add("gemini-2.5-flash", 0.30, 2.50, 0.0);
        add("gpt-image-1", 0.0, 0.0, 0.042);
        add("dall-e-3", 0.0, 0.0, 0.040);
        Self(m)
    }

    /// Reads a table from a JSON file.
    pub fn load(path: &Path) -> Result<Self, PriceTableError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PriceTableError::Read { path: p.clone(), source })?;
        serde_json::from_str(&text).map_err(|source| PriceTableError::Parse { path: p, source })
    }

    /// Cost of a chat call in micro-dollars.
    pub fn chat_cost_micros(&self, model: &str, prompt_tokens: i64, completion_tokens: i64) -> i64 {
        let p = self.0.get(model).copied().unwrap_or_default();
        (prompt_tokens as f64 * p.input + completion_tokens as f64 * p.output).round() as i64
    }

    /// Cost of `images` generated images in micro-dollars.
    pub fn image_cost_micros(&self, model: &str, images: i64) -> i64 {
        let p = self.0.get(model).copied().unwrap_or_default();
        (images as f64 * p.image * 1_000_000.0).round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_prices_per_million_are_micro_dollars_per_token() {
        let t = PriceTable::builtin();
        assert_eq!(t.chat_cost_micros("gpt-4o-mini", 1_000_000, 0), 150_000);
        assert_eq!(t.chat_cost_micros("gpt-4o-mini", 1000, 1000), 750);
        assert_eq!(t.chat_cost_micros("unknown-model", 1000, 1000), 0);
        assert_eq!(t.image_cost_micros("gpt-image-1", 2), 84_000);
    }

    #[test]
    fn a_table_file_replaces_the_builtin_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.json");
        std::fs::write(&path, r#"{"my-model": {"input": 1.0, "output": 2.0}}"#).unwrap();
        let t = PriceTable::load(&path).unwrap();
        assert_eq!(t.chat_cost_micros("my-model", 10, 10), 30);
        std::fs::write(&path, "nope").unwrap();
        assert!(PriceTable::load(&path).unwrap_err().to_string().contains("prices.json"));
    }
}
