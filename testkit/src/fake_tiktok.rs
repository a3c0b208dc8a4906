//! A fake TikTok API (Login Kit v2 and the Content Posting API), following `docs/contracts/tiktok.md`.
//!
//! OAuth answers are flat (`{"error","error_description","log_id"}`); every other endpoint uses the
//! `{"data","error":{"code":"ok"}}` envelope. Refresh tokens rotate: the old one stops working the moment a new one
//! is issued. Publishing status moves `PROCESSING_* -> PUBLISH_COMPLETE` (or `FAILED` with an injected reason)
//! after [`FakeTikTok::set_processing_delay`]. FILE_UPLOAD checks the chunk rules and `Content-Range`.
//!
//! Media is checked as TikTok checks it (`docs/contracts/media-formats.md`): PULL_FROM_URL media is pulled at init
//! and an uploaded video probed when its last chunk arrives, with the limits table of `tochen_platforms::media`
//! ([`FakeTikTok::set_media_limits`]) and the creator's `max_video_post_duration_sec`; a failure shows later as
//! the status's `fail_reason` (`file_format_check_failed`, `duration_check_failed`, `frame_rate_check_failed`,
//! `picture_size_check_failed`, `video_pull_failed`, `photo_pull_failed`). Photo counts outside 1..35, a toggle
//! the creator disabled sent enabled, and branded content set `SELF_ONLY` are refused at init (`invalid_param`).

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct TikTokCall {
    pub method: String,
    pub path: String,
    pub params: HashMap<String, String>,
    pub headers: HashMap<String, String>,
}

struct Publish {
    created: Instant,
    video_size: u64,
    received: u64,
    fail_reason: Option<String>,
    upload: bool,
    /// The first bytes of a FILE_UPLOAD, probed when the upload completes.
    head: Vec<u8>,
}

/// How much of an uploaded video the fake keeps to probe it (the `moov` of a faststart file is at the front).
const HEAD_KEPT: usize = 4 * 1024 * 1024;

/// What the creator allows (`creator_info`), settable by tests.
#[derive(Debug, Clone, Copy)]
pub struct CreatorSettings {
    pub comment_disabled: bool,
    pub duet_disabled: bool,
    pub stitch_disabled: bool,
    pub max_video_post_duration_sec: u64,
}

impl Default for CreatorSettings {
    fn default() -> Self {
        CreatorSettings {
            comment_disabled: false,
            duet_disabled: false,
            stitch_disabled: true,
            max_video_post_duration_sec: 600,
        }
    }
}

#[derive(Default)]
struct TikTokState {
    calls: Vec<TikTokCall>,
    /// code -> (redirect_uri, code_challenge)
    codes: HashMap<String, (String, Option<String>)>,
    access: HashMap<String, String>,
    refresh: HashMap<String, String>,
    publishes: HashMap<String, Publish>,
    privacy_options: Vec<String>,
    processing_delay: Duration,
    next_fail_reason: Option<String>,
    /// (path substring, status, error code, message, delay)
    failures: VecDeque<(String, u16, String, String, Option<Duration>)>,
    counter: u64,
    open_id: String,
    base: String,
    access_ttl: i64,
    /// Tokens sent to `/v2/oauth/revoke/`, in order.
    revoked: Vec<String>,
    creator: CreatorSettings,
    limits: tochen_platforms::media::MediaLimits,
}

impl TikTokState {
    fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", 1000 + self.counter)
    }

    fn issue(&mut self) -> Value {
        let access = self.next("act.fake");
        let refresh = self.next("rft.fake");
        self.access.insert(access.clone(), self.open_id.clone());
        self.refresh.insert(refresh.clone(), self.open_id.clone());
        json!({"access_token": access, "expires_in": self.access_ttl, "open_id": self.open_id,
            "refresh_token": refresh, "refresh_expires_in": 15_552_000,
            "scope": "user.info.basic,video.publish,video.upload,video.list", "token_type": "Bearer"})
    }
}

/// A running fake TikTok API on 127.0.0.1; stops when dropped.
pub struct FakeTikTok {
    base: String,
    state: Arc<Mutex<TikTokState>>,
    _task: crate::fake_server::ServerTask,
}

