//! Approval rounds: an editor's post waits for an admin. Its cards go to every admin's private chat (in their
//! language) and to the team chat (in the workspace's), as durable `notify` jobs the store queues in the
//! transaction that changes the post. This module builds them; it reads the store only in [`Round::read`], before
//! that transaction.

use chrono::TimeZone;
use chrono_tz::Tz;
use tochen_domain::clock::Millis;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::{datetime, normalize, t, tf};
use tochen_domain::jobs::{NotifyButton, NotifyPayload};
use tochen_domain::{AccountId, PostId, PostStatus, Role, UserId};
use tochen_store::{
    ApprovalCard, CardOutcome, EditApproval, EditOutcome, Post, PostEdit, ScheduleError, Store, Target, Tenant,
};
use tochen_telegram::button::{Approval, Button, Draft, DraftAct};
use tochen_telegram::text::clip;

/// Longest title a card or a notice about a post quotes.
const TITLE_CHARS: usize = 200;

/// A post's title as cards and notices quote it: escaped, and cut short when long.
pub fn title_of(post: &Post) -> String {
    escape_html(&clip(&post.title, TITLE_CHARS))
}

/// The workspace's zone (UTC when its name does not parse).
pub fn zone_of(tenant: &Tenant) -> Tz {
    tenant.profile.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// A moment in `tz`, written in `lang`: "Thu 26 Nov 2026, 08:00 (Europe/Lisbon)".
pub fn local_time_in(lang: &str, tz: Tz, at_ms: i64) -> String {
    let local = tz.timestamp_millis_opt(at_ms).single().map(|d| datetime(lang, &d)).unwrap_or_default();
    format!("{local} ({})", tz.name())
}

/// What a card says, apart from the buttons (which carry the post's version once submitted).
struct CardText {
    author: String,
    /// The workspace's zone and the time: each card writes it in its own language.
    tz: Tz,
    at: Millis,
    title: String,
}

/// The card for `chat` in `lang`, with buttons for version `version` of post `id`.
fn card(lang: &str, chat: i64, c: &CardText, platforms: &str, id: PostId, version: i64) -> NotifyPayload {
    let when = local_time_in(lang, c.tz, c.at);
    let text = tf(
        lang,
        "bot.approval.card",
        &[("author", &c.author), ("when", &when), ("title", &c.title), ("platforms", &platforms)],
    );
    let button =
        |key: &str, cb: Button| NotifyButton { text: t(lang, key), callback_data: Some(cb.encode()), url: None };
    NotifyPayload {
        chat_id: chat,
        text_html: text,
        buttons: vec![vec![
            button("bot.approval.btn_preview", Button::Draft(Draft::Act(DraftAct::Show, id, version))),
            button("bot.approval.btn_approve", Button::Approval(Approval::Approve(id, version))),
            button("bot.approval.btn_reject", Button::Approval(Approval::Reject(id, version))),
        ]],
        attachment_path: None,
    }
}

/// Who gets a card: the team chat if set (in the workspace's language) and every admin (in their language),
/// each chat once.
pub async fn recipients(store: &Store, tenant: &Tenant) -> tochen_store::Result<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = Vec::new();
    if let Some(chat) = tenant.team_chat_id {
        out.push((chat, normalize(&tenant.profile.language).to_owned()));
    }
    for admin in store.admin_telegram_ids(tenant.id).await? {
        if out.iter().any(|(c, _)| *c == admin) {
            continue;
        }
        let lang = match store.user_by_telegram_id(admin).await? {
            Some(u) => normalize(u.language_override.as_deref().or(u.language_code.as_deref()).unwrap_or("en")),
            None => "en",
        };
        out.push((admin, lang.to_owned()));
    }
    Ok(out)
}

/// Everything a round of cards needs, read before the transaction that queues them.
pub struct Round {
    recipients: Vec<(i64, String)>,
    text: CardText,
}

impl Round {
    /// `author` (a display name) wrote `post`, which goes out at `at`.
    pub async fn read(
        store: &Store,
        tenant: &Tenant,
        author: &str,
        post: &Post,
        at: Millis,
    ) -> tochen_store::Result<Self> {
        let recipients = recipients(store, tenant).await?;
        let text = CardText { author: escape_html(author), tz: zone_of(tenant), at, title: title_of(post) };
        Ok(Round { recipients, text })
    }

