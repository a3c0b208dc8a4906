//! The typed tasks the bot asks for: post ideas, a draft per platform, a rewrite.
//!
//! Each task owns its prompt, its JSON schema and the check that a parsed answer really fits (the model may
//! return valid JSON of the wrong shape); the check failing counts as a malformed answer and is retried once.
//! Prompts are English instructions; the answer's language is the workspace's. Without an LLM
//! (`LlmClient::is_sandbox`) every task is answered by the sandbox writer instead.

use super::client::{CallContext, LlmClient, LlmError};
use super::sandbox;
use super::types::{Draft, DraftText, Idea};
use serde_json::{json, Value};
use tochen_domain::Platform;
use tochen_platforms::Rules;
use tochen_store::TenantProfile;

fn profile_brief(p: &TenantProfile, name: &str) -> String {
    format!(
        "Business: {name}. What it does: {}. Audience: {}. Tone of voice: {}. Write in language code \"{}\".",
        or_unknown(&p.business_description),
        or_unknown(&p.target_audience),
        p.tone,
        p.language
    )
}

fn or_unknown(s: &str) -> &str {
    if s.trim().is_empty() {
        "not given"
    } else {
        s
    }
}

/// The platforms' rules as the prompt states them, from the same numbers the draft check and publisher use.
fn platform_rules(rules: &[Rules]) -> String {
    rules.iter().map(Rules::prompt_hint).collect::<Vec<_>>().join("; ")
}

fn clean_tag(t: &str) -> Option<String> {
    let t: String = t.trim().trim_start_matches('#').chars().filter(|c| c.is_alphanumeric() || *c == '_').collect();
    (!t.is_empty()).then_some(t)
}

impl LlmClient {
    /// `count` post ideas about `topic` (or anything fitting the profile), avoiding `avoid`.
    pub async fn ideas(
        &self,
        ctx: CallContext,
        name: &str,
        profile: &TenantProfile,
        topic: &str,
        count: usize,
        avoid: &[String],
    ) -> Result<Vec<Idea>, LlmError> {
        if self.is_sandbox() {
            return Ok(sandbox::ideas(name, profile, topic, count, avoid));
        }
        let system = format!(
            "You plan social media posts for a small business. {} Answer with JSON only: \
             {{\"ideas\": [{{\"title\": short headline, \"angle\": one sentence}}]}}.",
            profile_brief(profile, name)
        );
        let mut user = format!("Give {count} distinct post ideas");
        if !topic.trim().is_empty() {
            user.push_str(&format!(" about: {topic}"));
        }
        if !avoid.is_empty() {
            user.push_str(&format!(". Different from these: {}", avoid.join("; ")));
        }
        let schema = json!({
            "type": "object", "additionalProperties": false, "required": ["ideas"],
            "properties": {"ideas": {"type": "array", "items": {
                "type": "object", "additionalProperties": false, "required": ["title", "angle"],
                "properties": {"title": {"type": "string"}, "angle": {"type": "string"}}}}}
        });
        let model = self.config().models.ideas.clone();
        let v = self
            .chat_json(ctx, "ideas", &model, &system, &user, "ideas", schema, |v| {
                let ok =
                    v["ideas"].as_array().is_some_and(|a| !a.is_empty() && a.iter().all(|i| i["title"].is_string()));
                if ok {
                    Ok(())
                } else {
                    Err("expected {\"ideas\": [{\"title\", \"angle\"}]}".into())
                }
            })
            .await?;
        let ideas: Vec<Idea> = v["ideas"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| Idea {
                title: i["title"].as_str().unwrap_or_default().trim().to_owned(),
                angle: i["angle"].as_str().unwrap_or_default().trim().to_owned(),
            })
            .filter(|i| !i.title.is_empty())
            .take(count)
            .collect();
        Ok(ideas)
    }

