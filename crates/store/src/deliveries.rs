//! The webhook delivery log: one row per event sent to a destination, one row per HTTP attempt.
//!
//! The delivery row holds the Standard Webhooks message id, which stays the same across retries AND replays (it is
//! the receiver's idempotency key), and the exact payload, so a replay sends the same bytes. Attempts keep status,
//! latency, the first kilobyte of the answer and the error, which is what a tenant needs to debug a receiver.

use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{DeliveryId, DestinationId, TenantId};

/// Longest response snippet kept per attempt.
const SNIPPET_LIMIT: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub tenant_id: TenantId,
    pub destination_id: DestinationId,
    /// The `webhook-id` header: the same on every attempt and replay.
    pub message_id: String,
    pub event_type: String,
    /// The exact JSON body sent.
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub delivered_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_snippet: Option<String>,
    pub error: Option<String>,
    pub created_at: Millis,
}

/// One attempt's result, as the sender reports it.
#[derive(Debug, Clone, Default)]
pub struct NewAttempt {
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub response_snippet: Option<String>,
    pub error: Option<String>,
}

const COLUMNS: &str = "id, tenant_id, destination_id, message_id, event_type, payload, status, attempts, \
                       last_status_code, last_error, created_at, delivered_at";

/// A row of `deliveries` as stored.
#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    tenant_id: String,
    destination_id: String,
    message_id: String,
    event_type: String,
    payload: String,
    status: String,
    attempts: i64,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    created_at: Millis,
    delivered_at: Option<Millis>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(r: DeliveryRow) -> Result<Self> {
        Ok(Delivery {
            id: DeliveryId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            destination_id: DestinationId::from_db(&r.destination_id)?,
            message_id: r.message_id,
            event_type: r.event_type,
            payload: r.payload,
            status: DeliveryStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery status {:?}", r.status)))?,
            attempts: r.attempts,
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            created_at: r.created_at,
            delivered_at: r.delivered_at,
        })
    }
}

fn delivery_from_row(row: &AnyRow) -> Result<Delivery> {
    DeliveryRow::from_row(row)?.try_into()
}

fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// A delivery to log, its id chosen up front so that the job of its first attempt can name it before the row is
/// written (both go into one transaction when an event must be queued together with other changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub id: DeliveryId,
    pub tenant_id: TenantId,
    pub destination_id: DestinationId,
    pub message_id: String,
    pub event_type: String,
    /// The exact JSON body to send.
    pub payload: String,
}

/// Logs a delivery through `exec` (the pool, or the caller's transaction).
pub(crate) async fn insert_delivery<'e, E>(exec: E, d: &NewDelivery, now: Millis) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, tenant_id, destination_id, message_id, event_type, payload, status, \
         attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7)",
    )
    .bind(d.id.to_db())
    .bind(d.tenant_id.to_db())
    .bind(d.destination_id.to_db())
    .bind(&d.message_id)
    .bind(&d.event_type)
    .bind(&d.payload)
    .bind(now)
    .execute(exec)
    .await?;
    Ok(())
}

impl Store {
    /// Logs a new delivery of `payload` (the exact body) with a fresh message id.
    pub(crate) async fn create_delivery(
        &self,
        tenant: TenantId,
        destination: DestinationId,
        message_id: &str,
        event_type: &str,
        payload: &str,
    ) -> Result<Delivery> {
        let new = NewDelivery {
            id: DeliveryId::new(),
            tenant_id: tenant,
            destination_id: destination,
            message_id: message_id.to_owned(),
            event_type: event_type.to_owned(),
            payload: payload.to_owned(),
        };
        let now = now_ms();
        insert_delivery(&self.pool, &new, now).await?;
        Ok(Delivery {
            id: new.id,
            tenant_id: tenant,
            destination_id: destination,
            message_id: new.message_id,
            event_type: new.event_type,
            payload: new.payload,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_status_code: None,
            last_error: None,
            created_at: now,
            delivered_at: None,
        })
    }

    pub async fn delivery(&self, tenant: TenantId, id: DeliveryId) -> Result<Delivery> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.to_db())
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("delivery"))?;
        delivery_from_row(&row)
    }

    /// Records one attempt and returns its number (1 for the first).
    pub async fn record_delivery_attempt(&self, tenant: TenantId, id: DeliveryId, a: &NewAttempt) -> Result<i64> {
        let now = now_ms();
        let error = a.error.as_deref().map(|e| cut(e, SNIPPET_LIMIT));
        let row: Option<(i64,)> = sqlx::query_as(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $3, last_error = $4 \
             WHERE tenant_id = $1 AND id = $2 RETURNING attempts",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(a.status_code.map(i64::from))
        .bind(&error)
        .fetch_optional(&self.pool)
        .await?;
        let attempt = row.ok_or(StoreError::NotFound("delivery"))?.0;
        sqlx::query(
            "INSERT INTO webhook_delivery_attempts (id, tenant_id, delivery_id, attempt, status_code, latency_ms, \
             response_snippet, error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(attempt)
        .bind(a.status_code.map(i64::from))
        .bind(a.latency_ms)
        .bind(a.response_snippet.as_deref().map(|s| cut(s, SNIPPET_LIMIT)))
        .bind(&error)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(attempt)
    }

    pub async fn mark_delivery_delivered(&self, tenant: TenantId, id: DeliveryId) -> Result<()> {
        self.finish_delivery(tenant, id, DeliveryStatus::Delivered, None).await
    }

    pub async fn mark_delivery_failed(&self, tenant: TenantId, id: DeliveryId, error: &str) -> Result<()> {
        self.finish_delivery(tenant, id, DeliveryStatus::Failed, Some(error)).await
    }

    async fn finish_delivery(
        &self,
        tenant: TenantId,
        id: DeliveryId,
        status: DeliveryStatus,
        error: Option<&str>,
    ) -> Result<()> {
        let delivered_at = (status == DeliveryStatus::Delivered).then(now_ms);
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = $3, delivered_at = $4, last_error = COALESCE($5, last_error) \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(status.as_str())
        .bind(delivered_at)
        .bind(error.map(|e| cut(e, SNIPPET_LIMIT)))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("delivery"));
        }
        Ok(())
    }

    /// The newest deliveries to a destination first.
    pub async fn deliveries(&self, tenant: TenantId, destination: DestinationId, limit: i64) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND destination_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(tenant.to_db())
        .bind(destination.to_db())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// Attempts of a delivery, oldest first (the bot's delivery log).
    pub async fn delivery_attempts(&self, tenant: TenantId, id: DeliveryId) -> Result<Vec<DeliveryAttempt>> {
        Ok(sqlx::query_as(
            "SELECT attempt, status_code, latency_ms, response_snippet, error, created_at \
             FROM webhook_delivery_attempts WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY attempt",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .fetch_all(self.reader())
        .await?)
    }

    /// Puts a finished delivery back to `pending` for a replay from the bot; its message id and payload stay, so
    /// the receiver sees the same `webhook-id` and can deduplicate. The attempt count keeps growing.
    pub async fn reopen_delivery(&self, tenant: TenantId, id: DeliveryId) -> Result<Delivery> {
        let row = sqlx::query(&format!(
            "UPDATE webhook_deliveries SET status = 'pending', delivered_at = NULL \
             WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
        ))
        .bind(tenant.to_db())
        .bind(id.to_db())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("delivery"))?;
        delivery_from_row(&row)
    }
}
