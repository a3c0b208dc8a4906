//! A stand-in for the web service's media URLs, so that the fake platforms fetch images over HTTP as the real ones
//! fetch them from tochen: `/media/{tenant}/{media}` serves a stored media row's file (from the store and the data
//! directory, with the row's content type), and `/files/{name}` serves bytes a test put there.
//!
//! The signature and expiry in the query are ignored: the web service's own tests check those. Point
//! `TOCHEN_PUBLIC_URL` at [`MediaHost::base_url`], or use [`MediaHost::url`] as the scheduler's media URL builder.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tochen_domain::{MediaId, TenantId};
use tochen_store::Store;

/// Bytes put by a test, by name: (content type, body).
type Files = HashMap<String, (String, Vec<u8>)>;

#[derive(Clone)]
struct HostState {
    stored: Option<(Store, PathBuf)>,
    files: Arc<Mutex<Files>>,
    fetched: Arc<Mutex<Vec<String>>>,
}

/// A running media host on 127.0.0.1; stops when dropped.
pub struct MediaHost {
    base: String,
    state: HostState,
    _task: crate::fake_server::ServerTask,
}

impl MediaHost {
    /// A host of stored media (`store` rows, files under `data_dir`) and of bytes put with [`MediaHost::put`].
    pub async fn start(store: Option<Store>, data_dir: PathBuf) -> Self {
        let state = HostState { stored: store.map(|s| (s, data_dir)), files: Arc::default(), fetched: Arc::default() };
        let app = Router::new()
            .route("/media/{tenant}/{media}", get(stored))
            .route("/files/{name}", get(file))
            .with_state(state.clone());
        let (base, task) = crate::fake_server::serve(app).await;
        Self { base, state, _task: task }
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    /// The URL of a stored media row.
    pub fn url(&self, tenant: TenantId, media: &str) -> String {
        format!("{}/media/{tenant}/{media}", self.base)
    }

    /// Serves `bytes` as `content_type` at the returned URL.
    pub fn put(&self, name: &str, content_type: &str, bytes: Vec<u8>) -> String {
        self.state.files.lock().unwrap().insert(name.to_owned(), (content_type.to_owned(), bytes));
        format!("{}/files/{name}", self.base)
    }

    /// The paths fetched so far, in order.
    pub fn fetched(&self) -> Vec<String> {
        self.state.fetched.lock().unwrap().clone()
    }
}

fn bytes(content_type: String, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn file(State(s): State<HostState>, Path(name): Path<String>) -> Response {
    s.fetched.lock().unwrap().push(format!("/files/{name}"));
    match s.files.lock().unwrap().get(&name).cloned() {
        Some((ct, body)) => bytes(ct, body),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn stored(State(s): State<HostState>, Path((tenant, media)): Path<(String, String)>) -> Response {
    s.fetched.lock().unwrap().push(format!("/media/{tenant}/{media}"));
    let (Some((store, dir)), Some(tenant), Some(media)) = (&s.stored, TenantId::parse(&tenant), MediaId::parse(&media))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(row) = store.media(tenant, media).await else { return StatusCode::NOT_FOUND.into_response() };
    match tokio::fs::read(dir.join(&row.info.storage_path)).await {
        Ok(body) => bytes(row.info.content_type, body),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
