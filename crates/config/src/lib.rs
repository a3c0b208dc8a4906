//! Typed configuration, read once at start-up from the environment (and an optional `.env` file).
//!
//! Every value is parsed here, so a bad one stops start-up with one line naming the variable, what it holds and
//! what is expected, instead of failing later deep inside a request. Secrets are `SecretString`s: `Debug` on the
//! whole config is safe to log. Every external base URL is a setting, so a self-hosted Bot API server, a proxy or
//! a test fake can stand in for the real service.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tochen_domain::secret::SecretString;
use url::Url;

/// A configuration value that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self { var, problem: problem.into() }
    }
}

/// Which database the URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct DatabaseConfig {
    /// Kept secret because a PostgreSQL URL may carry a password.
    pub url: SecretString,
    pub kind: DatabaseKind,
    pub max_connections: u32,
    /// How long start-up keeps trying to reach a database that does not accept connections yet.
    pub startup_timeout: Duration,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url_password(self.url.expose()))
            .field("kind", &self.kind)
            .field("max_connections", &self.max_connections)
            .field("startup_timeout", &self.startup_timeout)
            .finish()
    }
}

/// How the bot receives updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelegramMode {
    Polling,
    /// Telegram POSTs updates to `{public_url}/telegram/webhook`, checked against this secret.
    Webhook {
        secret: SecretString,
    },
}

#[derive(Debug, Clone)]
pub struct TelegramConfig {
    /// `None` only for commands that do not talk to Telegram (migrate, keygen, web alone...).
    pub bot_token: Option<SecretString>,
    pub api_url: Url,
    pub mode: TelegramMode,
    /// `TELEGRAM_LOCAL_MODE`: the Bot API server runs with `--local` (self-hosted); `getFile` answers with an
    /// absolute path on that server's disk and there is no 20 MB download limit.
    pub local_mode: bool,
    /// `TELEGRAM_LOCAL_PATH_MAP` (`<server prefix>=<local prefix>`): where the server's files appear on this
    /// machine when its disk is mounted elsewhere (e.g. `/var/lib/telegram-bot-api=/mnt/tg`).
    pub local_path_map: Option<(PathBuf, PathBuf)>,
}

/// Which LLM provider family the OpenAI-compatible client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmProvider {
    OpenAi,
    Anthropic,
    Gemini,
    /// Ollama, vLLM, llama.cpp, LM Studio, OpenRouter... anything speaking the OpenAI wire format.
    OpenAiCompatible,
}

impl LlmProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::OpenAiCompatible => "openai_compatible",
        }
    }

    /// The address used when `LLM_BASE_URL` is not set.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::OpenAi => "https://api.openai.com/v1",
            Self::Anthropic => "https://api.anthropic.com/v1/",
            Self::Gemini => "https://generativelanguage.googleapis.com/v1beta/openai/",
            Self::OpenAiCompatible => "http://localhost:11434/v1",
        }
    }

    fn default_model(self) -> &'static str {
        match self {
            Self::OpenAi => "gpt-4o-mini",
            Self::Anthropic => "claude-sonnet-4-5",
            Self::Gemini => "gemini-2.5-flash",
            Self::OpenAiCompatible => "llama3.1",
        }
    }
}

/// The model used for each kind of request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmModels {
    pub ideas: String,
    pub post: String,
    pub hashtags: String,
    pub rewrite: String,
    pub image: String,
}

#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub provider: LlmProvider,
    pub api_key: Option<SecretString>,
    pub base_url: Url,
    pub models: LlmModels,
    pub timeout: Duration,
    /// Optional JSON file with per-model prices; built-in defaults otherwise.
    pub price_table: Option<PathBuf>,
    /// Default monthly token quota for new workspaces (0 = unlimited).
    pub default_monthly_token_quota: i64,
    /// Most LLM calls of one workspace's generation batches at once (`LLM_BATCH_CONCURRENCY`).
    pub batch_concurrency: usize,
    /// Most batch LLM calls of all workspaces at once in one process (`LLM_BATCH_GLOBAL_CONCURRENCY`).
    pub batch_global_concurrency: usize,
}

#[derive(Debug, Clone)]
pub struct MetaConfig {
    pub app_id: Option<String>,
    pub app_secret: Option<SecretString>,
    pub graph_url: Url,
    pub graph_version: String,
    pub dialog_url: Url,
    pub webhook_verify_token: Option<SecretString>,
    pub instagram_app_id: Option<String>,
    pub instagram_app_secret: Option<SecretString>,
    pub instagram_graph_url: Url,
    pub instagram_api_url: Url,
    pub instagram_authorize_url: Url,
    /// Most hashtags an Instagram post may carry (Instagram announced a cut from 30 to 5, so it is configurable).
    pub instagram_max_hashtags: usize,
    /// Host of Facebook Page video uploads (`graph-video.facebook.com`), same version as `graph_url`.
    pub graph_video_url: Url,
    /// Most items of an Instagram carousel (Meta's reference says 10, the app allows 20).
    pub instagram_carousel_max: usize,
    /// Largest Instagram Reel pulled by `video_url`, in MB (Meta's reference says 300).
    pub instagram_reel_max_mb: u64,
}

/// Ad reporting: the TikTok API for Business app and the insights sync (Meta ads use `MetaConfig`'s Graph host).
#[derive(Debug, Clone)]
pub struct AdsConfig {
    pub tiktok_url: Url,
    /// `v1.3`: the path prefix is `/open_api/{version}/`.
    pub tiktok_version: String,
    pub tiktok_app_id: Option<String>,
    pub tiktok_secret: Option<SecretString>,
    /// Days read when an ad account is connected.
    pub backfill_days: u32,
    /// Meta insights ranges longer than this many days go through asynchronous report runs.
    pub async_after_days: u32,
}

#[derive(Debug, Clone)]
pub struct TikTokConfig {
    pub client_key: Option<String>,
    pub client_secret: Option<SecretString>,
    pub api_url: Url,
    pub auth_url: Url,
}

#[derive(Clone)]
pub struct SmtpConfig {
    /// `smtps://user:pass@host:465` (implicit TLS) or `smtp://user:pass@host:587` (STARTTLS required).
    pub url: SecretString,
    pub from: String,
    /// How the connection is protected (`SMTP_TLS`).
    pub tls: SmtpTls,
    /// `SMTP_CA_FILE`: the file and the CA certificates (DER) read from it at start-up, trusted besides the
    /// operating system's store and the built-in roots.
    pub ca_file: Option<SmtpCaFile>,
}

