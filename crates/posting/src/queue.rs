//! "Add to queue": the next free queue slot for a post's accounts.

use crate::approval::zone_of;
use tochen_domain::clock::Millis;
use tochen_domain::slots;
use tochen_domain::{AccountId, PostId};
use tochen_store::{Store, Tenant};

/// Where "Add to queue" puts a post to `accounts` at `now` (leaving `skip`, the post itself, out of the taken
/// times): the next free slot, and whether the slots are configured (`false`: the default slots were used).
pub async fn next_queue_time(
    store: &Store,
    tenant: &Tenant,
    accounts: &[AccountId],
    skip: Option<PostId>,
    now: Millis,
) -> tochen_store::Result<(Option<Millis>, bool)> {
    let configured = store.effective_queue_slots(tenant.id, accounts).await?;
    let (use_slots, is_configured) =
        if configured.is_empty() { (slots::defaults(), false) } else { (configured, true) };
    let taken = store.queue_taken_instants(tenant.id, accounts, now, skip).await?;
    Ok((slots::next_free(&use_slots, zone_of(tenant), now, &taken), is_configured))
}
