//! User-facing text. Every string a person reads lives in `locales/<lang>.toml` as a flat `key = "text"` table,
//! compiled into the binary. Placeholders are `{name}`; `tf` fills them. Code always passes the key as a string
//! literal (`t(lang, "key")`), which lets `tests/locales.rs` check that every key used in code exists in every
//! locale and that all locales have the same keys.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

/// Supported languages, English first (the fallback).
pub const LANGUAGES: &[&str] = &["en", "ru", "uk", "es", "de"];

const SOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../../locales/en.toml")),
    ("ru", include_str!("../../locales/ru.toml")),
    ("uk", include_str!("../../locales/uk.toml")),
    ("es", include_str!("../../locales/es.toml")),
    ("de", include_str!("../../locales/de.toml")),
];

type Table = HashMap<String, String>;

fn tables() -> &'static HashMap<&'static str, Table> {
    static TABLES: OnceLock<HashMap<&'static str, Table>> = OnceLock::new();
    TABLES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, src)| (*lang, parse_locale(src).unwrap_or_else(|e| panic!("locales/{lang}.toml: {e}"))))
            .collect()
    })
}

/// Parses one locale file into its flat key -> text table.
pub fn parse_locale(src: &str) -> Result<Table, String> {
    let value: toml::Table = toml::from_str(src).map_err(|e| e.to_string())?;
    value
        .into_iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) => Ok((k, s)),
            other => Err(format!("key {k:?} must be a string, found {}", other.type_str())),
        })
        .collect()
}

/// The keys of one language, for the completeness test.
pub fn keys(lang: &str) -> Vec<String> {
    let mut k: Vec<String> = tables().get(lang).map(|t| t.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

/// Maps a Telegram `language_code` (`en`, `pt-BR`, `uk`) to a supported language, English when unsupported.
pub fn normalize(code: &str) -> &'static str {
    let base = code.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    LANGUAGES.iter().copied().find(|l| *l == base).unwrap_or("en")
}

/// The text of `key` in `lang`, falling back to English, then to the key itself.
pub fn t(lang: &str, key: &str) -> String {
    let lang = normalize(lang);
    let tables = tables();
    tables
        .get(lang)
        .and_then(|t| t.get(key))
        .or_else(|| tables.get("en").and_then(|t| t.get(key)))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// Like `t`, with `{name}` placeholders replaced by `args`.
pub fn tf(lang: &str, key: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut text = t(lang, key);
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_languages_fall_back_to_english() {
        assert_eq!(normalize("pt-BR"), "en");
        assert_eq!(normalize("uk"), "uk");
        assert_eq!(normalize("de-AT"), "de");
        assert_eq!(t("xx", "common.cancelled"), t("en", "common.cancelled"));
    }

    #[test]
    fn placeholders_are_filled() {
        let s = tf("en", "error.not_found", &[("what", &"post")]);
        assert!(s.contains("post"), "{s}");
        assert!(!s.contains('{'));
    }
}
