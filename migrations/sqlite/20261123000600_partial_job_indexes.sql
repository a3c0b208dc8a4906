-- PostgreSQL made its job queue indexes partial in this version (see migrations/postgres): there, each index entry
-- is WAL that a commit waits to flush. SQLite (WAL journal, synchronous = NORMAL: no sync per commit) keeps its
-- indexes; this file keeps the two migration histories at the same versions.
SELECT 1;
