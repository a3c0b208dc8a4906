//! Opening the Mini App from the bot: with an https public URL the bot makes the menu button of every private
//! chat open `/app` (setChatMenuButton without a chat) and puts an "Open in the app" Web App button under
//! `/calendar`, `/library` and `/stats` naming the screen; with a plain-http URL it offers neither.

use crate::common;

use common::{en, ALICE};

tochen_testkit::store_test!(the_mini_app_opens_from_the_menu_and_from_calendar_library_and_stats, |store, db| {
    let h = common::Harness::start_with_env(&db, &[("TOCHEN_PUBLIC_URL", "https://tochen.example")]).await;
    let menu = h.tg.wait_call(0, |c| c.method == "setchatmenubutton").await;
    assert_eq!(menu.params["menu_button"]["type"], "web_app", "{}", menu.params);
    assert_eq!(menu.params["menu_button"]["web_app"]["url"], "https://tochen.example/app");
    assert!(menu.params.get("chat_id").is_none(), "the default for every private chat");
    h.onboard(ALICE, "Bakery").await;
    let label = en("miniapp.open_button");
    for (command, screen) in [("/calendar", "calendar"), ("/library", "library"), ("/stats", "stats")] {
        let mark = h.tg.mark();
        h.tg.send_text(ALICE, command);
        let call =
            h.tg.wait_call(mark, |c| {
                matches!(c.method.as_str(), "sendmessage" | "sendphoto") && c.params.to_string().contains("web_app")
            })
            .await;
        let markup = &call.params["reply_markup"];
        let markup: serde_json::Value = match markup.as_str() {
            Some(s) => serde_json::from_str(s).unwrap(),
            None => markup.clone(),
        };
        let last = markup["inline_keyboard"].as_array().unwrap().last().unwrap()[0].clone();
        assert_eq!(last["text"], label.as_str(), "{command}");
        assert_eq!(last["web_app"]["url"], format!("https://tochen.example/app?screen={screen}"), "{command}");
    }
    let _ = store;
});

tochen_testkit::store_test!(without_an_https_address_the_mini_app_is_not_offered, |store, db| {
    let h = common::Harness::start(&db).await;
    h.onboard(ALICE, "Bakery").await;
    let mark = h.tg.mark();
    h.say(ALICE, "/library", "").await;
    let calls = h.tg.calls();
    assert!(!calls.iter().any(|c| c.method == "setchatmenubutton"), "no menu button at http://localhost");
    assert!(!calls[mark..].iter().any(|c| c.params.to_string().contains("web_app")));
    let _ = store;
});
