//! The commands: the `Command` enum the handler tree matches, and one table (`COMMANDS`) saying for each who may
//! use it, which locale key describes it in Telegram's command menus, which line of `/help` names it, and which
//! menus list it. `/help` and the menus registered with `set_my_commands` are built from the table; tests check
//! that the table and the enum name the same commands.

use teloxide::types::BotCommandScope;
use teloxide::utils::command::BotCommands;
use tochen_domain::i18n::t;
use tochen_domain::Role;

/// The commands. Doc comments are the developer-facing help; people read the localized `/help` built from
/// [`COMMANDS`].
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// Create a workspace, or join one with an invite link.
    Start(String),
    /// Post ideas, optionally about a topic: /idea autumn menu
    Idea(String),
    /// Write a post yourself (text, photos, videos, an album), or import a file: /new https://example.com/a.mp4
    New(String),
    /// Every post, filtered and searched: /library words, /library #tag
    Library(String),
    /// Drafts waiting to be scheduled.
    Drafts,
    /// Upcoming posts.
    Queue,
    /// Published and failed posts.
    History,
    /// Numbers for a period: /stats 30
    Stats(String),
    /// Campaigns: their posts, batches and results.
    Campaigns,
    /// A new campaign: /campaign new
    Campaign(String),
    /// The week or month as a picture: posts per day and platform.
    Calendar,
    /// Ad accounts: today, yesterday, the last 7 days and the campaigns, worst first.
    Ads,
    /// Weekly queue slots "Add to queue" fills (admins edit).
    Slots,
    /// Engagement by weekday and hour, and suggested slots.
    Besttime,
    /// LLM usage this month.
    Usage,
    /// Invite someone (admins).
    Invite,
    /// Members and roles.
    Team,
    /// Switch or create workspaces.
    Workspaces,
    /// Edit the business profile (admins).
    Profile,
    /// Choose the bot's language.
    Language,
    /// Connect a social account.
    Connect,
    /// Connected accounts.
    Accounts,
    /// Leave the current conversation.
    Cancel,
    /// Schedule a report, an alert or a data sync: /automate report weekly
    Automate(String),
    /// Scheduled automations.
    Automations,
    /// Where automations deliver.
    Destinations,
    /// Make this group a destination (in the group).
    Link,
    /// Add a webhook destination: /webhook https://example.com/hook
    Webhook(String),
    /// Add an email destination: /email team@example.com
    Email(String),
    /// HTTP API tokens for scripts and tools (admins, in a private chat).
    Api,
    /// What every command does.
    Help,
    /// The operator's screens (operators only, in a private chat).
    Admin,
}

/// A command menu: Telegram shows a different list per scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    /// Private chats: everything a member may try (admin-only commands say so when a non-admin sends them).
    Private,
    /// Groups, for every member: the team's posts, and the automations viewers may list.
    Group,
    /// Groups, for their admins: also making the group the team chat, usage, and linking the group as a
    /// destination and automating reports for it.
    GroupAdmin,
    /// The operators' own private chats: the private menu and `/admin`, registered chat by chat
    /// (`admin::register_commands`), so nobody else sees `/admin` listed. Not in [`Menu::ALL`].
    Operator,
}

impl Menu {
    /// The menus registered for everyone.
    pub const ALL: [Menu; 3] = [Menu::Private, Menu::Group, Menu::GroupAdmin];

    /// The scope a public menu is registered for; `None` for [`Menu::Operator`], registered per chat.
    pub fn scope(self) -> Option<BotCommandScope> {
        match self {
            Menu::Private => Some(BotCommandScope::AllPrivateChats),
            Menu::Group => Some(BotCommandScope::AllGroupChats),
            Menu::GroupAdmin => Some(BotCommandScope::AllChatAdministrators),
            Menu::Operator => None,
        }
    }

    /// Whether everyone sees this menu (commands only in the operators' menu stay out of `/help` too).
    pub fn public(self) -> bool {
        self != Menu::Operator
    }
}

