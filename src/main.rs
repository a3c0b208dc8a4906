//! `tochen`: the command line. Thin glue that reads the configuration, opens the store and starts the bot, the
//! scheduler and the web service, together (`run`) or one at a time for scale-out.

mod admin;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tochen_config::{load_or_create_secret_keys, redact_url_password, Config, LogFormat, SmtpTls, VARIABLES};
use tochen_domain::{SecretBox, SecretString};
use tochen_store::Store;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "tochen", version, about = "Turn a team's ideas into published social media posts, from Telegram.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot, the scheduler and the web service in one process (the default deployment).
    Run,
    /// Run only the Telegram bot.
    Bot,
    /// Run only the job scheduler (publishing, automations, sweeps). Several may run against PostgreSQL.
    Scheduler,
    /// Run only the web service (OAuth callbacks, webhooks, media URLs, health, metrics).
    Web,
    /// Apply the database migrations and exit.
    Migrate,
    /// Print a new Fernet key for TOCHEN_SECRET_KEYS.
    Keygen,
    /// Re-encrypt every stored secret under the first key of TOCHEN_SECRET_KEYS.
    RotateKeys,
    /// Validate the configuration and print what is set, secrets masked. Touches no network unless asked.
    CheckConfig {
        /// Also try the mail relay of SMTP_URL: connect, EHLO, TLS per SMTP_TLS, AUTH if SMTP_URL has a user, QUIT
        /// (no mail is sent), and say which step failed and why.
        #[arg(long)]
        smtp: bool,
    },
    /// The operator's controls: workspaces, quotas, suspending, the job queue (same as /admin in the bot).
    #[command(subcommand)]
    Admin(admin::Admin),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Component {
    Bot,
    Scheduler,
    Web,
}

