-- Scheduler: indexes for claiming under per-key concurrency limits and for the automation run history.
CREATE INDEX jobs_running_key ON jobs (concurrency_key) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs (state, finished_at);
CREATE INDEX automation_runs_slot ON automation_runs (automation_id, slot_at);

-- Wake idle scheduler instances when work arrives or moves: one notification per statement, so a bulk insert
-- costs one wake-up. Every writer (bot, web, scheduler) triggers it without knowing about it.
CREATE FUNCTION tochen_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tochen_jobs', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION tochen_jobs_notify();
CREATE TRIGGER jobs_notify_run_at AFTER UPDATE OF run_at ON jobs FOR EACH STATEMENT EXECUTE FUNCTION tochen_jobs_notify();
