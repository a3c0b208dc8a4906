-- A post's status is recomputed from its targets after every publish (`refresh_post_status`: "does this post
-- still have a pending target?"). With only (tenant_id, status), that lookup walked every pending target of the
-- workspace, so a burst of N scheduled posts cost O(N^2). Adding post_id to the index makes it one seek per
-- status; listing a workspace's targets by status still uses the prefix.
DROP INDEX post_targets_tenant_status;
CREATE INDEX post_targets_tenant_status_post ON post_targets (tenant_id, status, post_id);
