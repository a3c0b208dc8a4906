//! Running cargo from inside a bench that cargo started.

use std::process::Command;

/// `cargo` (the one that started this process) without the variables cargo set for the running bench or test
/// (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, `OUT_DIR`...). A build script that watches one of them (ring's watches
/// `CARGO_MANIFEST_DIR`) would otherwise run again in the inner build, and everything built on it be rebuilt, each
/// time the outer and inner builds take turns.
pub fn command() -> Command {
    let set_for_the_bench = |k: &str| {
        ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_BIN_", "CARGO_PRIMARY_", "CARGO_TARGET_TMPDIR"]
            .iter()
            .any(|p| k.starts_with(p))
            || k == "OUT_DIR"
    };
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.env_clear().envs(std::env::vars_os().filter(|(k, _)| !k.to_str().is_some_and(set_for_the_bench)));
    cmd
}
