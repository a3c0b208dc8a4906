-- Telegram updates in webhook mode run on the job queue: the web service stores each update together with its
-- `telegram_update` job (unique key `telegram_update:{update_id}`, the chat's concurrency key, 5 attempts), and the
-- bot's runner claims those jobs. The update table's own lease (`lease_owner`, `lease_expires_at`, `attempts`) is
-- no longer used; the columns stay (SQLite keeps its columns).

-- Updates stored before this change and not handled yet get their job here, due in arrival order. The job id is a
-- random version-4 UUID.
INSERT INTO jobs (id, tenant_id, kind, payload, run_at, max_attempts, unique_key, concurrency_key, created_at,
                  updated_at)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2)
           || '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-'
           || lower(hex(randomblob(6))),
       NULL, 'telegram_update', json_object('event_id', u.id, 'update_id', u.update_id, 'chat_id', u.chat),
       u.received_at, 5, 'telegram_update:' || u.update_id,
       CASE WHEN u.chat IS NULL THEN NULL ELSE 'telegram_update:chat:' || u.chat END, u.received_at, u.received_at
FROM (SELECT id, update_id, received_at,
             CASE WHEN json_valid(payload) THEN
                 COALESCE(json_extract(payload, '$.message.chat.id'), json_extract(payload, '$.edited_message.chat.id'),
                          json_extract(payload, '$.channel_post.chat.id'),
                          json_extract(payload, '$.edited_channel_post.chat.id'),
                          json_extract(payload, '$.my_chat_member.chat.id'),
                          json_extract(payload, '$.chat_member.chat.id'),
                          json_extract(payload, '$.chat_join_request.chat.id'),
                          json_extract(payload, '$.callback_query.message.chat.id'))
             END AS chat
      FROM webhook_events WHERE source = 'telegram' AND status = 'received' AND update_id IS NOT NULL) u
WHERE 1
ON CONFLICT (unique_key) DO NOTHING;
