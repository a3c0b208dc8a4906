//! The bot started for real against the fake Bot API and the fake LLM, on a fresh database of either backend.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;
use teloxide::dispatching::UpdateHandler;
use tochen_bot::Limits;
use tochen_config::Config;
use tochen_domain::i18n::t;
use tochen_domain::{AuthKind, Platform};
use tochen_domain::{SecretString, TenantId};
use tochen_store::Store;
use tochen_store::{Account, NewAccount};
use tochen_testkit::fake_llm::FakeLlm;
use tochen_testkit::fake_telegram::{BotMessage, FakeTelegram};
use tochen_testkit::TestDb;
use tokio_util::sync::CancellationToken;

pub const ALICE: i64 = 1001;
pub const BOB: i64 = 1002;
pub const CAROL: i64 = 1003;
pub const DAVE: i64 = 1004;

pub fn en(key: &str) -> String {
    t("en", key)
}

pub struct Harness {
    pub tg: FakeTelegram,
    pub llm: FakeLlm,
    pub store: Store,
    pub config: Config,
    limits: Limits,
    /// Handlers tried before the bot's own (tests inject failures with them).
    before: Option<UpdateHandler<anyhow::Error>>,
    running: Option<(CancellationToken, tokio::task::JoinHandle<anyhow::Result<()>>)>,
    _dir: tempfile::TempDir,
}

pub fn test_limits() -> Limits {
    Limits {
        messages_per_sec_chat: 10_000,
        messages_per_min_chat: 1_000_000,
        messages_per_min_channel_or_supergroup: 1_000_000,
        messages_per_sec_overall: 10_000,
    }
}

