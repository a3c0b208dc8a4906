-- Tags a team puts on its posts (issue 17: the library filters by them). Lower-case, without '#'.
CREATE TABLE post_tags (
    post_id   TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (post_id, tag)
);
CREATE INDEX post_tags_tenant_tag ON post_tags (tenant_id, tag);
