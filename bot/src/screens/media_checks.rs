//! The media of a post checked against each platform's limits (`tochen_platforms::media`) and its platform
//! options (a TikTok privacy level must be chosen), as localized lines that block scheduling: the draft screen
//! shows them and `blocking_problems` refuses to schedule while there are any.

use crate::ctx::{Active, App};
use crate::screens::draft::platform_name;
use tochen_domain::i18n::tf;
use tochen_domain::{Platform, PostId};
use tochen_platforms::media::{facts_of, MediaFacts, MediaProblem};
use tochen_platforms::options::{tiktok_problems, FacebookVideo, OptionProblem, PostOptions};

/// The post's media, in order, with their probed facts.
pub async fn post_facts(app: &App, a: &Active, post: PostId) -> anyhow::Result<Vec<MediaFacts>> {
    let mut out = Vec::new();
    for (id, _) in app.store.post_media_kinds(a.tenant.id, post).await? {
        let media = app.store.media(a.tenant.id, id).await?;
        out.push(facts_of(&app.store, &media).await?);
    }
    Ok(out)
}

/// Every blocking media or options problem of `post` for `platforms`, localized.
pub async fn media_problems(
    app: &App,
    a: &Active,
    post: PostId,
    platforms: &[Platform],
    lang: &str,
) -> anyhow::Result<Vec<String>> {
    let facts = post_facts(app, a, post).await?;
    let options = PostOptions::from_map(&app.store.post_options(a.tenant.id, post).await?);
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for &platform in platforms {
        if seen.contains(&platform) {
            continue;
        }
        seen.push(platform);
        let reel = options.facebook.video.map(|v| v == FacebookVideo::Reel);
        for p in app.media.limits.check(platform, &facts, reel) {
            // A post without media is the platform rules' problem (`rules.rs`), already on the screen.
            if !matches!(p, MediaProblem::Missing { .. }) {
                out.push(line(lang, platform, &problem_text(lang, &p)));
            }
        }
        if platform == Platform::TikTok {
            for p in tiktok_problems(&options.tiktok, None) {
                out.push(line(lang, platform, &option_text(lang, &p)));
            }
        }
    }
    Ok(out)
}

fn line(lang: &str, platform: Platform, problem: &str) -> String {
    tf(lang, "bot.media.line", &[("platform", &platform_name(lang, platform)), ("problem", &problem)])
}

/// One option problem, localized.
pub fn option_text(lang: &str, p: &OptionProblem) -> String {
    match p {
        OptionProblem::PrivacyNotChosen => tf(lang, "bot.media.tiktok_privacy_needed", &[]),
        OptionProblem::PrivacyNotOffered(level) => {
            tf(lang, "bot.media.tiktok_privacy_gone", &[("level", &privacy_name(lang, level))])
        }
        OptionProblem::BrandedPrivate => tf(lang, "bot.media.tiktok_branded_private", &[]),
    }
}

/// A TikTok privacy level's name.
pub fn privacy_name(lang: &str, level: &str) -> String {
    let key = format!("bot.options.privacy.{}", level.to_ascii_lowercase());
    let name = tf(lang, &key, &[]);
    if name == key {
        level.to_owned()
    } else {
        name
    }
}

