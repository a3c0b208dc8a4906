//! A fake Meta Graph API (Facebook Login, Pages, Instagram on graph.facebook.com and graph.instagram.com, and the
//! api.instagram.com token endpoint), following `docs/contracts/meta.md`.
//!
//! One server stands in for every Meta host: tests point `META_GRAPH_URL`, `META_DIALOG_URL`,
//! `INSTAGRAM_GRAPH_URL`, `INSTAGRAM_API_URL` and `INSTAGRAM_AUTHORIZE_URL` at [`FakeGraph::base_url`]. Any
//! `/vNN.0/` prefix is accepted. Containers move `IN_PROGRESS -> FINISHED` after [`FakeGraph::set_container_delay`],
//! and to `PUBLISHED` once `media_publish` made them a post. The publishing quota is enforced, every answer
//! carries `X-App-Usage`, errors use the Graph envelope, and failures can be injected per path, before the request
//! is processed or after (the post made, the answer lost). Every call is recorded for assertions.
//!
//! Media is checked as Meta checks it, with the limits table of `tochen_platforms::media`
//! ([`FakeGraph::set_media_limits`]; `docs/contracts/media-formats.md`): the `image_url` of an image container is
//! downloaded when the container is created and refused at once when it cannot be fetched (9004/2207052), is not
//! a JPEG by its bytes (36001/2207005), is too large (2207004) or has the wrong aspect ratio (2207009); a video
//! container's `video_url` is pulled and a problem shows later as `status_code=ERROR` with the subcode in
//! `status`; carousels take 2..max children. Facebook Page videos (`POST /{page}/videos` with `file_url`, the
//! graph-video host being this same server) and Reels (`/{page}/video_reels` start and finish, the upload to
//! `{base}/rupload/video-upload/...` by `file_url` header or bytes) are probed too, and a problem shows in
//! `GET /{video-id}?fields=status` as `video_status=error`. [`crate::media_host::MediaHost`] serves test media over
//! HTTP.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One recorded request: method, path without the version prefix, and all parameters (query, form and JSON).
#[derive(Debug, Clone)]
pub struct GraphCall {
    pub method: String,
    pub path: String,
    pub params: HashMap<String, String>,
}

/// An injected failure for the next request whose path contains `path_contains`.
#[derive(Debug, Clone)]
pub struct InjectedFailure {
    pub path_contains: String,
    pub status: u16,
    pub code: i64,
    pub subcode: Option<i64>,
    pub message: String,
    /// Sleep this long before answering (for client timeouts).
    pub delay: Option<Duration>,
    /// Process the request first (the post is made), then answer with the failure: a lost answer.
    pub after_processing: bool,
}

#[derive(Debug, Clone)]
pub struct FakePage {
    pub id: String,
    pub name: String,
    pub token: String,
    pub ig_id: Option<String>,
}

struct Container {
    ig_user: String,
    created: Instant,
    error: bool,
    published: bool,
    /// Why processing fails (a video that breaks the limits): `(subcode, message)`, shown in `status`.
    failure: Option<(i64, String)>,
}

/// A Facebook Page video or Reel.
#[derive(Debug, Clone)]
struct FbVideo {
    page: String,
    reel: bool,
    created: Instant,
    /// The uploaded file breaks the limits: processing ends in `error`.
    problem: Option<String>,
    uploaded: bool,
    /// `upload_phase=finish` arrived (Reels) or the upload was a published Page video.
    finished: bool,
}

/// What the fake downloaded for an image container: the URL, and whether the bytes were a JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedImage {
    pub url: String,
    pub content_type: String,
    pub jpeg: bool,
}

#[derive(Default)]
struct GraphState {
    calls: Vec<GraphCall>,
    failures: VecDeque<InjectedFailure>,
    pages: Vec<FakePage>,
    page_size: usize,
    tokens: HashSet<String>,
    codes: HashMap<String, String>,
    short_tokens: HashSet<String>,
    containers: HashMap<String, Container>,
    container_delay: Duration,
    quota_usage: i64,
    quota_total: i64,
    published: HashMap<String, Value>,
    counter: u64,
    deny_consent: bool,
    ig_login_user: String,
    base: String,
    /// Users whose permissions the app removed (`DELETE /{user-id}/permissions`), in order.
    revoked_users: Vec<String>,
    fetched: Vec<FetchedImage>,
    videos: HashMap<String, FbVideo>,
    limits: tochen_platforms::media::MediaLimits,
    /// Published posts deleted with `DELETE /{post-id}` (kept in `published` for inspection).
    deleted: HashSet<String>,
    /// Published posts whose edit Facebook refuses, with the Graph code it answers (100 or 200).
    not_editable: HashMap<String, i64>,
}

