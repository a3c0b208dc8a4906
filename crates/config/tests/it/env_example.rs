//! `.env.example` documents every variable the configuration reads, and nothing else.

use std::collections::BTreeSet;
use tochen_config::VARIABLES;

#[test]
fn env_example_documents_every_variable() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.env.example");
    let text = std::fs::read_to_string(path).expect(".env.example exists at the repository root");
    let documented: BTreeSet<&str> = text
        .lines()
        .map(|l| l.trim_start_matches('#').trim())
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .collect();
    let known: BTreeSet<&str> = VARIABLES.iter().map(|v| v.name).collect();
    let missing: Vec<_> = known.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&known).collect();
    assert!(missing.is_empty(), ".env.example misses {missing:?}");
    assert!(unknown.is_empty(), ".env.example names variables the config does not read: {unknown:?}");
}
