//! Connecting each platform through the web callback, its confirmation page and the fake providers, and every way
//! a callback or a confirmation is refused.

use crate::common;

use common::*;
use tochen_domain::{AccountStatus, AuthKind, JobState, Platform};
use tochen_platforms::oauth::{authorize_url, choose, state_hash};
use tochen_store::{NewOAuthState, TelegramIdentity, TenantProfile};

async fn notifications(w: &Web, tenant: tochen_domain::TenantId) -> Vec<serde_json::Value> {
    w.store
        .tenant_jobs(tenant, JobState::Queued, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "notify")
        .map(|j| j.payload)
        .collect()
}

tochen_testkit::store_test!(each_platform_connects_through_the_callback, |store, db| {
    let w = web(&db).await;
    let (tenant, user) = workspace(&store).await;
    let config = w.state.config.clone();

    // Facebook: three Pages over two result pages (paging.next is followed), so the bot asks which one.
    w.graph.add_page("111", "Bakery Lisbon", Some("17840001"));
    w.graph.add_page("112", "Bakery Porto", None);
    w.graph.add_page("113", "Bakery Faro", None);
    let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::FacebookPage).await.unwrap();
    assert!(url.contains("/v25.0/dialog/oauth?") && url.contains("client_id=meta-app"));
    let (status, _, page) = w.get(&consent(&url).await).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Bakery Faro") && page.contains("Ana (@ana)"), "{page}");
    assert!(store.accounts(tenant).await.unwrap().is_empty(), "nothing stored before the confirmation");
    assert!(notifications(&w, tenant).await.is_empty(), "the chat is asked only once the browser confirmed");
    let (status, _, page) = w.answer_page(&page, "confirm").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Almost done"));
    assert!(store.accounts(tenant).await.unwrap().is_empty(), "nothing stored before the choice");
    let ask = notifications(&w, tenant).await;
    let buttons = ask[0]["buttons"].as_array().unwrap();
    assert_eq!(buttons.len(), 3);
    let data = buttons[2][0]["callback_data"].as_str().unwrap();
    let (_, fields) = tochen_telegram::button::split(data);
    // A forged button with an index past the list is refused and does not use up the real choice.
    assert!(choose(&store, &config, tenant, user, fields[0], 3).await.is_err());
    assert!(store.accounts(tenant).await.unwrap().is_empty());
    let account = choose(&store, &config, tenant, user, fields[0], fields[1].parse().unwrap()).await.unwrap();
    assert_eq!((account.name.as_str(), account.external_id.as_str()), ("Bakery Faro", "113"));
    assert!(account.scopes.contains(&"pages_manage_posts".to_string()));
    assert_eq!(account.token_expires_at, None, "page tokens from a long-lived user token do not expire");
    assert!(choose(&store, &config, tenant, user, fields[0], 0).await.is_err(), "a choice is single-use");
    assert_eq!(w.graph.calls_to("/113/subscribed_apps").len(), 1, "the Page is subscribed to webhooks");

    // Instagram via the Page's linked business account.
    let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::InstagramViaPage).await.unwrap();
    let (status, _, _) = w.consent_and_confirm(&url).await;
    assert_eq!(status, 200);
    let ig = store.accounts(tenant).await.unwrap().into_iter().find(|a| a.platform == Platform::Instagram).unwrap();
    assert_eq!((ig.external_id.as_str(), ig.auth_kind), ("17840001", AuthKind::InstagramViaPage));

    // Instagram Login: short-lived token from api.instagram.com, then the long-lived one.
    let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::InstagramLogin).await.unwrap();
    assert!(url.contains("/oauth/authorize?client_id=ig-app"));
    let (status, _, page) = w.consent_and_confirm(&url).await;
    assert_eq!(status, 200, "{page}");
    let login =
        store.accounts(tenant).await.unwrap().into_iter().find(|a| a.auth_kind == AuthKind::InstagramLogin).unwrap();
    assert!(login.token_expires_at.unwrap() > tochen_domain::clock::now_ms() + 50 * 86_400_000);
    assert!(login.scopes.contains(&"instagram_business_content_publish".to_string()));

    // TikTok with PKCE: the fake checks the verifier against the challenge.
    let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::TikTok).await.unwrap();
    assert!(url.contains("client_key=tt-key") && url.contains("code_challenge_method=S256"));
    let (status, _, page) = w.consent_and_confirm(&url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("@fake_creator"));
    let tt = store.accounts(tenant).await.unwrap().into_iter().find(|a| a.platform == Platform::TikTok).unwrap();
    assert!(tt.refresh_expires_at.is_some() && tt.token_expires_at.is_some());
    assert_eq!(tt.status, AccountStatus::Active);

    // Tokens are encrypted at rest and decrypt to what the provider issued.
    let raw: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT access_token_enc, refresh_token_enc FROM social_accounts")
            .fetch_all(store.sql_for_tests())
            .await
            .unwrap();
    assert_eq!(raw.len(), 4);
    for (access, _) in &raw {
        assert!(!access.contains("page-token") && !access.contains("act.") && !access.contains("ig-long"));
    }
    let tokens = store.account_tokens(tenant, tt.id).await.unwrap();
    assert!(tokens.access_token.expose().starts_with("act.fake"));
    assert!(tokens.refresh_token.unwrap().expose().starts_with("rft.fake"));
    let told = notifications(&w, tenant).await;
    assert_eq!(told.iter().filter(|n| n["text_html"].as_str().unwrap().starts_with("✅")).count(), 3);
    db.store.close().await;
});