impl GraphState {
    fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", 1000 + self.counter)
    }
}

/// A running fake Graph API on 127.0.0.1; stops when dropped.
pub struct FakeGraph {
    base: String,
    state: Arc<Mutex<GraphState>>,
    _task: crate::fake_server::ServerTask,
}

impl FakeGraph {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(GraphState {
            page_size: 2,
            quota_total: 50,
            container_delay: Duration::from_millis(200),
            ig_login_user: "17841400000000001".into(),
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

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    /// Adds a Page (optionally with a linked Instagram professional account) and returns its Page token.
    pub fn add_page(&self, id: &str, name: &str, ig_id: Option<&str>) -> String {
        let token = format!("page-token-{id}");
        let mut s = self.state.lock().unwrap();
        s.tokens.insert(token.clone());
        s.pages.push(FakePage { id: id.into(), name: name.into(), token: token.clone(), ig_id: ig_id.map(Into::into) });
        token
    }

    /// Makes `token` valid (for an Instagram Login user token, say).
    pub fn add_token(&self, token: &str) {
        self.state.lock().unwrap().tokens.insert(token.into());
    }

    /// The Facebook users whose permissions the app removed, in order.
    pub fn revoked_users(&self) -> Vec<String> {
        self.state.lock().unwrap().revoked_users.clone()
    }

    /// Whether `token` is still valid.
    pub fn is_valid(&self, token: &str) -> bool {
        self.state.lock().unwrap().tokens.contains(token)
    }

    /// Makes `token` invalid: the next call with it fails with 190/463.
    pub fn revoke_token(&self, token: &str) {
        self.state.lock().unwrap().tokens.remove(token);
    }

    pub fn set_page_size(&self, n: usize) {
        self.state.lock().unwrap().page_size = n.max(1);
    }

    pub fn set_container_delay(&self, d: Duration) {
        self.state.lock().unwrap().container_delay = d;
    }

    pub fn set_quota(&self, usage: i64, total: i64) {
        let mut s = self.state.lock().unwrap();
        s.quota_usage = usage;
        s.quota_total = total;
    }

    /// The next dialog redirect reports `access_denied`.
    pub fn deny_consent(&self, deny: bool) {
        self.state.lock().unwrap().deny_consent = deny;
    }

    /// Fails the next request whose path contains `path_contains` with a Graph error envelope.
    pub fn fail_next(&self, path_contains: &str, status: u16, code: i64, subcode: Option<i64>, message: &str) {
        self.inject(InjectedFailure {
            path_contains: path_contains.into(),
            status,
            code,
            subcode,
            message: message.into(),
            delay: None,
            after_processing: false,
        });
    }

    /// Processes the next request whose path contains `path_contains` (the post is made), then answers with a
    /// Graph error envelope instead of the result, as when the platform fails after doing the work.
    pub fn fail_next_after(&self, path_contains: &str, status: u16, code: i64, message: &str) {
        self.inject(InjectedFailure {
            path_contains: path_contains.into(),
            status,
            code,
            subcode: None,
            message: message.into(),
            delay: None,
            after_processing: true,
        });
    }

    pub fn inject(&self, f: InjectedFailure) {
        self.state.lock().unwrap().failures.push_back(f);
    }

    /// Marks the next containers of this fake as failing with `status_code=ERROR`.
    pub fn fail_containers(&self) {
        let mut s = self.state.lock().unwrap();
        for c in s.containers.values_mut() {
            c.error = true;
        }
    }

    pub fn calls(&self) -> Vec<GraphCall> {
        self.state.lock().unwrap().calls.clone()
    }

    /// Calls whose path ends with `suffix`.
    pub fn calls_to(&self, suffix: &str) -> Vec<GraphCall> {
        self.calls().into_iter().filter(|c| c.path.ends_with(suffix)).collect()
    }

    /// What was published, by object id (feed posts, photos, Instagram media).
    pub fn published(&self, id: &str) -> Option<Value> {
        self.state.lock().unwrap().published.get(id).cloned()
    }

    pub fn published_count(&self) -> usize {
        self.state.lock().unwrap().published.len()
    }

    /// The limits table the fake checks media with (the default one unless a test changes it).
    pub fn set_media_limits(&self, limits: tochen_platforms::media::MediaLimits) {
        self.state.lock().unwrap().limits = limits;
    }

    /// Facebook videos and Reels: (id, is a Reel, finished).
    pub fn videos(&self) -> Vec<(String, bool, bool)> {
        let s = self.state.lock().unwrap();
        let mut v: Vec<_> = s.videos.iter().map(|(id, v)| (id.clone(), v.reel, v.finished)).collect();
        v.sort();
        v
    }

    /// The current text of a published post: its `message` (a feed post, or one edited since), else its photo's
    /// `caption`, else a video's `description`.
    pub fn post_text(&self, id: &str) -> Option<String> {
        let s = self.state.lock().unwrap();
        let v = s.published.get(id)?;
        ["message", "caption", "description"].iter().find_map(|k| v[*k].as_str().map(str::to_owned))
    }

    /// Whether the published post `id` was deleted.
    pub fn is_deleted(&self, id: &str) -> bool {
        self.state.lock().unwrap().deleted.contains(id)
    }

    /// Facebook refuses edits of the published post `id` with Graph error `code` (100 or 200), as it does for
    /// posts by other users and many shares.
    pub fn mark_not_editable(&self, id: &str, code: i64) {
        self.state.lock().unwrap().not_editable.insert(id.to_owned(), code);
    }

    /// The images downloaded for image containers, in order.
    pub fn fetched_images(&self) -> Vec<FetchedImage> {
        self.state.lock().unwrap().fetched.clone()
    }
}

/// Whether `bytes` begin like a JPEG file (SOI marker followed by another marker).
pub fn looks_like_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Downloads an image container's `image_url` as Instagram does and checks it with the limits table; the Graph
/// error for what it refuses.
async fn fetch_image(
    url: &str,
    limits: &tochen_platforms::media::MediaLimits,
) -> Result<(FetchedImage, Option<Response>), Response> {
    use tochen_platforms::media::{MediaProblem, Target};
    let body = crate::media_check::pull(url).await.map_err(|why| {
        graph_error(400, 9004, Some(2207052), &format!("The media could not be fetched from this URI: {why}"))
    })?;
    let facts = crate::media_check::facts(&body);
    let fetched = FetchedImage {
        url: url.to_owned(),
        content_type: facts.format.content_type().to_owned(),
        jpeg: looks_like_jpeg(&body),
    };
    // Instagram takes JPEG only: nothing is converted on its side.
    let refusal = if !fetched.jpeg {
        Some(graph_error(400, 36001, Some(2207005), "The image format is not supported. Supported formats are: JPEG"))
    } else {
        crate::media_check::first_problem(limits, Target::InstagramImage, &facts).map(|p| {
            let code = if matches!(p, MediaProblem::AspectRatio { .. }) { 36003 } else { 36001 };
            graph_error(400, code, Some(p.instagram_subcode()), &p.describe())
        })
    };
    Ok((fetched, refusal))
}

/// Pulls a video as Meta does and checks it for `target`: the problem, if any, as (subcode, message).
async fn check_video(
    url: &str,
    limits: &tochen_platforms::media::MediaLimits,
    target: tochen_platforms::media::Target,
) -> Option<(i64, String)> {
    match crate::media_check::pull(url).await {
        Err(why) => Some((2207052, format!("The media could not be fetched: {why}"))),
        Ok(bytes) => {
            let f = crate::media_check::facts(&bytes);
            crate::media_check::first_problem(limits, target, &f).map(|p| (p.instagram_subcode(), p.describe()))
        }
    }
}

/// `sha256=<hex>` as Meta signs a webhook body with the app secret.
pub fn sign_meta_webhook(app_secret: &str, body: &[u8]) -> String {
    format!("sha256={}", crate::fake_server::hmac_hex(app_secret.as_bytes(), body))
}

fn graph_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Response {
    let mut err = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfFake"});
    if let Some(sc) = subcode {
        err["error_subcode"] = json!(sc);
        err["error_user_msg"] = json!(message);
    }
    with_usage((StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(json!({"error": err}))))
}

fn ok(v: Value) -> Response {
    with_usage(axum::Json(v))
}

fn with_usage(r: impl IntoResponse) -> Response {
    let mut r = r.into_response();
    r.headers_mut()
        .insert("x-app-usage", HeaderValue::from_static(r#"{"call_count":3,"total_cputime":1,"total_time":2}"#));
    r
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [(axum::http::header::LOCATION, to)]).into_response()
}

async fn handle(state: Arc<Mutex<GraphState>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let params = crate::fake_server::collect_params(&uri, &headers, &body);
    let raw_path = uri.path().to_string();
    let path = strip_version(&raw_path);
    let injected = {
        let mut s = state.lock().unwrap();
        s.calls.push(GraphCall { method: method.to_string(), path: path.clone(), params: params.clone() });
        let pos = s.failures.iter().position(|f| path.contains(&f.path_contains));
        pos.and_then(|p| s.failures.remove(p))
    };
    if let Some(f) = injected {
        if let Some(d) = f.delay {
            tokio::time::sleep(d).await;
        }
        if f.status != 0 {
            if f.after_processing {
                let _ = answer(&state, &method, &path, &params).await;
            }
            return graph_error(f.status, f.code, f.subcode, &f.message);
        }
    }
    if method == Method::POST && path.starts_with("/rupload/") {
        return rupload(&state, &path, &headers, &body, &params).await;
    }
    answer(&state, &method, &path, &params).await
}

/// Phase 2 of a Reel: `POST {upload_url}` with `Authorization: OAuth <token>` and either a `file_url` header or
/// `offset`/`file_size` headers and the bytes. The file is checked against the Reels limits; a failure shows in
/// the status (`video_status=error`), as Facebook reports it.
async fn rupload(
    state: &Mutex<GraphState>,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    params: &HashMap<String, String>,
) -> Response {
    use tochen_platforms::media::Target;
    let id = path.rsplit('/').next().unwrap_or_default().to_owned();
    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (limits, known) = {
        let s = state.lock().unwrap();
        let token_ok = params.get("access_token").is_some_and(|t| s.tokens.contains(t));
        if !token_ok {
            return graph_error(400, 190, Some(463), "Error validating access token: Session has expired");
        }
        (s.limits.clone(), s.videos.get(&id).is_some_and(|v| v.reel))
    };
    if !known {
        return graph_error(400, 100, None, "(#100) Invalid video id in the upload URL");
    }
    let problem = match header("file_url") {
        Some(url) => check_video(&url, &limits, Target::FacebookReel).await.map(|(_, why)| why),
        None => {
            let size: Option<usize> = header("file_size").and_then(|v| v.parse().ok());
            if header("offset").as_deref() != Some("0") || size != Some(body.len()) {
                return graph_error(400, 100, None, "(#100) offset 0 and file_size matching the body are required");
            }
            let f = crate::media_check::facts(body);
            crate::media_check::first_problem(&limits, Target::FacebookReel, &f).map(|p| p.describe())
        }
    };
    let mut s = state.lock().unwrap();
    if let Some(v) = s.videos.get_mut(&id) {
        v.uploaded = true;
        v.problem = problem;
        v.created = Instant::now();
    }
    ok(json!({"success": true}))
}

/// The answer to a request that no injected failure stopped.
async fn answer(state: &Mutex<GraphState>, method: &Method, path: &str, params: &HashMap<String, String>) -> Response {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    // An image container: Instagram downloads the image first (outside the lock: it is a network call).
    let image_url = params.get("image_url").filter(|u| !u.is_empty());
    let token_ok = || params.get("access_token").is_some_and(|t| state.lock().unwrap().tokens.contains(t));
    let limits = state.lock().unwrap().limits.clone();
    if let (&Method::POST, [_, "media"], Some(url), true) = (method, segs.as_slice(), image_url, token_ok()) {
        let (fetched, refusal) = match fetch_image(url, &limits).await {
            Ok(f) => f,
            Err(refusal) => return refusal,
        };
        state.lock().unwrap().fetched.push(fetched);
        if let Some(r) = refusal {
            return r;
        }
    }
    // A video container or a Facebook video: pulled and checked now, failing later (container status ERROR,
    // video_status error) as Meta does.
    use tochen_platforms::media::Target;
    let video_target = match (method, segs.as_slice()) {
        (&Method::POST, [_, "media"]) if params.contains_key("video_url") => {
            Some(if params.get("media_type").map(String::as_str) == Some("REELS") {
                Target::InstagramReel
            } else {
                Target::InstagramCarouselVideo
            })
        }
        (&Method::POST, [_, "videos"]) if params.contains_key("file_url") => Some(Target::FacebookVideo),
        _ => None,
    };
    let video_problem = match (video_target, token_ok()) {
        (Some(target), true) => {
            let url = params.get("video_url").or(params.get("file_url")).cloned().unwrap_or_default();
            check_video(&url, &limits, target).await
        }
        _ => None,
    };
    let mut s = state.lock().unwrap();
    let p = |k: &str| params.get(k).cloned().unwrap_or_default();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["dialog", "oauth"]) | ("GET", ["oauth", "authorize"]) => {
            let redirect_uri = p("redirect_uri");
            let state_param = p("state");
            let sep = if redirect_uri.contains('?') { '&' } else { '?' };
            if s.deny_consent {
                return redirect(format!(
                    "{redirect_uri}{sep}error=access_denied&error_reason=user_denied&error_description=Permissions+error&state={state_param}"
                ));
            }
            let code = s.next("code-");
            s.codes.insert(code.clone(), redirect_uri.clone());
            let suffix = if segs[0] == "oauth" { "#_" } else { "" };
            redirect(format!("{redirect_uri}{sep}code={code}&state={state_param}{suffix}"))
        }
        // Facebook: code -> short-lived, or fb_exchange_token -> long-lived. Instagram: api.instagram.com POST.
        (m, ["oauth", "access_token"]) => {
            if p("grant_type") == "fb_exchange_token" {
                let short = p("fb_exchange_token");
                if !s.short_tokens.contains(&short) {
                    return graph_error(400, 190, Some(463), "Error validating access token: Session has expired");
                }
                let long = s.next("fb-long-");
                s.tokens.insert(long.clone());
                return ok(json!({"access_token": long, "token_type": "bearer", "expires_in": 5183944}));
            }
            let code = p("code").trim_end_matches("#_").to_string();
            match s.codes.remove(&code) {
                Some(redirect_uri) if redirect_uri == p("redirect_uri") => {}
                _ => return graph_error(400, 100, Some(36007), "Invalid verification code format."),
            }
            if m == "POST" {
                let token = s.next("ig-short-");
                s.short_tokens.insert(token.clone());
                let user = s.ig_login_user.clone();
                return ok(json!({"data": [{"access_token": token, "user_id": user,
                    "permissions": "instagram_business_basic,instagram_business_content_publish"}]}));
            }
            let token = s.next("fb-short-");
            s.short_tokens.insert(token.clone());
            ok(json!({"access_token": token, "token_type": "bearer", "expires_in": 5400}))
        }
        ("GET", ["access_token"]) => {
            let short = p("access_token");
            if p("grant_type") != "ig_exchange_token" || !s.short_tokens.contains(&short) {
                return graph_error(400, 190, None, "Invalid OAuth access token - Cannot parse access token");
            }
            let long = s.next("ig-long-");
            s.tokens.insert(long.clone());
            ok(json!({"access_token": long, "token_type": "bearer", "expires_in": 5183944}))
        }
        ("GET", ["refresh_access_token"]) => {
            let old = p("access_token");
            if !s.tokens.contains(&old) {
                return graph_error(400, 190, Some(463), "Error validating access token: Session has expired");
            }
            let new = s.next("ig-long-");
            s.tokens.insert(new.clone());
            ok(json!({"access_token": new, "token_type": "bearer", "expires_in": 5183944}))
        }
        // Removing a user's permissions (with the app token `{app-id}|{app-secret}`) ends their grant: every Page
        // token of this fake dies with it (it has one Facebook user).
        ("DELETE", [user, "permissions"]) => {
            if !p("access_token").contains('|') {
                return graph_error(400, 190, None, "Invalid OAuth access token - Cannot parse access token");
            }
            let page_tokens: Vec<String> = s.pages.iter().map(|pg| pg.token.clone()).collect();
            for t in page_tokens {
                s.tokens.remove(&t);
            }
            s.revoked_users.push(user.to_string());
            ok(json!({"success": true}))
        }
        ("GET", ["debug_token"]) => {
            let input = p("input_token");
            let valid = s.tokens.contains(&input);
            let expires = if input.starts_with("page-token-") { 0 } else { unix() + 5_183_944 };
            ok(json!({"data": {"app_id": "fake-app", "type": "USER", "expires_at": expires,
                "data_access_expires_at": unix() + 7_776_000, "is_valid": valid,
                "scopes": ["pages_show_list", "pages_manage_posts", "pages_read_engagement", "read_insights",
                           "business_management"], "user_id": "10001"}}))
        }
        _ => {
            let token = p("access_token");
            if !s.tokens.contains(&token) {
                return graph_error(400, 190, Some(463), "Error validating access token: Session has expired");
            }
            api(&mut s, method.as_str(), &segs, params, video_problem)
        }
    }
}

fn api(
    s: &mut GraphState,
    method: &str,
    segs: &[&str],
    params: &HashMap<String, String>,
    video_problem: Option<(i64, String)>,
) -> Response {
    let p = |k: &str| params.get(k).cloned().unwrap_or_default();
    match (method, segs) {
        ("GET", ["me", "accounts"]) => {
            let after: usize = p("after").parse().unwrap_or(0);
            let size = s.page_size;
            let data: Vec<Value> = s
                .pages
                .iter()
                .skip(after)
                .take(size)
                .map(|pg| {
                    let mut v = json!({"id": pg.id, "name": pg.name, "access_token": pg.token,
                        "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MODERATE", "MANAGE"]});
                    if let Some(ig) = &pg.ig_id {
                        v["instagram_business_account"] = json!({"id": ig});
                    }
                    v
                })
                .collect();
            let mut paging = json!({"cursors": {"before": after.to_string(), "after": (after + size).to_string()}});
            if after + size < s.pages.len() {
                paging["next"] = json!(format!(
                    "{}/v25.0/me/accounts?access_token={}&fields={}&limit={}&after={}",
                    s.base,
                    p("access_token"),
                    p("fields"),
                    size,
                    after + size
                ));
            }
            ok(json!({"data": data, "paging": paging}))
        }
        ("GET", ["me"]) => ok(json!({"id": s.ig_login_user, "user_id": s.ig_login_user, "username": "fake_ig_login"})),
        ("POST", [page, "feed"]) => {
            if p("message").is_empty() && p("link").is_empty() && p("attached_media").is_empty() {
                return graph_error(400, 100, None, "(#100) Missing message or attachment");
            }
            let id = format!("{page}_{}", s.next(""));
            s.published.insert(id.clone(), json!(params));
            ok(json!({"id": id}))
        }
        ("POST", [page, "photos"]) => {
            if p("url").is_empty() {
                return graph_error(400, 324, None, "(#324) Requires upload file");
            }
            let id = s.next("photo-");
            if p("published") == "false" {
                s.published.insert(id.clone(), json!({"unpublished": true, "url": p("url")}));
                return ok(json!({"id": id}));
            }
            let post_id = format!("{page}_{}", s.next(""));
            s.published.insert(post_id.clone(), json!(params));
            ok(json!({"id": id, "post_id": post_id}))
        }
        ("POST", [_page, "subscribed_apps"]) => ok(json!({"success": true})),
        // A Page video by URL (graph-video host): the id at once, processing afterwards.
        ("POST", [page, "videos"]) => {
            if p("file_url").is_empty() {
                return graph_error(400, 100, None, "(#100) file_url or an upload session is required");
            }
            let id = s.next("fbvideo-");
            let v = FbVideo {
                page: page.to_string(),
                reel: false,
                created: Instant::now(),
                problem: video_problem.map(|(_, why)| why),
                uploaded: true,
                finished: p("published") != "false",
            };
            s.videos.insert(id.clone(), v);
            s.published.insert(id.clone(), json!(params));
            ok(json!({"id": id}))
        }
        ("POST", [page, "video_reels"]) => match p("upload_phase").as_str() {
            "start" => {
                let id = s.next("fbreel-");
                let v = FbVideo {
                    page: page.to_string(),
                    reel: true,
                    created: Instant::now(),
                    problem: None,
                    uploaded: false,
                    finished: false,
                };
                s.videos.insert(id.clone(), v);
                let upload_url = format!("{}/rupload/video-upload/v25.0/{id}", s.base);
                ok(json!({"video_id": id, "upload_url": upload_url}))
            }
            "finish" => {
                let id = p("video_id");
                let Some(v) = s.videos.get_mut(&id).filter(|v| v.reel && v.page == *page) else {
                    return graph_error(400, 100, None, "(#100) Invalid video_id");
                };
                if !v.uploaded {
                    return graph_error(400, 100, Some(1363040), "The video has not been uploaded yet");
                }
                if p("video_state") != "PUBLISHED" {
                    return graph_error(400, 100, None, "(#100) video_state must be PUBLISHED in this fake");
                }
                v.finished = true;
                s.published.insert(id.clone(), json!(params));
                ok(json!({"success": true}))
            }
            _ => graph_error(400, 100, None, "(#100) upload_phase must be start or finish"),
        },
        ("POST", [ig, "media"]) => {
            let children = p("children");
            if p("media_type") == "CAROUSEL" {
                let ids: Vec<&str> = children.split(',').filter(|c| !c.is_empty()).collect();
                let max = s.limits.instagram_carousel_max;
                if !(2..=max).contains(&ids.len()) || ids.iter().any(|c| !s.containers.contains_key(*c)) {
                    return graph_error(
                        400,
                        100,
                        None,
                        &format!("(#100) The carousel needs 2 to {max} valid children"),
                    );
                }
            } else if p("image_url").is_empty() && p("video_url").is_empty() {
                return graph_error(400, 100, None, "(#100) image_url or video_url is required");
            }
            if p("caption").chars().count() > 2200 {
                return graph_error(400, 100, Some(2207010), "The caption is too long");
            }
            let id = s.next("container-");
            let container = Container {
                ig_user: ig.to_string(),
                created: Instant::now(),
                error: video_problem.is_some(),
                published: false,
                failure: video_problem,
            };
            s.containers.insert(id.clone(), container);
            ok(json!({"id": id}))
        }
        ("POST", [ig, "media_publish"]) => {
            let cid = p("creation_id");
            let delay = s.container_delay;
            let Some(c) = s.containers.get(&cid) else {
                return graph_error(400, 100, None, "(#100) Invalid creation_id");
            };
            if c.ig_user != *ig {
                return graph_error(400, 100, None, "(#100) The container belongs to another user");
            }
            if c.published {
                return graph_error(400, 100, None, "(#100) The container was already published");
            }
            if c.error || c.created.elapsed() < delay {
                return graph_error(400, 9007, Some(2207027), "The media is not ready for publishing, please wait");
            }
            if s.quota_usage >= s.quota_total {
                return graph_error(
                    400,
                    9,
                    Some(2207042),
                    "You reached the maximum number of posts allowed in 24 hours",
                );
            }
            s.quota_usage += 1;
            let media = s.next("ig-media-");
            if let Some(c) = s.containers.get_mut(&cid) {
                c.published = true;
            }
            s.published.insert(media.clone(), json!({"container": cid}));
            ok(json!({"id": media}))
        }
        ("GET", [_ig, "content_publishing_limit"]) => ok(json!({"data": [{"quota_usage": s.quota_usage,
            "config": {"quota_total": s.quota_total, "quota_duration": 86400}}]})),
        ("GET", [_id, "insights"]) => {
            let metrics = p("metric");
            let data: Vec<Value> = metrics
                .split(',')
                .filter(|m| !m.is_empty() && *m != "saved")
                .enumerate()
                .map(|(i, m)| {
                    json!({"name": m, "period": "lifetime", "values": [{"value": 10 + i as i64}],
                    "title": m, "id": format!("x/insights/{m}/lifetime")})
                })
                .collect();
            ok(json!({"data": data}))
        }
        // Editing and deleting a published post (or updating a video node's description).
        ("POST", [id]) | ("DELETE", [id]) | ("GET", [id]) if s.deleted.contains(*id) || !exists(s, id, method) => {
            graph_error(400, 100, Some(33), &no_such_object(id))
        }
        ("POST", [id]) => {
            if let Some(code) = s.not_editable.get(*id) {
                return graph_error(400, *code, None, &format!("(#{code}) This post cannot be edited"));
            }
            let (message, description) = (params.get("message"), params.get("description"));
            if message.is_none_or(|m| m.is_empty()) && description.is_none_or(|d| d.is_empty()) {
                return graph_error(400, 100, None, "(#100) Missing message or description");
            }
            let post = s.published.get_mut(*id).expect("exists() checked it");
            if let Some(m) = message {
                post["message"] = json!(m);
            }
            if let Some(d) = description {
                post["description"] = json!(d);
            }
            ok(json!({"success": true}))
        }
        ("DELETE", [id]) => {
            s.deleted.insert(id.to_string());
            ok(json!({"success": true}))
        }
        ("GET", [id]) => {
            let fields = p("fields");
            if let Some(c) = s.containers.get(*id) {
                let code = if c.published {
                    "PUBLISHED"
                } else if c.error {
                    "ERROR"
                } else if c.created.elapsed() >= s.container_delay {
                    "FINISHED"
                } else {
                    "IN_PROGRESS"
                };
                let status = match &c.failure {
                    Some((subcode, why)) => format!("Error: {why}. Error code {subcode}"),
                    None => code.to_owned(),
                };
                return ok(json!({"id": id, "status_code": code, "status": status}));
            }
            if let Some(v) = s.videos.get(*id) {
                let processed = v.uploaded && v.created.elapsed() >= s.container_delay;
                let (video_status, processing, publishing) = match (&v.problem, processed, v.finished) {
                    (Some(_), _, _) if v.uploaded => ("error", "error", "not_started"),
                    (_, false, _) => ("processing", "in_progress", "not_started"),
                    (_, true, false) => ("ready", "complete", "not_started"),
                    (_, true, true) => ("ready", "complete", "complete"),
                };
                let mut out = json!({"id": id, "status": {"video_status": video_status,
                    "uploading_phase": {"status": if v.uploaded { "complete" } else { "not_started" }},
                    "processing_phase": {"status": processing},
                    "publishing_phase": {"status": publishing, "publish_status": if publishing == "complete" { "published" } else { "draft" }}}});
                if let Some(why) = &v.problem {
                    out["status"]["processing_phase"]["errors"] = json!([{"code": 1363023, "message": why}]);
                }
                if p("fields").contains("permalink_url") {
                    out["permalink_url"] = json!(format!("https://www.facebook.com/{}/videos/{id}", v.page));
                }
                return ok(out);
            }
            let mut v = json!({"id": id});
            if fields.contains("permalink_url") {
                v["permalink_url"] = json!(format!("https://www.facebook.com/{id}"));
            }
            if fields.contains("permalink") {
                v["permalink"] = json!(format!("https://www.instagram.com/p/{id}/"));
            }
            if fields.contains("shares") {
                v["shares"] = json!({"count": 3});
                v["reactions"] = json!({"data": [], "summary": {"total_count": 12}});
                v["comments"] = json!({"data": [], "summary": {"total_count": 4}});
            }
            if fields.contains("followers_count") {
                v["followers_count"] = json!(1234);
            }
            if fields.contains("like_count") {
                v["like_count"] = json!(21);
                v["comments_count"] = json!(5);
            }
            if fields.contains("status_code") {
                v["status_code"] = json!("PUBLISHED");
            }
            ok(v)
        }
        _ => graph_error(400, 100, None, "(#100) Unsupported request in the fake Graph API"),
    }
}

