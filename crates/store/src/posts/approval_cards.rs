//! Approval cards as sent, so that a decision can be shown on every card, not only on the one that was pressed.
//!
//! A card is queued as a `notify` job together with its row here, in the transaction that submits the post
//! (`Store::submit_for_approval`), so a post never waits without its cards. The notify handler records the
//! message id once the card is sent; the decision writes the outcome, in each card's language, in the
//! transaction that approves or rejects the post. Whichever of those two writes comes second queues the edit
//! that shows the outcome on that card (a row update is atomic on both backends, so exactly one of them does);
//! a card whose post was decided before its job ran is not sent at all.
//!
//! A change to a waiting post (`Store::resubmit_for_approval`) writes "replaced" as the outcome of its earlier
//! cards in the same way and queues the new round's cards, in the transaction of the change; withdrawing it
//! (`Store::cancel_post_with_cards`) writes "withdrawn" on its cards, in the transaction of the cancel.
//!
//! Rows are keyed by post, submission round (the post's version once submitted) and chat, so a post rejected,
//! changed and submitted again gets fresh cards while the old round's jobs cannot touch them.

use crate::jobs::insert_job;
use crate::NewJob;
use crate::{Result, Store};
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::{PostId, TenantId};
use tochen_domain::jobs::{ApprovalCardRef, NotifyExtras, NotifyJob, NotifyPayload};

/// One card to queue with a submission: the message (to `message.chat_id`) and the language the outcome is
/// written in on it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalCard {
    pub lang: String,
    pub message: NotifyPayload,
}

/// What became of a request, as its cards show it: a decision, a change that replaced it, or its withdrawal.
pub struct CardOutcome<'a> {
    /// The outcome in a language ("✅ Approved by Anna: …"), Telegram HTML.
    pub text: &'a (dyn Fn(&str) -> String + Send + Sync),
    /// The card the decider pressed, (chat, message id): their own screen shows the outcome already. `None`
    /// when the outcome came from elsewhere (a change or a withdrawal in /queue): every sent card is edited.
    pub shown: Option<(i64, i64)>,
}

/// A card's row, for views and tests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SentCard {
    pub round: i64,
    pub chat_id: i64,
    pub lang: String,
    /// Set once the notify job sent the card.
    pub message_id: Option<i64>,
    /// Set once the post was decided.
    pub outcome_html: Option<String>,
}