/// One command of the table.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The command as typed, without the slash.
    pub name: &'static str,
    /// The role it needs in the active workspace; `None`: anyone, with or without a workspace (`/admin` needs no
    /// workspace role: it checks that the person is an operator).
    pub role: Option<Role>,
    /// The locale key of its description in the command menus.
    pub description: &'static str,
    /// The locale key of its line in `/help` (commands that belong together share one line).
    pub help: &'static str,
    /// The menus that list it.
    pub menus: &'static [Menu],
}

use Menu::{Group as G, GroupAdmin as GA, Operator as OP, Private as P};

const fn row(
    name: &'static str,
    role: Option<Role>,
    description: &'static str,
    help: &'static str,
    menus: &'static [Menu],
) -> Entry {
    Entry { name, role, description, help, menus }
}

const ANYONE: Option<Role> = None;
const VIEWER: Option<Role> = Some(Role::Viewer);
const EDITOR: Option<Role> = Some(Role::Editor);
const ADMIN: Option<Role> = Some(Role::Admin);

/// Every command, in the order of `/help` and of the menus. `/link` works only in the group it links, so only the
/// groups' admin menu lists it; `/webhook` shows its secret once, in the chat, so only the private menu does.
pub const COMMANDS: &[Entry] = &[
    row("start", ANYONE, "bot.cmd.start", "bot.help.start", &[P, GA]),
    row("idea", EDITOR, "bot.cmd.idea", "bot.help.idea", &[P, G, GA]),
    row("new", EDITOR, "bot.cmd.new", "bot.help.new", &[P, G, GA]),
    row("library", VIEWER, "bot.cmd.library", "bot.help.library", &[P, G, GA]),
    row("drafts", VIEWER, "bot.cmd.drafts", "bot.help.drafts", &[P, G, GA]),
    row("queue", VIEWER, "bot.cmd.queue", "bot.help.queue", &[P, G, GA]),
    row("history", VIEWER, "bot.cmd.history", "bot.help.history", &[P, G, GA]),
    row("stats", VIEWER, "bot.cmd.stats", "bot.help.stats", &[P, G, GA]),
    row("campaigns", VIEWER, "bot.cmd.campaigns", "bot.help.campaigns", &[P, G, GA]),
    row("campaign", EDITOR, "bot.cmd.campaign", "bot.help.campaigns", &[P, G, GA]),
    row("calendar", VIEWER, "bot.cmd.calendar", "bot.help.calendar", &[P, G, GA]),
    row("ads", VIEWER, "ads.cmd", "ads.help", &[P, G, GA]),
    row("slots", VIEWER, "bot.cmd.slots", "bot.help.slots", &[P, G, GA]),
    row("besttime", VIEWER, "bot.cmd.besttime", "bot.help.slots", &[P, G, GA]),
    row("usage", VIEWER, "bot.cmd.usage", "bot.help.usage", &[P, GA]),
    row("invite", ADMIN, "bot.cmd.invite", "bot.help.invite", &[P]),
    row("team", VIEWER, "bot.cmd.team", "bot.help.team", &[P]),
    row("workspaces", ANYONE, "bot.cmd.workspaces", "bot.help.workspaces", &[P]),
    row("profile", ADMIN, "bot.cmd.profile", "bot.help.profile", &[P]),
    row("language", ANYONE, "bot.cmd.language", "bot.help.language", &[P]),
    row("api", ADMIN, "bot.cmd.api", "bot.help.api", &[P]),
    row("connect", ADMIN, "bot.cmd.connect", "bot.help.accounts", &[P]),
    row("accounts", VIEWER, "bot.cmd.accounts", "bot.help.accounts", &[P]),
    row("cancel", ANYONE, "bot.cmd.cancel", "bot.help.cancel", &[P, G, GA]),
    row("automate", ADMIN, "bot.cmd.automate", "bot.help.automations", &[P, GA]),
    row("automations", VIEWER, "bot.cmd.automations", "bot.help.automations", &[P, G, GA]),
    row("destinations", VIEWER, "bot.cmd.destinations", "bot.help.destinations", &[P, GA]),
    row("link", ADMIN, "bot.cmd.link", "bot.help.destinations", &[GA]),
    row("webhook", ADMIN, "bot.cmd.webhook", "bot.help.destinations", &[P]),
    row("email", ADMIN, "bot.cmd.email", "bot.help.destinations", &[P]),
    row("help", ANYONE, "bot.cmd.help", "bot.help.help", &[P, G, GA]),
    row("admin", ANYONE, "admin.cmd", "admin.help", &[OP]),
];

