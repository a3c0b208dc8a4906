//! `/api` in the chat: an admin makes a token (name typed, role, scopes and expiry chosen with buttons), sees it
//! once, finds it listed by its first characters, and revokes it; the token authenticates until then and never
//! after. A stale Create, another workspace's token id and a token name that is too long are refused with a clear
//! answer.

use crate::common;

use common::{en, ALICE, BOB};
use tochen_domain::clock::now_ms;
use tochen_domain::{ApiScope, Role};
use tochen_store::NewApiToken;
use tochen_telegram::button::{ApiTokens, Button, TokenSettings};

bot_test!(api_tokens_are_made_once_listed_and_revoked_in_the_chat, |h| {
    let a = h.onboard(ALICE, "Alpha").await;
    let list = h.say(ALICE, "/api", "API tokens").await;
    assert!(list.text.contains(&en("bot.api.none")), "{}", list.text);
    h.press(ALICE, &list, &en("bot.api.btn_new"), "Send a name").await;
    h.say(ALICE, &"x".repeat(65), "1 to 64 characters").await;
    let settings = h.say(ALICE, "n8n", "New token").await;
    assert!(settings.text.contains("<b>n8n</b>"), "{}", settings.text);
    assert!(settings.text.contains("Scopes: read, write"), "the defaults: {}", settings.text);
    let settings = h.press(ALICE, &settings, "publish", "Scopes: read, write, publish").await;
    let settings = h.press(ALICE, &settings, "admin", "Role: admin").await;
    let settings = h.press(ALICE, &settings, "never", "Expires: never").await;
    let made = h.press(ALICE, &settings, &en("bot.api.btn_create"), "Copy it now").await;
    let start = made.text.find("tch_").expect("the token is shown");
    let secret: String = made.text[start..].chars().take(44).collect();
    let token = h.store.authenticate_api_token(&secret, now_ms()).await.unwrap().expect("it works");
    assert_eq!((token.tenant_id, token.role, token.expires_at), (a, Role::Admin, None));
    assert_eq!(token.scopes, vec![ApiScope::Read, ApiScope::Write, ApiScope::Publish]);
    assert!(secret.starts_with(token.shown.trim_end_matches('…')), "{}", token.shown);

    // Listed by its first characters, never whole.
    let list = h.say(ALICE, "/api", "n8n").await;
    assert!(list.text.contains(&token.shown) && !list.text.contains(&secret), "{}", list.text);
    // A stale Create (the dialogue moved on) makes nothing.
    let stale = Button::ApiTokens(ApiTokens::Create(TokenSettings { role: Role::Admin, scopes: 1, expiry_days: 0 }));
    h.press_data_refused(ALICE, &list, &stale.encode(), &en("bot.stale")).await;
    assert_eq!(h.store.api_tokens(a).await.unwrap().len(), 1);
    // Another workspace's token cannot be revoked from here.
    let beta = h.onboard(BOB, "Beta").await;
    let theirs = NewApiToken {
        name: "theirs".into(),
        role: Role::Viewer,
        scopes: vec![ApiScope::Read],
        created_by: None,
        expires_at: None,
    };
    let (their_token, their_secret) = h.store.create_api_token(beta, &theirs, now_ms()).await.unwrap();
    let forged = Button::ApiTokens(ApiTokens::Revoke(their_token.id)).encode();
    h.press_data_refused(ALICE, &list, &forged, &en("bot.api.already_revoked")).await;
    assert!(h.store.authenticate_api_token(&their_secret, now_ms()).await.unwrap().is_some());
    // Revoked: gone from the list, and it no longer authenticates.
    let list = h.press(ALICE, &list, "Revoke n8n", &en("bot.api.none")).await;
    assert!(!list.text.contains("<b>n8n</b>"), "{}", list.text);
    assert!(h.store.authenticate_api_token(&secret, now_ms()).await.unwrap().is_none());
});
