//! User-facing text. Every string a person reads lives in `locales/<lang>.toml` as a flat `key = "text"` table,
//! compiled into the binary. Placeholders are `{name}`; `tf` fills them. Code always passes the key as a string
//! literal (`t(lang, "key")`), which lets `tests/locales.rs` check that every key used in code exists in every
//! locale and that all locales have the same keys.
//!
//! Dates and times people read are written in their language too ("Чт 03 дек 2026, 08:00", not "Thu 03 Dec
//! 2026"): the weekday and month names and the order of the parts are locale keys (`date.*`), so a translator
//! owns them like any other text, rather than chrono's locale tables behind its `unstable-locales` feature.

use chrono::{DateTime, Datelike, TimeZone};
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

/// Supported languages, English first (the fallback).
pub const LANGUAGES: &[&str] = &["en", "ru", "uk", "es", "de"];

const SOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../../../locales/en.toml")),
    ("ru", include_str!("../../../locales/ru.toml")),
    ("uk", include_str!("../../../locales/uk.toml")),
    ("es", include_str!("../../../locales/es.toml")),
    ("de", include_str!("../../../locales/de.toml")),
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

/// `at` as people read it in `lang`, with the year: "Thu 03 Dec 2026, 08:00", "Чт 03 дек 2026, 08:00",
/// "Do., 03. Dez. 2026, 08:00". The time is `at`'s own (convert to the workspace's zone first).
pub fn datetime<Z: TimeZone>(lang: &str, at: &DateTime<Z>) -> String {
    date_parts(lang, at, true)
}

/// Like [`datetime`], without the year, for lists of near moments: "Thu 03 Dec 08:00".
pub fn datetime_short<Z: TimeZone>(lang: &str, at: &DateTime<Z>) -> String {
    date_parts(lang, at, false)
}

fn date_parts<Z: TimeZone>(lang: &str, at: &DateTime<Z>, with_year: bool) -> String {
    let names = |key: &str, i: usize| {
        // A list that lost an entry falls back to English rather than naming the wrong day.
        let list = t(lang, key);
        let names: Vec<&str> = list.split(',').map(str::trim).collect();
        let count = if key == "date.weekdays" { 7 } else { 12 };
        let name = if names.len() == count { names[i] } else { "" };
        if name.is_empty() {
            t("en", key).split(',').nth(i).unwrap_or_default().trim().to_owned()
        } else {
            name.to_owned()
        }
    };
    let weekday = names("date.weekdays", at.weekday().num_days_from_monday() as usize);
    let month = names("date.months", at.month0() as usize);
    let naive = at.naive_local();
    let text = if with_year { t(lang, "date.datetime") } else { t(lang, "date.datetime_short") };
    text.replace("{weekday}", &weekday)
        .replace("{day}", &naive.format("%d").to_string())
        .replace("{month}", &month)
        .replace("{year}", &naive.format("%Y").to_string())
        .replace("{time}", &naive.format("%H:%M").to_string())
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
    fn dates_are_written_in_the_persons_language() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 12, 3, 8, 5, 0).unwrap();
        assert_eq!(datetime("en", &at), "Thu 03 Dec 2026, 08:05");
        assert_eq!(datetime("ru", &at), "Чт 03 дек 2026, 08:05");
        assert_eq!(datetime("uk", &at), "Чт 03 груд 2026, 08:05");
        assert_eq!(datetime("es", &at), "jue 03 dic 2026, 08:05");
        assert_eq!(datetime("de", &at), "Do., 03. Dez. 2026, 08:05");
        assert_eq!(datetime_short("ru", &at), "Чт 03 дек 08:05");
        assert_eq!(datetime("xx", &at), datetime("en", &at));
    }

    #[test]
    fn every_language_names_seven_days_and_twelve_months() {
        for lang in LANGUAGES {
            assert_eq!(t(lang, "date.weekdays").split(',').count(), 7, "{lang}");
            assert_eq!(t(lang, "date.months").split(',').count(), 12, "{lang}");
        }
    }

    #[test]
    fn the_time_is_the_moments_own_zone() {
        let tz: chrono_tz::Tz = "Europe/Lisbon".parse().unwrap();
        let at = chrono::Utc.with_ymd_and_hms(2026, 7, 1, 23, 30, 0).unwrap().with_timezone(&tz);
        assert_eq!(datetime("en", &at), "Thu 02 Jul 2026, 00:30");
    }

    #[test]
    fn placeholders_are_filled() {
        let s = tf("en", "error.not_found", &[("what", &"post")]);
        assert!(s.contains("post"), "{s}");
        assert!(!s.contains('{'));
    }
}
