//! The target state machine of the publishing pipeline: `pending -> publishing -> published | failed | unknown`.
//!
//! Each transition is a compare-and-set on the current status, so a stale or duplicated job cannot move a target
//! twice. `publishing` is committed before the platform is called; a target found in `publishing` by a later
//! attempt is one whose earlier request may have gone out, and must be checked or confirmed, never re-sent.
//! Starting clears any platform reference left from an earlier round, so a reference always belongs to the
//! request in flight. After each final transition the post's own status is recomputed from all of its targets.
//!
//! This file holds the two moves around the platform call, begin and settle; the others (back to pending, confirmed
//! by hand, skipped) are in `targets/mod.rs`.

use crate::accounts::{account_from_prefixed, COLUMNS as ACCOUNT_COLUMNS};
use crate::posts::{post_from_prefixed, POST_COLUMNS};
use crate::targets::{target_from_row, Target, TARGET_COLUMNS};
use crate::{col, dialect, Backend, Result, Store, StoreError};
use crate::{Account, AccountTokens, NewJob, Post, PostContent};
use sqlx::any::AnyRow;
use tochen_domain::clock::now_ms;
use tochen_domain::ids::{MediaId, PostId, TargetId, TenantId};
use tochen_domain::{MediaKind, Platform, PostStatus, TargetStatus};

/// The result of trying to move a target to `publishing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginPublish {
    /// This attempt moved it from `pending`; go ahead and call the platform.
    Started(Target),
    /// It was already `publishing`: an earlier attempt may have sent the request.
    InFlight(Target),
    /// It is in a final state (or cancelled): nothing to do.
    Settled(Target),
    /// Still `pending`: its platform has no publisher or its account is not active.
    NotReady(Target),
}

/// The final state [`Store::settle_target`] moves a target to.
#[derive(Debug, Clone, Copy)]
pub enum Settle<'a> {
    /// `publishing | unknown -> published` with the platform's post id and permalink.
    Published { platform_post_id: &'a str, permalink: Option<&'a str> },
    /// One of `from` -> `to` (failed or unknown) with an error class and message.
    To { from: &'a [TargetStatus], to: TargetStatus, class: &'a str, message: &'a str },
}

