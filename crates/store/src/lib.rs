//! One store API over SQLite and PostgreSQL.
//!
//! The pool is an sqlx `AnyPool`, chosen once at start-up from the URL scheme, and the schema uses only portable
//! types (TEXT ids, BIGINT millisecond times, TEXT JSON), so almost every query is written once with `$N`
//! placeholders, which both drivers accept. Queries split by dialect only where the SQL truly differs, and every
//! such split outside the job queue's files is in `dialect`.
//!
//! SQLite runs with a single connection: it has one writer anyway, and one connection rules out the
//! `SQLITE_BUSY` lock-upgrade failures that deferred transactions on several connections run into. Never hold a
//! transaction across a network call.
//!
//! Secrets are encrypted here, inside the store, so no caller can write a platform token in clear by mistake.

mod accounts;
mod ad_accounts;
mod ad_sign_ins;
mod alert_states;
mod api_idempotency;
mod api_tokens;
mod audit;
mod automations;
mod calendar;
mod campaigns;
mod checkpoint;
mod deliveries;
mod destinations;
mod dialect;
mod dialogue;
pub mod events;
mod heartbeats;
mod ingest;
mod invites;
pub mod job_queue;
mod job_signal;
mod jobs;
mod library_views;
pub mod listen;
mod llm_usage;
mod media;
mod media_facts;
mod memberships;
mod metrics;
mod oauth_states;
mod operator;
mod pending_connections;
mod posts;
mod published;
mod queue_slots;
mod sandbox_posts;
mod secrets;
mod targets;
pub mod telegram_updates;
mod tenants;
mod users;
mod webhook_events;
mod workspace_codes;

pub use accounts::{Account, AccountTokens, NewAccount, RefreshCandidate, TokenRevocation};
pub use ad_accounts::{AdAccount, NewAdAccount};
pub use ad_sign_ins::{AdSignIn, NewAdSignIn};
pub use alert_states::AlertState;
pub use api_idempotency::{Idempotency, IDEMPOTENCY_KEEP_MS};
pub use api_tokens::{ApiToken, NewApiToken};
pub use automations::{
    slot_key as automation_slot_key, Automation, AutomationChanges, AutomationRun, CreateAutomationError,
    EditError as AutomationEditError, NewAutomation, SlotStart,
};
pub use calendar::CalendarPost;
pub use campaigns::{
    Batch, BatchItem, BatchProgress, Campaign, CampaignError, CampaignFields, CampaignSummary, GeneratedDraft,
    ItemWork, NewBatch, NewBatchItem, CAMPAIGN_NAME_CHARS, CAMPAIGN_TEXT_CHARS, MAX_BATCH_ITEMS,
};
pub use deliveries::{Delivery, DeliveryAttempt, DeliveryStatus, NewAttempt, NewDelivery};
pub use destinations::{Destination, NewDestination};
pub use heartbeats::Heartbeat;
pub use invites::{Invite, RedeemError};
pub use job_queue::{ClaimRequest, NextWake};
pub use jobs::{keys as job_keys, Job, NewJob, OnConflict};
pub use llm_usage::{LlmUsageRecord, MonthlyUsage};
pub use media::{Media, NewMedia};
pub use media_facts::MediaTech;
pub use memberships::{Member, MembershipError};
pub use metrics::{
    DailyAddition, FailedTarget, FollowerChange, MetricValues, NewSnapshot, PublishedGroup, PublishedSummary,
    PublishedTarget, TargetSelection,
};
pub use oauth_states::{NewOAuthState, OAuthState, OAuthStateError};
pub use operator::{FailingDestination, ModelCost, OperatorAction, QueueHealth, WorkspaceOverview};
pub use pending_connections::{NewPendingConnection, PendingConnection};
pub use posts::{
    normalize_tag, ApprovalCard, CardOutcome, LibraryCursor, LibraryFilter, Post, PostContent, SentCard, MAX_TAGS,
    TAG_CHARS,
};
pub use published::{BeginChange, ChangeError, ChangeKind, ChangeStatus, HistoryEntry, PostChange, TargetOnPlatform};
pub use sandbox_posts::{NewSandboxPost, SandboxMedia, SandboxPost};
pub use secrets::RotationReport;
pub use targets::{
    BeginPublish, EditApproval, EditOutcome, EditRefusal, PostEdit, PublishContext, ScheduleError, Settle, Target,
};
pub use telegram_updates::StoredUpdate;
pub use tenants::{EngagementAlerts, ProfileField, Tenant, TenantProfile};
pub use tochen_domain::jobs::{InsertOpts, JobArgs};
pub use users::{Person, TelegramIdentity, User};
pub use webhook_events::{webhook_event_job_key, InboundApplied, InboundEffect, TargetOutcome};
pub use workspace_codes::{CodeError, WorkspaceCode, CODE_PREFIX};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::sync::Once;
use std::time::Duration;
use tochen_config::DatabaseKind;
use tochen_domain::crypto::{CryptoError, SecretBox};

/// Installs sqlx's drivers for `AnyPool`, once per process.
fn install_drivers() {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

/// Which SQL dialect the pool speaks.
pub type Backend = DatabaseKind;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("cannot prepare the sqlite file: {0}")]
    Io(#[from] std::io::Error),
}

