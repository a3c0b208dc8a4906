//! Workspaces (tenants): their business profile, settings (quota, team chat) and the choice of which webhook
//! engagement reaches the team chat (comments, reactions; both on until a workspace turns one off).

use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{TenantId, UserId};

/// A team's workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub profile: TenantProfile,
    /// Monthly LLM token quota; 0 means unlimited.
    pub llm_monthly_token_quota: i64,
    /// The team's group chat, where approvals and results go when set.
    pub team_chat_id: Option<i64>,
    pub created_at: Millis,
    /// Set while the operator has suspended the workspace: the bot refuses politely and its jobs are held.
    pub suspended_at: Option<Millis>,
}

/// What the LLM knows about the business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantProfile {
    pub business_description: String,
    pub target_audience: String,
    pub tone: String,
    /// Two-letter language code of the posts and reports.
    pub language: String,
    /// IANA time zone, e.g. Europe/Lisbon.
    pub timezone: String,
}

impl Default for TenantProfile {
    fn default() -> Self {
        Self {
            business_description: String::new(),
            target_audience: String::new(),
            tone: "friendly".into(),
            language: "en".into(),
            timezone: "UTC".into(),
        }
    }
}

/// A field of the business profile the bot asks about one question at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileField {
    BusinessDescription,
    TargetAudience,
    Tone,
    Language,
    Timezone,
}

impl ProfileField {
    fn column(self) -> &'static str {
        match self {
            Self::BusinessDescription => "business_description",
            Self::TargetAudience => "target_audience",
            Self::Tone => "tone",
            Self::Language => "language",
            Self::Timezone => "timezone",
        }
    }
}

pub(crate) const COLUMNS: &str = "id, name, business_description, target_audience, tone, language, timezone, \
                       llm_monthly_token_quota, team_chat_id, created_at, suspended_at";

/// A row of `tenants` as stored.
#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    name: String,
    business_description: String,
    target_audience: String,
    tone: String,
    language: String,
    timezone: String,
    llm_monthly_token_quota: i64,
    team_chat_id: Option<i64>,
    created_at: Millis,
    suspended_at: Option<Millis>,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;

    fn try_from(r: TenantRow) -> Result<Self> {
        Ok(Tenant {
            id: TenantId::from_db(&r.id)?,
            name: r.name,
            profile: TenantProfile {
                business_description: r.business_description,
                target_audience: r.target_audience,
                tone: r.tone,
                language: r.language,
                timezone: r.timezone,
            },
            llm_monthly_token_quota: r.llm_monthly_token_quota,
            team_chat_id: r.team_chat_id,
            created_at: r.created_at,
            suspended_at: r.suspended_at,
        })
    }
}

pub(crate) fn tenant_from_row(row: &AnyRow) -> Result<Tenant> {
    TenantRow::from_row(row)?.try_into()
}

/// Decodes a tenant whose columns carry `prefix` (a joined read that aliases them).
pub(crate) fn tenant_from_prefixed(row: &AnyRow, prefix: &str) -> Result<Tenant> {
    let c = |name: &str| format!("{prefix}{name}");
    TenantRow {
        id: crate::col(row, &c("id"))?,
        name: crate::col(row, &c("name"))?,
        business_description: crate::col(row, &c("business_description"))?,
        target_audience: crate::col(row, &c("target_audience"))?,
        tone: crate::col(row, &c("tone"))?,
        language: crate::col(row, &c("language"))?,
        timezone: crate::col(row, &c("timezone"))?,
        llm_monthly_token_quota: crate::col(row, &c("llm_monthly_token_quota"))?,
        team_chat_id: crate::col(row, &c("team_chat_id"))?,
        created_at: crate::col(row, &c("created_at"))?,
        suspended_at: crate::col(row, &c("suspended_at"))?,
    }
    .try_into()
}

impl Store {
    /// Creates a workspace with `admin` as its first admin and makes it the admin's active workspace, atomically.
    #[tracing::instrument(skip(self, profile))]
    pub async fn create_tenant(
        &self,
        name: &str,
        profile: &TenantProfile,
        monthly_token_quota: i64,
        admin: UserId,
    ) -> Result<Tenant> {
        let mut tx = self.pool.begin().await?;
        let id = insert_tenant(&mut tx, name, profile, monthly_token_quota, admin).await?;
        tx.commit().await?;
        self.tenant(id).await
    }