tochen_testkit::store_test!(refused_callbacks_store_nothing, |store, db| {
    let w = web(&db).await;
    let (tenant, user) = workspace(&store).await;
    let config = w.state.config.clone();
    w.graph.add_page("111", "Bakery", None);

    // Denied consent.
    w.graph.deny_consent(true);
    let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::FacebookPage).await.unwrap();
    let callback = consent(&url).await;
    assert!(callback.contains("error=access_denied"));
    let (status, _, page) = w.get(&callback).await;
    assert_eq!(status, 200);
    assert!(page.contains("Connection cancelled"));
    w.graph.deny_consent(false);

    // Replayed state: the second use of a good link.
    let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::FacebookPage).await.unwrap();
    let callback = consent(&url).await;
    w.get(&callback).await;
    let before = store.accounts(tenant).await.unwrap().len();
    let (status, _, page) = w.get(&callback).await;
    assert_eq!(status, 400);
    assert!(page.contains("already used"));
    assert_eq!(store.accounts(tenant).await.unwrap().len(), before);
    sqlx::query("DELETE FROM social_accounts").execute(store.sql_for_tests()).await.unwrap();

    // Unknown and missing state.
    let (status, _, page) = w.get("/oauth/facebook/callback?code=x&state=forged").await;
    assert_eq!(status, 400);
    assert!(page.contains("Unknown sign-in link"));
    assert_eq!(w.get("/oauth/facebook/callback?code=x").await.0, 400);

    // Expired state.
    let state = "expired-state-value";
    store
        .create_oauth_state(&NewOAuthState {
            state_hash: state_hash(state),
            tenant_id: tenant,
            user_id: user,
            chat_id: 4242,
            platform: Platform::Facebook,
            auth_kind: AuthKind::FacebookPage,
            pkce_verifier: None,
            expires_at: tochen_domain::clock::now_ms() - 1000,
        })
        .await
        .unwrap();
    let (status, _, page) = w.get(&format!("/oauth/facebook/callback?code=x&state={state}")).await;
    assert_eq!(status, 400);
    assert!(page.contains("expired"));

    // A failed exchange (the provider refuses the code).
    let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::FacebookPage).await.unwrap();
    let callback = consent(&url).await;
    w.graph.fail_next("oauth/access_token", 400, 100, Some(36007), "Invalid verification code format.");
    let (status, _, page) = w.get(&callback).await;
    assert_eq!(status, 502);
    assert!(page.contains("Invalid verification code format."));

    // A state minted for TikTok cannot be spent on the Facebook callback.
    let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::TikTok).await.unwrap();
    let tt_state = url::Url::parse(&url).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.to_string();
    assert_eq!(w.get(&format!("/oauth/facebook/callback?code=x&state={tt_state}")).await.0, 400);

    assert!(store.accounts(tenant).await.unwrap().is_empty(), "no refused callback stored an account");
    let told: Vec<String> =
        notifications(&w, tenant).await.iter().map(|n| n["text_html"].as_str().unwrap().to_string()).collect();
    assert!(told.iter().any(|t| t.contains("cancelled")), "{told:?}");
    assert!(told.iter().any(|t| t.contains("Invalid verification code format.")), "{told:?}");
    db.store.close().await;
});

