//! Sandbox mode end to end, as a new user meets it with only a bot token (no platform, no LLM): `/start` says the
//! server is in sandbox mode, `/connect` offers sandbox accounts and connects one in a tap, a post is written (by
//! the sandbox writer) and published, the scheduler publishes it through the real pipeline to the simulated platform, the author is told
//! with the permalink, the web service serves the permalink page, the metrics sync reads simulated engagement, and
//! a weekly report is computed from it. With a real (fake) platform configured, nothing of the sandbox shows.
//!
//! The bot, the scheduler and the web service run in this process as `tochen run` runs them, on SQLite and
//! PostgreSQL.

use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_delivery::reports::metrics_sync::{sync_all, SyncOptions};
use tochen_delivery::reports::{compute_report, Period};
use tochen_delivery::sources::Sources;
use tochen_domain::clock::now_ms;
use tochen_domain::i18n::t;
use tochen_domain::TenantId;
use tochen_domain::{AuthKind, Platform, PostStatus, TargetStatus};
use tochen_store::Store;
use tochen_testkit::fake_telegram::{BotMessage, FakeTelegram};
use tochen_testkit::TestDb;

const ALICE: i64 = 5151;
const DAY_MS: i64 = 86_400_000;

fn en(key: &str) -> String {
    t("en", key)
}

struct World {
    tg: FakeTelegram,
    store: Store,
    config: Config,
    web_url: String,
    components: crate::components::Components,
    _dir: tempfile::TempDir,
}