impl FakeTikTok {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(TikTokState {
            privacy_options: vec!["PUBLIC_TO_EVERYONE".into(), "MUTUAL_FOLLOW_FRIENDS".into(), "SELF_ONLY".into()],
            processing_delay: Duration::from_millis(200),
            open_id: "open-id-fake-1".into(),
            access_ttl: 7200,
            ..Default::default()
        }));
        let s = state.clone();
        let app = Router::new()
            .fallback(move |m: Method, u: Uri, h: HeaderMap, b: Bytes| {
                let s = s.clone();
                async move { handle(s, m, u, h, b).await }
            })
            .layer(axum::extract::DefaultBodyLimit::max(256 * 1024 * 1024));
        let (base, task) = crate::fake_server::serve(app).await;
        state.lock().unwrap().base = base.clone();
        Self { base, state, _task: task }
    }

    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    /// Issues a valid access token without the OAuth dance; returns (access, refresh).
    pub fn issue_tokens(&self) -> (String, String) {
        let v = self.state.lock().unwrap().issue();
        (v["access_token"].as_str().unwrap().into(), v["refresh_token"].as_str().unwrap().into())
    }

    pub fn open_id(&self) -> String {
        self.state.lock().unwrap().open_id.clone()
    }

    pub fn set_privacy_options(&self, options: &[&str]) {
        self.state.lock().unwrap().privacy_options = options.iter().map(|s| s.to_string()).collect();
    }

    /// What `creator_info` says the creator allows.
    pub fn set_creator(&self, c: CreatorSettings) {
        self.state.lock().unwrap().creator = c;
    }

    /// The limits table the fake checks media with (the default one unless a test changes it).
    pub fn set_media_limits(&self, limits: tochen_platforms::media::MediaLimits) {
        self.state.lock().unwrap().limits = limits;
    }

    /// The `post_info` of every init, in order.
    pub fn post_infos(&self) -> Vec<Value> {
        self.calls_to("/init/")
            .into_iter()
            .map(|c| {
                serde_json::from_str(c.params.get("post_info").map(String::as_str).unwrap_or("null"))
                    .unwrap_or(Value::Null)
            })
            .collect()
    }

    pub fn set_processing_delay(&self, d: Duration) {
        self.state.lock().unwrap().processing_delay = d;
    }

    /// The next publish ends `FAILED` with this `fail_reason`.
    pub fn fail_next_publish(&self, reason: &str) {
        self.state.lock().unwrap().next_fail_reason = Some(reason.into());
    }

    /// Fails the next request whose path contains `path_contains` with the envelope error `code`.
    pub fn fail_next(&self, path_contains: &str, status: u16, code: &str, message: &str) {
        self.state.lock().unwrap().failures.push_back((
            path_contains.into(),
            status,
            code.into(),
            message.into(),
            None,
        ));
    }

    /// Delays the next request whose path contains `path_contains` (for client timeouts), then answers normally.
    pub fn delay_next(&self, path_contains: &str, d: Duration) {
        self.state.lock().unwrap().failures.push_back((path_contains.into(), 0, String::new(), String::new(), Some(d)));
    }

    pub fn revoke_access(&self, token: &str) {
        self.state.lock().unwrap().access.remove(token);
    }

    /// The tokens the app revoked through `/v2/oauth/revoke/`, in order.
    pub fn revocations(&self) -> Vec<String> {
        self.state.lock().unwrap().revoked.clone()
    }

    /// Whether `token` is a live access token.
    pub fn is_valid(&self, token: &str) -> bool {
        self.state.lock().unwrap().access.contains_key(token)
    }

    pub fn calls(&self) -> Vec<TikTokCall> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn calls_to(&self, suffix: &str) -> Vec<TikTokCall> {
        self.calls().into_iter().filter(|c| c.path.ends_with(suffix) || c.path.contains(suffix)).collect()
    }

    /// Bytes received by FILE_UPLOAD for `publish_id`.
    pub fn uploaded_bytes(&self, publish_id: &str) -> u64 {
        self.state.lock().unwrap().publishes.get(publish_id).map(|p| p.received).unwrap_or(0)
    }
}

/// `t=<unix>,s=<hex hmac(client_secret, t + "." + body)>`, as TikTok signs webhooks.
pub fn sign_tiktok_webhook(client_secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    let mut signed = format!("{unix_seconds}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={unix_seconds},s={}", crate::fake_server::hmac_hex(client_secret.as_bytes(), &signed))
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": error, "error_description": description, "log_id": "fake-log"})),
    )
        .into_response()
}

fn envelope_error(status: u16, code: &str, message: &str) -> Response {
    let body = json!({"data": {}, "error": {"code": code, "message": message, "log_id": "fake-log"}});
    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(body)).into_response()
}

