-- /stats, reports and the library on large workspaces (issue 17): a period's publications by publication time, so
-- a period costs its own posts, not the workspace's history; and the library's order (when a post goes or went
-- out, else when it was made), so a page is read from the index instead of sorting every post.
CREATE INDEX post_targets_tenant_status_published ON post_targets (tenant_id, status, published_at);
CREATE INDEX posts_tenant_when ON posts (tenant_id, COALESCE(scheduled_at, created_at), id);
