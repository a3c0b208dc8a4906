//! Where automations deliver: Telegram chats, webhook endpoints and email addresses of a workspace.
//!
//! A webhook's `whsec_` secret is encrypted with the store's `SecretBox` like platform tokens and read back only by
//! [`Store::destination_secret`]. Telegram destinations are also looked up by chat id without a tenant, because
//! Telegram tells us about a chat (a group became a supergroup, the bot was removed) without naming a workspace;
//! those calls return the tenant ids they touched so the caller can tell each workspace's admins.

use crate::{parse_enum, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AutomationId, DestinationId, TenantId};
use tochen_domain::secret::SecretString;
use tochen_domain::{DestinationKind, DestinationStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub id: DestinationId,
    pub tenant_id: TenantId,
    pub kind: DestinationKind,
    pub name: String,
    pub telegram_chat_id: Option<i64>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub status: DestinationStatus,
    pub status_reason: Option<String>,
    /// The event types a webhook destination receives; `None` is every event, including types added later.
    pub event_types: Option<Vec<String>>,
    pub created_at: Millis,
}

impl Destination {
    /// Whether an event of `event_type` goes to this destination. A `ping` (the "send test" button) always does.
    pub fn receives(&self, event_type: &str) -> bool {
        event_type == crate::events::PING
            || self.event_types.as_ref().is_none_or(|types| types.iter().any(|t| t == event_type))
    }
}

/// What is needed to create a destination of each kind.
#[derive(Debug, Clone)]
pub enum NewDestination {
    Telegram {
        name: String,
        chat_id: i64,
    },
    /// `secret` is the `whsec_...` text; it is stored encrypted.
    Webhook {
        name: String,
        url: String,
        secret: SecretString,
    },
    Email {
        name: String,
        address: String,
    },
}

const COLUMNS: &str =
    "id, tenant_id, kind, name, telegram_chat_id, url, email, status, status_reason, event_types, created_at";

/// A row of `destinations` as stored.
#[derive(sqlx::FromRow)]
struct DestinationRow {
    id: String,
    tenant_id: String,
    kind: String,
    name: String,
    telegram_chat_id: Option<i64>,
    url: Option<String>,
    email: Option<String>,
    status: String,
    status_reason: Option<String>,
    event_types: Option<String>,
    created_at: Millis,
}

impl TryFrom<DestinationRow> for Destination {
    type Error = StoreError;

    fn try_from(r: DestinationRow) -> Result<Self> {
        Ok(Destination {
            id: DestinationId::from_db(&r.id)?,
            tenant_id: TenantId::from_db(&r.tenant_id)?,
            kind: parse_enum(&r.kind, DestinationKind::parse, "destination kind")?,
            name: r.name,
            telegram_chat_id: r.telegram_chat_id,
            url: r.url,
            email: r.email,
            status: parse_enum(&r.status, DestinationStatus::parse, "destination status")?,
            status_reason: r.status_reason,
            event_types: r
                .event_types
                .map(|json| {
                    serde_json::from_str(&json)
                        .map_err(|e| StoreError::Corrupt(format!("destination event types {json:?}: {e}")))
                })
                .transpose()?,
            created_at: r.created_at,
        })
    }
}

/// An update of one destination found it, or it is not (in this workspace).
fn found(done: sqlx::any::AnyQueryResult) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("destination"));
    }
    Ok(())
}

fn destination_from_row(row: &AnyRow) -> Result<Destination> {
    DestinationRow::from_row(row)?.try_into()
}

impl Store {
    #[tracing::instrument(skip(self, new))]
    pub async fn create_destination(&self, tenant: TenantId, new: &NewDestination) -> Result<Destination> {
        let (kind, name, chat, url, secret, email) = match new {
            NewDestination::Telegram { name, chat_id } => {
                (DestinationKind::Telegram, name, Some(*chat_id), None, None, None)
            }
            NewDestination::Webhook { name, url, secret } => (
                DestinationKind::Webhook,
                name,
                None,
                Some(url.as_str()),
                Some(self.secrets.encrypt(secret.expose())),
                None,
            ),
            NewDestination::Email { name, address } => {
                (DestinationKind::Email, name, None, None, None, Some(address.as_str()))
            }
        };
        let now = now_ms();
        let row = sqlx::query(&format!(
            "INSERT INTO destinations (id, tenant_id, kind, name, telegram_chat_id, url, secret_enc, email, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9) RETURNING {COLUMNS}"
        ))
        .bind(DestinationId::new().to_db())
        .bind(tenant.to_db())
        .bind(kind.as_str())
        .bind(name.as_str())
        .bind(chat)
        .bind(url)
        .bind(secret)
        .bind(email)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        destination_from_row(&row)
    }

    /// The workspace's destinations, by kind and name.
    pub async fn destinations(&self, tenant: TenantId) -> Result<Vec<Destination>> {
        let rows =
            sqlx::query(&format!("SELECT {COLUMNS} FROM destinations WHERE tenant_id = $1 ORDER BY kind, name, id"))
                .bind(tenant.to_db())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(destination_from_row).collect()
    }

