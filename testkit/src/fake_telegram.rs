//! A fake Telegram Bot API (docs/contracts/telegram.md) on 127.0.0.1 for end-to-end tests and benchmarks.
//!
//! It speaks enough of the API for a teloxide bot: `/bot{token}/{method}` with method names matched
//! case-insensitively, `ok`/error envelopes, a `getUpdates` long-poll queue that tests push user actions into,
//! messages kept by id so edits (text, caption, buttons, and a photo replaced with `editMessageMedia`) and button
//! presses refer to real messages, the bytes a call uploaded (`uploaded`, files up to 8 MB), `getFile` with file downloads (cloud
//! mode: relative paths and the 20 MB limit, `400 Bad Request: file is too big` beyond; local mode, as a
//! self-hosted server started with `--local`: absolute paths on its disk, no limit, no download URL), and
//! error injection (429 with `retry_after`, 403 blocked, migration), and Telegram's own refusals of texts over
//! its limits or of broken HTML (a faithful fake refuses them, so a test sees the person get no answer). Every
//! call is recorded, so a test can wait
//! for "the bot said X in chat Y" exactly as a person would see it.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// One API call the bot made.
#[derive(Debug, Clone)]
pub struct Call {
    pub seq: usize,
    /// Lower-case method name (`sendmessage`).
    pub method: String,
    pub params: Value,
    /// When the call arrived (tests check the bot's pace against it).
    pub at: std::time::Instant,
}

/// A message as the chat shows it now (after edits).
#[derive(Debug, Clone)]
pub struct BotMessage {
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    /// Inline buttons, row by row: (label, callback data or url).
    pub buttons: Vec<Vec<(String, String)>>,
    /// A photo with `text` as its caption.
    pub photo: bool,
}

impl BotMessage {
    /// The callback data of the first button whose label contains `label`.
    pub fn button(&self, label: &str) -> Option<String> {
        self.buttons.iter().flatten().find(|(l, _)| l.contains(label)).map(|(_, d)| d.clone())
    }

    pub fn has_button(&self, label: &str) -> bool {
        self.button(label).is_some()
    }
}

#[derive(Default)]
struct Inner {
    updates: VecDeque<Value>,
    next_update_id: i64,
    next_message_id: i64,
    calls: Vec<Call>,
    messages: HashMap<(i64, i64), Value>,
    files: HashMap<String, FileBody>,
    failures: VecDeque<(String, Value)>,
    /// `Some(dir)`: a self-hosted Bot API server in `--local` mode, keeping its files under `dir`.
    local_dir: Option<std::path::PathBuf>,
    /// Largest file `getFile` serves in cloud mode.
    cloud_download_limit: u64,
    /// The bytes of the files the bot uploaded, by the seq of the call that carried them.
    uploads: HashMap<usize, Vec<u8>>,
}

/// A file users sent: bytes held by the fake, or a file on disk (big videos).
#[derive(Clone)]
enum FileBody {
    Bytes(Vec<u8>),
    Disk(std::path::PathBuf),
}

