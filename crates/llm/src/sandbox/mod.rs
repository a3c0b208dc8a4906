//! The sandbox writer: what answers ideas, drafts, rewrites and images when no LLM is configured, so the whole flow
//! works with only a bot token.
//!
//! Everything is built from templates (`templates.rs`, one table per language the bot speaks) filled from the
//! workspace's profile, and from placeholder pictures drawn locally (`image.rs`). No network, no clock, no
//! randomness: the same inputs give the same answer, and different topics or `avoid` lists give different ones
//! because the choice of templates is seeded from the inputs. Texts respect the platform's `Rules` as the
//! platform counts them: a draft stays under `aim_caption` with a hashtag count inside `aim_hashtags`, a rewrite
//! never goes over `max_caption` or `max_hashtags`.
//!
//! The bot marks what this writer produced (🧪) whenever `LlmClient::is_sandbox` is true.

mod image;
mod templates;

pub use image::{placeholder_png, PlaceholderError, SIZE};

use super::types::{Draft, DraftText, Idea};
use templates::Lang;
use tochen_platforms::rules::caption;
use tochen_platforms::Rules;
use tochen_store::TenantProfile;

/// FNV-1a over `parts` (separated), stable across runs, machines and Rust versions.
pub(crate) fn seed(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.as_bytes().iter().chain([0xffu8].iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// One line of free text from the profile: trimmed, on one line, at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s,
    }
}

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// `count` distinct ideas about `topic` (the workspace itself without one), none of them in `avoid`.
pub fn ideas(name: &str, profile: &TenantProfile, topic: &str, count: usize, avoid: &[String]) -> Vec<Idea> {
    let l = templates::lang(&profile.language);
    let name = one_line(name, 60);
    let topic = if topic.trim().is_empty() { name.clone() } else { one_line(topic, 80) };
    let audience = audience(l, profile);
    let mut parts = vec![
        l.code,
        name.as_str(),
        profile.business_description.as_str(),
        profile.target_audience.as_str(),
        profile.tone.as_str(),
        topic.as_str(),
    ];
    parts.extend(avoid.iter().map(String::as_str));
    let s = seed(&parts);
    // The frames in an order of their own for these inputs.
    let mut order: Vec<usize> = (0..l.ideas.len()).collect();
    order.sort_by_key(|i| seed(&[&s.to_string(), &i.to_string()]));
    let vars = [("name", name.as_str()), ("topic", topic.as_str()), ("audience", audience.as_str())];
    let mut out: Vec<Idea> = Vec::new();
    for round in 1.. {
        for &i in &order {
            if out.len() >= count {
                return out;
            }
            let (title, angle) = l.ideas[i];
            let mut title = fill(title, &vars);
            if round > 1 {
                title = fill(l.again, &[("title", &title), ("n", &round.to_string())]);
            }
            if avoid.iter().any(|a| same(a, &title)) || out.iter().any(|o| same(&o.title, &title)) {
                continue;
            }
            out.push(Idea { title, angle: fill(angle, &vars) });
        }
        // Every title of this round was avoided; the next round's titles differ from all of them.
        if round > avoid.len() + count + 1 {
            break;
        }
    }
    out
}

fn audience(l: &Lang, profile: &TenantProfile) -> String {
    let a = one_line(&profile.target_audience, 100);
    if a.is_empty() {
        l.audience_fallback.to_owned()
    } else {
        a
    }
}

/// Splits the idea as the bot passes it ("title: angle"); an idea without an angle is all title.
fn split_idea(idea: &str) -> (String, String) {
    match idea.rsplit_once(": ") {
        Some((t, a)) if !t.trim().is_empty() => (one_line(t, 200), one_line(a, 400)),
        _ => (one_line(idea, 200), String::new()),
    }
}

/// A draft of `idea` for each platform of `rules`.
pub fn draft(name: &str, profile: &TenantProfile, idea: &str, rules: &[Rules]) -> Draft {
    let l = templates::lang(&profile.language);
    let (title, angle) = split_idea(idea);
    let audience = audience(l, profile);
    let business = one_line(&profile.business_description, 300);
    let hook = match profile.tone.as_str() {
        "professional" => title.clone(),
        "playful" => format!("🎉 {title} 🎉"),
        "bold" => format!("🔥 {title}"),
        _ => format!("😊 {title}"),
    };
    // In the order they are given up when the platform wants a shorter post; drawn in the order of `shown`.
    let about = (!business.is_empty()).then(|| fill(l.about, &[("business", &business)]));
    let made_for = (!profile.target_audience.trim().is_empty()).then(|| fill(l.audience, &[("audience", &audience)]));
    let paragraphs: Vec<(u8, String)> = [
        (0, Some(hook)),
        (1, (!angle.is_empty()).then(|| angle.clone())),
        (4, Some(l.cta.get(&profile.tone).to_owned())),
        (2, about),
        (3, made_for),
    ]
    .into_iter()
    .filter_map(|(place, p)| p.map(|p| (place, p)))
    .collect();
    let tags = hashtags(l, name, profile, &title);
    let texts = rules
        .iter()
        .map(|r| {
            let limit = r.aim_caption.min(r.max_caption);
            let (low, high) = (r.aim_hashtags.0.min(r.max_hashtags), r.aim_hashtags.1.min(r.max_hashtags));
            let want = (low + high).div_ceil(2).clamp(low, high);
            let tags: Vec<String> = tags.iter().take(want).cloned().collect();
            // Paragraphs in priority order while they fit; then drawn in reading order.
            let mut kept: Vec<(u8, String)> = Vec::new();
            for p in &paragraphs {
                let mut next = kept.clone();
                next.push(p.clone());
                if kept.is_empty() || r.length(&caption(&join(&next), &tags)) <= limit {
                    kept = next;
                }
            }
            let (body, tags) = fit(r, limit, join(&kept), tags);
            DraftText { platform: r.platform, body, hashtags: tags }
        })
        .collect();
    let image_prompt = fill(l.image_prompt, &[("title", &title), ("audience", &audience)]);
    Draft { title, image_prompt, texts }
}

