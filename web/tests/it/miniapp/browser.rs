//! The Mini App in a real browser: headless Chromium driven through chromedriver (WebDriver, `fantoccini`), on a
//! phone-sized window, opened with a valid `initData` as Telegram would hand it.
//!
//! Outside Telegram the page has no `window.Telegram.WebApp`: the test serves its own small stand-in for
//! Telegram's script (same origin, named by `MINIAPP_TELEGRAM_SDK_URL` as an operator could name a copy) that
//! carries the signed `initData` and a theme, and records the haptics and the Back button. Nothing in the
//! production page or routes exists for the test.
//!
//! It checks that the calendar shows the seeded posts in their platforms' colours with the waiting one marked, that
//! a drag moves a post to another day (read back from the store; the waiting one stays waiting, with new approval
//! cards), that the library filters, that a post's detail
//! shows its numbers and link with the Back button, and that the dashboard's numbers and text are `/stats`'.
//! Screenshots of every screen go to `target/miniapp-screenshots/` (or `TOCHEN_SCREENSHOT_DIR`).
//!
//! Without `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and `chromium-driver`) the test
//! says so and passes, unless `TOCHEN_REQUIRE_CHROMIUM=1` (CI), where it fails.

use super::*;
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long to wait for the page to reach a state (not a timing assertion: a wait for a condition).
const PATIENCE: StdDuration = StdDuration::from_secs(30);

/// `false` (after saying why) when the browser is missing and not required.
fn have_chromium() -> bool {
    let present = std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("TOCHEN_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!("TOCHEN_REQUIRE_CHROMIUM=1 but {CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver");
        }
        eprintln!("SKIPPED: the Mini App browser test needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)");
    }
    present
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver on a free port, ended when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start() -> Driver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
        Driver { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=390,844", "--hide-scrollbars", "--lang=en-US"],
        }),
    );
    // chromedriver listens on plain HTTP on this machine: no TLS stack needed.
    let http = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(http).capabilities(caps).connect(&driver.url).await.expect("a browser session")
}

fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("TOCHEN_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/miniapp-screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn snap(c: &Client, backend: &str, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(screenshot_dir().join(format!("{backend}-{name}.png")), png).unwrap();
}

/// Telegram's script as the test's stand-in: `Telegram.WebApp` with the signed `initData`, a dark theme set as
/// Telegram sets it (CSS variables too), and records of haptics and the Back button for the test to read.
fn telegram_stub(init_data: &str) -> String {
    format!(
        r##"(function () {{
  var theme = {{ bg_color: "#1c1c1d", text_color: "#f5f5f5", hint_color: "#98989e", link_color: "#64b5ef",
    button_color: "#3e88f7", button_text_color: "#ffffff", secondary_bg_color: "#2c2c2e", section_bg_color: "#1c1c1d",
    accent_text_color: "#64b5ef", destructive_text_color: "#ef5b5b", subtitle_text_color: "#98989e" }};
  var rec = window.__tg = {{ haptics: [], back: false, backHandlers: [], ready: false }};
  for (var k in theme) document.documentElement.style.setProperty("--tg-theme-" + k.replace(/_/g, "-"), theme[k]);
  window.Telegram = {{ WebApp: {{
    initData: {data},
    initDataUnsafe: {{}}, version: "8.0", platform: "tdesktop", colorScheme: "dark", themeParams: theme,
    isVersionAtLeast: function () {{ return true; }},
    ready: function () {{ rec.ready = true; }}, expand: function () {{}}, disableVerticalSwipes: function () {{}},
    onEvent: function () {{}}, openLink: function (u) {{ rec.opened = u; }},
    BackButton: {{ show: function () {{ rec.back = true; }}, hide: function () {{ rec.back = false; }},
      onClick: function (f) {{ rec.backHandlers.push(f); }}, offClick: function () {{}} }},
    HapticFeedback: {{ impactOccurred: function (s) {{ rec.haptics.push("impact:" + s); }},
      notificationOccurred: function (s) {{ rec.haptics.push("notify:" + s); }},
      selectionChanged: function () {{ rec.haptics.push("select"); }} }}
  }} }};
}})();"##,
        data = serde_json::to_string(init_data).unwrap()
    )
}

