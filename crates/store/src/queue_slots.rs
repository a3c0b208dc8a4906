//! Queue slots (issue 17): a workspace's weekly posting times and an account's own, which replace the
//! workspace's for that account; the instants posts already occupy; swapping two queued posts' times; and the
//! published posts with their latest metrics that "best time to post" is computed from.

use crate::{parse_enum, Result, Store, StoreError};
use std::collections::BTreeSet;
use tochen_domain::besttime::PostMetrics;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{AccountId, PostId, TenantId};
use tochen_domain::slots::{normalize, WeeklySlot, MAX_SLOTS};
use tochen_domain::Platform;

fn slot_of(weekday: i64, minute: i64) -> Result<WeeklySlot> {
    WeeklySlot::from_db(weekday, minute)
        .ok_or_else(|| StoreError::Corrupt(format!("queue slot weekday {weekday} minute {minute}")))
}

/// A scope's condition: `$2` is the account id, or '' for the workspace's own slots.
/// Adds one slot to a scope unless it is there already; 1 when added, 0 when not.
async fn insert_slot(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    account: Option<AccountId>,
    s: WeeklySlot,
    now: Millis,
) -> Result<usize> {
    let done = sqlx::query(
        "INSERT INTO queue_slots (id, tenant_id, account_id, weekday, minute_of_day, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(tenant.to_db())
    .bind(account.map(|a| a.to_db()))
    .bind(i64::from(s.weekday_index()))
    .bind(i64::from(s.minute_of_day()))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() as usize)
}

const SCOPE: &str = "COALESCE(account_id, '') = $2";

fn scope(account: Option<AccountId>) -> String {
    account.map(|a| a.to_db()).unwrap_or_default()
}

impl Store {
    /// The slots of the workspace (`account` `None`) or the account's own, Monday first.
    pub async fn queue_slots(&self, tenant: TenantId, account: Option<AccountId>) -> Result<Vec<WeeklySlot>> {
        let sql = format!(
            "SELECT weekday, minute_of_day FROM queue_slots WHERE tenant_id = $1 AND {SCOPE} \
             ORDER BY weekday, minute_of_day"
        );
        let rows: Vec<(i64, i64)> =
            sqlx::query_as(&sql).bind(tenant.to_db()).bind(scope(account)).fetch_all(&self.pool).await?;
        rows.into_iter().map(|(d, m)| slot_of(d, m)).collect()
    }

