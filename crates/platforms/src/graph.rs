//! A thin Graph API client: one host (graph.facebook.com or graph.instagram.com), one configured version.
//!
//! Tokens travel in the form body or as a query parameter on GETs (as the Graph API expects); URLs are never
//! logged, and transport errors have their URL removed (see `http`).

use super::errors::graph_error;
use super::http::{send, Answer, Effect};
use crate::publish::PublishError;
use serde_json::Value;
use tochen_domain::secret::SecretString;
use url::Url;

#[derive(Debug, Clone)]
pub struct GraphHost {
    pub http: reqwest::Client,
    pub base: Url,
    pub version: String,
}

impl GraphHost {
    pub fn new(http: reqwest::Client, base: Url, version: &str) -> Self {
        Self { http, base, version: version.to_string() }
    }

    /// `{base}/{version}/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}/{}", self.base.as_str().trim_end_matches('/'), self.version, path.trim_start_matches('/'))
    }

    pub async fn get(&self, path: &str, token: &SecretString, query: &[(&str, &str)]) -> Result<Value, PublishError> {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        q.push(("access_token", token.expose()));
        let a = send(self.http.get(self.url(path)).query(&q), Effect::Read).await?;
        ok_json(a, Effect::Read)
    }

    /// A POST that creates a post; a lost answer or a 5xx is `OutcomeUnknown`.
    pub async fn post(&self, path: &str, token: &SecretString, form: &[(&str, String)]) -> Result<Value, PublishError> {
        self.post_as(path, token, form, Effect::Create).await
    }

    /// A POST with the given effect (see [`Effect`]).
    pub async fn post_as(
        &self,
        path: &str,
        token: &SecretString,
        form: &[(&str, String)],
        effect: Effect,
    ) -> Result<Value, PublishError> {
        let mut f: Vec<(&str, String)> = form.to_vec();
        f.push(("access_token", token.expose().to_string()));
        let a = send(self.http.post(self.url(path)).form(&f), effect).await?;
        ok_json(a, effect)
    }
}

/// The JSON of a successful answer, or its error seen in the light of `effect` (Meta's codes 1 and 2, "unknown" and
/// "temporarily unavailable", are failures on Meta's side).
pub fn ok_json(a: Answer, effect: Effect) -> Result<Value, PublishError> {
    match graph_error(&a) {
        Some(e) => {
            let code = a.json()["error"]["code"].as_i64();
            Err(effect.answered(a.status, matches!(code, Some(1 | 2)), e))
        }
        None => Ok(a.json()),
    }
}

/// The id a creating request answered with. A success without it leaves unknown what was created.
pub fn created_id(v: &Value, name: &str) -> Result<String, PublishError> {
    field(v, name).map_err(|e| PublishError { class: crate::publish::ErrorClass::OutcomeUnknown, ..e })
}

/// A string field of a Graph answer, or a permanent error naming it.
pub fn field(v: &Value, name: &str) -> Result<String, PublishError> {
    match &v[name] {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(PublishError::new(
            crate::publish::ErrorClass::Permanent,
            None,
            format!("the platform answer has no {name:?} field"),
        )),
    }
}
