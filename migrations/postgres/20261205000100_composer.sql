-- The composer (issue 16). A post has a main text (`posts.body`); each platform's version in `post_contents`
-- either follows it (`custom = 0`: a change of the main text is copied to it) or was edited for that platform
-- (`custom = 1`: the main text no longer changes it). Versions written by the LLM follow the main text.
ALTER TABLE posts ADD COLUMN body TEXT NOT NULL DEFAULT '';
ALTER TABLE post_contents ADD COLUMN custom BIGINT NOT NULL DEFAULT 0;

-- A Telegram album (media group) arrives as one message per item; the first item makes the draft and every
-- later item of the same group is added to it, whichever process handles it.
CREATE TABLE compose_albums (
    chat_id        BIGINT NOT NULL,
    media_group_id TEXT NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    post_id        TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (chat_id, media_group_id)
);
CREATE INDEX compose_albums_post ON compose_albums (tenant_id, post_id);
