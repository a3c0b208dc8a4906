//! AI cost per model this month, across every workspace.

use super::{clip, dollars, month};
use crate::ctx::{App, Ctx, HandlerResult, TgBot};
use crate::kb::kb;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{t, tf};
use tochen_telegram::button::{Admin, Button};

/// Models listed at most (the most expensive first, as the store orders them); a message has room for these.
const MAX_MODELS: usize = 30;

pub async fn costs(bot: &TgBot, app: &App, ctx: &Ctx) -> HandlerResult {
    let models = app.store.cost_per_model(month()).await?;
    let l = ctx.lang;
    let mut text = t(l, "admin.costs.title");
    if models.is_empty() {
        text.push('\n');
        text.push_str(&t(l, "admin.costs.none"));
    }
    for m in models.iter().take(MAX_MODELS) {
        text.push('\n');
        text.push_str(&tf(
            l,
            "admin.costs.line",
            &[
                ("model", &escape_html(&clip(&format!("{}/{}", m.provider, m.model), 60))),
                ("calls", &m.calls),
                ("tokens", &m.tokens),
                ("images", &m.images),
                ("cost", &dollars(m.cost_micros)),
                ("workspaces", &m.workspaces),
            ],
        ));
    }
    let back = kb(vec![vec![(t(l, "admin.btn_back"), Button::Admin(Admin::Home))]]);
    ctx.show(bot, text, Some(back)).await
}