/// One media problem, localized, with what to do.
pub fn problem_text(lang: &str, p: &MediaProblem) -> String {
    let n = |i: &usize| i + 1;
    let mb = |b: &u64| b.div_ceil(1024 * 1024);
    let secs = |ms: &u64| format!("{:.1}", *ms as f64 / 1000.0);
    match p {
        MediaProblem::Missing { .. } => tf(lang, "bot.media.missing", &[]),
        MediaProblem::TooMany { count, max, .. } => tf(lang, "bot.media.too_many", &[("count", count), ("max", max)]),
        MediaProblem::Mixed { .. } => tf(lang, "bot.media.mixed", &[]),
        MediaProblem::Format { item, found, .. } => {
            tf(lang, "bot.media.format", &[("n", &n(item)), ("found", &found.as_str())])
        }
        MediaProblem::Codec { item, found, .. } => tf(
            lang,
            "bot.media.codec",
            &[("n", &n(item)), ("found", &tochen_platforms::media::probe::codec_name(found))],
        ),
        MediaProblem::TooBig { item, size_bytes, max_bytes, .. } => tf(
            lang,
            "bot.media.too_big",
            &[("n", &n(item)), ("size", &mb(size_bytes)), ("max", &(max_bytes / (1024 * 1024)))],
        ),
        MediaProblem::TooShort { item, duration_ms, min_ms, .. } => {
            tf(lang, "bot.media.too_short", &[("n", &n(item)), ("secs", &secs(duration_ms)), ("min", &(min_ms / 1000))])
        }
        MediaProblem::TooLong { item, duration_ms, max_ms, .. } => {
            tf(lang, "bot.media.too_long", &[("n", &n(item)), ("secs", &secs(duration_ms)), ("max", &(max_ms / 1000))])
        }
        MediaProblem::FrameRate { item, fps, min, max, .. } => tf(
            lang,
            "bot.media.frame_rate",
            &[("n", &n(item)), ("fps", &format!("{fps:.1}")), ("min", min), ("max", max)],
        ),
        MediaProblem::Dimensions { item, width, height, .. } => {
            tf(lang, "bot.media.dimensions", &[("n", &n(item)), ("width", width), ("height", height)])
        }
        MediaProblem::AspectRatio { item, width, height, suggest, .. } => {
            tf(lang, "bot.media.aspect", &[("n", &n(item)), ("width", width), ("height", height), ("ratio", suggest)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tochen_platforms::media::{Format, Target};

    #[test]
    fn every_problem_reads_in_every_language_with_its_numbers() {
        let t = Target::InstagramImage;
        let problems = [
            MediaProblem::Missing { platform: Platform::TikTok },
            MediaProblem::TooMany { platform: Platform::Instagram, count: 11, max: 10 },
            MediaProblem::Mixed { platform: Platform::Facebook },
            MediaProblem::Format { item: 0, target: t, found: Format::Gif },
            MediaProblem::Codec { item: 0, target: t, found: "vp09".into() },
            MediaProblem::TooBig { item: 1, target: t, size_bytes: 9 * 1024 * 1024, max_bytes: 8 * 1024 * 1024 },
            MediaProblem::TooShort { item: 0, target: t, duration_ms: 2000, min_ms: 3000 },
            MediaProblem::TooLong { item: 0, target: t, duration_ms: 700_000, max_ms: 600_000 },
            MediaProblem::FrameRate { item: 0, target: t, fps: 15.0, min: 23.0, max: 60.0 },
            MediaProblem::Dimensions { item: 0, target: t, width: 200, height: 300 },
            MediaProblem::AspectRatio { item: 2, target: t, width: 500, height: 1000, suggest: "4:5" },
        ];
        for lang in ["en", "ru", "uk", "es", "de"] {
            for p in &problems {
                let text = problem_text(lang, p);
                assert!(!text.starts_with("bot.") && !text.contains('{'), "{lang}: {text}");
            }
            for p in [
                OptionProblem::PrivacyNotChosen,
                OptionProblem::BrandedPrivate,
                OptionProblem::PrivacyNotOffered("SELF_ONLY".into()),
            ] {
                let text = option_text(lang, &p);
                assert!(!text.starts_with("bot.") && !text.contains('{'), "{lang}: {text}");
            }
        }
        assert!(problem_text("en", &problems[10]).contains("4:5") && problem_text("en", &problems[10]).contains('3'));
        assert!(problem_text("en", &problems[5]).contains('9') && problem_text("en", &problems[5]).contains('8'));
    }
}

#[cfg(test)]
mod app_tests {
    use super::*;
    use crate::ctx::{Active, App, MediaSettings};
    use std::collections::HashMap;
    use tochen_domain::{MediaKind, Role};
    use tochen_testkit::video::{video_bytes, VideoSpec};

    async fn app(db: &tochen_testkit::TestDb, dir: &std::path::Path) -> App {
        let vars: HashMap<String, String> =
            [("TOCHEN_DATA_DIR", dir.to_str().unwrap())].into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let config = tochen_config::Config::from_source(&vars).unwrap();
        App {
            store: db.store.clone(),
            llm: tochen_llm::LlmClient::new(config.llm.clone(), db.store.clone(), dir.to_owned()).unwrap(),
            bot_username: "b".into(),
            data_dir: dir.to_owned(),
            rules: tochen_platforms::RuleBook::new(&config),
            sandbox: false,
            operator: config.operator.clone(),
            email: None,
            media: MediaSettings::from_config(&config),
            public_url: "http://localhost:8080".into(),
            miniapp_url: None,
        }
    }

    #[tokio::test]
    async fn a_short_video_and_an_unchosen_tiktok_audience_block_with_localized_lines() {
        let db = tochen_testkit::TestDb::sqlite().await;
        let dir = tempfile::tempdir().unwrap();
        let app = app(&db, dir.path()).await;
        let user = db.store.upsert_user(&tochen_testkit::person(5, "Ann")).await.unwrap();
        let tenant = db.store.create_tenant("Bloom", &Default::default(), 0, user.id).await.unwrap();
        let a = Active { tenant: tenant.clone(), role: Role::Admin };
        let post = db.store.create_draft(tenant.id, Some(user.id), None, "idea", "").await.unwrap();
        let bytes = video_bytes(&VideoSpec { duration_ms: 2_000, ..VideoSpec::vertical(2) }, 40_000);
        let media = tochen_llm::store_media_bytes(
            &db.store,
            dir.path(),
            tenant.id,
            &bytes,
            MediaKind::Video,
            "video/mp4",
            "telegram",
        )
        .await
        .unwrap();
        db.store.set_post_media(tenant.id, post.id, media.id).await.unwrap();

        let lines =
            media_problems(&app, &a, post.id, &[Platform::Instagram, Platform::TikTok, Platform::Instagram], "en")
                .await
                .unwrap();
        assert_eq!(
            lines,
            vec![
                "Instagram: video 1 lasts 2.0 s; it must last at least 3 s.".to_owned(),
                "TikTok: choose who can see the post (Options).".to_owned(),
            ],
            "TikTok takes 2 s videos; Instagram Reels need 3 s; each platform once"
        );
        // Choosing an audience clears TikTok's line; the Facebook check follows the chosen kind.
        let opts = serde_json::json!({"tiktok": {"privacy_level": "SELF_ONLY"}, "facebook": {"video": "reel"}});
        db.store.set_post_options(tenant.id, post.id, opts.as_object().unwrap()).await.unwrap();
        let lines = media_problems(&app, &a, post.id, &[Platform::TikTok, Platform::Facebook], "de").await.unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("Facebook: ") && lines[0].contains("mindestens 3 s"), "{lines:?}");
        db.cleanup().await;
    }
}
