//! `tochen rotate-keys`: re-encrypts every stored secret under the first configured key.
//!
//! Each row is updated only if its ciphertext is still the one that was read (compare-and-set), so a token
//! refreshed concurrently by a running scheduler is never overwritten with an older value.

use crate::{Result, Store};

/// What a rotation did, per column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// (table.column, rows re-encrypted, rows already under the first key)
    pub columns: Vec<(String, u64, u64)>,
}

impl RotationReport {
    pub fn reencrypted(&self) -> u64 {
        self.columns.iter().map(|c| c.1).sum()
    }
}

/// Every encrypted column: (table, key column, secret column). Encrypted columns are named `*_enc`;
/// `crates/platforms/tests/it/secrets_at_rest.rs` finds every column that holds Fernet text in a seeded database, on both
/// backends, and fails when one is missing here.
const SECRET_COLUMNS: &[(&str, &str, &str)] = &[
    ("social_accounts", "id", "access_token_enc"),
    ("social_accounts", "id", "refresh_token_enc"),
    ("destinations", "id", "secret_enc"),
    ("oauth_states", "state_hash", "pkce_verifier_enc"),
    ("pending_connections", "id", "candidates_enc"),
    ("token_revocations", "id", "token_enc"),
    ("ad_accounts", "id", "token_enc"),
    ("ad_sign_ins", "id", "token_enc"),
    ("ad_sign_ins", "id", "candidates_enc"),
];

impl Store {
    /// Re-encrypts every secret not yet under the first key. Fails, changing nothing further, on a secret that no
    /// configured key can decrypt.
    pub async fn rotate_secrets(&self) -> Result<RotationReport> {
        let mut report = RotationReport::default();
        for (table, key, column) in SECRET_COLUMNS {
            // An empty value holds no secret (a disconnected account's access token).
            let rows: Vec<(String, String)> = sqlx::query_as(&format!(
                "SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''"
            ))
            .fetch_all(&self.pool)
            .await?;
            let (mut changed, mut current) = (0, 0);
            for (id, token) in rows {
                match self.secrets.reencrypt(&token)? {
                    None => current += 1,
                    Some(new_token) => {
                        let done = sqlx::query(&format!(
                            "UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {column} = $3"
                        ))
                        .bind(new_token)
                        .bind(&id)
                        .bind(&token)
                        .execute(&self.pool)
                        .await?;
                        changed += done.rows_affected();
                    }
                }
            }
            report.columns.push((format!("{table}.{column}"), changed, current));
        }
        Ok(report)
    }
}
