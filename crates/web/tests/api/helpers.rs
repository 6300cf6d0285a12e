//! `TestApp`: one server with its own database, and typed calls to it.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use amzsync_db::{Db, Engine as DbEngine, Scope, User};
use amzsync_domain::{ErrorClass, StoreId, SyncTaskId};
use amzsync_jobs::{Backend, Queue};
use amzsync_sync::{AmazonSettings, Engine, QUEUE, SyncSettings};
use amzsync_test_support::TestDb;
use amzsync_web::AppState;
use chrono::{DateTime, Utc};
use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub db: TestDb,
    pub base: String,
    pub client: reqwest::Client,
    pub user: User,
    pub token: String,
    /// The real sync engine, its queue in the test database. No worker runs:
    /// triggered jobs stay queued and tasks pending.
    pub engine: Engine,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A response read whole: status, headers and body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the one error shape, its status, code and (when given) field.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "an error is JSON: {}",
            self.text
        );
        let body = self.json();
        let error = &body["error"];
        assert_eq!(error["code"], code, "{body}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
        match field {
            Some(f) => assert_eq!(error["field"], f, "{body}"),
            None => assert!(error.get("field").is_none(), "{body}"),
        }
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::start(TestDb::sqlite().await).await
    }

    /// The same with the database's clock (so the engine's and the API's)
    /// held at `now`.
    pub async fn sqlite_at(now: DateTime<Utc>) -> Self {
        Self::start(TestDb::sqlite().await.at(now)).await
    }

    pub async fn start(db: TestDb) -> Self {
        let engine = engine_on(&db.db).await;
        Self::start_with(db, engine).await
    }

    /// A server whose engine was built by the test (its queue elsewhere).
    pub async fn start_with(db: TestDb, engine: Engine) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        capture_logs();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a free port");
        let base = format!("http://{}", listener.local_addr().expect("a bound address"));
        let state = AppState::new(db.db.clone(), engine.clone());
        let shutdown = CancellationToken::new();
        tokio::spawn(amzsync_web::serve(listener, state, shutdown.clone()));
        let (user, token) = tenant(&db, "alice", false).await;
        TestApp {
            db,
            base,
            client: reqwest::Client::new(),
            user,
            token,
            engine,
            shutdown,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db.db
    }

    /// Another user with a token of their own.
    pub async fn tenant(&self, name: &str) -> (User, String) {
        tenant(&self.db, name, false).await
    }

    /// An admin user with a token.
    pub async fn admin(&self) -> (User, String) {
        tenant(&self.db, "root", true).await
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    pub fn request_as(&self, token: &str, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    pub async fn get(&self, path: &str) -> Reply {
        send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        send(self.request(Method::POST, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        send(self.request(Method::PATCH, path).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        send(self.request(Method::DELETE, path)).await
    }

    /// A US store of the caller, made in the database.
    pub async fn store(&self, seller: &str) -> StoreId {
        amzsync_test_support::create_store(self.db(), self.user.id, seller)
            .await
            .id
    }

    /// `POST /stores/{id}/sync/{kind}` with an optional body.
    pub async fn trigger(&self, store: StoreId, kind: &str, body: Option<Value>) -> Reply {
        let request = self.request(
            Method::POST,
            &format!("/api/v1/amazon/stores/{store}/sync/{kind}"),
        );
        send(match body {
            Some(b) => request.json(&b),
            None => request,
        })
        .await
    }

    /// Triggers a sync and returns its task id.
    pub async fn triggered(&self, store: StoreId, kind: &str) -> SyncTaskId {
        let reply = self.trigger(store, kind, None).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        reply.json()["task_id"].as_str().unwrap().parse().unwrap()
    }

    /// Runs a task to failure in the database, as a worker would.
    pub async fn fail(&self, task: SyncTaskId, class: ErrorClass, message: &str) {
        let tasks = self.db().sync_tasks();
        let lease = chrono::Utc::now() + chrono::Duration::minutes(5);
        tasks
            .claim(task, "test-worker", lease)
            .await
            .unwrap()
            .expect("a pending task");
        tasks.fail(task, class, message).await.unwrap();
    }

    /// Runs a task to success in the database, as a worker would.
    pub async fn succeed(&self, task: SyncTaskId, synced: i64, failed: i64) {
        let tasks = self.db().sync_tasks();
        let lease = chrono::Utc::now() + chrono::Duration::minutes(5);
        tasks
            .claim(task, "test-worker", lease)
            .await
            .unwrap()
            .expect("a pending task");
        tasks.succeed(task, synced, failed).await.unwrap();
    }

    /// Jobs waiting in the engine's queue (due now or later), none of them
    /// taken: no worker runs in these tests.
    pub async fn queued_jobs(&self) -> u64 {
        let stats = self
            .engine
            .queue()
            .stats(chrono::Utc::now())
            .await
            .expect("the queue answers");
        assert_eq!(stats.running, 0, "no worker runs here");
        stats.pending + stats.scheduled
    }

    pub async fn task_status(&self, task: SyncTaskId) -> String {
        let t = self.db().sync_tasks().get(Scope::All, task).await.unwrap();
        t.status.as_str().to_owned()
    }
}

/// The sync engine on `db`, its queue in the same database (SQLite file or
/// PostgreSQL database), set up; default settings, no Amazon endpoints.
pub async fn engine_on(db: &Db) -> Engine {
    let backend = match db.engine() {
        DbEngine::Sqlite => Backend::Sqlite(db.sqlite_pool().expect("an SQLite pool").clone()),
        DbEngine::Postgres => Backend::Postgres(db.postgres_pool().expect("a PostgreSQL pool").clone()),
    };
    let queue = Queue::connect(backend, QUEUE)
        .await
        .expect("connecting the queue");
    queue.setup().await.expect("setting up the queue");
    Engine::new(
        db.clone(),
        queue,
        AmazonSettings::default(),
        SyncSettings::default(),
    )
    .expect("default settings build an engine")
}

pub async fn send(request: RequestBuilder) -> Reply {
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    Reply {
        status,
        headers,
        text,
    }
}

async fn tenant(db: &TestDb, name: &str, is_admin: bool) -> (User, String) {
    let user = db.users().create(name, is_admin).await.expect("creating a user");
    let (_, secret) = db
        .tokens()
        .create(user.id, "tests")
        .await
        .expect("creating a token");
    (user, secret.expose_secret().to_owned())
}

/// Everything logged in this process (nextest runs each test in its own).
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter("debug")
            .with_writer(|| LogWriter)
            .try_init();
    });
}