impl World {
    /// The three components with only a bot token and a database (no platform, no LLM), plus `extra` variables.
    async fn start(db: &TestDb, extra: &[(&str, &str)]) -> Self {
        let tg = FakeTelegram::start().await;
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let web_url = format!("http://{}", listener.local_addr().unwrap());
        let mut env: HashMap<String, String> = [
            ("TELEGRAM_BOT_TOKEN", tg.token.as_str()),
            ("TELEGRAM_API_URL", tg.api_url.as_str()),
            ("DATABASE_URL", db.url.as_str()),
            ("TOCHEN_SECRET_KEYS", db.key.as_str()),
            ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
            ("TOCHEN_PUBLIC_URL", web_url.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_source(&env).expect("test config is valid");
        let store = db.store.clone();
        let components = crate::components::Components::start(&config, &store, &db.key, listener, &tg, None).await;
        World { tg, store, config, web_url, components, _dir: dir }
    }

    async fn stop(self) {
        self.components.stop().await;
    }

    async fn say(&self, text: &str, needle: &str) -> BotMessage {
        let mark = self.tg.mark();
        self.tg.send_text(ALICE, text);
        self.tg.said(ALICE, mark, needle).await
    }

    async fn press(&self, msg: &BotMessage, label: &str, needle: &str) -> BotMessage {
        let mark = self.tg.mark();
        self.tg.press(ALICE, msg, label);
        self.tg.said(msg.chat_id, mark, needle).await
    }

    /// Connects a sandbox Facebook account and schedules a sandbox-written post on it in 5 minutes.
    async fn schedule_a_sandbox_post(&self) {
        let menu = self.say("/connect", "Which account do you want to connect?").await;
        self.press(&menu, "🧪 Sandbox Facebook Page", "a sandbox Facebook account").await;
        let ideas = self.say("/idea fresh bread", "Ideas for").await;
        let draft = self.press(&ideas, "1", "Draft:").await;
        self.press(&draft, &en("bot.draft.btn_schedule"), "When?").await;
        let confirm = self.say("in 5 minutes", "Post to").await;
        self.press(&confirm, &en("bot.schedule.btn_confirm"), "Scheduled").await;
    }

    /// First contact: a workspace called Bakery, every question skipped.
    async fn onboard(&self) -> (TenantId, BotMessage) {
        let hello = self.say("/start", "What's it called").await;
        let m = self.say("Bakery", "in a sentence or two").await;
        let m = self.press(&m, &en("bot.profile.skip"), "Describe your audience").await;
        let m = self.press(&m, &en("bot.profile.skip"), "Tone of voice").await;
        let m = self.press(&m, &en("bot.tone.friendly"), "posts and reports").await;
        let m = self.press(&m, &en("bot.profile.skip"), "Time zone").await;
        self.press(&m, &en("bot.profile.tz_keep"), "All set").await;
        let alice = self.store.user_by_telegram_id(ALICE).await.unwrap().unwrap();
        (alice.active_tenant_id.unwrap(), hello)
    }
}

async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !cond().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

tochen_testkit::store_test!(with_only_a_bot_token_a_post_reaches_the_sandbox_and_is_measured, |store, db| {
    let w = World::start(&db, &[]).await;
    let (tenant, hello) = w.onboard().await;
    assert!(hello.text.contains(&en("bot.start.sandbox")), "/start says sandbox mode in one line: {}", hello.text);

    // /connect offers the sandbox and says what is not set up; one tap connects.
    let menu = w.say("/connect", "Which account do you want to connect?").await;
    assert!(menu.text.contains("Sandbox mode"), "{}", menu.text);
    assert!(menu.text.contains("META_APP_ID") && menu.text.contains("TIKTOK_CLIENT_KEY"), "{}", menu.text);
    let labels: Vec<&str> = menu.buttons.iter().flatten().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["🧪 Sandbox Facebook Page", "🧪 Sandbox Instagram", "🧪 Sandbox TikTok"]);
    w.press(&menu, "🧪 Sandbox Facebook Page", "a sandbox Facebook account").await;
    let accounts = w.store.accounts(tenant).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!((accounts[0].platform, accounts[0].auth_kind), (Platform::Facebook, AuthKind::SandboxFacebook));
    assert_eq!(accounts[0].name, "🧪 Bakery");
    // Tapping again finds the same account instead of adding one.
    let menu = w.say("/connect", "Which account do you want to connect?").await;
    w.press(&menu, "🧪 Sandbox Facebook Page", "a sandbox Facebook account").await;
    assert_eq!(w.store.accounts(tenant).await.unwrap().len(), 1);

    // A post, published now: the scheduler runs it through the real pipeline to the simulated platform, and the
    // author is told, with the permalink.
    let ideas = w.say("/idea fresh bread", "Ideas for").await;
    assert!(ideas.text.contains("🧪"), "the sandbox writer's ideas are marked: {}", ideas.text);
    let draft = w.press(&ideas, "1", "Draft:").await;
    assert!(draft.text.contains("Facebook") && draft.text.contains("🧪"), "{}", draft.text);
    // With a (placeholder) image, which the simulated platform keeps and the permalink page shows.
    let draft = w.press(&draft, &en("bot.draft.btn_image"), "Image attached").await;
    let told = w.press(&draft, &en("bot.draft.btn_now"), "is live on Facebook").await;
    let post = store.posts_with_status(tenant, &[PostStatus::Published], 0, 10).await.unwrap().remove(0);
    wait_until("the post is published", || async {
        store.post(tenant, post.id).await.unwrap().status == PostStatus::Published
    })
    .await;
    let target = store.targets_of_post(tenant, post.id).await.unwrap().remove(0);
    assert_eq!(target.status, TargetStatus::Published);
    let kept = store.sandbox_post_of_target(tenant, target.id).await.unwrap().expect("the sandbox kept the post");
    assert_eq!(target.platform_post_id.as_deref(), Some(kept.id.as_str()));
    let permalink = format!("{}/sandbox/{}", w.web_url, kept.id);
    assert_eq!(target.permalink.as_deref(), Some(permalink.as_str()));
    assert!(told.text.contains(&permalink), "the author gets the link: {}", told.text);

    // The permalink page shows the post as it went out.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let page = http.get(&permalink).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sandbox: this post was not published on Facebook"), "{html}");
    assert!(html.contains("🧪 Bakery"), "{html}");
    let first_line = kept.caption.lines().next().unwrap();
    assert!(html.contains(&tochen_domain::html::escape_html(first_line)), "{html}");
    assert_eq!(kept.media.len(), 1, "{kept:?}");
    assert!(html.contains(&format!("<img src=\"{}/media/0\"", kept.id)), "{html}");
    let image = http.get(format!("{permalink}/media/0")).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert!(image.bytes().await.unwrap().starts_with(b"\x89PNG"), "the stored image is served");
    let missing = http.get(format!("{permalink}/media/1")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let unknown = http.get(format!("{}/sandbox/{}", w.web_url, uuid::Uuid::now_v7())).send().await.unwrap();
    assert_eq!(unknown.status(), 404);

    // Two days later (the test moves the post back in time), the metrics sync reads simulated engagement.
    let two_days_ago = now_ms() - 2 * DAY_MS;
    sqlx::query("UPDATE sandbox_posts SET created_at = $1")
        .bind(two_days_ago)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    sqlx::query("UPDATE post_targets SET published_at = $1")
        .bind(two_days_ago)
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let readers = tochen_platforms::metrics_readers(&w.config, http, &store);
    let synced = sync_all(&store, &readers, SyncOptions::default(), Sources::WithSandbox, now_ms()).await.unwrap();
    assert_eq!((synced.accounts, synced.posts), (1, 1), "{synced:?}");
    let report = compute_report(&store, tenant, Period::new(now_ms() - 7 * DAY_MS, now_ms() + 1), Sources::WithSandbox)
        .await
        .unwrap();
    assert_eq!(report.totals.published, 1);
    let views = report.totals.views.expect("simulated views");
    assert!(views > 10, "two days of simulated views: {views}");
    assert!(report.totals.likes.is_some_and(|l| l > 0 && l < views), "{:?}", report.totals);
    assert!(report.simulated, "the report knows its numbers are simulated");
    let message = tochen_delivery::reports::render::telegram_html(&report, "en", chrono_tz::UTC);
    assert!(message.contains(&en("report.simulated")), "and says so: {message}");
    // Were the sandbox switched off, the same week would have nothing to report.
    let off = compute_report(&store, tenant, Period::new(now_ms() - 7 * DAY_MS, now_ms() + 1), Sources::Real);
    let off = off.await.unwrap();
    assert!(!off.has_data() && !off.simulated, "{:?}", off.totals);
    w.stop().await;
});

tochen_testkit::store_test!(with_a_real_platform_configured_the_sandbox_is_not_shown, |store, db| {
    let w = World::start(&db, &[("META_APP_ID", "meta-app"), ("META_APP_SECRET", "meta-secret")]).await;
    let (_, hello) = w.onboard().await;
    assert!(!hello.text.contains("Sandbox"), "{}", hello.text);
    let menu = w.say("/connect", "Which account do you want to connect?").await;
    let labels: Vec<&str> = menu.buttons.iter().flatten().map(|(l, _)| l.as_str()).collect();
    // The Meta app also reads ad accounts (issue 19).
    assert_eq!(labels, ["Facebook Page", "Instagram (via a Facebook Page)", "📣 Meta ad account"]);
    assert!(!menu.text.contains("Sandbox"), "{}", menu.text);
    assert!(menu.text.contains("TIKTOK_CLIENT_KEY"), "what is not set up is named: {}", menu.text);
    w.stop().await;
});

tochen_testkit::store_test!(switching_the_sandbox_off_hides_its_accounts_and_says_why_their_posts_fail, |store, db| {
    let w = World::start(&db, &[]).await;
    let (tenant, _) = w.onboard().await;
    w.schedule_a_sandbox_post().await;
    w.stop().await;

    // The operator turns the sandbox off: its accounts are no longer shown or offered.
    let w = World::start(&db, &[("TOCHEN_SANDBOX", "false")]).await;
    w.say("/accounts", &en("connect.accounts_empty")).await;
    let refused = w.say("/connect", "No account can be connected on this server yet").await;
    assert!(!refused.text.contains("🧪"), "{}", refused.text);

    // The post that was due on the sandbox account fails, saying why, and the author is told: nothing is silently
    // held back or sent anywhere else.
    let mark = w.tg.mark();
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'publish'")
        .bind(now_ms())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    store.notify_jobs_changed();
    let told = w.tg.said(ALICE, mark, "could not be posted to Facebook").await;
    assert!(told.text.contains("TOCHEN_SANDBOX"), "{}", told.text);
    let post = store.posts_with_status(tenant, &[PostStatus::Failed], 0, 10).await.unwrap().remove(0);
    let target = store.targets_of_post(tenant, post.id).await.unwrap().remove(0);
    assert_eq!(target.status, TargetStatus::Failed);
    assert!(store.sandbox_post_of_target(tenant, target.id).await.unwrap().is_none(), "nothing was published");
    w.stop().await;
});

tochen_testkit::store_test!(a_suspended_workspace_s_due_post_is_held_and_published_after_resume, |store, db| {
    let w = World::start(&db, &[]).await;
    let (tenant, _) = w.onboard().await;
    w.schedule_a_sandbox_post().await;

    // The operator suspends the workspace; then the post falls due.
    assert!(store.suspend_workspace(tenant, "cli:root").await.unwrap());
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'publish'")
        .bind(now_ms())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    store.notify_jobs_changed();
    // The scheduler's runner was woken and looked (a due job is claimed within milliseconds) but did not take the
    // held job.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let post = store.posts_with_status(tenant, &[PostStatus::Scheduled], 0, 10).await.unwrap();
    assert_eq!(post.len(), 1, "still scheduled while suspended");
    let health = store.queue_health().await.unwrap();
    assert_eq!(health.held, 1, "{health:?}");
    let target = store.targets_of_post(tenant, post[0].id).await.unwrap().remove(0);
    assert!(store.sandbox_post_of_target(tenant, target.id).await.unwrap().is_none(), "nothing was published");

    // Resumed: the held post goes out at once, and the author is told.
    let mark = w.tg.mark();
    assert!(store.resume_workspace(tenant, "cli:root").await.unwrap());
    w.tg.said(ALICE, mark, "is live on Facebook").await;
    wait_until("the post is published", || async {
        store.post(tenant, post[0].id).await.unwrap().status == PostStatus::Published
    })
    .await;
    assert!(store.sandbox_post_of_target(tenant, target.id).await.unwrap().is_some());
    w.stop().await;
});
