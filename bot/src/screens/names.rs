//! Names shown in several flows.

use tochen_domain::i18n::t;
use tochen_domain::{PostStatus, Role};

/// A role's name in `lang`.
pub fn role_name(lang: &str, r: Role) -> String {
    match r {
        Role::Admin => t(lang, "bot.role.admin"),
        Role::Editor => t(lang, "bot.role.editor"),
        Role::Viewer => t(lang, "bot.role.viewer"),
    }
}

/// A post status's name in `lang` (the lists, a post's screen).
pub fn status_name(lang: &str, s: PostStatus) -> String {
    match s {
        PostStatus::PendingApproval => t(lang, "bot.status.pending_approval"),
        PostStatus::Scheduled => t(lang, "bot.status.scheduled"),
        PostStatus::Published => t(lang, "bot.status.published"),
        PostStatus::PartiallyPublished => t(lang, "bot.status.partially_published"),
        PostStatus::Failed => t(lang, "bot.status.failed"),
        PostStatus::Draft => t(lang, "bot.status.draft"),
        PostStatus::Rejected => t(lang, "bot.status.rejected"),
        PostStatus::Publishing => t(lang, "bot.status.publishing"),
        PostStatus::Cancelled => t(lang, "bot.status.cancelled"),
    }
}
