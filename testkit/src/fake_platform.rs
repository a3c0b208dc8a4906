//! A fake social platform for the scheduler's tests, crash test and benchmarks.
//!
//! [`CountingPlatform`] is an HTTP server on 127.0.0.1 that counts how many times each post target was published
//! (the crash test's "exactly once" is read from here), with a configurable latency. [`HttpPublisher`] is a
//! `Publisher` that talks to it the way a real client talks to a platform: a request that timed out after being
//! sent, or that got a 5xx, is `OutcomeUnknown`; a refused connection or a 4xx is retryable. [`ScriptedPublisher`]
//! is an in-process `Publisher` that answers from a script, for pipeline tests.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tochen_platforms::publish::{
    CheckOutcome, ErrorClass, PublishError, PublishOutcome, PublishRequest, Publisher, RefRecorder,
};

#[derive(Default)]
struct Counts {
    publishes: HashMap<String, u64>,
    total: u64,
}

#[derive(Clone)]
struct PlatformState {
    counts: Arc<Mutex<Counts>>,
    latency: Duration,
}

/// The counting fake platform server.
pub struct CountingPlatform {
    pub url: String,
    counts: Arc<Mutex<Counts>>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingPlatform {
    /// Starts the server on a free port; every publish takes `latency`.
    pub async fn start(latency: Duration) -> Self {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let state = PlatformState { counts: counts.clone(), latency };
        let app = Router::new()
            .route("/publish/{target}", post(publish))
            .route("/posts/{target}", get(lookup))
            .route("/counts", get(all_counts))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake platform");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self { url, counts, task }
    }

    /// How many times each target was published.
    pub fn counts(&self) -> HashMap<String, u64> {
        self.counts.lock().expect("counts").publishes.clone()
    }

    pub fn total(&self) -> u64 {
        self.counts.lock().expect("counts").total
    }
}

impl Drop for CountingPlatform {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn publish(State(s): State<PlatformState>, Path(target): Path<String>) -> Json<serde_json::Value> {
    {
        let mut c = s.counts.lock().expect("counts");
        *c.publishes.entry(target.clone()).or_default() += 1;
        c.total += 1;
    }
    if !s.latency.is_zero() {
        tokio::time::sleep(s.latency).await;
    }
    Json(serde_json::json!({ "id": format!("post-{target}"), "permalink": format!("https://fake.example/{target}") }))
}

async fn lookup(State(s): State<PlatformState>, Path(target): Path<String>) -> Json<serde_json::Value> {
    let n = s.counts.lock().expect("counts").publishes.get(&target).copied().unwrap_or(0);
    Json(serde_json::json!({ "published": n > 0, "count": n }))
}

async fn all_counts(State(s): State<PlatformState>) -> Json<serde_json::Value> {
    let c = s.counts.lock().expect("counts");
    Json(serde_json::json!({ "total": c.total, "publishes": c.publishes }))
}

/// Reads the counts of a server started by another process.
pub async fn fetch_counts(url: &str) -> HashMap<String, u64> {
    let v: serde_json::Value =
        reqwest::get(format!("{url}/counts")).await.expect("fake platform reachable").json().await.expect("json");
    serde_json::from_value(v["publishes"].clone()).expect("counts map")
}

/// A `Publisher` over HTTP to a [`CountingPlatform`].
pub struct HttpPublisher {
    pub base: String,
    pub client: reqwest::Client,
}

impl HttpPublisher {
    pub fn new(base: impl Into<String>, timeout: Duration) -> Self {
        let client = reqwest::Client::builder().timeout(timeout).build().expect("http client");
        Self { base: base.into(), client }
    }
}

#[async_trait::async_trait]
impl Publisher for HttpPublisher {
    async fn publish(&self, req: &PublishRequest, _refs: &dyn RefRecorder) -> Result<PublishOutcome, PublishError> {
        let url = format!("{}/publish/{}", self.base, req.target_id);
        match self.client.post(url).send().await {
            Ok(r) if r.status().is_success() => {
                let v: serde_json::Value = r.json().await.map_err(|e| {
                    PublishError::new(ErrorClass::OutcomeUnknown, None, format!("unreadable answer: {e}"))
                })?;
                Ok(PublishOutcome::Published {
                    platform_post_id: v["id"].as_str().unwrap_or_default().to_owned(),
                    permalink: v["permalink"].as_str().map(str::to_owned),
                })
            }
            // A 5xx does not prove that the post was not made.
            Ok(r) if r.status().is_server_error() => Err(PublishError::new(
                ErrorClass::OutcomeUnknown,
                Some(r.status().as_u16().to_string()),
                "platform error",
            )),
            Ok(r) => Err(PublishError::new(
                ErrorClass::Retryable { retry_after: None },
                Some(r.status().as_u16().to_string()),
                "platform refusal",
            )),
            Err(e) if e.is_connect() => {
                Err(PublishError::new(ErrorClass::Retryable { retry_after: None }, None, e.to_string()))
            }
            Err(e) => Err(PublishError::new(ErrorClass::OutcomeUnknown, None, e.to_string())),
        }
    }

