-- Scheduler: indexes for claiming under per-key concurrency limits and for the automation run history.
CREATE INDEX jobs_running_key ON jobs (concurrency_key) WHERE state = 'running';
CREATE INDEX jobs_finished ON jobs (state, finished_at);
CREATE INDEX automation_runs_slot ON automation_runs (automation_id, slot_at);
