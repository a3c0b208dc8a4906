//! Every difference between the SQLite and the PostgreSQL dialect, outside the job queue, in one place.
//!
//! The schema and almost every query are written once (portable types, `$N` placeholders, `ON CONFLICT ... DO
//! UPDATE`, `RETURNING`). What remains is here, each as a small function of the [`Backend`]: how a connection is
//! set up and which migrations it runs, how a JSON array is aggregated, and the statements of the publishing
//! pipeline, where PostgreSQL uses data-modifying `WITH` clauses that SQLite lacks and SQLite batches several
//! statements for its one connection instead. Table files call these and never match on the backend themselves.
//!
//! The job claim is here too: one `UPDATE ... RETURNING` on SQLite, a call of the PL/pgSQL function
//! `tochen_claim_jobs` (advisory lock, then the same statement with `FOR UPDATE SKIP LOCKED`) on PostgreSQL.
//! PostgreSQL's `LISTEN`/`NOTIFY` wake-ups live in `listen.rs` and `job_signal.rs`.

use crate::jobs::JOB_COLUMNS;
use crate::Backend;
use sqlx::migrate::Migrator;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// `$first, $first+1, …` for a list of `n` values bound after the others (an `IN (…)` of a page's ids); the
/// same on both backends.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `n` rows of `cols` placeholders each for a multi-row `VALUES`, numbered from `$first` row by row, with `tail`
/// (SQL such as `, $1`) closing each row: `($2, $3, $1), ($4, $5, $1)`; the same on both backends.
pub(crate) fn placeholders_rows(first: usize, n: usize, cols: usize, tail: &str) -> String {
    (0..n).map(|r| format!("({}{tail})", placeholders(first + r * cols, cols))).collect::<Vec<_>>().join(", ")
}

/// The embedded migrations of `backend` (`migrations/sqlite` or `migrations/postgres`).
pub(crate) fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// The pool size: SQLite runs with a single connection (one writer anyway, and no `SQLITE_BUSY` lock upgrades
/// between connections); PostgreSQL with the configured number.
pub(crate) fn max_connections(backend: Backend, configured: u32) -> u32 {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => configured,
    }
}

/// SQLite's read-only connections beside the writer (`Store::reader`): as many as this machine's cores are
/// likely to use at once.
pub(crate) const SQLITE_READERS: u32 = 2;

/// What a SQLite reader runs first: it can write nothing (`query_only`), and waits out a checkpoint's brief lock.
/// WAL mode is the database's, set by the writer.
pub(crate) const SQLITE_READER_SETUP: &str =
    "PRAGMA query_only = ON; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

/// What every new connection runs first.
///
/// SQLite: WAL, foreign keys (off by default there) and a busy timeout; no automatic checkpoints, which a task
/// runs on its own connection instead (`checkpoint`), and a WAL truncated back to 64 MiB after a checkpoint.
/// PostgreSQL: statements here select by workspace and key, where one plan serves every value bound, so a prepared
/// statement keeps its generic plan instead of being planned again on each of its first executions (and on every
/// execution, for those whose custom plan looks cheaper). An ANALYZE still replans it. Measured: a tenth less
/// database CPU in the drain benchmark.
pub(crate) fn connection_setup(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA journal_size_limit = 67108864;"
        }
        Backend::Postgres => "SET plan_cache_mode = force_generic_plan",
    }
}

/// An aggregate of `row` (a comma list of SQL values) into one JSON array of arrays ordered by `order`, as TEXT;
/// `[]` when there are no rows.
pub(crate) fn json_array_agg(backend: Backend, row: &str, order: &str) -> String {
    match backend {
        Backend::Postgres => format!("COALESCE(json_agg(json_build_array({row}) ORDER BY {order}), '[]')::text"),
        Backend::Sqlite => format!("json_group_array(json_array({row}) ORDER BY {order})"),
    }
}

