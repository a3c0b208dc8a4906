//! People, as Telegram knows them.

use crate::Tenant;
use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::Role;

/// What an update tells about its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramIdentity {
    pub telegram_id: i64,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: Option<String>,
    pub language_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub telegram_id: i64,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: Option<String>,
    /// The language Telegram reports for the user.
    pub language_code: Option<String>,
    /// The language the user chose with /language; wins over `language_code`.
    pub language_override: Option<String>,
    pub active_tenant_id: Option<TenantId>,
    pub created_at: Millis,
}

impl User {
    /// The language to talk to this user in: their choice, else Telegram's, else English.
    pub fn language(&self) -> &str {
        self.language_override.as_deref().or(self.language_code.as_deref()).unwrap_or("en")
    }

    /// The name to show teammates.
    pub fn display_name(&self) -> String {
        match (&self.username, &self.last_name) {
            (_, Some(last)) => format!("{} {last}", self.first_name),
            (Some(u), None) if self.first_name.is_empty() => format!("@{u}"),
            _ => self.first_name.clone(),
        }
    }
}

const COLUMNS: &str =
    "id, telegram_id, username, first_name, last_name, language_code, language_override, active_tenant_id, created_at";

/// A row of `users` as stored.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    telegram_id: i64,
    username: Option<String>,
    first_name: String,
    last_name: Option<String>,
    language_code: Option<String>,
    language_override: Option<String>,
    active_tenant_id: Option<String>,
    created_at: Millis,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: UserId::from_db(&r.id)?,
            telegram_id: r.telegram_id,
            username: r.username,
            first_name: r.first_name,
            last_name: r.last_name,
            language_code: r.language_code,
            language_override: r.language_override,
            active_tenant_id: r.active_tenant_id.as_deref().map(TenantId::from_db).transpose()?,
            created_at: r.created_at,
        })
    }
}

/// The person behind a bot update: who they are, their active workspace and role, and their dialogue state in
/// the update's chat (the raw JSON the bot stored, absent when idle).
#[derive(Debug, Clone)]
pub struct Person {
    pub user: User,
    pub active: Option<(Tenant, Role)>,
    pub dialogue: Option<String>,
}

/// The read of [`Store::person_in_chat`] (`$1` Telegram id, `$2` chat): built once, it runs for every bot update.
/// A NULL chat matches no dialogue row.
fn person_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let users = COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        let tenants = crate::tenants::COLUMNS
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| format!("t.{c} AS t_{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT {users}, m.role AS m_role, {tenants}, d.state AS d_state FROM users u \
             LEFT JOIN memberships m ON m.tenant_id = u.active_tenant_id AND m.user_id = u.id \
             LEFT JOIN tenants t ON t.id = m.tenant_id \
             LEFT JOIN dialogue_states d ON d.chat_id = $2 AND d.user_id = u.telegram_id \
             WHERE u.telegram_id = $1"
        )
    })
}

fn user_from_row(row: &AnyRow) -> Result<User> {
    UserRow::from_row(row)?.try_into()
}

/// Whether the stored user still has the Telegram details of `who` (then an update needs no write).
fn same_identity(u: &User, who: &TelegramIdentity) -> bool {
    u.username == who.username
        && u.first_name == who.first_name
        && u.last_name == who.last_name
        && u.language_code == who.language_code
}

impl Store {
    /// The person behind an update, with their active workspace and their role in it: ONE read on the common path
    /// (the user, the membership and the workspace joined); the user is written only on first contact or when
    /// their Telegram details changed. A workspace they are no longer a member of is `None`.
    pub async fn person(&self, who: &TelegramIdentity) -> Result<(User, Option<(Tenant, Role)>)> {
        let p = self.person_in_chat(who, None).await?;
        Ok((p.user, p.active))
    }

    /// [`Store::person`] plus their dialogue state in `chat` (the raw stored state, if any), in the same read:
    /// what the bot needs before it handles an update.
    pub async fn person_in_chat(&self, who: &TelegramIdentity, chat: Option<i64>) -> Result<Person> {
        if let Some(found) = self.person_read(who.telegram_id, chat).await? {
            if same_identity(&found.user, who) {
                return Ok(found);
            }
        }
        self.upsert_user(who).await?;
        self.person_read(who.telegram_id, chat).await?.ok_or(StoreError::NotFound("user"))
    }

    async fn person_read(&self, telegram_id: i64, chat: Option<i64>) -> Result<Option<Person>> {
        let row = sqlx::query(person_sql()).bind(telegram_id).bind(chat).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from_row(&row)?;
        let role: Option<String> = crate::col(&row, "m_role")?;
        let active = match role {
            Some(r) => {
                Some((crate::tenants::tenant_from_prefixed(&row, "t_")?, crate::parse_enum(&r, Role::parse, "role")?))
            }
            None => None,
        };
        Ok(Some(Person { user, active, dialogue: crate::col(&row, "d_state")? }))
    }

    /// Creates the user on first contact and refreshes their Telegram details on later ones.
    pub async fn upsert_user(&self, who: &TelegramIdentity) -> Result<User> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO users (id, telegram_id, username, first_name, last_name, language_code, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (telegram_id) DO UPDATE SET username = excluded.username, first_name = excluded.first_name, \
             last_name = excluded.last_name, language_code = excluded.language_code, updated_at = excluded.updated_at",
        )
        .bind(UserId::new().to_db())
        .bind(who.telegram_id)
        .bind(&who.username)
        .bind(&who.first_name)
        .bind(&who.last_name)
        .bind(&who.language_code)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.user_by_telegram_id(who.telegram_id).await?.ok_or(StoreError::NotFound("user"))
    }

    pub async fn user_by_telegram_id(&self, telegram_id: i64) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE telegram_id = $1"))
            .bind(telegram_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id.to_db())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        user_from_row(&row)
    }

    /// Sets (or with `None` clears) the language the user picked with /language.
    pub async fn set_user_language(&self, id: UserId, language: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE users SET language_override = $2, updated_at = $3 WHERE id = $1")
            .bind(id.to_db())
            .bind(language)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Switches the user's active workspace; refused unless they are a member of it.
    pub async fn set_active_tenant(&self, id: UserId, tenant: TenantId) -> Result<()> {
        let done = sqlx::query(
            "UPDATE users SET active_tenant_id = $2, updated_at = $3 WHERE id = $1 \
             AND EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = $2 AND m.user_id = $1)",
        )
        .bind(id.to_db())
        .bind(tenant.to_db())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("membership"));
        }
        Ok(())
    }
}
