//! A fake OpenAI-compatible server (docs/contracts/llm.md) on 127.0.0.1 for tests and benchmarks.
//!
//! Answers come from a script queue that tests push into; with the queue empty the fake answers sensibly on its
//! own by looking at the `json_schema` name the client asked for (`ideas`, `draft`, `rewrite`), so a test only
//! scripts the calls it cares about. Every request body is kept for assertions.
//!
//! For batches (issue 18) the fake also answers by rule (a request whose body contains a word gets a given reply,
//! a number of times or always, whatever order the concurrent calls come in), can take a fixed time per call, and
//! counts the chat calls in flight and the most there ever were at once.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Valid JSON content, `finish_reason: stop`.
    Json(Value),
    /// The JSON wrapped in prose and a ```json fence.
    Fenced(Value),
    /// Raw content as given (malformed answers).
    Text(String),
    /// Content cut off: `finish_reason: length`.
    Truncated,
    /// 429 `rate_limit_exceeded` with a `retry-after` header in seconds.
    RateLimited { retry_after_secs: u32 },
    /// 429 `insufficient_quota`.
    InsufficientQuota,
    /// 500 server error.
    ServerError,
}

/// A reply for the requests whose body contains `needle`, `times` times (`None`: always).
struct Rule {
    needle: String,
    reply: Reply,
    times: Option<usize>,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    requests: Vec<Value>,
    image_as_url: bool,
    rules: Vec<Rule>,
    delay: std::time::Duration,
    in_flight: usize,
    max_in_flight: usize,
}

/// Counts a chat call in flight while it lives.
struct InFlight(Arc<Mutex<Inner>>);

