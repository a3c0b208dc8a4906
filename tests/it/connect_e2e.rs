//! Connecting accounts end to end, the way a person does it: they send `/connect` to the bot (the fake Bot API),
//! press a platform, open the sign-in link the bot answers with, consent on the fake provider's dialog
//! (`fake_graph` for Facebook and Instagram, `fake_tiktok` for TikTok), and land on the web service's callback,
//! which exchanges the code with the provider and asks, on a page naming the workspace and the admin who asked,
//! to confirm; confirming stores the account with its tokens encrypted and queues a `notify` job; the scheduler
//! delivers it to their chat, and `/accounts` in the bot lists the account. Disconnecting it there deletes its
//! tokens, and the scheduler revokes the grant at the provider.
//!
//! The bot, the scheduler and the web service run in this process as `tochen run` runs them (the bot through
//! `run_with` only to lift Telegram's per-chat throttle; the web router on a loopback port because the provider's
//! redirect must reach it), on SQLite and PostgreSQL. Nothing leaves the machine: every base URL is configuration.

use std::collections::HashMap;
use std::time::Duration;
use tochen_config::Config;
use tochen_domain::jobs::NOTIFY;
use tochen_domain::TenantId;
use tochen_domain::{AccountStatus, AuthKind, JobState, Platform, Role};
use tochen_store::Store;
use tochen_store::{Account, TenantProfile};
use tochen_testkit::fake_graph::FakeGraph;
use tochen_testkit::fake_llm::FakeLlm;
use tochen_testkit::fake_telegram::{BotMessage, FakeTelegram, BOT_USERNAME};
use tochen_testkit::fake_tiktok::FakeTikTok;
use tochen_testkit::TestDb;

/// The admin who connects accounts; their private chat with the bot has the same id.
const ALICE: i64 = 4242;
/// Another admin of the same workspace.
const BOB: i64 = 4343;

