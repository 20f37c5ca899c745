//! A small JSON API with axum on tokio's multi-thread runtime, written as any axum
//! service is: a few routes, a path parameter, a JSON body, shared state.
//!
//! - `GET /` — a greeting
//! - `GET /notes` — every note
//! - `POST /notes` with `{"text": "..."}` — adds a note, answers it with its id (201)
//! - `GET /notes/{id}` — one note, or 404
//! - `DELETE /notes/{id}` — removes it (204), or 404
//! - `GET /echo?TEXT` — `TEXT` and a newline (what the load test asks)
//! - `GET /stats` — requests served and the heap in use (`served=… heap_in_use=… allocations=…`)

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Serialize)]
struct Note {
    id: u64,
    text: String,
}

#[derive(Deserialize)]
struct NewNote {
    text: String,
}

#[derive(Default)]
struct Notes {
    next_id: AtomicU64,
    served: AtomicU64,
    notes: Mutex<BTreeMap<u64, Note>>,
}

type Shared = State<Arc<Notes>>;

async fn greeting(State(notes): Shared) -> &'static str {
    notes.served.fetch_add(1, Ordering::Relaxed);
    "hello from axum on unik\n"
}

async fn list(State(notes): Shared) -> Json<Vec<Note>> {
    notes.served.fetch_add(1, Ordering::Relaxed);
    Json(notes.notes.lock().unwrap().values().cloned().collect())
}

async fn create(State(notes): Shared, Json(new): Json<NewNote>) -> (StatusCode, Json<Note>) {
    notes.served.fetch_add(1, Ordering::Relaxed);
    let id = notes.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let note = Note { id, text: new.text };
    notes.notes.lock().unwrap().insert(id, note.clone());
    (StatusCode::CREATED, Json(note))
}

async fn read(State(notes): Shared, Path(id): Path<u64>) -> Result<Json<Note>, StatusCode> {
    notes.served.fetch_add(1, Ordering::Relaxed);
    notes
        .notes
        .lock()
        .unwrap()
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

async fn delete(State(notes): Shared, Path(id): Path<u64>) -> StatusCode {
    notes.served.fetch_add(1, Ordering::Relaxed);
    match notes.notes.lock().unwrap().remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

async fn echo(State(notes): Shared, RawQuery(text): RawQuery) -> String {
    notes.served.fetch_add(1, Ordering::Relaxed);
    format!("{}\n", text.unwrap_or_default())
}

async fn stats(State(notes): Shared) -> String {
    let served = notes.served.fetch_add(1, Ordering::Relaxed) + 1;
    let heap = unik::heap::stats();
    format!(
        "served={served} heap_in_use={} allocations={}\n",
        heap.in_use, heap.allocations
    )
}

#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/", get(greeting))
        .route("/notes", get(list).post(create))
        .route("/notes/{id}", get(read).delete(delete))
        .route("/echo", get(echo))
        .route("/stats", get(stats))
        .with_state(Arc::new(Notes::default()));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.expect("bind 8080");
    println!("axum: listening on {}", listener.local_addr().expect("address"));
    axum::serve(listener, app).await.expect("serve");
}
