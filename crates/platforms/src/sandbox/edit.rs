//! The simulated platform edits and deletes the posts it keeps (`sandbox_posts`), so the flow for published posts
//! can be tried with sandbox accounts: an edit changes the caption its permalink page shows, a delete removes the
//! page.

use crate::edit::{Deleted, EditRequest, PostEditor};
use crate::publish::{ErrorClass, PublishError};
use tochen_store::Store;

/// The editor of every sandbox account.
pub struct SandboxEditor {
    store: Store,
}

impl SandboxEditor {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn store_error(e: tochen_store::StoreError) -> PublishError {
    PublishError::new(ErrorClass::Retryable { retry_after: None }, None, format!("the sandbox failed: {e}"))
}

#[async_trait::async_trait]
impl PostEditor for SandboxEditor {
    async fn edit_text(&self, req: &EditRequest, text: &str) -> Result<(), PublishError> {
        match self.store.edit_sandbox_post(req.tenant_id, &req.platform_post_id, text).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(PublishError::new(
                ErrorClass::Permanent,
                Some("not_found".into()),
                format!("the sandbox has no post {:?}", req.platform_post_id),
            )),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn delete(&self, req: &EditRequest) -> Result<Deleted, PublishError> {
        match self.store.delete_sandbox_post(req.tenant_id, &req.platform_post_id).await {
            Ok(true) => Ok(Deleted::Deleted),
            Ok(false) => Ok(Deleted::AlreadyGone),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn exists(&self, req: &EditRequest) -> Result<bool, PublishError> {
        match self.store.sandbox_post(&req.platform_post_id).await {
            Ok(kept) => Ok(kept.is_some_and(|k| k.tenant_id == req.tenant_id)),
            Err(e) => Err(store_error(e)),
        }
    }
}
