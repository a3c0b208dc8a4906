//! Talking to the LLM in a chat, shared by the flows that generate: the typing action, the platforms to write
//! for, and what a person reads when generation fails.

use crate::ctx::{Active, App, Ctx, TgBot};
use teloxide::prelude::*;
use teloxide::types::ChatAction;
use tochen_domain::i18n::{t, tf};
use tochen_domain::{AccountStatus, Platform};
use tochen_llm::LlmError;
use tochen_platforms::Rules;

/// What a person reads when generation fails: specific, with what to do next.
pub fn llm_error_text(lang: &str, e: &LlmError) -> String {
    match e {
        LlmError::QuotaExhausted { used, quota } => tf(lang, "llm.error.quota", &[("used", used), ("quota", quota)]),
        LlmError::ProviderQuota => t(lang, "llm.error.provider_quota"),
        LlmError::RateLimited(_) | LlmError::Throttled(_) => t(lang, "llm.error.rate_limited"),
        LlmError::Timeout(_) => t(lang, "llm.error.timeout"),
        LlmError::Truncated => t(lang, "llm.error.truncated"),
        LlmError::Malformed(_) => t(lang, "llm.error.malformed"),
        LlmError::Provider { .. } | LlmError::Network(_) => t(lang, "llm.error.provider"),
        LlmError::Io(_) | LlmError::Store(_) | LlmError::Placeholder(_) => t(lang, "error.internal"),
    }
}

/// The line that marks what the sandbox writer produced (no LLM configured), or nothing when an LLM writes.
pub fn sandbox_note(app: &App, lang: &str) -> Option<String> {
    app.llm.is_sandbox().then(|| t(lang, "bot.sandbox.note"))
}

pub async fn typing(bot: &TgBot, ctx: &Ctx) {
    if let Err(e) = bot.send_chat_action(ctx.chat_id, ChatAction::Typing).await {
        tracing::debug!(error = %e, "typing action failed");
    }
}

/// The rules of the platforms to draft for: those with a connected account, or all of them when none is connected
/// yet.
pub async fn draft_rules(app: &App, a: &Active) -> anyhow::Result<Vec<Rules>> {
    let accounts = app.accounts(a.tenant.id).await?;
    let mut platforms: Vec<Platform> = Platform::ALL
        .iter()
        .copied()
        .filter(|p| accounts.iter().any(|acc| acc.platform == *p && acc.status != AccountStatus::Disconnected))
        .collect();
    if platforms.is_empty() {
        platforms = Platform::ALL.to_vec();
    }
    Ok(platforms.into_iter().map(|p| app.rules.get(p)).collect())
}

/// The versions an LLM draft writes: each following the main text, which is the first one's text.
pub fn llm_versions(texts: &[tochen_llm::DraftText]) -> tochen_store::PostEdit {
    let contents: Vec<tochen_store::PostContent> = texts
        .iter()
        .map(|x| tochen_store::PostContent {
            platform: x.platform,
            body: x.body.clone(),
            hashtags: x.hashtags.clone(),
            link: None,
            custom: false,
        })
        .collect();
    let main = contents.first().map(|c| c.body.clone());
    tochen_store::PostEdit::Versions { contents, main }
}
