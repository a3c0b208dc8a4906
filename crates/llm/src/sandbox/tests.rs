use super::*;
use tochen_domain::i18n::LANGUAGES;
use tochen_domain::Platform;
use tochen_platforms::rules::{Counting, MediaNeed};

fn profile(lang: &str) -> TenantProfile {
    TenantProfile {
        business_description: "We roast specialty coffee in small batches and run a café in Alfama".into(),
        target_audience: "locals and visitors who love good coffee".into(),
        tone: "friendly".into(),
        language: lang.into(),
        timezone: "Europe/Lisbon".into(),
    }
}

/// The rules of every platform as configured by default, plus tight made-up ones.
fn all_rules() -> Vec<Rules> {
    let config = tochen_config::Config::from_source(&std::collections::HashMap::<String, String>::new()).unwrap();
    let mut out: Vec<Rules> = Platform::ALL.iter().map(|p| tochen_platforms::registry::rules(&config, *p)).collect();
    out.push(Rules {
        platform: Platform::TikTok,
        max_caption: 60,
        counting: Counting::Utf16,
        max_hashtags: 2,
        media: MediaNeed::VideoOrPhotos,
        aim_caption: 500,
        aim_hashtags: (3, 5),
        max_mentions: None,
        links_clickable: true,
    });
    out.push(Rules {
        platform: Platform::Instagram,
        max_caption: 2200,
        counting: Counting::Chars,
        max_hashtags: 30,
        media: MediaNeed::ImageOrVideo,
        aim_caption: 40,
        aim_hashtags: (1, 2),
        max_mentions: None,
        links_clickable: true,
    });
    out
}