/// The extra CA certificates of `SMTP_CA_FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpCaFile {
    pub path: PathBuf,
    /// DER of every certificate in the file (at least one).
    pub certs: Vec<Vec<u8>>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &redact_url_password(self.url.expose()))
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file.as_ref().map(|c| (c.path.display().to_string(), c.certs.len())))
            .finish()
    }
}

/// `SMTP_TLS`: whether and how email is encrypted on the way to the relay. No mode ever falls back to clear text:
/// only `none` sends unencrypted, and only to a loopback or private address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// TLS is required: implicit TLS for `smtps://` URLs, STARTTLS for `smtp://` URLs (a relay that does not offer
    /// it is refused).
    #[default]
    Required,
    /// STARTTLS on an `smtp://` URL, required (an `smtps://` URL is a configuration error).
    StartTls,
    /// No TLS at all, even if the relay offers STARTTLS. Only to loopback or private addresses; a warning is
    /// logged at start-up.
    None,
}

impl SmtpTls {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::StartTls => "starttls",
            Self::None => "none",
        }
    }
}

/// Whether `ip` is a loopback address or a private one (RFC 1918, IPv6 unique local fc00::/7), IPv4-mapped IPv6
/// addresses judged by their IPv4 address: where `SMTP_TLS=none` may send in clear.
pub fn is_loopback_or_private(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_loopback() || v4.is_private(),
            None => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
        },
    }
}

/// Checks that `host` is only ever loopback or private: an IP literal directly, `localhost` (and `*.localhost`,
/// RFC 6761) by name, any other name by resolving it now and checking every address it has.
pub fn check_plaintext_host(host: &str, port: u16) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return if is_loopback_or_private(ip) { Ok(()) } else { Err(format!("{ip} is a public address")) };
    }
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Ok(());
    }
    let addrs: Vec<std::net::IpAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("{host} cannot be resolved to check that it is private ({e})"))?
        .map(|a| a.ip())
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    match addrs.iter().find(|ip| !is_loopback_or_private(**ip)) {
        Some(public) => Err(format!("{host} resolves to the public address {public}")),
        None => Ok(()),
    }
}

/// The default port of an SMTP URL's scheme under `tls`.
pub fn smtp_default_port(scheme: &str, tls: SmtpTls) -> u16 {
    match (scheme, tls) {
        ("smtps", _) => 465,
        (_, SmtpTls::None) => 25,
        _ => 587,
    }
}

/// Reads `SMTP_CA_FILE`: every PEM certificate in it (at least one), or what is wrong with it.
fn read_ca_file(path: &std::path::Path) -> Result<Vec<Vec<u8>>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let bytes = std::fs::read(path).map_err(|e| {
        format!("{} cannot be read ({e}); point it to a PEM file with your relay's CA certificate", path.display())
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            format!("{} is not a valid PEM file ({e}); expected -----BEGIN CERTIFICATE----- blocks", path.display())
        })?;
    if certs.is_empty() {
        return Err(format!(
            "{} holds no certificate; expected one or more -----BEGIN CERTIFICATE----- blocks",
            path.display()
        ));
    }
    Ok(certs)
}

#[derive(Debug, Clone)]
pub struct WebConfig {
    pub bind: SocketAddr,
    pub metrics_bind: SocketAddr,
    /// The address the outside world reaches this service at (OAuth redirect URIs, media URLs, webhooks).
    pub public_url: Url,
    pub max_body_bytes: usize,
    /// Peers whose `X-Forwarded-For` names the client (for the per-IP rate limit); empty: nobody's.
    pub trusted_proxies: TrustedProxies,
    pub rate_limits: RateLimits,
    /// The Mini App at `/app`: how old its sign-in data may be, and where its page loads Telegram's script from.
    pub miniapp: MiniAppConfig,
}

/// The Telegram Mini App (`MINIAPP_INIT_DATA_MAX_AGE_SECS`, `MINIAPP_TELEGRAM_SDK_URL`).
#[derive(Debug, Clone)]
pub struct MiniAppConfig {
    /// The oldest `initData` accepted, in seconds (Telegram signs it when the app opens; default a day).
    pub init_data_max_age_secs: i64,
    /// Telegram's Web App script (`telegram-web-app.js`); a copy served elsewhere may be named instead.
    pub sdk_url: Url,
}

/// How much traffic the public routes accept (`TOCHEN_RATE_LIMIT_PER_IP`, `TOCHEN_RATE_LIMIT_BURST`,
/// `TOCHEN_WEBHOOK_RATE_LIMIT`). Every value is at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per second from one client address (an IPv6 client's whole /64).
    pub per_ip_per_second: u32,
    /// The most requests one client address may make at once.
    pub per_ip_burst: u32,
    /// Validly signed webhook requests per second on each webhook route, all senders together (the same number
    /// may come at once). Meta and TikTok deliver from a few shared addresses, so signed requests are not
    /// counted per address; this limit protects the database instead.
    pub webhook_per_second: u32,
    /// Requests per minute one HTTP API token may make (all of them may come at once), `TOCHEN_API_RATE_LIMIT`.
    pub api_per_minute: u32,
}

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub concurrency: usize,
    pub per_account_concurrency: usize,
    pub lease: Duration,
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Everything tochen reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub data_dir: PathBuf,
    /// Fernet keys, first encrypts. Empty when unset: the binary then uses (or creates) `{data_dir}/secret.key`.
    pub secret_keys: Vec<SecretString>,
    pub telegram: TelegramConfig,
    pub llm: LlmConfig,
    pub meta: MetaConfig,
    pub tiktok: TikTokConfig,
    pub ads: AdsConfig,
    pub smtp: Option<SmtpConfig>,
    pub web: WebConfig,
    pub scheduler: SchedulerConfig,
    pub webhook_allow_private: bool,
    /// Largest file `/new <link>` imports, in bytes.
    pub media_import_max_bytes: u64,
    pub log_format: LogFormat,
    /// Whether the sandbox (simulated accounts of every platform) is offered.
    pub sandbox: SandboxMode,
    /// Who runs this instance and who may create workspaces.
    pub operator: OperatorConfig,
}

/// `TOCHEN_OPERATORS` and `TOCHEN_WORKSPACE_CREATION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorConfig {
    /// Telegram user ids of the operators. Empty: the first person to `/start` becomes the operator.
    pub operators: Vec<i64>,
    pub creation: WorkspaceCreation,
}

/// Who may create a workspace. Joining one by invite link is always open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceCreation {
    /// Anyone who starts the bot.
    Open,
    /// Only the operators.
    Operators,
    /// The operators, and whoever opens a single-use creation link an operator handed out (the default).
    Code,
}

