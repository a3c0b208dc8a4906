//! The memory of alert rules: whether each (rule, subject) is firing, whether that was announced, and when the
//! last announcement went out (for the cooldown). The decisions themselves are pure and live in `alerts`.

use crate::{Result, Store};
use sqlx::any::AnyRow;
use sqlx::FromRow;
use tochen_domain::clock::{now_ms, Millis};
use tochen_domain::ids::TenantId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertState {
    pub rule: String,
    /// What the alert is about within the rule: an account id, a target id, or `workspace`.
    pub subject: String,
    pub firing: bool,
    /// True when the current firing episode was announced (so its clearing is announced too).
    pub notified: bool,
    pub first_seen_at: Millis,
    pub last_notified_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    /// JSON the messages are rebuilt from (names, numbers), kept for the "resolved" message.
    pub details: String,
}

/// A row of `alert_states` as stored (flags are BIGINT 0/1).
#[derive(sqlx::FromRow)]
struct AlertStateRow {
    rule: String,
    subject: String,
    firing: i64,
    notified: i64,
    first_seen_at: Millis,
    last_notified_at: Option<Millis>,
    resolved_at: Option<Millis>,
    details: String,
}

impl From<AlertStateRow> for AlertState {
    fn from(r: AlertStateRow) -> Self {
        AlertState {
            rule: r.rule,
            subject: r.subject,
            firing: r.firing != 0,
            notified: r.notified != 0,
            first_seen_at: r.first_seen_at,
            last_notified_at: r.last_notified_at,
            resolved_at: r.resolved_at,
            details: r.details,
        }
    }
}

fn state_from_row(row: &AnyRow) -> Result<AlertState> {
    Ok(AlertStateRow::from_row(row)?.into())
}

const COLUMNS: &str = "rule, subject, firing, notified, first_seen_at, last_notified_at, resolved_at, details";

impl Store {
    /// Every stored state of the workspace, by rule and subject.
    pub async fn alert_states(&self, tenant: TenantId) -> Result<Vec<AlertState>> {
        let rows =
            sqlx::query(&format!("SELECT {COLUMNS} FROM alert_states WHERE tenant_id = $1 ORDER BY rule, subject"))
                .bind(tenant.to_db())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(state_from_row).collect()
    }

    /// Inserts or replaces the state of one (rule, subject).
    pub async fn save_alert_state(&self, tenant: TenantId, s: &AlertState) -> Result<()> {
        sqlx::query(
            "INSERT INTO alert_states (tenant_id, rule, subject, firing, notified, first_seen_at, last_notified_at, \
             resolved_at, details, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (tenant_id, rule, subject) DO UPDATE SET firing = excluded.firing, \
             notified = excluded.notified, first_seen_at = excluded.first_seen_at, \
             last_notified_at = excluded.last_notified_at, resolved_at = excluded.resolved_at, \
             details = excluded.details, updated_at = excluded.updated_at",
        )
        .bind(tenant.to_db())
        .bind(&s.rule)
        .bind(&s.subject)
        .bind(i64::from(s.firing))
        .bind(i64::from(s.notified))
        .bind(s.first_seen_at)
        .bind(s.last_notified_at)
        .bind(s.resolved_at)
        .bind(&s.details)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
