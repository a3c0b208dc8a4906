//! Secrets at rest, on both databases: `rotate-keys` re-encrypts every column that holds Fernet text (found by
//! reading the schema and scanning every text column, not from a list), the tokens of Pages not chosen after a
//! sign-in are deleted once the choice is made, cancelled or expired, and a disconnected account keeps no token:
//! the one the provider needs waits for its `account.revoke` job, which revokes it (against the fake providers)
//! and deletes it, and leaves a Facebook grant alone while another account still relies on it.

use std::collections::{BTreeSet, HashMap};
use tochen_config::Config;
use tochen_config::DatabaseKind;
use tochen_domain::clock::now_ms;
use tochen_domain::jobs::{RevokePayload, ACCOUNT_REVOKE};
use tochen_domain::{AccountId, SecretBox, SecretString, TenantId, UserId};
use tochen_domain::{AccountStatus, AuthKind, JobState, Platform};
use tochen_platforms::oauth::{self, Connected, STATE_TTL_MS};
use tochen_platforms::pending::{self, Candidate, PendingError};
use tochen_platforms::revoke::{give_up, revoke, RevokeJobError, RevokeOutcome};
use tochen_store::{NewAccount, NewDestination, NewOAuthState, OAuthState, TelegramIdentity, TenantProfile};
use tochen_store::{Store, StoreError};
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_tiktok::FakeTikTok;
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64) -> (TenantId, UserId) {
    let who = TelegramIdentity {
        telegram_id,
        username: Some(format!("admin{telegram_id}")),
        first_name: "Ana".into(),
        last_name: None,
        language_code: Some("en".into()),
    };
    let admin = store.upsert_user(&who).await.unwrap();
    let t = store.create_tenant(&format!("Team {telegram_id}"), &TenantProfile::default(), 0, admin.id).await.unwrap();
    (t.id, admin.id)
}

/// (table, column) of every text column of the schema, read from the database itself.
async fn text_columns(store: &Store) -> BTreeSet<(String, String)> {
    let sql = match store.backend() {
        DatabaseKind::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND UPPER(p.type) = 'TEXT'"
        }
        DatabaseKind::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND data_type = 'text'"
        }
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(store.sql_for_tests()).await.unwrap();
    assert!(rows.len() > 50, "the schema was read: {rows:?}");
    rows.into_iter().collect()
}

/// Every value in the database that is Fernet text (version byte 0x80: `gAAAAA` in base64): (table, column, value).
async fn fernet_values(store: &Store) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (table, column) in text_columns(store).await {
        let sql = format!("SELECT \"{column}\" FROM \"{table}\" WHERE \"{column}\" LIKE 'gAAAAA%'");
        let values: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(store.sql_for_tests()).await.unwrap();
        out.extend(values.into_iter().map(|(v,)| (table.clone(), column.clone(), v)));
    }
    out
}

/// Every secret in the database, decrypted with the store's keys.
async fn plaintexts(store: &Store) -> Vec<String> {
    fernet_values(store).await.iter().map(|(_, _, v)| store.secrets().decrypt(v).unwrap().expose().to_owned()).collect()
}

fn account(platform: Platform, kind: AuthKind, external_id: &str, token: &str) -> NewAccount {
    NewAccount {
        platform,
        auth_kind: kind,
        external_id: external_id.into(),
        name: format!("acct {external_id}"),
        access_token: SecretString::new(token),
        refresh_token: Some(SecretString::new(format!("{token}-refresh"))),
        scopes: vec![],
        token_expires_at: None,
        refresh_expires_at: None,
        connected_by: None,
    }
}

fn candidates(ids: &[&str]) -> Vec<Candidate> {
    ids.iter()
        .map(|id| Candidate {
            auth_kind: AuthKind::InstagramViaPage,
            external_id: format!("ig-{id}"),
            name: format!("Page {id}"),
            access_token: format!("page-token-{id}"),
            refresh_token: None,
            scopes: vec!["instagram_content_publish".into()],
            token_expires_at: None,
            refresh_expires_at: None,
            grantor_id: Some("10001".into()),
        })
        .collect()
}

