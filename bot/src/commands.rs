//! Telling commands from answers.
//!
//! A prompt ("Send the new text", "When?") reads the next message as its answer, but a message that is a command
//! is never an answer: a known command runs (case-insensitively: `/Queue` and `/queue` alike, with or without
//! `@<this bot>`), leaving the prompt, so a later message is not silently taken as the answer to a question the
//! person left; a command addressed to another bot (`/start@other_bot` in a group) is not ours and is ignored;
//! an unknown command gets a short "I don't know that command" in a private chat and is ignored in groups (other
//! bots there may know it), keeping the prompt.

use crate::catalog::Command;
use crate::ctx::{Ctx, HandlerResult, TgBot};
use crate::state::State;
use teloxide::prelude::*;
use teloxide::types::Me;
use teloxide::utils::command::BotCommands;
use tochen_domain::html::escape_html;
use tochen_domain::i18n::tf;

/// A message's leading command word: `/name` or `/name@bot`, as Telegram marks a bot command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandWord {
    /// Lower case, without the slash.
    pub name: String,
    /// The bot it names after `@`, if any.
    pub bot: Option<String>,
}

/// The command word leading `text`, if it is shaped like one (`/home/me` and `/ hello` are text).
pub fn command_word(text: &str) -> Option<CommandWord> {
    let head = text.split_whitespace().next()?.strip_prefix('/')?;
    let (name, bot) = match head.split_once('@') {
        Some((n, b)) => (n, Some(b)),
        None => (head, None),
    };
    let word = |s: &str| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !word(name) || name.len() > 32 || bot.is_some_and(|b| !word(b)) {
        return None;
    }
    Some(CommandWord { name: name.to_ascii_lowercase(), bot: bot.map(str::to_owned) })
}

fn for_us(w: &CommandWord, me: &Me) -> bool {
    w.bot.as_deref().is_none_or(|b| me.user.username.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(b)))
}

/// A command of the bot's own menu, read case-insensitively.
pub fn parse(m: &Message, me: &Me) -> Option<Command> {
    let text = m.text().or_else(|| m.caption())?.trim_start();
    let w = command_word(text)?;
    if !for_us(&w, me) {
        return None;
    }
    let rest = text.split_once(char::is_whitespace).map(|(_, r)| r.trim()).unwrap_or("");
    let normalized = if rest.is_empty() { format!("/{}", w.name) } else { format!("/{} {rest}", w.name) };
    Command::parse(&normalized, me.user.username.as_deref().unwrap_or_default()).ok()
}

/// Whether `m` is a command this bot runs.
fn runs(m: &Message, me: &Me) -> bool {
    parse(m, me).is_some()
}

/// The prompts that read the next message as their answer.
fn is_text_prompt(s: &State) -> bool {
    !matches!(s, State::Idle | State::Ideas { .. } | State::Automation { .. })
}

/// The state a message continues in: a command this bot runs leaves a text prompt (the command's own handler
/// may start a new one).
pub async fn leave_prompt_for_command(ctx: &Ctx, state: State, update: &Update, me: &Me) -> State {
    let teloxide::types::UpdateKind::Message(m) = &update.kind else { return state };
    if !is_text_prompt(&state) || !runs(m, me) {
        return state;
    }
    match ctx.dlg.exit().await {
        Ok(()) => State::Idle,
        Err(e) => {
            tracing::warn!(error = %e, "cannot leave the prompt for a command");
            state
        }
    }
}

/// A command-shaped message this bot does not run: another bot's, or unknown.
pub fn not_ours(m: Message, me: Me) -> Option<CommandWord> {
    let w = command_word(m.text()?.trim_start())?;
    (!runs(&m, &me)).then_some(w)
}

/// Another bot's command is not ours to answer; an unknown one is explained in a private chat.
pub async fn unknown(bot: TgBot, ctx: Ctx, w: CommandWord, me: Me) -> HandlerResult {
    if ctx.private && for_us(&w, &me) {
        let text = tf(ctx.lang, "bot.unknown_command", &[("command", &escape_html(&format!("/{}", w.name)))]);
        ctx.say(&bot, text, None).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_words_are_told_from_text() {
        let w = |name: &str, bot: Option<&str>| Some(CommandWord { name: name.into(), bot: bot.map(Into::into) });
        assert_eq!(command_word("/Queue"), w("queue", None));
        assert_eq!(command_word("/cancel@Tochen_Bot now"), w("cancel", Some("Tochen_Bot")));
        assert_eq!(command_word("/idea autumn menu"), w("idea", None));
        for text in ["/home/me/notes", "/ hello", "/", "hello /cancel", "/caf\u{e9}", "/a@", "/@bot"] {
            assert_eq!(command_word(text), None, "{text}");
        }
    }
}