impl Command {
    /// The command as typed, without the slash.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Start(_) => "start",
            Command::Idea(_) => "idea",
            Command::New(_) => "new",
            Command::Library(_) => "library",
            Command::Drafts => "drafts",
            Command::Queue => "queue",
            Command::History => "history",
            Command::Stats(_) => "stats",
            Command::Campaigns => "campaigns",
            Command::Campaign(_) => "campaign",
            Command::Calendar => "calendar",
            Command::Ads => "ads",
            Command::Slots => "slots",
            Command::Besttime => "besttime",
            Command::Usage => "usage",
            Command::Invite => "invite",
            Command::Team => "team",
            Command::Workspaces => "workspaces",
            Command::Profile => "profile",
            Command::Language => "language",
            Command::Connect => "connect",
            Command::Accounts => "accounts",
            Command::Cancel => "cancel",
            Command::Automate(_) => "automate",
            Command::Automations => "automations",
            Command::Destinations => "destinations",
            Command::Link => "link",
            Command::Webhook(_) => "webhook",
            Command::Email(_) => "email",
            Command::Api => "api",
            Command::Help => "help",
            Command::Admin => "admin",
        }
    }
}

/// The table's entry of a command (a test checks every command has one).
pub fn entry_of(name: &str) -> Option<&'static Entry> {
    COMMANDS.iter().find(|e| e.name == name)
}

/// The table's entry of `cmd`.
pub fn entry(cmd: &Command) -> Entry {
    entry_of(cmd.name()).copied().unwrap_or(Entry {
        name: "help",
        role: ADMIN,
        description: "bot.cmd.help",
        help: "bot.help.help",
        menus: &[],
    })
}

/// Whether a public menu lists the command (the operators' `/admin` is in none).
fn is_public(e: &Entry) -> bool {
    e.menus.iter().any(|m| m.public())
}

/// The `/help` text: a title, then one line per group of commands, in the table's order (public commands only).
pub fn help_text(lang: &str) -> String {
    let mut lines = vec![t(lang, "bot.help.title")];
    let mut seen: Vec<&str> = Vec::new();
    for e in COMMANDS.iter().filter(|e| is_public(e)) {
        if !seen.contains(&e.help) {
            seen.push(e.help);
            lines.push(t(lang, e.help));
        }
    }
    lines.join("\n")
}

