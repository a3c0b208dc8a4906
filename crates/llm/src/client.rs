//! The HTTP side of the LLM layer: requests, retries, usage records, quota, images.

use super::parse::extract_json;
use super::pricing::PriceTable;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tochen_config::{LlmConfig, LlmProvider};
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::MediaKind;
use tochen_store::{LlmUsageRecord, Media, Store, StoreError};

/// Who a call is for: the workspace that pays and the person who asked.
#[derive(Debug, Clone, Copy)]
pub struct CallContext {
    pub tenant: TenantId,
    pub user: Option<UserId>,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the monthly token quota of this workspace is used up ({used} of {quota} tokens)")]
    QuotaExhausted { used: i64, quota: i64 },
    #[error("the provider account has no credit left (insufficient_quota)")]
    ProviderQuota,
    #[error("the provider is rate limiting us and did not recover after {0} attempts")]
    RateLimited(u32),
    /// A rate limit handed to the caller at once, with the provider's retry-after, by a client made with
    /// [`LlmClient::passing_rate_limits`] (the batch worker, whose job queue waits instead of the client).
    #[error("the provider is rate limiting us (retry after {0:?})")]
    Throttled(Option<Duration>),
    #[error("the provider failed with status {status}: {message}")]
    Provider { status: u16, message: String },
    #[error("the provider did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the answer was cut off twice (finish_reason length)")]
    Truncated,
    #[error("the answer was not the JSON asked for, twice: {0}")]
    Malformed(String),
    #[error("cannot reach the provider: {0}")]
    Network(String),
    #[error("cannot store the generated image: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Placeholder(#[from] super::sandbox::PlaceholderError),
}

/// The outcome of one HTTP round trip, before interpretation.
enum Attempt {
    Ok(Value),
    Retry { after: Option<Duration>, error: LlmError },
    Fail(LlmError),
}

/// Prompt and completion tokens a batch estimate counts per draft (a draft prompt with the platforms' rules is
/// about 700 tokens; a three-platform answer about 800).
pub const BATCH_TOKENS_PER_DRAFT: (i64, i64) = (700, 800);

/// Talks to the configured provider and records every call.
#[derive(Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    config: LlmConfig,
    prices: PriceTable,
    store: Store,
    data_dir: PathBuf,
    /// Base delay of the exponential backoff; tests shorten it.
    backoff: Duration,
    max_attempts: u32,
    /// No LLM to ask: the sandbox writer answers (see [`LlmClient::is_sandbox`]).
    sandbox: bool,
    /// A 429 rate limit is returned at once as [`LlmError::Throttled`] instead of waited out here.
    pass_rate_limits: bool,
}

/// Whether `config` leaves the client without an LLM: no `LLM_API_KEY` for a hosted provider at its own address.
///
/// A key is not needed by a local OpenAI-compatible server (`LLM_PROVIDER=openai_compatible`) nor by any server at
/// a `LLM_BASE_URL` other than the provider's default (a proxy or a self-hosted gateway): those are still called
/// without the `Authorization` header, as before the sandbox writer existed.
pub(crate) fn needs_sandbox(config: &LlmConfig) -> bool {
    let default_url = config.provider.default_base_url().trim_end_matches('/');
    config.api_key.is_none()
        && config.provider != LlmProvider::OpenAiCompatible
        && config.base_url.as_str().trim_end_matches('/') == default_url
}

impl LlmClient {
    pub fn new(config: LlmConfig, store: Store, data_dir: PathBuf) -> Result<Self, super::pricing::PriceTableError> {
        let prices = match &config.price_table {
            Some(path) => PriceTable::load(path)?,
            None => PriceTable::builtin(),
        };
        let http = reqwest::Client::builder().timeout(config.timeout).build().expect("reqwest client builds");
        let sandbox = needs_sandbox(&config);
        if sandbox {
            tracing::info!(
                "LLM_API_KEY is not set: the sandbox writer answers ideas, drafts and images from templates"
            );
        }
        Ok(Self {
            http,
            config,
            prices,
            store,
            data_dir,
            backoff: Duration::from_millis(500),
            max_attempts: 4,
            sandbox,
            pass_rate_limits: false,
        })
    }

