//! The `tochen` binary as an operator uses it.

use std::process::{Command, Output};
use tochen_core::{SecretBox, SecretString, Store};

/// Runs the binary in `dir` with a clean environment plus `vars`.
fn tochen(dir: &std::path::Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tochen"));
    cmd.args(args).current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run tochen")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn keygen_prints_a_valid_fernet_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = tochen(dir.path(), &["keygen"], &[]);
    assert!(out.status.success());
    let key = text(&out.stdout);
    assert!(SecretBox::is_valid_key(key.trim()), "{key}");
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["run", "bot", "scheduler", "web", "migrate", "keygen", "rotate-keys", "check-config"] {
        let out = tochen(dir.path(), &[cmd, "--help"], &[]);
        assert!(out.status.success(), "{cmd} --help failed");
        assert!(text(&out.stdout).contains("Usage: tochen"), "{cmd}");
    }
}

#[test]
fn check_config_explains_a_broken_value_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = tochen(dir.path(), &["check-config"], &[("SCHEDULER_CONCURRENCY", "many")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("SCHEDULER_CONCURRENCY") && err.contains("\"many\""), "{err}");
}

#[test]
fn check_config_reads_dotenv_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "TELEGRAM_BOT_TOKEN=123456:AAHdotenvsecretvalue_0123456789abcd\nDATABASE_URL=postgres://u:hunter2@db/tochen\n",
    )
    .unwrap();
    let out = tochen(dir.path(), &["check-config"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("TELEGRAM_BOT_TOKEN"));
    assert!(!shown.contains("AAHdotenvsecretvalue") && !shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("bot token: set"));
}

#[test]
fn run_without_a_bot_token_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = tochen(dir.path(), &["run"], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("TELEGRAM_BOT_TOKEN"), "{}", text(&out.stderr));
}

#[test]
fn migrate_creates_a_fresh_sqlite_file_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = tochen(dir.path(), &["migrate"], &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("migrations applied"));
    }
    assert!(dir.path().join("data/tochen.db").exists());
    assert!(dir.path().join("data/secret.key").exists(), "a key is generated when none is configured");
}

#[tokio::test]
async fn migrate_works_on_postgres() {
    let Some(admin) = tochen_testkit::db::postgres_admin_url() else { return };
    let name = format!("tochen_cli_{}", uuid_like());
    let url = tochen_testkit::db::create_database(&admin, &name).await;
    let dir = tempfile::tempdir().unwrap();
    let key = SecretBox::generate_key();
    let vars = [("DATABASE_URL", url.as_str()), ("TOCHEN_SECRET_KEYS", key.as_str())];
    for _ in 0..2 {
        let out = tochen(dir.path(), &["migrate"], &vars);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    tochen_testkit::db::drop_database(&admin, &name).await;
}

#[tokio::test]
async fn rotate_keys_reencrypts_stored_tokens_under_the_new_key() {
    use tochen_core::domain::{AuthKind, Platform};
    use tochen_core::store::{NewAccount, TelegramIdentity, TenantProfile};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let old = SecretBox::generate_key();
    let new = SecretBox::generate_key();
    let (tenant, account) = {
        let store =
            Store::connect(&url, 1, SecretBox::from_keys(&[SecretString::new(old.clone())]).unwrap()).await.unwrap();
        store.migrate().await.unwrap();
        let user = store
            .upsert_user(&TelegramIdentity {
                telegram_id: 1,
                username: None,
                first_name: "A".into(),
                last_name: None,
                language_code: None,
            })
            .await
            .unwrap();
        let t = store.create_tenant("T", &TenantProfile::default(), 0, user.id).await.unwrap();
        let acc = store
            .upsert_account(
                t.id,
                &NewAccount {
                    platform: Platform::TikTok,
                    auth_kind: AuthKind::TikTok,
                    external_id: "open-1".into(),
                    name: "@bloom".into(),
                    access_token: SecretString::new("act.secret"),
                    refresh_token: Some(SecretString::new("rft.secret")),
                    scopes: vec![],
                    token_expires_at: None,
                    refresh_expires_at: None,
                    connected_by: None,
                },
            )
            .await
            .unwrap();
        store.close().await;
        (t.id, acc.id)
    };
    let both = format!("{new},{old}");
    let out = tochen(dir.path(), &["rotate-keys"], &[("DATABASE_URL", &url), ("TOCHEN_SECRET_KEYS", &both)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("done: 2 secret(s) re-encrypted"), "{}", text(&out.stdout));
    let store = Store::connect(&url, 1, SecretBox::from_keys(&[SecretString::new(new)]).unwrap()).await.unwrap();
    let tokens = store.account_tokens(tenant, account).await.unwrap();
    assert_eq!(tokens.access_token.expose(), "act.secret");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "rft.secret");
    store.close().await;
}

#[cfg(unix)]
#[test]
fn a_scheduler_process_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tochen"))
        .arg("scheduler")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TOCHEN_BIND", "127.0.0.1:0")
        .env("TOCHEN_METRICS_BIND", "127.0.0.1:0")
        .env("TELEGRAM_API_URL", "http://127.0.0.1:9")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the database exists, i.e. start-up got past migrations.
    let db = dir.path().join("data/tochen.db");
    for _ in 0..200 {
        if db.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status:?}");
}

fn uuid_like() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}
