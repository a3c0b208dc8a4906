//! Metrics readers for the metrics-sync job: engagement of one published post and the followers of an account.
//!
//! Missing data stays `None`, never 0: Instagram insights lag up to 48 hours and answer an empty list meanwhile,
//! and a zero would read as "nobody looked".

use crate::publish::PublishError;
use serde_json::Value;
use tochen_domain::secret::SecretString;
use tochen_domain::AuthKind;

/// The account a metrics read is for.
#[derive(Debug, Clone)]
pub struct MetricsAccount {
    pub auth_kind: AuthKind,
    pub external_id: String,
    pub access_token: SecretString,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostMetrics {
    pub views: Option<i64>,
    pub reach: Option<i64>,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
    /// The platform's answer, kept for the `raw` column.
    pub raw: Value,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountMetrics {
    pub followers: Option<i64>,
    pub raw: Value,
}

#[async_trait::async_trait]
pub trait MetricsReader: Send + Sync {
    async fn post_metrics(&self, account: &MetricsAccount, platform_post_id: &str)
        -> Result<PostMetrics, PublishError>;
    async fn account_metrics(&self, account: &MetricsAccount) -> Result<AccountMetrics, PublishError>;
}

/// `{"data":[{"name","values":[{"value"}]}]}` -> the value of `name`, `None` when absent.
pub(crate) fn insight(v: &Value, name: &str) -> Option<i64> {
    v["data"].as_array()?.iter().find(|m| m["name"] == name)?["values"][0]["value"].as_i64()
}
