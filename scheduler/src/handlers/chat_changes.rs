//! What a `notify` job learns about the chat itself, and what the workspace does about it.
//!
//! Telegram tells the sender, not the bot's update stream, when a chat is gone or has moved: 403 "bot was kicked"
//! or "blocked by the user" means the chat will never accept a message again, so every destination pointing at it
//! becomes inactive and the admins of the workspaces that were using it are told; `migrate_to_chat_id` means a
//! group became a supergroup, so destinations, the team chat and open conversations follow the new id. Which
//! errors mean a closed chat is the one list the bot shares, `tochen_telegram::closed::chat_is_closed`.
//!
//! Telling admins can never loop: only destinations that were still active produce notices (a second failure
//! finds them inactive and says nothing), the dead chat itself is never an addressee, and an admin's private chat
//! is not a destination, so a notice that fails there changes nothing further. Notices are queued before the
//! destinations change and carry a unique key per failed job and admin, so a retried job tells nobody twice.

use crate::notices;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;
use tochen_domain::jobs::NotifyPayload;
use tochen_domain::DestinationStatus;
use tochen_queue::JobError;
use tochen_store::Job;
use tochen_store::Store;

/// The chat refused the bot: deactivate its destinations and tell the admins of the workspaces that used it.
pub async fn closed(store: &Store, job: &Job, chat_id: i64, why: &str) -> Result<(), JobError> {
    let active: Vec<_> = store
        .destinations_by_chat(chat_id)
        .await?
        .into_iter()
        .filter(|d| d.status == DestinationStatus::Active)
        .collect();
    let mut told = std::collections::BTreeSet::new();
    for d in &active {
        if !told.insert(d.tenant_id) {
            continue;
        }
        for admin in store.admin_telegram_ids(d.tenant_id).await? {
            if admin == chat_id {
                continue;
            }
            let lang = notices::language_of(store, admin, Some(d.tenant_id)).await;
            let text = tf(&lang, "delivery.bot_chat_removed", &[("chat", &escape_html(&d.name))]);
            let unique = format!("notice:chat_closed:{}:{admin}", job.id);
            notices::send(store, Some(d.tenant_id), NotifyPayload::text(admin, text), Some(unique)).await?;
        }
    }
    if !active.is_empty() {
        tracing::info!(chat = chat_id, destinations = active.len(), "chat closed to the bot; destinations paused");
        store.deactivate_chat_destinations(chat_id, &format!("telegram: {why}")).await?;
    }
    Ok(())
}

/// The chat became a supergroup: everything that named the old id follows the new one.
pub async fn migrated(store: &Store, old: i64, new: i64) -> Result<(), JobError> {
    tracing::info!(old, new, "chat migrated to a supergroup; destinations and team chat follow");
    // The same moves the bot makes on the service messages, so whichever path comes second finds nothing left.
    store.follow_chat_migration(old, new).await?;
    Ok(())
}
