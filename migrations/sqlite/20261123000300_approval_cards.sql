-- Approval cards as sent: one row per post, submission round (the post's version once submitted) and chat.
-- The row is written with the card's notify job; the notify handler fills in the message id once the card is
-- sent, and the decision writes the outcome (in the row's language). Whichever of the two comes second queues
-- the edit that shows the outcome on that card, so every card ends up showing who decided.
CREATE TABLE approval_cards (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    post_id      TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    round        BIGINT NOT NULL,
    chat_id      BIGINT NOT NULL,
    lang         TEXT NOT NULL,
    message_id   BIGINT,
    outcome_html TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (post_id, round, chat_id)
);
CREATE INDEX approval_cards_tenant ON approval_cards (tenant_id);