impl From<tochen_domain::ids::CorruptId> for StoreError {
    fn from(e: tochen_domain::ids::CorruptId) -> Self {
        StoreError::Corrupt(e.0)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database, with the secret box that encrypts every secret column.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// SQLite on a file: read-only connections beside the one writer, for reads that need no transaction (WAL
    /// readers see every committed write and never wait for the writer). Opened on first use, closed when idle.
    /// `None` on PostgreSQL (its pool serves both) and for an in-memory database (a connection of its own would be
    /// another database).
    readers: Option<AnyPool>,
    backend: Backend,
    secrets: SecretBox,
    /// The in-process signal ("jobs changed"), shared by the clones of this store (`job_signal`).
    signals: job_signal::Signals,
    /// The group commit of incoming webhook events (`ingest`), shared by the clones of this store.
    ingest: std::sync::Arc<ingest::Group>,
    /// SQLite: the task checkpointing the WAL off the writer's path (`checkpoint`), stopped with the last clone.
    _checkpointer: Option<std::sync::Arc<checkpoint::Checkpointer>>,
}

impl Store {
    /// Connects to `url` (sqlite:// or postgres://). Creates the SQLite file and its directory if needed.
    pub async fn connect(url: &str, max_connections: u32, secrets: SecretBox) -> Result<Self> {
        install_drivers();

        let (backend, url) = if url.starts_with("sqlite:") {
            (Backend::Sqlite, prepare_sqlite_url(url)?)
        } else {
            (Backend::Postgres, url.to_owned())
        };
        let pool = pool_options(dialect::max_connections(backend, max_connections), dialect::connection_setup(backend))
            .connect(&url)
            .await?;
        let readers = match backend {
            Backend::Sqlite if !url.contains(":memory:") => Some(
                pool_options(dialect::SQLITE_READERS, dialect::SQLITE_READER_SETUP)
                    .idle_timeout(Duration::from_secs(60))
                    .connect_lazy(&url)?,
            ),
            _ => None,
        };
        let ingest =
            std::sync::Arc::new(ingest::Group::new(backend, dialect::max_connections(backend, max_connections)));
        let checkpointer = match backend {
            Backend::Sqlite => checkpoint::start(&url).map(std::sync::Arc::new),
            Backend::Postgres => None,
        };
        Ok(Self { pool, readers, backend, secrets, signals: Default::default(), ingest, _checkpointer: checkpointer })
    }

    /// Opens one connection to `url` and closes it: one try, no pool and no retries, so start-up can tell "not
    /// there yet" at once and say so (`Store::connect` itself waits up to its acquire timeout).
    pub async fn probe(url: &str) -> Result<()> {
        use sqlx::Connection;
        install_drivers();
        if url.starts_with("sqlite:") {
            return Ok(()); // a file: nothing to wait for
        }
        sqlx::AnyConnection::connect(url).await?.close().await?;
        Ok(())
    }

    /// Applies the embedded migrations of this backend. Safe to run again: applied versions are skipped.
    pub async fn migrate(&self) -> Result<()> {
        dialect::migrator(self.backend).run(&self.pool).await?;
        Ok(())
    }

    /// Test support (only with the `test-support` feature). Versions of the migrations this binary embeds for the
    /// current backend.
    #[cfg(feature = "test-support")]
    pub fn embedded_migrations(&self) -> Vec<i64> {
        dialect::migrator(self.backend).iter().map(|m| m.version).collect()
    }

    /// Versions applied to the database, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Where a read that needs no transaction goes: a SQLite reader beside the writer, or the pool on PostgreSQL.
    /// Such a read sees every write committed before it starts; it must not write (a SQLite reader refuses to).
    pub(crate) fn reader(&self) -> &AnyPool {
        self.readers.as_ref().unwrap_or(&self.pool)
    }

    /// Test support: holds the writer in a transaction that has written (a SQLite write lock, the pool's one
    /// connection) until the returned transaction is dropped, so a test can show which reads do not wait for it.
    #[cfg(feature = "test-support")]
    pub async fn hold_writer(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE tenants SET name = name WHERE id IN (SELECT id FROM tenants LIMIT 1)")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Test support (only with the `test-support` feature).
    #[cfg(feature = "test-support")]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Test support: the raw pool, for tests that inspect or arrange rows with SQL of their own. Only with the
    /// `test-support` feature, which only tochen-testkit enables; production code goes through `Store` methods.
    #[cfg(feature = "test-support")]
    pub fn sql_for_tests(&self) -> &AnyPool {
        &self.pool
    }

    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// A trivial round trip, for /health.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the readers, then the writer (on SQLite the last connection to close checkpoints the WAL).
    pub async fn close(&self) {
        if let Some(readers) = &self.readers {
            readers.close().await;
        }
        self.pool.close().await;
    }
}

/// A pool of up to `max` connections, each running `setup` first. No ping before each use: it is a round trip per
/// query (to the server, or to the SQLite worker thread that every task queues for), while a dead connection shows
/// as the failing query's error and is dropped by the pool's ping when it is released.
fn pool_options(max: u32, setup: &'static str) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false)
        .max_connections(max)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(setup).await?;
                Ok(())
            })
        })
}

/// Makes sure the SQLite file can be created: its directory exists and the URL asks for create mode.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Reads a column, mapping decode errors into `StoreError`.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    row.try_get(name).map_err(StoreError::from)
}

/// Parses a stored enum value, reporting an unknown spelling as a corrupt row.
pub(crate) fn parse_enum<T>(value: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} {value:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        assert_eq!(prepare_sqlite_url("sqlite::memory:").unwrap(), "sqlite://:memory:?mode=rwc");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/db.sqlite");
        let url = prepare_sqlite_url(&format!("sqlite://{}", path.display())).unwrap();
        assert!(url.ends_with("db.sqlite?mode=rwc"));
        assert!(path.parent().unwrap().is_dir());
        assert!(prepare_sqlite_url("sqlite://x.db?mode=ro").unwrap().ends_with("?mode=ro"));
    }
}