    pub async fn destination(&self, tenant: TenantId, id: DestinationId) -> Result<Destination> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM destinations WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant.to_db())
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("destination"))?;
        destination_from_row(&row)
    }

    /// Decrypts a webhook destination's `whsec_` secret, for signing.
    pub async fn destination_secret(&self, tenant: TenantId, id: DestinationId) -> Result<SecretString> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT secret_enc FROM destinations WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.to_db())
                .bind(id.to_db())
                .fetch_optional(self.reader())
                .await?;
        let enc = row.ok_or(StoreError::NotFound("destination"))?.0.ok_or(StoreError::NotFound("webhook secret"))?;
        Ok(self.secrets.decrypt(&enc)?)
    }

    pub async fn set_destination_status(
        &self,
        tenant: TenantId,
        id: DestinationId,
        status: DestinationStatus,
        reason: Option<&str>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE destinations SET status = $3, status_reason = $4, updated_at = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.to_db())
        .bind(id.to_db())
        .bind(status.as_str())
        .bind(reason)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        found(done)
    }

    /// Sets the event types a webhook destination receives (`None`: every event). Types are kept in the given
    /// order without duplicates.
    pub async fn set_destination_events(
        &self,
        tenant: TenantId,
        id: DestinationId,
        types: Option<&[String]>,
    ) -> Result<()> {
        let json = types.map(|types| {
            let mut unique: Vec<&String> = Vec::new();
            for t in types {
                if !unique.contains(&t) {
                    unique.push(t);
                }
            }
            serde_json::to_string(&unique).expect("a list of strings serializes")
        });
        let done =
            sqlx::query("UPDATE destinations SET event_types = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.to_db())
                .bind(id.to_db())
                .bind(json)
                .bind(now_ms())
                .execute(&self.pool)
                .await?;
        found(done)
    }

    /// Deletes a destination (its delivery log and automation links go with it). False when it did not exist.
    pub async fn delete_destination(&self, tenant: TenantId, id: DestinationId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM destinations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(id.to_db())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Telegram destinations of a chat in every workspace: the update that names a chat names no workspace.
    pub async fn destinations_by_chat(&self, chat_id: i64) -> Result<Vec<Destination>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM destinations WHERE kind = 'telegram' AND telegram_chat_id = $1 ORDER BY id"
        ))
        .bind(chat_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(destination_from_row).collect()
    }

    /// A group became a supergroup and got a new id (`migrate_to_chat_id`): every destination that pointed at
    /// the old id follows it. Returns the workspaces whose destinations moved.
    pub async fn migrate_destination_chat(&self, old_chat_id: i64, new_chat_id: i64) -> Result<Vec<TenantId>> {
        let tenants = self.chat_tenants(old_chat_id).await?;
        sqlx::query(
            "UPDATE destinations SET telegram_chat_id = $2, updated_at = $3 \
             WHERE kind = 'telegram' AND telegram_chat_id = $1",
        )
        .bind(old_chat_id)
        .bind(new_chat_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(tenants)
    }

    /// The bot was removed from or blocked in a chat: its destinations become inactive (not deleted, so linking
    /// the chat again restores them). Returns the workspaces to tell.
    pub async fn deactivate_chat_destinations(&self, chat_id: i64, reason: &str) -> Result<Vec<TenantId>> {
        let tenants = self.chat_tenants(chat_id).await?;
        sqlx::query(
            "UPDATE destinations SET status = 'inactive', status_reason = $2, updated_at = $3 \
             WHERE kind = 'telegram' AND telegram_chat_id = $1 AND status = 'active'",
        )
        .bind(chat_id)
        .bind(reason)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(tenants)
    }

    /// Replaces the destinations an automation delivers to (destinations of other workspaces are ignored).
    pub async fn set_automation_destinations(
        &self,
        tenant: TenantId,
        automation: AutomationId,
        destinations: &[DestinationId],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM automation_destinations WHERE tenant_id = $1 AND automation_id = $2")
            .bind(tenant.to_db())
            .bind(automation.to_db())
            .execute(&mut *tx)
            .await?;
        for d in destinations {
            sqlx::query(
                "INSERT INTO automation_destinations (automation_id, destination_id, tenant_id) \
                 SELECT $2, id, tenant_id FROM destinations WHERE tenant_id = $1 AND id = $3 \
                 ON CONFLICT (automation_id, destination_id) DO NOTHING",
            )
            .bind(tenant.to_db())
            .bind(automation.to_db())
            .bind(d.to_db())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The destinations an automation delivers to, by kind and name.
    pub async fn automation_destinations(
        &self,
        tenant: TenantId,
        automation: AutomationId,
    ) -> Result<Vec<Destination>> {
        let cols = COLUMNS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {cols} FROM destinations d JOIN automation_destinations ad ON ad.destination_id = d.id \
             WHERE ad.tenant_id = $1 AND ad.automation_id = $2 ORDER BY d.kind, d.name, d.id"
        ))
        .bind(tenant.to_db())
        .bind(automation.to_db())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(destination_from_row).collect()
    }

    async fn chat_tenants(&self, chat_id: i64) -> Result<Vec<TenantId>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT tenant_id FROM destinations WHERE kind = 'telegram' AND telegram_chat_id = $1 \
             ORDER BY tenant_id",
        )
        .bind(chat_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| TenantId::from_db(&r.0).map_err(StoreError::from)).collect()
    }
}