    async fn check(
        &self,
        _req: &PublishRequest,
        _platform_ref: &str,
        _refs: &dyn RefRecorder,
    ) -> Result<CheckOutcome, PublishError> {
        Ok(CheckOutcome::Pending)
    }
}

/// One scripted answer of [`ScriptedPublisher::publish`].
#[derive(Debug, Clone)]
pub enum Scripted {
    Ok(PublishOutcome),
    Err(PublishError),
    /// Records this platform reference, then answers with the inner result.
    RecordThen(String, Box<Scripted>),
}

/// An in-process `Publisher` that answers from a script (then `Published` once the script is empty) and records
/// every call.
#[derive(Default)]
pub struct ScriptedPublisher {
    publish_script: Mutex<VecDeque<Scripted>>,
    check_script: Mutex<VecDeque<Result<CheckOutcome, PublishError>>>,
    pub publish_calls: Mutex<Vec<String>>,
    pub check_calls: Mutex<Vec<String>>,
}

impl ScriptedPublisher {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn then_publish(&self, answer: Scripted) -> &Self {
        self.publish_script.lock().expect("script").push_back(answer);
        self
    }

    pub fn then_check(&self, answer: Result<CheckOutcome, PublishError>) -> &Self {
        self.check_script.lock().expect("script").push_back(answer);
        self
    }

    pub fn publishes(&self) -> usize {
        self.publish_calls.lock().expect("calls").len()
    }

    pub fn checks(&self) -> usize {
        self.check_calls.lock().expect("calls").len()
    }
}

#[async_trait::async_trait]
impl Publisher for ScriptedPublisher {
    async fn publish(&self, req: &PublishRequest, refs: &dyn RefRecorder) -> Result<PublishOutcome, PublishError> {
        self.publish_calls.lock().expect("calls").push(req.target_id.to_string());
        let next = self.publish_script.lock().expect("script").pop_front();
        let mut answer = next.unwrap_or_else(|| {
            Scripted::Ok(PublishOutcome::Published {
                platform_post_id: format!("post-{}", req.target_id),
                permalink: Some(format!("https://fake.example/{}", req.target_id)),
            })
        });
        loop {
            match answer {
                Scripted::Ok(o) => return Ok(o),
                Scripted::Err(e) => return Err(e),
                Scripted::RecordThen(r, inner) => {
                    refs.record(&r).await.map_err(|e| {
                        PublishError::new(ErrorClass::Retryable { retry_after: None }, None, e.to_string())
                    })?;
                    answer = *inner;
                }
            }
        }
    }

    async fn check(
        &self,
        _req: &PublishRequest,
        platform_ref: &str,
        _refs: &dyn RefRecorder,
    ) -> Result<CheckOutcome, PublishError> {
        self.check_calls.lock().expect("calls").push(platform_ref.to_owned());
        self.check_script.lock().expect("script").pop_front().unwrap_or(Ok(CheckOutcome::Pending))
    }
}
