//! The command line and the bot agree: `tochen admin workspaces` (the real binary) and the operator's `/admin`
//! workspace screen show the same tokens, quota and cost for a workspace, on both databases.

use std::collections::HashMap;
use tochen_config::Config;
use tochen_domain::i18n::t;
use tochen_store::TenantProfile;
use tochen_testkit::fake_telegram::FakeTelegram;
use tochen_testkit::store_test;

const OPERATOR: i64 = 7070;

store_test!(the_command_line_and_the_bots_workspace_screen_show_the_same_numbers, |store, db| {
    let anna = store.upsert_user(&tochen_testkit::person(1, "Anna")).await.unwrap();
    let bloom = store.create_tenant("Bloom Coffee", &TenantProfile::default(), 80_000, anna.id).await.unwrap().id;
    let usage = tochen_testkit::llm_call("gpt-4o-mini", 1234, 2_345_678);
    store.record_llm_usage(bloom, &usage).await.unwrap();

    // The command line's row: ... tokens, quota, cost are its last three columns.
    let list = crate::admin_cli::ok(crate::admin_cli::admin(&db, &["workspaces"]));
    let row = list.lines().find(|l| l.contains("Bloom Coffee")).expect(&list);
    let cols: Vec<&str> = row.split_whitespace().collect();
    let [tokens, quota, cost] = cols[cols.len() - 3..] else { panic!("{row}") };
    assert_eq!((tokens, quota, cost), ("1234", "80000", "$2.3456"), "{row}");

    // The bot, with the operator configured.
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let operator = OPERATOR.to_string();
    let env: HashMap<String, String> = [
        ("TELEGRAM_BOT_TOKEN", tg.token.as_str()),
        ("TELEGRAM_API_URL", tg.api_url.as_str()),
        ("DATABASE_URL", db.url.as_str()),
        ("TOCHEN_SECRET_KEYS", db.key.as_str()),
        ("TOCHEN_DATA_DIR", dir.path().to_str().unwrap()),
        ("TOCHEN_OPERATORS", operator.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = Config::from_source(&env).expect("test config is valid");
    let bot = crate::components::Components::bot(&config, &store, &tg).await;
    // `/admin` is listed in the operator's own chat.
    let registered = tg
        .calls()
        .into_iter()
        .find(|c| c.method == "setmycommands" && c.params["scope"]["chat_id"].as_i64() == Some(OPERATOR));
    let registered = registered.expect("the operator's menu is registered");
    assert!(registered.params["commands"].to_string().contains("\"admin\""), "{:?}", registered.params);

    let mark = tg.mark();
    tg.send_text(OPERATOR, "/admin");
    let home = tg.said(OPERATOR, mark, "<b>Operator</b>").await;
    let mark = tg.mark();
    tg.press(OPERATOR, &home, &t("en", "admin.btn_workspaces"));
    let list = tg.said(OPERATOR, mark, "<b>Workspaces</b>").await;
    let mark = tg.mark();
    tg.press(OPERATOR, &list, "Bloom Coffee");
    let screen = tg.said(OPERATOR, mark, "<b>Bloom Coffee</b>").await;
    let shown = format!("{tokens} tokens, {cost}\nMonthly quota: {quota}");
    assert!(screen.text.contains(&shown), "{}\n{row}", screen.text);
    assert!(screen.text.contains(&bloom.to_db()), "{}", screen.text);

    bot.stop().await;
});