/// Graph's answer for an id it does not have (or no longer has).
fn no_such_object(id: &str) -> String {
    format!(
        "Unsupported request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or \
         does not support this operation"
    )
}

/// Whether a one-segment request names something the fake has: a POST or DELETE only a published post (not an
/// unpublished photo), a GET anything (it answers reads of ids it never made, as before).
fn exists(s: &GraphState, id: &str, method: &str) -> bool {
    match method {
        "GET" => true,
        _ => s.published.get(id).is_some_and(|v| v["unpublished"].as_bool() != Some(true)),
    }
}

fn strip_version(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    if let Some((first, rest)) = trimmed.split_once('/') {
        let is_version = first.starts_with('v')
            && first.ends_with(".0")
            && first[1..first.len() - 2].chars().all(|c| c.is_ascii_digit())
            && first.len() > 3;
        if is_version {
            return format!("/{rest}");
        }
    }
    path.to_string()
}

fn unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::strip_version;

    #[test]
    fn any_graph_version_prefix_is_accepted() {
        assert_eq!(strip_version("/v25.0/me/accounts"), "/me/accounts");
        assert_eq!(strip_version("/v26.0/123/feed"), "/123/feed");
        assert_eq!(strip_version("/access_token"), "/access_token");
        assert_eq!(strip_version("/oauth/access_token"), "/oauth/access_token");
    }
}
