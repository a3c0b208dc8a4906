//! Names shown in several flows.

use tochen_domain::i18n::t;
use tochen_domain::Role;

/// A role's name in `lang`.
pub fn role_name(lang: &str, r: Role) -> String {
    match r {
        Role::Admin => t(lang, "bot.role.admin"),
        Role::Editor => t(lang, "bot.role.editor"),
        Role::Viewer => t(lang, "bot.role.viewer"),
    }
}