/// The three components on one database, with every outside service faked.
struct World {
    tg: FakeTelegram,
    graph: FakeGraph,
    tiktok: FakeTikTok,
    store: Store,
    tenant: TenantId,
    /// Where the web service listens; also `TOCHEN_PUBLIC_URL`, so the providers redirect back to it.
    web_url: String,
    /// A browser: follows redirects, keeps no cookies.
    browser: reqwest::Client,
    components: crate::components::Components,
    _llm: FakeLlm,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start(db: &TestDb) -> Self {
        let tg = FakeTelegram::start().await;
        let llm = FakeLlm::start().await;
        let graph = FakeGraph::start().await;
        let tiktok = FakeTikTok::start().await;
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let web_url = format!("http://{}", listener.local_addr().unwrap());
        let (g, t) = (graph.base_url(), tiktok.base_url());
        let env: HashMap<String, String> = [
            ("TELEGRAM_BOT_TOKEN", tg.token.as_str()),
            ("TELEGRAM_API_URL", tg.api_url.as_str()),
            ("DATABASE_URL", db.url.as_str()),
            ("TOCHEN_SECRET_KEYS", db.key.as_str()),
            ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
            ("TOCHEN_PUBLIC_URL", web_url.as_str()),
            ("LLM_PROVIDER", "openai_compatible"),
            ("LLM_BASE_URL", llm.base_url.as_str()),
            ("LLM_API_KEY", "sk-test"),
            ("META_APP_ID", "meta-app"),
            ("META_APP_SECRET", "meta-app-secret"),
            ("META_GRAPH_URL", &g),
            ("META_DIALOG_URL", &g),
            ("INSTAGRAM_APP_ID", "ig-app"),
            ("INSTAGRAM_APP_SECRET", "ig-secret"),
            ("INSTAGRAM_GRAPH_URL", &g),
            ("INSTAGRAM_API_URL", &g),
            ("INSTAGRAM_AUTHORIZE_URL", &g),
            ("TIKTOK_CLIENT_KEY", "tt-key"),
            ("TIKTOK_CLIENT_SECRET", "tiktok-client-secret"),
            ("TIKTOK_API_URL", &t),
            ("TIKTOK_AUTH_URL", &t),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let config = Config::from_source(&env).expect("test config is valid");

        let store = db.store.clone();
        let alice = store.upsert_user(&tochen_testkit::person(ALICE, "Alice")).await.unwrap();
        let tenant = store.create_tenant("Bakery", &TenantProfile::default(), 0, alice.id).await.unwrap().id;

        let components = crate::components::Components::start(
            &config,
            &store,
            &db.key,
            listener,
            &tg,
            Some(format!("https://t.me/{BOT_USERNAME}")),
        )
        .await;

        let browser = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
        World { tg, graph, tiktok, store, tenant, web_url, browser, components, _llm: llm, _dir: dir }
    }

    async fn stop(self) {
        self.components.stop().await;
    }

    /// `user` writes `text` in their private chat; the bot answers with a message containing `needle`.
    async fn say(&self, user: i64, text: &str, needle: &str) -> BotMessage {
        let mark = self.tg.mark();
        self.tg.send_text(user, text);
        self.tg.said(user, mark, needle).await
    }

    /// `user` presses `label` on `msg`; the chat then shows a message containing `needle`.
    async fn press(&self, user: i64, msg: &BotMessage, label: &str, needle: &str) -> BotMessage {
        let mark = self.tg.mark();
        self.tg.press(user, msg, label);
        self.tg.said(msg.chat_id, mark, needle).await
    }

    /// Alice sends `/connect` and presses `platform`; returns the URL behind the bot's sign-in button.
    async fn sign_in_link(&self, platform: &str) -> String {
        let menu = self.say(ALICE, "/connect", "Which account do you want to connect?").await;
        let answer = self.press(ALICE, &menu, platform, "Open this link to sign in").await;
        assert_eq!(answer.buttons.len(), 1, "{answer:#?}");
        let url = answer.button("Sign in").expect("a sign-in button");
        assert!(url.starts_with("http"), "a URL button, not callback data: {url}");
        url
    }

    /// Opens `url` in the browser and follows the provider's redirect back to us. Returns the status, the URL the
    /// browser ended on and the page.
    async fn open(&self, url: &str) -> (u16, String, String) {
        let resp = self.browser.get(url).send().await.expect("the browser reaches the provider and the callback");
        let status = resp.status().as_u16();
        let landed = resp.url().to_string();
        (status, landed, resp.text().await.unwrap())
    }

    /// Opens the sign-in link and checks the browser ended on our callback for `provider`; when the callback asks
    /// for a confirmation (it names the workspace and Alice), presses Confirm. Checks the final page has `status`
    /// and the title `title`; returns it.
    async fn consent(&self, link: &str, provider: &str, status: u16, title: &str) -> String {
        let before = self.accounts().await.len();
        let (mut got, landed, mut page) = self.open(link).await;
        let callback = format!("{}/oauth/{provider}/callback?", self.web_url);
        assert!(landed.starts_with(&callback), "the provider redirected to {landed}, not to {callback}");
        if page.contains("name=\"token\"") {
            assert_eq!(got, 200, "{page}");
            // Alice as Telegram last described her (the fake Bot API names its users `User<id>`, `@user<id>`).
            let requester = format!("<b>User{ALICE} (@user{ALICE})</b>");
            assert!(page.contains("<h1>Connect to Bakery?</h1>") && page.contains(&requester), "{page}");
            assert_eq!(self.accounts().await.len(), before, "nothing is connected before the confirmation");
            (got, page) = self.submit(&page, "confirm").await;
        }
        assert_eq!(got, status, "{page}");
        assert!(page.contains(&format!("<h1>{title}</h1>")), "{page}");
        assert!(page.contains(&format!("https://t.me/{BOT_USERNAME}")), "the page links back to the bot: {page}");
        page
    }

    /// Submits the confirmation page's form with `action` ("confirm" or "cancel"), as the browser does.
    async fn submit(&self, page: &str, action: &str) -> (u16, String) {
        let field = |name: &str| {
            let start = page.find(name).unwrap_or_else(|| panic!("{name} in {page}")) + name.len();
            page[start..start + page[start..].find('"').unwrap()].to_string()
        };
        let (target, token) = (field("action=\""), field("name=\"token\" value=\""));
        assert_eq!(target, format!("{}/oauth/confirm", self.web_url), "the form posts back to us");
        let resp = self.browser.post(&target).form(&[("token", token.as_str()), ("action", action)]).send().await;
        let resp = resp.expect("the browser reaches the confirmation");
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Waits until the scheduler has delivered every queued chat message of the workspace; returns how many
    /// `notify` jobs to `chat` succeeded in total.
    async fn delivered_to(&self, chat: i64) -> usize {
        wait_until("the scheduler delivered the chat messages", || async {
            self.store.tenant_jobs(self.tenant, JobState::Queued, 100).await.unwrap().iter().all(|j| j.kind != NOTIFY)
                && self
                    .store
                    .tenant_jobs(self.tenant, JobState::Running, 100)
                    .await
                    .unwrap()
                    .iter()
                    .all(|j| j.kind != NOTIFY)
        })
        .await;
        let done = self.store.tenant_jobs(self.tenant, JobState::Succeeded, 100).await.unwrap();
        done.iter().filter(|j| j.kind == NOTIFY && j.payload["chat_id"].as_i64() == Some(chat)).count()
    }

    async fn accounts(&self) -> Vec<Account> {
        self.store.accounts(self.tenant).await.unwrap()
    }

    /// The tokens of `account` as stored (ciphertext) and as decrypted by the store.
    async fn tokens(&self, account: &Account) -> ((String, Option<String>), (String, Option<String>)) {
        let raw: (String, Option<String>) =
            sqlx::query_as("SELECT access_token_enc, refresh_token_enc FROM social_accounts WHERE id = $1")
                .bind(account.id.to_db())
                .fetch_one(self.store.sql_for_tests())
                .await
                .unwrap();
        let plain = self.store.account_tokens(self.tenant, account.id).await.unwrap();
        let plain = (plain.access_token.expose().to_string(), plain.refresh_token.map(|t| t.expose().to_string()));
        (raw, plain)
    }
}

async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !cond().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn query(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

tochen_testkit::store_test!(a_facebook_page_is_connected_from_the_bot_and_the_chat_is_told, |store, db| {
    let w = World::start(&db).await;
    let page_token = w.graph.add_page("111", "Bakery Lisbon", Some("17840001"));

    let link = w.sign_in_link("Facebook Page").await;
    let q = query(&link);
    assert!(link.starts_with(&format!("{}/v25.0/dialog/oauth?", w.graph.base_url())), "{link}");
    assert_eq!(q["client_id"], "meta-app");
    assert_eq!(q["redirect_uri"], format!("{}/oauth/facebook/callback", w.web_url));
    assert!(q["scope"].contains("pages_manage_posts"), "{link}");
    assert!(w.accounts().await.is_empty(), "handing out a link stores nothing");

    let mark = w.tg.mark();
    let page = w.consent(&link, "facebook", 200, "Account connected").await;
    assert!(page.contains("Bakery Lisbon"), "{page}");
    w.tg.said(ALICE, mark, "✅ Connected Facebook: <b>Bakery Lisbon</b>").await;
    assert_eq!(w.delivered_to(ALICE).await, 1, "the scheduler sent the chat message");

    let accounts = w.accounts().await;
    assert_eq!(accounts.len(), 1);
    let fb = &accounts[0];
    assert_eq!(
        (fb.platform, fb.auth_kind, fb.external_id.as_str()),
        (Platform::Facebook, AuthKind::FacebookPage, "111")
    );
    assert_eq!((fb.name.as_str(), fb.status, fb.token_expires_at), ("Bakery Lisbon", AccountStatus::Active, None));
    assert!(fb.scopes.contains(&"pages_manage_posts".to_string()), "{:?}", fb.scopes);
    let ((access_enc, _), (access, refresh)) = w.tokens(fb).await;
    assert!(!access_enc.contains(&page_token), "the Page token is encrypted at rest");
    assert_eq!((access.as_str(), refresh), (page_token.as_str(), None), "the Page token, not the user token");
    assert_eq!(w.graph.calls_to("/111/subscribed_apps").len(), 1, "the Page is subscribed to webhooks");

    let list = w.say(ALICE, "/accounts", "Connected accounts").await;
    assert!(list.text.contains("Facebook: <b>Bakery Lisbon</b>, working, token does not expire"), "{}", list.text);
    assert!(list.has_button("Disconnect Bakery Lisbon"), "{list:#?}");
    w.stop().await;
});

tochen_testkit::store_test!(
    facebook_with_several_pages_asks_in_the_chat_and_stores_only_the_chosen_one,
    |store, db| {
        let w = World::start(&db).await;
        // Three Pages over two result pages of me/accounts: paging.next is followed.
        w.graph.add_page("111", "Bakery Lisbon", None);
        w.graph.add_page("112", "Bakery Porto", None);
        w.graph.add_page("113", "Bakery Faro", None);
        let bob = store.upsert_user(&tochen_testkit::person(BOB, "Bob")).await.unwrap();
        store.add_member(w.tenant, bob.id, Role::Admin).await.unwrap();
        store.set_active_tenant(bob.id, w.tenant).await.unwrap();

        let link = w.sign_in_link("Facebook Page").await;
        let mark = w.tg.mark();
        w.consent(&link, "facebook", 200, "Almost done").await;
        let ask = w.tg.said(ALICE, mark, "3 accounts came back from the sign-in").await;
        assert_eq!(w.delivered_to(ALICE).await, 1);
        let labels: Vec<&str> = ask.buttons.iter().flatten().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["Bakery Lisbon", "Bakery Porto", "Bakery Faro"]);
        assert!(ask.buttons.iter().flatten().all(|(_, d)| d.starts_with("cnp:") && d.len() <= 64), "{ask:#?}");
        assert!(w.accounts().await.is_empty(), "nothing is stored before the choice");

        // The choice belongs to the person who signed in: another admin of the workspace cannot spend it.
        let mark = w.tg.mark();
        w.tg.press_as(BOB, BOB, ask.message_id, &ask.button("Bakery Porto").unwrap());
        w.tg.answered(mark, "This choice has expired or was already made").await;
        assert!(w.accounts().await.is_empty());

        let done = w.press(ALICE, &ask, "Bakery Faro", "✅ Connected <b>Bakery Faro</b>").await;
        assert_eq!(done.message_id, ask.message_id, "the question is answered in place");
        assert!(done.buttons.is_empty(), "{done:#?}");
        let accounts = w.accounts().await;
        assert_eq!(accounts.len(), 1, "only the chosen Page is stored");
        assert_eq!((accounts[0].external_id.as_str(), accounts[0].name.as_str()), ("113", "Bakery Faro"));
        assert_eq!(w.tokens(&accounts[0]).await.1 .0, "page-token-113");
        let (parked,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM pending_connections").fetch_one(store.sql_for_tests()).await.unwrap();
        assert_eq!(parked, 0, "the tokens of the Pages not chosen are deleted with the choice");
        assert_eq!(w.graph.calls_to("/113/subscribed_apps").len(), 1);
        assert!(
            w.graph.calls_to("/111/subscribed_apps").is_empty() && w.graph.calls_to("/112/subscribed_apps").is_empty()
        );

        // A second press on the same question is refused: the choice is single-use.
        let mark = w.tg.mark();
        w.tg.press_as(ALICE, ALICE, ask.message_id, &ask.button("Bakery Porto").unwrap());
        w.tg.answered(mark, "This choice has expired or was already made").await;
        assert_eq!(w.accounts().await.len(), 1);

        let list = w.say(ALICE, "/accounts", "Connected accounts").await;
        assert!(list.text.contains("Facebook: <b>Bakery Faro</b>"), "{}", list.text);
        assert!(!list.text.contains("Lisbon") && !list.text.contains("Porto"), "{}", list.text);
        w.stop().await;
    }
);

tochen_testkit::store_test!(instagram_via_a_page_connects_the_pages_business_account, |store, db| {
    let w = World::start(&db).await;
    // Only one of the Pages has an Instagram professional account, so there is nothing to choose.
    let page_token = w.graph.add_page("111", "Bakery Lisbon", Some("17840001"));
    w.graph.add_page("112", "Bakery Porto", None);

    let link = w.sign_in_link("Instagram (via a Facebook Page)").await;
    let q = query(&link);
    assert_eq!(q["redirect_uri"], format!("{}/oauth/facebook/callback", w.web_url));
    assert!(q["scope"].contains("instagram_content_publish"), "{link}");
    let mark = w.tg.mark();
    w.consent(&link, "facebook", 200, "Account connected").await;
    w.tg.said(ALICE, mark, "✅ Connected Instagram: <b>Bakery Lisbon</b>").await;
    assert_eq!(w.delivered_to(ALICE).await, 1);

    let accounts = w.accounts().await;
    assert_eq!(accounts.len(), 1);
    let ig = &accounts[0];
    assert_eq!(
        (ig.platform, ig.auth_kind, ig.external_id.as_str()),
        (Platform::Instagram, AuthKind::InstagramViaPage, "17840001")
    );
    assert_eq!(w.tokens(ig).await.1 .0, page_token, "Instagram via a Page publishes with the Page token");
    assert!(w.graph.calls_to("/subscribed_apps").is_empty(), "only Facebook Pages are subscribed to feed webhooks");

    let list = w.say(ALICE, "/accounts", "Connected accounts").await;
    assert!(list.text.contains("Instagram: <b>Bakery Lisbon</b>, working"), "{}", list.text);
    w.stop().await;
});

tochen_testkit::store_test!(instagram_login_connects_with_a_long_lived_token, |store, db| {
    let w = World::start(&db).await;
    let link = w.sign_in_link("Instagram (Instagram login)").await;
    let q = query(&link);
    assert!(link.starts_with(&format!("{}/oauth/authorize?", w.graph.base_url())), "{link}");
    assert_eq!(q["client_id"], "ig-app");
    assert_eq!(q["redirect_uri"], format!("{}/oauth/instagram/callback", w.web_url));
    assert!(q["scope"].contains("instagram_business_content_publish"), "{link}");

    let mark = w.tg.mark();
    w.consent(&link, "instagram", 200, "Account connected").await;
    w.tg.said(ALICE, mark, "✅ Connected Instagram: <b>@fake_ig_login</b>").await;
    assert_eq!(w.delivered_to(ALICE).await, 1);
    let exchange = w.graph.calls_to("/oauth/access_token");
    assert_eq!(exchange.len(), 1);
    assert_eq!(exchange[0].method, "POST", "the code goes to api.instagram.com as a form");
    assert!(!exchange[0].params["code"].ends_with("#_"));

    let accounts = w.accounts().await;
    assert_eq!(accounts.len(), 1);
    let ig = &accounts[0];
    assert_eq!(
        (ig.platform, ig.auth_kind, ig.external_id.as_str(), ig.name.as_str()),
        (Platform::Instagram, AuthKind::InstagramLogin, "17841400000000001", "@fake_ig_login")
    );
    let expires = ig.token_expires_at.expect("the long-lived token expires");
    assert!(expires > tochen_domain::clock::now_ms() + 50 * 86_400_000, "about 60 days, not the 1-hour token");
    let ((access_enc, _), (access, _)) = w.tokens(ig).await;
    assert!(access.starts_with("ig-long-"), "the long-lived token is stored, not the short one: {access}");
    assert!(!access_enc.contains(&access));

    let list = w.say(ALICE, "/accounts", "Connected accounts").await;
    let date = tochen_domain::clock::to_datetime(expires).format("%Y-%m-%d").to_string();
    assert!(
        list.text.contains(&format!("Instagram: <b>@fake_ig_login</b>, working, token expires {date}")),
        "{}",
        list.text
    );
    w.stop().await;
});

tochen_testkit::store_test!(tiktok_connects_with_pkce, |store, db| {
    let w = World::start(&db).await;
    let link = w.sign_in_link("TikTok").await;
    let q = query(&link);
    assert!(link.starts_with(&format!("{}/v2/auth/authorize/?", w.tiktok.base_url())), "{link}");
    assert_eq!(q["client_key"], "tt-key");
    assert_eq!(q["redirect_uri"], format!("{}/oauth/tiktok/callback", w.web_url));
    assert_eq!(q["code_challenge_method"], "S256");

    let mark = w.tg.mark();
    let page = w.consent(&link, "tiktok", 200, "Account connected").await;
    assert!(page.contains("@fake_creator"), "{page}");
    w.tg.said(ALICE, mark, "✅ Connected TikTok: <b>@fake_creator</b>").await;
    assert_eq!(w.delivered_to(ALICE).await, 1);

    // The verifier sent with the code is the one whose S256 challenge was in the link. (The scheduler's token
    // sweep may already have refreshed the 2-hour access token: that is a `refresh_token` grant.)
    let token: Vec<_> = w
        .tiktok
        .calls_to("/v2/oauth/token/")
        .into_iter()
        .filter(|c| c.params["grant_type"] == "authorization_code")
        .collect();
    assert_eq!(token.len(), 1);
    let verifier = &token[0].params["code_verifier"];
    assert_eq!(tochen_platforms::oauth::pkce_challenge(verifier), q["code_challenge"]);
    assert_eq!(token[0].params["redirect_uri"], q["redirect_uri"]);

    let accounts = w.accounts().await;
    assert_eq!(accounts.len(), 1);
    let tt = &accounts[0];
    assert_eq!(
        (tt.platform, tt.auth_kind, tt.external_id.as_str(), tt.name.as_str()),
        (Platform::TikTok, AuthKind::TikTok, w.tiktok.open_id().as_str(), "@fake_creator")
    );
    assert!(tt.token_expires_at.is_some() && tt.refresh_expires_at.is_some());
    let ((access_enc, refresh_enc), (access, refresh)) = w.tokens(tt).await;
    let refresh = refresh.expect("the refresh token is stored");
    assert!(access.starts_with("act.fake") && refresh.starts_with("rft.fake"), "{access} {refresh}");
    assert!(!access_enc.contains(&access) && !refresh_enc.unwrap().contains(&refresh), "both encrypted at rest");

    let list = w.say(ALICE, "/accounts", "Connected accounts").await;
    assert!(list.text.contains("TikTok: <b>@fake_creator</b>, working, token expires"), "{}", list.text);
    w.stop().await;
});

tochen_testkit::store_test!(consent_refused_at_the_provider_stores_nothing_and_tells_the_chat, |store, db| {
    let w = World::start(&db).await;
    w.graph.add_page("111", "Bakery Lisbon", None);
    w.graph.deny_consent(true);

    let link = w.sign_in_link("Facebook Page").await;
    let mark = w.tg.mark();
    let page = w.consent(&link, "facebook", 200, "Connection cancelled").await;
    assert!(page.contains("nothing was connected"), "{page}");
    w.tg.said(ALICE, mark, "The Facebook sign-in was cancelled, so nothing was connected.").await;
    assert_eq!(w.delivered_to(ALICE).await, 1);
    assert!(w.graph.calls_to("/oauth/access_token").is_empty(), "no code, no exchange");

    // The refused link is spent: consenting with it afterwards does not connect anything either.
    w.graph.deny_consent(false);
    w.consent(&link, "facebook", 400, "This link was already used").await;
    assert!(w.graph.calls_to("/oauth/access_token").is_empty());
    assert!(w.accounts().await.is_empty(), "nothing was stored");
    let (pending,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM pending_connections").fetch_one(store.sql_for_tests()).await.unwrap();
    assert_eq!(pending, 0);

    let list = w.say(ALICE, "/accounts", "No accounts are connected yet").await;
    assert!(list.buttons.is_empty());
    assert_eq!(w.delivered_to(ALICE).await, 1, "the replayed link queued no second message");
    w.stop().await;
});

tochen_testkit::store_test!(connect_in_a_group_points_to_the_private_chat_and_hands_out_no_link, |store, db| {
    let w = World::start(&db).await;
    const GROUP: i64 = -100_777;
    // In a group anyone could open the admin's sign-in link, so the bot sends the admin to the private chat.
    let mark = w.tg.mark();
    w.tg.send_text_as(GROUP, ALICE, "en", "/connect");
    let answer = w.tg.said(GROUP, mark, "private chat with me").await;
    assert_eq!(answer.button("Open private chat").as_deref(), Some(format!("https://t.me/{BOT_USERNAME}").as_str()));
    assert!(!answer.has_button("Facebook Page"), "{answer:#?}");
    // A platform button from an older menu, pressed in the group, gets the same answer and no link either.
    let mark = w.tg.mark();
    w.tg.press_as(GROUP, ALICE, answer.message_id, "cnk:fb");
    w.tg.said(GROUP, mark, "private chat with me").await;
    assert!(
        w.tg.messages_in(GROUP).iter().all(|m| m.button("Sign in").is_none()),
        "no sign-in link is ever shown in the group"
    );
    let (states,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM oauth_states WHERE tenant_id = $1")
        .bind(w.tenant.to_string())
        .fetch_one(store.sql_for_tests())
        .await
        .unwrap();
    assert_eq!(states, 0, "no sign-in state was created for the group");
    w.stop().await;
});

/// Every secret the database holds, decrypted (Fernet text in any text column of the tables that hold secrets).
async fn stored_secrets(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for (table, column) in [
        ("social_accounts", "access_token_enc"),
        ("social_accounts", "refresh_token_enc"),
        ("pending_connections", "candidates_enc"),
        ("token_revocations", "token_enc"),
        ("jobs", "payload"),
    ] {
        let rows: Vec<(Option<String>,)> =
            sqlx::query_as(&format!("SELECT {column} FROM {table}")).fetch_all(store.sql_for_tests()).await.unwrap();
        for value in rows.into_iter().filter_map(|(v,)| v).filter(|v| !v.is_empty()) {
            out.push(match store.secrets().decrypt(&value) {
                Ok(plain) => plain.expose().to_string(),
                Err(_) => value,
            });
        }
    }
    out
}

tochen_testkit::store_test!(disconnecting_deletes_the_tokens_and_revokes_them_at_the_provider, |store, db| {
    let w = World::start(&db).await;
    let page_token = w.graph.add_page("111", "Bakery Lisbon", None);
    let link = w.sign_in_link("Facebook Page").await;
    w.consent(&link, "facebook", 200, "Account connected").await;
    let link = w.sign_in_link("TikTok").await;
    w.consent(&link, "tiktok", 200, "Account connected").await;
    assert_eq!(w.accounts().await.len(), 2);

    let list = w.say(ALICE, "/accounts", "Connected accounts").await;
    w.press(ALICE, &list, "Disconnect Bakery Lisbon", "Bakery Lisbon is disconnected").await;
    wait_until("the scheduler revoked the Facebook grant", || async { !w.graph.revoked_users().is_empty() }).await;
    assert_eq!(w.graph.revoked_users(), ["10001"], "DELETE /{{user-id}}/permissions for the user who signed in");
    assert!(!w.graph.is_valid(&page_token), "Facebook no longer accepts the Page token");

    let list = w.say(ALICE, "/accounts", "Connected accounts").await;
    assert!(!list.text.contains("Bakery Lisbon"), "{}", list.text);
    // The access token may have been refreshed by the scheduler's sweep since; whichever it is now is revoked.
    let tt = w.accounts().await.into_iter().find(|a| a.platform == Platform::TikTok).unwrap();
    let (_, (access, refresh)) = w.tokens(&tt).await;
    w.press(ALICE, &list, "Disconnect @fake_creator", "@fake_creator is disconnected").await;
    wait_until("the scheduler revoked the TikTok token", || async { !w.tiktok.revocations().is_empty() }).await;
    let revoked = w.tiktok.revocations();
    assert!(revoked.len() == 1 && revoked[0].starts_with("act.fake"), "the access token is revoked: {revoked:?}");
    assert!(!w.tiktok.is_valid(&access), "TikTok no longer accepts the token");

    wait_until("the revocations are done", || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM token_revocations").fetch_one(store.sql_for_tests()).await.unwrap();
        n == 0
    })
    .await;
    let left = stored_secrets(&store).await;
    for token in [page_token.as_str(), access.as_str(), refresh.as_deref().unwrap()] {
        assert!(!left.iter().any(|s| s.contains(token)), "{token} is still stored somewhere: {left:?}");
    }
    let rows: Vec<(String, Option<String>, String)> =
        sqlx::query_as("SELECT access_token_enc, refresh_token_enc, status FROM social_accounts")
            .fetch_all(store.sql_for_tests())
            .await
            .unwrap();
    assert!(rows.iter().all(|r| r == &(String::new(), None, "disconnected".to_string())), "{rows:?}");
    w.stop().await;
});