fn ok(data: Value) -> Response {
    axum::Json(json!({"data": data, "error": {"code": "ok", "message": "", "log_id": "fake-log"}})).into_response()
}

async fn handle(state: Arc<Mutex<TikTokState>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let params = crate::fake_server::collect_params(&uri, &headers, &body);
    let path = uri.path().to_string();
    let hdrs: HashMap<String, String> =
        headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let injected = {
        let mut s = state.lock().unwrap();
        s.calls.push(TikTokCall {
            method: method.to_string(),
            path: path.clone(),
            params: params.clone(),
            headers: hdrs,
        });
        let pos = s.failures.iter().position(|f| path.contains(&f.0));
        pos.and_then(|p| s.failures.remove(p))
    };
    if let Some((_, status, code, message, delay)) = injected {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        if status != 0 {
            return envelope_error(status, &code, &message);
        }
    }
    // TikTok pulls PULL_FROM_URL media and checks it; the verdict shows later, as the status's fail_reason.
    let pulled = if path.ends_with("/init/") { pull_and_check(&state, &path, &params).await } else { None };
    let p = |k: &str| params.get(k).cloned().unwrap_or_default();
    let mut s = state.lock().unwrap();
    match (method.as_str(), path.as_str()) {
        ("GET", "/v2/auth/authorize/") => {
            let code = s.next("tt-code-");
            let challenge = params.get("code_challenge").cloned();
            s.codes.insert(code.clone(), (p("redirect_uri"), challenge));
            let to = format!("{}?code={code}&scopes={}&state={}", p("redirect_uri"), p("scope"), p("state"));
            (StatusCode::FOUND, [(axum::http::header::LOCATION, to)]).into_response()
        }
        ("POST", "/v2/oauth/token/") => match p("grant_type").as_str() {
            "authorization_code" => {
                let Some((redirect_uri, challenge)) = s.codes.remove(&p("code")) else {
                    return oauth_error("invalid_grant", "Authorization code is expired.");
                };
                if redirect_uri != p("redirect_uri") {
                    return oauth_error("invalid_request", "Redirect URI does not match.");
                }
                if let Some(ch) = challenge {
                    let digest = Sha256::digest(p("code_verifier").as_bytes());
                    if base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) != ch {
                        return oauth_error("invalid_grant", "Code verifier does not match.");
                    }
                }
                axum::Json(s.issue()).into_response()
            }
            "refresh_token" => {
                if s.refresh.remove(&p("refresh_token")).is_none() {
                    return oauth_error("invalid_grant", "Refresh token is invalid or expired.");
                }
                axum::Json(s.issue()).into_response()
            }
            _ => oauth_error("unsupported_grant_type", "Grant type is not supported."),
        },
        // Revoking ends the user's authorization of the app: every token of that open_id dies.
        ("POST", "/v2/oauth/revoke/") => {
            if p("client_key").is_empty() || p("client_secret").is_empty() {
                return oauth_error("invalid_client", "Client key or secret is missing.");
            }
            let t = p("token");
            let owner = s.access.get(&t).or_else(|| s.refresh.get(&t)).cloned();
            if let Some(open_id) = owner {
                s.access.retain(|_, o| *o != open_id);
                s.refresh.retain(|_, o| *o != open_id);
            }
            s.revoked.push(t);
            axum::Json(json!({})).into_response()
        }
        ("PUT", upload) if upload.starts_with("/upload/") => {
            let id = upload.trim_start_matches("/upload/").to_string();
            let range = params_header(&headers, "content-range");
            let (s_limits, s_creator) = (s.limits.clone(), s.creator);
            let Some(pb) = s.publishes.get_mut(&id) else {
                return StatusCode::NOT_FOUND.into_response();
            };
            let Some((first, last, total)) = parse_range(&range) else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            if first != pb.received || total != pb.video_size || last + 1 - first != body.len() as u64 {
                return StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            }
            pb.received = last + 1;
            let room = HEAD_KEPT.saturating_sub(pb.head.len()).min(body.len());
            pb.head.extend_from_slice(&body[..room]);
            if pb.received == pb.video_size {
                pb.created = Instant::now();
                let facts = crate::media_check::facts_of_head(&pb.head, pb.video_size);
                let verdict = video_verdict(&s_limits, s_creator, &facts);
                if let Some(pb) = s.publishes.get_mut(&id) {
                    pb.fail_reason = pb.fail_reason.take().or(verdict);
                }
                StatusCode::CREATED.into_response()
            } else {
                StatusCode::PARTIAL_CONTENT.into_response()
            }
        }
        _ => {
            if !s.access.contains_key(&p("access_token")) {
                return envelope_error(
                    401,
                    "access_token_invalid",
                    "The access token is invalid or not found in the request.",
                );
            }
            api(&mut s, &path, &params, pulled)
        }
    }
}

