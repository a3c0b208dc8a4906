//! A load of distinct signed Meta webhook deliveries, for the benchmarks that measure the acknowledged webhook path
//! (`web/benches/webhooks.rs` in process, the root `hot_paths` bench against the real binary and its peer).

use crate::fake_graph::sign_meta_webhook;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a load measured.
pub struct Load {
    pub requests: usize,
    pub per_second: f64,
    /// Every request's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Load {
    /// The latency at quantile `q` (0.5 for the median, 0.99 for p99).
    pub fn quantile(&self, q: f64) -> Duration {
        let at = ((self.latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        self.latencies.get(at.min(self.latencies.len().saturating_sub(1))).copied().unwrap_or_default()
    }
}

/// Posts `requests` distinct deliveries signed with `secret` to `url` from `concurrency` senders; panics on any
/// answer but 200 (every signed delivery is accepted). `tag` makes the bodies distinct from other loads' bodies.
pub async fn signed_meta_deliveries(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    requests: usize,
    concurrency: usize,
    tag: &str,
) -> Load {
    let bodies: Arc<Vec<(String, String)>> = Arc::new(
        (0..requests)
            .map(|i| {
                let body = format!(
                    r#"{{"object":"page","entry":[{{"id":"999","time":{i},"changes":[{{"field":"feed","value":{{"item":"comment","verb":"add","comment_id":"{tag}-{i}","post_id":"999_1","from":{{"id":"5","name":"Bench"}},"message":"hello {i}"}}}}]}}]}}"#
                );
                let sig = sign_meta_webhook(secret, body.as_bytes());
                (body, sig)
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, bodies, next) = (http.clone(), url.to_owned(), bodies.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while let Some((body, sig)) = bodies.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let t = Instant::now();
                    let resp = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", sig)
                        .body(body.clone())
                        .send()
                        .await
                        .expect("the server answers");
                    assert_eq!(resp.status().as_u16(), 200, "every signed delivery is accepted");
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    for s in senders {
        latencies.extend(s.await.expect("a sender"));
    }
    let per_second = requests as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    Load { requests, per_second, latencies }
}
