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

/// Builds `bin` of the workspace's root package as users build it (`cargo build --release --bin <bin>`) and
/// returns the executable's path. Benches measure this binary, not the bench profile's build of it: with the
/// dev-dependencies' features its dependencies are other builds, with other symbols (so `link-order.txt` does not
/// apply to it; docs/ARCHITECTURE.md, "Code layout").
pub fn release_binary(bin: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root");
    let out = command()
        .args(["build", "--release", "--bin", bin, "--message-format=json-render-diagnostics"])
        .current_dir(root)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo build --release --bin {bin} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == bin)
        .find_map(|m| m["executable"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("cargo names no executable for {bin}"))
}