tochen_testkit::store_test!(
    a_sign_in_connects_nothing_until_confirmed_on_a_page_naming_workspace_and_requester,
    |store, db| {
        let w = web(&db).await;
        let config = w.state.config.clone();
        // A sign-in link forwarded to someone else: the page they land on must say where their Pages would go, with
        // every name escaped.
        let who = TelegramIdentity {
            telegram_id: 4242,
            username: Some("ana_l".into()),
            first_name: "Ana <i>".into(),
            last_name: Some("Lima".into()),
            language_code: Some("en".into()),
        };
        let user = store.upsert_user(&who).await.unwrap().id;
        let tenant = store.create_tenant("Bakery <b>& Co</b>", &TenantProfile::default(), 0, user).await.unwrap().id;
        let page_token = w.graph.add_page("111", "<script>alert(1)</script>", None);
        let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::FacebookPage).await.unwrap();
        let (status, headers, page) = w.get(&consent(&url).await).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("<h1>Connect to Bakery &lt;b&gt;&amp; Co&lt;/b&gt;?</h1>"), "{page}");
        assert!(page.contains("<b>Ana &lt;i&gt; Lima (@ana_l)</b>"), "{page}");
        assert!(
            page.contains("<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>") && !page.contains("<script>"),
            "{page}"
        );
        assert!(page.contains("Facebook"), "{page}");
        assert_eq!(headers["x-frame-options"], "DENY", "the confirm button cannot be framed");
        assert!(headers["content-security-policy"].contains("frame-ancestors 'none'"));
        assert_eq!(headers["cache-control"], "no-store");

        // Nothing is connected before the confirmation; what the sign-in returned waits encrypted.
        assert!(store.accounts(tenant).await.unwrap().is_empty());
        assert!(notifications(&w, tenant).await.is_empty());
        let (parked,): (String,) = sqlx::query_as("SELECT candidates_enc FROM pending_connections")
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap();
        assert!(parked.starts_with("gAAAAA") && !parked.contains(&page_token));

        // Only the page's own form gets through: a forged or empty token, an unknown action, or a GET store nothing.
        for (token, action) in [("forged", "confirm"), ("", "confirm"), (form_token(&page).as_str(), "steal")] {
            let (status, _, refused) = w.post_form("/oauth/confirm", &[("token", token), ("action", action)]).await;
            assert_eq!(status, 400, "{refused}");
            assert!(refused.contains("This confirmation is no longer valid"), "{refused}");
        }
        assert_eq!(w.get(&format!("/oauth/confirm?token={}&action=confirm", form_token(&page))).await.0, 405);
        assert!(store.accounts(tenant).await.unwrap().is_empty());

        // Whoever opened the link does not know this workspace: they cancel, and the tokens are deleted.
        let (status, _, done) = w.answer_page(&page, "cancel").await;
        assert_eq!(status, 200, "{done}");
        assert!(done.contains("Nothing was connected"), "{done}");
        assert_eq!(w.count("SELECT COUNT(*) FROM pending_connections").await, 0);
        let told: Vec<String> =
            notifications(&w, tenant).await.iter().map(|n| n["text_html"].as_str().unwrap().to_string()).collect();
        assert_eq!(told, ["The Facebook sign-in was cancelled on the confirmation page, so nothing was connected."]);
        let (status, _, again) = w.answer_page(&page, "confirm").await;
        assert_eq!(status, 400, "a cancelled page cannot be confirmed: {again}");
        assert!(store.accounts(tenant).await.unwrap().is_empty());
        assert!(w.graph.calls_to("/subscribed_apps").is_empty());

        // Confirmed: stored once, with the Page subscribed; the same page cannot confirm or cancel again.
        let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::FacebookPage).await.unwrap();
        let (_, _, page) = w.get(&consent(&url).await).await;
        let (status, _, done) = w.answer_page(&page, "confirm").await;
        assert_eq!(status, 200, "{done}");
        assert!(done.contains("Account connected"), "{done}");
        assert_eq!(store.accounts(tenant).await.unwrap().len(), 1);
        assert_eq!(w.graph.calls_to("/111/subscribed_apps").len(), 1);
        assert_eq!(w.answer_page(&page, "confirm").await.0, 400);
        assert_eq!(w.answer_page(&page, "cancel").await.0, 400);
        assert_eq!(store.accounts(tenant).await.unwrap().len(), 1);
        assert_eq!(w.count("SELECT COUNT(*) FROM pending_connections").await, 0, "no token left waiting");
        db.store.close().await;
    }
);

tochen_testkit::store_test!(the_confirmation_page_speaks_the_requesters_language, |store, db| {
    let w = web(&db).await;
    let config = w.state.config.clone();
    let who = TelegramIdentity {
        telegram_id: 4242,
        username: None,
        first_name: "Оксана".into(),
        last_name: None,
        language_code: Some("uk".into()),
    };
    let user = store.upsert_user(&who).await.unwrap().id;
    let tenant = store.create_tenant("Пекарня", &TenantProfile::default(), 0, user).await.unwrap().id;
    let url = authorize_url(&store, &config, tenant, user, 4242, AuthKind::TikTok).await.unwrap();
    // The browser asks for English; the page follows the person who asked for the link.
    let callback = consent(&url).await;
    let req = axum::http::Request::get(&callback).header("accept-language", "en-US").body(axum::body::Body::empty());
    let (status, _, page) = w.send(req.unwrap()).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<html lang=\"uk\">") && page.contains("Підключити до Пекарня?"), "{page}");
    assert!(page.contains("<b>Оксана</b>") && page.contains("@fake_creator"), "{page}");
    let (status, _, done) = w.answer_page(&page, "cancel").await;
    assert_eq!(status, 200);
    assert!(done.contains("Нічого не підключено"), "{done}");
    db.store.close().await;
});
