//! The LLM layer: one client for every provider, typed tasks on top (ideas, drafts, rewrites, images).
//!
//! Every provider we support speaks the OpenAI wire format at some base URL (docs/contracts/llm.md), so one HTTP client
//! covers OpenAI, Anthropic, Gemini and local servers. It talks with reqwest rather than async-openai's typed
//! client because the failure handling needs what the typed client hides: the `retry-after` header, the raw
//! error body (`rate_limit_exceeded` and `insufficient_quota` share status 429 but call for opposite actions),
//! and answers that are not valid JSON at all.
//!
//! Each call: quota check against the month so far (in the workspace's time zone) BEFORE anything is sent;
//! retries with backoff on 429 rate limits and 5xx; one more try for truncated (`finish_reason: length`) or
//! malformed answers; every HTTP round trip recorded in `llm_usage` with tokens, cost and outcome.
//!
//! Without an LLM (no `LLM_API_KEY` for a hosted provider) the same calls are answered by the sandbox writer
//! (`sandbox`): templates filled from the workspace's profile and placeholder images drawn locally, so the whole
//! flow works with only a bot token. `LlmClient::is_sandbox` tells the bot to mark what it shows (🧪).

mod client;
pub mod parse;
pub mod pricing;
pub mod sandbox;
mod tasks;
mod types;

pub use client::{store_media_bytes, CallContext, LlmClient, LlmError, BATCH_TOKENS_PER_DRAFT};
pub use pricing::PriceTable;
pub use types::{Draft, DraftText, Idea};
