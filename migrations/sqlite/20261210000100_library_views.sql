-- What each person last filtered the content library by (issue 17), per workspace: the filter is too big for a
-- button's 64 bytes, so buttons change this row and the list reads it. `view` is the bot's JSON.
CREATE TABLE library_views (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    view       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
