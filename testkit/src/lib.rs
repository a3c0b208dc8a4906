//! Dev-only helpers for tochen's tests: fresh databases on both backends and (in later modules) fake external
//! services that follow `docs/contracts/`.
//!
//! Every store test runs twice through [`store_test!`]: on a temporary SQLite file and on a fresh PostgreSQL
//! database created from `TEST_DATABASE_URL`. Without that variable the PostgreSQL half is skipped with a note,
//! unless `TOCHEN_REQUIRE_POSTGRES=1` (set by `.ci/run`) turns the skip into a failure.

pub mod cargo;
pub mod db;
pub mod fake_ads;
pub mod fake_graph;
pub mod fake_llm;
pub mod fake_meta_ads;
pub mod fake_platform;
pub mod fake_server;
pub mod fake_telegram;
pub mod fake_tiktok;
pub mod fake_tiktok_ads;
pub mod images;
pub mod media_check;
pub mod media_host;
pub mod props;
pub mod smtp_sink;
pub mod video;
pub mod webhook_load;
pub mod webhook_receiver;

pub use db::TestDb;

/// A successful OpenAI call of `model` using `tokens` tokens (split between prompt and completion) and costing
/// `cost_micros` millionths of a dollar.
pub fn llm_call(model: &str, tokens: i64, cost_micros: i64) -> tochen_store::LlmUsageRecord {
    tochen_store::LlmUsageRecord {
        user_id: None,
        provider: "openai".into(),
        model: model.into(),
        request_type: "post".into(),
        prompt_tokens: tokens / 2,
        completion_tokens: tokens - tokens / 2,
        images: 0,
        cost_micros,
        latency_ms: 5,
        error: None,
    }
}

/// A Telegram user as the bot sees one: `name` is the first name, the interface language English.
pub fn person(telegram_id: i64, name: &str) -> tochen_store::TelegramIdentity {
    tochen_store::TelegramIdentity {
        telegram_id,
        username: None,
        first_name: name.into(),
        last_name: None,
        language_code: Some("en".into()),
    }
}

/// Defines a test module `$name` with two tests, `sqlite` and `postgres`, each running `$body` with `$store`
/// bound to a migrated `tochen_store::Store` on a fresh database of that backend. The form
/// `|store, db|` also binds the `TestDb` (its URL and Fernet key).
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$store:ident| $body:block) => {
        $crate::store_test!($name, |$store, _db| $body);
    };
    ($name:ident, |$store:ident, $db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $db = $crate::TestDb::sqlite().await;
                #[allow(unused_variables)]
                let $store = $db.store.clone();
                $body
                $db.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($db) = $crate::TestDb::postgres().await else { return };
                #[allow(unused_variables)]
                let $store = $db.store.clone();
                $body
                $db.cleanup().await;
            }
        }
    };
}