    /// The cards, for the round's version and the post's targets (run inside the transaction: no store calls).
    pub fn cards(&self, id: PostId, version: i64, targets: &[Target]) -> Vec<ApprovalCard> {
        let mut platforms: Vec<&str> = targets.iter().map(|x| x.platform.as_str()).collect();
        platforms.sort_unstable();
        platforms.dedup();
        let platforms = platforms.join(", ");
        self.recipients
            .iter()
            .map(|(chat, lang)| ApprovalCard {
                lang: lang.clone(),
                message: card(lang, *chat, &self.text, &platforms, id, version),
            })
            .collect()
    }
}

/// Who changes a post: a member in the chat, or an API token acting for the member who made it.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user: Option<UserId>,
    /// How cards name them (plain text; escaped here).
    pub name: &'a str,
    pub role: Role,
}

/// The name a new round of cards gives as the post's author: the author's own when someone else changes it.
async fn author_name(store: &Store, actor: &Actor<'_>, post: &Post) -> Option<String> {
    match post.author_id {
        Some(u) if Some(u) != actor.user => store.user(u).await.map(|u| u.first_name).ok(),
        _ => None,
    }
}

/// Submits `post` for approval at `at` on `accounts`, with its cards queued in the same transaction. Everything
/// the cards need is read first: the transaction holds no other store call.
pub async fn submit(
    store: &Store,
    tenant: &Tenant,
    author: &str,
    post: &Post,
    at: Millis,
    accounts: &[AccountId],
) -> Result<Vec<Target>, ScheduleError> {
    let round = Round::read(store, tenant, author, post, at).await?;
    let cards = |version: i64, targets: &[Target]| round.cards(post.id, version, targets);
    store.submit_for_approval(tenant.id, post.id, post.version, at, accounts, cards).await
}

/// Moves a waiting `post` to `at` and submits it again: the earlier cards say who changed it (their buttons go)
/// and new cards go out, in the transaction of the change. Returns the targets and, when the actor is not the
/// author, the author's name (the caller tells them).
pub async fn resubmit(
    store: &Store,
    tenant: &Tenant,
    actor: &Actor<'_>,
    post: &Post,
    at: Millis,
) -> Result<(Vec<Target>, Option<String>), ScheduleError> {
    let author = author_name(store, actor, post).await;
    let round = Round::read(store, tenant, author.as_deref().unwrap_or(actor.name), post, at).await?;
    let (name, title) = (escape_html(actor.name), title_of(post));
    let on_cards = |lang: &str| tf(lang, "bot.approval.replaced_by", &[("name", &name), ("title", &title)]);
    let replaced = CardOutcome { text: &on_cards, shown: None };
    let cards = |version: i64, targets: &[Target]| round.cards(post.id, version, targets);
    let targets = store.resubmit_for_approval(tenant.id, post.id, post.version, at, &replaced, cards).await?;
    Ok((targets, author))
}

/// Applies `change` to `post`; a scheduled or waiting post gets the approval round the change needs (an editor's
/// change sends an approved post back to approval).
pub async fn edit(
    store: &Store,
    tenant: &Tenant,
    actor: &Actor<'_>,
    post: &Post,
    change: &PostEdit,
) -> tochen_store::Result<EditOutcome> {
    if !matches!(post.status, PostStatus::Scheduled | PostStatus::PendingApproval) {
        return store.edit_post(tenant.id, post.id, post.version, change, None).await;
    }
    let author = author_name(store, actor, post).await;
    let at = post.scheduled_at.unwrap_or_default();
    let round = Round::read(store, tenant, author.as_deref().unwrap_or(actor.name), post, at).await?;
    let (name, title) = (escape_html(actor.name), title_of(post));
    let on_cards = |lang: &str| tf(lang, "bot.approval.replaced_by", &[("name", &name), ("title", &title)]);
    let replaced = CardOutcome { text: &on_cards, shown: None };
    let cards = |version: i64, targets: &[Target]| round.cards(post.id, version, targets);
    let approval = EditApproval { send_back: actor.role == Role::Editor, replaced: &replaced, cards: &cards };
    store.edit_post(tenant.id, post.id, post.version, change, Some(&approval)).await
}

/// Cancels a post that has not gone out; a waiting post's cards say who withdrew it (their buttons go), in the
/// same transaction. `Ok(false)` when the post moved on.
pub async fn cancel(store: &Store, tenant: &Tenant, actor: &Actor<'_>, post: &Post) -> tochen_store::Result<bool> {
    let (name, title) = (escape_html(actor.name), title_of(post));
    let on_cards = |lang: &str| tf(lang, "bot.approval.withdrawn_by", &[("name", &name), ("title", &title)]);
    let withdrawn = CardOutcome { text: &on_cards, shown: None };
    store.cancel_post_with_cards(tenant.id, post.id, post.version, &withdrawn).await
}
