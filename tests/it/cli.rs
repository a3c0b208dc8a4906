//! The `tochen` binary as an operator uses it.

use std::process::{Command, Output};
use tochen_domain::{SecretBox, SecretString};
use tochen_store::Store;

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
    use tochen_domain::{AuthKind, Platform};
    use tochen_store::{NewAccount, TelegramIdentity, TenantProfile};
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
    let mut child = spawn_scheduler(dir.path(), &[]);
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

/// `tochen scheduler` in `dir` with a clean environment plus `vars`, its stderr piped.
fn spawn_scheduler(dir: &std::path::Path, vars: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tochen"));
    cmd.arg("scheduler")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TOCHEN_BIND", "127.0.0.1:0")
        .env("TOCHEN_METRICS_BIND", "127.0.0.1:0")
        .env("TELEGRAM_API_URL", "http://127.0.0.1:9");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.stderr(std::process::Stdio::piped()).spawn().unwrap()
}

fn uuid_like() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

#[test]
fn a_malformed_bot_token_says_what_a_valid_one_looks_like_in_check_config_and_run() {
    let dir = tempfile::tempdir().unwrap();
    // Accepted before (digits, a colon, eight characters or more), though no Bot API would take it.
    let token = "123456:short-secret";
    for cmd in ["check-config", "run"] {
        let out = tochen(dir.path(), &[cmd], &[("TELEGRAM_BOT_TOKEN", token)]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("TELEGRAM_BOT_TOKEN") && err.contains("123456789:AA"), "{cmd}: {err}");
        assert!(err.contains("35 characters of A-Z a-z 0-9 _ -"), "{cmd}: {err}");
        assert!(!err.contains("short-secret"), "the token is never printed: {err}");
    }
    let out = tochen(dir.path(), &["run"], &[]);
    assert_eq!(out.status.code(), Some(2), "a missing token is a configuration error too");
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `tochen run` in `dir` with `vars`, its stderr piped.
fn spawn_run(dir: &std::path::Path, vars: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tochen"));
    cmd.arg("run").current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.stderr(std::process::Stdio::piped()).spawn().unwrap()
}

/// GETs `url` until it answers (the process is starting), for up to 60 s; fails at once if `child` exited.
async fn get_when_up(child: &mut std::process::Child, url: &str) -> (u16, String) {
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            use std::io::Read;
            let mut err = String::new();
            child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("tochen run exited with {status:?}: {err}");
        }
        if let Ok(r) = http.get(url).send().await {
            let status = r.status().as_u16();
            return (status, r.text().await.unwrap_or_default());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{url} never answered");
}

#[cfg(unix)]
fn stop(child: &mut std::process::Child) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status, err)
}

const TOKEN: &str = "123456:AAHrunsecret_0123456789abcdefghijkl";

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_serves_webhooks_while_the_bot_api_is_unreachable_and_ready_says_what_waits() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port().to_string();
    let api = format!("http://127.0.0.1:{}", closed_port());
    let bind = format!("127.0.0.1:{port}");
    let mut child = spawn_run(
        dir.path(),
        &[
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_URL", &api),
            ("TOCHEN_BIND", &bind),
            ("TOCHEN_METRICS_BIND", "127.0.0.1:0"),
        ],
    );
    let (status, body) = get_when_up(&mut child, &format!("http://{bind}/ready")).await;
    assert_eq!(status, 200, "{body}");
    // The bot keeps retrying in the background; /ready names it once its first attempt failed.
    let mut body: serde_json::Value = serde_json::from_str(&body).unwrap();
    for _ in 0..100 {
        if body["waiting"]["bot"].as_str().is_some_and(|w| w.contains("unreachable")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        body = serde_json::from_str(&get_when_up(&mut child, &format!("http://{bind}/ready")).await.1).unwrap();
    }
    assert_eq!(body["status"], "ready", "{body}");
    assert!(body["waiting"]["bot"].as_str().is_some_and(|w| w.contains("Telegram Bot API unreachable")), "{body}");
    assert!(child.try_wait().unwrap().is_none(), "the process is still up");
    assert_eq!(
        get_when_up(&mut child, &format!("http://{bind}/webhooks/tiktok")).await.0,
        405,
        "the web service routes"
    );
    let (status, err) = stop(&mut child);
    assert!(status.success(), "a graceful stop while waiting exits 0: {status:?}\n{err}");
    assert!(err.contains("cannot reach the Telegram Bot API"), "{err}");
    assert!(!err.contains("AAHrunsecret"), "the token never reaches the log: {err}");
}

