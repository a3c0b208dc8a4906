//! The posts of a stretch of time, for `/calendar`: each post once, at the moment it went out (its first
//! published target) or else the moment it is scheduled for, with its status and the platforms it is aimed at
//! (its targets', or, before it has targets, the accounts picked on the draft). Posts without either moment
//! (drafts never scheduled) are not on a calendar.

use crate::{parse_enum, Result, Store};
use std::collections::BTreeMap;
use tochen_domain::clock::Millis;
use tochen_domain::ids::{PostId, TenantId};
use tochen_domain::{Platform, PostStatus};

/// A post as the calendar places it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPost {
    pub id: PostId,
    pub title: String,
    pub status: PostStatus,
    /// When it went out (the first target published), else when it is scheduled for.
    pub at: Millis,
    /// Its platforms, each once, in [`Platform::ALL`]'s order.
    pub platforms: Vec<Platform>,
}

/// A post's time as the calendar reads it, as SQL over `posts p` (bound: `$1` = the tenant).
const AT: &str = "COALESCE((SELECT MIN(t.published_at) FROM post_targets t WHERE t.tenant_id = $1 AND \
                  t.post_id = p.id AND t.published_at IS NOT NULL), p.scheduled_at)";

impl Store {
    /// The workspace's posts placed in `[start_ms, end_ms)`, by time then id: two reads, the posts and then the
    /// platforms of all of them in one IN list.
    pub async fn calendar_posts(
        &self,
        tenant: TenantId,
        start_ms: Millis,
        end_ms: Millis,
    ) -> Result<Vec<CalendarPost>> {
        let sql = format!(
            "SELECT id, title, status, at FROM (SELECT p.id, p.title, p.status, {AT} AS at FROM posts p \
             WHERE p.tenant_id = $1) x WHERE x.at >= $2 AND x.at < $3 ORDER BY x.at, x.id"
        );
        let rows: Vec<(String, String, String, Millis)> =
            sqlx::query_as(&sql).bind(tenant.to_db()).bind(start_ms).bind(end_ms).fetch_all(&self.pool).await?;
        let mut posts = Vec::with_capacity(rows.len());
        for (id, title, status, at) in rows {
            posts.push(CalendarPost {
                id: PostId::from_db(&id)?,
                title,
                status: parse_enum(&status, PostStatus::parse, "post status")?,
                at,
                platforms: Vec::new(),
            });
        }
        if posts.is_empty() {
            return Ok(posts);
        }
        let list = crate::dialect::placeholders(2, posts.len());
        let sql = format!(
            "SELECT post_id, platform FROM post_targets WHERE tenant_id = $1 AND post_id IN ({list}) \
             UNION SELECT d.post_id, a.platform FROM draft_accounts d JOIN social_accounts a ON a.id = d.account_id \
             AND a.tenant_id = $1 WHERE d.tenant_id = $1 AND d.post_id IN ({list})"
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql).bind(tenant.to_db());
        for p in &posts {
            q = q.bind(p.id.to_db());
        }
        let mut of: BTreeMap<String, Vec<Platform>> = BTreeMap::new();
        for (post, platform) in q.fetch_all(&self.pool).await? {
            of.entry(post).or_default().push(parse_enum(&platform, Platform::parse, "platform")?);
        }
        for p in &mut posts {
            let mine = of.remove(&p.id.to_db()).unwrap_or_default();
            p.platforms = Platform::ALL.iter().copied().filter(|x| mine.contains(x)).collect();
        }
        Ok(posts)
    }
}