/// Everything the pipeline needs to build a publish request.
#[derive(Debug, Clone)]
pub struct PublishContext {
    pub post: Post,
    pub target: Target,
    pub account: Account,
    pub tokens: AccountTokens,
    pub content: Option<PostContent>,
    /// (media id, kind, content type, size, storage path) in post order.
    pub media: Vec<(MediaId, MediaKind, String, i64, String)>,
    /// The workspace's team chat, where results go when the post has no author chat.
    pub team_chat_id: Option<i64>,
    /// Whether the workspace had an active webhook destination when this was read: without one, settling the
    /// target queues no outgoing event.
    pub has_webhooks: bool,
    /// The platform options the post publishes with: the workspace's defaults overridden by the post's own, as
    /// [`Store::post_options`] reads them.
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl Store {
    /// Reads the publish context of a target and, in the same message, moves it `pending -> publishing` (and its
    /// post `scheduled -> publishing`), committed before the platform call, when it can be published: its platform
    /// is one of `platforms` (those with a publisher), its account is active and its post exists. The context shows
    /// the target as this call left it and the post as it was before. On PostgreSQL this is one statement; on
    /// SQLite, whose one connection every task queues for, three statements sent together.
    pub async fn begin_publishing(
        &self,
        tenant: TenantId,
        target: TargetId,
        platforms: &[Platform],
    ) -> Result<(PublishContext, BeginPublish)> {
        // Sorted, so the statement's text (and its prepared plan) is the same whatever order the caller lists them in.
        let mut listed = platforms.iter().map(|p| format!("'{}'", p.as_str())).collect::<Vec<_>>();
        listed.sort();
        listed.dedup();
        let start = format!(
            "UPDATE post_targets SET status = 'publishing', attempts = attempts + 1, platform_ref = NULL, \
             error_class = NULL, error_message = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending' \
             AND platform IN ({platforms}) \
             AND EXISTS (SELECT 1 FROM posts p WHERE p.tenant_id = $1 AND p.id = post_targets.post_id) \
             AND EXISTS (SELECT 1 FROM social_accounts a WHERE a.tenant_id = $1 AND a.id = post_targets.account_id \
               AND a.status = 'active')",
            platforms = if listed.is_empty() { "NULL".to_owned() } else { listed.join(", ") },
        );
        let move_post = "UPDATE posts SET status = 'publishing', updated_at = $3 WHERE tenant_id = $1 \
                         AND status = 'scheduled' AND id = ";
        let sql = dialect::begin_publishing(self.backend, &start, move_post, TARGET_COLUMNS, |source, started| {
            context_query(self.backend, source, started)
        });
        let rows =
            sqlx::query(&sql).bind(tenant.to_db()).bind(target.to_db()).bind(now_ms()).fetch_all(&self.pool).await?;
        let row = rows.first().ok_or(StoreError::NotFound("post target"))?;
        let ctx = self.context_from_row(row)?;
        let t = ctx.target.clone();
        let begun = match t.status {
            _ if col::<i64>(row, "started")? == 1 => BeginPublish::Started(t),
            TargetStatus::Publishing => BeginPublish::InFlight(t),
            TargetStatus::Pending => BeginPublish::NotReady(t),
            _ => BeginPublish::Settled(t),
        };
        Ok((ctx, begun))
    }

    /// Durably records the platform's reference (container id, publish_id) of a target being published (a target
    /// no longer `publishing` keeps the reference it has).
    pub async fn record_platform_ref(&self, tenant: TenantId, target: TargetId, platform_ref: &str) -> Result<()> {
        sqlx::query(
            "UPDATE post_targets SET platform_ref = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 \
             AND status = 'publishing'",
        )
        .bind(tenant.to_db())
        .bind(target.to_db())
        .bind(platform_ref)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Recomputes a post's status from its targets once none is open (pending, publishing or unknown):
    /// `published` (none failed), `partially_published` (some went out, some failed), `failed` (none went out) or
    /// `cancelled` (every target was skipped or cancelled). Returns the new status when it changed. One statement:
    /// the counts are subqueries of the update.
    pub async fn refresh_post_status(&self, tenant: TenantId, post: PostId) -> Result<Option<PostStatus>> {
        let row: Option<(String,)> = sqlx::query_as(&refresh_post_statement("$2", "$3"))
            .bind(tenant.to_db())
            .bind(post.to_db())
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(s,)| crate::parse_enum(&s, PostStatus::parse, "post status")).transpose()
    }

    /// Settles a target (`published`, `failed` or `unknown`, a compare-and-set on its current status). With
    /// `queue_event`, the job `event` builds from the settled row is queued in the same transaction: the outcome
    /// and its outgoing event are durable together. Without (the workspace has no webhook destination), the
    /// compare-and-set is one statement. The post's status is recomputed after the commit, so that of two targets
    /// of one post settling at once the later recompute sees both; on PostgreSQL the post of a sole target (no
    /// sibling can settle concurrently) is moved by the settling statement itself. `None` when the target was not
    /// in a state it may leave.
    pub async fn settle_target(
        &self,
        tenant: TenantId,
        target: TargetId,
        change: Settle<'_>,
        queue_event: bool,
        event: impl FnOnce(&Target) -> Option<NewJob>,
    ) -> Result<Option<Target>> {
        let now = now_ms();
        let (sql, texts) = settle_statement(change);
        let post = "(SELECT post_id FROM post_targets WHERE tenant_id = $1 AND id = $2)";
        let sql = dialect::settle_target(self.backend, &sql, &refresh_post_statement(post, "$5"));
        let statement =
            || sqlx::query(&sql).bind(tenant.to_db()).bind(target.to_db()).bind(texts[0]).bind(texts[1]).bind(now);
        let row = if queue_event {
            let mut tx = self.pool.begin().await?;
            let Some(row) = statement().fetch_all(&mut *tx).await?.into_iter().next() else { return Ok(None) };
            let job = event(&target_from_row(&row)?);
            if let Some(job) = &job {
                crate::jobs::insert_job(&mut tx, job, now).await?;
            }
            tx.commit().await?;
            if job.is_some() {
                self.notify_jobs_changed();
            }
            row
        } else {
            let Some(row) = statement().fetch_all(&self.pool).await?.into_iter().next() else { return Ok(None) };
            row
        };
        let settled = target_from_row(&row)?;
        if dialect::recompute_post_after_commit(self.backend) && col::<i64>(&row, "sole_target")? == 0 {
            self.refresh_post_status(tenant, settled.post_id).await?;
        }
        Ok(Some(settled))
    }

    /// Loads what a publish request is built from: target, post, account with its tokens, the platform's content,
    /// the post's media, the workspace's team chat and the options the post publishes with, in one joined read. No
    /// transaction is held.
    pub async fn publish_context(&self, tenant: TenantId, target: TargetId) -> Result<PublishContext> {
        let row = sqlx::query(&context_query(self.backend, "post_targets", "0"))
            .bind(tenant.to_db())
            .bind(target.to_db())
            .fetch_optional(&self.pool)
            .await?;
        self.context_from_row(&row.ok_or(StoreError::NotFound("post target"))?)
    }

    /// A row of [`context_query`] as a [`PublishContext`]; `NotFound` names the post or account that is gone.
    fn context_from_row(&self, row: &AnyRow) -> Result<PublishContext> {
        let target = target_from_row(row)?;
        if col::<Option<String>>(row, "p_id")?.is_none() {
            return Err(StoreError::NotFound("post"));
        }
        if col::<Option<String>>(row, "a_id")?.is_none() {
            return Err(StoreError::NotFound("account"));
        }
        let post = post_from_prefixed(row, "p_")?;
        let account = account_from_prefixed(row, "a_")?;
        let refresh: Option<String> = col(row, "a_refresh_token_enc")?;
        let tokens = AccountTokens {
            access_token: self.secrets.decrypt(&col::<String>(row, "a_access_token_enc")?)?,
            refresh_token: refresh.map(|r| self.secrets.decrypt(&r)).transpose()?,
        };
        let content = match col::<Option<String>>(row, "c_body")? {
            Some(body) => Some(PostContent {
                platform: target.platform,
                body,
                hashtags: serde_json::from_str(&col::<String>(row, "c_hashtags")?).unwrap_or_default(),
                link: col(row, "c_link")?,
                custom: false,
            }),
            None => None,
        };
        let team_chat_id = col(row, "w_team_chat_id")?;
        let options = crate::media_facts::merged_options(
            &col::<Option<String>>(row, "w_post_defaults")?.unwrap_or_default(),
            &col::<String>(row, "p_platform_options")?,
        );
        let has_webhooks = col::<i64>(row, "has_webhooks")? != 0;
        let listed: Vec<(String, String, String, i64, String)> = serde_json::from_str(&col::<String>(row, "media")?)
            .map_err(|e| StoreError::Corrupt(format!("media list of post {}: {e}", post.id)))?;
        let mut media = Vec::with_capacity(listed.len());
        for (id, kind, content_type, size, path) in listed {
            let kind = crate::parse_enum(&kind, MediaKind::parse, "media kind")?;
            media.push((MediaId::from_db(&id)?, kind, content_type, size, path));
        }
        Ok(PublishContext { post, target, account, tokens, content, media, team_chat_id, has_webhooks, options })
    }

    /// Test support (only with the `test-support` feature). Targets of every workspace in a status, for the crash test
    /// and for recovery views. A system read.
    #[cfg(feature = "test-support")]
    pub async fn target_status_counts(&self) -> Result<Vec<(TargetStatus, i64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM post_targets GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(|(s, n)| Ok((crate::parse_enum(&s, TargetStatus::parse, "target status")?, n))).collect()
    }
}

/// `table.column AS {prefix}column, ...` for a joined read whose tables share column names.
fn aliased(table: &str, columns: &str, prefix: &str) -> String {
    columns.split(',').map(|c| format!("{table}.{c} AS {prefix}{c}", c = c.trim())).collect::<Vec<_>>().join(", ")
}

/// The joined read of [`Store::publish_context`]. Posts and accounts are left-joined so a missing row is told apart
/// from a missing target; the content row is the one for the target's platform. The post's media come as one JSON
/// array of `[id, kind, content_type, size_bytes, storage_path]` in post order (the aggregate is spelled per
/// backend: `dialect::json_array_agg`). The target row comes from `source` (a table or subquery with the target's columns) and the read
/// gains `started` (0 or 1) from the SQL `started`.
fn context_query(backend: Backend, source: &str, started: &str) -> String {
    let target = TARGET_COLUMNS.split(',').map(|c| format!("t.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let media_row = "m.id, m.kind, m.content_type, m.size_bytes, m.storage_path";
    let media_list = dialect::json_array_agg(backend, media_row, "pm.position");
    format!(
        "SELECT {target}, {post}, {account}, a.access_token_enc AS a_access_token_enc, \
         (SELECT {media_list} FROM post_media pm JOIN media m ON m.id = pm.media_id \
           WHERE pm.tenant_id = t.tenant_id AND pm.post_id = t.post_id) AS media, \
         a.refresh_token_enc AS a_refresh_token_enc, c.body AS c_body, c.hashtags AS c_hashtags, c.link AS c_link, \
         w.team_chat_id AS w_team_chat_id, w.post_defaults AS w_post_defaults, p.platform_options AS p_platform_options, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM destinations d WHERE d.tenant_id = t.tenant_id AND d.kind = 'webhook' \
           AND d.status = 'active') THEN 1 ELSE 0 END AS BIGINT) AS has_webhooks, \
         CAST({started} AS BIGINT) AS started FROM {source} t \
         LEFT JOIN posts p ON p.tenant_id = t.tenant_id AND p.id = t.post_id \
         LEFT JOIN social_accounts a ON a.tenant_id = t.tenant_id AND a.id = t.account_id \
         LEFT JOIN tenants w ON w.id = t.tenant_id \
         LEFT JOIN post_contents c ON c.tenant_id = t.tenant_id AND c.post_id = t.post_id AND c.platform = t.platform \
         WHERE t.tenant_id = $1 AND t.id = $2",
        post = aliased("p", POST_COLUMNS, "p_"),
        account = aliased("a", ACCOUNT_COLUMNS, "a_"),
    )
}

/// Recomputes a post's status from its targets once none is open (see [`Store::refresh_post_status`]): SQL binding
/// `$1` tenant, with `post` and `now` the SQL of the post id and the time; `RETURNING` the new status when it
/// changed. Every recompute of a post's status from its targets is this statement.
pub(crate) fn refresh_post_statement(post: &str, now: &str) -> String {
    let has = |list: &str| {
        format!(
            "EXISTS (SELECT 1 FROM post_targets pt WHERE pt.tenant_id = $1 AND pt.post_id = {post} \
             AND pt.status IN ({list}))"
        )
    };
    let computed = format!(
        "CASE WHEN NOT {ended} THEN 'cancelled' WHEN NOT {failed} THEN 'published' \
         WHEN {published} THEN 'partially_published' ELSE 'failed' END",
        ended = has("'published', 'failed'"),
        failed = has("'failed'"),
        published = has("'published'"),
    );
    format!(
        "UPDATE posts SET status = {computed}, updated_at = {now} WHERE tenant_id = $1 AND id = {post} \
         AND status IN ('scheduled', 'publishing', 'published', 'partially_published', 'failed') \
         AND NOT {open} AND status <> {computed} RETURNING status",
        open = has("'pending', 'publishing', 'unknown'"),
    )
}

/// The compare-and-set of a settling target: SQL binding `$1` tenant, `$2` target, `$3`/`$4` the two texts
/// returned with it, `$5` now, and returning the settled row. Shared with inbound platform reports.
pub(crate) fn settle_statement<'a>(change: Settle<'a>) -> (String, [Option<&'a str>; 2]) {
    match change {
        Settle::Published { platform_post_id, permalink } => (
            format!(
                "UPDATE post_targets SET status = 'published', platform_post_id = $3, permalink = $4, \
                 published_at = $5, error_class = NULL, error_message = NULL, updated_at = $5 \
                 WHERE tenant_id = $1 AND id = $2 AND status IN ('publishing', 'unknown') \
                 RETURNING {TARGET_COLUMNS}"
            ),
            [Some(platform_post_id), permalink],
        ),
        Settle::To { from, to, class, message } => {
            let list = from.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
            (
                format!(
                    "UPDATE post_targets SET status = '{to}', error_class = $3, error_message = $4, \
                     updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND status IN ({list}) \
                     RETURNING {TARGET_COLUMNS}",
                    to = to.as_str()
                ),
                [Some(class), Some(message)],
            )
        }
    }
}
