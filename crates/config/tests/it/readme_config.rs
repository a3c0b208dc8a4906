//! The README's configuration table shows every variable the configuration reads, with the default and meaning
//! `VARIABLES` gives it, and no other.

use std::collections::BTreeSet;
use tochen_config::VARIABLES;

/// The variable a table row names in its first cell (`` | `NAME` ... ``), if any.
fn variable_of(line: &str) -> Option<&str> {
    let name = line.strip_prefix("| `")?.split('`').next()?;
    let is_variable =
        !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    is_variable.then_some(name)
}

#[test]
fn readme_config_table_matches_the_variables() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let text = std::fs::read_to_string(path).expect("README.md exists at the repository root");
    for v in VARIABLES {
        let name = if v.secret { format!("`{}` (secret)", v.name) } else { format!("`{}`", v.name) };
        let default = if v.default.is_empty() { String::new() } else { format!("`{}`", v.default) };
        let row = format!("| {name} | {default} | {} |", v.help);
        assert!(text.lines().any(|l| l == row), "README.md lacks the row\n{row}");
    }
    let documented: BTreeSet<&str> = text.lines().filter_map(variable_of).collect();
    let known: BTreeSet<&str> = VARIABLES.iter().map(|v| v.name).collect();
    let unknown: Vec<_> = documented.difference(&known).collect();
    assert!(unknown.is_empty(), "README.md documents variables the config does not read: {unknown:?}");
}