    pub async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM tenants WHERE id = $1"))
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("workspace"))?;
        tenant_from_row(&row)
    }

    /// Every workspace, for sweeps that visit each one (reports, alerts, metrics sync).
    pub async fn all_tenant_ids(&self) -> Result<Vec<TenantId>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM tenants ORDER BY id").fetch_all(self.reader()).await?;
        rows.iter().map(|r| TenantId::from_db(&r.0).map_err(StoreError::from)).collect()
    }

    pub async fn update_tenant_profile(&self, id: TenantId, profile: &TenantProfile) -> Result<()> {
        let done = sqlx::query(
            "UPDATE tenants SET business_description = $2, target_audience = $3, tone = $4, language = $5, \
             timezone = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(id.to_db())
        .bind(&profile.business_description)
        .bind(&profile.target_audience)
        .bind(&profile.tone)
        .bind(&profile.language)
        .bind(&profile.timezone)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        found(done.rows_affected())
    }

    /// Sets one field of the business profile and returns the workspace as it is now: one statement, and the other
    /// fields stay as they are in the database (another admin's answer to another question is not overwritten).
    pub async fn set_profile_field(&self, id: TenantId, field: ProfileField, value: &str) -> Result<Tenant> {
        let sql =
            format!("UPDATE tenants SET {} = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}", field.column());
        let row = sqlx::query(&sql)
            .bind(id.to_db())
            .bind(value)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("workspace"))?;
        tenant_from_row(&row)
    }

    pub async fn set_team_chat(&self, id: TenantId, chat_id: Option<i64>) -> Result<()> {
        let done = sqlx::query("UPDATE tenants SET team_chat_id = $2, updated_at = $3 WHERE id = $1")
            .bind(id.to_db())
            .bind(chat_id)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        found(done.rows_affected())
    }
}

/// Inserts a workspace with `admin` as its first admin and makes it the admin's active workspace.
pub(crate) async fn insert_tenant(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
    profile: &TenantProfile,
    monthly_token_quota: i64,
    admin: UserId,
) -> Result<TenantId> {
    let id = TenantId::new();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO tenants (id, name, business_description, target_audience, tone, language, timezone, \
         llm_monthly_token_quota, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(id.to_db())
    .bind(name)
    .bind(&profile.business_description)
    .bind(&profile.target_audience)
    .bind(&profile.tone)
    .bind(&profile.language)
    .bind(&profile.timezone)
    .bind(monthly_token_quota)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, 'admin', $3)")
        .bind(id.to_db())
        .bind(admin.to_db())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE users SET active_tenant_id = $1, updated_at = $2 WHERE id = $3")
        .bind(id.to_db())
        .bind(now)
        .bind(admin.to_db())
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

fn found(rows: u64) -> Result<()> {
    if rows == 0 {
        Err(StoreError::NotFound("workspace"))
    } else {
        Ok(())
    }
}

/// A team chat that became a supergroup: the workspaces that named the old id follow it.
///
/// The bot sees the migration as a service message (two, in fact: `migrate_to_chat_id` in the old group and
/// `migrate_from_chat_id` in the new supergroup), or as a send answered with `migrate_to_chat_id`; the scheduler
/// may learn of it first, from a `notify` job answered so. Every path moves the same things and a second pass
/// finds nothing left under the old id, so it does not matter which comes first or how often. A chat id names no
/// workspace, so these are system lookups that return the workspaces they changed rather than rows.
impl Store {
    /// Moves every workspace whose team chat is `old_chat_id` to `new_chat_id`; returns those workspaces.
    pub async fn migrate_team_chat(&self, old_chat_id: i64, new_chat_id: i64) -> Result<Vec<TenantId>> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM tenants WHERE team_chat_id = $1 ORDER BY id")
            .bind(old_chat_id)
            .fetch_all(&self.pool)
            .await?;
        let tenants =
            rows.iter().map(|r| TenantId::from_db(&r.0).map_err(StoreError::from)).collect::<Result<Vec<_>>>()?;
        for tenant in &tenants {
            self.set_team_chat(*tenant, Some(new_chat_id)).await?;
        }
        Ok(tenants)
    }

    /// Everything that names a group follows it to its supergroup: destinations, the team chat of the
    /// workspaces that use it, and open conversations. Idempotent.
    pub async fn follow_chat_migration(&self, old_chat_id: i64, new_chat_id: i64) -> Result<()> {
        if old_chat_id == new_chat_id {
            return Ok(());
        }
        self.migrate_destination_chat(old_chat_id, new_chat_id).await?;
        self.migrate_team_chat(old_chat_id, new_chat_id).await?;
        self.migrate_dialogue_chat(old_chat_id, new_chat_id).await?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngagementAlerts {
    pub comments: bool,
    pub reactions: bool,
}

impl Default for EngagementAlerts {
    fn default() -> Self {
        Self { comments: true, reactions: true }
    }
}

impl Store {
    /// The workspace's choice, or both on when it never chose.
    pub async fn engagement_alerts(&self, tenant: TenantId) -> Result<EngagementAlerts> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT comments, reactions FROM engagement_alerts WHERE tenant_id = $1")
                .bind(tenant.to_db())
                .fetch_optional(self.reader())
                .await?;
        Ok(row.map(|(c, r)| EngagementAlerts { comments: c != 0, reactions: r != 0 }).unwrap_or_default())
    }

    pub async fn set_engagement_alerts(&self, tenant: TenantId, a: EngagementAlerts) -> Result<()> {
        sqlx::query(
            "INSERT INTO engagement_alerts (tenant_id, comments, reactions, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id) DO UPDATE SET comments = excluded.comments, reactions = excluded.reactions, \
             updated_at = excluded.updated_at",
        )
        .bind(tenant.to_db())
        .bind(i64::from(a.comments))
        .bind(i64::from(a.reactions))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
