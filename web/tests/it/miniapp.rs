//! The Mini App at `/app` on both databases: sign-in with `initData` (valid, forged, stale, another bot's, a
//! stranger, no workspace), the calendar, moving a post by drag (with the bot's checks), the library's filters
//! and pages, a post's detail, the dashboard against the `/stats` computation, another workspace's ids never
//! found; and the page itself in headless Chromium (`browser` below).

use crate::common;

mod browser;

use axum::body::Body;
use axum::http::Request;
use chrono::{Datelike, Duration, TimeZone, Utc};
use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tochen_domain::clock::now_ms;
use tochen_domain::{AccountId, AuthKind, Platform, PostId, Role, SecretString, TenantId};
use tochen_store::{NewAccount, Store, TelegramIdentity, TenantProfile};
use tochen_telegram::init_data::sign;

pub const BOT_TOKEN: &str = "123456789:AAFminiappTestTokenForTochenTests000";
pub const OTHER_BOT: &str = "987654321:AAFanotherBotsTokenNotOursAtAll0000";
/// Chat 4242 is the admin of `common::workspace`.
pub const ADMIN: i64 = 4242;

/// `initData` as Telegram signs it for `telegram_id`, dated `auth_date`, with `token`.
pub fn init_data(telegram_id: i64, auth_date: i64, token: &str) -> String {
    let user = format!(r#"{{"id":{telegram_id},"first_name":"Ana","username":"ana","language_code":"en"}}"#);
    sign(
        &[
            ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
            ("user", &user),
            ("auth_date", &auth_date.to_string()),
            ("chat_type", "private"),
            ("signature", "zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ"),
        ],
        token,
    )
}

pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// The web app of `common::web` with a bot token (the Mini App checks `initData` with it).
pub async fn miniapp_web(db: &tochen_testkit::TestDb) -> Web {
    let mut w = web(db).await;
    let mut config = (*w.state.config).clone();
    config.telegram.bot_token = Some(SecretString::new(BOT_TOKEN));
    w.state.config = Arc::new(config);
    w
}

pub fn account(platform: Platform, name: &str) -> NewAccount {
    NewAccount {
        platform,
        auth_kind: match platform {
            Platform::Facebook => AuthKind::FacebookPage,
            Platform::Instagram => AuthKind::InstagramLogin,
            Platform::TikTok => AuthKind::TikTok,
        },
        external_id: name.into(),
        name: name.into(),
        access_token: SecretString::new("secret-token"),
        refresh_token: None,
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    }
}

/// A scheduled post (or, with `approval`, one waiting for approval) at `at` on `accounts`.
pub async fn scheduled(
    store: &Store,
    tenant: TenantId,
    title: &str,
    at: i64,
    accounts: &[AccountId],
    approval: bool,
) -> PostId {
    let post = store.create_draft(tenant, None, None, title, &format!("{title} body text")).await.unwrap();
    store.schedule_post(tenant, post.id, post.version, at, accounts, approval).await.unwrap();
    post.id
}

/// A person `telegram_id` with `role` in `tenant` (their active workspace).
pub async fn member(store: &Store, tenant: TenantId, telegram_id: i64, role: Role) {
    let who = TelegramIdentity {
        telegram_id,
        username: None,
        first_name: format!("P{telegram_id}"),
        last_name: None,
        language_code: Some("de".into()),
    };
    let user = store.upsert_user(&who).await.unwrap();
    store.add_member(tenant, user.id, role).await.unwrap();
    store.set_active_tenant(user.id, tenant).await.unwrap();
}

/// Another workspace with its own admin (Telegram id 9001) and a scheduled post; returns the post.
pub async fn other_workspace(store: &Store) -> PostId {
    let who = TelegramIdentity {
        telegram_id: 9001,
        username: None,
        first_name: "Oz".into(),
        last_name: None,
        language_code: None,
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let other = store.create_tenant("Other", &TenantProfile::default(), 0, admin.id).await.unwrap().id;
    let acc = store.upsert_account(other, &account(Platform::Instagram, "theirs")).await.unwrap().id;
    scheduled(store, other, "Their secret plan", now_ms() + 3 * 86_400_000, &[acc], false).await
}

async fn call(
    w: &Web,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (u16, HashMap<String, String>, Value) {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        b = b.header("authorization", format!("tma {a}"));
    }
    let req = match body {
        Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())).unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    let (status, headers, body) = w.send(req).await;
    (status, headers, serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}")))
}

fn problem(h: &HashMap<String, String>, body: &Value, status: u16, kind: &str) {
    assert_eq!(h.get("content-type").map(String::as_str), Some("application/problem+json"), "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], format!("/api/v1/problems/{kind}"), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
}

tochen_testkit::store_test!(
    miniapp_signs_in_with_init_data_and_refuses_forged_stale_foreign_and_strangers,
    |store, db| {
        let w = miniapp_web(&db).await;
        let (tenant, _) = workspace(&store).await;
        member(&store, tenant, 5001, Role::Viewer).await;
        let now = now_secs();

        let good = init_data(ADMIN, now - 30, BOT_TOKEN);
        let (s, _, me) = call(&w, "GET", "/app/api/me", Some(&good), None).await;
        assert_eq!(s, 200, "{me}");
        assert_eq!((me["role"].as_str(), me["can_move"].as_bool()), (Some("admin"), Some(true)));
        assert_eq!(me["workspace"]["name"], "Bakery");
        assert_eq!(me["texts"]["miniapp.tab_calendar"], "Calendar");
        assert_eq!(me["platforms"].as_array().unwrap().len(), 3);
        // A viewer signs in too, in their own language (German, from their profile), but may not move posts.
        let (s, _, viewer) = call(&w, "GET", "/app/api/me", Some(&init_data(5001, now, BOT_TOKEN)), None).await;
        assert_eq!((s, viewer["role"].as_str(), viewer["can_move"].as_bool()), (200, Some("viewer"), Some(false)));
        assert_eq!(
            (viewer["lang"].as_str(), viewer["texts"]["miniapp.tab_calendar"].as_str()),
            (Some("de"), Some("Kalender"))
        );

        let mut forged = good.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == '0' { '1' } else { '0' });
        let changed_user = good.replace("%22ana%22", "%22eve%22");
        assert_ne!(changed_user, good);
        let cases: [(&str, Option<String>, &str); 7] = [
            ("no header", None, "Authorization"),
            ("forged hash", Some(forged), "not signed for this bot"),
            ("changed user", Some(changed_user), "not signed for this bot"),
            ("another bot's", Some(init_data(ADMIN, now, OTHER_BOT)), "not signed for this bot"),
            ("expired", Some(init_data(ADMIN, now - 86_401, BOT_TOKEN)), "old"),
            ("from the future", Some(init_data(ADMIN, now + 3_600, BOT_TOKEN)), "future"),
            ("a stranger", Some(init_data(777, now, BOT_TOKEN)), "/start"),
        ];
        for (what, auth, needle) in cases {
            let (s, h, body) = call(&w, "GET", "/app/api/calendar", auth.as_deref(), None).await;
            assert_eq!(s, 401, "{what}: {body}");
            problem(&h, &body, 401, "unauthenticated");
            assert_eq!(h.get("www-authenticate").map(String::as_str), Some("tma"), "{what}");
            assert!(body["detail"].as_str().unwrap().contains(needle), "{what}: {body}");
        }
        // A bearer API token is not a Mini App sign-in.
        let req = Request::get("/app/api/me").header("authorization", "Bearer tch_x").body(Body::empty()).unwrap();
        assert_eq!(w.send(req).await.0, 401);
        // Someone the bot knows but who is in no workspace.
        store
            .upsert_user(&TelegramIdentity {
                telegram_id: 6001,
                username: None,
                first_name: "Lone".into(),
                last_name: None,
                language_code: None,
            })
            .await
            .unwrap();
        let (s, h, body) = call(&w, "GET", "/app/api/me", Some(&init_data(6001, now, BOT_TOKEN)), None).await;
        assert_eq!(s, 403, "{body}");
        problem(&h, &body, 403, "no-workspace");

        // The page: Telegram's script first, then ours; a strict content security policy; no caching.
        let (s, h, html) = w.get("/app").await;
        assert_eq!(s, 200);
        assert!(html.contains(r#"<script src="https://telegram.org/js/telegram-web-app.js"></script>"#), "{html}");
        assert!(html.contains("/app/static/app.js") && html.contains("width=device-width"), "{html}");
        let csp = &h["content-security-policy"];
        assert!(csp.contains("script-src 'self' https://telegram.org") && csp.contains("connect-src 'self'"), "{csp}");
        assert_eq!(h["cache-control"], "no-store");
        let (s, h, js) = w.get("/app/static/app.js").await;
        assert_eq!((s, h["content-type"].as_str()), (200, "text/javascript; charset=utf-8"));
        assert!(js.contains("'tma ' + initData"), "the script signs its calls with initData");
        assert_eq!(w.get("/app/static/../../etc/passwd").await.0, 404);
        assert_eq!(w.get("/app/static/secrets.txt").await.0, 404);
        db.store.close().await;
    }
);

/// Monday of next week, 00:00 UTC (every day of that week is in the future).
fn next_monday() -> chrono::NaiveDate {
    let today = Utc::now().date_naive();
    today - Duration::days(i64::from(today.weekday().num_days_from_monday())) + Duration::days(7)
}

fn utc_ms(d: chrono::NaiveDate, h: u32) -> i64 {
    Utc.from_utc_datetime(&d.and_hms_opt(h, 0, 0).unwrap()).timestamp_millis()
}

tochen_testkit::store_test!(miniapp_calendar_shows_posts_and_a_drag_moves_one_with_the_bots_checks, |store, db| {
    let w = miniapp_web(&db).await;
    let (tenant, _) = workspace(&store).await;
    member(&store, tenant, 5001, Role::Viewer).await;
    member(&store, tenant, 5002, Role::Editor).await;
    let ig = store.upsert_account(tenant, &account(Platform::Instagram, "bloom.ig")).await.unwrap().id;
    let fb = store.upsert_account(tenant, &account(Platform::Facebook, "Bloom Page")).await.unwrap().id;
    let tt = store.upsert_account(tenant, &account(Platform::TikTok, "bloomtok")).await.unwrap().id;
    let monday = next_monday();
    let tuesday = monday + Duration::days(1);
    let bread = scheduled(&store, tenant, "Bread launch", utc_ms(tuesday, 10), &[ig, fb], false).await;
    let cake = scheduled(&store, tenant, "Cake teaser", utc_ms(monday + Duration::days(2), 12), &[tt], true).await;
    let theirs = other_workspace(&store).await;
    let now = now_secs();
    let admin = init_data(ADMIN, now, BOT_TOKEN);

    let (s, _, cal) = call(&w, "GET", &format!("/app/api/calendar?view=week&date={tuesday}"), Some(&admin), None).await;
    assert_eq!(s, 200, "{cal}");
    assert_eq!(cal["days"].as_array().unwrap().len(), 7);
    assert_eq!(cal["days"][0]["date"], monday.to_string());
    let posts = cal["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 2, "only this workspace's posts: {cal}");
    assert_eq!(posts[0]["title"], "Bread launch");
    assert_eq!(posts[0]["platforms"], json!(["facebook", "instagram"]));
    assert_eq!((posts[0]["mark"].as_str(), posts[0]["movable"].as_bool()), (Some("scheduled"), Some(true)));
    assert_eq!(
        (posts[0]["date"].as_str(), posts[0]["time"].as_str()),
        (Some(tuesday.to_string().as_str()), Some("10:00"))
    );
    assert_eq!((posts[1]["mark"].as_str(), posts[1]["movable"].as_bool()), (Some("pending"), Some(true)));
    let version = posts[0]["version"].as_i64().unwrap();
    let (s, _, month) =
        call(&w, "GET", &format!("/app/api/calendar?view=month&date={tuesday}"), Some(&admin), None).await;
    assert_eq!((s, month["days"].as_array().unwrap().len()), (200, 42), "{month}");
    assert!(month["posts"].as_array().unwrap().iter().any(|p| p["id"] == bread.to_db()));
    for q in ["view=year", "date=tomorrow", "date=99999-01-01"] {
        let (s, h, body) = call(&w, "GET", &format!("/app/api/calendar?{q}"), Some(&admin), None).await;
        assert_eq!(s, 400, "{q}: {body}");
        problem(&h, &body, 400, "invalid-parameter");
    }

    let thursday = monday + Duration::days(3);
    let path = format!("/app/api/posts/{bread}/reschedule");
    let to_thursday = json!({"version": version, "date": thursday.to_string()});
    // A viewer may look but not move.
    let viewer = init_data(5001, now, BOT_TOKEN);
    let (s, h, body) = call(&w, "POST", &path, Some(&viewer), Some(to_thursday.clone())).await;
    assert_eq!(s, 403, "{body}");
    problem(&h, &body, 403, "role");
    assert_eq!(store.post(tenant, bread).await.unwrap().scheduled_at, Some(utc_ms(tuesday, 10)), "unchanged");
    // Another workspace's post is not found, for moving or reading.
    let (s, h, body) = call(
        &w,
        "POST",
        &format!("/app/api/posts/{theirs}/reschedule"),
        Some(&admin),
        Some(json!({"version": 1, "date": thursday.to_string()})),
    )
    .await;
    assert_eq!(s, 404, "{body}");
    problem(&h, &body, 404, "not-found");
    let (s, _, body) = call(&w, "GET", &format!("/app/api/posts/{theirs}"), Some(&admin), None).await;
    assert_eq!(s, 404, "{body}");
    assert!(!body.to_string().contains("secret plan"));
    assert_eq!(call(&w, "GET", "/app/api/posts/not-an-id", Some(&admin), None).await.0, 404);
    // A stale version, a day in the past: refused, nothing moves.
    let (s, h, body) =
        call(&w, "POST", &path, Some(&admin), Some(json!({"version": version - 1, "date": thursday.to_string()})))
            .await;
    assert_eq!(s, 409, "{body}");
    problem(&h, &body, 409, "stale");
    let (s, h, body) =
        call(&w, "POST", &path, Some(&admin), Some(json!({"version": version, "date": "2020-01-01"}))).await;
    assert_eq!(s, 422, "{body}");
    problem(&h, &body, 422, "in-the-past");
    let (s, _, body) =
        call(&w, "POST", &path, Some(&admin), Some(json!({"version": version, "date": "next thursday"}))).await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(store.post(tenant, bread).await.unwrap().scheduled_at, Some(utc_ms(tuesday, 10)), "unchanged");

    // An editor drags it to Thursday: it keeps 10:00, the store and its publish jobs move, the audit says so.
    let editor = init_data(5002, now, BOT_TOKEN);
    let (s, _, body) = call(&w, "POST", &path, Some(&editor), Some(to_thursday.clone())).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["at"], utc_ms(thursday, 10));
    let moved = store.post(tenant, bread).await.unwrap();
    assert_eq!((moved.scheduled_at, moved.status), (Some(utc_ms(thursday, 10)), tochen_domain::PostStatus::Scheduled));
    assert!(moved.version > version);
    let audits = w
        .count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'post.rescheduled' AND subject_id = '{bread}'"))
        .await;
    assert_eq!(audits, 1);
    // The same drag again names the old version: stale. With a time, it lands on that slot.
    let (s, _, _) = call(&w, "POST", &path, Some(&editor), Some(to_thursday)).await;
    assert_eq!(s, 409);
    let friday = thursday + Duration::days(1);
    let (s, _, body) = call(
        &w,
        "POST",
        &path,
        Some(&admin),
        Some(json!({"version": moved.version, "date": friday.to_string(), "time": "08:30"})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let at = Utc.from_utc_datetime(&friday.and_hms_opt(8, 30, 0).unwrap()).timestamp_millis();
    assert_eq!(store.post(tenant, bread).await.unwrap().scheduled_at, Some(at));
    let (_, _, cal) = call(&w, "GET", &format!("/app/api/calendar?view=week&date={tuesday}"), Some(&admin), None).await;
    let placed: Vec<(&str, &str)> = cal["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["title"].as_str().unwrap(), p["date"].as_str().unwrap()))
        .collect();
    assert_eq!(
        placed,
        [
            ("Cake teaser", (monday + Duration::days(2)).to_string().as_str()),
            ("Bread launch", friday.to_string().as_str())
        ]
    );
    // The waiting post moves as in the chat: still waiting, at the new time, a new round of approval cards queued.
    let cards = "SELECT COUNT(*) FROM jobs WHERE kind = 'notify'";
    let before = w.count(cards).await;
    let cake_version = store.post(tenant, cake).await.unwrap().version;
    let (s, _, body) = call(
        &w,
        "POST",
        &format!("/app/api/posts/{cake}/reschedule"),
        Some(&admin),
        Some(json!({"version": cake_version, "date": thursday.to_string()})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let cake_now = store.post(tenant, cake).await.unwrap();
    assert_eq!(
        (cake_now.status, cake_now.scheduled_at),
        (tochen_domain::PostStatus::PendingApproval, Some(utc_ms(thursday, 12)))
    );
    assert!(w.count(cards).await > before, "new approval cards went out");
    db.store.close().await;
});

tochen_testkit::store_test!(miniapp_library_filters_searches_and_pages_and_shows_a_posts_detail, |store, db| {
    let w = miniapp_web(&db).await;
    let (tenant, _) = workspace(&store).await;
    let ig = store.upsert_account(tenant, &account(Platform::Instagram, "bloom.ig")).await.unwrap().id;
    let tt = store.upsert_account(tenant, &account(Platform::TikTok, "bloomtok")).await.unwrap().id;
    let day = 86_400_000;
    let now = now_ms();
    for i in 0..23 {
        scheduled(&store, tenant, &format!("Croissant {i:02}"), now + (i + 1) * day, &[ig], false).await;
    }
    let rye = scheduled(&store, tenant, "Rye special", now + 40 * day, &[tt], false).await;
    store.create_draft(tenant, None, None, "Sourdough idea", "a draft about sourdough").await.unwrap();
    // A published post with a link and numbers.
    let published = store.create_draft(tenant, None, None, "Baguette day", "").await.unwrap();
    let targets =
        store.schedule_post(tenant, published.id, published.version, now - 2 * day, &[ig], false).await.unwrap();
    sqlx::query("UPDATE post_targets SET status = 'published', published_at = $1, permalink = $2 WHERE id = $3")
        .bind(now - 2 * day)
        .bind("https://instagram.example/p/baguette")
        .bind(targets[0].id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    sqlx::query("UPDATE posts SET status = 'published' WHERE id = $1")
        .bind(published.id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let values = tochen_store::MetricValues { views: Some(321), likes: Some(12), ..Default::default() };
    store
        .insert_metrics_snapshot(
            tenant,
            &tochen_store::NewSnapshot {
                account_id: ig,
                target_id: Some(targets[0].id),
                platform: Platform::Instagram,
                captured_at: now - day,
                values,
                raw: json!({}),
            },
        )
        .await
        .unwrap();
    other_workspace(&store).await;
    let admin = init_data(ADMIN, now_secs(), BOT_TOKEN);
    let titles = |body: &Value| -> Vec<String> {
        body["posts"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect()
    };

    let (s, _, page0) = call(&w, "GET", "/app/api/library", Some(&admin), None).await;
    assert_eq!(s, 200, "{page0}");
    assert_eq!((titles(&page0).len(), page0["has_more"].as_bool()), (20, Some(true)));
    assert_eq!(titles(&page0)[0], "Rye special", "newest first");
    let (_, _, page1) = call(&w, "GET", "/app/api/library?page=1", Some(&admin), None).await;
    assert_eq!((titles(&page1).len(), page1["has_more"].as_bool()), (6, Some(false)), "26 posts of this workspace");
    assert!(!titles(&page0).iter().chain(titles(&page1).iter()).any(|t| t.contains("secret")));
    let (_, _, tiktok) = call(&w, "GET", "/app/api/library?platform=tiktok", Some(&admin), None).await;
    assert_eq!(titles(&tiktok), ["Rye special"]);
    assert_eq!(tiktok["posts"][0]["targets"], json!([{"platform": "tiktok", "status": "pending"}]));
    let (_, _, drafts) = call(&w, "GET", "/app/api/library?status=draft,rejected", Some(&admin), None).await;
    assert_eq!(titles(&drafts), ["Sourdough idea"]);
    let (_, _, found) = call(&w, "GET", "/app/api/library?q=croissant%2007", Some(&admin), None).await;
    assert_eq!(titles(&found), ["Croissant 07"]);
    let (_, _, body) = call(&w, "GET", "/app/api/library?q=SOURDOUGH", Some(&admin), None).await;
    assert_eq!(titles(&body), ["Sourdough idea"], "words of the text, any case");
    let (_, _, body) =
        call(&w, "GET", "/app/api/library?status=published,partially_published&platform=instagram", Some(&admin), None)
            .await;
    assert_eq!(titles(&body), ["Baguette day"]);
    for q in ["status=lost", "platform=myspace", "page=-1"] {
        let (s, _, body) = call(&w, "GET", &format!("/app/api/library?{q}"), Some(&admin), None).await;
        assert_eq!(s, 400, "{q}: {body}");
    }

    let (s, _, detail) = call(&w, "GET", &format!("/app/api/posts/{}", published.id), Some(&admin), None).await;
    assert_eq!(s, 200, "{detail}");
    assert_eq!(detail["title"], "Baguette day");
    let target = &detail["targets"][0];
    assert_eq!((target["platform"].as_str(), target["account"].as_str()), (Some("instagram"), Some("bloom.ig")));
    assert_eq!(target["permalink"], "https://instagram.example/p/baguette");
    assert_eq!((target["metrics"]["views"].as_i64(), target["metrics"]["likes"].as_i64()), (Some(321), Some(12)));
    assert_eq!(target["metrics"]["comments"], Value::Null, "a number not reported stays missing, not zero");
    let (_, _, rye_detail) = call(&w, "GET", &format!("/app/api/posts/{rye}"), Some(&admin), None).await;
    assert_eq!(rye_detail["targets"][0]["metrics"], Value::Null);
    db.store.close().await;
});

/// Seeds a published post with numbers two days ago; returns the workspace.
pub async fn with_numbers(store: &Store) -> TenantId {
    let (tenant, _) = workspace(store).await;
    let ig = store.upsert_account(tenant, &account(Platform::Instagram, "bloom.ig")).await.unwrap().id;
    let now = now_ms();
    let day = 86_400_000;
    let post = store.create_draft(tenant, None, None, "Bread", "").await.unwrap();
    let targets = store.schedule_post(tenant, post.id, post.version, now - 2 * day, &[ig], false).await.unwrap();
    sqlx::query("UPDATE post_targets SET status = 'published', published_at = $1 WHERE id = $2")
        .bind(now - 2 * day)
        .bind(targets[0].id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    sqlx::query("UPDATE posts SET status = 'published' WHERE id = $1")
        .bind(post.id.to_db())
        .execute(store.sql_for_tests())
        .await
        .unwrap();
    let values =
        tochen_store::MetricValues { views: Some(1234), likes: Some(56), comments: Some(7), ..Default::default() };
    let snapshot = tochen_store::NewSnapshot {
        account_id: ig,
        target_id: Some(targets[0].id),
        platform: Platform::Instagram,
        captured_at: now - day,
        values,
        raw: json!({}),
    };
    store.insert_metrics_snapshot(tenant, &snapshot).await.unwrap();
    tenant
}

/// What `/stats` computes for `tenant` over `[start, end)`, as the dashboard shows it: the report's JSON and the
/// bot's text.
pub async fn stats_of(store: &Store, tenant: TenantId, start: i64, end: i64, lang: &str) -> (Value, String) {
    use tochen_delivery::reports::{compute_scoped, render, Period, Scope};
    let report = compute_scoped(
        store,
        tenant,
        Period::new(start, end),
        Scope::Workspace,
        tochen_delivery::sources::Sources::WithSandbox,
        true,
    )
    .await
    .unwrap();
    let name = store.tenant(tenant).await.unwrap().name;
    let text = render::html_to_text(&render::stats_html(&report, &name, lang, chrono_tz::UTC));
    (render::json(&report), text)
}

tochen_testkit::store_test!(miniapp_dashboard_is_the_stats_computation, |store, db| {
    let w = miniapp_web(&db).await;
    let tenant = with_numbers(&store).await;
    other_workspace(&store).await;
    let admin = init_data(ADMIN, now_secs(), BOT_TOKEN);
    for days in [7, 30, 90] {
        let (s, _, body) = call(&w, "GET", &format!("/app/api/stats?days={days}"), Some(&admin), None).await;
        assert_eq!(s, 200, "{body}");
        let (start, end) =
            (body["report"]["period"]["start"].as_i64().unwrap(), body["report"]["period"]["end"].as_i64().unwrap());
        assert_eq!(end - start, days * 86_400_000);
        let (report, text) = stats_of(&store, tenant, start, end, "en").await;
        assert_eq!(body["report"], report, "{days} days");
        assert_eq!(body["text"], text);
        assert_eq!(body["report"]["totals"]["views"], 1234);
        assert_eq!(body["report"]["totals"]["published"], 1);
        assert!(text.contains("1,234"), "{text}");
        assert!(!body["report"]["daily_views"]["days"].as_array().unwrap().is_empty(), "the chart's series");
    }
    let (s, _, body) = call(&w, "GET", "/app/api/stats?days=365", Some(&admin), None).await;
    assert_eq!(s, 400, "{body}");
    db.store.close().await;
});