/// The SQL of `begin_publishing`: `start` moves the target `pending -> publishing` (binding `$1` tenant, `$2`
/// target, `$3` now), `move_post` is an `UPDATE posts ... AND id = ` to complete with the post id's SQL, and
/// `context(source, started)` is the context read from a target `source` with `started` the SQL of 0 or 1.
///
/// PostgreSQL: one statement; the update is a `WITH` clause returning the started row, and the context reads it
/// from there (the statement's snapshot predates the update), else the target as it is. SQLite: three statements
/// sent together; `changes()` is what the first one changed, and the post is found through the target, which is
/// `publishing` now whether this call or an earlier one moved it.
pub(crate) fn begin_publishing(
    backend: Backend,
    start: &str,
    move_post: &str,
    target_columns: &str,
    context: impl Fn(&str, &str) -> String,
) -> String {
    match backend {
        Backend::Postgres => {
            let source = format!(
                "(SELECT {target_columns}, 1 AS started FROM started_target UNION ALL \
                 SELECT {target_columns}, 0 AS started FROM post_targets WHERE tenant_id = $1 AND id = $2 \
                 AND NOT EXISTS (SELECT 1 FROM started_target))"
            );
            format!(
                "WITH started_target AS ({start} RETURNING {target_columns}), \
                 moved_post AS ({move_post} (SELECT post_id FROM started_target)) {}",
                context(&source, "t.started")
            )
        }
        Backend::Sqlite => format!(
            "{start}; {}; {move_post} (SELECT post_id FROM post_targets WHERE tenant_id = $1 AND id = $2 \
             AND status = 'publishing')",
            context("post_targets", "changes()")
        ),
    }
}

/// The SQL of `settle_target`: `settle` is the settling compare-and-set (binding `$1` tenant, `$2` target, `$5`
/// now, returning the target row) and `refresh` the recompute of the post's status from its targets, both from
/// `targets::publishing`.
///
/// PostgreSQL: the settling statement also moves a sole target's post (see [`with_sole_target_post`]); other
/// posts are recomputed after the commit ([`recompute_post_after_commit`]), so that of two targets of one post
/// settling at once the later recompute sees both. SQLite: writes are serialized, so the recompute is sent with
/// the settling statement (one message to the one connection instead of two), without its `RETURNING`.
pub(crate) fn settle_target(backend: Backend, settle: &str, refresh: &str) -> String {
    match backend {
        Backend::Postgres => with_sole_target_post(settle),
        Backend::Sqlite => {
            let refresh = refresh.strip_suffix(" RETURNING status").expect("the recompute returns the status");
            format!("{settle}; {refresh}")
        }
    }
}

/// True when a post whose target moved is recomputed once more after the commit: on PostgreSQL a sibling
/// settled at the same moment by another transaction is seen only by a statement that starts after both
/// committed; SQLite serializes writes, so the recompute in the transaction already saw it. With
/// [`settle_target`] on PostgreSQL, only for a row whose `sole_target` is 0.
pub(crate) fn recompute_post_after_commit(backend: Backend) -> bool {
    backend == Backend::Postgres
}

/// Wraps a settling statement so that, when the target is its post's only one, the post takes the target's final
/// status in the same statement, as `Store::refresh_post_status` would compute it: a lone published target makes
/// a published post, a lone failed one a failed post, a lone unknown one leaves it open. The row gains
/// `sole_target` (1 or 0); with siblings the caller recomputes after the commit, because one statement's snapshot
/// cannot see a sibling settled concurrently. PostgreSQL only (SQLite has no writing CTEs).
fn with_sole_target_post(settle: &str) -> String {
    format!(
        "WITH t AS ({settle}), \
         s AS (SELECT NOT EXISTS (SELECT 1 FROM post_targets o WHERE o.tenant_id = $1 \
           AND o.post_id = (SELECT post_id FROM t) AND o.id <> $2) AS sole), \
         p AS (UPDATE posts SET status = (SELECT status FROM t), updated_at = $5 WHERE tenant_id = $1 \
           AND id = (SELECT post_id FROM t) AND (SELECT sole FROM s) AND (SELECT status FROM t) IN ('published', 'failed') \
           AND status IN ('scheduled', 'publishing', 'published', 'partially_published', 'failed') \
           AND status <> (SELECT status FROM t)) \
         SELECT t.*, CAST(CASE WHEN (SELECT sole FROM s) THEN 1 ELSE 0 END AS BIGINT) AS sole_target FROM t"
    )
}

