//! The integration tests of tochen-domain, in one test binary so a test build links once.

mod fernet_spec;
mod locales;
