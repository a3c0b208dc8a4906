//! tochen-bot: the team's Telegram front door.
//!
//! One `schema()` builds the whole dptree handler tree. Every update first becomes a `Ctx` (the person, their
//! language, active workspace and role, and their dialogue in this chat) and a `State` loaded from the database
//! keyed by (chat, user); commands, text for the current state and button presses branch from there. Handlers
//! receive what they need through `dptree::deps!` (the bot, `App`, `Ctx`, the state's fields), never globals.

mod admin;
mod ads;
mod api_tokens;
mod approval;
mod automations;
pub mod batches;
mod calendar;
mod campaigns;
mod cards;
mod catalog;
mod commands;
mod compose;
mod connect;
mod creation;
mod ctx;
mod daterange;
mod draft;
mod edits;
pub mod files;
mod flow;
mod handover;
mod ideas;
mod intake;
mod kb;
mod library;
mod media_list;
mod miniapp;
mod onboarding;
mod pace;
mod panics;
pub mod post_options;
/// The media checks the draft screen and scheduling run (`screens::media_checks`).
pub use screens::media_checks;
mod published;
mod queue;
mod schedule;
mod screens;
mod slots;
mod startup;
mod state;
mod stats;
mod suspended;
mod team;
pub mod timeparse;
mod versions;
pub mod webhook_updates;

pub use catalog::Command;
pub use pace::Limits;
pub use startup::username;
pub use state::State;

use ctx::{App, Ctx, HandlerResult, TgBot};
use std::time::Duration;
use teloxide::dispatching::{UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::ParseMode;
use tochen_config::Config;
use tochen_domain::i18n::{t, LANGUAGES};
use tochen_llm::LlmClient;
use tochen_store::Store;
use tochen_telegram::button::{Ads, Button, Menu};
use tokio_util::sync::CancellationToken;

/// Knobs tests and benchmarks change; production uses the defaults.
#[derive(Clone)]
pub struct Options {
    pub limits: Limits,
    pub llm_backoff: Duration,
    /// Where the bot says it is waiting for the Bot API at start-up (shared with `/ready` by the binary).
    pub readiness: tochen_domain::readiness::Readiness,
    /// The first wait between start-up attempts to reach the Bot API (doubled up to a minute).
    pub startup_retry: Duration,
    /// Handlers tried before the real tree, inside the same panic boundary. Production has none; tests inject
    /// one that panics, which no update from outside can reach otherwise.
    pub before: Option<UpdateHandler<anyhow::Error>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: telegram_limits(),
            llm_backoff: Duration::from_millis(500),
            readiness: Default::default(),
            startup_retry: tochen_domain::readiness::FIRST_RETRY,
            before: None,
        }
    }
}

/// Telegram's sending limits as they are: about one message a second in a chat, 20 a
/// minute in a group, 30 a second overall. The 20-a-minute window is a group's: put on private chats too (as
/// teloxide's default limits did), a person tapping through a conversation at one action a second waited for the
/// window and the replies fell further and further behind. A chat id tells only supergroups (and channels) from
/// other chats, so their minute window is the group limit; private chats, and the rarer basic groups, are held
/// to one a second, and a 429 there is waited out (`pace.rs`).
pub fn telegram_limits() -> Limits {
    Limits {
        messages_per_sec_chat: 1,
        messages_per_min_chat: 60,
        messages_per_min_channel_or_supergroup: 20,
        messages_per_sec_overall: 30,
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("limits", &self.limits)
            .field("llm_backoff", &self.llm_backoff)
            .field("startup_retry", &self.startup_retry)
            .field("before", &self.before.is_some())
            .finish()
    }
}

/// The name the bot reports under in [`tochen_domain::readiness::Readiness`].
pub const COMPONENT: &str = "bot";

/// How long the dispatcher may take to stop after shutdown was asked before the bot stops without it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the bot until `shutdown` is cancelled.
pub async fn run(config: Config, store: Store, shutdown: CancellationToken) -> anyhow::Result<()> {
    run_with(config, store, shutdown, Options::default()).await
}

