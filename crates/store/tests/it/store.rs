//! Store conformance: every test runs on SQLite and on PostgreSQL (see `tochen_testkit::store_test!`).

use tochen_domain::{AccountStatus, AuthKind, Platform, PostStatus, Role};
use tochen_domain::{SecretBox, SecretString, TenantId, UserId};
use tochen_store::{
    LlmUsageRecord, MembershipError, NewAccount, NewJob, NewOAuthState, OAuthStateError, PostContent, RedeemError,
    TenantProfile,
};
use tochen_store::{Store, StoreError};
use tochen_testkit::person;
use tochen_testkit::store_test;

async fn workspace(store: &Store, telegram_id: i64, name: &str) -> (TenantId, UserId) {
    let admin = store.upsert_user(&person(telegram_id, name)).await.unwrap();
    let t = store.create_tenant(&format!("{name}'s team"), &TenantProfile::default(), 1000, admin.id).await.unwrap();
    (t.id, admin.id)
}

fn account(external_id: &str, token: &str) -> NewAccount {
    NewAccount {
        platform: Platform::Facebook,
        auth_kind: AuthKind::FacebookPage,
        external_id: external_id.into(),
        name: "Bloom Coffee".into(),
        access_token: SecretString::new(token),
        refresh_token: Some(SecretString::new(format!("{token}-refresh"))),
        scopes: vec!["pages_manage_posts".into(), "pages_show_list".into()],
        token_expires_at: Some(1_900_000_000_000),
        refresh_expires_at: None,
        connected_by: None,
    }
}

store_test!(migrations_apply_to_a_fresh_database_and_rerun_as_no_ops, |store| {
    let applied = store.applied_migrations().await.unwrap();
    assert_eq!(applied, store.embedded_migrations());
    assert!(!applied.is_empty());
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.applied_migrations().await.unwrap(), applied);
});

store_test!(creating_a_workspace_makes_the_creator_its_active_admin, |store| {
    let (tenant, admin) = workspace(&store, 100, "Anna").await;
    assert_eq!(store.role_of(tenant, admin).await.unwrap(), Some(Role::Admin));
    let user = store.user(admin).await.unwrap();
    assert_eq!(user.active_tenant_id, Some(tenant));
    let t = store.tenant(tenant).await.unwrap();
    assert_eq!(t.name, "Anna's team");
    assert_eq!(t.llm_monthly_token_quota, 1000);
    let profile = TenantProfile {
        business_description: "Specialty coffee in Lisbon".into(),
        target_audience: "young professionals".into(),
        tone: "playful".into(),
        language: "pt".into(),
        timezone: "Europe/Lisbon".into(),
    };
    store.update_tenant_profile(tenant, &profile).await.unwrap();
    assert_eq!(store.tenant(tenant).await.unwrap().profile, profile);
    assert!(matches!(store.tenant(TenantId::new()).await, Err(StoreError::NotFound(_))));
});

store_test!(upserting_a_user_refreshes_telegram_details_and_keeps_the_override, |store| {
    let u = store.upsert_user(&person(7, "Marco")).await.unwrap();
    store.set_user_language(u.id, Some("de")).await.unwrap();
    let mut again = person(7, "Marco");
    again.first_name = "Marco P".into();
    again.language_code = Some("it".into());
    let u2 = store.upsert_user(&again).await.unwrap();
    assert_eq!(u2.id, u.id);
    assert_eq!(u2.first_name, "Marco P");
    assert_eq!(u2.language(), "de");
    store.set_user_language(u.id, None).await.unwrap();
    assert_eq!(store.user(u.id).await.unwrap().language(), "it");
});