fn sign_in(tenant: TenantId, user: UserId) -> OAuthState {
    OAuthState {
        tenant_id: tenant,
        user_id: user,
        chat_id: 4242,
        platform: Platform::Instagram,
        auth_kind: AuthKind::InstagramViaPage,
        pkce_verifier: None,
    }
}

fn config(graph: &str, tiktok: &str) -> Config {
    let env: HashMap<String, String> = [
        ("META_APP_ID", "meta-app"),
        ("META_APP_SECRET", "meta-secret"),
        ("META_GRAPH_URL", graph),
        ("TIKTOK_CLIENT_KEY", "tt-key"),
        ("TIKTOK_CLIENT_SECRET", "tt-secret"),
        ("TIKTOK_API_URL", tiktok),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Config::from_source(&env).unwrap()
}

/// One row in every table that holds a secret, through the code that writes it.
async fn seed_every_secret(store: &Store) {
    let (tenant, user) = workspace(store, 1).await;
    store.upsert_account(tenant, &account(Platform::Facebook, AuthKind::FacebookPage, "p1", "fb-token")).await.unwrap();
    let tt =
        store.upsert_account(tenant, &account(Platform::TikTok, AuthKind::TikTok, "open-1", "act.1")).await.unwrap();
    store.disconnect_account(tenant, tt.id).await.unwrap();
    let ad = tochen_store::NewAdAccount {
        platform: tochen_domain::ads::AdPlatform::Meta,
        account_ref: "1234567890".into(),
        name: "Shop".into(),
        currency: "EUR".into(),
        zone: "Europe/Berlin".into(),
        status: "1".into(),
        disable_reason: Some(0),
        token: SecretString::new("EAA-ads-token"),
        connected_by: None,
    };
    store.upsert_ad_account(tenant, &ad).await.unwrap();
    let hook = NewDestination::Webhook {
        name: "hook".into(),
        url: "https://hooks.example/x".into(),
        secret: SecretString::new("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="),
    };
    store.create_destination(tenant, &hook).await.unwrap();
    store
        .create_oauth_state(&NewOAuthState {
            state_hash: "h1".into(),
            tenant_id: tenant,
            user_id: user,
            chat_id: 1,
            platform: Platform::TikTok,
            auth_kind: AuthKind::TikTok,
            pkce_verifier: Some(SecretString::new("verifier")),
            expires_at: i64::MAX,
        })
        .await
        .unwrap();
    pending::park(store, &sign_in(tenant, user), &candidates(&["1", "2"])).await.unwrap();
    // An ad account sign-in parked after its callback: the token and the accounts it brought, until one is picked.
    let ad_sign_in = tochen_store::NewAdSignIn {
        id: "ads-1",
        tenant_id: tenant,
        user_id: user,
        chat_id: 1,
        platform: tochen_domain::ads::AdPlatform::Meta,
        state_hash: "ads-state",
        created_at: 0,
        expires_at: i64::MAX,
    };
    store.insert_ad_sign_in(&ad_sign_in).await.unwrap();
    store.spend_ad_sign_in_state(ad_sign_in.platform, "ads-state", 1).await.unwrap().expect("the callback's state");
    let token = SecretString::new("EAA-sign-in-token");
    store.park_ad_sign_in("ads-1", &token, r#"[{"id":"act_1"}]"#, "ads-confirm", i64::MAX).await.unwrap();
}

store_test!(rotate_keys_reencrypts_every_column_that_holds_fernet_text, |store, db| {
    seed_every_secret(&store).await;
    // Encrypted columns are named `*_enc`; each one got a secret from the seed, and Fernet text lives nowhere else.
    // A new encrypted column therefore fails here until the seed writes it (and then below until it rotates).
    let enc: BTreeSet<(String, String)> =
        text_columns(&store).await.into_iter().filter(|c| c.1.ends_with("_enc")).collect();
    let holding: BTreeSet<(String, String)> = fernet_values(&store).await.into_iter().map(|(t, c, _)| (t, c)).collect();
    assert_eq!(holding, enc, "the columns holding Fernet text are exactly the *_enc columns, each seeded");
    assert!(holding.contains(&("pending_connections".into(), "candidates_enc".into())));
    assert!(holding.contains(&("token_revocations".into(), "token_enc".into())));
    assert!(holding.contains(&("ad_sign_ins".into(), "candidates_enc".into())));

    let new_key = SecretBox::generate_key();
    let both = SecretBox::from_keys(&[SecretString::new(new_key.clone()), SecretString::new(db.key.clone())]).unwrap();
    let rotating = Store::connect(&db.url, 2, both).await.unwrap();
    let report = rotating.rotate_secrets().await.unwrap();
    assert_eq!(rotating.rotate_secrets().await.unwrap().reencrypted(), 0, "a second run has nothing to do");
    rotating.close().await;

    let only_new = SecretBox::from_keys(&[SecretString::new(new_key)]).unwrap();
    let after = fernet_values(&store).await;
    assert_eq!(after.iter().map(|(t, c, _)| (t.clone(), c.clone())).collect::<BTreeSet<_>>(), holding);
    for (table, column, value) in &after {
        assert!(
            only_new.decrypt(value).is_ok(),
            "{table}.{column} still holds a secret only the old key opens: rotate-keys left it out ({report:?})"
        );
    }
    assert_eq!(report.reencrypted(), after.len() as u64, "{report:?}");
});

store_test!(the_tokens_of_pages_not_chosen_are_deleted_once_the_choice_is_made, |store| {
    let (tenant, user) = workspace(&store, 1).await;
    let config = config("http://127.0.0.1:9", "http://127.0.0.1:9");
    let (id, confirm) =
        pending::park(&store, &sign_in(tenant, user), &candidates(&["111", "112", "113"])).await.unwrap();
    let parked = plaintexts(&store).await;
    assert!(parked.iter().any(|p| p.contains("page-token-111") && p.contains("page-token-113")), "the scan sees them");

    // Nothing can be chosen before the browser confirmed.
    assert!(oauth::choose(&store, &config, tenant, user, &id, 0).await.is_err());
    let Connected::Choose { pending_id, names, .. } = oauth::confirm(&store, &config, &confirm).await.unwrap() else {
        panic!("three Pages are offered in the chat");
    };
    assert_eq!(names, ["Page 111", "Page 112", "Page 113"]);
    assert!(matches!(
        oauth::confirm(&store, &config, &confirm).await,
        Err(oauth::ConnectError::Pending(PendingError::Unknown))
    ));
    let chosen = oauth::choose(&store, &config, tenant, user, &pending_id, 2).await.unwrap();
    assert_eq!(chosen.external_id, "ig-113");

    let left = plaintexts(&store).await;
    assert_eq!(left, ["page-token-113"], "only the chosen Page's token remains, on its account");
    let (rows,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM pending_connections").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(rows, 0);
    assert!(oauth::choose(&store, &config, tenant, user, &pending_id, 0).await.is_err(), "the choice is spent");
});

store_test!(sign_ins_cancelled_or_expired_leave_no_token_behind, |store| {
    let (tenant, user) = workspace(&store, 1).await;
    let config = config("http://127.0.0.1:9", "http://127.0.0.1:9");
    // Cancelled on the confirmation page.
    let (_, cancel) = pending::park(&store, &sign_in(tenant, user), &candidates(&["201", "202"])).await.unwrap();
    let who = oauth::cancel(&store, &cancel).await.unwrap();
    assert_eq!((who.tenant_id, who.user_id, who.chat_id), (tenant, user, 4242));
    assert!(plaintexts(&store).await.is_empty());
    assert!(oauth::confirm(&store, &config, &cancel).await.is_err(), "a cancelled sign-in cannot be confirmed");

    // Never confirmed, and confirmed but never chosen from: both expire, and the sweep deletes them.
    pending::park(&store, &sign_in(tenant, user), &candidates(&["301", "302"])).await.unwrap();
    let (_, confirm) = pending::park(&store, &sign_in(tenant, user), &candidates(&["401", "402"])).await.unwrap();
    oauth::confirm(&store, &config, &confirm).await.unwrap();
    assert_eq!(pending::delete_expired(&store, now_ms()).await.unwrap(), 0, "nothing expired yet");
    assert_eq!(plaintexts(&store).await.len(), 2);
    assert_eq!(pending::delete_expired(&store, now_ms() + STATE_TTL_MS + 1_000).await.unwrap(), 2);
    assert!(plaintexts(&store).await.is_empty(), "no token of an unchosen Page remains in any table");
});

store_test!(disconnecting_deletes_the_tokens_and_queues_one_revocation, |store| {
    let (tenant, _) = workspace(&store, 1).await;
    let (other, _) = workspace(&store, 2).await;
    let tt =
        store.upsert_account(tenant, &account(Platform::TikTok, AuthKind::TikTok, "open-1", "act.1")).await.unwrap();
    let ig = account(Platform::Instagram, AuthKind::InstagramLogin, "ig-1", "ig-long-1");
    let ig = store.upsert_account(tenant, &ig).await.unwrap();

    assert!(
        matches!(store.disconnect_account(other, tt.id).await, Err(StoreError::NotFound(_))),
        "not across workspaces"
    );
    let (was, queued) = store.disconnect_account(tenant, tt.id).await.unwrap();
    assert!(queued);
    assert_eq!(was.name, "acct open-1");
    assert_eq!(store.account(tenant, tt.id).await.unwrap().status, AccountStatus::Disconnected);
    assert!(store.account_tokens(tenant, tt.id).await.is_err(), "no token to decrypt any more");
    let raw: (String, Option<String>) =
        sqlx::query_as("SELECT access_token_enc, refresh_token_enc FROM social_accounts WHERE id = $1")
            .bind(tt.id.to_db())
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap();
    assert_eq!(raw, (String::new(), None), "the account row keeps no token");
    assert_eq!(plaintexts(&store).await.iter().filter(|p| p.starts_with("act.1")).count(), 1, "parked once, to revoke");

    let jobs = store.tenant_jobs(tenant, JobState::Queued, 10).await.unwrap();
    let revokes: Vec<_> = jobs.iter().filter(|j| j.kind == ACCOUNT_REVOKE).collect();
    assert_eq!(revokes.len(), 1);
    let p: RevokePayload = serde_json::from_value(revokes[0].payload.clone()).unwrap();
    let parked = store.token_revocation(tenant, &p.revocation_id).await.unwrap().unwrap();
    assert_eq!((parked.account_id, parked.token.expose()), (tt.id, "act.1"));
    assert!(store.token_revocation(other, &p.revocation_id).await.unwrap().is_none());

    // Instagram Login has no revocation endpoint: its tokens are simply deleted.
    let (_, queued) = store.disconnect_account(tenant, ig.id).await.unwrap();
    assert!(!queued);
    assert!(!plaintexts(&store).await.iter().any(|p| p.starts_with("ig-long-1")));

    // A refresh that raced the disconnect does not put tokens back.
    let fresh = tochen_store::AccountTokens { access_token: SecretString::new("act.2"), refresh_token: None };
    store.update_account_tokens(tenant, tt.id, &fresh, None, None).await.unwrap();
    assert!(store.account_tokens(tenant, tt.id).await.is_err());
});

/// The parked revocation of `account`, found through its queued `account.revoke` job.
async fn revocation_of(store: &Store, tenant: TenantId, account: AccountId) -> String {
    for job in store.tenant_jobs(tenant, JobState::Queued, 50).await.unwrap() {
        if job.kind != ACCOUNT_REVOKE {
            continue;
        }
        let id = serde_json::from_value::<RevokePayload>(job.payload).unwrap().revocation_id;
        if store.token_revocation(tenant, &id).await.unwrap().is_some_and(|r| r.account_id == account) {
            return id;
        }
    }
    panic!("no revocation queued for {account}");
}

store_test!(a_tiktok_token_is_revoked_at_tiktok_and_then_deleted, |store| {
    let tiktok = FakeTikTok::start().await;
    let config = config("http://127.0.0.1:9", &tiktok.base_url());
    let http = reqwest::Client::new();
    let (tenant, _) = workspace(&store, 1).await;
    let (access, _) = tiktok.issue_tokens();
    let open_id = tiktok.open_id();
    let acc =
        store.upsert_account(tenant, &account(Platform::TikTok, AuthKind::TikTok, &open_id, &access)).await.unwrap();
    store.disconnect_account(tenant, acc.id).await.unwrap();
    let id = revocation_of(&store, tenant, acc.id).await;

    // TikTok down: the token stays parked for the next attempt.
    tiktok.fail_next("/v2/oauth/revoke/", 503, "internal_error", "try later");
    assert!(matches!(revoke(&store, &config, &http, tenant, &id).await, Err(RevokeJobError::Temporary(_))));
    assert!(store.token_revocation(tenant, &id).await.unwrap().is_some());

    assert_eq!(revoke(&store, &config, &http, tenant, &id).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(tiktok.revocations(), std::slice::from_ref(&access));
    assert!(!tiktok.is_valid(&access), "TikTok no longer accepts the token");
    assert!(plaintexts(&store).await.is_empty(), "no copy of the token is left");
    assert_eq!(revoke(&store, &config, &http, tenant, &id).await.unwrap(), RevokeOutcome::AlreadyDone);
});

store_test!(a_facebook_grant_is_revoked_only_once_no_account_relies_on_it, |store| {
    let graph = FakeGraph::start().await;
    let config = config(&graph.base_url(), "http://127.0.0.1:9");
    let http = reqwest::Client::new();
    let (a, _) = workspace(&store, 1).await;
    let (b, _) = workspace(&store, 2).await;
    let t1 = graph.add_page("111", "Lisbon", None);
    let t2 = graph.add_page("112", "Porto", None);
    // The same Facebook user connected one Page to workspace A and another to workspace B.
    let p1 = store.upsert_account(a, &account(Platform::Facebook, AuthKind::FacebookPage, "111", &t1)).await.unwrap();
    let p2 = store.upsert_account(b, &account(Platform::Facebook, AuthKind::FacebookPage, "112", &t2)).await.unwrap();
    store.set_account_grantor(a, p1.id, Some("10001")).await.unwrap();
    store.set_account_grantor(b, p2.id, Some("10001")).await.unwrap();

    store.disconnect_account(a, p1.id).await.unwrap();
    let id = revocation_of(&store, a, p1.id).await;
    assert_eq!(revoke(&store, &config, &http, a, &id).await.unwrap(), RevokeOutcome::StillInUse);
    assert!(graph.revoked_users().is_empty(), "B's Page still relies on the grant");
    assert!(graph.is_valid(&t2));
    assert!(!plaintexts(&store).await.iter().any(|p| p == &t1), "A's token is deleted all the same");

    store.disconnect_account(b, p2.id).await.unwrap();
    let id = revocation_of(&store, b, p2.id).await;
    // Facebook down: the token stays parked for the next attempt.
    graph.fail_next("/permissions", 500, 2, None, "Service temporarily unavailable");
    assert!(matches!(revoke(&store, &config, &http, b, &id).await, Err(RevokeJobError::Temporary(_))));
    assert_eq!(revoke(&store, &config, &http, b, &id).await.unwrap(), RevokeOutcome::Revoked);
    assert_eq!(graph.revoked_users(), ["10001"]);
    let deletes: Vec<_> = graph.calls_to("/10001/permissions").into_iter().filter(|c| c.method == "DELETE").collect();
    assert_eq!(deletes.len(), 2);
    assert_eq!(deletes[1].params["access_token"], "meta-app|meta-secret", "with the app token");
    assert!(!graph.is_valid(&t2));
    assert!(plaintexts(&store).await.is_empty());

    // An account connected before grantors were recorded: the grantor is asked of debug_token.
    let t3 = graph.add_page("113", "Faro", None);
    let p3 = store.upsert_account(a, &account(Platform::Facebook, AuthKind::FacebookPage, "113", &t3)).await.unwrap();
    store.disconnect_account(a, p3.id).await.unwrap();
    let id = revocation_of(&store, a, p3.id).await;
    // The last attempt failing too: the token is deleted anyway.
    graph.fail_next("/permissions", 500, 2, None, "Service temporarily unavailable");
    assert!(matches!(revoke(&store, &config, &http, a, &id).await, Err(RevokeJobError::Temporary(_))));
    let asked = graph.calls_to("/debug_token");
    assert!(asked.iter().any(|c| c.params["input_token"] == t3), "the grantor was asked of debug_token");
    give_up(&store, a, &id).await.unwrap();
    assert!(store.token_revocation(a, &id).await.unwrap().is_none());
    assert!(plaintexts(&store).await.is_empty());
});