/// `run` with explicit options.
pub async fn run_with(
    config: Config,
    store: Store,
    shutdown: CancellationToken,
    options: Options,
) -> anyhow::Result<()> {
    let token = config.require_bot_token()?.expose().to_owned();
    let api = Bot::new(token).set_api_url(config.telegram.api_url.clone()).parse_mode(ParseMode::Html);
    let bot = TgBot::new(api, options.limits);
    let Some(me) = startup::reach_bot_api(&bot, &options.readiness, options.startup_retry, &shutdown).await else {
        return Ok(());
    };
    set_commands(&bot).await;
    let miniapp_url = miniapp::url(&config);
    if let Some(url) = &miniapp_url {
        miniapp::set_menu_button(&bot, url).await;
    }
    admin::register_commands(&bot, &store, &config.operator).await;
    let llm =
        LlmClient::new(config.llm.clone(), store.clone(), config.data_dir.clone())?.with_backoff(options.llm_backoff);
    // Webhook mode: updates come from the job queue (stored by the web service), not from getUpdates.
    let webhook = webhook_updates::for_config(&config, &store, SHUTDOWN_GRACE);
    let app = App {
        store,
        llm,
        bot_username: me.username.clone().unwrap_or_default(),
        data_dir: config.data_dir.clone(),
        rules: tochen_platforms::RuleBook::new(&config),
        sandbox: tochen_platforms::registry::sandbox_on(&config),
        operator: config.operator.clone(),
        email: tochen_delivery::email::EmailSender::configured(config.smtp.as_ref()),
        media: files::MediaSettings::from_config(&config),
        public_url: config.web.public_url.as_str().trim_end_matches('/').to_owned(),
        miniapp_url,
    };
    // Campaign batches: one LLM draft per `batch.item` job, the progress message edited by `batch.progress` jobs.
    // The runner stops with the bot; items it held return to the queue (their lease) and end exactly once.
    let batch_runner = batches::runner(&config, &app.store, app.llm.clone(), app.rules.clone(), Some(bot.clone()));
    let batch_stop = shutdown.child_token();
    tokio::spawn(async move {
        if let Err(e) = batch_runner.run(batch_stop).await {
            tracing::error!(error = %e, "the runner of campaign batches failed");
        }
    });
    let tree = match options.before {
        Some(before) => dptree::entry().branch(before).branch(schema()),
        None => schema(),
    };
    let handler = match &webhook {
        Some(mode) => mode.listener.acking(panics::boundary(tree)),
        None => panics::boundary(tree),
    };
    let dispatcher_bot = bot.api().clone();
    // The dispatcher polls with the unpaced API; handlers get the paced bot from the dependencies.
    let mut dispatcher = Dispatcher::builder(bot.api().clone(), handler)
        .dependencies(dptree::deps![app, bot, ctx::ConnectConfig(std::sync::Arc::new(config.clone()))])
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text("a bot handler failed"))
        .build();
    let stopper = dispatcher.shutdown_token();
    // The dispatcher stops once `stop_dispatcher` is cancelled: at shutdown when polling; in webhook mode once the
    // runner stopped, so the updates its jobs already handed over are handled before the dispatcher goes.
    let stop_dispatcher = CancellationToken::new();
    let stop_seen = stop_dispatcher.clone();
    let runner = match webhook {
        Some(webhook_updates::WebhookMode { listener, runner }) => {
            let (runner_stop, stop) = (shutdown.child_token(), stop_dispatcher.clone());
            let running = runner.run(runner_stop.clone());
            let handle = tokio::spawn(async move {
                if let Err(e) = running.await {
                    tracing::error!(error = %e, "the runner of stored updates failed");
                }
                stop.cancel();
            });
            Some((listener, runner_stop, handle))
        }
        None => {
            let stop = stop_dispatcher.clone();
            tokio::spawn(async move {
                shutdown.cancelled().await;
                stop.cancel();
            });
            None
        }
    };
    tokio::spawn(async move {
        stop_dispatcher.cancelled().await;
        // The dispatcher may not have started polling yet; keep asking until it accepts.
        loop {
            match stopper.shutdown() {
                Ok(done) => {
                    done.await;
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    // `try_` dispatching: the dispatcher asks getMe again, and a Bot API gone since start-up must end the bot with
    // an error (the process exits non-zero and is restarted), not panic inside teloxide.
    if let Some((listener, runner_stop, runner)) = runner {
        tracing::info!(bot = %me.username.clone().unwrap_or_default(), "bot runs the updates stored by the web service");
        let abandon = listener.abandon();
        let on_error = LoggingErrorHandler::with_custom_text("reading stored updates failed");
        let dispatching = dispatcher.try_dispatch_with_listener(listener, on_error);
        tokio::pin!(dispatching);
        // Shutdown is bounded: on SQLite the dispatcher was seen (about one stop in ten under test) never to
        // finish stopping. Updates it still held come back to the next bot: their jobs are retried, or rescued once
        // their lease expires when the runner gave up waiting for them first.
        let grace = async {
            stop_seen.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        let done = tokio::select! {
            done = &mut dispatching => done,
            _ = grace => {
                tracing::warn!(grace = ?SHUTDOWN_GRACE, "the dispatcher did not stop in time; stopped without it");
                Ok(())
            }
        };
        abandon.now();
        runner_stop.cancel();
        if tokio::time::timeout(SHUTDOWN_GRACE * 2, runner).await.is_err() {
            tracing::warn!(
                "the runner of stored updates did not stop in time; its jobs return when their lease expires"
            );
        }
        done?;
        return Ok(());
    }
    // Polling deletes a webhook left from webhook mode first (getWebhookInfo, then deleteWebhook).
    tracing::info!(bot = %me.username.clone().unwrap_or_default(), "bot is polling for updates");
    let listener = teloxide::update_listeners::polling_default(dispatcher_bot).await;
    let on_error = LoggingErrorHandler::with_custom_text("an error from the update listener");
    dispatcher.try_dispatch_with_listener(listener, on_error).await?;
    Ok(())
}

/// Registers the command menus of `catalog::COMMANDS` per language and per scope (private chats, groups, and
/// groups' admins).
async fn set_commands(bot: &TgBot) {
    for lang in LANGUAGES.iter().copied() {
        for m in catalog::Menu::ALL {
            let Some(scope) = m.scope() else { continue };
            let mut req = bot.set_my_commands(catalog::menu(lang, m)).scope(scope);
            if lang != "en" {
                req = req.language_code(lang);
            }
            if let Err(e) = req.await {
                tracing::warn!(error = %e, lang, "cannot register commands");
            }
        }
    }
}

/// The whole handler tree.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    use dptree::case;

    let commands = dptree::filter_map(|m: Message, me: teloxide::types::Me| commands::parse(&m, &me))
        .branch(case![Command::Start(payload)].endpoint(onboarding::start))
        .branch(case![Command::Idea(topic)].endpoint(ideas::idea))
        .branch(case![Command::New(arg)].endpoint(compose::new_post))
        .branch(case![Command::Library(arg)].endpoint(library::library))
        .branch(case![Command::Drafts].endpoint(library::drafts))
        .branch(case![Command::Queue].endpoint(queue::queue))
        .branch(case![Command::History].endpoint(library::history))
        .branch(case![Command::Stats(arg)].endpoint(stats::stats))
        .branch(case![Command::Campaigns].endpoint(campaigns::campaigns))
        .branch(case![Command::Campaign(arg)].endpoint(campaigns::campaign))
        .branch(case![Command::Calendar].endpoint(calendar::calendar))
        .branch(case![Command::Ads].endpoint(ads::ads))
        .branch(case![Command::Slots].endpoint(slots::slots))
        .branch(case![Command::Besttime].endpoint(slots::besttime))
        .branch(case![Command::Usage].endpoint(team::usage))
        .branch(case![Command::Invite].endpoint(team::invite))
        .branch(case![Command::Team].endpoint(team::team))
        .branch(case![Command::Workspaces].endpoint(team::workspaces))
        .branch(case![Command::Profile].endpoint(onboarding::profile))
        .branch(case![Command::Language].endpoint(team::language))
        .branch(case![Command::Connect].endpoint(connect::connect))
        .branch(case![Command::Accounts].endpoint(connect::accounts))
        .branch(case![Command::Cancel].endpoint(team::cancel))
        .branch(case![Command::Automate(arg)].endpoint(automations::on_command))
        .branch(case![Command::Automations].endpoint(automations::on_command))
        .branch(case![Command::Destinations].endpoint(automations::on_command))
        .branch(case![Command::Link].endpoint(automations::on_command))
        .branch(case![Command::Webhook(arg)].endpoint(automations::on_command))
        .branch(case![Command::Email(arg)].endpoint(automations::on_command))
        .branch(case![Command::Api].endpoint(api_tokens::tokens))
        .branch(case![Command::Help].endpoint(team::help))
        .branch(case![Command::Admin].endpoint(admin::admin));

    let by_state = dptree::entry()
        .branch(case![State::SetupName].endpoint(onboarding::got_name))
        .branch(case![State::SetupDescription { editing }].endpoint(onboarding::got_description))
        .branch(case![State::SetupAudience { editing }].endpoint(onboarding::got_audience))
        .branch(case![State::SetupTone { editing }].endpoint(onboarding::got_tone))
        .branch(case![State::SetupLanguage { editing }].endpoint(onboarding::got_language))
        .branch(case![State::SetupTimezone { editing }].endpoint(onboarding::got_timezone))
        .branch(case![State::EditText { post, version }].endpoint(draft::got_edit))
        .branch(case![State::Rewrite { post, version, platform }].endpoint(draft::got_rewrite))
        .branch(case![State::EditVersion { post, version, platform }].endpoint(versions::got_version))
        .branch(case![State::Compose].endpoint(compose::got_message))
        .branch(case![State::Attach { post, version }].endpoint(draft::got_media))
        .branch(case![State::ScheduleAt { post, version, reschedule }].endpoint(schedule::got_time))
        .branch(case![State::RejectReason { post, version, card }].endpoint(approval::got_reason))
        .branch(case![State::AdminQuota { tenant }].endpoint(admin::got_quota))
        .branch(case![State::EditPublished { post, target, version, text }].endpoint(published::got_text))
        .branch(case![State::LibrarySearch].endpoint(library::got_search))
        .branch(case![State::LibraryRange].endpoint(library::got_range))
        .branch(case![State::LibraryTags { post }].endpoint(library::got_tags))
        .branch(case![State::StatsRange { platform, account, campaign }].endpoint(stats::got_range))
        .branch(case![State::SlotsAdd { account }].endpoint(slots::got_slots))
        .branch(case![State::ApiToken { name }].endpoint(api_tokens::got_name))
        .branch(case![State::Campaign { draft }].endpoint(campaigns::got_text))
        .branch(case![State::CampaignBatch { draft }].endpoint(campaigns::got_batch_text));

    let messages = Update::filter_message()
        .filter(|m: Message| migration(m).is_none())
        .branch(commands)
        .branch(dptree::filter_map(commands::not_ours).endpoint(commands::unknown))
        .branch(dptree::filter_map_async(compose::album_of).endpoint(compose::album_item))
        .branch(by_state)
        .endpoint(fallback);

    // Every button is decoded once and routed to its flow's handler, which takes the flow's own sub-enum.
    let buttons = Update::filter_callback_query()
        .branch(
            dptree::filter_map(|q: CallbackQuery| q.data.as_deref().and_then(Button::decode))
                .branch(handover::handler())
                .branch(case![Button::Onboarding(b)].endpoint(onboarding::on_button))
                .branch(case![Button::Menu(b)].endpoint(on_menu))
                .branch(case![Button::Ideas(b)].endpoint(ideas::on_button))
                .branch(case![Button::Draft(b)].endpoint(draft::on_button))
                .branch(case![Button::Schedule(b)].endpoint(schedule::on_button))
                .branch(case![Button::Approval(b)].endpoint(approval::on_button))
                .branch(case![Button::Queue(b)].endpoint(queue::on_button))
                .branch(case![Button::Team(b)].endpoint(team::on_button))
                .branch(case![Button::Target(b)].endpoint(queue::on_target))
                .branch(case![Button::Connect(b)].endpoint(connect::on_button))
                .branch(case![Button::Automation(b)].endpoint(automations::on_button))
                .branch(case![Button::Wizard(b)].endpoint(automations::on_wizard_button))
                .branch(case![Button::Admin(b)].endpoint(admin::on_button))
                .branch(case![Button::PostOpt(b)].endpoint(post_options::on_button))
                .branch(case![Button::Published(b)].endpoint(published::on_button))
                .branch(case![Button::Library(b)].endpoint(library::on_button))
                .branch(case![Button::Stats(b)].endpoint(stats::on_button))
                .branch(case![Button::Calendar(b)].endpoint(calendar::on_button))
                .branch(case![Button::Slots(b)].endpoint(slots::on_button))
                .branch(case![Button::ApiTokens(b)].endpoint(api_tokens::on_button))
                .branch(case![Button::Campaign(b)].endpoint(campaigns::on_button))
                .branch(
                    case![Button::Ads(b)]
                        .branch(
                            dptree::filter(|b: Ads| matches!(b, Ads::Overview | Ads::Account { .. }))
                                .endpoint(ads::on_button),
                        )
                        .endpoint(connect::on_ads_button),
                ),
        )
        .endpoint(unknown_button);

    dptree::entry()
        .branch(automations::membership_handler())
        .branch(Update::filter_message().filter_map(migration).endpoint(migrated))
        .branch(
            dptree::filter_map_async(|app: App, upd: Update| async move { Ctx::load(&app, &upd).await })
                .map_async(|ctx: Ctx| async move { ctx.dlg.get().await.unwrap_or_default() })
                .map_async(|ctx: Ctx, state: State, upd: Update, me: teloxide::types::Me| async move {
                    commands::leave_prompt_for_command(&ctx, state, &upd, &me).await
                })
                .branch(flow::stale_answers())
                .branch(suspended::gate())
                .branch(automations::handlers())
                .branch(messages)
                .branch(buttons),
        )
}

/// The (old, new) chat ids of a group-to-supergroup service message: `migrate_to_chat_id` arrives in the old
/// group, `migrate_from_chat_id` in the new supergroup. Either may come first, or alone.
fn migration(m: Message) -> Option<(ChatId, ChatId)> {
    match (m.migrate_to_chat_id(), m.migrate_from_chat_id()) {
        (Some(to), _) => Some((m.chat.id, *to)),
        (None, Some(from)) => Some((*from, m.chat.id)),
        (None, None) => None,
    }
}

/// A group became a supergroup: its destinations, the team chat that named it and its conversations move to the
/// new chat id (the same move the scheduler makes when a send tells it; whichever comes second finds it done).
async fn migrated(app: App, (old, new): (ChatId, ChatId)) -> HandlerResult {
    tracing::info!(old = old.0, new = new.0, "group migrated to a supergroup");
    app.store.follow_chat_migration(old.0, new.0).await?;
    Ok(())
}

async fn fallback(bot: TgBot, ctx: Ctx) -> HandlerResult {
    // In groups the bot only answers what is addressed to it; stray text is not.
    if ctx.private {
        ctx.say(&bot, t(ctx.lang, "bot.fallback"), None).await?;
    }
    Ok(())
}

async fn unknown_button(bot: TgBot, ctx: Ctx) -> HandlerResult {
    ctx.refuse(&bot, t(ctx.lang, "bot.stale")).await
}

/// The menu under the welcome: shortcuts to `/idea`, `/invite` and `/connect`.
async fn on_menu(bot: TgBot, app: App, ctx: Ctx, b: Menu, cfg: ctx::ConnectConfig) -> HandlerResult {
    match b {
        Menu::Ideas => ideas::idea(bot, app, ctx, String::new()).await,
        Menu::NewPost => {
            ctx.answer(&bot, None).await?;
            compose::new_post(bot, app, ctx, String::new(), cfg).await
        }
        Menu::Invite => team::invite(bot, ctx).await,
        Menu::Connect => {
            ctx.answer(&bot, None).await?;
            connect::connect(bot, ctx, cfg).await
        }
    }
}
