//! The integration tests of tochen-llm, in one test binary so a test build links once.

mod llm;
mod sandbox;