fn join(paragraphs: &[(u8, String)]) -> String {
    let mut p = paragraphs.to_vec();
    p.sort_by_key(|(place, _)| *place);
    p.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join("\n\n")
}

/// Hashtags from the workspace's name, the idea's words and the business description, then the language's
/// generic ones; distinct, in that order.
fn hashtags(l: &Lang, name: &str, profile: &TenantProfile, title: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |t: String| {
        if !t.is_empty() && t.chars().count() <= 30 && !out.contains(&t) {
            out.push(t);
        }
    };
    push(name.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase());
    let words = |s: &str, min: usize| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= min && !w.chars().all(|c| c.is_numeric()))
            .map(str::to_lowercase)
            .collect()
    };
    for w in words(&profile.business_description, 6) {
        push(w);
    }
    for w in words(title, 5) {
        push(w);
    }
    for t in l.tags {
        push(t.to_owned());
    }
    out
}

/// Makes `body` and `tags` fit `limit` as the platform counts: the body is cut (with "…") first, and hashtags
/// are dropped only when they alone would not leave room for any text.
fn fit(r: &Rules, limit: usize, body: String, mut tags: Vec<String>) -> (String, Vec<String>) {
    loop {
        if r.length(&caption(&body, &tags)) <= limit {
            return (body, tags);
        }
        let tags_len = if tags.is_empty() { 0 } else { r.length(&caption("", &tags)) };
        if tags.is_empty() || tags_len + 2 <= limit {
            return (clip(r, &body, limit.saturating_sub(tags_len)), tags);
        }
        tags.pop();
    }
}

/// The longest start of `text` that, with "…", is at most `budget` long as the platform counts.
fn clip(r: &Rules, text: &str, budget: usize) -> String {
    if r.length(text) <= budget {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = r.length("…");
    for c in text.chars() {
        let n = r.length(c.encode_utf8(&mut [0; 4]));
        if used + n > budget {
            break;
        }
        used += n;
        out.push(c);
    }
    let mut out = out.trim_end().to_owned();
    if r.length(&out) + r.length("…") <= budget {
        out.push('…');
    }
    out
}

/// What a rewrite instruction asks for, as far as templates can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Shorter,
    Longer,
    Formal,
    Emojis,
    /// Anything else: the text is restructured (sentences as a list, or a list back into one paragraph).
    Restructure,
}

const SHORTER: &[&str] = &[
    "short",
    "brief",
    "concise",
    "trim",
    "корот",
    "короч",
    "кратк",
    "сократ",
    "стисл",
    "скороч",
    "corto",
    "breve",
    "acort",
    "kürz",
    "kurz",
    "knapp",
];
const LONGER: &[&str] = &[
    "long",
    "detail",
    "expand",
    "длинн",
    "длиннее",
    "подробн",
    "расшир",
    "довш",
    "довг",
    "детальн",
    "largo",
    "detall",
    "ampl",
    "läng",
    "ausführlich",
];
const FORMAL: &[&str] = &[
    "formal",
    "profession",
    "serious",
    "официальн",
    "формальн",
    "делов",
    "серьёзн",
    "серьезн",
    "офіційн",
    "діловий",
    "серйозн",
    "profesional",
    "serio",
    "förmlich",
    "formell",
    "seriös",
];
const EMOJIS: &[&str] = &["emoji", "emoticon", "smiley", "смайл", "эмодзи", "емодзі", "емоджі"];

impl Change {
    pub fn of(instruction: &str) -> Self {
        let i = instruction.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| i.contains(w));
        if has(EMOJIS) {
            Change::Emojis
        } else if has(SHORTER) {
            Change::Shorter
        } else if has(LONGER) {
            Change::Longer
        } else if has(FORMAL) {
            Change::Formal
        } else {
            Change::Restructure
        }
    }
}

