//! The three components in this process, as `tochen run` starts them (or the bot alone), for end-to-end tests: the web service on a
//! given listener, the scheduler and the bot (against a fake Bot API, sends unthrottled), stopped together.

use std::net::SocketAddr;
use std::time::Duration;
use tochen_bot::Limits;
use tochen_config::Config;
use tochen_domain::SecretString;
use tochen_store::Store;
use tochen_testkit::fake_telegram::FakeTelegram;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Components {
    shutdown: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)>,
}

impl Components {
    /// Starts web, scheduler and bot; returns once the bot polls. `bot_link` is what the web service links back to
    /// (it learns it from getMe in production).
    pub async fn start(
        config: &Config,
        store: &Store,
        key: &str,
        listener: tokio::net::TcpListener,
        tg: &FakeTelegram,
        bot_link: Option<String>,
    ) -> Self {
        let shutdown = CancellationToken::new();
        let mut tasks: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)> = Vec::new();
        let state = tochen_web::AppState::new(
            config.clone(),
            store.clone(),
            &SecretString::new(key),
            tochen_web::RateLimit::default(),
        );
        if let Some(link) = bot_link {
            state.bot_link.set(link);
        }
        let router = tochen_web::app(state).into_make_service_with_connect_info::<SocketAddr>();
        let stop = shutdown.clone();
        tasks.push((
            "web",
            tokio::spawn(async move {
                axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned()).await?;
                Ok(())
            }),
        ));
        tasks.push(("scheduler", tokio::spawn(tochen_scheduler::run(config.clone(), store.clone(), shutdown.clone()))));
        let mut components = Components { shutdown, tasks };
        components.add_bot(config, store, tg).await;
        components
    }

    /// Only the bot (as `tochen bot` runs it).
    pub async fn bot(config: &Config, store: &Store, tg: &FakeTelegram) -> Self {
        let mut components = Components { shutdown: CancellationToken::new(), tasks: Vec::new() };
        components.add_bot(config, store, tg).await;
        components
    }

    /// Starts the bot, unthrottled; returns once it polls.
    async fn add_bot(&mut self, config: &Config, store: &Store, tg: &FakeTelegram) {
        let mark = tg.mark();
        let limits = Limits {
            messages_per_sec_chat: 10_000,
            messages_per_min_chat: 1_000_000,
            messages_per_min_channel_or_supergroup: 1_000_000,
            messages_per_sec_overall: 10_000,
        };
        let options = tochen_bot::Options { limits, llm_backoff: Duration::from_millis(5), ..Default::default() };
        let bot = tochen_bot::run_with(config.clone(), store.clone(), self.shutdown.clone(), options);
        self.tasks.push(("bot", tokio::spawn(bot)));
        tg.wait_call(mark, |c| c.method == "getupdates").await;
    }

    /// Stops all three and checks each stopped cleanly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for (name, task) in self.tasks {
            let done = tokio::time::timeout(Duration::from_secs(40), task).await;
            done.unwrap_or_else(|_| panic!("{name} stops")).unwrap().unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }
}