store_test!(invites_are_single_use_and_expire, |store| {
    let (tenant, admin) = workspace(&store, 1, "Anna").await;
    let marco = store.upsert_user(&person(2, "Marco")).await.unwrap();
    let eve = store.upsert_user(&person(3, "Eve")).await.unwrap();
    let inv = store.create_invite(tenant, Role::Editor, admin, 60_000).await.unwrap();
    assert_eq!(store.redeem_invite(&inv.code, marco.id).await.unwrap(), (tenant, Role::Editor));
    assert!(matches!(store.redeem_invite(&inv.code, eve.id).await, Err(RedeemError::Used)));
    assert!(matches!(store.redeem_invite("nope", eve.id).await, Err(RedeemError::Unknown)));
    let old = store.create_invite(tenant, Role::Viewer, admin, -1).await.unwrap();
    assert!(matches!(store.redeem_invite(&old.code, eve.id).await, Err(RedeemError::Expired)));
    assert_eq!(store.role_of(tenant, eve.id).await.unwrap(), None);
    assert_eq!(store.user(marco.id).await.unwrap().active_tenant_id, Some(tenant));
    // An admin following a viewer link keeps admin.
    let v = store.create_invite(tenant, Role::Viewer, admin, 60_000).await.unwrap();
    assert_eq!(store.redeem_invite(&v.code, admin).await.unwrap().1, Role::Admin);
});

store_test!(concurrent_redemptions_of_one_invite_let_exactly_one_through, |store| {
    let (tenant, admin) = workspace(&store, 1, "Anna").await;
    let inv = store.create_invite(tenant, Role::Viewer, admin, 60_000).await.unwrap();
    let mut handles = Vec::new();
    for i in 0..8 {
        let s = store.clone();
        let code = inv.code.clone();
        handles.push(tokio::spawn(async move {
            let u = s.upsert_user(&person(100 + i, "P")).await.unwrap();
            s.redeem_invite(&code, u.id).await.is_ok()
        }));
    }
    let mut wins = 0;
    for h in handles {
        wins += h.await.unwrap() as usize;
    }
    assert_eq!(wins, 1);
    assert_eq!(store.members(tenant).await.unwrap().len(), 2);
});

store_test!(the_last_admin_cannot_step_down_or_be_removed, |store| {
    let (tenant, anna) = workspace(&store, 1, "Anna").await;
    let marco = store.upsert_user(&person(2, "Marco")).await.unwrap();
    store.add_member(tenant, marco.id, Role::Editor).await.unwrap();
    assert!(matches!(store.set_role(tenant, anna, Role::Viewer).await, Err(MembershipError::LastAdmin)));
    assert!(matches!(store.remove_member(tenant, anna).await, Err(MembershipError::LastAdmin)));
    store.set_role(tenant, marco.id, Role::Admin).await.unwrap();
    store.set_role(tenant, anna, Role::Viewer).await.unwrap();
    assert_eq!(store.admin_telegram_ids(tenant).await.unwrap(), vec![2]);
    store.remove_member(tenant, anna).await.unwrap();
    assert!(matches!(store.remove_member(tenant, anna).await, Err(MembershipError::NotMember)));
    assert_eq!(store.user(anna).await.unwrap().active_tenant_id, None);
    let members = store.members(tenant).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].role, Role::Admin);
});

store_test!(a_person_can_belong_to_several_workspaces_and_switch, |store| {
    let (t1, anna) = workspace(&store, 1, "Anna").await;
    let (t2, _) = workspace(&store, 2, "Bob").await;
    assert!(matches!(store.set_active_tenant(anna, t2).await, Err(StoreError::NotFound(_))));
    store.add_member(t2, anna, Role::Viewer).await.unwrap();
    store.set_active_tenant(anna, t2).await.unwrap();
    let mine = store.tenants_of(anna).await.unwrap();
    assert_eq!(mine.iter().map(|m| (m.0, m.2)).collect::<Vec<_>>(), vec![(t1, Role::Admin), (t2, Role::Viewer)]);
    assert_eq!(store.user(anna).await.unwrap().active_tenant_id, Some(t2));
});