fn is_emoji(c: char) -> bool {
    matches!(u32::from(c), 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0xFE0F | 0x200D | 0x2B50 | 0x2B55 | 0x2934..=0x2935)
}

fn paragraphs(body: &str) -> Vec<String> {
    body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

/// Sentences of a paragraph, each with its closing punctuation.
fn sentences(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        if matches!(c, '.' | '!' | '?' | '…') && chars.peek().is_none_or(|n| n.is_whitespace()) {
            out.push(cur.trim().to_owned());
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// `current` rewritten as `instruction` asks, within the platform's `rules`.
pub fn rewrite(profile: &TenantProfile, current: &DraftText, rules: &Rules, instruction: &str) -> DraftText {
    let l = templates::lang(&profile.language);
    let paras = paragraphs(&current.body);
    let mut tags = current.hashtags.clone();
    let change = Change::of(instruction);
    let body = match change {
        Change::Shorter => {
            let low = rules.aim_hashtags.0.min(rules.max_hashtags);
            tags.truncate(low.max(tags.len() / 2));
            let target = rules.length(&current.body) / 2;
            if paras.len() > 1 {
                paras[..paras.len().div_ceil(2)].join("\n\n")
            } else {
                let s = sentences(&current.body);
                if s.len() > 1 {
                    s[..s.len().div_ceil(2)].join(" ")
                } else {
                    clip(rules, current.body.trim(), target.max(2))
                }
            }
        }
        Change::Longer => {
            let mut p = paras.clone();
            p.insert(p.len().saturating_sub(1).max(1.min(p.len())), l.longer.to_owned());
            p.join("\n\n")
        }
        Change::Formal => {
            let cta = l.cta.get("professional");
            let others = [l.cta.friendly, l.cta.playful, l.cta.bold];
            paras
                .iter()
                .map(|p| {
                    if others.contains(&p.as_str()) {
                        return cta.to_owned();
                    }
                    let text: String = p.chars().filter(|c| !is_emoji(*c)).collect();
                    let text = text.replace('!', ".").split_whitespace().collect::<Vec<_>>().join(" ");
                    text.replace("..", ".").replace(" .", ".")
                })
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n")
        }
        Change::Emojis => {
            const ADD: [&str; 6] = ["✨", "🙌", "💡", "🚀", "💬", "❤️"];
            paras
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let mut p = p.clone();
                    if i == 0 && !p.chars().next().is_some_and(is_emoji) {
                        p = format!("✨ {p}");
                    }
                    if !p.chars().last().is_some_and(is_emoji) {
                        p = format!("{p} {}", ADD[(i + 1) % ADD.len()]);
                    }
                    p
                })
                .collect::<Vec<_>>()
                .join("\n\n")
        }
        Change::Restructure => {
            let listed = paras.len() > 1 && paras[1..].iter().all(|p| p.lines().all(|line| line.starts_with("• ")));
            if listed {
                // A list already: back into one paragraph after the first.
                let rest: Vec<String> =
                    paras[1..].iter().flat_map(|p| p.lines().map(|x| x.trim_start_matches("• ").to_owned())).collect();
                format!("{}\n\n{}", paras[0], rest.join(" "))
            } else {
                let (first, rest) = match paras.split_first() {
                    Some((f, r)) if !r.is_empty() => (f.clone(), r.to_vec()),
                    _ => {
                        let s = sentences(&current.body);
                        match s.split_first() {
                            Some((f, r)) => (f.clone(), vec![r.join(" ")]),
                            None => (String::new(), Vec::new()),
                        }
                    }
                };
                let items: Vec<String> =
                    rest.iter().flat_map(|p| sentences(p)).map(|s| format!("• {s}")).collect::<Vec<_>>();
                if items.is_empty() {
                    // One sentence: nothing to list but itself, so it becomes (or stops being) a one-item list.
                    match first.strip_prefix("• ") {
                        Some(plain) => plain.to_owned(),
                        None => format!("• {first}"),
                    }
                } else {
                    format!("{first}\n\n{}", items.join("\n"))
                }
            }
        }
    };
    tags.truncate(rules.max_hashtags);
    let body = if body.trim().is_empty() { current.body.clone() } else { body };
    let (mut body, hashtags) = fit(rules, rules.max_caption, body, tags);
    let emojis = |t: &str| t.chars().filter(|c| is_emoji(*c)).count();
    if change == Change::Emojis && emojis(&body) <= emojis(&current.body) {
        // A text already at the limit: the end gives way to an emoji at the start.
        let tags_len = if hashtags.is_empty() { 0 } else { rules.length(&caption("", &hashtags)) };
        let budget = rules.max_caption.saturating_sub(tags_len + rules.length("✨ "));
        body = format!("✨ {}", clip(rules, current.body.trim(), budget));
    }
    DraftText { platform: current.platform, body, hashtags }
}

#[cfg(test)]
mod tests;