/// Jobs of suspended workspaces are held: neither claimed nor counted as due until the workspace is resumed.
/// The subquery is uncorrelated (evaluated once per statement) and reads the partial index `tenants_suspended`,
/// which is empty on an instance with no suspended workspace. PostgreSQL's claim function has the same filter
/// (migration 20261203000200).
pub(crate) const NOT_HELD: &str =
    "(tenant_id IS NULL OR tenant_id NOT IN (SELECT id FROM tenants WHERE suspended_at IS NOT NULL))";

/// The SQLite claim statement (binding `$1` now, `$2` how many candidates each scan looks at, `$3` the per-key
/// limit, `$4` the limit, `$5` the owner, `$6` the lease's end): two index-backed candidate scans (due jobs by
/// `jobs_due`, expired leases by `jobs_lease`), then per-key ranking: a run of jobs for one busy account does not
/// hide the jobs of other accounts behind it, because candidates are scanned a few times wider than the limit.
/// PostgreSQL runs the same statement, with `FOR UPDATE SKIP LOCKED` on both scans, inside the function
/// `tochen_claim_jobs` (migration 20261123000500).
fn sqlite_claim_statement(kinds: &str) -> String {
    format!(
        "WITH due AS (SELECT id, run_at, concurrency_key FROM jobs \
           WHERE state = 'queued' AND run_at <= $1 AND kind IN ({kinds}) AND {NOT_HELD} ORDER BY run_at LIMIT $2), \
         lost AS (SELECT id, run_at, concurrency_key FROM jobs \
           WHERE state = 'running' AND lease_expires_at <= $1 AND kind IN ({kinds}) AND {NOT_HELD} \
           ORDER BY lease_expires_at LIMIT $2), \
         cand AS (SELECT id, run_at, concurrency_key FROM due UNION ALL SELECT id, run_at, concurrency_key FROM lost), \
         ranked AS (SELECT id, run_at, concurrency_key, \
           ROW_NUMBER() OVER (PARTITION BY concurrency_key ORDER BY run_at, id) AS rn FROM cand), \
         busy AS (SELECT concurrency_key, COUNT(*) AS n FROM jobs WHERE state = 'running' \
           AND lease_expires_at > $1 AND concurrency_key IN (SELECT concurrency_key FROM cand) \
           GROUP BY concurrency_key), \
         pick AS (SELECT r.id FROM ranked r LEFT JOIN busy b ON b.concurrency_key = r.concurrency_key \
           WHERE r.concurrency_key IS NULL OR r.rn + COALESCE(b.n, 0) <= $3 ORDER BY r.run_at, r.id LIMIT $4) \
         UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $5, \
           lease_expires_at = $6, updated_at = $1 WHERE id IN (SELECT id FROM pick) RETURNING {JOB_COLUMNS}"
    )
}

/// The claim for `kinds`, and the value bound after the six both backends bind (PostgreSQL's function takes the
/// kinds as one comma-separated text; kinds are code constants without commas).
pub(crate) fn claim_jobs(backend: Backend, kinds: &[String]) -> (String, Option<String>) {
    match backend {
        Backend::Postgres => {
            debug_assert!(kinds.iter().all(|k| !k.contains(',')), "job kinds contain no comma");
            let sql = format!("SELECT {JOB_COLUMNS} FROM tochen_claim_jobs($1, $2, $3, $4, $5, $6, $7)");
            (sql, Some(kinds.join(",")))
        }
        Backend::Sqlite => (sqlite_claim_statement(&kind_list(kinds)), None),
    }
}

/// `'a','b'` for `kind IN (...)`. Kinds are code constants, never input; quoting them inline keeps one statement
/// per claim.
pub(crate) fn kind_list(kinds: &[String]) -> String {
    kinds.iter().map(|k| format!("'{}'", k.replace('\'', "''"))).collect::<Vec<_>>().join(",")
}
