//! How many cases each property test runs.
//!
//! Property tests feed every parser that reads outside input (typed times, callback data, webhook bodies,
//! configuration) with generated values. A normal `cargo test` keeps them short (each test names its own small
//! default); `TOCHEN_PROPTEST_CASES=1000000` is the long mode that runs that many cases per property (see
//! BENCHMARKS.md). Failures are not persisted to files: the failing input is printed, and a case worth keeping
//! becomes a plain unit test.

use proptest::test_runner::Config;

/// The environment variable of the long mode.
pub const CASES_VAR: &str = "TOCHEN_PROPTEST_CASES";

/// `TOCHEN_PROPTEST_CASES` when set to a number, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var(CASES_VAR).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// A proptest configuration running [`cases`]`(default)` cases.
pub fn config(default: u32) -> Config {
    Config { cases: cases(default), failure_persistence: None, ..Config::default() }
}