fn params_header(h: &HeaderMap, name: &str) -> String {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

fn parse_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (a, b) = span.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?, total.parse().ok()?))
}

/// The fail_reason TikTok gives a video with these facts, if any.
fn video_verdict(
    limits: &tochen_platforms::media::MediaLimits,
    creator: CreatorSettings,
    f: &tochen_platforms::media::MediaFacts,
) -> Option<String> {
    use tochen_platforms::media::Target;
    if let Some(p) = crate::media_check::first_problem(limits, Target::TikTokVideo, f) {
        return Some(p.tiktok_fail_reason().to_owned());
    }
    // The creator's own cap, below the API's 10 minutes.
    f.duration_ms
        .filter(|d| *d > creator.max_video_post_duration_sec * 1000)
        .map(|_| "duration_check_failed".to_owned())
}

/// Pulls the media of a PULL_FROM_URL init and checks it: `Some(Some(reason))` when TikTok will fail it,
/// `Some(None)` when it is fine, `None` when the request pulls nothing.
async fn pull_and_check(
    state: &Mutex<TikTokState>,
    path: &str,
    params: &HashMap<String, String>,
) -> Option<Option<String>> {
    use tochen_platforms::media::Target;
    let source: Value = serde_json::from_str(params.get("source_info")?).ok()?;
    if source["source"].as_str() != Some("PULL_FROM_URL") {
        return None;
    }
    let (limits, creator) = {
        let s = state.lock().unwrap();
        (s.limits.clone(), s.creator)
    };
    if path.contains("/content/") {
        for url in source["photo_images"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let Ok(bytes) = crate::media_check::pull(url).await else { return Some(Some("photo_pull_failed".into())) };
            let f = crate::media_check::facts(&bytes);
            if let Some(p) = crate::media_check::first_problem(&limits, Target::TikTokPhoto, &f) {
                return Some(Some(p.tiktok_fail_reason().to_owned()));
            }
        }
        return Some(None);
    }
    let url = source["video_url"].as_str()?;
    match crate::media_check::pull(url).await {
        Ok(bytes) => Some(video_verdict(&limits, creator, &crate::media_check::facts(&bytes))),
        Err(_) => Some(Some("video_pull_failed".into())),
    }
}