impl FileBody {
    fn size(&self) -> u64 {
        match self {
            FileBody::Bytes(b) => b.len() as u64,
            FileBody::Disk(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        }
    }
}

/// The Bot API's download limit in cloud mode (`docs/contracts/telegram.md`).
pub const CLOUD_DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// A running fake Bot API.
#[derive(Clone)]
pub struct FakeTelegram {
    /// Base URL to give the bot (`TELEGRAM_API_URL`).
    pub api_url: String,
    pub token: String,
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
}

pub const BOT_USERNAME: &str = "tochen_test_bot";
const BOT_ID: i64 = 7_000_000_001;

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn chat_json(chat_id: i64) -> Value {
    if chat_id < 0 {
        json!({"id": chat_id, "type": "supergroup", "title": "Team chat"})
    } else {
        json!({"id": chat_id, "type": "private", "first_name": "User"})
    }
}

fn user_json(id: i64, first_name: &str, lang: &str) -> Value {
    json!({"id": id, "is_bot": false, "first_name": first_name, "username": format!("user{id}"), "language_code": lang})
}

type AppState = (Arc<Mutex<Inner>>, Arc<Notify>);

impl FakeTelegram {
    pub async fn start() -> Self {
        // The shape @BotFather hands out (the configuration refuses any other): digits, a colon, 35 characters.
        let token = "123456:TEST-token_for-fake-0123456789abcde".to_owned();
        let inner = Arc::new(Mutex::new(Inner {
            next_update_id: 1,
            next_message_id: 1,
            cloud_download_limit: CLOUD_DOWNLOAD_LIMIT,
            ..Default::default()
        }));
        let changed = Arc::new(Notify::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake telegram");
        let api_url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/{bot}/{method}", any(method))
            .route("/file/{bot}/{*path}", get(file))
            .with_state((inner.clone(), changed.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Self { api_url, token, inner, changed }
    }

    fn push_update(&self, kind: &str, body: Value) {
        let mut g = self.inner.lock().unwrap();
        let id = g.next_update_id;
        g.next_update_id += 1;
        g.updates.push_back(json!({"update_id": id, kind: body}));
        drop(g);
        self.changed.notify_waiters();
    }

    fn next_message_id(&self) -> i64 {
        let mut g = self.inner.lock().unwrap();
        g.next_message_id += 1;
        g.next_message_id
    }

    /// A user with Telegram language `lang` writes `text` in `chat_id`.
    pub fn send_text_as(&self, chat_id: i64, from: i64, lang: &str, text: &str) {
        let mut msg = json!({"message_id": self.next_message_id(), "date": now_secs(), "chat": chat_json(chat_id),
            "from": user_json(from, &format!("User{from}"), lang), "text": text});
        if let Some(cmd_len) = text.starts_with('/').then(|| text.split_whitespace().next().unwrap_or("").len()) {
            msg["entities"] = json!([{"type": "bot_command", "offset": 0, "length": cmd_len}]);
        }
        self.push_update("message", msg);
    }

    /// Pushes a raw message update (service messages, unusual shapes).
    pub fn push_message(&self, mut msg: Value) {
        if msg["message_id"].is_null() {
            msg["message_id"] = json!(self.next_message_id());
        }
        if msg["date"].is_null() {
            msg["date"] = json!(now_secs());
        }
        self.push_update("message", msg);
    }

    /// An English-speaking user writes `text` in their private chat (chat id = user id).
    pub fn send_text(&self, user: i64, text: &str) {
        self.send_text_as(user, user, "en", text);
    }

    /// A user sends an album (a media group): one message per photo, all with the same `media_group_id`, the
    /// caption on the first, as Telegram delivers them.
    pub fn send_album(&self, chat_id: i64, from: i64, photos: &[Vec<u8>], caption: &str) {
        let group = format!("album{}", self.next_message_id());
        for (i, bytes) in photos.iter().enumerate() {
            let file_id = format!("albumphoto{}", self.next_message_id());
            self.inner.lock().unwrap().files.insert(file_id.clone(), FileBody::Bytes(bytes.clone()));
            let mut msg = json!({"message_id": self.next_message_id(), "date": now_secs(), "chat": chat_json(chat_id),
                "from": user_json(from, &format!("User{from}"), "en"), "media_group_id": group,
                "photo": [{"file_id": file_id, "file_unique_id": format!("u{file_id}"), "width": 1080,
                           "height": 1080, "file_size": bytes.len()}]});
            if i == 0 && !caption.is_empty() {
                msg["caption"] = json!(caption);
            }
            self.push_update("message", msg);
        }
    }

    /// A user sends a photo; its bytes are served by `getFile` and the file URL.
    pub fn send_photo(&self, chat_id: i64, from: i64, bytes: &[u8]) {
        let file_id = format!("photo{}", self.next_message_id());
        self.inner.lock().unwrap().files.insert(file_id.clone(), FileBody::Bytes(bytes.to_vec()));
        let msg = json!({"message_id": self.next_message_id(), "date": now_secs(), "chat": chat_json(chat_id),
            "from": user_json(from, &format!("User{from}"), "en"),
            "photo": [{"file_id": file_id, "file_unique_id": format!("u{file_id}"), "width": 1, "height": 1,
                       "file_size": bytes.len()}]});
        self.push_update("message", msg);
    }

    /// Acts as a self-hosted Bot API server started with `--local`, keeping its files under `dir`: `getFile`
    /// answers with an absolute path there (files sent as bytes are written there when asked for) and has no size
    /// limit. `None`: the cloud Bot API (20 MB `getFile` limit, relative paths, downloads over HTTP).
    pub fn set_local_mode(&self, dir: Option<std::path::PathBuf>) {
        self.inner.lock().unwrap().local_dir = dir;
    }

    /// A user sends a video whose file is at `path` on disk (see `tochen_testkit::video::write_video` for big
    /// ones); `getFile` and downloads serve it from there.
    pub fn send_video_file(&self, chat_id: i64, from: i64, path: &std::path::Path) {
        let file_id = format!("video{}", self.next_message_id());
        let body = FileBody::Disk(path.to_path_buf());
        let size = body.size();
        self.inner.lock().unwrap().files.insert(file_id.clone(), body);
        let msg = json!({"message_id": self.next_message_id(), "date": now_secs(), "chat": chat_json(chat_id),
            "from": user_json(from, &format!("User{from}"), "en"),
            "video": {"file_id": file_id, "file_unique_id": format!("u{file_id}"), "width": 1080, "height": 1920,
                      "duration": 20, "mime_type": "video/mp4", "file_size": size}});
        self.push_update("message", msg);
    }

    /// The ids of every file users sent, in no particular order.
    /// The bytes of the file uploaded by call `seq` (a `sendPhoto` or `editMessageMedia`, say), if it carried one.
    pub fn uploaded(&self, seq: usize) -> Option<Vec<u8>> {
        self.inner.lock().unwrap().uploads.get(&seq).cloned()
    }

    pub fn sent_file_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.inner.lock().unwrap().files.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// A user presses a button with `data` on message `message_id` of `chat_id` (data need not come from it,
    /// which is how tests forge buttons).
    pub fn press_as(&self, chat_id: i64, from: i64, message_id: i64, data: &str) {
        let message = self.inner.lock().unwrap().messages.get(&(chat_id, message_id)).cloned().unwrap_or_else(
            || json!({"message_id": message_id, "date": now_secs(), "chat": chat_json(chat_id), "text": "?"}),
        );
        let id = format!("cb{}", self.next_message_id());
        self.push_update(
            "callback_query",
            json!({"id": id, "from": user_json(from, &format!("User{from}"), "en"), "message": message,
                   "chat_instance": "ci", "data": data}),
        );
    }

    /// Presses the button labelled `label` (substring) on `msg`; panics when there is none.
    pub fn press(&self, from: i64, msg: &BotMessage, label: &str) {
        let data = msg.button(label).unwrap_or_else(|| panic!("no button {label:?} on {msg:#?}"));
        self.press_as(msg.chat_id, from, msg.message_id, &data);
    }

    /// Makes the next call of `method` fail with `error_code` and `description` (and `parameters`).
    pub fn fail_next(&self, method: &str, error_code: i64, description: &str, parameters: Value) {
        let mut body = json!({"ok": false, "error_code": error_code, "description": description});
        // Telegram sends `parameters` only when there are some; teloxide cannot parse an empty object there.
        if parameters.as_object().is_some_and(|o| !o.is_empty()) {
            body["parameters"] = parameters;
        }
        self.inner.lock().unwrap().failures.push_back((method.to_ascii_lowercase(), body));
    }

    /// A marker: calls after it are "new".
    pub fn mark(&self) -> usize {
        self.inner.lock().unwrap().calls.len()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// How many calls of `method` (lower case) came after `since`, without copying the log.
    pub fn count(&self, since: usize, method: &str) -> usize {
        self.inner.lock().unwrap().calls.iter().skip(since).filter(|c| c.method == method).count()
    }

    /// Updates not yet fetched by the bot.
    pub fn pending_updates(&self) -> usize {
        self.inner.lock().unwrap().updates.len()
    }

    /// Waits (up to 15 s) for a call after `since` matching `pred`.
    pub async fn wait_call(&self, since: usize, pred: impl Fn(&Call) -> bool) -> Call {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let notified = self.changed.notified();
            if let Some(c) = self.inner.lock().unwrap().calls.iter().skip(since).find(|c| pred(c)) {
                return c.clone();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let calls: Vec<_> = self.calls().into_iter().skip(since).map(|c| (c.method, c.params)).collect();
                panic!("timed out waiting for a bot call; calls since the mark: {calls:#?}");
            }
        }
    }

    /// Waits for the bot to send or edit a message in `chat_id` (after `since`) whose text contains `needle`,
    /// and returns that message as the chat shows it.
    pub async fn said(&self, chat_id: i64, since: usize, needle: &str) -> BotMessage {
        let call = self
            .wait_call(since, |c| {
                matches!(
                    c.method.as_str(),
                    "sendmessage" | "editmessagetext" | "sendphoto" | "editmessagecaption" | "editmessagemedia"
                ) && c.params["chat_id"].as_i64() == Some(chat_id)
                    && c.params["__failed"].is_null()
                    && c.params["text"]
                        .as_str()
                        .or(c.params["caption"].as_str())
                        .or(c.params["media"]["caption"].as_str())
                        .is_some_and(|t| t.contains(needle))
            })
            .await;
        let id = call.params["message_id"].as_i64().or(call.params["__message_id"].as_i64()).unwrap();
        self.message(chat_id, id).expect("recorded message")
    }

    /// Waits for a callback answer (after `since`) whose text contains `needle`.
    pub async fn answered(&self, since: usize, needle: &str) -> String {
        let c = self
            .wait_call(since, |c| {
                c.method == "answercallbackquery" && c.params["text"].as_str().is_some_and(|t| t.contains(needle))
            })
            .await;
        c.params["text"].as_str().unwrap().to_owned()
    }

    /// A message in a chat, as shown now.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<BotMessage> {
        let g = self.inner.lock().unwrap();
        g.messages.get(&(chat_id, message_id)).map(to_bot_message)
    }

    /// Every message the bot sent to `chat_id`, in order, as shown now.
    pub fn messages_in(&self, chat_id: i64) -> Vec<BotMessage> {
        let g = self.inner.lock().unwrap();
        let mut v: Vec<BotMessage> = g
            .messages
            .iter()
            .filter(|((c, _), m)| *c == chat_id && m["from"]["id"] == BOT_ID)
            .map(|(_, m)| to_bot_message(m))
            .collect();
        v.sort_by_key(|m| m.message_id);
        v
    }
}

fn to_bot_message(m: &Value) -> BotMessage {
    let buttons = m["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            row.as_array()
                .into_iter()
                .flatten()
                .map(|b| {
                    let data = b["callback_data"]
                        .as_str()
                        .or(b["url"].as_str())
                        .or(b["web_app"]["url"].as_str())
                        .unwrap_or_default();
                    (b["text"].as_str().unwrap_or_default().to_owned(), data.to_owned())
                })
                .collect()
        })
        .collect();
    BotMessage {
        chat_id: m["chat"]["id"].as_i64().unwrap_or_default(),
        message_id: m["message_id"].as_i64().unwrap_or_default(),
        text: m["text"].as_str().or(m["caption"].as_str()).unwrap_or_default().to_owned(),
        buttons,
        photo: m["photo"].is_array(),
    }
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn err(code: i64, description: &str) -> Response {
    let status = axum::http::StatusCode::from_u16(code as u16).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    (status, Json(json!({"ok": false, "error_code": code, "description": description}))).into_response()
}

async fn method(
    State((inner, changed)): State<AppState>,
    Path((bot, method)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if !bot.starts_with("bot") {
        return err(404, "Not Found");
    }
    let method = method.to_ascii_lowercase();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (mut params, upload): (Value, Option<Vec<u8>>) = match content_type.split("boundary=").nth(1) {
        Some(boundary) if content_type.starts_with("multipart/form-data") => {
            multipart_params(&body, boundary.trim_matches('"'))
        }
        _ => (serde_json::from_slice(&body).unwrap_or_else(|_| json!({})), None),
    };
    for (k, v) in query {
        params[k] = serde_json::from_str(&v).unwrap_or(Value::String(v));
    }
    if method == "getupdates" {
        {
            let mut g = inner.lock().unwrap();
            // Only polls from offset 0 (a poller starting) are recorded; tests wait for them, and recording
            // every long poll would flood the log.
            if params["offset"].as_i64().unwrap_or(0) == 0 {
                let seq = g.calls.len();
                g.calls.push(Call {
                    seq,
                    method: method.clone(),
                    params: params.clone(),
                    at: std::time::Instant::now(),
                });
            }
        }
        changed.notify_waiters();
        return get_updates(inner, changed, params).await;
    }
    let response = {
        let mut g = inner.lock().unwrap();
        if let Some(pos) = g.failures.iter().position(|(m, _)| *m == method) {
            let (_, body) = g.failures.remove(pos).unwrap();
            let seq = g.calls.len();
            params["__failed"] = json!(true);
            g.calls.push(Call { seq, method: method.clone(), params: params.clone(), at: std::time::Instant::now() });
            let code = body["error_code"].as_u64().unwrap_or(400) as u16;
            drop(g);
            changed.notify_waiters();
            let status = axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
            return (status, Json(body)).into_response();
        }
        let r = handle(&mut g, &method, &mut params);
        let seq = g.calls.len();
        // Kept for tests to read back; big videos are not kept (benchmarks upload many).
        if let Some(bytes) = upload.filter(|b| b.len() <= 8 * 1024 * 1024) {
            g.uploads.insert(seq, bytes);
        }
        g.calls.push(Call { seq, method, params, at: std::time::Instant::now() });
        r
    };
    changed.notify_waiters();
    response
}

fn handle(g: &mut Inner, method: &str, params: &mut Value) -> Response {
    let chat_id = params["chat_id"].as_i64().or_else(|| params["chat_id"].as_str().and_then(|s| s.parse().ok()));
    match method {
        "getme" => ok(json!({"id": BOT_ID, "is_bot": true, "first_name": "Tochen", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false})),
        "getwebhookinfo" => ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0})),
        "sendmessage" | "sendphoto" | "sendvideo" | "senddocument" => {
            let Some(chat_id) = chat_id else { return err(400, "Bad Request: chat_id is empty") };
            if let Some(refused) = over_limits(method, params) {
                params["__failed"] = json!(true);
                return refused;
            }
            g.next_message_id += 1;
            let id = g.next_message_id;
            let mut m = json!({"message_id": id, "date": now_secs(), "chat": chat_json(chat_id),
                "from": {"id": BOT_ID, "is_bot": true, "first_name": "Tochen", "username": BOT_USERNAME}});
            if method == "sendmessage" {
                m["text"] = params["text"].clone();
            } else {
                m["caption"] = params["caption"].clone();
                m["photo"] = json!([{"file_id": format!("sent{id}"), "file_unique_id": format!("s{id}"), "width": 1, "height": 1}]);
            }
            if params["reply_markup"].is_object() {
                m["reply_markup"] = params["reply_markup"].clone();
            }
            params["__message_id"] = json!(id);
            g.messages.insert((chat_id, id), m.clone());
            ok(m)
        }
        "sendmediagroup" => {
            let Some(chat_id) = chat_id else { return err(400, "Bad Request: chat_id is empty") };
            let media = params["media"].as_array().cloned().unwrap_or_default();
            if !(2..=10).contains(&media.len()) {
                params["__failed"] = json!(true);
                return err(400, "Bad Request: wrong number of media in the album; it must be 2-10");
            }
            let mut sent = Vec::new();
            for item in media {
                g.next_message_id += 1;
                let id = g.next_message_id;
                let m = json!({"message_id": id, "date": now_secs(), "chat": chat_json(chat_id),
                    "from": {"id": BOT_ID, "is_bot": true, "first_name": "Tochen", "username": BOT_USERNAME},
                    "media_group_id": "sent",
                    "photo": [{"file_id": format!("sent{id}"), "file_unique_id": format!("s{id}"), "width": 1,
                               "height": 1}],
                    "caption": item["caption"].clone()});
                g.messages.insert((chat_id, id), m.clone());
                sent.push(m);
            }
            ok(Value::Array(sent))
        }
        "editmessagetext" | "editmessagereplymarkup" | "editmessagecaption" => {
            let (Some(chat_id), Some(id)) = (chat_id, params["message_id"].as_i64()) else {
                return err(400, "Bad Request: message to edit not found");
            };
            let Some(m) = g.messages.get_mut(&(chat_id, id)) else {
                return err(400, "Bad Request: message to edit not found");
            };
            if let Some(refused) = over_limits(method, params) {
                params["__failed"] = json!(true);
                return refused;
            }
            let mut next = m.clone();
            match method {
                "editmessagetext" => next["text"] = params["text"].clone(),
                "editmessagecaption" => next["caption"] = params["caption"].clone(),
                _ => {}
            }
            if params["reply_markup"].is_object() {
                next["reply_markup"] = params["reply_markup"].clone();
            } else if let Some(o) = next.as_object_mut() {
                o.remove("reply_markup");
            }
            if next == *m {
                return err(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup are \
                     exactly the same as a current content and reply markup of the message",
                );
            }
            *m = next.clone();
            ok(next)
        }
        "editmessagemedia" => {
            let (Some(chat_id), Some(id)) = (chat_id, params["message_id"].as_i64()) else {
                return err(400, "Bad Request: message to edit not found");
            };
            let media = params["media"].clone();
            if media["type"] != "photo" {
                params["__failed"] = json!(true);
                return err(400, "Bad Request: unsupported media type in the fake");
            }
            let caption = media["caption"].as_str().unwrap_or_default();
            if caption.encode_utf16().count() > 1024 {
                params["__failed"] = json!(true);
                return err(400, "Bad Request: message caption is too long");
            }
            g.next_message_id += 1;
            let file = g.next_message_id;
            let Some(m) = g.messages.get_mut(&(chat_id, id)) else {
                return err(400, "Bad Request: message to edit not found");
            };
            // A new file is new content: Telegram never calls it "not modified".
            if let Some(o) = m.as_object_mut() {
                o.remove("text");
            }
            m["caption"] = media["caption"].clone();
            m["photo"] = json!([{"file_id": format!("sent{file}"), "file_unique_id": format!("s{file}"), "width": 1,
                                 "height": 1}]);
            if params["reply_markup"].is_object() {
                m["reply_markup"] = params["reply_markup"].clone();
            } else if let Some(o) = m.as_object_mut() {
                o.remove("reply_markup");
            }
            ok(m.clone())
        }
        "deletemessage" => {
            let (Some(chat_id), Some(id)) = (chat_id, params["message_id"].as_i64()) else {
                return err(400, "Bad Request: message to delete not found");
            };
            match g.messages.remove(&(chat_id, id)) {
                Some(_) => ok(json!(true)),
                None => err(400, "Bad Request: message to delete not found"),
            }
        }
        "getfile" => {
            let id = params["file_id"].as_str().unwrap_or_default().to_owned();
            let Some(body) = g.files.get(&id).cloned() else { return err(400, "Bad Request: invalid file_id") };
            let size = body.size();
            let path = match (&g.local_dir, body) {
                // Local mode: an absolute path on the server's disk, no size limit.
                (Some(_), FileBody::Disk(p)) => p.display().to_string(),
                (Some(dir), FileBody::Bytes(bytes)) => {
                    let p = dir.join(&id);
                    if std::fs::write(&p, bytes).is_err() {
                        return err(500, "Internal Server Error: cannot write the file");
                    }
                    p.display().to_string()
                }
                (None, _) if size > g.cloud_download_limit => return err(400, "Bad Request: file is too big"),
                (None, _) => format!("files/{id}"),
            };
            ok(json!({"file_id": id, "file_unique_id": format!("u{id}"), "file_size": size, "file_path": path}))
        }
        _ => ok(json!(true)),
    }
}

/// Telegram's refusal of a text over its limits: a message text of 1-4096 characters, a
/// caption up to 1024, counted after entity parsing in UTF-16 units; with HTML parse mode, tags must be closed
/// in order. `None` when the request is fine.
fn over_limits(method: &str, params: &Value) -> Option<Response> {
    let (field, max, too_long) = match method {
        "sendmessage" | "editmessagetext" => ("text", 4096, "Bad Request: message is too long"),
        "sendphoto" | "sendvideo" | "senddocument" | "editmessagecaption" => {
            ("caption", 1024, "Bad Request: message caption is too long")
        }
        _ => return None,
    };
    let text = params[field].as_str().unwrap_or_default();
    let visible = if params["parse_mode"].as_str().is_some_and(|m| m.eq_ignore_ascii_case("html")) {
        match html_visible_text(text) {
            Ok(v) => v,
            Err(why) => return Some(err(400, &format!("Bad Request: can't parse entities: {why}"))),
        }
    } else {
        text.to_owned()
    };
    let units = visible.encode_utf16().count();
    if field == "text" && visible.trim().is_empty() {
        return Some(err(400, "Bad Request: message text is empty"));
    }
    (units > max).then(|| err(400, too_long))
}

/// The text Telegram shows for an HTML-formatted message: tags removed (each start tag must have its end tag,
/// in order), the four named entities and numeric ones decoded.
fn html_visible_text(html: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let end = rest.find('>').ok_or_else(|| "Unclosed start tag".to_owned())?;
            let inner = &rest[1..end];
            let (closing, inner) = inner.strip_prefix('/').map_or((false, inner), |i| (true, i));
            let name: String =
                inner.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>().to_lowercase();
            if name.is_empty() {
                return Err(format!("Unsupported start tag \"{inner}\""));
            }
            if closing {
                if open.pop().as_deref() != Some(name.as_str()) {
                    return Err(format!("Unexpected end tag \"{name}\""));
                }
            } else {
                open.push(name);
            }
            rest = &rest[end + 1..];
        } else if c == '&' {
            let end = rest.find(';').filter(|e| *e <= 10);
            let decoded = end.and_then(|e| match &rest[1..e] {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                n => {
                    let n = n.strip_prefix('#')?;
                    let code = match n.strip_prefix('x') {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => n.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            });
            match (decoded, end) {
                (Some(d), Some(e)) => {
                    out.push(d);
                    rest = &rest[e + 1..];
                }
                _ => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    match open.last() {
        Some(tag) => Err(format!("Can't find end tag corresponding to start tag \"{tag}\"")),
        None => Ok(out),
    }
}

/// The fields of a `multipart/form-data` body (how teloxide sends files): text fields as JSON when they parse
/// (`chat_id`, `reply_markup`) and as strings otherwise (`caption`); a file field becomes
/// `{"file_name", "size"}` so tests can see what was uploaded, also where another field points at it (at the
/// top level, `"photo": "attach://x"`, or inside an InputMedia, `"media": {"media": "attach://x"}`). The bytes of
/// the last file part come back too ([`FakeTelegram::uploaded`]).
fn multipart_params(body: &[u8], boundary: &str) -> (Value, Option<Vec<u8>>) {
    let mut upload = None;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut params = json!({});
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(pos) = find(rest, &delimiter) {
        parts.push(&rest[..pos]);
        rest = &rest[pos + delimiter.len()..];
    }
    for part in parts.into_iter().skip(1) {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = find(part, b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&part[..split]);
        let data = &part[split + 4..];
        let attr = |name: &str| {
            head.split(';').find_map(|a| a.trim().strip_prefix(&format!("{name}=\"")).map(|v| v.trim_end_matches('"')))
        };
        let Some(name) = attr("name").map(|n| n.split('"').next().unwrap_or(n).to_owned()) else { continue };
        params[&name] = match attr("filename") {
            Some(file) => {
                upload = Some(data.to_vec());
                json!({"file_name": file.split('"').next().unwrap_or(file), "size": data.len()})
            }
            None => {
                let text = String::from_utf8_lossy(data).into_owned();
                match name.as_str() {
                    "caption" | "text" => Value::String(text),
                    _ => serde_json::from_str(&text).unwrap_or(Value::String(text)),
                }
            }
        };
    }
    // teloxide names a file field `attach://<part>`: put the part where the field refers to it.
    let refs: Vec<(String, String)> = params
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.strip_prefix("attach://")?.to_owned())))
        .collect();
    for (field, part) in refs {
        if let Some(file) = params.as_object_mut().and_then(|o| o.remove(&part)) {
            params[field] = file;
        }
    }
    let nested: Vec<(String, String)> = params
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.get("media")?.as_str()?.strip_prefix("attach://")?.to_owned())))
        .collect();
    for (field, part) in nested {
        if let Some(file) = params.as_object_mut().and_then(|o| o.remove(&part)) {
            params[field]["media"] = file;
        }
    }
    (params, upload)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn get_updates(inner: Arc<Mutex<Inner>>, changed: Arc<Notify>, params: Value) -> Response {
    let offset = params["offset"].as_i64().unwrap_or(0);
    let limit = params["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    // Long polls are capped short so a stopping bot is never held for the whole timeout.
    let wait = Duration::from_secs(params["timeout"].as_u64().unwrap_or(0)).min(Duration::from_millis(300));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = changed.notified();
        {
            let mut g = inner.lock().unwrap();
            while g.updates.front().is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset) {
                g.updates.pop_front();
            }
            if !g.updates.is_empty() || tokio::time::Instant::now() >= deadline {
                let batch: Vec<Value> = g.updates.iter().take(limit).cloned().collect();
                return ok(Value::Array(batch));
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

async fn file(State((inner, _)): State<AppState>, Path((_bot, path)): Path<(String, String)>) -> Response {
    let id = path.rsplit('/').next().unwrap_or_default().to_owned();
    let body = {
        let g = inner.lock().unwrap();
        // A local server has no download URL: its files are read from its disk.
        if g.local_dir.is_some() {
            return err(404, "Not Found");
        }
        g.files.get(&id).cloned()
    };
    match body {
        Some(FileBody::Bytes(bytes)) => bytes.into_response(),
        Some(FileBody::Disk(p)) => match tokio::fs::read(p).await {
            Ok(bytes) => bytes.into_response(),
            Err(_) => err(404, "Not Found"),
        },
        None => err(404, "Not Found"),
    }
}
