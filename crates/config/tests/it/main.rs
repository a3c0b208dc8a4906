//! The integration tests of tochen-config, in one test binary so a test build links once.

mod env_example;
mod readme_config;