/// Serves the app (and the stand-in script at `/test/telegram-web-app.js`) on a free port; returns its base URL.
async fn serve(w: &Web, init_data: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut state = w.state.clone();
    let mut config = (*state.config).clone();
    config.web.miniapp.sdk_url = format!("{base}/test/telegram-web-app.js").parse().unwrap();
    state.config = Arc::new(config);
    let stub = telegram_stub(&init_data);
    let router = tochen_web::app(state).route(
        "/test/telegram-web-app.js",
        axum::routing::get(move || async move { ([("content-type", "text/javascript")], stub) }),
    );
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    base
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// Waits until `script` (an expression) is truthy in the page.
async fn until(c: &Client, what: &str, script: &str) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let v = js(c, &format!("return !!({script});")).await;
        if v == Value::Bool(true) {
            return;
        }
        if std::time::Instant::now() > deadline {
            let page = js(c, "return document.body.innerText;").await;
            panic!("waited {PATIENCE:?} for {what} ({script}); the page says: {page}");
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

async fn texts_of(c: &Client, css: &str) -> Vec<String> {
    let v =
        js(c, &format!("return Array.from(document.querySelectorAll({})).map(e => e.textContent);", json!(css))).await;
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect()
}

tochen_testkit::store_test!(miniapp_in_chromium_calendar_drag_library_detail_and_dashboard, |store, db| {
    if !have_chromium() {
        return;
    }
    let backend = if db.url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let w = miniapp_web(&db).await;
    let tenant = with_numbers(&store).await;
    let accounts = store.accounts(tenant).await.unwrap();
    let ig = accounts[0].id;
    let fb = store.upsert_account(tenant, &account(Platform::Facebook, "Bloom Page")).await.unwrap().id;
    let tt = store.upsert_account(tenant, &account(Platform::TikTok, "bloomtok")).await.unwrap().id;
    let monday = next_monday();
    let tuesday = monday + Duration::days(1);
    let thursday = monday + Duration::days(3);
    let bread = scheduled(&store, tenant, "Bread launch", utc_ms(tuesday, 10), &[ig, fb], false).await;
    let cake = scheduled(&store, tenant, "Cake teaser", utc_ms(monday + Duration::days(2), 12), &[tt], true).await;
    scheduled(&store, tenant, "Pie Friday", utc_ms(monday + Duration::days(4), 17), &[fb], false).await;
    other_workspace(&store).await;

    let base = serve(&w, init_data(ADMIN, now_secs(), BOT_TOKEN)).await;
    let driver = Driver::start().await;
    let c = browser(&driver).await;
    c.goto(&format!("{base}/app")).await.unwrap();

    // The calendar opens on this week; next week holds the seeded posts.
    until(&c, "the calendar", "document.querySelector('#cal-grid .day') && window.__tg.ready").await;
    assert_eq!(
        js(&c, "return getComputedStyle(document.body).backgroundColor;").await,
        "rgb(44, 44, 46)",
        "Telegram's theme"
    );
    c.find(Locator::Css("#cal-next")).await.unwrap().click().await.unwrap();
    until(&c, "next week", &format!("document.getElementById('cal-grid').dataset.from === '{monday}'")).await;
    until(&c, "the posts", "document.querySelectorAll('#cal-grid .chip').length === 3").await;
    let chips = js(
        &c,
        "return Array.from(document.querySelectorAll('#cal-grid .chip')).map(e => [e.closest('.day').dataset.date, \
         e.querySelector('.title').textContent, e.dataset.mark, e.querySelectorAll('.dot').length, \
         getComputedStyle(e).borderTopColor]);",
    )
    .await;
    let fb_colour = tochen_platforms::registry::module(Platform::Facebook).colour();
    let tt_colour = tochen_platforms::registry::module(Platform::TikTok).colour();
    let rgb = |(r, g, b): (u8, u8, u8)| format!("rgb({r}, {g}, {b})");
    assert_eq!(
        chips,
        json!([
            [tuesday.to_string(), "Bread launch", "scheduled", 2, rgb(fb_colour)],
            [(monday + Duration::days(2)).to_string(), "Cake teaser", "pending", 1, rgb(tt_colour)],
            [(monday + Duration::days(4)).to_string(), "Pie Friday", "scheduled", 1, rgb(fb_colour)],
        ]),
        "each post on its day, in its first platform's colour, the waiting one marked"
    );
    snap(&c, backend, "1-calendar-week").await;

    // Drag "Bread launch" from Tuesday to Thursday.
    let chip = c.find(Locator::Css(&format!(".chip[data-post='{bread}']"))).await.unwrap();
    let target = c.find(Locator::Css(&format!(".day[data-date='{thursday}']"))).await.unwrap();
    let drag = MouseActions::new("finger".into())
        .then(PointerAction::MoveToElement { element: chip, duration: None, x: 0, y: 0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveBy { duration: Some(StdDuration::from_millis(100)), x: 0, y: 20 })
        .then(PointerAction::MoveToElement {
            element: target,
            duration: Some(StdDuration::from_millis(300)),
            x: 0,
            y: 0,
        })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(drag).await.unwrap();
    until(
        &c,
        "the moved post on Thursday",
        &format!("document.querySelector(\".day[data-date='{thursday}'] .chip[data-post='{bread}']\")"),
    )
    .await;
    let post = store.post(tenant, bread).await.unwrap();
    assert_eq!(post.scheduled_at, Some(utc_ms(thursday, 10)), "moved in the store, same time of day");
    let haptics = js(&c, "return window.__tg.haptics;").await;
    assert!(haptics.as_array().unwrap().contains(&json!("notify:success")), "{haptics}");
    snap(&c, backend, "2-calendar-after-drag").await;
    // The waiting post moves too, as in the chat: it stays waiting, at the new day, and new approval cards go out.
    let cake_at = store.post(tenant, cake).await.unwrap().scheduled_at.unwrap();
    let chip = c.find(Locator::Css(&format!(".chip[data-post='{cake}']"))).await.unwrap();
    let target = c.find(Locator::Css(&format!(".day[data-date='{thursday}']"))).await.unwrap();
    let drag = MouseActions::new("finger".into())
        .then(PointerAction::MoveToElement { element: chip, duration: None, x: 0, y: 0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveToElement {
            element: target,
            duration: Some(StdDuration::from_millis(300)),
            x: 0,
            y: 0,
        })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(drag).await.unwrap();
    let wanted = cake_at + 86_400_000;
    for _ in 0..100 {
        if store.post(tenant, cake).await.unwrap().scheduled_at == Some(wanted) {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    let cake_now = store.post(tenant, cake).await.unwrap();
    assert_eq!((cake_now.status, cake_now.scheduled_at), (tochen_domain::PostStatus::PendingApproval, Some(wanted)));
    // A press without a drag opens the post: wait for that screen, then come back with Telegram's Back button.
    let moved = format!("document.querySelector(\".day[data-date='{thursday}'] .chip[data-post='{cake}']\") !== null");
    until(&c, "the waiting post on its new day", &moved).await;
    c.find(Locator::Css(&format!(".chip[data-post='{cake}']"))).await.unwrap().click().await.unwrap();
    until(&c, "the waiting post's screen", "!document.getElementById('screen-post').hidden && window.__tg.back").await;
    js(&c, "window.__tg.backHandlers.forEach(f => f()); return true;").await;
    until(&c, "the calendar again", "!document.getElementById('screen-calendar').hidden && !window.__tg.back").await;

    c.find(Locator::Css("#cal-month")).await.unwrap().click().await.unwrap();
    until(&c, "the month", "document.getElementById('cal-grid').dataset.view === 'month'").await;
    snap(&c, backend, "3-calendar-month").await;

    // The library: everything, then scheduled only, then a search.
    c.find(Locator::Css("#tab-library")).await.unwrap().click().await.unwrap();
    until(&c, "the library", "document.querySelectorAll('#lib-list li').length === 4 && !document.getElementById('lib-list').dataset.loading").await;
    snap(&c, backend, "4-library").await;
    js(&c, "const s = document.getElementById('lib-status'); s.value = 'scheduled'; s.dispatchEvent(new Event('change')); return true;").await;
    until(&c, "scheduled posts only", "document.querySelectorAll('#lib-list li').length === 2 && !document.getElementById('lib-list').dataset.loading").await;
    let mut titles = texts_of(&c, "#lib-list li .t").await;
    titles.sort();
    assert_eq!(titles, ["Bread launch", "Pie Friday"]);
    c.find(Locator::Css("#lib-q")).await.unwrap().send_keys("pie").await.unwrap();
    until(&c, "the search", "document.querySelectorAll('#lib-list li').length === 1 && !document.getElementById('lib-list').dataset.loading").await;
    assert_eq!(texts_of(&c, "#lib-list li .t").await, ["Pie Friday"]);
    snap(&c, backend, "5-library-filtered").await;
    js(
        &c,
        "const s = document.getElementById('lib-status'); s.value = 'published,partially_published'; \
            document.getElementById('lib-q').value = ''; s.dispatchEvent(new Event('change')); return true;",
    )
    .await;
    until(&c, "the published post", "document.querySelectorAll('#lib-list li').length === 1 && document.querySelector('#lib-list li .t').textContent === 'Bread'").await;

    // Its detail: per platform status and numbers; Back returns to the library.
    c.find(Locator::Css("#lib-list li")).await.unwrap().click().await.unwrap();
    until(
        &c,
        "the post's detail",
        "!document.getElementById('screen-post').hidden && document.querySelector('#post [data-metric=views]')",
    )
    .await;
    assert_eq!(js(&c, "return document.querySelector('#post [data-metric=views]').dataset.value;").await, "1234");
    assert_eq!(js(&c, "return document.querySelector('#post .target').dataset.platform;").await, "instagram");
    assert_eq!(js(&c, "return window.__tg.back;").await, true, "the Back button shows on a post");
    snap(&c, backend, "6-post-detail").await;
    js(&c, "window.__tg.backHandlers.forEach(f => f()); return true;").await;
    until(&c, "the library again", "!document.getElementById('screen-library').hidden").await;

    // The dashboard: the /stats numbers of the same period.
    c.find(Locator::Css("#tab-stats")).await.unwrap().click().await.unwrap();
    until(
        &c,
        "the dashboard",
        "document.querySelector('#stats-cards').dataset.days === '7' && document.querySelector('#stats-chart svg')",
    )
    .await;
    let start: i64 =
        js(&c, "return document.getElementById('stats-cards').dataset.start;").await.as_str().unwrap().parse().unwrap();
    let end: i64 =
        js(&c, "return document.getElementById('stats-cards').dataset.end;").await.as_str().unwrap().parse().unwrap();
    let (report, text) = stats_of(&store, tenant, start, end, "en").await;
    let cards = js(&c, "return Object.fromEntries(Array.from(document.querySelectorAll('#stats-cards .card')).map(e => [e.dataset.key, e.dataset.value]));").await;
    for key in ["published", "views", "likes", "comments", "shares", "followers", "engagement_rate"] {
        let expected = match &report["totals"][key] {
            Value::Null => String::new(),
            v => v.to_string(),
        };
        assert_eq!(cards[key].as_str(), Some(expected.as_str()), "{key}: {cards} vs {}", report["totals"]);
    }
    assert_eq!(cards["views"], "1234");
    assert_eq!(js(&c, "return document.getElementById('stats-text').textContent;").await, text);
    let bars = js(&c, "return Array.from(document.querySelectorAll('#stats-chart rect')).reduce((s, r) => s + Number(r.dataset.value), 0);").await;
    let series_sum: i64 = report["daily_views"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s[1].as_array().unwrap().iter())
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(bars.as_i64(), Some(series_sum), "the chart draws the report's series");
    snap(&c, backend, "7-dashboard").await;
    c.find(Locator::Css("#stats-days button[data-days='30']")).await.unwrap().click().await.unwrap();
    until(&c, "30 days", "document.querySelector('#stats-cards').dataset.days === '30'").await;

    c.close().await.unwrap();
    db.store.close().await;
});