    /// The accounts of the workspace that have slots of their own.
    pub async fn accounts_with_own_slots(&self, tenant: TenantId) -> Result<Vec<AccountId>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT account_id FROM queue_slots WHERE tenant_id = $1 AND account_id IS NOT NULL \
             ORDER BY account_id",
        )
        .bind(tenant.to_db())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(|(a,)| Ok(AccountId::from_db(&a)?)).collect()
    }

    /// Adds slots to a scope (those it has already are skipped). Returns how many were added; at most
    /// [`MAX_SLOTS`] are kept per scope, the rest are not added.
    pub async fn add_queue_slots(
        &self,
        tenant: TenantId,
        account: Option<AccountId>,
        slots: &[WeeklySlot],
    ) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let sql = format!("SELECT COUNT(*) FROM queue_slots WHERE tenant_id = $1 AND {SCOPE}");
        let row: (i64,) = sqlx::query_as(&sql).bind(tenant.to_db()).bind(scope(account)).fetch_one(&mut *tx).await?;
        let mut have = row.0 as usize;
        let mut added = 0;
        let now = now_ms();
        for s in normalize(slots.to_vec()) {
            if have >= MAX_SLOTS {
                break;
            }
            let n = insert_slot(&mut tx, tenant, account, s, now).await?;
            added += n;
            have += n;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Removes one slot from a scope; `false` when it had no such slot.
    pub async fn remove_queue_slot(
        &self,
        tenant: TenantId,
        account: Option<AccountId>,
        slot: WeeklySlot,
    ) -> Result<bool> {
        let sql =
            format!("DELETE FROM queue_slots WHERE tenant_id = $1 AND {SCOPE} AND weekday = $3 AND minute_of_day = $4");
        let done = sqlx::query(&sql)
            .bind(tenant.to_db())
            .bind(scope(account))
            .bind(i64::from(slot.weekday_index()))
            .bind(i64::from(slot.minute_of_day()))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes every slot of a scope; returns how many.
    pub async fn clear_queue_slots(&self, tenant: TenantId, account: Option<AccountId>) -> Result<u64> {
        let sql = format!("DELETE FROM queue_slots WHERE tenant_id = $1 AND {SCOPE}");
        Ok(sqlx::query(&sql).bind(tenant.to_db()).bind(scope(account)).execute(&self.pool).await?.rows_affected())
    }

    /// Replaces a scope's slots (a preset), in one transaction.
    pub async fn replace_queue_slots(
        &self,
        tenant: TenantId,
        account: Option<AccountId>,
        slots: &[WeeklySlot],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let sql = format!("DELETE FROM queue_slots WHERE tenant_id = $1 AND {SCOPE}");
        sqlx::query(&sql).bind(tenant.to_db()).bind(scope(account)).execute(&mut *tx).await?;
        let now = now_ms();
        for s in normalize(slots.to_vec()).into_iter().take(MAX_SLOTS) {
            insert_slot(&mut tx, tenant, account, s, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The slots a post to `accounts` can take: each account's own slots, or the workspace's for an account
    /// without its own, together. Empty when none are configured (the caller then falls back to defaults). With no
    /// accounts, the workspace's.
    pub async fn effective_queue_slots(&self, tenant: TenantId, accounts: &[AccountId]) -> Result<Vec<WeeklySlot>> {
        let rows: Vec<(Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT account_id, weekday, minute_of_day FROM queue_slots WHERE tenant_id = $1 \
             ORDER BY weekday, minute_of_day",
        )
        .bind(tenant.to_db())
        .fetch_all(self.reader())
        .await?;
        let mut workspace = Vec::new();
        let mut own: Vec<(AccountId, WeeklySlot)> = Vec::new();
        for (acc, d, m) in rows {
            let s = slot_of(d, m)?;
            match acc {
                Some(a) => own.push((AccountId::from_db(&a)?, s)),
                None => workspace.push(s),
            }
        }
        let mut out = Vec::new();
        if accounts.is_empty() {
            out = workspace;
        } else {
            for a in accounts {
                let mine: Vec<WeeklySlot> = own.iter().filter(|(x, _)| x == a).map(|(_, s)| *s).collect();
                if mine.is_empty() {
                    out.extend(workspace.iter().copied());
                } else {
                    out.extend(mine);
                }
            }
        }
        Ok(normalize(out))
    }

    /// When scheduled and waiting posts go out from `from` on: the instants that occupy slots. With `accounts`,
    /// only posts aimed at one of them (by their targets); `skip` leaves one post out (the one being placed).
    pub async fn queue_taken_instants(
        &self,
        tenant: TenantId,
        accounts: &[AccountId],
        from: Millis,
        skip: Option<PostId>,
    ) -> Result<Vec<Millis>> {
        let rows: Vec<(String, Millis, Option<String>)> = sqlx::query_as(
            "SELECT p.id, p.scheduled_at, t.account_id FROM posts p LEFT JOIN post_targets t ON t.post_id = p.id \
             AND t.tenant_id = p.tenant_id WHERE p.tenant_id = $1 AND p.status IN ('scheduled', 'pending_approval') \
             AND p.scheduled_at IS NOT NULL AND p.scheduled_at >= $2 ORDER BY p.scheduled_at",
        )
        .bind(tenant.to_db())
        .bind(from - tochen_domain::slots::OCCUPIED_WITHIN_MS)
        .fetch_all(self.reader())
        .await?;
        let wanted: BTreeSet<String> = accounts.iter().map(|a| a.to_db()).collect();
        let skip = skip.map(|p| p.to_db());
        let mut out: Vec<Millis> = rows
            .into_iter()
            .filter(|(post, _, _)| Some(post) != skip.as_ref())
            .filter(|(_, _, acc)| wanted.is_empty() || acc.as_ref().is_some_and(|a| wanted.contains(a)))
            .map(|(_, at, _)| at)
            .collect();
        out.dedup();
        Ok(out)
    }

    /// Swaps the times of two scheduled posts (their queued publish jobs move with them), in one transaction.
    /// `Ok(false)` when either is no longer scheduled or changed since (nothing moves then).
    pub async fn swap_scheduled_posts(
        &self,
        tenant: TenantId,
        (a, a_version): (PostId, i64),
        (b, b_version): (PostId, i64),
    ) -> Result<bool> {
        if a == b {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await?;
        let mut times = Vec::new();
        for (p, v) in [(a, a_version), (b, b_version)] {
            let row: Option<(Option<Millis>,)> = sqlx::query_as(
                "SELECT scheduled_at FROM posts WHERE tenant_id = $1 AND id = $2 AND version = $3 \
                 AND status = 'scheduled'",
            )
            .bind(tenant.to_db())
            .bind(p.to_db())
            .bind(v)
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                Some((Some(at),)) => times.push(at),
                _ => {
                    tx.rollback().await?;
                    return Ok(false);
                }
            }
        }
        let now = now_ms();
        for ((p, v), at) in [(a, a_version), (b, b_version)].into_iter().zip([times[1], times[0]]) {
            if !crate::targets::move_scheduled(&mut tx, tenant, p, v, at, now).await? {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        tx.commit().await?;
        self.notify_jobs_changed();
        Ok(true)
    }

    /// The workspace's targets published since `since` that have metrics, each with its latest reading: the input
    /// of "best time to post". Missing counters stay `None`.
    pub async fn besttime_posts(&self, tenant: TenantId, since: Millis) -> Result<Vec<PostMetrics>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            platform: String,
            published_at: Millis,
            views: Option<i64>,
            reach: Option<i64>,
            likes: Option<i64>,
            comments: Option<i64>,
            shares: Option<i64>,
            saves: Option<i64>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT t.platform, t.published_at, m.views, m.reach, m.likes, m.comments, m.shares, m.saves \
             FROM post_targets t JOIN metrics_snapshots m ON m.tenant_id = t.tenant_id AND m.target_id = t.id \
             WHERE t.tenant_id = $1 AND t.status = 'published' AND t.published_at IS NOT NULL \
             AND t.published_at >= $2 AND NOT EXISTS ( \
             SELECT 1 FROM metrics_snapshots n WHERE n.tenant_id = m.tenant_id AND n.target_id = m.target_id \
             AND (n.captured_at > m.captured_at OR (n.captured_at = m.captured_at AND n.id > m.id))) \
             ORDER BY t.published_at, t.id",
        )
        .bind(tenant.to_db())
        .bind(since)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(PostMetrics {
                    platform: parse_enum(&r.platform, Platform::parse, "platform")?,
                    published_at: r.published_at,
                    views: r.views,
                    reach: r.reach,
                    likes: r.likes,
                    comments: r.comments,
                    shares: r.shares,
                    saves: r.saves,
                })
            })
            .collect()
    }
}