store_test!(tokens_are_encrypted_at_rest_and_decrypt_on_request, |store| {
    let (tenant, _) = workspace(&store, 1, "Anna").await;
    let acc = store.upsert_account(tenant, &account("page-1", "EAAGplaintexttoken")).await.unwrap();
    let (raw_access, raw_refresh): (String, Option<String>) =
        sqlx::query_as("SELECT access_token_enc, refresh_token_enc FROM social_accounts WHERE id = $1")
            .bind(acc.id.to_db())
            .fetch_one(store.sql_for_tests())
            .await
            .unwrap();
    assert!(!raw_access.contains("EAAG") && !raw_access.contains("plaintext"));
    assert!(!raw_refresh.unwrap().contains("plaintext"));
    let tokens = store.account_tokens(tenant, acc.id).await.unwrap();
    assert_eq!(tokens.access_token.expose(), "EAAGplaintexttoken");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "EAAGplaintexttoken-refresh");
    assert_eq!(acc.scopes, vec!["pages_manage_posts", "pages_show_list"]);
    // Reconnecting the same page refreshes it in place.
    store.set_account_status(tenant, acc.id, AccountStatus::NeedsReconnect, Some("190/463")).await.unwrap();
    let again = store.upsert_account(tenant, &account("page-1", "EAAGnewtoken")).await.unwrap();
    assert_eq!(again.id, acc.id);
    assert_eq!(again.status, AccountStatus::Active);
    assert_eq!(store.account_tokens(tenant, acc.id).await.unwrap().access_token.expose(), "EAAGnewtoken");
});

store_test!(stored_tokens_decrypt_with_python_cryptography, |store, db| {
    let probe = std::process::Command::new("python3").args(["-c", "import cryptography.fernet"]).status();
    if !matches!(probe, Ok(s) if s.success()) {
        assert!(std::env::var("TOCHEN_REQUIRE_PYTHON").is_err(), "python3 with cryptography is required");
        eprintln!("skipped: python3 with `cryptography` is not installed");
        return;
    }
    let (tenant, _) = workspace(&store, 1, "Anna").await;
    let acc = store.upsert_account(tenant, &account("page-9", "EAAG-python-check")).await.unwrap();
    let (raw,): (String,) = sqlx::query_as("SELECT access_token_enc FROM social_accounts WHERE id = $1")
        .bind(acc.id.to_db())
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom cryptography.fernet import Fernet\nprint(Fernet(sys.argv[1].encode()).decrypt(sys.argv[2].encode()).decode())",
            &db.key,
            &raw,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "EAAG-python-check");
});

store_test!(rotation_reencrypts_every_secret_under_the_first_key, |store, db| {
    let (tenant, anna) = workspace(&store, 1, "Anna").await;
    let acc = store.upsert_account(tenant, &account("page-1", "EAAG-rotate-me")).await.unwrap();
    store
        .create_oauth_state(&NewOAuthState {
            state_hash: "h1".into(),
            tenant_id: tenant,
            user_id: anna,
            chat_id: 1,
            platform: Platform::TikTok,
            auth_kind: AuthKind::TikTok,
            pkce_verifier: Some(SecretString::new("verifier")),
            expires_at: i64::MAX,
        })
        .await
        .unwrap();
    let new_key = SecretBox::generate_key();
    let both = SecretBox::from_keys(&[SecretString::new(new_key.clone()), SecretString::new(db.key.clone())]).unwrap();
    let rotated_store = Store::connect(&db.url, 2, both).await.unwrap();
    let report = rotated_store.rotate_secrets().await.unwrap();
    assert_eq!(report.reencrypted(), 3, "{report:?}");
    assert_eq!(rotated_store.rotate_secrets().await.unwrap().reencrypted(), 0, "second run has nothing to do");
    rotated_store.close().await;
    let only_new =
        Store::connect(&db.url, 2, SecretBox::from_keys(&[SecretString::new(new_key)]).unwrap()).await.unwrap();
    assert_eq!(only_new.account_tokens(tenant, acc.id).await.unwrap().access_token.expose(), "EAAG-rotate-me");
    assert_eq!(only_new.consume_oauth_state("h1").await.unwrap().pkce_verifier.unwrap().expose(), "verifier");
    only_new.close().await;
    assert!(store.account_tokens(tenant, acc.id).await.is_err(), "the old key alone no longer decrypts");
});

