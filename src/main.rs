//! `tochen`: the command line. Thin glue that reads the configuration, opens the store and starts the bot, the
//! scheduler and the web service, together (`run`) or one at a time for scale-out.

use anyhow::Context;
use clap::{Parser, Subcommand};
use tochen_core::config::{load_or_create_secret_keys, redact_url_password, Config, LogFormat, VARIABLES};
use tochen_core::{SecretBox, SecretString, Store};
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
    /// Validate the configuration and print what is set, secrets masked.
    CheckConfig,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Component {
    Bot,
    Scheduler,
    Web,
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
    if let Command::CheckConfig = cli.command {
        print_config(&config);
        return std::process::ExitCode::SUCCESS;
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
        Command::Keygen | Command::CheckConfig => unreachable!("handled before the runtime starts"),
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
        Command::Run => serve(config, &[Component::Bot, Component::Scheduler, Component::Web]).await,
        Command::Bot => serve(config, &[Component::Bot]).await,
        Command::Scheduler => serve(config, &[Component::Scheduler]).await,
        Command::Web => serve(config, &[Component::Web]).await,
    }
}

/// Starts the components and waits for SIGINT/SIGTERM, then lets them stop gracefully.
async fn serve(mut config: Config, components: &[Component]) -> anyhow::Result<()> {
    if components.contains(&Component::Bot) {
        config.require_bot_token().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    }
    // Resolved once: every component sees the same keys, whether they came from TOCHEN_SECRET_KEYS or the file.
    config.secret_keys = secret_keys(&config)?;
    let store = open_store(&config).await?;
    let shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    for &component in components {
        let (config, store, token) = (config.clone(), store.clone(), shutdown.clone());
        tasks.spawn(async move {
            let result = match component {
                Component::Bot => tochen_bot::run(config, store, token).await,
                Component::Scheduler => tochen_scheduler::run(config, store, token).await,
                Component::Web => tochen_web::run(config, store, token).await,
            };
            (component, result)
        });
    }
    tracing::info!(components = components.len(), "tochen started");

    let mut first_error = None;
    tokio::select! {
        _ = shutdown_signal() => tracing::info!("shutdown signal received; stopping"),
        Some(done) = tasks.join_next() => {
            // A component that stops on its own brings the process down, so a supervisor can restart it.
            if let Ok((_, Err(e))) = done {
                first_error = Some(e);
            }
        }
    }
    shutdown.cancel();
    while let Some(done) = tasks.join_next().await {
        if let Ok((_, Err(e))) = done {
            first_error.get_or_insert(e);
        }
    }
    store.close().await;
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
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

/// Opens the store with the configured keys (or the generated key file) and applies migrations.
async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let keys = secret_keys(config)?;
    let secrets = SecretBox::from_keys(&keys).context("TOCHEN_SECRET_KEYS")?;
    let store = Store::connect(config.database.url.expose(), config.database.max_connections, secrets)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url_password(config.database.url.expose())))?;
    store.migrate().await.context("cannot apply database migrations")?;
    Ok(store)
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
    let platforms: Vec<&str> = [
        config.meta.app_id.as_ref().map(|_| "facebook+instagram"),
        config.meta.instagram_app_id.as_ref().map(|_| "instagram-login"),
        config.tiktok.client_key.as_ref().map(|_| "tiktok"),
    ]
    .into_iter()
    .flatten()
    .collect();
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
    println!("platforms: {}", if platforms.is_empty() { "none configured".to_owned() } else { platforms.join(", ") });
    println!("email: {}", if config.smtp.is_some() { "configured" } else { "not configured" });
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