/// Queues `cards` for round `round` of `post` inside the caller's transaction: one row and one `notify` job each
/// (unique per post, round and chat). The same chat twice violates the table's key and fails the transaction.
pub(crate) async fn queue_cards(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    post: PostId,
    round: i64,
    cards: Vec<ApprovalCard>,
    now: Millis,
) -> Result<()> {
    for card in cards {
        let chat = card.message.chat_id;
        sqlx::query(
            "INSERT INTO approval_cards (tenant_id, post_id, round, chat_id, lang, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(round)
        .bind(chat)
        .bind(&card.lang)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let extras =
            NotifyExtras { approval_card: Some(ApprovalCardRef { post_id: post, round }), ..Default::default() };
        let job = NotifyJob { message: card.message, extras };
        let key = format!("approval:{}:{round}:{chat}", post.to_db());
        insert_job(tx, &NewJob::new(&job).tenant(tenant).unique(key), now).await?;
    }
    Ok(())
}

/// Writes the outcome on every undecided card of `post` inside the decision's transaction and queues an edit for
/// each card already sent, except the one the decider pressed. Returns whether a job was queued.
pub(crate) async fn settle_cards(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    post: PostId,
    outcome: &CardOutcome<'_>,
    now: Millis,
) -> Result<bool> {
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT round, chat_id, lang FROM approval_cards WHERE tenant_id = $1 AND post_id = $2 \
         AND outcome_html IS NULL ORDER BY round, chat_id",
    )
    .bind(tenant.to_db())
    .bind(post.to_db())
    .fetch_all(&mut **tx)
    .await?;
    let mut queued = false;
    for (round, chat, lang) in rows {
        let text = (outcome.text)(&lang);
        let sent: Option<(Option<i64>,)> = sqlx::query_as(
            "UPDATE approval_cards SET outcome_html = $5, updated_at = $6 WHERE tenant_id = $1 AND post_id = $2 \
             AND round = $3 AND chat_id = $4 AND outcome_html IS NULL RETURNING message_id",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .bind(round)
        .bind(chat)
        .bind(&text)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some((Some(message_id),)) = sent {
            if outcome.shown != Some((chat, message_id)) {
                insert_job(tx, &edit_job(tenant, post, round, chat, message_id, text), now).await?;
                queued = true;
            }
        }
    }
    Ok(queued)
}

/// The job that edits a sent card to show the outcome, without buttons.
fn edit_job(tenant: TenantId, post: PostId, round: i64, chat: i64, message_id: i64, text: String) -> NewJob {
    let job = NotifyJob {
        message: NotifyPayload::text(chat, text),
        extras: NotifyExtras { edit_message_id: Some(message_id), ..Default::default() },
    };
    NewJob::new(&job).tenant(tenant).unique(format!("approval.edit:{}:{round}:{chat}", post.to_db()))
}

impl Store {
    /// True when the post of this card was decided (the card's outcome is written) or the card is unknown: such a
    /// card is not worth sending any more.
    pub async fn approval_card_settled(&self, tenant: TenantId, card: ApprovalCardRef, chat_id: i64) -> Result<bool> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT outcome_html FROM approval_cards WHERE tenant_id = $1 AND post_id = $2 AND round = $3 \
             AND chat_id = $4",
        )
        .bind(tenant.to_db())
        .bind(card.post_id.to_db())
        .bind(card.round)
        .bind(chat_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(!matches!(row, Some((None,))))
    }

    /// Records that the card queued for `queued_chat` was sent as `message_id` in `sent_chat` (another id when
    /// the group had become a supergroup). If the post was decided meanwhile, queues the edit that shows the
    /// outcome, in the same transaction, and returns true.
    pub async fn record_approval_card(
        &self,
        tenant: TenantId,
        card: ApprovalCardRef,
        queued_chat: i64,
        sent_chat: i64,
        message_id: i64,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "UPDATE approval_cards SET chat_id = $5, message_id = $6, updated_at = $7 WHERE tenant_id = $1 \
             AND post_id = $2 AND round = $3 AND chat_id = $4 RETURNING outcome_html",
        )
        .bind(tenant.to_db())
        .bind(card.post_id.to_db())
        .bind(card.round)
        .bind(queued_chat)
        .bind(sent_chat)
        .bind(message_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let queued = match row {
            Some((Some(outcome),)) => {
                let job = edit_job(tenant, card.post_id, card.round, sent_chat, message_id, outcome);
                insert_job(&mut tx, &job, now).await?
            }
            _ => false,
        };
        tx.commit().await?;
        if queued {
            self.notify_jobs_changed();
        }
        Ok(queued)
    }

    /// The latest submission round of a post (the version its newest cards carry), if it was ever submitted.
    /// A button carrying an older version belongs to a request that a change replaced.
    pub async fn approval_round(&self, tenant: TenantId, post: PostId) -> Result<Option<i64>> {
        let (round,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(round) FROM approval_cards WHERE tenant_id = $1 AND post_id = $2")
                .bind(tenant.to_db())
                .bind(post.to_db())
                .fetch_one(&self.pool)
                .await?;
        Ok(round)
    }

    /// Test support (only with the `test-support` feature). The approval cards of a post, oldest round first.
    #[cfg(feature = "test-support")]
    pub async fn approval_cards(&self, tenant: TenantId, post: PostId) -> Result<Vec<SentCard>> {
        Ok(sqlx::query_as(
            "SELECT round, chat_id, lang, message_id, outcome_html FROM approval_cards WHERE tenant_id = $1 \
             AND post_id = $2 ORDER BY round, chat_id",
        )
        .bind(tenant.to_db())
        .bind(post.to_db())
        .fetch_all(&self.pool)
        .await?)
    }
}
