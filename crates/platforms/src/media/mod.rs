//! Media that platforms accept: a probe of the bytes ([`probe`]), one table of each endpoint's limits and the
//! check of a post's media against it ([`limits`]), and the ingest of files with their probed facts ([`ingest`]).

pub mod ingest;
pub mod limits;
pub mod probe;

pub use ingest::{facts_of, store_media_file, IngestError};
pub use limits::{check_media, MediaFacts, MediaLimits, MediaProblem, Target};
pub use probe::{probe_bytes, probe_file, Format, Probe, ProbeError};