impl Harness {
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with_options(db, test_limits(), None).await
    }

    /// A harness whose bot paces its sends with `limits` (production's: `tochen_bot::telegram_limits()`).
    pub async fn start_with_limits(db: &TestDb, limits: Limits) -> Self {
        Self::start_with_options(db, limits, None).await
    }

    /// A harness whose bot tries `before` ahead of its own handlers.
    pub async fn start_with(db: &TestDb, before: Option<UpdateHandler<anyhow::Error>>) -> Self {
        Self::start_with_options(db, test_limits(), before).await
    }

    /// A harness configured as a first try with only a bot token: no `LLM_*` variable at all, so the sandbox
    /// writer answers (the fake LLM still runs, to show it is never called).
    pub async fn start_without_llm(db: &TestDb) -> Self {
        Self::start_configured(db, test_limits(), None, false, &[]).await
    }

    /// A harness with extra (or overriding) configuration variables, e.g. the operator's.
    pub async fn start_with_env(db: &TestDb, env: &[(&str, &str)]) -> Self {
        Self::start_configured(db, test_limits(), None, true, env).await
    }

    async fn start_with_options(db: &TestDb, limits: Limits, before: Option<UpdateHandler<anyhow::Error>>) -> Self {
        Self::start_configured(db, limits, before, true, &[]).await
    }

    async fn start_configured(
        db: &TestDb,
        limits: Limits,
        before: Option<UpdateHandler<anyhow::Error>>,
        with_llm: bool,
        env: &[(&str, &str)],
    ) -> Self {
        let tg = FakeTelegram::start().await;
        let llm = FakeLlm::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut vars: Vec<(&str, String)> = vec![
            ("TELEGRAM_BOT_TOKEN", tg.token.clone()),
            ("TELEGRAM_API_URL", tg.api_url.clone()),
            ("DATABASE_URL", db.url.clone()),
            ("TOCHEN_SECRET_KEYS", db.key.clone()),
            ("TOCHEN_DATA_DIR", dir.path().display().to_string()),
            ("LLM_MONTHLY_TOKEN_QUOTA", "0".into()),
            // Most tests have several people create workspaces; the operator's policies have their own tests.
            ("TOCHEN_WORKSPACE_CREATION", "open".into()),
        ];
        if with_llm {
            vars.extend([
                ("LLM_PROVIDER", "openai_compatible".into()),
                ("LLM_BASE_URL", llm.base_url.clone()),
                ("LLM_API_KEY", "sk-test".into()),
                ("LLM_TIMEOUT_SECS", "5".into()),
            ]);
        }
        let mut vars: HashMap<String, String> = vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_source(&vars).expect("test config is valid");
        let mut h = Harness { tg, llm, store: db.store.clone(), config, limits, before, running: None, _dir: dir };
        h.boot().await;
        h
    }

    async fn boot(&mut self) {
        let mark = self.tg.mark();
        let token = CancellationToken::new();
        let options = tochen_bot::Options {
            limits: self.limits,
            llm_backoff: Duration::from_millis(5),
            before: self.before.clone(),
            ..Default::default()
        };
        let handle =
            tokio::spawn(tochen_bot::run_with(self.config.clone(), self.store.clone(), token.clone(), options));
        self.tg.wait_call(mark, |c| c.method == "getupdates").await;
        self.running = Some((token, handle));
    }

    /// Stops the bot (as a deploy would) and starts a new one on the same database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.boot().await;
    }

    pub async fn stop(&mut self) {
        if let Some((token, handle)) = self.running.take() {
            token.cancel();
            tokio::time::timeout(Duration::from_secs(20), handle).await.expect("bot stops").unwrap().unwrap();
        }
    }

    /// `user` types `text` in their private chat and the bot answers with a message containing `needle`.
    pub async fn say(&self, user: i64, text: &str, needle: &str) -> BotMessage {
        let mark = self.tg.mark();
        self.tg.send_text(user, text);
        self.tg.said(user, mark, needle).await
    }

    /// `user` presses `label` on `msg`; the bot shows something containing `needle` in `chat`.
    pub async fn press(&self, user: i64, msg: &BotMessage, label: &str, needle: &str) -> BotMessage {
        let mark = self.tg.mark();
        self.tg.press(user, msg, label);
        self.tg.said(msg.chat_id, mark, needle).await
    }

    /// `user` presses a button with raw `data` on `msg`; the bot answers the press with a notice containing
    /// `needle`.
    pub async fn press_data_refused(&self, user: i64, msg: &BotMessage, data: &str, needle: &str) -> String {
        let mark = self.tg.mark();
        self.tg.press_as(msg.chat_id, user, msg.message_id, data);
        self.tg.answered(mark, needle).await
    }

    /// Runs the queued `notify` jobs through the scheduler's own notify handler against the fake Bot API, as its
    /// runner would (claim, run, complete), until none is due, and returns their messages. A job that fails
    /// fails the test.
    pub async fn run_notify_jobs(&self) -> Vec<tochen_domain::jobs::NotifyPayload> {
        use tochen_scheduler::handlers::notify::NotifyHandler;
        use tochen_scheduler::{RunJob, TelegramNotifier};
        let notifier =
            TelegramNotifier::new(&self.tg.token, self.tg.api_url.parse().unwrap(), self._dir.path().to_owned());
        let handler = NotifyHandler { notifier: std::sync::Arc::new(notifier) };
        let kinds = [tochen_domain::jobs::NOTIFY.to_owned()];
        let req = tochen_store::ClaimRequest {
            owner: "test-notifier",
            limit: 100,
            lease_ms: 60_000,
            per_key: 100,
            kinds: &kinds,
        };
        let mut out = Vec::new();
        loop {
            let jobs = self.store.claim_jobs(&req).await.unwrap();
            if jobs.is_empty() {
                return out;
            }
            for job in jobs {
                let m: tochen_domain::jobs::NotifyPayload = serde_json::from_value(job.payload.clone()).unwrap();
                if let Err(e) = handler.run(&self.store, &job).await {
                    panic!("notify job to {} failed: {e}", m.chat_id);
                }
                assert!(self.store.complete_job(job.id, job.attempts, "test-notifier").await.unwrap());
                out.push(m);
            }
        }
    }

    pub async fn connect_accounts(&self, tenant: TenantId) -> Vec<Account> {
        let mut out = Vec::new();
        for (platform, kind, name) in [
            (Platform::Instagram, AuthKind::InstagramViaPage, "bloomcoffee"),
            (Platform::Facebook, AuthKind::FacebookPage, "Bloom Coffee"),
        ] {
            let acc = self
                .store
                .upsert_account(
                    tenant,
                    &NewAccount {
                        platform,
                        auth_kind: kind,
                        external_id: format!("ext-{name}"),
                        name: name.into(),
                        access_token: SecretString::new("token"),
                        refresh_token: None,
                        scopes: vec![],
                        token_expires_at: None,
                        refresh_expires_at: None,
                        connected_by: None,
                    },
                )
                .await
                .unwrap();
            out.push(acc);
        }
        out
    }

    /// Goes through first contact quickly: name, then skip every question.
    pub async fn onboard(&self, user: i64, name: &str) -> TenantId {
        self.say(user, "/start", "What's it called").await;
        let m = self.say(user, name, "in a sentence or two").await;
        let m = self.press(user, &m, &en("bot.profile.skip"), "Describe your audience").await;
        let m = self.press(user, &m, &en("bot.profile.skip"), "Tone of voice").await;
        let m = self.press(user, &m, &en("bot.tone.friendly"), "posts and reports").await;
        let m = self.press(user, &m, &en("bot.profile.skip"), "Time zone").await;
        self.press(user, &m, &en("bot.profile.tz_keep"), "All set").await;
        self.store.user_by_telegram_id(user).await.unwrap().unwrap().active_tenant_id.unwrap()
    }

    /// A post titled `title` with `text`, scheduled at `at` on `accounts`, then set to `status` with its targets
    /// (published ones at `at`, with a permalink).
    pub async fn post(
        &self,
        a: TenantId,
        title: &str,
        text: &str,
        accounts: &[tochen_domain::AccountId],
        at: i64,
        status: tochen_domain::PostStatus,
    ) -> (tochen_store::Post, Vec<tochen_domain::TargetId>) {
        let store = &self.store;
        let p = store.create_draft(a, None, None, title, "").await.unwrap();
        let edit = tochen_store::PostEdit::MainText {
            body: text.into(),
            hashtags: None,
            platforms: vec![Platform::Facebook, Platform::Instagram],
        };
        store.edit_post(a, p.id, p.version, &edit, None).await.unwrap();
        let p = store.post(a, p.id).await.unwrap();
        let targets = store.schedule_post(a, p.id, p.version, at, accounts, false).await.unwrap();
        if status == tochen_domain::PostStatus::Published {
            for t in &targets {
                sqlx::query(
                    "UPDATE post_targets SET status = 'published', permalink = $1, published_at = $2, \
                     platform_post_id = $3 WHERE id = $4",
                )
                .bind(format!("https://example.com/p/{}", t.id.to_db()))
                .bind(at)
                .bind(format!("pp-{}", t.id.to_db()))
                .bind(t.id.to_db())
                .execute(store.sql_for_tests())
                .await
                .unwrap();
            }
            sqlx::query("UPDATE posts SET status = 'published' WHERE id = $1")
                .bind(p.id.to_db())
                .execute(store.sql_for_tests())
                .await
                .unwrap();
        }
        (store.post(a, p.id).await.unwrap(), targets.iter().map(|t| t.id).collect())
    }

    /// A reading of a target's counters captured at `at`.
    pub async fn snapshot(
        &self,
        a: TenantId,
        target: tochen_domain::TargetId,
        at: i64,
        values: tochen_store::MetricValues,
    ) {
        let t = self.store.target(a, target).await.unwrap();
        let s = tochen_store::NewSnapshot {
            account_id: t.account_id,
            target_id: Some(target),
            platform: t.platform,
            captured_at: at,
            values,
            raw: serde_json::json!({}),
        };
        self.store.insert_metrics_snapshot(a, &s).await.unwrap();
    }
}

