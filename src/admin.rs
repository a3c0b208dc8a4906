//! `tochen admin`: the operator's controls at a shell, the same store functions as `/admin` in the bot, so both
//! show the same numbers and audit every action the same way (actor `cli:<login>`).

use anyhow::{bail, Context};
use clap::Subcommand;
use std::fmt::Write as _;
use tochen_domain::clock::{month_start_ms, now_ms, DAY_MS};
use tochen_domain::ids::JobId;
use tochen_domain::money::usd_from_micros as dollars;
use tochen_store::{Store, Tenant, CODE_PREFIX};

#[derive(Subcommand, Debug)]
pub enum Admin {
    /// List every workspace: status, members, posts, accounts, LLM tokens and cost this month (UTC), quota.
    Workspaces,
    /// Set a workspace's monthly LLM token quota: a number of tokens, or `unlimited`.
    Quota {
        /// The workspace: its id, the first characters of its id, or its name.
        workspace: String,
        /// Tokens per month, or `unlimited`.
        tokens: String,
    },
    /// Suspend a workspace: the bot refuses its members politely and its jobs are held; nothing is lost.
    Suspend {
        /// The workspace: its id, the first characters of its id, or its name.
        workspace: String,
    },
    /// Resume a suspended workspace: held jobs run at once.
    Resume {
        /// The workspace: its id, the first characters of its id, or its name.
        workspace: String,
    },
    /// The queue's health (scheduler heartbeat, due, running, held and dead jobs) and the dead jobs.
    Jobs {
        /// How many dead jobs to list.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Give dead jobs a fresh set of attempts: one by id, or all of them with --all.
    Retry {
        /// The id of a dead job (from `tochen admin jobs`).
        job: Option<String>,
        /// Retry every dead job.
        #[arg(long, conflicts_with = "job")]
        all: bool,
    },
    /// LLM calls, tokens and cost per model across every workspace this month (UTC).
    Costs,
    /// Create a single-use workspace creation link (for TOCHEN_WORKSPACE_CREATION=code).
    Code {
        /// Days the link stays valid.
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
}

/// Who acts, as the audit log records it.
fn actor() -> String {
    let login = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    format!("cli:{login}")
}

/// Runs one admin command, printing to `out`.
pub async fn run(command: Admin, store: &Store, bot_username: Option<&str>) -> anyhow::Result<String> {
    let month = month_start_ms("UTC", now_ms());
    let mut out = String::new();
    match command {
        Admin::Workspaces => {
            let all = store.workspace_overviews(month).await?;
            if all.is_empty() {
                out.push_str("no workspaces yet\n");
            }
            writeln!(
                out,
                "{:<36}  {:<24}  {:<9}  {:>7}  {:>5}  {:>8}  {:>12}  {:>12}  {:>9}",
                "id", "name", "status", "members", "posts", "accounts", "tokens", "quota", "cost"
            )?;
            for w in all {
                writeln!(
                    out,
                    "{:<36}  {:<24}  {:<9}  {:>7}  {:>5}  {:>8}  {:>12}  {:>12}  {:>9}",
                    w.id.to_db(),
                    clip(&w.name, 24),
                    if w.suspended_at.is_some() { "suspended" } else { "active" },
                    w.members,
                    w.posts,
                    w.accounts,
                    w.tokens,
                    quota(w.quota),
                    dollars(w.cost_micros)
                )?;
            }
        }
        Admin::Quota { workspace, tokens } => {
            let tenant = one_workspace(store, &workspace).await?;
            let tokens = parse_quota(&tokens)?;
            store.set_workspace_quota(tenant.id, tokens, &actor()).await?;
            writeln!(out, "quota of {} set to {} tokens a month", tenant.name, quota(tokens))?;
        }
        Admin::Suspend { workspace } => {
            let tenant = one_workspace(store, &workspace).await?;
            if store.suspend_workspace(tenant.id, &actor()).await? {
                writeln!(out, "{} is suspended: its members are told, its jobs are held until resumed", tenant.name)?;
            } else {
                writeln!(out, "{} was already suspended; nothing changed", tenant.name)?;
            }
        }
        Admin::Resume { workspace } => {
            let tenant = one_workspace(store, &workspace).await?;
            if store.resume_workspace(tenant.id, &actor()).await? {
                writeln!(out, "{} is resumed: held jobs run now", tenant.name)?;
            } else {
                writeln!(out, "{} was not suspended; nothing changed", tenant.name)?;
            }
        }
        Admin::Jobs { limit } => {
            let h = store.queue_health().await?;
            let beat = match h.last_beat {
                Some(at) => format!("{} s ago", (now_ms() - at).max(0) / 1000),
                None => "never (no scheduler has run)".into(),
            };
            writeln!(out, "scheduler heartbeat: {beat}")?;
            writeln!(
                out,
                "jobs: {} due now, {} queued, {} running, {} held (suspended workspaces), {} dead",
                h.due, h.queued, h.running, h.held, h.dead
            )?;
            let dead = store.dead_jobs(limit.clamp(1, 1000)).await?;
            if !dead.is_empty() {
                writeln!(out, "\ndead jobs (retry with `tochen admin retry <id>` or `--all`):")?;
            }
            for j in dead {
                let error = j.last_error.as_deref().unwrap_or("-");
                writeln!(out, "{}  {:<20}  {}", j.id, j.kind, clip(error, 100))?;
            }
        }
        Admin::Retry { job, all } => {
            let only = match (job, all) {
                (Some(id), false) => Some(
                    JobId::from_db(id.trim())
                        .map_err(|_| anyhow::anyhow!("{id:?} is not a job id; copy one from `tochen admin jobs`"))?,
                ),
                (None, true) => None,
                _ => bail!("name a dead job's id, or pass --all to retry every dead job"),
            };
            let n = store.retry_dead_jobs(only, &actor()).await?;
            match (n, only) {
                (0, Some(id)) => bail!("job {id} is not dead (or does not exist); see `tochen admin jobs`"),
                (n, _) => writeln!(out, "{n} dead job(s) queued again with fresh attempts")?,
            }
        }
        Admin::Costs => {
            let models = store.cost_per_model(month).await?;
            if models.is_empty() {
                out.push_str("no LLM calls this month\n");
            }
            for m in models {
                writeln!(
                    out,
                    "{:<12}  {:<28}  {:>6} calls  {:>10} tokens  {:>4} images  {:>9}  {} workspace(s)",
                    m.provider,
                    clip(&m.model, 28),
                    m.calls,
                    m.tokens,
                    m.images,
                    dollars(m.cost_micros),
                    m.workspaces
                )?;
            }
        }
        Admin::Code { days } => {
            if !(1..=365).contains(&days) {
                bail!("--days {days} is out of range; give 1 to 365");
            }
            let code = store.create_workspace_code(&actor(), days * DAY_MS).await?;
            let payload = format!("{CODE_PREFIX}{}", code.code);
            match bot_username {
                Some(bot) => writeln!(out, "https://t.me/{bot}?start={payload}")?,
                None => writeln!(out, "https://t.me/<your bot's username>?start={payload}")?,
            }
            writeln!(out, "single use, valid for {days} day(s): whoever opens it first may create one workspace")?;
        }
    }
    Ok(out)
}

/// The one workspace a shell argument names, or an error listing the candidates.
async fn one_workspace(store: &Store, query: &str) -> anyhow::Result<Tenant> {
    let mut found = store.find_workspaces(query).await.context("looking the workspace up")?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!("no workspace is named {query:?} or has an id starting so; see `tochen admin workspaces`"),
        _ => {
            let names: Vec<String> = found.iter().map(|t| format!("{} ({})", t.name, t.id.to_db())).collect();
            bail!("{query:?} names several workspaces: {}; give a longer id", names.join(", "))
        }
    }
}

fn parse_quota(text: &str) -> anyhow::Result<i64> {
    let t = text.trim().replace('_', "");
    if t.eq_ignore_ascii_case("unlimited") {
        return Ok(0);
    }
    match t.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("{text:?} is not a quota; give a number of tokens above 0, or `unlimited`"),
    }
}

fn quota(tokens: i64) -> String {
    if tokens == 0 {
        "unlimited".into()
    } else {
        tokens.to_string()
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_are_read_as_people_type_them() {
        assert_eq!(parse_quota("50000").unwrap(), 50_000);
        assert_eq!(parse_quota("1_000_000").unwrap(), 1_000_000);
        assert_eq!(parse_quota("Unlimited").unwrap(), 0);
        for bad in ["0", "-5", "lots", ""] {
            assert!(parse_quota(bad).is_err(), "{bad}");
        }
    }
}