/// A Bot API that answers the bot's getMe once and then refuses the token (as after a token was revoked
/// meanwhile).
async fn bot_api_that_turns_unauthorized() -> String {
    use axum::extract::Path;
    use axum::Json;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let get_me = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/{bot}/{method}",
        axum::routing::any(move |Path((_, method)): Path<(String, String)>| {
            let get_me = get_me.clone();
            async move {
                // Only the bot's calls count (teloxide writes `GetMe`); the web service's `getMe` for its links
                // always succeeds, whichever of the two asks first.
                let bots_get_me = method == "GetMe";
                let method = method.to_ascii_lowercase();
                if bots_get_me && get_me.fetch_add(1, Ordering::SeqCst) > 0 {
                    return (
                        axum::http::StatusCode::UNAUTHORIZED,
                        Json(serde_json::json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
                    );
                }
                let result = match method.as_str() {
                    "getme" => serde_json::json!({"id": 1, "is_bot": true, "first_name": "T", "username": "t_bot",
                        "can_join_groups": true, "can_read_all_group_messages": false,
                        "supports_inline_queries": false, "can_connect_to_business": false,
                        "has_main_web_app": false}),
                    "getupdates" => serde_json::json!([]),
                    "getwebhookinfo" => serde_json::json!({"url": "", "has_custom_certificate": false,
                        "pending_update_count": 0}),
                    _ => serde_json::json!(true),
                };
                (axum::http::StatusCode::OK, Json(serde_json::json!({"ok": true, "result": result})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    url
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_that_stops_on_its_own_makes_the_process_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let api = bot_api_that_turns_unauthorized().await;
    let bind = format!("127.0.0.1:{}", closed_port());
    let mut child = spawn_run(
        dir.path(),
        &[
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_URL", &api),
            ("TOCHEN_BIND", &bind),
            ("TOCHEN_METRICS_BIND", "127.0.0.1:0"),
        ],
    );
    let mut status = None;
    for _ in 0..600 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if status.is_none() {
        child.kill().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    let status = status.unwrap_or_else(|| panic!("the process did not exit on its own:\n{err}"));
    assert!(!status.success(), "a dead bot must not look like a clean exit: {status:?}\n{err}");
    assert!(err.contains("the bot failed"), "{err}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_webhook_mode_the_web_service_serves_while_set_webhook_waits_for_the_bot_api() {
    let dir = tempfile::tempdir().unwrap();
    let api = format!("http://127.0.0.1:{}", closed_port());
    let bind = format!("127.0.0.1:{}", closed_port());
    let mut child = spawn_run(
        dir.path(),
        &[
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_URL", &api),
            ("TELEGRAM_MODE", "webhook"),
            ("TELEGRAM_WEBHOOK_SECRET", "hook_secret"),
            ("TOCHEN_PUBLIC_URL", "https://tochen.example"),
            ("TOCHEN_BIND", &bind),
            ("TOCHEN_METRICS_BIND", "127.0.0.1:0"),
        ],
    );
    let mut body = serde_json::Value::Null;
    for _ in 0..100 {
        body = serde_json::from_str(&get_when_up(&mut child, &format!("http://{bind}/ready")).await.1).unwrap();
        if body["waiting"]["telegram_webhook"].as_str().is_some_and(|w| w.contains("retrying")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(body["status"], "ready", "{body}");
    assert!(body["waiting"]["telegram_webhook"].as_str().is_some_and(|w| w.contains("not registered")), "{body}");
    assert!(child.try_wait().unwrap().is_none(), "the process is still up");
    let (status, err) = stop(&mut child);
    assert!(status.success(), "{status:?}\n{err}");
    assert!(!err.contains("AAHrunsecret"), "the token never reaches the log: {err}");
}

/// Start-up when the database is not there yet: `tochen migrate` against a PostgreSQL address that opens only after
/// two seconds (a proxy to the test server) retries, logging each attempt with the host, and succeeds; with nothing
/// there it gives up after `TOCHEN_DB_STARTUP_TIMEOUT` with a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_waits_for_a_database_that_comes_up_late() {
    let Some(db) = tochen_testkit::TestDb::postgres().await else { return };
    let real = reqwest::Url::parse(&db.url).unwrap();
    let upstream = format!("{}:{}", real.host_str().unwrap(), real.port().unwrap_or(5432));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut late = real.clone();
    late.set_host(Some("127.0.0.1")).unwrap();
    late.set_port(Some(port)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |url: String, timeout: &'static str| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tochen"));
        cmd.arg("migrate")
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .env("TOCHEN_SECRET_KEYS", &db.key)
            .env("TOCHEN_DB_STARTUP_TIMEOUT", timeout)
            .kill_on_drop(true)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("run tochen")
    };

    // Nothing listens and the timeout is one second: a clear error, soon.
    let out = run(late.to_string(), "1").wait_with_output().await.unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("TOCHEN_DB_STARTUP_TIMEOUT allows 1 s"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "the host is named: {err}");

    // The database comes up two seconds after tochen starts.
    let child = run(late.to_string(), "60");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let proxy = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("tochen comes up once the database does")
        .unwrap();
    proxy.abort();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    let retries = err.lines().filter(|l| l.contains("does not accept connections yet")).count();
    assert!(retries >= 2, "one line per attempt: {err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "naming the host: {err}");
    db.cleanup().await;
}

/// `tochen check-config --smtp` against `sink`, off the runtime's threads (the sink answers on them).
async fn check_smtp(dir: &std::path::Path, vars: Vec<(String, String)>) -> Output {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        tochen(&dir, &["check-config", "--smtp"], &vars)
    })
    .await
    .unwrap()
}

fn smtp_vars(url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars = vec![("SMTP_URL".to_owned(), url.to_owned()), ("SMTP_FROM".to_owned(), "r@tochen.test".to_owned())];
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    vars
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_smtp_walks_connect_ehlo_tls_auth_quit_against_a_relay_with_a_private_ca() {
    use tochen_testkit::smtp_sink::{SinkOptions, SmtpSink, TestPki};
    let pki = TestPki::new();
    let sink = SmtpSink::start_with(SinkOptions::starttls(&pki).login("reports", "hunter2")).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = pki.write_ca(dir.path());
    let url = format!("smtp://reports:hunter2@localhost:{}", sink.addr.port());
    let out = check_smtp(dir.path(), smtp_vars(&url, &[("SMTP_CA_FILE", ca.to_str().unwrap())])).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for step in ["ok  connect", "ok  ehlo", "ok  tls: STARTTLS", "ok  auth: logged in", "ok  quit", "the relay works"] {
        assert!(stdout.contains(step), "missing {step:?} in {stdout}");
    }
    assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"), "the password is never printed: {stdout}");
    assert!(sink.messages().is_empty(), "no mail is sent");

    // Without the CA the same relay is untrusted: the tls step fails, says why and what to set.
    let out = check_smtp(dir.path(), smtp_vars(&url, &[])).await;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("error: smtp check failed at tls: invalid peer certificate: UnknownIssuer"), "{err}");
    assert!(err.contains("SMTP_CA_FILE"), "{err}");
    assert!(text(&out.stdout).contains("ok  connect"), "the steps that passed are shown");

    // A wrong password fails at auth.
    let wrong = format!("smtp://reports:wrong@localhost:{}", sink.addr.port());
    let out = check_smtp(dir.path(), smtp_vars(&wrong, &[("SMTP_CA_FILE", ca.to_str().unwrap())])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("smtp check failed at auth"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_smtp_fails_on_a_closed_port_and_plain_check_config_never_connects() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", closed_port());
    let out = check_smtp(dir.path(), smtp_vars(&url, &[("SMTP_TLS", "none")])).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("smtp check failed at connect"), "{}", text(&out.stderr));
    // Without --smtp: the configuration is valid, nothing is tried.
    let vars = [("SMTP_URL", url.as_str()), ("SMTP_FROM", "r@tochen.test"), ("SMTP_TLS", "none")];
    let out = tochen(dir.path(), &["check-config"], &vars);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("email: configured (SMTP_TLS=none)"), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains("smtp: trying"));
    // --smtp without a relay to try fails and says what to set.
    let out = tochen(dir.path(), &["check-config", "--smtp"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("SMTP_URL is not set"), "{}", text(&out.stderr));
}

#[test]
fn check_config_refuses_plain_smtp_to_a_public_address_and_an_unreadable_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = [("SMTP_URL", "smtp://203.0.113.25:25"), ("SMTP_FROM", "r@tochen.test")];
    let out = tochen(dir.path(), &["check-config"], &[base[0], base[1], ("SMTP_TLS", "none")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("SMTP_TLS: none") && err.contains("203.0.113.25 is a public address"), "{err}");
    let out = tochen(dir.path(), &["check-config"], &[base[0], base[1], ("SMTP_CA_FILE", "/nonexistent/ca.pem")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("SMTP_CA_FILE: /nonexistent/ca.pem cannot be read"), "{}", text(&out.stderr));
}

#[cfg(unix)]
#[test]
fn a_scheduler_with_smtp_tls_none_warns_at_start_up_without_showing_the_password() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let vars =
        [("SMTP_URL", "smtp://relay:hunter2@127.0.0.1:2525"), ("SMTP_FROM", "r@tochen.test"), ("SMTP_TLS", "none")];
    let mut child = spawn_scheduler(dir.path(), &vars);
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let warning = loop {
        match rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(line) if line.contains("SMTP_TLS=none") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let warning = warning.unwrap_or_else(|| panic!("no SMTP_TLS=none warning in {seen:#?}"));
    assert!(warning.contains("WARN") && warning.contains("unencrypted"), "{warning}");
    assert!(!warning.contains("hunter2") && warning.contains("****"), "{warning}");
}