fn api(s: &mut TikTokState, path: &str, params: &HashMap<String, String>, pulled: Option<Option<String>>) -> Response {
    let p = |k: &str| params.get(k).cloned().unwrap_or_default();
    let json_of = |k: &str| serde_json::from_str::<Value>(&p(k)).unwrap_or(Value::Null);
    match path {
        "/v2/post/publish/creator_info/query/" => ok(json!({"creator_username": "fake_creator",
            "creator_nickname": "Fake Creator", "creator_avatar_url": "https://example.invalid/a.jpg",
            "privacy_level_options": s.privacy_options, "comment_disabled": s.creator.comment_disabled,
            "duet_disabled": s.creator.duet_disabled, "stitch_disabled": s.creator.stitch_disabled,
            "max_video_post_duration_sec": s.creator.max_video_post_duration_sec})),
        "/v2/post/publish/video/init/" | "/v2/post/publish/inbox/video/init/" | "/v2/post/publish/content/init/" => {
            let post_info = json_of("post_info");
            let source = json_of("source_info");
            let privacy = post_info["privacy_level"].as_str().unwrap_or("").to_string();
            if path != "/v2/post/publish/inbox/video/init/" && !s.privacy_options.contains(&privacy) {
                return envelope_error(
                    403,
                    "privacy_level_option_mismatch",
                    "privacy_level is not one of the creator's options",
                );
            }
            // A toggle the creator turned off must be sent off; branded content cannot be private.
            let c = s.creator;
            let sent_on = |k: &str| post_info[k].as_bool() == Some(false);
            if (c.comment_disabled && sent_on("disable_comment"))
                || (c.duet_disabled && sent_on("disable_duet"))
                || (c.stitch_disabled && sent_on("disable_stitch"))
            {
                return envelope_error(400, "invalid_param", "an interaction the creator disabled was enabled");
            }
            if post_info["brand_content_toggle"].as_bool() == Some(true) && privacy == "SELF_ONLY" {
                return envelope_error(400, "invalid_param", "branded content cannot be SELF_ONLY");
            }
            if path.contains("content") {
                let n = source["photo_images"].as_array().map_or(0, Vec::len);
                if !(1..=s.limits.tiktok_photos_max).contains(&n) {
                    return envelope_error(400, "invalid_param", "photo_images must hold 1 to 35 images");
                }
            }
            let title_limit = if path.contains("content") { 90 } else { 2200 };
            if post_info["title"].as_str().unwrap_or("").encode_utf16().count() > title_limit {
                return envelope_error(400, "invalid_param", "title is too long");
            }
            let id = s.next("v_pub_file~v2-1.");
            let mut data = json!({"publish_id": id});
            let mut publish = Publish {
                created: Instant::now(),
                video_size: 0,
                received: 0,
                fail_reason: s.next_fail_reason.take().or(pulled.flatten()),
                upload: false,
                head: Vec::new(),
            };
            match source["source"].as_str() {
                Some("PULL_FROM_URL") => {
                    let has_url = source["video_url"].is_string()
                        || source["photo_images"].as_array().is_some_and(|a| !a.is_empty());
                    if !has_url {
                        return envelope_error(400, "invalid_param", "video_url or photo_images is required");
                    }
                }
                Some("FILE_UPLOAD") => {
                    let size = source["video_size"].as_u64().unwrap_or(0);
                    let chunk = source["chunk_size"].as_u64().unwrap_or(0);
                    let count = source["total_chunk_count"].as_u64().unwrap_or(0);
                    if !chunk_rules_hold(size, chunk, count) {
                        return envelope_error(
                            400,
                            "invalid_param",
                            "chunk_size and total_chunk_count break the upload rules",
                        );
                    }
                    publish.video_size = size;
                    publish.upload = true;
                    data["upload_url"] = json!(format!("{}/upload/{id}", s.base));
                }
                _ => return envelope_error(400, "invalid_param", "source_info.source is invalid"),
            }
            s.publishes.insert(id, publish);
            ok(data)
        }
        "/v2/post/publish/status/fetch/" => {
            let id = p("publish_id");
            let delay = s.processing_delay;
            let Some(pb) = s.publishes.get(&id) else {
                return envelope_error(400, "invalid_param", "publish_id is unknown");
            };
            let waiting_upload = pb.upload && pb.received < pb.video_size;
            let data = if waiting_upload {
                json!({"status": "PROCESSING_UPLOAD", "uploaded_bytes": pb.received})
            } else if pb.created.elapsed() < delay {
                json!({"status": if pb.upload { "PROCESSING_UPLOAD" } else { "PROCESSING_DOWNLOAD" }})
            } else if let Some(reason) = &pb.fail_reason {
                json!({"status": "FAILED", "fail_reason": reason})
            } else {
                let post_id: i64 = 7_300_000_000_000_000_000 + id.len() as i64 + s.counter as i64;
                json!({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [post_id]})
            };
            ok(data)
        }
        "/v2/user/info/" => ok(json!({"user": {"open_id": s.open_id, "display_name": "Fake Creator",
            "username": "fake_creator", "follower_count": 4321, "following_count": 12, "likes_count": 999,
            "video_count": 7}})),
        "/v2/video/query/" => {
            let ids = json_of("filters")["video_ids"].as_array().cloned().unwrap_or_default();
            let videos: Vec<Value> = ids
                .iter()
                .map(|id| {
                    json!({"id": id, "title": "fake", "create_time": 1_790_000_000, "view_count": 1500,
                    "like_count": 120, "comment_count": 8, "share_count": 5})
                })
                .collect();
            ok(json!({"videos": videos, "cursor": 0, "has_more": false}))
        }
        _ => envelope_error(404, "invalid_param", "unknown endpoint in the fake TikTok API"),
    }
}

/// The chunk rules of `docs/contracts/tiktok.md`: under 5 MB one chunk; otherwise chunks of 5-64 MB,
/// count = floor(size / chunk), and the last chunk (which takes the remainder) at most 128 MB.
pub fn chunk_rules_hold(size: u64, chunk: u64, count: u64) -> bool {
    const MB: u64 = 1024 * 1024;
    if size == 0 || chunk == 0 {
        return false;
    }
    if size < 5 * MB {
        return chunk == size && count == 1;
    }
    let last = size - chunk * (count.saturating_sub(1));
    (5 * MB..=64 * MB).contains(&chunk) && count == size / chunk && last <= 128 * MB
}
