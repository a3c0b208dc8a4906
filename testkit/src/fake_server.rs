//! Plumbing shared by the fake external services: a loopback server that stops when its handle is dropped, the
//! merging of query, form and JSON parameters the way the real APIs accept them, and HMAC signing.

use axum::http::{HeaderMap, Uri};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;

/// Aborts the server task when dropped, so a fake lives exactly as long as its handle.
pub struct ServerTask(tokio::task::JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves `app` on 127.0.0.1 with an ephemeral port; returns `http://127.0.0.1:<port>`.
pub async fn serve(app: axum::Router) -> (String, ServerTask) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), ServerTask(task))
}

/// Query parameters, then form fields or top-level JSON fields of the body (strings kept, others as JSON text).
pub fn collect_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    if let Some(q) = uri.query() {
        out.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.starts_with("application/json") {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
            for (k, v) in map {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(k, text);
            }
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        out.extend(url::form_urlencoded::parse(body).into_owned());
    }
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        if let Some(token) = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("OAuth ")) {
            out.entry("access_token".into()).or_insert_with(|| token.to_string());
        }
    }
    out
}

/// Lowercase hex HMAC-SHA256.
pub fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac takes any key length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}