impl Component {
    fn name(self) -> &'static str {
        match self {
            Component::Bot => "bot",
            Component::Scheduler => "scheduler",
            Component::Web => "web service",
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::Keygen = cli.command {
        println!("{}", SecretBox::generate_key());
        return std::process::ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: configuration: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Command::CheckConfig { smtp } = cli.command {
        print_config(&config);
        return if smtp { check_smtp(&config) } else { std::process::ExitCode::SUCCESS };
    }
    if matches!(cli.command, Command::Run | Command::Bot) {
        if let Err(e) = config.require_bot_token() {
            eprintln!("error: configuration: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Keygen | Command::CheckConfig { .. } => unreachable!("handled before the runtime starts"),
        Command::Migrate => {
            let store = open_store(&config).await?;
            println!(
                "migrations applied: {} (database {})",
                store.applied_migrations().await?.len(),
                redact_url_password(config.database.url.expose())
            );
            store.close().await;
            Ok(())
        }
        Command::RotateKeys => {
            let store = open_store(&config).await?;
            let report = store.rotate_secrets().await.context("rotating secrets")?;
            for (column, changed, current) in &report.columns {
                println!("{column}: {changed} re-encrypted, {current} already under the first key");
            }
            println!("done: {} secret(s) re-encrypted", report.reencrypted());
            store.close().await;
            Ok(())
        }
        Command::Admin(command) => {
            let store = open_store(&config).await?;
            let username = match command {
                admin::Admin::Code { .. } => tochen_bot::username(&config, std::time::Duration::from_secs(5)).await,
                _ => None,
            };
            let result = admin::run(command, &store, username.as_deref()).await;
            store.close().await;
            print!("{}", result?);
            Ok(())
        }
        Command::Run => serve(config, &[Component::Bot, Component::Scheduler, Component::Web]).await,
        Command::Bot => serve(config, &[Component::Bot]).await,
        Command::Scheduler => serve(config, &[Component::Scheduler]).await,
        Command::Web => serve(config, &[Component::Web]).await,
    }
}

/// One start-up line on who operates this instance and who may create workspaces.
async fn log_operator(config: &Config, store: &Store) {
    let creation = config.operator.creation.as_str();
    if !config.operator.operators.is_empty() {
        tracing::info!(operators = ?config.operator.operators, creation, "operators from TOCHEN_OPERATORS");
        return;
    }
    match store.claimed_operator().await {
        Ok(Some(id)) => tracing::info!(operator = id, creation, "operator: the first person who sent /start"),
        Ok(None) => tracing::info!(
            creation,
            "no operator yet: the first person to send /start to the bot becomes the operator (set TOCHEN_OPERATORS \
             to choose)"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot read who operates this instance"),
    }
}

/// Starts the components and waits for SIGINT/SIGTERM, then lets them stop gracefully.
async fn serve(mut config: Config, components: &[Component]) -> anyhow::Result<()> {
    // Resolved once: every component sees the same keys, whether they came from TOCHEN_SECRET_KEYS or the file.
    config.secret_keys = secret_keys(&config)?;
    let store = open_store(&config).await?;
    if tochen_platforms::registry::sandbox_on(&config) {
        tracing::info!(
            "sandbox mode: /connect offers simulated Facebook, Instagram and TikTok accounts; to publish for real set \
             META_APP_ID and META_APP_SECRET, INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET, or TIKTOK_CLIENT_KEY and \
             TIKTOK_CLIENT_SECRET (TOCHEN_SANDBOX=false hides the sandbox)"
        );
    }
    if components.contains(&Component::Bot) {
        log_operator(&config, &store).await;
    }
    if let Some(smtp) = config.smtp.as_ref().filter(|s| s.tls == SmtpTls::None) {
        tracing::warn!(
            relay = %redact_url_password(smtp.url.expose()),
            "SMTP_TLS=none: emails and the SMTP password travel unencrypted to the relay (allowed because it is a \
             loopback or private address); use SMTP_TLS=required once the relay speaks TLS"
        );
    }
    let shutdown = CancellationToken::new();
    // One registry for the process: the bot says here what it waits for, the web service's /ready reports it.
    let readiness = tochen_domain::readiness::Readiness::new();
    let mut running: Vec<(&'static str, ComponentFuture)> = Vec::new();
    for &component in components {
        let (config, store, token, readiness) = (config.clone(), store.clone(), shutdown.clone(), readiness.clone());
        let future: ComponentFuture = match component {
            Component::Bot => {
                let options = tochen_bot::Options { readiness, ..Default::default() };
                Box::pin(tochen_bot::run_with(config, store, token, options))
            }
            Component::Scheduler => Box::pin(tochen_scheduler::run(config, store, token)),
            Component::Web => Box::pin(tochen_web::run_with(config, store, token, readiness)),
        };
        running.push((component.name(), future));
    }
    let result = supervise(running, shutdown, shutdown_signal()).await;
    store.close().await;
    result
}

type ComponentFuture = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>;

/// Runs `components` until `signal`, then cancels `shutdown` and waits for all of them.
///
/// A component is meant to run until shutdown: one that returns early (even `Ok`), fails, or panics makes the
/// others stop and the result an error naming it, so the process exits non-zero and a supervisor restarts it,
/// instead of a half-working service (a bot that died while the web service kept answering) going unnoticed.
async fn supervise(
    components: Vec<(&'static str, ComponentFuture)>,
    shutdown: CancellationToken,
    signal: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut names = std::collections::HashMap::new();
    for (name, future) in components {
        names.insert(tasks.spawn(future).id(), name);
    }
    tracing::info!(components = names.len(), "tochen started");
    let name_of = |id: tokio::task::Id| names.get(&id).copied().unwrap_or("component");

    let mut failure = None;
    tokio::select! {
        _ = signal => tracing::info!("shutdown signal received; stopping"),
        Some(done) = tasks.join_next_with_id() => {
            let (name, error) = match done {
                Ok((id, Ok(()))) => (name_of(id), anyhow::anyhow!("the {} stopped on its own", name_of(id))),
                Ok((id, Err(e))) => (name_of(id), e.context(format!("the {} failed", name_of(id)))),
                Err(join) => (name_of(join.id()), joined_error(name_of(join.id()), &join)),
            };
            tracing::error!(component = name, error = %format!("{error:#}"), "a component stopped before shutdown was requested; stopping the others");
            failure = Some(error.context("a component stopped before shutdown was requested"));
        }
    }
    shutdown.cancel();
    while let Some(done) = tasks.join_next_with_id().await {
        let error = match done {
            Ok((id, Ok(()))) => {
                tracing::info!(component = name_of(id), "component stopped");
                continue;
            }
            Ok((id, Err(e))) => e.context(format!("the {} failed while stopping", name_of(id))),
            Err(join) => joined_error(name_of(join.id()), &join),
        };
        tracing::error!(error = %format!("{error:#}"), "a component did not stop cleanly");
        failure.get_or_insert(error);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn joined_error(name: &str, join: &tokio::task::JoinError) -> anyhow::Error {
    if join.is_panic() {
        anyhow::anyhow!("the {name} panicked")
    } else {
        anyhow::anyhow!("the {name} was cancelled")
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("install SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Opens the store with the configured keys (or the generated key file) and applies migrations. A database that
/// does not accept connections yet (a container starting beside this one) is tried again with a growing wait, one
/// log line per attempt naming the host, for `TOCHEN_DB_STARTUP_TIMEOUT`; then start-up fails saying so.
async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let keys = secret_keys(config)?;
    let secrets = SecretBox::from_keys(&keys).context("TOCHEN_SECRET_KEYS")?;
    let shown = redact_url_password(config.database.url.expose());
    let host = database_host(config.database.url.expose());
    let started = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(250);
    let mut attempt = 1u32;
    let url = config.database.url.expose();
    loop {
        match Store::probe(url).await {
            Ok(()) => break,
            Err(e) if started.elapsed() + wait <= config.database.startup_timeout => {
                tracing::warn!(%host, attempt, error = %e, "the database does not accept connections yet; retrying in {wait:?}");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(5));
                attempt += 1;
            }
            Err(e) => {
                let waited = started.elapsed().as_secs();
                return Err(anyhow::Error::new(e).context(format!(
                    "cannot open the database {shown} (tried {attempt} times over {waited} s; \
                     TOCHEN_DB_STARTUP_TIMEOUT allows {} s)",
                    config.database.startup_timeout.as_secs()
                )));
            }
        }
    }
    let store = Store::connect(url, config.database.max_connections, secrets)
        .await
        .with_context(|| format!("cannot open the database {shown}"))?;
    store.migrate().await.context("cannot apply database migrations")?;
    Ok(store)
}

/// The host (and port) of a database URL, or the file of a SQLite one, for log lines: never the password.
fn database_host(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.scheme().starts_with("postgres") => {
            format!("{}:{}", u.host_str().unwrap_or("localhost"), u.port().unwrap_or(5432))
        }
        Ok(u) if u.scheme() == "sqlite" => url.trim_start_matches("sqlite:").trim_start_matches("//").to_owned(),
        _ => "the configured database".to_owned(),
    }
}

/// The configured keys, or the key in `{data_dir}/secret.key`, created on first start, so the quick start needs
/// nothing but a bot token. Operators of several instances set TOCHEN_SECRET_KEYS instead.
fn secret_keys(config: &Config) -> anyhow::Result<Vec<SecretString>> {
    let resolved = load_or_create_secret_keys(config).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    if let Some(path) = &resolved.created {
        tracing::warn!(path = %path.display(), "TOCHEN_SECRET_KEYS is not set: generated a key file; back it up, tokens cannot be read without it");
    }
    Ok(resolved.keys)
}

fn print_config(config: &Config) {
    println!("configuration is valid\n");
    for var in VARIABLES {
        let value = std::env::var(var.name).ok().filter(|v| !v.trim().is_empty());
        let shown = match (&value, var.secret) {
            (None, _) if var.default.is_empty() => "(not set)".to_owned(),
            (None, _) => format!("{} (default)", var.default),
            (Some(v), true) if var.name == "DATABASE_URL" || var.name == "SMTP_URL" => redact_url_password(v),
            (Some(v), true) => SecretString::new(v.as_str()).masked(),
            (Some(v), false) => v.clone(),
        };
        println!("{:<34} {}", var.name, shown);
    }
    let ready: Vec<String> = tochen_platforms::registry::connectable(config)
        .into_iter()
        .filter(|k| !k.is_sandbox())
        .map(|k| k.to_string())
        .collect();
    let missing: Vec<String> =
        tochen_platforms::registry::not_set_up(config).iter().map(|(k, var)| format!("{k} (set {var})")).collect();
    println!();
    println!("database: {:?}", config.database.kind);
    println!(
        "secret keys: {}",
        if config.secret_keys.is_empty() {
            format!("none set; {} is used (created on first start)", config.data_dir.join("secret.key").display())
        } else {
            format!("{} key(s)", config.secret_keys.len())
        }
    );
    println!(
        "bot token: {}",
        if config.telegram.bot_token.is_some() { "set" } else { "MISSING (required for run and bot)" }
    );
    println!("platforms: {}", if ready.is_empty() { "none configured".to_owned() } else { ready.join(", ") });
    if !missing.is_empty() {
        println!("not set up: {}", missing.join(", "));
    }
    let sandbox = tochen_platforms::registry::sandbox_on(config);
    println!(
        "sandbox: {}",
        if sandbox { "on (simulated accounts of every platform; TOCHEN_SANDBOX=false turns it off)" } else { "off" }
    );
    match &config.smtp {
        Some(smtp) => println!(
            "email: configured (SMTP_TLS={}{}); `tochen check-config --smtp` tries the relay",
            smtp.tls.as_str(),
            smtp.ca_file
                .as_ref()
                .map(|c| format!(", {} extra CA certificate(s) from {}", c.certs.len(), c.path.display()))
                .unwrap_or_default()
        ),
        None => println!("email: not configured (set SMTP_URL and SMTP_FROM to send reports by email)"),
    }
    let op = &config.operator;
    println!(
        "operators: {}",
        if op.operators.is_empty() {
            "the first person to /start (TOCHEN_OPERATORS is empty)".to_owned()
        } else {
            op.operators.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        }
    );
    println!("workspace creation: {}", op.creation.as_str());
}

/// `check-config --smtp`: tries the relay step by step and prints each step; exit code 1 at the first failure.
fn check_smtp(config: &Config) -> std::process::ExitCode {
    println!();
    let Some(smtp) = &config.smtp else {
        eprintln!("error: smtp: SMTP_URL is not set, so there is no relay to check; set SMTP_URL and SMTP_FROM");
        return std::process::ExitCode::FAILURE;
    };
    let sender = match tochen_delivery::email::EmailSender::from_config(smtp) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: smtp: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("smtp: trying {} (SMTP_TLS={})", redact_url_password(smtp.url.expose()), smtp.tls.as_str());
    let probe = runtime.block_on(sender.probe());
    for step in &probe.passed {
        println!("  ok  {step}");
    }
    match probe.failed {
        None => {
            println!("smtp: the relay works");
            std::process::ExitCode::SUCCESS
        }
        Some(failure) => {
            // The failure's message starts with its step: "smtp check failed at tls: invalid peer certificate...".
            eprintln!("error: smtp check failed at {failure}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_database_host_is_logged_without_the_password() {
        assert_eq!(database_host("postgres://u:hunter2@db.internal:6543/tochen"), "db.internal:6543");
        assert_eq!(database_host("postgresql://u:hunter2@db/tochen"), "db:5432");
        assert_eq!(database_host("sqlite://data/tochen.db"), "data/tochen.db");
        assert_eq!(database_host("not a url"), "the configured database");
    }

    fn until(token: &CancellationToken) -> ComponentFuture {
        let token = token.clone();
        Box::pin(async move {
            token.cancelled().await;
            Ok(())
        })
    }

    async fn run(
        shutdown: &CancellationToken,
        odd_one: ComponentFuture,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let components = vec![("web service", until(shutdown)), ("bot", odd_one)];
        tokio::time::timeout(Duration::from_secs(10), supervise(components, shutdown.clone(), signal))
            .await
            .expect("supervise returns")
    }

    #[tokio::test]
    async fn a_component_that_panics_fails_the_process_and_is_named() {
        let shutdown = CancellationToken::new();
        let panics: ComponentFuture = Box::pin(async {
            if true {
                panic!("boom");
            }
            Ok(())
        });
        let err = run(&shutdown, panics, std::future::pending()).await.unwrap_err();
        assert!(format!("{err:#}").contains("the bot panicked"), "{err:#}");
        assert!(shutdown.is_cancelled(), "the others were told to stop");
    }

    #[tokio::test]
    async fn a_component_that_returns_early_fails_the_process_even_with_ok() {
        let shutdown = CancellationToken::new();
        let err = run(&shutdown, Box::pin(async { Ok(()) }), std::future::pending()).await.unwrap_err();
        assert!(format!("{err:#}").contains("the bot stopped on its own"), "{err:#}");
        let err =
            run(&CancellationToken::new(), Box::pin(async { anyhow::bail!("no network") }), std::future::pending())
                .await
                .unwrap_err();
        assert!(format!("{err:#}").contains("the bot failed: no network"), "{err:#}");
    }

    #[tokio::test]
    async fn a_shutdown_signal_stops_every_component_cleanly() {
        let shutdown = CancellationToken::new();
        run(&shutdown, until(&shutdown), async {}).await.unwrap();
        // A component that fails while stopping still fails the process.
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let fails_on_stop: ComponentFuture = Box::pin(async move {
            token.cancelled().await;
            anyhow::bail!("could not flush")
        });
        let err = run(&shutdown, fails_on_stop, async {}).await.unwrap_err();
        assert!(format!("{err:#}").contains("could not flush"), "{err:#}");
    }
}
