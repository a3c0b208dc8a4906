//! Link-time layout of the release binary: the functions start-up and idling run (`link-order.txt`, made by
//! `benches/link-order.sh`) are placed side by side, so the code pages a running `tochen` keeps resident are a few
//! dense megabytes rather than 64 KiB windows spread over all of `.text`; relative relocations are packed (RELR),
//! so the loader reads kilobytes of them instead of 1.7 MB. docs/ARCHITECTURE.md, "Code layout", tells why.
//!
//! Only for release builds on x86_64 Linux linked by rustc's own lld (the default from Rust 1.90): another linker
//! may not know `--symbol-ordering-file`. `TOCHEN_LINK_ORDER=0` turns it off.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TOCHEN_LINK_ORDER");
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let release = env("PROFILE") == "release";
    let target = env("TARGET") == "x86_64-unknown-linux-gnu";
    let off = env("TOCHEN_LINK_ORDER") == "0";
    // A linker of the user's choice (`linker = ...` or `-C linker...` / `-C link-self-contained...`) keeps cc's
    // defaults; so does a compiler older than the one that links with its own lld.
    let own_linker = std::env::var_os("RUSTC_LINKER").is_none() && !env("CARGO_ENCODED_RUSTFLAGS").contains("link");
    if !release || !target || off || !own_linker || !links_with_lld(&env("RUSTC")) {
        return;
    }
    let order = std::path::Path::new(&env("CARGO_MANIFEST_DIR")).join("link-order.txt");
    println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", order.display());
    // Symbols of another build (other dependency versions, features or compiler) are skipped silently: the
    // footprint bench reports how many still match.
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    // glibc applies packed relocations from 2.36 on; a binary built against an older one keeps the plain table.
    if glibc_at_least(2, 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the glibc this binary is built against (`getconf GNU_LIBC_VERSION`: "glibc 2.36") is `major.minor` or
/// later.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    version(String::from_utf8_lossy(&out.stdout).trim().strip_prefix("glibc ").unwrap_or_default()) >= (major, minor)
}

/// `1.95.0` or `2.36` as (major, minor); (0, 0) when unreadable.
fn version(text: &str) -> (u32, u32) {
    let mut parts = text.split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Whether `rustc` is 1.90 or later, which links x86_64 Linux binaries with its own lld.
fn links_with_lld(rustc: &str) -> bool {
    let Ok(out) = Command::new(if rustc.is_empty() { "rustc" } else { rustc }).arg("-vV").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| l.strip_prefix("release: ")).is_some_and(|release| version(release) >= (1, 90))
}