impl WorkspaceCreation {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceCreation::Open => "open",
            WorkspaceCreation::Operators => "operators",
            WorkspaceCreation::Code => "code",
        }
    }
}

/// `TOCHEN_SANDBOX`: whether `/connect` offers sandbox accounts, published to a simulated platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxMode {
    /// On while no real platform is configured (the default): a bot token alone reaches a published post.
    Auto,
    On,
    Off,
}

mod proxies;
mod secret_keys;
mod variables;
pub use proxies::TrustedProxies;
pub use secret_keys::{
    first_secret_key, load_or_create_secret_keys, load_secret_keys, media_signing_key, ResolvedKeys,
};
pub use variables::{VarDoc, VARIABLES};

/// The source of raw values: the process environment, or a map in tests.
pub trait VarSource {
    fn get(&self, name: &str) -> Option<String>;
}

/// Reads the process environment (after `.env` was loaded into it).
pub struct ProcessEnv;

impl VarSource for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl VarSource for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

struct Reader<'a> {
    src: &'a dyn VarSource,
}

impl Reader<'_> {
    /// A set, non-blank value.
    fn opt(&self, var: &'static str) -> Option<String> {
        self.src.get(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn string(&self, var: &'static str, default: &str) -> String {
        self.opt(var).unwrap_or_else(|| default.to_owned())
    }

    fn secret(&self, var: &'static str) -> Option<SecretString> {
        self.opt(var).map(SecretString::new)
    }

    fn url(&self, var: &'static str, default: &str) -> Result<Url, ConfigError> {
        let raw = self.string(var, default);
        let url = Url::parse(&raw)
            .map_err(|e| ConfigError::new(var, format!("{raw:?} is not a valid URL ({e}); expected e.g. {default}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::new(var, format!("{raw:?} must start with http:// or https://")));
        }
        Ok(url)
    }

    fn parse<T: std::str::FromStr>(&self, var: &'static str, default: &str, expected: &str) -> Result<T, ConfigError> {
        let raw = self.string(var, default);
        raw.parse().map_err(|_| ConfigError::new(var, format!("{raw:?} is not {expected}")))
    }

    fn bool(&self, var: &'static str) -> Result<bool, ConfigError> {
        match self.opt(var).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "0" | "no" | "off") => Ok(false),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some(other) => Err(ConfigError::new(var, format!("{other:?} is not a boolean; use true or false"))),
        }
    }

    fn positive(&self, var: &'static str, default: &str) -> Result<u64, ConfigError> {
        let n: u64 = self.parse(var, default, "a positive whole number")?;
        if n == 0 {
            return Err(ConfigError::new(var, "must be at least 1"));
        }
        Ok(n)
    }

    /// A positive number that fits a `u32` (rates and bursts).
    fn positive_u32(&self, var: &'static str, default: &str) -> Result<u32, ConfigError> {
        let n = self.positive(var, default)?;
        u32::try_from(n).map_err(|_| ConfigError::new(var, format!("{n} is too large; use at most {}", u32::MAX)))
    }

    /// A whole number of tokens, 0 for unlimited; never negative (a negative quota would block every call).
    fn quota(&self, var: &'static str, default: &str) -> Result<i64, ConfigError> {
        let n: u64 = self.parse(var, default, "a whole number of tokens (0 = unlimited)")?;
        i64::try_from(n).ok().filter(|n| *n <= MAX_QUOTA).ok_or_else(|| {
            ConfigError::new(var, format!("{n} is too large; use at most {MAX_QUOTA}, or 0 for unlimited"))
        })
    }

    /// A positive whole number up to `max`: counts and durations meet timers, pools and millisecond arithmetic,
    /// where an absurd value would overflow or never end.
    fn bounded(&self, var: &'static str, default: &str, max: u64) -> Result<u64, ConfigError> {
        let n = self.positive(var, default)?;
        if n > max {
            return Err(ConfigError::new(var, format!("{n} is too large; use at most {max}")));
        }
        Ok(n)
    }
}

impl Config {
    /// Reads `.env` (if present) into the environment, then the environment into a `Config`.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth a clear line.
        if let Err(e) = dotenvy::dotenv() {
            if !e.not_found() {
                return Err(ConfigError::new(".env", format!("cannot be read: {e}")));
            }
        }
        Self::from_source(&ProcessEnv)
    }

    /// Parses and validates every variable from `src`.
    pub fn from_source(src: &dyn VarSource) -> Result<Self, ConfigError> {
        let r = Reader { src };

        let db_url = r.string("DATABASE_URL", "sqlite://data/tochen.db");
        let kind = database_kind(&db_url)?;
        let database = DatabaseConfig {
            url: SecretString::new(db_url),
            kind,
            max_connections: r.bounded("DATABASE_MAX_CONNECTIONS", "10", MAX_COUNT)? as u32,
            startup_timeout: Duration::from_secs(r.bounded("TOCHEN_DB_STARTUP_TIMEOUT", "60", HOUR_SECS)?),
        };

        let secret_keys: Vec<SecretString> = r
            .opt("TOCHEN_SECRET_KEYS")
            .map(|v| v.split(',').map(str::trim).filter(|k| !k.is_empty()).map(SecretString::new).collect())
            .unwrap_or_default();
        if let Some(pos) = secret_keys.iter().position(|k| !tochen_domain::crypto::SecretBox::is_valid_key(k.expose()))
        {
            return Err(ConfigError::new(
                "TOCHEN_SECRET_KEYS",
                format!("key #{} is not a valid Fernet key (44 characters of url-safe base64); make one with `tochen keygen`", pos + 1),
            ));
        }

        let mode = match r.string("TELEGRAM_MODE", "polling").to_ascii_lowercase().as_str() {
            "polling" => TelegramMode::Polling,
            "webhook" => {
                let secret = r.opt("TELEGRAM_WEBHOOK_SECRET").ok_or_else(|| {
                    ConfigError::new(
                        "TELEGRAM_WEBHOOK_SECRET",
                        "is required when TELEGRAM_MODE=webhook (1-256 chars of A-Z a-z 0-9 _ -)",
                    )
                })?;
                let valid = (1..=256).contains(&secret.len())
                    && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !valid {
                    return Err(ConfigError::new("TELEGRAM_WEBHOOK_SECRET", "must be 1-256 chars of A-Z a-z 0-9 _ -"));
                }
                TelegramMode::Webhook { secret: SecretString::new(secret) }
            }
            other => {
                return Err(ConfigError::new(
                    "TELEGRAM_MODE",
                    format!("{other:?} is not a mode; use polling or webhook"),
                ))
            }
        };
        let bot_token = r.secret("TELEGRAM_BOT_TOKEN");
        if let Some(t) = &bot_token {
            if !looks_like_bot_token(t.expose()) {
                return Err(ConfigError::new("TELEGRAM_BOT_TOKEN", BOT_TOKEN_SHAPE));
            }
        }
        let local_path_map = match r.opt("TELEGRAM_LOCAL_PATH_MAP") {
            None => None,
            Some(raw) => match raw.split_once('=') {
                Some((from, to)) if from.starts_with('/') && !to.trim().is_empty() => {
                    Some((PathBuf::from(from.trim()), PathBuf::from(to.trim())))
                }
                _ => {
                    return Err(ConfigError::new(
                        "TELEGRAM_LOCAL_PATH_MAP",
                        format!("{raw:?} is not <absolute server prefix>=<local prefix>, e.g. /var/lib/telegram-bot-api=/mnt/tg"),
                    ))
                }
            },
        };
        let telegram = TelegramConfig {
            bot_token,
            api_url: r.url("TELEGRAM_API_URL", "https://api.telegram.org")?,
            mode,
            local_mode: r.bool("TELEGRAM_LOCAL_MODE")?,
            local_path_map,
        };

        let provider = match r.string("LLM_PROVIDER", "openai").to_ascii_lowercase().as_str() {
            "openai" => LlmProvider::OpenAi,
            "anthropic" => LlmProvider::Anthropic,
            "gemini" => LlmProvider::Gemini,
            "openai_compatible" | "ollama" | "vllm" | "openrouter" | "compatible" => LlmProvider::OpenAiCompatible,
            other => {
                return Err(ConfigError::new(
                    "LLM_PROVIDER",
                    format!("{other:?} is not a provider; use openai, anthropic, gemini or openai_compatible"),
                ))
            }
        };
        let default_model = r.string("LLM_MODEL", provider.default_model());
        let model = |var| r.string(var, &default_model);
        let llm = LlmConfig {
            provider,
            api_key: r.secret("LLM_API_KEY"),
            base_url: r.url("LLM_BASE_URL", provider.default_base_url())?,
            models: LlmModels {
                ideas: model("LLM_MODEL_IDEAS"),
                post: model("LLM_MODEL_POST"),
                hashtags: model("LLM_MODEL_HASHTAGS"),
                rewrite: model("LLM_MODEL_REWRITE"),
                image: r.string("LLM_MODEL_IMAGE", "gpt-image-1"),
            },
            timeout: Duration::from_secs(r.bounded("LLM_TIMEOUT_SECS", "60", HOUR_SECS)?),
            price_table: r.opt("LLM_PRICE_TABLE").map(PathBuf::from),
            default_monthly_token_quota: r.quota("LLM_MONTHLY_TOKEN_QUOTA", "2000000")?,
            batch_concurrency: r.bounded("LLM_BATCH_CONCURRENCY", "5", 100)? as usize,
            batch_global_concurrency: r.bounded("LLM_BATCH_GLOBAL_CONCURRENCY", "20", 1000)? as usize,
        };

        let graph_version = r.string("META_GRAPH_VERSION", "v25.0");
        let version_ok = graph_version
            .strip_prefix('v')
            .and_then(|v| v.strip_suffix(".0"))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if !version_ok {
            return Err(ConfigError::new(
                "META_GRAPH_VERSION",
                format!("{graph_version:?} is not a Graph API version like v25.0"),
            ));
        }
        let meta = MetaConfig {
            app_id: r.opt("META_APP_ID"),
            app_secret: r.secret("META_APP_SECRET"),
            graph_url: r.url("META_GRAPH_URL", "https://graph.facebook.com")?,
            graph_version,
            dialog_url: r.url("META_DIALOG_URL", "https://www.facebook.com")?,
            webhook_verify_token: r.secret("META_WEBHOOK_VERIFY_TOKEN"),
            instagram_app_id: r.opt("INSTAGRAM_APP_ID"),
            instagram_app_secret: r.secret("INSTAGRAM_APP_SECRET"),
            instagram_graph_url: r.url("INSTAGRAM_GRAPH_URL", "https://graph.instagram.com")?,
            instagram_api_url: r.url("INSTAGRAM_API_URL", "https://api.instagram.com")?,
            instagram_authorize_url: r.url("INSTAGRAM_AUTHORIZE_URL", "https://www.instagram.com")?,
            instagram_max_hashtags: r.bounded("TOCHEN_INSTAGRAM_MAX_HASHTAGS", "30", MAX_HASHTAGS)? as usize,
            graph_video_url: r.url("META_GRAPH_VIDEO_URL", "https://graph-video.facebook.com")?,
            instagram_carousel_max: r.bounded("TOCHEN_INSTAGRAM_CAROUSEL_MAX", "10", 100)? as usize,
            instagram_reel_max_mb: r.bounded("TOCHEN_INSTAGRAM_REEL_MAX_MB", "300", 100_000)?,
        };
        if meta.app_id.is_some() != meta.app_secret.is_some() {
            return Err(ConfigError::new("META_APP_SECRET", "META_APP_ID and META_APP_SECRET must be set together"));
        }
        if meta.instagram_app_id.is_some() != meta.instagram_app_secret.is_some() {
            return Err(ConfigError::new(
                "INSTAGRAM_APP_SECRET",
                "INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET must be set together",
            ));
        }
        let tiktok = TikTokConfig {
            client_key: r.opt("TIKTOK_CLIENT_KEY"),
            client_secret: r.secret("TIKTOK_CLIENT_SECRET"),
            api_url: r.url("TIKTOK_API_URL", "https://open.tiktokapis.com")?,
            auth_url: r.url("TIKTOK_AUTH_URL", "https://www.tiktok.com")?,
        };
        if tiktok.client_key.is_some() != tiktok.client_secret.is_some() {
            return Err(ConfigError::new(
                "TIKTOK_CLIENT_SECRET",
                "TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET must be set together",
            ));
        }

        let tiktok_version = r.string("TIKTOK_ADS_VERSION", "v1.3");
        let ads_version_ok = tiktok_version.strip_prefix('v').and_then(|v| v.split_once('.')).is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && (a.to_owned() + b).chars().all(|c| c.is_ascii_digit())
        });
        if !ads_version_ok {
            return Err(ConfigError::new(
                "TIKTOK_ADS_VERSION",
                format!("{tiktok_version:?} is not a Marketing API version like v1.3"),
            ));
        }
        let ads = AdsConfig {
            tiktok_url: r.url("TIKTOK_ADS_URL", "https://business-api.tiktok.com")?,
            tiktok_version,
            tiktok_app_id: r.opt("TIKTOK_ADS_APP_ID"),
            tiktok_secret: r.secret("TIKTOK_ADS_SECRET"),
            backfill_days: r.bounded("TOCHEN_ADS_BACKFILL_DAYS", "30", 1100)? as u32,
            async_after_days: r.bounded("TOCHEN_ADS_ASYNC_AFTER_DAYS", "14", 1100)? as u32,
        };
        if ads.tiktok_app_id.is_some() != ads.tiktok_secret.is_some() {
            return Err(ConfigError::new(
                "TIKTOK_ADS_SECRET",
                "TIKTOK_ADS_APP_ID and TIKTOK_ADS_SECRET must be set together",
            ));
        }

        let smtp = match r.opt("SMTP_URL") {
            None => None,
            Some(raw) => {
                let parsed = Url::parse(&raw).map_err(|_| {
                    ConfigError::new(
                        "SMTP_URL",
                        "is not a URL; expected smtps://user:pass@host:465 or smtp://user:pass@host:587",
                    )
                })?;
                if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().is_none() {
                    return Err(ConfigError::new(
                        "SMTP_URL",
                        "must look like smtps://user:pass@host:465 or smtp://user:pass@host:587",
                    ));
                }
                let from = r.opt("SMTP_FROM").ok_or_else(|| {
                    ConfigError::new(
                        "SMTP_FROM",
                        "is required when SMTP_URL is set (e.g. tochen <reports@example.com>)",
                    )
                })?;
                let tls = match r.string("SMTP_TLS", "required").to_ascii_lowercase().as_str() {
                    "required" => SmtpTls::Required,
                    "starttls" => SmtpTls::StartTls,
                    "none" => SmtpTls::None,
                    other => {
                        return Err(ConfigError::new(
                            "SMTP_TLS",
                            format!("{other:?} is not a mode; use required, starttls or none"),
                        ))
                    }
                };
                if parsed.scheme() == "smtps" && tls != SmtpTls::Required {
                    return Err(ConfigError::new(
                        "SMTP_TLS",
                        format!(
                            "{} cannot be used with an smtps:// URL (implicit TLS); use smtp://host:{} or SMTP_TLS=required",
                            tls.as_str(),
                            smtp_default_port("smtp", tls)
                        ),
                    ));
                }
                if tls == SmtpTls::None {
                    let host = parsed.host_str().unwrap_or_default();
                    let port = parsed.port().unwrap_or(smtp_default_port(parsed.scheme(), tls));
                    check_plaintext_host(host, port).map_err(|why| {
                        ConfigError::new(
                            "SMTP_TLS",
                            format!(
                                "none sends email in clear and is only allowed to a loopback or private address, \
                                 but {why}; use SMTP_TLS=required (set SMTP_CA_FILE for a private CA)"
                            ),
                        )
                    })?;
                }
                let ca_file = match r.opt("SMTP_CA_FILE") {
                    None => None,
                    Some(path) => {
                        let path = PathBuf::from(path);
                        let certs = read_ca_file(&path).map_err(|why| ConfigError::new("SMTP_CA_FILE", why))?;
                        Some(SmtpCaFile { path, certs })
                    }
                };
                Some(SmtpConfig { url: SecretString::new(raw), from, tls, ca_file })
            }
        };

        let public_url = r.url("TOCHEN_PUBLIC_URL", "http://localhost:8080")?;
        let web = WebConfig {
            bind: r.parse("TOCHEN_BIND", "0.0.0.0:8080", "a socket address like 0.0.0.0:8080")?,
            metrics_bind: r.parse("TOCHEN_METRICS_BIND", "127.0.0.1:9090", "a socket address like 127.0.0.1:9090")?,
            public_url,
            max_body_bytes: r.bounded("TOCHEN_MAX_BODY_BYTES", "1048576", MAX_BODY_BYTES)? as usize,
            trusted_proxies: TrustedProxies::parse(&r.string("TOCHEN_TRUSTED_PROXIES", ""))
                .map_err(|problem| ConfigError::new("TOCHEN_TRUSTED_PROXIES", problem))?,
            rate_limits: RateLimits {
                per_ip_per_second: r.positive_u32("TOCHEN_RATE_LIMIT_PER_IP", "50")?,
                per_ip_burst: r.positive_u32("TOCHEN_RATE_LIMIT_BURST", "200")?,
                webhook_per_second: r.positive_u32("TOCHEN_WEBHOOK_RATE_LIMIT", "200")?,
                api_per_minute: r.positive_u32("TOCHEN_API_RATE_LIMIT", "600")?,
            },
            miniapp: MiniAppConfig {
                init_data_max_age_secs: r.bounded("MINIAPP_INIT_DATA_MAX_AGE_SECS", "86400", 30 * DAY_SECS)? as i64,
                sdk_url: r.url("MINIAPP_TELEGRAM_SDK_URL", "https://telegram.org/js/telegram-web-app.js")?,
            },
        };
        let scheduler = SchedulerConfig {
            concurrency: r.bounded("SCHEDULER_CONCURRENCY", "16", MAX_COUNT)? as usize,
            per_account_concurrency: r.bounded("SCHEDULER_PER_ACCOUNT_CONCURRENCY", "1", MAX_COUNT)? as usize,
            lease: Duration::from_secs(r.bounded("SCHEDULER_LEASE_SECS", "300", DAY_SECS)?),
            shutdown_grace: Duration::from_secs(r.bounded("SCHEDULER_SHUTDOWN_GRACE_SECS", "30", HOUR_SECS)?),
        };
        let log_format = match r.string("TOCHEN_LOG_FORMAT", "pretty").to_ascii_lowercase().as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    "TOCHEN_LOG_FORMAT",
                    format!("{other:?} is not a format; use pretty or json"),
                ))
            }
        };

        let sandbox = match r.string("TOCHEN_SANDBOX", "auto").to_ascii_lowercase().as_str() {
            "auto" => SandboxMode::Auto,
            "true" | "on" | "1" | "yes" => SandboxMode::On,
            "false" | "off" | "0" | "no" => SandboxMode::Off,
            other => {
                return Err(ConfigError::new(
                    "TOCHEN_SANDBOX",
                    format!("{other:?} is not a mode; use auto, true or false"),
                ))
            }
        };

        let creation = match r.string("TOCHEN_WORKSPACE_CREATION", "code").to_ascii_lowercase().as_str() {
            "open" => WorkspaceCreation::Open,
            "operators" => WorkspaceCreation::Operators,
            "code" => WorkspaceCreation::Code,
            other => {
                return Err(ConfigError::new(
                    "TOCHEN_WORKSPACE_CREATION",
                    format!("{other:?} is not a policy; use open, operators or code"),
                ))
            }
        };
        let operators = r
            .string("TOCHEN_OPERATORS", "")
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
                    ConfigError::new(
                        "TOCHEN_OPERATORS",
                        format!("{s:?} is not a Telegram user id; list numeric ids separated by commas"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        Ok(Self {
            database,
            data_dir: PathBuf::from(r.string("TOCHEN_DATA_DIR", "data")),
            secret_keys,
            telegram,
            llm,
            meta,
            tiktok,
            ads,
            smtp,
            web,
            scheduler,
            webhook_allow_private: r.bool("TOCHEN_WEBHOOK_ALLOW_PRIVATE")?,
            media_import_max_bytes: r.bounded("TOCHEN_MEDIA_IMPORT_MAX_MB", "200", MAX_IMPORT_MB)? * 1024 * 1024,
            log_format,
            sandbox,
            operator: OperatorConfig { operators, creation },
        })
    }

    /// The bot token, or the error that a command needing Telegram reports.
    pub fn require_bot_token(&self) -> Result<&SecretString, ConfigError> {
        self.telegram.bot_token.as_ref().ok_or_else(|| {
            ConfigError::new("TELEGRAM_BOT_TOKEN", "is required: create a bot with @BotFather and put its token here")
        })
    }
}

