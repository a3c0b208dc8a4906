//! The SQLite and PostgreSQL migration folders must stay in step: the same versions with the same names, so a
//! migration added for one backend only fails here instead of leaving the two schemas apart.

use std::collections::BTreeSet;
use std::path::Path;

fn stamps(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(backend);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    entries
        .map(|e| e.expect("directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect()
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = stamps("sqlite");
    let postgres = stamps("postgres");
    assert!(!sqlite.is_empty(), "no sqlite migrations found");
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "migrations differ: only in sqlite {only_sqlite:?}, only in postgres {only_postgres:?}"
    );
}
