//! Editing and deleting a Page's published post (`docs/contracts/meta.md`): `POST /{post-id}` with `message`
//! (for a video or reel, `POST /{video-id}` with `description`) answers `{"success":true}`; `DELETE /{post-id}`
//! the same. Facebook does not list which posts can be edited; an error on an edit (code 100 or 200-299) means
//! "not editable here" and is shown as it is, never retried. A delete of an id Facebook no longer has (code 100,
//! subcode 33) is already done.

use super::FacebookPublisher;
use crate::edit::{Deleted, EditRequest, PostEditor};
use crate::graph::ok_json;
use crate::http::{send, Effect};
use crate::publish::{ErrorClass, PublishError};
use serde_json::Value;

/// Graph's "object does not exist (or cannot be loaded)" subcode of code 100.
const NO_SUCH_OBJECT: &str = "100/33";

/// An error from an edit or a delete: a refusal on this post (bad parameter, permission on this object) is
/// permanent ("not editable"), not a reason to reconnect the account; an invalid token still is.
fn refusal(e: PublishError) -> PublishError {
    let code: Option<i64> = e.code.as_deref().and_then(|c| c.split('/').next()).and_then(|c| c.parse().ok());
    match (e.class, code) {
        (ErrorClass::NeedsReconnect, Some(200..=299)) => PublishError { class: ErrorClass::Permanent, ..e },
        _ => e,
    }
}

/// `{"success":true}`, or a permanent error quoting what Facebook said instead.
fn success(v: &Value, what: &str) -> Result<(), PublishError> {
    if v["success"].as_bool() == Some(true) {
        return Ok(());
    }
    Err(PublishError::new(ErrorClass::Permanent, None, format!("Facebook did not confirm the {what}: {v}")))
}

#[async_trait::async_trait]
impl PostEditor for FacebookPublisher {
    #[tracing::instrument(skip_all, fields(target = %req.target_id))]
    async fn edit_text(&self, req: &EditRequest, text: &str) -> Result<(), PublishError> {
        let field = if req.video { "description" } else { "message" };
        let form = vec![(field, text.to_owned())];
        // Sending the same text again changes nothing: a lost answer is retried like a read.
        let v = self.graph.post_as(&req.platform_post_id, &req.access_token, &form, Effect::Prepare).await;
        success(&v.map_err(refusal)?, "edit")
    }

    #[tracing::instrument(skip_all, fields(target = %req.target_id))]
    async fn delete(&self, req: &EditRequest) -> Result<Deleted, PublishError> {
        let url = self.graph.url(&req.platform_post_id);
        let q = [("access_token", req.access_token.expose())];
        let answered = send(self.graph.http.delete(url).query(&q), Effect::Prepare).await?;
        match ok_json(answered, Effect::Prepare) {
            Ok(v) => success(&v, "delete").map(|_| Deleted::Deleted),
            Err(e) if e.code.as_deref() == Some(NO_SUCH_OBJECT) => Ok(Deleted::AlreadyGone),
            Err(e) => Err(refusal(e)),
        }
    }

    async fn exists(&self, req: &EditRequest) -> Result<bool, PublishError> {
        match self.graph.get(&req.platform_post_id, &req.access_token, &[("fields", "id")]).await {
            Ok(_) => Ok(true),
            Err(e) if e.code.as_deref() == Some(NO_SUCH_OBJECT) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