pub fn identity(id: i64) -> tochen_store::TelegramIdentity {
    tochen_store::TelegramIdentity {
        telegram_id: id,
        username: None,
        first_name: format!("User{id}"),
        last_name: None,
        language_code: Some("en".into()),
    }
}

/// Runs `$body` with a started `Harness` named `$h` on SQLite and on PostgreSQL (when TEST_DATABASE_URL is set);
/// `limits = ...` gives its bot other sending limits than the tests' unthrottled ones, `without_llm` configures no
/// LLM at all (the sandbox writer), `env = &[(name, value), ...]` adds or overrides configuration variables.
#[macro_export]
macro_rules! bot_test {
    ($name:ident, |$h:ident| $body:block) => {
        $crate::bot_test!($name, limits = common::test_limits(), |$h| $body);
    };
    ($name:ident, without_llm, |$h:ident| $body:block) => {
        $crate::bot_test!(@run $name, |db| common::Harness::start_without_llm(db), |$h| $body);
    };
    ($name:ident, env = $env:expr, |$h:ident| $body:block) => {
        $crate::bot_test!(@run $name, |db| common::Harness::start_with_env(db, $env), |$h| $body);
    };
    ($name:ident, limits = $limits:expr, |$h:ident| $body:block) => {
        $crate::bot_test!(@run $name, |db| common::Harness::start_with_limits(db, $limits), |$h| $body);
    };
    (@run $name:ident, |$db:ident| $start:expr, |$h:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let owned = tochen_testkit::TestDb::sqlite().await;
                let $db = &owned;
                #[allow(unused_mut)]
                let mut $h = $start.await;
                $body
                $h.stop().await;
                owned.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(owned) = tochen_testkit::TestDb::postgres().await else { return };
                let $db = &owned;
                #[allow(unused_mut)]
                let mut $h = $start.await;
                $body
                $h.stop().await;
                owned.cleanup().await;
            }
        }
    };
}
