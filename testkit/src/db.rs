//! Fresh, migrated databases for tests.

use tochen_domain::{SecretBox, SecretString};
use tochen_store::Store;

/// A migrated store on a database that exists only for one test.
pub struct TestDb {
    pub store: Store,
    /// The URL the store connected to (a temporary SQLite file or a fresh PostgreSQL database).
    pub url: String,
    /// The Fernet key the store encrypts with.
    pub key: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

/// Set to `1` to make a missing `TEST_DATABASE_URL` fail instead of skipping.
pub const REQUIRE_POSTGRES: &str = "TOCHEN_REQUIRE_POSTGRES";

impl TestDb {
    /// A store on a new SQLite file in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("tochen.db").display());
        let key = SecretBox::generate_key();
        let store = connect(&url, &key).await;
        Self { store, url, key, _dir: Some(dir), pg: None }
    }

    /// A store on a new PostgreSQL database, or `None` (with a note) when `TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Option<Self> {
        let Some(admin_url) = postgres_admin_url() else {
            eprintln!("skipped: TEST_DATABASE_URL is not set, so the PostgreSQL half of this test did not run");
            return None;
        };
        let name = format!("tochen_t_{}", uuid::Uuid::new_v4().simple());
        let url = create_database(&admin_url, &name).await;
        let key = SecretBox::generate_key();
        let store = connect(&url, &key).await;
        Some(Self { store, url, key, _dir: None, pg: Some((admin_url, name)) })
    }

    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.pg {
            drop_database(&admin_url, &name).await;
        }
    }
}

/// `TEST_DATABASE_URL`, or a panic when PostgreSQL is required and missing.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => Some(url),
        None => {
            assert!(
                std::env::var(REQUIRE_POSTGRES).map(|v| v != "1").unwrap_or(true),
                "{REQUIRE_POSTGRES}=1 but TEST_DATABASE_URL is not set: the PostgreSQL tests would be skipped"
            );
            None
        }
    }
}

/// Creates database `name` next to the one `admin_url` names and returns its URL.
pub async fn create_database(admin_url: &str, name: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach TEST_DATABASE_URL ({e}); is PostgreSQL running?"));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    conn.close().await.ok();
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub async fn drop_database(admin_url: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
        conn.close().await.ok();
    }
}

async fn connect(url: &str, key: &str) -> Store {
    let secrets = SecretBox::from_keys(&[SecretString::new(key)]).expect("generated key is valid");
    let store = Store::connect(url, 5, secrets).await.expect("connect to test database");
    store.migrate().await.expect("migrations apply to a fresh database");
    store
}

/// Inserts `n` queued `noop` jobs due at `at` straight into `jobs`, 1,000 per statement: a deep queue in a moment,
/// for the claim benchmark and the plan tests (enqueueing one by one would take longer than what they measure).
pub async fn insert_due_noop_jobs(store: &Store, n: usize, at: i64) {
    for chunk in (0..n).step_by(1000) {
        let rows: Vec<String> = (chunk..n.min(chunk + 1000))
            .map(|_| format!("('{}', 'noop', '{{}}', {at}, 8, {at}, {at})", tochen_domain::ids::JobId::new()))
            .collect();
        sqlx::query(&format!(
            "INSERT INTO jobs (id, kind, payload, run_at, max_attempts, created_at, updated_at) VALUES {}",
            rows.join(",")
        ))
        .execute(store.sql_for_tests())
        .await
        .expect("insert queued jobs");
    }
}
