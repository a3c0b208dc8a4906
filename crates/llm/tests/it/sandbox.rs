//! The client without an LLM: which configurations mean "no LLM" (the sandbox writer answers, nothing is sent,
//! nothing is counted) and which still call a server without a key, as before the sandbox writer existed.

use super::llm::{config, profile};
use std::time::Duration;
use tochen_config::{LlmConfig, LlmProvider};
use tochen_domain::Platform;
use tochen_llm::{CallContext, DraftText, LlmClient};
use tochen_store::Store;
use tochen_testkit::fake_llm::FakeLlm;
use tochen_testkit::store_test;

fn without_key(provider: LlmProvider, base: Option<&str>) -> LlmConfig {
    let mut c = config("http://127.0.0.1:9/v1");
    c.api_key = None;
    c.provider = provider;
    c.base_url = base.unwrap_or(provider.default_base_url()).parse().unwrap();
    c
}

async fn tenant(store: &Store) -> CallContext {
    let who = tochen_store::TelegramIdentity {
        telegram_id: 7,
        username: None,
        first_name: "A".into(),
        last_name: None,
        language_code: None,
    };
    let user = store.upsert_user(&who).await.unwrap();
    let tenant = store.create_tenant("Bloom Coffee", &profile(), 0, user.id).await.unwrap();
    CallContext { tenant: tenant.id, user: None }
}

fn client(store: &Store, config: LlmConfig, dir: &tempfile::TempDir) -> LlmClient {
    LlmClient::new(config, store.clone(), dir.path().to_owned()).unwrap().with_backoff(Duration::from_millis(5))
}

store_test!(without_a_key_for_a_hosted_provider_the_sandbox_writer_answers_and_nothing_is_counted, |store| {
    let ctx = tenant(&store).await;
    let dir = tempfile::tempdir().unwrap();
    for provider in [LlmProvider::OpenAi, LlmProvider::Anthropic, LlmProvider::Gemini] {
        let c = client(&store, without_key(provider, None), &dir);
        assert!(c.is_sandbox(), "{provider:?}");
        // A spent quota does not stop it: its answers cost nothing.
        store.set_workspace_quota(ctx.tenant, 1, "test").await.unwrap();
        let ideas = c.ideas(ctx, "Bloom Coffee", &profile(), "latte art", 5, &[]).await.unwrap();
        assert_eq!(ideas.len(), 5);
        let idea = format!("{}: {}", ideas[0].title, ideas[0].angle);
        let defaults = tochen_config::Config::from_source(&std::collections::HashMap::<String, String>::new()).unwrap();
        let rules: Vec<_> = Platform::ALL.iter().map(|p| tochen_platforms::registry::rules(&defaults, *p)).collect();
        let draft = c.draft(ctx, "Bloom Coffee", &profile(), &idea, &rules).await.unwrap();
        assert_eq!(draft.texts.len(), Platform::ALL.len());
        let current: &DraftText = &draft.texts[0];
        let r = c.rewrite(ctx, "Bloom Coffee", &profile(), current, &rules[0], "shorter").await.unwrap();
        assert!(r.body.len() < current.body.len());
        let media = c.image(ctx, &draft.image_prompt).await.unwrap();
        assert_eq!(media.info.source, "sandbox");
        assert_eq!(media.info.content_type, "image/png");
        let bytes = std::fs::read(dir.path().join(&media.info.storage_path)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }
    assert_eq!(store.llm_usage_since(ctx.tenant, 0).await.unwrap().calls, 0, "no usage row for template answers");
});

store_test!(a_local_server_or_another_base_url_is_still_called_without_a_key, |store| {
    let ctx = tenant(&store).await;
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeLlm::start().await;
    for provider in [LlmProvider::OpenAiCompatible, LlmProvider::OpenAi] {
        let c = client(&store, without_key(provider, Some(&fake.base_url)), &dir);
        assert!(!c.is_sandbox(), "{provider:?}");
        c.ideas(ctx, "Bloom Coffee", &profile(), "", 3, &[]).await.unwrap();
    }
    assert_eq!(fake.requests().len(), 2);
    // The default local server (Ollama's address) is an LLM too, key or not.
    assert!(!client(&store, without_key(LlmProvider::OpenAiCompatible, None), &dir).is_sandbox());
    // And a key always means the LLM.
    assert!(!client(&store, config(&fake.base_url), &dir).is_sandbox());
});
