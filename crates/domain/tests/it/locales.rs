//! Every locale has every key, and every key the code uses exists.

use std::collections::BTreeSet;
use tochen_domain::i18n::{keys, LANGUAGES};

#[test]
fn every_locale_has_the_same_keys() {
    let reference: BTreeSet<String> = keys("en").into_iter().collect();
    assert!(!reference.is_empty());
    for lang in LANGUAGES {
        let these: BTreeSet<String> = keys(lang).into_iter().collect();
        let missing: Vec<_> = reference.difference(&these).collect();
        let extra: Vec<_> = these.difference(&reference).collect();
        assert!(missing.is_empty() && extra.is_empty(), "locales/{lang}.toml: missing {missing:?}, extra {extra:?}");
    }
}

#[test]
fn every_key_used_in_code_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let pattern = regex::Regex::new(r#"\btf?\(\s*[^,()]+(?:\([^()]*\))?,\s*"([A-Za-z0-9_.\-]+)""#).unwrap();
    let known: BTreeSet<String> = keys("en").into_iter().collect();
    let mut missing = BTreeSet::new();
    let mut used = 0;
    for crate_dir in ["crates", "bot", "scheduler", "web", "src"] {
        for entry in walkdir::WalkDir::new(root.join(crate_dir)).into_iter().filter_map(Result::ok) {
            if entry.path().extension().is_some_and(|e| e == "rs") {
                // Comment lines are documentation, not uses.
                let src: String = std::fs::read_to_string(entry.path())
                    .unwrap()
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                for cap in pattern.captures_iter(&src) {
                    used += 1;
                    if !known.contains(&cap[1]) {
                        missing.insert(format!("{} uses {:?}", entry.path().display(), &cap[1]));
                    }
                }
            }
        }
    }
    assert!(used > 0, "the key scanner found no uses at all; is the pattern still right?");
    assert!(missing.is_empty(), "keys missing from locales/en.toml: {missing:#?}");
}