impl InFlight {
    fn enter(inner: &Arc<Mutex<Inner>>) -> Self {
        let mut g = inner.lock().unwrap();
        g.in_flight += 1;
        g.max_in_flight = g.max_in_flight.max(g.in_flight);
        Self(inner.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        g.in_flight -= 1;
    }
}

/// A running fake; dropped with the test's runtime.
#[derive(Clone)]
pub struct FakeLlm {
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
}

/// The smallest valid PNG (1x1 pixel).
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

impl FakeLlm {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake llm");
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/images/generations", post(images))
            .route("/v1/files/image.png", get(|| async { ([("content-type", "image/png")], TINY_PNG) }))
            .with_state((inner.clone(), base_url.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Self { base_url, inner }
    }

    /// Queues answers, used in order before the automatic ones.
    pub fn push(&self, reply: Reply) {
        self.inner.lock().unwrap().script.push_back(reply);
    }

    /// Makes image generations answer with a URL (dall-e-3 style) instead of base64.
    pub fn images_as_url(&self, on: bool) {
        self.inner.lock().unwrap().image_as_url = on;
    }

    /// Answers requests whose body (as JSON text) contains `needle` with `reply`, `times` times (`None`: always),
    /// before the script and the automatic answers. The first matching rule wins.
    pub fn when_contains(&self, needle: &str, reply: Reply, times: Option<usize>) {
        self.inner.lock().unwrap().rules.push(Rule { needle: needle.to_owned(), reply, times });
    }

    /// Forgets every rule of [`FakeLlm::when_contains`].
    pub fn clear_rules(&self) {
        self.inner.lock().unwrap().rules.clear();
    }

    /// Makes every chat call take `delay` before it answers.
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    /// The most chat calls there were in flight at once so far.
    pub fn max_in_flight(&self) -> usize {
        self.inner.lock().unwrap().max_in_flight
    }

    /// Chat calls in flight now.
    pub fn in_flight(&self) -> usize {
        self.inner.lock().unwrap().in_flight
    }

    /// Forgets the most in flight (a new phase of a test).
    pub fn reset_max_in_flight(&self) {
        let mut g = self.inner.lock().unwrap();
        g.max_in_flight = g.in_flight;
    }

    /// Every request body received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.inner.lock().unwrap().requests.clone()
    }
}

type AppState = (Arc<Mutex<Inner>>, String);

fn completion(content: String, finish: &str) -> Response {
    Json(json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null},
                     "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    }))
    .into_response()
}

fn error(status: StatusCode, code: &str, headers: HeaderMap) -> Response {
    let body = json!({"error": {"message": format!("fake {code}"), "type": code, "param": null, "code": code}});
    (status, headers, Json(body)).into_response()
}

fn render(reply: Reply) -> Response {
    match reply {
        Reply::Json(v) => completion(v.to_string(), "stop"),
        Reply::Fenced(v) => completion(format!("Here it is:\n```json\n{v:#}\n```\nHope this helps!"), "stop"),
        Reply::Text(t) => completion(t, "stop"),
        Reply::Truncated => completion("{\"ideas\": [{\"title\": \"Half an ans".into(), "length"),
        Reply::RateLimited { retry_after_secs } => {
            let mut h = HeaderMap::new();
            h.insert("retry-after", retry_after_secs.to_string().parse().unwrap());
            error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", h)
        }
        Reply::InsufficientQuota => error(StatusCode::TOO_MANY_REQUESTS, "insufficient_quota", HeaderMap::new()),
        Reply::ServerError => error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", HeaderMap::new()),
    }
}

/// A plausible answer for the task named by the request's schema.
fn automatic(req: &Value) -> Value {
    let name = req["response_format"]["json_schema"]["name"].as_str().unwrap_or("");
    let prompt = req["messages"][1]["content"].as_str().unwrap_or("");
    match name {
        "ideas" => json!({"ideas": (1..=5).map(|i| json!({
            "title": format!("Idea {i}: behind the scenes"), "angle": format!("Angle number {i}")})).collect::<Vec<_>>()}),
        "rewrite" => json!({"body": "Rewritten: shorter & sweeter <b>text</b>", "hashtags": ["coffee", "lisbon"]}),
        _ => {
            let platforms: Vec<&str> =
                ["instagram", "facebook", "tiktok"].into_iter().filter(|p| prompt.contains(p)).collect();
            json!({"title": "Behind the roaster", "image_prompt": "a coffee roaster at dawn",
                "posts": platforms.iter().map(|p| json!({"platform": p,
                    "body": format!("Meet this season's star on {p} <3 & more"),
                    "hashtags": ["specialtycoffee", "lisbon", "coffeeroasting"]})).collect::<Vec<_>>()})
        }
    }
}

/// The reply of the first rule matching `req`, using one of its times.
fn by_rule(g: &mut Inner, req: &Value) -> Option<Reply> {
    let text = req.to_string();
    let rule = g.rules.iter_mut().find(|r| r.times != Some(0) && text.contains(&r.needle))?;
    if let Some(n) = rule.times.as_mut() {
        *n -= 1;
    }
    Some(rule.reply.clone())
}

async fn chat(State((inner, _)): State<AppState>, Json(req): Json<Value>) -> Response {
    let _counted = InFlight::enter(&inner);
    let (scripted, delay) = {
        let mut g = inner.lock().unwrap();
        g.requests.push(req.clone());
        let reply = by_rule(&mut g, &req).or_else(|| g.script.pop_front());
        (reply, g.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    render(scripted.unwrap_or_else(|| Reply::Json(automatic(&req))))
}

async fn images(State((inner, base)): State<AppState>, Json(req): Json<Value>) -> Response {
    let (scripted, as_url) = {
        let mut g = inner.lock().unwrap();
        g.requests.push(req.clone());
        (g.script.pop_front(), g.image_as_url)
    };
    if let Some(r) = scripted {
        return render(r);
    }
    use base64::Engine;
    let item = if as_url {
        json!({"url": format!("{base}/files/image.png")})
    } else {
        json!({"b64_json": base64::engine::general_purpose::STANDARD.encode(TINY_PNG)})
    };
    Json(json!({"created": 0, "data": [item]})).into_response()
}