    /// True when no LLM is configured and the sandbox writer answers from templates instead: ideas, drafts and
    /// rewrites from the workspace's profile, placeholder images drawn locally. Nothing is sent, no quota is
    /// checked and no `llm_usage` row is written for its answers (they cost nothing).
    pub fn is_sandbox(&self) -> bool {
        self.sandbox
    }

    /// Shortens the backoff between retries (tests).
    pub fn with_backoff(mut self, base: Duration) -> Self {
        self.backoff = base;
        self
    }

    /// A client that hands a provider's 429 rate limit straight back ([`LlmError::Throttled`] with its
    /// retry-after) instead of sleeping on it: a batch item's job goes back to the queue and frees its slot.
    pub fn passing_rate_limits(mut self) -> Self {
        self.pass_rate_limits = true;
        self
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.config.base_url.as_str().trim_end_matches('/'))
    }

    /// Tokens the workspace may still use this month; `None` when its quota is unlimited.
    pub async fn quota_left(&self, tenant: TenantId) -> Result<Option<i64>, LlmError> {
        let t = self.store.tenant(tenant).await?;
        if t.llm_monthly_token_quota <= 0 {
            return Ok(None);
        }
        let since = tochen_domain::clock::month_start_ms(&t.profile.timezone, now_ms());
        let used = self.store.llm_usage_since(tenant, since).await?.tokens;
        Ok(Some((t.llm_monthly_token_quota - used).max(0)))
    }

    /// What a batch of `items` drafts (with an image each when `with_images`) is expected to cost: tokens and
    /// micro-dollars, at [`BATCH_TOKENS_PER_DRAFT`] per draft and the configured models' prices. Nothing for the
    /// sandbox writer.
    pub fn estimate_batch(&self, items: usize, with_images: bool) -> (i64, i64) {
        if self.sandbox {
            return (0, 0);
        }
        let n = items as i64;
        let (prompt, completion) = BATCH_TOKENS_PER_DRAFT;
        let tokens = n * (prompt + completion);
        let mut cost = n * self.prices.chat_cost_micros(&self.config.models.post, prompt, completion);
        if with_images {
            cost += self.prices.image_cost_micros(&self.config.models.image, n);
        }
        (tokens, cost)
    }

    /// Refuses the call when the workspace's monthly quota is spent. 0 means unlimited.
    pub async fn check_quota(&self, ctx: CallContext) -> Result<(), LlmError> {
        let tenant = self.store.tenant(ctx.tenant).await?;
        if tenant.llm_monthly_token_quota <= 0 {
            return Ok(());
        }
        let since = tochen_domain::clock::month_start_ms(&tenant.profile.timezone, now_ms());
        let used = self.store.llm_usage_since(ctx.tenant, since).await?.tokens;
        if used >= tenant.llm_monthly_token_quota {
            return Err(LlmError::QuotaExhausted { used, quota: tenant.llm_monthly_token_quota });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    /// Asks `model` for JSON matching `schema` and returns the parsed value. A truncated or unparsable answer is
    /// retried once; `validate` may reject a value that parsed but does not fit (also retried once).
    pub async fn chat_json(
        &self,
        ctx: CallContext,
        request_type: &str,
        model: &str,
        system: &str,
        user: &str,
        schema_name: &str,
        schema: Value,
        validate: impl Fn(&Value) -> Result<(), String>,
    ) -> Result<Value, LlmError> {
        self.check_quota(ctx).await?;
        let mut body = json!({
            "model": model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0.8,
            "max_tokens": 2000,
        });
        // Anthropic's compatibility layer ignores response_format; the prompt asks for JSON and parsing copes.
        if self.config.provider != LlmProvider::Anthropic {
            body["response_format"] =
                json!({"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema, "strict": true}});
        }
        let mut last = LlmError::Malformed(String::new());
        for _ in 0..2 {
            let answer = self.send(ctx, request_type, model, "chat/completions", &body).await?;
            let choice = &answer["choices"][0];
            if choice["finish_reason"] == "length" {
                last = LlmError::Truncated;
                continue;
            }
            let content = choice["message"]["content"].as_str().unwrap_or_default();
            match extract_json(content) {
                Some(v) => match validate(&v) {
                    Ok(()) => return Ok(v),
                    Err(why) => last = LlmError::Malformed(why),
                },
                None => last = LlmError::Malformed(format!("no JSON in {:?}", truncate(content, 120))),
            }
        }
        Err(last)
    }

    /// Generates one image and stores it under the data directory at once (provider URLs expire); in the sandbox, a
    /// placeholder drawn locally.
    pub async fn image(&self, ctx: CallContext, prompt: &str) -> Result<Media, LlmError> {
        if self.sandbox {
            let tenant = self.store.tenant(ctx.tenant).await?;
            let (name, prompt) = (tenant.name, prompt.to_owned());
            let png = tokio::task::spawn_blocking(move || super::sandbox::placeholder_png(&name, &prompt))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
            let kind = MediaKind::Image;
            return store_media_bytes(&self.store, &self.data_dir, ctx.tenant, &png, kind, "image/png", "sandbox")
                .await;
        }
        self.check_quota(ctx).await?;
        let model = self.config.models.image.clone();
        let body = json!({"model": model, "prompt": prompt, "size": "1024x1024", "n": 1});
        let answer = self.send(ctx, "image", &model, "images/generations", &body).await?;
        let item = &answer["data"][0];
        let bytes = if let Some(b64) = item["b64_json"].as_str() {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| LlmError::Malformed(format!("image b64_json does not decode: {e}")))?
        } else if let Some(url) = item["url"].as_str() {
            let resp = self.http.get(url).send().await.map_err(|e| LlmError::Network(e.to_string()))?;
            if !resp.status().is_success() {
                return Err(LlmError::Provider { status: resp.status().as_u16(), message: format!("download {url}") });
            }
            resp.bytes().await.map_err(|e| LlmError::Network(e.to_string()))?.to_vec()
        } else {
            return Err(LlmError::Malformed("image answer has neither b64_json nor url".into()));
        };
        let media = store_media_bytes(
            &self.store,
            &self.data_dir,
            ctx.tenant,
            &bytes,
            MediaKind::Image,
            "image/png",
            "generated",
        )
        .await?;
        Ok(media)
    }

    /// One logical request with retries on rate limits and server errors; every attempt is recorded.
    async fn send(
        &self,
        ctx: CallContext,
        request_type: &str,
        model: &str,
        path: &str,
        body: &Value,
    ) -> Result<Value, LlmError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let result = self.send_once(path, body).await;
            let latency_ms = started.elapsed().as_millis() as i64;
            let (prompt_tokens, completion_tokens, images, error) = match &result {
                Attempt::Ok(v) => (
                    v["usage"]["prompt_tokens"].as_i64().or(v["usage"]["input_tokens"].as_i64()).unwrap_or(0),
                    v["usage"]["completion_tokens"].as_i64().or(v["usage"]["output_tokens"].as_i64()).unwrap_or(0),
                    v["data"].as_array().map(|d| d.len() as i64).unwrap_or(0),
                    None,
                ),
                Attempt::Retry { error, .. } | Attempt::Fail(error) => (0, 0, 0, Some(error.to_string())),
            };
            let cost_micros = self.prices.chat_cost_micros(model, prompt_tokens, completion_tokens)
                + self.prices.image_cost_micros(model, images);
            self.store
                .record_llm_usage(
                    ctx.tenant,
                    &LlmUsageRecord {
                        user_id: ctx.user,
                        provider: self.config.provider.as_str().to_owned(),
                        model: model.to_owned(),
                        request_type: request_type.to_owned(),
                        prompt_tokens,
                        completion_tokens,
                        images,
                        cost_micros,
                        latency_ms,
                        error,
                    },
                )
                .await?;
            match result {
                Attempt::Ok(v) => return Ok(v),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { after, error: LlmError::RateLimited(_) } if self.pass_rate_limits => {
                    return Err(LlmError::Throttled(after));
                }
                Attempt::Retry { after, error } => {
                    if attempt >= self.max_attempts {
                        return Err(match error {
                            LlmError::RateLimited(_) => LlmError::RateLimited(attempt),
                            other => other,
                        });
                    }
                    let backoff = self.backoff * 2u32.pow(attempt - 1);
                    let wait = after.unwrap_or(backoff).min(Duration::from_secs(30));
                    tracing::warn!(attempt, ?wait, %error, "llm call failed; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn send_once(&self, path: &str, body: &Value) -> Attempt {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key.expose());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Attempt::Retry { after: None, error: LlmError::Timeout(self.config.timeout) }
            }
            Err(e) => return Attempt::Retry { after: None, error: LlmError::Network(e.to_string()) },
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(Duration::from_secs_f64);
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) if e.is_timeout() => {
                return Attempt::Retry { after: None, error: LlmError::Timeout(self.config.timeout) }
            }
            Err(e) => return Attempt::Retry { after: None, error: LlmError::Network(e.to_string()) },
        };
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return if value.is_object() {
                Attempt::Ok(value)
            } else {
                Attempt::Fail(LlmError::Malformed(format!("response body is not JSON: {:?}", truncate(&text, 120))))
            };
        }
        let err = &value["error"];
        let code = err["code"].as_str().or(err["type"].as_str()).unwrap_or_default();
        let message = err["message"].as_str().map(str::to_owned).unwrap_or_else(|| truncate(&text, 200).to_owned());
        match status {
            429 if code == "insufficient_quota" => Attempt::Fail(LlmError::ProviderQuota),
            429 => Attempt::Retry { after: retry_after, error: LlmError::RateLimited(1) },
            500..=599 => Attempt::Retry { after: retry_after, error: LlmError::Provider { status, message } },
            _ => Attempt::Fail(LlmError::Provider { status, message }),
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Writes bytes under `data_dir/media/<tenant>/` (named by content hash) and records the media row.
pub async fn store_media_bytes(
    store: &Store,
    data_dir: &std::path::Path,
    tenant: TenantId,
    bytes: &[u8],
    kind: MediaKind,
    content_type: &str,
    source: &str,
) -> Result<Media, LlmError> {
    let sha = hex::encode(Sha256::digest(bytes));
    // What the bytes are, not what the sender said: the type, dimensions, duration and codecs are probed.
    let probe = tochen_platforms::media::probe_bytes(bytes);
    let known = probe.format != tochen_platforms::media::Format::Unknown;
    let content_type = if known { probe.format.content_type() } else { content_type };
    let ext = if known {
        tochen_platforms::media::ingest::extension(probe.format)
    } else {
        match content_type {
            "image/png" => "png",
            "image/jpeg" => "jpg",
            "video/mp4" => "mp4",
            _ => "bin",
        }
    };
    let rel = format!("media/{}/{}.{ext}", tenant, &sha[..32]);
    let path = data_dir.join(&rel);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    tokio::fs::write(&path, bytes).await?;
    use tochen_platforms::media::ingest::{insert_probed, Stored};
    let stored = Stored { kind, content_type, size: bytes.len() as i64, sha256: sha, storage_path: rel, source };
    Ok(insert_probed(store, tenant, stored, &probe).await?)
}