store_test!(oauth_states_are_single_use_and_expire, |store| {
    let (tenant, anna) = workspace(&store, 1, "Anna").await;
    let mk = |hash: &str, expires_at| NewOAuthState {
        state_hash: hash.into(),
        tenant_id: tenant,
        user_id: anna,
        chat_id: 42,
        platform: Platform::Instagram,
        auth_kind: AuthKind::InstagramLogin,
        pkce_verifier: None,
        expires_at,
    };
    store.create_oauth_state(&mk("fresh", i64::MAX)).await.unwrap();
    store.create_oauth_state(&mk("stale", 1)).await.unwrap();
    let s = store.consume_oauth_state("fresh").await.unwrap();
    assert_eq!((s.tenant_id, s.user_id, s.chat_id, s.platform), (tenant, anna, 42, Platform::Instagram));
    assert!(matches!(store.consume_oauth_state("fresh").await, Err(OAuthStateError::Replayed)));
    assert!(matches!(store.consume_oauth_state("stale").await, Err(OAuthStateError::Expired)));
    assert!(matches!(store.consume_oauth_state("never").await, Err(OAuthStateError::Unknown)));
    assert_eq!(store.delete_expired_oauth_states(tochen_domain::clock::now_ms()).await.unwrap(), 1);
});

store_test!(webhook_events_are_deduplicated_by_source_and_key, |store| {
    assert!(store.record_webhook_event("meta", "abc", None, "{}").await.unwrap().is_some());
    assert!(store.record_webhook_event("meta", "abc", None, "{}").await.unwrap().is_none());
    assert!(store.record_webhook_event("tiktok", "abc", None, "{}").await.unwrap().is_some());
});

