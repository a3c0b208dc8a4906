-- Telegram updates in webhook mode run on the job queue: the web service stores each update together with its
-- `telegram_update` job (unique key `telegram_update:{update_id}`, the chat's concurrency key, 5 attempts), and the
-- bot's runner claims those jobs. The update table's own lease (`lease_owner`, `lease_expires_at`, `attempts`) is
-- no longer used, nor its NOTIFY channel: the `jobs` trigger wakes the bot.
DROP TRIGGER IF EXISTS webhook_events_telegram_notify ON webhook_events;
DROP FUNCTION IF EXISTS tochen_telegram_updates_notify();

-- Updates stored before this change and not handled yet get their job here, due in arrival order.
INSERT INTO jobs (id, tenant_id, kind, payload, run_at, max_attempts, unique_key, concurrency_key, created_at,
                  updated_at)
SELECT gen_random_uuid()::text, NULL, 'telegram_update',
       json_build_object('event_id', u.id, 'update_id', u.update_id, 'chat_id', CAST(u.chat AS BIGINT))::text,
       u.received_at, 5, 'telegram_update:' || u.update_id,
       CASE WHEN u.chat IS NULL THEN NULL ELSE 'telegram_update:chat:' || u.chat END, u.received_at, u.received_at
FROM (SELECT id, update_id, received_at,
             COALESCE(payload::jsonb #>> '{message,chat,id}', payload::jsonb #>> '{edited_message,chat,id}',
                      payload::jsonb #>> '{channel_post,chat,id}', payload::jsonb #>> '{edited_channel_post,chat,id}',
                      payload::jsonb #>> '{my_chat_member,chat,id}', payload::jsonb #>> '{chat_member,chat,id}',
                      payload::jsonb #>> '{chat_join_request,chat,id}',
                      payload::jsonb #>> '{callback_query,message,chat,id}') AS chat
      FROM webhook_events WHERE source = 'telegram' AND status = 'received' AND update_id IS NOT NULL) u
ON CONFLICT (unique_key) DO NOTHING;
