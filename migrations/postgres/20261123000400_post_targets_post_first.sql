-- The per-post lookups (`refresh_post_status`: "does this post still have a target in one of these states?") ran
-- on (tenant_id, status, post_id) with only tenant_id and post_id as the index condition when the status was a
-- list: PostgreSQL's generic plan then walked every target of the workspace, so a burst still cost O(N^2). Post
-- lookups get their own index with post_id before status; the workspace-wide reads by status (reports, metrics
-- sync) keep (tenant_id, status).
DROP INDEX post_targets_tenant_status_post;
CREATE INDEX post_targets_tenant_post_status ON post_targets (tenant_id, post_id, status);
CREATE INDEX post_targets_tenant_status ON post_targets (tenant_id, status);