/// Upper bounds of numeric settings (see `Reader::bounded`).
const MAX_COUNT: u64 = 10_000;
/// Most hashtags a platform limit may be set to.
const MAX_HASHTAGS: u64 = 1000;
/// The most `TOCHEN_MEDIA_IMPORT_MAX_MB` may be: the largest upload a self-hosted Bot API takes.
const MAX_IMPORT_MB: u64 = 2000;
const HOUR_SECS: u64 = 3_600;
const DAY_SECS: u64 = 86_400;
const MAX_BODY_BYTES: u64 = 1 << 30;
const MAX_QUOTA: i64 = 1_000_000_000_000_000;

/// `sqlite:` or `postgres:`/`postgresql:`; anything else is refused.
fn database_kind(url: &str) -> Result<DatabaseKind, ConfigError> {
    if url.starts_with("sqlite:") {
        Ok(DatabaseKind::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DatabaseKind::Postgres)
    } else {
        Err(ConfigError::new(
            "DATABASE_URL",
            format!("{:?} is neither sqlite://path nor postgres://user@host/db", redact_url_password(url)),
        ))
    }
}

/// What a malformed bot token is told (never echoing the value: it is a secret, maybe a real one mistyped).
const BOT_TOKEN_SHAPE: &str = "is not a bot token: a valid one is the bot id (digits), a colon and 35 characters of \
     A-Z a-z 0-9 _ -, like 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ; copy it again from @BotFather";

