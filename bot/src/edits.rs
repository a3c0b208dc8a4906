//! One way to change a post from the chat: the change is applied in one transaction with the version check and
//! the approval round it needs (`cards::edit`), and the person is told what happened when it is more than the
//! screen shows: refused (changed meanwhile, being published, moved on), or sent back for approval.

use crate::cards;
use crate::ctx::{Active, App, Ctx, TgBot};
use tochen_domain::i18n::t;
use tochen_domain::PostStatus;
use tochen_store::{EditOutcome, EditRefusal, Post, PostEdit};

/// The audit name of a change.
fn kind(change: &PostEdit) -> &'static str {
    match change {
        PostEdit::MainText { .. } => "text",
        PostEdit::Version { .. } => "version",
        PostEdit::FollowMain(_) => "follow_main",
        PostEdit::Versions { .. } => "versions",
        PostEdit::AddMedia(_) => "media_added",
        PostEdit::RemoveMedia(_) => "media_removed",
        PostEdit::MoveMedia { .. } => "media_moved",
        PostEdit::Accounts(_) => "accounts",
    }
}

/// Applies `change` to `post` (as read at the version the button or state carried). `false` after telling the
/// person why nothing changed.
pub async fn apply(
    bot: &TgBot,
    app: &App,
    ctx: &Ctx,
    a: &Active,
    post: &Post,
    change: PostEdit,
) -> anyhow::Result<bool> {
    let l = ctx.lang;
    match cards::edit(app, ctx, a, post, &change).await? {
        EditOutcome::Done { status, resubmitted, .. } => {
            if !matches!(post.status, PostStatus::Draft | PostStatus::Rejected) {
                let detail = serde_json::json!({"change": kind(&change), "status": status.as_str()});
                app.store
                    .audit(a.tenant.id, Some(ctx.user.id), "post.edited", "post", Some(&post.id.to_db()), detail)
                    .await?;
            }
            if resubmitted {
                let key =
                    if post.status == PostStatus::Scheduled { "bot.edit.sent_back" } else { "bot.edit.resubmitted" };
                ctx.say(bot, t(l, key), None).await?;
            }
            Ok(true)
        }
        EditOutcome::Refused(why) => {
            let key = match why {
                EditRefusal::Stale => "bot.stale",
                EditRefusal::Publishing => "bot.edit.publishing",
                EditRefusal::WrongStatus(_) => "bot.post.wrong_status",
                EditRefusal::NoAccounts => "bot.draft.keep_one",
                EditRefusal::NotFound => "bot.post.not_found",
            };
            ctx.dlg.exit().await?;
            ctx.refuse(bot, t(l, key)).await?;
            Ok(false)
        }
    }
}