store_test!(dialogue_state_is_keyed_by_chat_and_user, |store| {
    store.set_dialogue_state(-100, 1, r#"{"s":"a"}"#).await.unwrap();
    store.set_dialogue_state(-100, 2, r#"{"s":"b"}"#).await.unwrap();
    store.set_dialogue_state(-100, 1, r#"{"s":"c"}"#).await.unwrap();
    assert_eq!(store.dialogue_state(-100, 1).await.unwrap().as_deref(), Some(r#"{"s":"c"}"#));
    assert_eq!(store.dialogue_state(-100, 2).await.unwrap().as_deref(), Some(r#"{"s":"b"}"#));
    store.migrate_dialogue_chat(-100, -1001).await.unwrap();
    assert_eq!(store.dialogue_state(-1001, 2).await.unwrap().as_deref(), Some(r#"{"s":"b"}"#));
    store.remove_dialogue_state(-1001, 2).await.unwrap();
    assert_eq!(store.dialogue_state(-1001, 2).await.unwrap(), None);
});

store_test!(unique_keys_prevent_duplicate_jobs, |store| {
    let job = NewJob::untyped("publish", serde_json::json!({"target": "t1"})).unique("publish:t1");
    assert!(store.enqueue(&job).await.unwrap().is_some());
    assert!(store.enqueue(&job).await.unwrap().is_none());
    let id = store.enqueue(&NewJob::untyped("publish", serde_json::json!({}))).await.unwrap().unwrap();
    let stored = store.job(id).await.unwrap().unwrap();
    assert_eq!(stored.state, tochen_domain::JobState::Queued);
    assert_eq!(stored.attempts, 0);
});

store_test!(llm_usage_totals_count_only_the_workspace_and_period, |store| {
    let (a, _) = workspace(&store, 1, "Anna").await;
    let (b, _) = workspace(&store, 2, "Bob").await;
    let rec = |tokens: i64, error: Option<&str>| LlmUsageRecord {
        user_id: None,
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        request_type: "ideas".into(),
        prompt_tokens: tokens,
        completion_tokens: 10,
        images: 0,
        cost_micros: 150,
        latency_ms: 800,
        error: error.map(str::to_owned),
    };
    store.record_llm_usage(a, &rec(100, None)).await.unwrap();
    store.record_llm_usage(a, &rec(50, Some("429 rate_limit_exceeded"))).await.unwrap();
    store.record_llm_usage(b, &rec(9999, None)).await.unwrap();
    let u = store.llm_usage_since(a, 0).await.unwrap();
    assert_eq!((u.calls, u.failed_calls, u.tokens, u.cost_micros), (2, 1, 170, 300));
    assert_eq!(store.llm_usage_since(a, i64::MAX).await.unwrap().calls, 0);
});

store_test!(stale_versions_cannot_change_a_post, |store| {
    let (t, anna) = workspace(&store, 1, "Anna").await;
    let post = store.create_draft(t, Some(anna), Some(1), "Behind the roaster", "roaster").await.unwrap();
    let content = PostContent {
        platform: Platform::Instagram,
        body: "Meet".into(),
        hashtags: vec!["#coffee".into()],
        link: None,
        custom: false,
    };
    store.set_post_content(t, post.id, &content).await.unwrap();
    let fresh = store.post(t, post.id).await.unwrap();
    assert_eq!(fresh.version, post.version + 1);
    assert!(!store.set_post_status_if_version(t, post.id, post.version, PostStatus::Cancelled).await.unwrap());
    assert!(store.set_post_status_if_version(t, post.id, fresh.version, PostStatus::Cancelled).await.unwrap());
    assert_eq!(store.post_contents(t, post.id).await.unwrap(), vec![content]);
});

store_test!(a_tenant_never_sees_another_tenants_rows, |store| {
    let (a, anna) = workspace(&store, 1, "Anna").await;
    let (b, bob) = workspace(&store, 2, "Bob").await;
    let b_post = store.create_draft(b, Some(bob), None, "Bob's secret", "").await.unwrap();
    let b_acc = store.upsert_account(b, &account("page-b", "EAAG-bob")).await.unwrap();
    let content =
        PostContent { platform: Platform::Facebook, body: "x".into(), hashtags: vec![], link: None, custom: false };
    store.set_post_content(b, b_post.id, &content).await.unwrap();
    let b_media = store
        .insert_media(
            b,
            &tochen_store::NewMedia {
                kind: tochen_domain::MediaKind::Image,
                content_type: "image/jpeg".into(),
                size_bytes: 10,
                sha256: "00".into(),
                storage_path: "media/x.jpg".into(),
                source: "upload".into(),
                width: None,
                height: None,
                duration_ms: None,
            },
        )
        .await
        .unwrap();
    store.create_draft(a, Some(anna), None, "Anna's", "").await.unwrap();

    // Reads through A's id find nothing of B's.
    assert!(matches!(store.post(a, b_post.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.account(a, b_acc.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.account_tokens(a, b_acc.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.media(a, b_media.id).await, Err(StoreError::NotFound(_))));
    assert!(store.post_contents(a, b_post.id).await.unwrap().is_empty());
    assert!(store.accounts(a).await.unwrap().is_empty());
    let a_posts = store.posts_with_status(a, &[PostStatus::Draft], 0, 100).await.unwrap();
    assert_eq!(a_posts.len(), 1);
    assert!(a_posts.iter().all(|p| p.tenant_id == a));
    assert_eq!(store.role_of(a, bob).await.unwrap(), None);

    // Writes through A's id change nothing of B's.
    assert!(matches!(store.set_post_content(a, b_post.id, &content).await, Err(StoreError::NotFound(_))));
    assert!(!store.set_post_status_if_version(a, b_post.id, b_post.version + 1, PostStatus::Cancelled).await.unwrap());
    assert!(matches!(
        store.set_account_status(a, b_acc.id, AccountStatus::Disconnected, None).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.remove_member(a, bob).await.is_err());
    assert_eq!(store.post(b, b_post.id).await.unwrap().status, PostStatus::Draft);
    assert_eq!(store.account(b, b_acc.id).await.unwrap().status, AccountStatus::Active);
    assert_eq!(store.role_of(b, bob).await.unwrap(), Some(Role::Admin));
});

store_test!(scheduling_creates_targets_and_publish_jobs_atomically, |store| {
    use tochen_domain::{JobState, TargetStatus};
    use tochen_store::ScheduleError;
    let (t, anna) = workspace(&store, 1, "Anna").await;
    let (other, _) = workspace(&store, 2, "Bob").await;
    let fb = store.upsert_account(t, &account("page-1", "EAAG1")).await.unwrap();
    let foreign = store.upsert_account(other, &account("page-2", "EAAG2")).await.unwrap();
    let post = store.create_draft(t, Some(anna), None, "x", "").await.unwrap();

    // Another workspace's account is refused and nothing is written.
    let err = store.schedule_post(t, post.id, post.version, 5_000, &[foreign.id], false).await.unwrap_err();
    assert!(matches!(err, ScheduleError::UnknownAccount(_)));
    assert_eq!(store.post(t, post.id).await.unwrap().status, PostStatus::Draft);
    assert!(store.targets_of_post(t, post.id).await.unwrap().is_empty());

    // An editor's post waits for approval with targets but no jobs.
    let targets = store.schedule_post(t, post.id, post.version, 5_000, &[fb.id], true).await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].status, TargetStatus::Pending);
    assert!(store.tenant_jobs(t, JobState::Queued, 10).await.unwrap().is_empty());
    let stale = store.approve_post(t, post.id, post.version, anna).await.unwrap_err();
    assert!(matches!(stale, ScheduleError::Stale));
    let p = store.post(t, post.id).await.unwrap();
    store.approve_post(t, post.id, p.version, anna).await.unwrap();
    let jobs = store.tenant_jobs(t, JobState::Queued, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].unique_key.as_deref(), Some(format!("publish:{}", targets[0].id).as_str()));
    assert_eq!(jobs[0].concurrency_key.as_deref(), Some(format!("account:{}", fb.id).as_str()));

    // Rescheduling moves the job; cancelling cancels it and the target.
    let p = store.post(t, post.id).await.unwrap();
    let later = tochen_domain::clock::now_ms() + 3_600_000;
    assert!(store.reschedule_post(t, post.id, p.version, later).await.unwrap());
    assert_eq!(store.tenant_jobs(t, JobState::Queued, 10).await.unwrap()[0].run_at, later);
    let p = store.post(t, post.id).await.unwrap();
    assert!(!store.cancel_post(other, post.id, p.version).await.unwrap(), "another workspace cannot cancel it");
    assert!(store.cancel_post(t, post.id, p.version).await.unwrap());
    assert!(store.tenant_jobs(t, JobState::Queued, 10).await.unwrap().is_empty());
    assert_eq!(store.tenant_jobs(t, JobState::Cancelled, 10).await.unwrap().len(), 1);
    assert_eq!(store.targets_of_post(t, post.id).await.unwrap()[0].status, TargetStatus::Cancelled);
});

store_test!(one_profile_field_is_set_without_touching_the_others, |store| {
    let ana = store.upsert_user(&tochen_testkit::person(31, "Ana")).await.unwrap();
    let t = store.create_tenant("Bloom", &TenantProfile::default(), 0, ana.id).await.unwrap();
    // Another admin answered the audience question since this one loaded the workspace.
    let mut theirs = t.profile.clone();
    theirs.target_audience = "Locals".into();
    store.update_tenant_profile(t.id, &theirs).await.unwrap();
    let now = store.set_profile_field(t.id, tochen_store::ProfileField::Tone, "warm").await.unwrap();
    assert_eq!((now.profile.tone.as_str(), now.profile.target_audience.as_str()), ("warm", "Locals"));
    assert_eq!(store.tenant(t.id).await.unwrap(), now, "what it returns is what is stored");
    let gone = store.set_profile_field(tochen_domain::TenantId::new(), tochen_store::ProfileField::Tone, "x").await;
    assert!(matches!(gone, Err(tochen_store::StoreError::NotFound(_))), "{gone:?}");
});

store_test!(sqlite_checkpoints_the_wal_off_the_writers_path, |store, db| {
    if store.backend() != tochen_store::Backend::Sqlite {
        return; // PostgreSQL has no WAL file to checkpoint from here
    }
    // The pool's connection never checkpoints; the store's checkpoint task copies the WAL into the database file.
    let file = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://").split('?').next().unwrap());
    let before = std::fs::metadata(&file).unwrap().len();
    let payload = "x".repeat(4000);
    for i in 0..500 {
        store.record_inbound_event("meta", &format!("wal-{i}"), &payload).await.unwrap();
    }
    let wal = std::fs::metadata(file.with_extension("db-wal")).unwrap().len();
    assert!(wal > 2_000_000, "the writes are in the WAL ({wal} bytes)");
    let waited = std::time::Instant::now();
    while std::fs::metadata(&file).unwrap().len() < before + 2_000_000 {
        assert!(waited.elapsed() < std::time::Duration::from_secs(20), "the WAL was never checkpointed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
});