/// The commands `menu` lists, with their descriptions in `lang`.
pub fn menu(lang: &str, menu: Menu) -> Vec<teloxide::types::BotCommand> {
    COMMANDS
        .iter()
        .filter(|e| e.menus.contains(&menu))
        .map(|e| teloxide::types::BotCommand::new(e.name, t(lang, e.description)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tochen_domain::i18n::LANGUAGES;

    fn every_command() -> Vec<Command> {
        let s = String::new;
        vec![
            Command::Start(s()),
            Command::Idea(s()),
            Command::New(s()),
            Command::Library(s()),
            Command::Drafts,
            Command::Queue,
            Command::History,
            Command::Stats(s()),
            Command::Campaigns,
            Command::Campaign(s()),
            Command::Calendar,
            Command::Ads,
            Command::Slots,
            Command::Besttime,
            Command::Usage,
            Command::Invite,
            Command::Team,
            Command::Workspaces,
            Command::Profile,
            Command::Language,
            Command::Connect,
            Command::Accounts,
            Command::Cancel,
            Command::Automate(s()),
            Command::Automations,
            Command::Destinations,
            Command::Link,
            Command::Webhook(s()),
            Command::Email(s()),
            Command::Api,
            Command::Help,
            Command::Admin,
        ]
    }

    /// The table, the enum and teloxide's parser name the same commands, once each.
    #[test]
    fn the_table_names_exactly_the_commands_of_the_enum() {
        let mut parsed: Vec<&str> = every_command().iter().map(Command::name).collect();
        for name in &parsed {
            let cmd = Command::parse(&format!("/{name}"), "tochen_bot").expect(name);
            assert_eq!(cmd.name(), *name);
        }
        let mut declared: Vec<String> =
            Command::bot_commands().into_iter().map(|c| c.command.trim_start_matches('/').to_owned()).collect();
        let mut table: Vec<&str> = COMMANDS.iter().map(|e| e.name).collect();
        parsed.sort();
        declared.sort();
        table.sort();
        assert_eq!(declared, parsed);
        let before = table.len();
        table.dedup();
        assert_eq!(table.len(), before, "a command is in the table twice");
        assert_eq!(table, parsed);
    }

    /// Every command appears in `/help`, in every language, for every role that may use it (and for people
    /// without a workspace when it needs none).
    #[test]
    fn every_command_is_in_help_for_the_roles_that_may_use_it() {
        let roles = [None, Some(Role::Viewer), Some(Role::Editor), Some(Role::Admin)];
        for lang in LANGUAGES {
            let help = help_text(lang);
            for cmd in every_command().into_iter().filter(|c| is_public(&entry(c))) {
                let e = entry(&cmd);
                for role in roles.iter().filter(|r| e.role.is_none_or(|need| r.is_some_and(|r| r.at_least(need)))) {
                    let named = help.lines().any(|l| {
                        l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '_'))
                            .any(|w| w == format!("/{}", cmd.name()))
                    });
                    assert!(named, "{lang}: /{} is not in /help for {role:?}:\n{help}", cmd.name());
                }
            }
        }
    }

    /// `/help` in English reads as it did when it was one hand-written text, with /start and /help added.
    #[test]
    fn help_keeps_its_lines() {
        let help = help_text("en");
        assert!(help.starts_with("<b>What I can do</b>\n/start: "), "{help}");
        assert!(
            help.contains("\n/idea [topic]: post ideas, then a draft for each platform\n/new [link to a file]: "),
            "{help}"
        );
        assert!(help.contains("\n/connect, /accounts: social accounts\n/cancel: leave any conversation\n"), "{help}");
        assert!(help.ends_with("where they go (admins)\n/help: this list"), "{help}");
    }

    /// The operators' `/admin` is in no public menu and not in `/help`.
    #[test]
    fn admin_is_listed_only_in_the_operators_menu() {
        for lang in LANGUAGES {
            for m in Menu::ALL {
                assert!(menu(lang, m).iter().all(|c| c.command != "admin"), "{lang}/{m:?}");
            }
            assert!(!help_text(lang).contains("/admin"), "{lang}");
            assert!(menu(lang, Menu::Operator).iter().any(|c| c.command == "admin"), "{lang}");
        }
    }

    /// Every menu entry has its own description in every language, and every command is in some menu.
    #[test]
    fn every_menu_entry_has_its_own_description_in_every_language() {
        for lang in LANGUAGES {
            let help = t(lang, "bot.cmd.help");
            for e in COMMANDS {
                assert!(!e.menus.is_empty(), "/{} is in no menu", e.name);
                let d = t(lang, e.description);
                assert_ne!(d, e.description, "{lang}: {} is missing", e.description);
                assert_ne!(t(lang, e.help), e.help, "{lang}: {} is missing", e.help);
                assert!((3..=256).contains(&d.chars().count()), "{lang}/{}: {d}", e.name);
                assert!(e.name == "help" || d != help, "{lang}/{} falls back to the help text", e.name);
            }
            for m in Menu::ALL {
                assert!(menu(lang, m).len() <= 100, "Telegram takes at most 100 commands");
            }
        }
    }
}