    /// A draft of `idea` for each platform whose `rules` are given: text, hashtags and an image prompt.
    pub async fn draft(
        &self,
        ctx: CallContext,
        name: &str,
        profile: &TenantProfile,
        idea: &str,
        rules: &[Rules],
    ) -> Result<Draft, LlmError> {
        if self.is_sandbox() {
            return Ok(sandbox::draft(name, profile, idea, rules));
        }
        let platforms: Vec<Platform> = rules.iter().map(|r| r.platform).collect();
        let system = format!(
            "You write social media posts for a small business. {} Rules per platform: {}. Hashtags without '#'. \
             Answer with JSON only: {{\"title\", \"image_prompt\", \"posts\": [{{\"platform\", \"body\", \"hashtags\"}}]}}.",
            profile_brief(profile, name),
            platform_rules(rules)
        );
        let names: Vec<&str> = platforms.iter().map(|p| p.as_str()).collect();
        let user = format!("Write the post for this idea: {idea}. Platforms: {}.", names.join(", "));
        let schema = json!({
            "type": "object", "additionalProperties": false, "required": ["title", "image_prompt", "posts"],
            "properties": {
                "title": {"type": "string"}, "image_prompt": {"type": "string"},
                "posts": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                    "required": ["platform", "body", "hashtags"],
                    "properties": {"platform": {"type": "string", "enum": names},
                        "body": {"type": "string"}, "hashtags": {"type": "array", "items": {"type": "string"}}}}}
            }
        });
        let model = self.config().models.post.clone();
        let v = self
            .chat_json(ctx, "post", &model, &system, &user, "draft", schema, |v| {
                let posts = v["posts"].as_array().filter(|a| !a.is_empty());
                let ok = posts.is_some_and(|a| {
                    a.iter()
                        .any(|p| p["body"].is_string() && p["platform"].as_str().and_then(Platform::parse).is_some())
                });
                if ok {
                    Ok(())
                } else {
                    Err("expected {\"posts\": [{\"platform\", \"body\", \"hashtags\"}]}".into())
                }
            })
            .await?;
        Ok(parse_draft(&v, &platforms))
    }

    /// Rewrites one text following `instruction` ("shorter", "more playful") within its platform's `rules`.
    pub async fn rewrite(
        &self,
        ctx: CallContext,
        name: &str,
        profile: &TenantProfile,
        current: &DraftText,
        rules: &Rules,
        instruction: &str,
    ) -> Result<DraftText, LlmError> {
        if self.is_sandbox() {
            return Ok(sandbox::rewrite(profile, current, rules, instruction));
        }
        let system = format!(
            "You edit social media posts for a small business. {} Rules: {}. Hashtags without '#'. \
             Answer with JSON only: {{\"body\", \"hashtags\"}}.",
            profile_brief(profile, name),
            platform_rules(std::slice::from_ref(rules))
        );
        let user = format!(
            "Rewrite this {} post. Instruction: {instruction}\n\nPost:\n{}\n\nHashtags: {}",
            current.platform,
            current.body,
            current.hashtags.join(" ")
        );
        let schema = json!({
            "type": "object", "additionalProperties": false, "required": ["body", "hashtags"],
            "properties": {"body": {"type": "string"}, "hashtags": {"type": "array", "items": {"type": "string"}}}
        });
        let model = self.config().models.rewrite.clone();
        let v = self
            .chat_json(ctx, "rewrite", &model, &system, &user, "rewrite", schema, |v| {
                if v["body"].as_str().is_some_and(|b| !b.trim().is_empty()) {
                    Ok(())
                } else {
                    Err("expected {\"body\", \"hashtags\"}".into())
                }
            })
            .await?;
        Ok(DraftText {
            platform: current.platform,
            body: v["body"].as_str().unwrap_or_default().trim().to_owned(),
            hashtags: tags(&v["hashtags"]),
        })
    }
}

fn tags(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|t| t.as_str()).filter_map(clean_tag).collect()
}

/// Keeps the platforms asked for; a platform the model skipped gets the first text it did write.
fn parse_draft(v: &Value, platforms: &[Platform]) -> Draft {
    let written: Vec<DraftText> = v["posts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some(DraftText {
                platform: Platform::parse(p["platform"].as_str()?)?,
                body: p["body"].as_str()?.trim().to_owned(),
                hashtags: tags(&p["hashtags"]),
            })
        })
        .collect();
    let texts = platforms
        .iter()
        .filter_map(|pl| {
            written
                .iter()
                .find(|w| w.platform == *pl)
                .or(written.first())
                .map(|w| DraftText { platform: *pl, ..w.clone() })
        })
        .collect();
    Draft {
        title: v["title"].as_str().unwrap_or_default().trim().to_owned(),
        image_prompt: v["image_prompt"].as_str().unwrap_or_default().trim().to_owned(),
        texts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_platform_borrows_the_first_text_and_hashes_are_stripped() {
        let v = json!({"title": "T", "image_prompt": "P", "posts": [
            {"platform": "instagram", "body": "hello", "hashtags": ["#coffee", "lisbon", "##"]}]});
        let d = parse_draft(&v, &[Platform::Instagram, Platform::Facebook]);
        assert_eq!(d.texts.len(), 2);
        assert_eq!(d.texts[1].platform, Platform::Facebook);
        assert_eq!(d.texts[1].body, "hello");
        assert_eq!(d.texts[0].hashtags, vec!["coffee", "lisbon"]);
    }
}