/// `<bot id>:<35 characters of [A-Za-z0-9_-]>`, the shape @BotFather hands out.
fn looks_like_bot_token(t: &str) -> bool {
    match t.split_once(':') {
        Some((id, secret)) => {
            (1..=20).contains(&id.len())
                && id.bytes().all(|c| c.is_ascii_digit())
                && secret.len() == 35
                && secret.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        }
        None => false,
    }
}

/// A URL with any password replaced by `****`, for logs and `check-config`.
pub fn redact_url_password(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_need_nothing_and_pick_sqlite() {
        let c = Config::from_source(&env(&[])).unwrap();
        assert_eq!(c.database.kind, DatabaseKind::Sqlite);
        assert_eq!(c.database.url.expose(), "sqlite://data/tochen.db");
        assert_eq!(c.telegram.api_url.as_str(), "https://api.telegram.org/");
        assert_eq!(c.meta.graph_version, "v25.0");
        assert!(c.telegram.bot_token.is_none());
        assert_eq!(c.require_bot_token().unwrap_err().var, "TELEGRAM_BOT_TOKEN");
    }

    #[test]
    fn postgres_url_selects_postgres() {
        let c = Config::from_source(&env(&[("DATABASE_URL", "postgres://u:pw@db/tochen")])).unwrap();
        assert_eq!(c.database.kind, DatabaseKind::Postgres);
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let cases = [
            ("DATABASE_URL", "mysql://x"),
            ("TOCHEN_BIND", "not-an-address"),
            ("TELEGRAM_API_URL", "ftp://x"),
            ("TELEGRAM_MODE", "carrier-pigeon"),
            ("TELEGRAM_BOT_TOKEN", "abc"),
            ("LLM_PROVIDER", "skynet"),
            ("META_GRAPH_VERSION", "25"),
            ("SCHEDULER_CONCURRENCY", "0"),
            ("TOCHEN_SECRET_KEYS", "short"),
            ("TOCHEN_WEBHOOK_ALLOW_PRIVATE", "maybe"),
            ("TOCHEN_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal"),
            ("TOCHEN_RATE_LIMIT_PER_IP", "0"),
            ("TOCHEN_RATE_LIMIT_BURST", "lots"),
            ("TOCHEN_WEBHOOK_RATE_LIMIT", "99999999999"),
        ];
        for (var, value) in cases {
            let err = Config::from_source(&env(&[(var, value)])).unwrap_err();
            assert_eq!(err.var, var, "{value}: {err}");
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn trusted_proxies_default_to_nobody_and_parse_a_list() {
        assert!(Config::from_source(&env(&[])).unwrap().web.trusted_proxies.is_empty());
        let c = Config::from_source(&env(&[("TOCHEN_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")])).unwrap();
        assert!(c.web.trusted_proxies.contains("10.9.8.7".parse().unwrap()));
        assert!(!c.web.trusted_proxies.contains("192.0.2.1".parse().unwrap()));
        let err = Config::from_source(&env(&[("TOCHEN_TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.256")])).unwrap_err();
        assert_eq!(err.var, "TOCHEN_TRUSTED_PROXIES");
        assert!(err.to_string().starts_with("TOCHEN_TRUSTED_PROXIES: \"10.0.0.256\" is not an IP address"), "{err}");
    }

    #[test]
    fn rate_limits_have_defaults_and_can_be_set() {
        let d = Config::from_source(&env(&[])).unwrap().web.rate_limits;
        assert_eq!(
            d,
            RateLimits { per_ip_per_second: 50, per_ip_burst: 200, webhook_per_second: 200, api_per_minute: 600 }
        );
        let c = Config::from_source(&env(&[
            ("TOCHEN_RATE_LIMIT_PER_IP", "5"),
            ("TOCHEN_RATE_LIMIT_BURST", "10"),
            ("TOCHEN_WEBHOOK_RATE_LIMIT", "1000"),
            ("TOCHEN_API_RATE_LIMIT", "60"),
        ]))
        .unwrap();
        let want = RateLimits { per_ip_per_second: 5, per_ip_burst: 10, webhook_per_second: 1000, api_per_minute: 60 };
        assert_eq!(c.web.rate_limits, want);
    }

    #[test]
    fn webhook_mode_requires_a_valid_secret() {
        let err = Config::from_source(&env(&[("TELEGRAM_MODE", "webhook")])).unwrap_err();
        assert_eq!(err.var, "TELEGRAM_WEBHOOK_SECRET");
        let err = Config::from_source(&env(&[("TELEGRAM_MODE", "webhook"), ("TELEGRAM_WEBHOOK_SECRET", "has space")]))
            .unwrap_err();
        assert_eq!(err.var, "TELEGRAM_WEBHOOK_SECRET");
        let c = Config::from_source(&env(&[("TELEGRAM_MODE", "webhook"), ("TELEGRAM_WEBHOOK_SECRET", "s3cr3t_-x")]))
            .unwrap();
        assert!(matches!(c.telegram.mode, TelegramMode::Webhook { .. }));
    }

    #[test]
    fn paired_credentials_must_come_together() {
        let err = Config::from_source(&env(&[("META_APP_ID", "123")])).unwrap_err();
        assert_eq!(err.var, "META_APP_SECRET");
        let err = Config::from_source(&env(&[("SMTP_URL", "smtps://u:p@mail.example.com:465")])).unwrap_err();
        assert_eq!(err.var, "SMTP_FROM");
    }

    fn smtp(extra: &[(&str, &str)]) -> Result<SmtpConfig, ConfigError> {
        let mut vars = env(&[("SMTP_URL", "smtp://u:p@mail.example.com:587"), ("SMTP_FROM", "r@example.com")]);
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Config::from_source(&vars).map(|c| c.smtp.expect("smtp is configured"))
    }

    #[test]
    fn smtp_tls_defaults_to_required_and_names_itself_when_wrong() {
        assert_eq!(smtp(&[]).unwrap().tls, SmtpTls::Required);
        assert_eq!(smtp(&[("SMTP_TLS", "STARTTLS")]).unwrap().tls, SmtpTls::StartTls);
        assert_eq!(smtp(&[("SMTP_TLS", "required")]).unwrap().tls, SmtpTls::Required);
        let err = smtp(&[("SMTP_TLS", "opportunistic")]).unwrap_err();
        assert_eq!(err.var, "SMTP_TLS");
        assert!(err.to_string().contains("required, starttls or none"), "{err}");
        // Implicit TLS is only `required`.
        let err = smtp(&[("SMTP_URL", "smtps://u:p@mail.example.com"), ("SMTP_TLS", "starttls")]).unwrap_err();
        assert_eq!(err.var, "SMTP_TLS");
    }

    #[test]
    fn smtp_tls_none_is_refused_unless_the_relay_is_loopback_or_private() {
        for public in ["smtp://203.0.113.9:25", "smtp://[2001:db8::1]:25", "smtp://8.8.8.8"] {
            let err = smtp(&[("SMTP_URL", public), ("SMTP_TLS", "none")]).unwrap_err();
            assert_eq!(err.var, "SMTP_TLS", "{public}");
            assert!(err.to_string().contains("public address"), "{err}");
        }
        for private in [
            "smtp://127.0.0.1:1025",
            "smtp://localhost:25",
            "smtp://mailhog.localhost",
            "smtp://10.0.0.5",
            "smtp://172.20.0.3:1025",
            "smtp://192.168.1.10",
            "smtp://[::1]:25",
            "smtp://[fd00::25]",
        ] {
            let c = smtp(&[("SMTP_URL", private), ("SMTP_TLS", "none")]).unwrap();
            assert_eq!(c.tls, SmtpTls::None, "{private}");
        }
        let err = smtp(&[("SMTP_URL", "smtps://127.0.0.1"), ("SMTP_TLS", "none")]).unwrap_err();
        assert_eq!(err.var, "SMTP_TLS");
        assert!(!is_loopback_or_private("172.32.0.1".parse().unwrap()));
        assert!(is_loopback_or_private("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!is_loopback_or_private("fe80::1".parse().unwrap()));
    }

    #[test]
    fn smtp_ca_file_must_be_a_readable_pem_with_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let err = smtp(&[("SMTP_CA_FILE", missing.to_str().unwrap())]).unwrap_err();
        assert_eq!(err.var, "SMTP_CA_FILE");
        assert!(err.to_string().contains("nope.pem") && err.to_string().contains("cannot be read"), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "just text\n").unwrap();
        let err = smtp(&[("SMTP_CA_FILE", empty.to_str().unwrap())]).unwrap_err();
        assert_eq!(err.var, "SMTP_CA_FILE");
        assert!(err.to_string().contains("holds no certificate"), "{err}");
        let ca = tochen_testkit::smtp_sink::TestPki::new().write_ca(dir.path());
        let c = smtp(&[("SMTP_CA_FILE", ca.to_str().unwrap())]).unwrap();
        let file = c.ca_file.expect("the ca file");
        assert_eq!((file.path, file.certs.len()), (ca, 1));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let key = tochen_domain::crypto::SecretBox::generate_key();
        let c = Config::from_source(&env(&[
            ("TELEGRAM_BOT_TOKEN", "123456:AAHsecretsecretsecret_0123456789abc"),
            ("DATABASE_URL", "postgres://tochen:dbpassword@db/tochen"),
            ("TOCHEN_SECRET_KEYS", &key),
            ("LLM_API_KEY", "sk-llmsecret"),
            ("META_APP_ID", "1"),
            ("META_APP_SECRET", "metasecret"),
            ("SMTP_URL", "smtps://me:smtppassword@mail.example.com"),
            ("SMTP_FROM", "a@b.c"),
        ]))
        .unwrap();
        let dbg = format!("{c:?}");
        for secret in ["AAHsecret", "dbpassword", key.as_str(), "sk-llmsecret", "metasecret", "smtppassword"] {
            assert!(!dbg.contains(secret), "{secret} leaked in {dbg}");
        }
    }

    #[test]
    fn a_bot_token_must_have_botfathers_shape_and_the_error_says_which() {
        let good = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ";
        assert!(Config::from_source(&env(&[("TELEGRAM_BOT_TOKEN", good)])).is_ok());
        for bad in [
            "abc",
            "123456:AAHsecretsecretsecret",
            "123456789:BBzzqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "123456789:BBzzqTcvCH1vGWJxfSeofSAs0K5PALDsawQQ",
            "123456789:BBzzqTcvCH1vGWJxfSeofSAs0K5PALDs w",
            "123456789:BBzzqTcvCH1vGWJxfSeofSAs0K5PALDs\u{e9}",
            "bot123456789:BBzzqTcvCH1vGWJxfSeofSAs0K5PALDsawQ",
            ":BBzzqTcvCH1vGWJxfSeofSAs0K5PALDsawQ",
            "123456789BBzzqTcvCH1vGWJxfSeofSAs0K5PALDsawQ",
        ] {
            let err = Config::from_source(&env(&[("TELEGRAM_BOT_TOKEN", bad)])).unwrap_err();
            assert_eq!(err.var, "TELEGRAM_BOT_TOKEN", "{bad}");
            let text = err.to_string();
            assert!(text.contains("123456789:AA") && text.contains("35 characters of A-Z a-z 0-9 _ -"), "{text}");
            assert!(!text.contains(bad), "the token itself is never shown: {text}");
        }
    }

    #[test]
    fn numbers_that_meet_timers_and_pools_are_bounded() {
        for (var, too_big) in [
            ("SCHEDULER_LEASE_SECS", "18446744073709551615"),
            ("SCHEDULER_LEASE_SECS", "86401"),
            ("SCHEDULER_SHUTDOWN_GRACE_SECS", "3601"),
            ("LLM_TIMEOUT_SECS", "9223372036854775807"),
            ("DATABASE_MAX_CONNECTIONS", "4294967296"),
            ("SCHEDULER_CONCURRENCY", "18446744073709551615"),
            ("SCHEDULER_PER_ACCOUNT_CONCURRENCY", "10001"),
            ("TOCHEN_MAX_BODY_BYTES", "1073741825"),
            ("LLM_MONTHLY_TOKEN_QUOTA", "9223372036854775807"),
            ("LLM_MONTHLY_TOKEN_QUOTA", "-1"),
        ] {
            let err = Config::from_source(&env(&[(var, too_big)])).unwrap_err();
            assert_eq!(err.var, var, "{too_big}: {err}");
        }
        let c =
            Config::from_source(&env(&[("SCHEDULER_LEASE_SECS", "86400"), ("LLM_MONTHLY_TOKEN_QUOTA", "0")])).unwrap();
        assert_eq!(c.scheduler.lease, Duration::from_secs(86_400));
        assert_eq!(c.llm.default_monthly_token_quota, 0);
    }

    #[test]
    fn every_documented_variable_is_unique() {
        let mut names: Vec<_> = VARIABLES.iter().map(|v| v.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), VARIABLES.len());
    }
}

/// Random values for every documented variable: a clean error naming a variable, or a configuration whose numbers
/// are safe to use (durations and counts that millisecond arithmetic, pools and semaphores take without overflow).
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,40}",
            any::<u64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            (0u64..100_000).prop_map(|n| n.to_string()),
            Just(String::new()),
            Just("  ".to_owned()),
            prop::sample::select(vec![
                "true",
                "false",
                "maybe",
                "0",
                "1",
                "18446744073709551616",
                "-1",
                "webhook",
                "polling",
                "json",
                "openai",
                "gemini",
                "v25.0",
                "http://x",
                "https://[::1]:99999",
                "sqlite://x.db",
                "postgres://u@h/d",
                "smtps://u:p@h:465",
                "0.0.0.0:8080",
                "[::1]:0",
                "10.0.0.0/8",
                "10.0.0.0/33,::/0",
                "a,b,,c",
                "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ",
                "abc",
            ])
            .prop_map(str::to_owned),
        ]
    }

    /// Every documented variable, each either unset or given a value.
    fn environment() -> impl Strategy<Value = HashMap<String, String>> {
        let vars: Vec<&'static str> = VARIABLES.iter().map(|v| v.name).collect();
        prop::collection::vec(prop::option::weighted(0.3, value()), vars.len()).prop_map(move |values| {
            vars.iter().zip(values).filter_map(|(k, v)| v.map(|v| ((*k).to_owned(), v))).collect()
        })
    }

    const NUMERIC: &[&str] = &[
        "DATABASE_MAX_CONNECTIONS",
        "TOCHEN_MAX_BODY_BYTES",
        "LLM_TIMEOUT_SECS",
        "LLM_MONTHLY_TOKEN_QUOTA",
        "LLM_BATCH_CONCURRENCY",
        "LLM_BATCH_GLOBAL_CONCURRENCY",
        "SCHEDULER_CONCURRENCY",
        "SCHEDULER_PER_ACCOUNT_CONCURRENCY",
        "SCHEDULER_LEASE_SECS",
        "SCHEDULER_SHUTDOWN_GRACE_SECS",
    ];

    /// The numeric variables only (the rest unset, so the numbers decide): anything from 0 to u64::MAX.
    fn numbers() -> impl Strategy<Value = HashMap<String, String>> {
        let number =
            prop_oneof![any::<u64>(), 0u64..100_000, 0u64..=u64::from(u32::MAX) + 1].prop_map(|n| n.to_string());
        prop::collection::vec(prop::option::of(number), NUMERIC.len()).prop_map(|values| {
            NUMERIC.iter().zip(values).filter_map(|(k, v)| v.map(|v| ((*k).to_owned(), v))).collect()
        })
    }

    fn check(vars: &HashMap<String, String>) -> Result<(), TestCaseError> {
        match Config::from_source(vars) {
            Err(e) => {
                prop_assert!(!e.var.is_empty());
                prop_assert!(!e.to_string().contains('\n'), "one line: {e}");
            }
            Ok(c) => {
                let far_future_ms: i64 = 253_402_300_800_000;
                for d in [c.scheduler.lease, c.scheduler.shutdown_grace, c.llm.timeout] {
                    let ms = i64::try_from(d.as_millis());
                    prop_assert!(ms.is_ok_and(|ms| ms.checked_add(far_future_ms).is_some()), "{d:?}");
                }
                prop_assert!(c.database.max_connections >= 1);
                prop_assert!(
                    c.scheduler.concurrency >= 1 && c.scheduler.concurrency <= tokio::sync::Semaphore::MAX_PERMITS
                );
                prop_assert!(c.scheduler.per_account_concurrency >= 1);
                prop_assert!(c.llm.default_monthly_token_quota >= 0);
                prop_assert!(c.web.max_body_bytes >= 1);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(tochen_testkit::props::config(512))]

        #[test]
        fn any_environment_gives_a_usable_config_or_names_the_bad_variable(vars in environment()) {
            check(&vars)?;
        }

        #[test]
        fn any_numbers_give_usable_durations_and_counts_or_name_the_variable(vars in numbers()) {
            check(&vars)?;
        }
    }
}
