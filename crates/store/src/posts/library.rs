//! The content library's query: a workspace's posts filtered by status, platform, account, author, tag, a date
//! range and words of their text, newest first (by the time they go or went out, else by creation), paged. The
//! lists `/drafts`, `/queue` and `/history` are this query with a status filter. Posts carry tags (lower-case,
//! without `#`), kept in `post_tags`.
//!
//! Every filter is a bound parameter; only the status list, which comes from the enum, is written into the SQL.

use super::{post_from_row, Post, POST_COLUMNS};
use crate::{Result, Store};
use tochen_domain::clock::Millis;
use tochen_domain::ids::{AccountId, CampaignId, PostId, TenantId, UserId};
use tochen_domain::{Platform, PostStatus};

/// Longest tag kept, in characters.
pub const TAG_CHARS: usize = 50;
/// Most tags on one post.
pub const MAX_TAGS: usize = 20;

/// What the library shows; every field narrows it, `Default` is every post.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LibraryFilter {
    /// Any of these statuses; empty: every status.
    pub statuses: Vec<PostStatus>,
    /// Posts aimed at (or published to) this platform.
    pub platform: Option<Platform>,
    /// Posts aimed at (or published to) this account.
    pub account: Option<AccountId>,
    pub author: Option<UserId>,
    pub tag: Option<String>,
    /// From this moment (inclusive) to `until` (exclusive), by the time the post goes or went out, else its
    /// creation.
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    /// Words that must all appear in the title, the main text or a platform's version (case-insensitive for
    /// ASCII letters on SQLite, for all letters on PostgreSQL).
    pub search: Option<String>,
    /// Posts of this campaign (issue 18).
    pub campaign: Option<CampaignId>,
}

/// A post's place in the library's order (newest first): the time it goes or went out, else its creation, then its
/// id. The HTTP API's cursors carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibraryCursor {
    pub at: Millis,
    pub id: PostId,
}

impl LibraryCursor {
    /// The cursor of `post`: the next page starts after it.
    pub fn of(post: &Post) -> Self {
        Self { at: post.scheduled_at.unwrap_or(post.created_at), id: post.id }
    }
}

/// A tag as stored: trimmed, without leading `#`, lower-case, at most [`TAG_CHARS`]; `None` when nothing is left.
pub fn normalize_tag(raw: &str) -> Option<String> {
    let t: String = raw.trim().trim_start_matches('#').trim().to_lowercase().chars().take(TAG_CHARS).collect();
    (!t.is_empty() && !t.chars().any(char::is_whitespace)).then_some(t)
}

