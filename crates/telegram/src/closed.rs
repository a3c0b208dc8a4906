//! The one list of Bot API errors that say a chat is closed to the bot: it will never accept a message from us
//! again (the bot was blocked, kicked or removed, the person deleted their account, never started the bot, or the
//! chat is gone). The bot drops its conversations there; the scheduler pauses the destinations that point at it
//! and tells their admins.

use teloxide::{ApiError, RequestError};

/// Words of a 403 description teloxide does not map (Telegram's wording varies by chat type: "bot was kicked from
/// the group chat", "bot is not a member of the channel chat").
const FORBIDDEN_WORDS: [&str; 4] = ["kicked", "blocked", "not a member", "deactivated"];

/// True when `e` says the bot can no longer write to the chat at all.
pub fn chat_is_closed(e: &RequestError) -> bool {
    match e {
        RequestError::Api(
            ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::ChatNotFound,
        ) => true,
        RequestError::Api(ApiError::Unknown(d)) => {
            d.starts_with("Forbidden:") && FORBIDDEN_WORDS.iter().any(|w| d.contains(w))
        }
        // An error envelope teloxide could not map: a 403 is still a closed chat.
        RequestError::InvalidJson { raw, .. } => {
            serde_json::from_str::<serde_json::Value>(raw).ok().is_some_and(|v| v["error_code"].as_i64() == Some(403))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn invalid_json(raw: &str) -> RequestError {
        let source = Arc::new(serde_json::from_str::<serde_json::Value>("{").unwrap_err());
        RequestError::InvalidJson { source, raw: raw.into() }
    }

    #[test]
    fn blocked_kicked_deactivated_unstarted_and_gone_chats_are_closed() {
        for e in [
            ApiError::BotBlocked,
            ApiError::BotKicked,
            ApiError::BotKickedFromSupergroup,
            ApiError::BotKickedFromChannel,
            ApiError::UserDeactivated,
            ApiError::CantInitiateConversation,
            ApiError::ChatNotFound,
            ApiError::Unknown("Forbidden: bot was kicked from the group chat".into()),
            ApiError::Unknown("Forbidden: bot is not a member of the channel chat".into()),
        ] {
            assert!(chat_is_closed(&RequestError::Api(e.clone())), "{e:?}");
        }
        assert!(chat_is_closed(&invalid_json(r#"{"ok":false,"error_code":403,"description":"Forbidden: odd"}"#)));
    }

    #[test]
    fn other_errors_leave_the_chat_open() {
        for e in [
            RequestError::Api(ApiError::MessageNotModified),
            RequestError::Api(ApiError::NotEnoughRightsToPostMessages),
            RequestError::Api(ApiError::Unknown("Bad Request: message text is empty".into())),
            RequestError::Api(ApiError::Unknown("Forbidden: something else".into())),
            RequestError::MigrateToChatId(teloxide::types::ChatId(-100)),
            invalid_json(r#"{"ok":false,"error_code":429,"description":"Too Many Requests"}"#),
            invalid_json("not json"),
        ] {
            assert!(!chat_is_closed(&e), "{e:?}");
        }
    }
}