fn assert_fits(r: &Rules, text: &DraftText, limit: usize, what: &str) {
    let len = r.length(&caption(&text.body, &text.hashtags));
    assert!(len <= limit, "{what} on {r:?}: {len} > {limit}\n{}", text.body);
    assert!(r.check(&text.body, &text.hashtags, true).is_empty(), "{what} on {r:?}");
    assert!(text.hashtags.len() <= r.max_hashtags, "{what}: {} hashtags on {r:?}", text.hashtags.len());
    assert!(!text.body.trim().is_empty(), "{what}: empty body");
    for t in &text.hashtags {
        assert!(!t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_'), "{what}: bad tag {t:?}");
    }
}

#[test]
fn ideas_are_distinct_deterministic_and_in_the_workspace_language() {
    for lang in LANGUAGES {
        let p = profile(lang);
        let a = ideas("Bloom Coffee", &p, "latte art", 5, &[]);
        assert_eq!(a.len(), 5, "{lang}");
        assert_eq!(a, ideas("Bloom Coffee", &p, "latte art", 5, &[]), "{lang}: not deterministic");
        for (i, x) in a.iter().enumerate() {
            assert!(x.title.contains("latte art"), "{lang}: {x:?}");
            assert!(!x.angle.is_empty() && !x.angle.contains('{'), "{lang}: {x:?}");
            assert!(!x.title.contains('{'), "{lang}: {x:?}");
            assert!(a[i + 1..].iter().all(|y| y.title != x.title), "{lang}: repeated {x:?}");
        }
        let frames = templates::lang(lang).ideas;
        let first_words = |t: &str| t.split("{topic}").next().unwrap_or_default().trim().to_owned();
        assert!(frames.iter().any(|(t, _)| !first_words(t).is_empty() && a[0].title.contains(&first_words(t))));
    }
    // A language the bot does not speak falls back to English.
    let pt = ideas("Bloom Coffee", &profile("pt"), "latte art", 10, &[]);
    assert_eq!(pt, ideas("Bloom Coffee", &profile("en"), "latte art", 10, &[]));
}

#[test]
fn ideas_vary_with_the_topic_and_the_avoid_list_and_never_repeat_an_avoided_one() {
    let p = profile("en");
    let order =
        |v: &[Idea]| v.iter().map(|i| i.title.split(':').next().unwrap_or_default().to_owned()).collect::<Vec<_>>();
    let coffee = ideas("Bloom Coffee", &p, "coffee", 5, &[]);
    let tea = ideas("Bloom Coffee", &p, "tea", 5, &[]);
    let cake = ideas("Bloom Coffee", &p, "cake", 5, &[]);
    assert!(order(&coffee) != order(&tea) || order(&tea) != order(&cake), "the same frames for every topic");
    let mut avoid: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // Asking for more again and again: every list is new and none repeats what it was told to avoid.
    for round in 0..6 {
        let more = ideas("Bloom Coffee", &p, "coffee", 5, &avoid);
        assert_eq!(more.len(), 5, "round {round}");
        for i in &more {
            assert!(!avoid.iter().any(|a| a.eq_ignore_ascii_case(&i.title)), "round {round}: {i:?} was avoided");
            assert!(seen.insert(i.title.clone()), "round {round}: {i:?} seen before");
        }
        avoid.extend(more.into_iter().map(|i| i.title));
    }
    // The avoid list changes the answer even when it names nothing the writer would say.
    let other = ideas("Bloom Coffee", &p, "coffee", 5, &["something else".into()]);
    assert_ne!(order(&coffee), order(&other));
    // No topic: ideas about the workspace itself.
    assert!(ideas("Bloom Coffee", &p, "  ", 3, &[]).iter().all(|i| i.title.contains("Bloom Coffee")));
    assert!(ideas("Bloom Coffee", &p, "x", 0, &[]).is_empty());
}

#[test]
fn drafts_respect_every_platform_rules_in_every_language_and_tone() {
    let rules = all_rules();
    for lang in LANGUAGES {
        for tone in ["friendly", "professional", "playful", "bold", "sarcastic"] {
            let p = TenantProfile { tone: tone.into(), ..profile(lang) };
            let idea = &ideas("Bloom Coffee", &p, "latte art", 1, &[])[0];
            let d = draft("Bloom Coffee", &p, &format!("{}: {}", idea.title, idea.angle), &rules);
            assert_eq!(d.title, idea.title, "{lang}");
            assert!(d.image_prompt.contains(&idea.title), "{lang}");
            assert_eq!(d.texts.len(), rules.len());
            for (r, text) in rules.iter().zip(&d.texts) {
                assert_eq!(text.platform, r.platform);
                assert_fits(r, text, r.aim_caption.min(r.max_caption), &format!("{lang}/{tone} draft"));
                let (low, high) = (r.aim_hashtags.0.min(r.max_hashtags), r.aim_hashtags.1.min(r.max_hashtags));
                assert!((low..=high).contains(&text.hashtags.len()), "{lang}: {} tags on {r:?}", text.hashtags.len());
                if r.aim_caption >= 1000 {
                    assert!(text.body.contains(&idea.angle), "{lang}: the angle is missing on {r:?}");
                    assert!(
                        text.body.contains(templates::lang(lang).cta.get(tone)),
                        "{lang}/{tone}: no call to action"
                    );
                }
            }
        }
    }
}

#[test]
fn tiktok_is_counted_in_utf16_units() {
    // Emojis are two UTF-16 units: a limit met in characters would be over it on TikTok.
    let r = Rules {
        platform: Platform::TikTok,
        max_caption: 80,
        counting: Counting::Utf16,
        max_hashtags: 5,
        media: MediaNeed::VideoOrPhotos,
        aim_caption: 80,
        aim_hashtags: (3, 5),
        max_mentions: None,
        links_clickable: true,
    };
    let p = TenantProfile { tone: "playful".into(), ..profile("ru") };
    let idea = "🎉🎉🎉 Любимая деталь 😄😄😄 кофе 😄😄😄😄😄😄😄😄😄😄😄: Покажите крупно одну мелочь 😄😄😄😄😄😄😄😄😄😄😄😄.";
    let d = draft("Кофейня Блум", &p, idea, &[r]);
    let text = &d.texts[0];
    assert_fits(&r, text, 80, "utf-16 draft");
    assert!(text.body.chars().count() < text.body.encode_utf16().count(), "the test needs astral characters");
    let emojis = rewrite(&p, text, &r, "добавь эмодзи");
    assert_fits(&r, &emojis, 80, "utf-16 rewrite");
    let longer = rewrite(&p, text, &r, "длиннее");
    assert_fits(&r, &longer, 80, "utf-16 longer");
}

#[test]
fn a_long_profile_is_cut_to_the_aim_and_hashtags_never_leave_no_room() {
    let p = TenantProfile {
        business_description: "word ".repeat(2000),
        target_audience: "people ".repeat(500),
        ..profile("de")
    };
    for r in all_rules() {
        let d = draft(&"N".repeat(300), &p, &"T".repeat(5000), &[r]);
        assert_fits(&r, &d.texts[0], r.aim_caption.min(r.max_caption), "long profile");
    }
}

#[test]
fn rewrites_apply_the_instruction_recognisably_within_the_rules() {
    let rules = all_rules();
    for lang in LANGUAGES {
        let p = TenantProfile { tone: "playful".into(), ..profile(lang) };
        let l = templates::lang(lang);
        let idea = &ideas("Bloom Coffee", &p, "latte art", 1, &[])[0];
        let d = draft("Bloom Coffee", &p, &format!("{}: {}", idea.title, idea.angle), &rules);
        for (r, text) in rules.iter().zip(&d.texts) {
            let len = |t: &DraftText| r.length(&caption(&t.body, &t.hashtags));
            let shorter = rewrite(&p, text, r, "make it shorter");
            assert_fits(r, &shorter, r.max_caption, "shorter");
            assert!(len(&shorter) < len(text), "{lang}: shorter is not shorter on {r:?}");
            let longer = rewrite(&p, text, r, "longer please");
            assert_fits(r, &longer, r.max_caption, "longer");
            if r.max_caption > 1000 {
                assert!(longer.body.contains(l.longer), "{lang}: longer adds nothing on {r:?}");
            }
            let formal = rewrite(&p, text, r, "more formal");
            assert_fits(r, &formal, r.max_caption, "formal");
            assert!(!formal.body.chars().any(is_emoji) && !formal.body.contains('!'), "{lang}: {}", formal.body);
            let emojis = rewrite(&p, text, r, "add emojis");
            assert_fits(r, &emojis, r.max_caption, "emojis");
            let count = |t: &DraftText| t.body.chars().filter(|c| is_emoji(*c)).count();
            // More emojis, or (a text at its limit) one at the start where there was none.
            let added = count(&emojis) > count(text) || (emojis.body.starts_with('✨') && !text.body.starts_with('✨'));
            assert!(added, "{lang}: no emoji added on {r:?}: {:?}", emojis.body);
            let other = rewrite(&p, text, r, "make it sound like a pirate");
            assert_fits(r, &other, r.max_caption, "other");
            assert_ne!(other.body, text.body, "{lang}: an unknown instruction changed nothing on {r:?}: {text:?}");
            assert_eq!(rewrite(&p, text, r, "make it sound like a pirate"), other, "not deterministic");
        }
    }
    for (instruction, change) in [
        ("Сделай короче", Change::Shorter),
        ("kürzer bitte", Change::Shorter),
        ("más largo", Change::Longer),
        ("більш офіційно", Change::Formal),
        ("добавь смайлики", Change::Emojis),
        ("funnier", Change::Restructure),
    ] {
        assert_eq!(Change::of(instruction), change, "{instruction}");
    }
}

#[test]
fn the_placeholder_is_a_png_of_the_promised_size_coloured_by_the_workspace() {
    let png = placeholder_png("Bloom Coffee", "Behind the scenes: латте-арт, a title long enough to wrap twice over")
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), SIZE);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), SIZE);
    assert_eq!(image::colour("Bloom Coffee"), image::colour("Bloom Coffee"));
    assert_ne!(image::colour("Bloom Coffee"), image::colour("Alpha"));
    assert!(placeholder_png("", "").is_ok());
}
