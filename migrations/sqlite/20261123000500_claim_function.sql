-- PostgreSQL moved its claim into a function in this version (see migrations/postgres). SQLite claims with one
-- `UPDATE ... RETURNING` statement built in core/src/store/job_queue.rs and needs no change; this file keeps the
-- two migration histories at the same versions.
SELECT 1;
