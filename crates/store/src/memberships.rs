//! Who belongs to which workspace, with which role.

use crate::{parse_enum, Result, Store, StoreError};
use tochen_domain::ids::{TenantId, UserId};
use tochen_domain::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub telegram_id: i64,
    pub name: String,
    pub username: Option<String>,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    #[error("the workspace must keep at least one admin")]
    LastAdmin,
    #[error("not a member of this workspace")]
    NotMember,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for MembershipError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// A row of `Store::members`' read: the user and the role.
#[derive(sqlx::FromRow)]
struct MemberRow {
    id: String,
    telegram_id: i64,
    first_name: String,
    last_name: Option<String>,
    username: Option<String>,
    role: String,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;

    fn try_from(r: MemberRow) -> Result<Self> {
        Ok(Member {
            user_id: UserId::from_db(&r.id)?,
            telegram_id: r.telegram_id,
            name: match r.last_name {
                Some(l) => format!("{} {l}", r.first_name),
                None => r.first_name,
            },
            username: r.username,
            role: parse_enum(&r.role, Role::parse, "role")?,
        })
    }
}

impl Store {
    /// The user's role in the workspace, or `None` when they are not a member.
    pub async fn role_of(&self, tenant: TenantId, user: UserId) -> Result<Option<Role>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2")
                .bind(tenant.to_db())
                .bind(user.to_db())
                .fetch_optional(self.reader())
                .await?;
        row.map(|r| parse_enum(&r.0, Role::parse, "role")).transpose()
    }

    /// Members of a workspace, admins first, then by name.
    pub async fn members(&self, tenant: TenantId) -> Result<Vec<Member>> {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "SELECT u.id, u.telegram_id, u.first_name, u.last_name, u.username, m.role FROM memberships m \
             JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 \
             ORDER BY CASE m.role WHEN 'admin' THEN 0 WHEN 'editor' THEN 1 ELSE 2 END, u.first_name, u.id",
        )
        .bind(tenant.to_db())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(Member::try_from).collect()
    }

    /// Workspaces the user belongs to, with their role there, oldest first.
    pub async fn tenants_of(&self, user: UserId) -> Result<Vec<(TenantId, String, Role)>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT t.id, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id \
             WHERE m.user_id = $1 ORDER BY m.created_at, t.id",
        )
        .bind(user.to_db())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|(id, name, role)| Ok((TenantId::from_db(&id)?, name, parse_enum(&role, Role::parse, "role")?)))
            .collect()
    }

    /// Telegram ids of the workspace's admins, for notices that need an admin.
    pub async fn admin_telegram_ids(&self, tenant: TenantId) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT u.telegram_id FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.tenant_id = $1 AND m.role = 'admin' ORDER BY u.telegram_id",
        )
        .bind(tenant.to_db())
        .fetch_all(self.reader())
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Test support (only with the `test-support` feature). Adds a member, or changes the role of an existing one.
    #[cfg(feature = "test-support")]
    pub async fn add_member(&self, tenant: TenantId, user: UserId, role: Role) -> Result<()> {
        sqlx::query(
            "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(tenant.to_db())
        .bind(user.to_db())
        .bind(role.as_str())
        .bind(tochen_domain::clock::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Changes a member's role; the last admin cannot step down.
    pub async fn set_role(&self, tenant: TenantId, user: UserId, role: Role) -> Result<(), MembershipError> {
        // One statement, so two admins demoting each other at once cannot leave the workspace without one.
        let done = sqlx::query(
            "UPDATE memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2 \
             AND ($3 = 'admin' OR role <> 'admin' OR \
                  (SELECT COUNT(*) FROM memberships a WHERE a.tenant_id = $1 AND a.role = 'admin') > 1)",
        )
        .bind(tenant.to_db())
        .bind(user.to_db())
        .bind(role.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        match self.role_of(tenant, user).await? {
            None => Err(MembershipError::NotMember),
            Some(_) => Err(MembershipError::LastAdmin),
        }
    }

    /// Removes a member; the last admin cannot be removed. Clears the workspace as their active one.
    pub async fn remove_member(&self, tenant: TenantId, user: UserId) -> Result<(), MembershipError> {
        let done = sqlx::query(
            "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2 AND (role <> 'admin' OR \
             (SELECT COUNT(*) FROM memberships a WHERE a.tenant_id = $1 AND a.role = 'admin') > 1)",
        )
        .bind(tenant.to_db())
        .bind(user.to_db())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return match self.role_of(tenant, user).await? {
                None => Err(MembershipError::NotMember),
                Some(_) => Err(MembershipError::LastAdmin),
            };
        }
        sqlx::query("UPDATE users SET active_tenant_id = NULL WHERE id = $1 AND active_tenant_id = $2")
            .bind(user.to_db())
            .bind(tenant.to_db())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