/// `word` as a LIKE pattern matching it anywhere, with `\` escaping LIKE's own characters.
fn like_anywhere(word: &str) -> String {
    let escaped = word.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    /// One page of the library, newest first.
    pub async fn library(&self, tenant: TenantId, f: &LibraryFilter, offset: i64, limit: i64) -> Result<Vec<Post>> {
        self.library_page(tenant, f, None, offset, limit).await
    }

    /// The library's posts after `after` (a post's [`LibraryCursor`]: its place in the newest-first order), at
    /// most `limit`: pages that stay right while posts are added or removed before them.
    pub async fn library_after(
        &self,
        tenant: TenantId,
        f: &LibraryFilter,
        after: Option<LibraryCursor>,
        limit: i64,
    ) -> Result<Vec<Post>> {
        self.library_page(tenant, f, after, 0, limit).await
    }

    async fn library_page(
        &self,
        tenant: TenantId,
        f: &LibraryFilter,
        after: Option<LibraryCursor>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Post>> {
        let mut conds = vec!["p.tenant_id = $1".to_owned()];
        let mut binds: Vec<Bind> = vec![Bind::Text(tenant.to_db())];
        let param = |binds: &mut Vec<Bind>, b: Bind| {
            binds.push(b);
            format!("${}", binds.len())
        };
        if !f.statuses.is_empty() {
            let list = f.statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(",");
            conds.push(format!("p.status IN ({list})"));
        }
        if let Some(platform) = f.platform {
            let n = param(&mut binds, Bind::Text(platform.as_str().to_owned()));
            conds.push(format!(
                "(EXISTS (SELECT 1 FROM post_targets t WHERE t.tenant_id = $1 AND t.post_id = p.id AND t.platform = {n}) \
                 OR EXISTS (SELECT 1 FROM draft_accounts d JOIN social_accounts a ON a.id = d.account_id \
                 WHERE d.tenant_id = $1 AND d.post_id = p.id AND a.platform = {n}))"
            ));
        }
        if let Some(account) = f.account {
            let n = param(&mut binds, Bind::Text(account.to_db()));
            conds.push(format!(
                "(EXISTS (SELECT 1 FROM post_targets t WHERE t.tenant_id = $1 AND t.post_id = p.id AND t.account_id = {n}) \
                 OR EXISTS (SELECT 1 FROM draft_accounts d WHERE d.tenant_id = $1 AND d.post_id = p.id \
                 AND d.account_id = {n}))"
            ));
        }
        if let Some(author) = f.author {
            let n = param(&mut binds, Bind::Text(author.to_db()));
            conds.push(format!("p.author_id = {n}"));
        }
        if let Some(campaign) = f.campaign {
            let n = param(&mut binds, Bind::Text(campaign.to_db()));
            conds.push(format!("p.campaign_id = {n}"));
        }
        if let Some(tag) = f.tag.as_deref().and_then(normalize_tag) {
            let n = param(&mut binds, Bind::Text(tag));
            conds.push(format!(
                "EXISTS (SELECT 1 FROM post_tags g WHERE g.tenant_id = $1 AND g.post_id = p.id AND g.tag = {n})"
            ));
        }
        if let Some(since) = f.since {
            let n = param(&mut binds, Bind::Int(since));
            conds.push(format!("COALESCE(p.scheduled_at, p.created_at) >= {n}"));
        }
        if let Some(until) = f.until {
            let n = param(&mut binds, Bind::Int(until));
            conds.push(format!("COALESCE(p.scheduled_at, p.created_at) < {n}"));
        }
        for word in f.search.as_deref().unwrap_or_default().split_whitespace().take(8) {
            let n = param(&mut binds, Bind::Text(like_anywhere(word)));
            conds.push(format!(
                "(LOWER(p.title) LIKE {n} ESCAPE '\\' OR LOWER(p.body) LIKE {n} ESCAPE '\\' OR EXISTS (SELECT 1 \
                 FROM post_contents c WHERE c.tenant_id = $1 AND c.post_id = p.id AND LOWER(c.body) LIKE {n} \
                 ESCAPE '\\'))"
            ));
        }
        if let Some(c) = after {
            let at = param(&mut binds, Bind::Int(c.at));
            let id = param(&mut binds, Bind::Text(c.id.to_db()));
            conds.push(format!(
                "(COALESCE(p.scheduled_at, p.created_at) < {at} OR (COALESCE(p.scheduled_at, p.created_at) = {at} \
                 AND p.id < {id}))"
            ));
        }
        let lim = param(&mut binds, Bind::Int(limit.max(0)));
        let off = param(&mut binds, Bind::Int(offset.max(0)));
        let columns = POST_COLUMNS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns} FROM posts p WHERE {} ORDER BY COALESCE(p.scheduled_at, p.created_at) DESC, p.id DESC \
             LIMIT {lim} OFFSET {off}",
            conds.join(" AND ")
        );
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = match b {
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(post_from_row).collect()
    }

    /// Replaces a post's tags (normalized, duplicates dropped, at most [`MAX_TAGS`]); returns them as stored. A post
    /// of another workspace is `NotFound`. Tags are the team's own labels, not content: they change in any status
    /// and leave the post's version alone, so an approval card or a schedule screen stays valid.
    pub async fn set_post_tags(&self, tenant: TenantId, post: PostId, tags: &[String]) -> Result<Vec<String>> {
        let mut clean: Vec<String> = tags.iter().filter_map(|t| normalize_tag(t)).collect();
        clean.sort();
        clean.dedup();
        clean.truncate(MAX_TAGS);
        let mut tx = self.pool.begin().await?;
        let found: Option<(i64,)> = sqlx::query_as("SELECT version FROM posts WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_db())
            .bind(post.to_db())
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(crate::StoreError::NotFound("post"));
        }
        sqlx::query("DELETE FROM post_tags WHERE tenant_id = $1 AND post_id = $2")
            .bind(tenant.to_db())
            .bind(post.to_db())
            .execute(&mut *tx)
            .await?;
        for tag in &clean {
            sqlx::query("INSERT INTO post_tags (post_id, tenant_id, tag) VALUES ($1, $2, $3)")
                .bind(post.to_db())
                .bind(tenant.to_db())
                .bind(tag)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(clean)
    }

    pub async fn post_tags(&self, tenant: TenantId, post: PostId) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT tag FROM post_tags WHERE tenant_id = $1 AND post_id = $2 ORDER BY tag")
                .bind(tenant.to_db())
                .bind(post.to_db())
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The tags of several posts in one read (a page of the library), by post then tag.
    pub async fn tags_of_posts(&self, tenant: TenantId, posts: &[PostId]) -> Result<Vec<(PostId, String)>> {
        if posts.is_empty() {
            return Ok(Vec::new());
        }
        let list = crate::dialect::placeholders(2, posts.len());
        let sql = format!(
            "SELECT post_id, tag FROM post_tags WHERE tenant_id = $1 AND post_id IN ({list}) ORDER BY post_id, tag"
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql).bind(tenant.to_db());
        for p in posts {
            q = q.bind(p.to_db());
        }
        q.fetch_all(&self.pool).await?.into_iter().map(|(p, tag)| Ok((PostId::from_db(&p)?, tag))).collect()
    }

    /// The workspace's tags with how many posts carry each, the most used first.
    pub async fn workspace_tags(&self, tenant: TenantId) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT tag, COUNT(*) AS n FROM post_tags WHERE tenant_id = $1 GROUP BY tag ORDER BY n DESC, tag",
        )
        .bind(tenant.to_db())
        .fetch_all(&self.pool)
        .await?)
    }
}

/// A parameter of the library query.
enum Bind {
    Text(String),
    Int(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalized() {
        assert_eq!(normalize_tag(" #Bakery "), Some("bakery".into()));
        assert_eq!(normalize_tag("##"), None);
        assert_eq!(normalize_tag("two words"), None);
        assert_eq!(normalize_tag(&"x".repeat(80)).map(|t| t.len()), Some(TAG_CHARS));
    }

    #[test]
    fn like_patterns_escape_their_own_characters() {
        assert_eq!(like_anywhere("50%_Off\\"), "%50\\%\\_off\\\\%");
    }
}
