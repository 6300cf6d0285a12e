//! `TestApp` for the dashboard: one server with its own database, a signed-in
//! user, and calls that carry (or leave out) the session cookie.

use amzsync_db::{Db, NewSyncTask, User};
use amzsync_domain::{ErrorClass, StoreId, SyncKind, SyncTaskId, Trigger};
use amzsync_jobs::{Backend, Queue};
use amzsync_sync::{AmazonSettings, Engine, QUEUE, SyncSettings};
use amzsync_test_support::TestDb;
use amzsync_web::AppState;
use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, StatusCode};
use secrecy::ExposeSecret;
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

/// A response read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location: {} {}", self.status, self.text))
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text);
        self
    }

    #[track_caller]
    pub fn assert_contains(&self, needle: &str) -> &Self {
        assert!(
            self.text.contains(needle),
            "expected {needle:?} in:\n{}",
            self.text
        );
        self
    }

    #[track_caller]
    pub fn assert_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.text.contains(needle),
            "did not expect {needle:?} in:\n{}",
            self.text
        );
        self
    }

    /// How many times `needle` occurs.
    pub fn count(&self, needle: &str) -> usize {
        self.text.matches(needle).count()
    }

    #[track_caller]
    pub fn assert_redirect(&self, to: &str) {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.text);
        assert_eq!(self.location(), to);
    }
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::start(TestDb::sqlite().await).await
    }

    /// The same with the database's clock (so the engine's and the pages')
    /// held at `now`.
    pub async fn sqlite_at(now: DateTime<Utc>) -> Self {
        Self::start(TestDb::sqlite().await.at(now)).await
    }

    async fn start(db: TestDb) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a free port");
        let base = format!("http://{}", listener.local_addr().expect("a bound address"));
        let engine = engine_on(&db.db).await;
        let state = AppState::new(db.db.clone(), engine.clone());
        let shutdown = CancellationToken::new();
        tokio::spawn(amzsync_web::serve(listener, state, shutdown.clone()));
        let (user, token) = tenant(&db, "alice").await;
        TestApp {
            db,
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
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
        tenant(&self.db, name).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the session cookie of `token`.
    pub fn request_as(&self, token: &str, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("cookie", format!("amzsync_session={token}"))
    }

    /// A GET of the signed-in user.
    pub async fn get(&self, path: &str) -> Page {
        send(self.request_as(&self.token, reqwest::Method::GET, path)).await
    }

    /// A GET of the signed-in user, in Chinese.
    pub async fn get_zh(&self, path: &str) -> Page {
        send(
            self.request_as(&self.token, reqwest::Method::GET, path)
                .header("cookie", "amzsync_lang=zh-CN"),
        )
        .await
    }

    /// A GET without any cookie.
    pub async fn get_signed_out(&self, path: &str) -> Page {
        send(self.client.get(self.url(path))).await
    }

    /// A form post of the signed-in user.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Page {
        send(
            self.request_as(&self.token, reqwest::Method::POST, path)
                .form(form),
        )
        .await
    }

    /// A post as the dashboard's script sends it.
    pub async fn post_fetch(&self, path: &str) -> Page {
        send(
            self.request_as(&self.token, reqwest::Method::POST, path)
                .header("x-amzsync-fetch", "1"),
        )
        .await
    }

    /// A US store of the signed-in user, made in the database.
    pub async fn store(&self, seller: &str) -> StoreId {
        amzsync_test_support::create_store(self.db(), self.user.id, seller)
            .await
            .id
    }

    /// A pending task recorded directly in the database.
    pub async fn pending(&self, store: StoreId, kind: SyncKind) -> SyncTaskId {
        let ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap();
        let new = NewSyncTask {
            id: SyncTaskId::new(ms, rand_id()),
            store_id: store,
            kind,
            trigger: Trigger::Scheduled,
            window: None,
        };
        self.db()
            .sync_tasks()
            .create(&new)
            .await
            .expect("recording a task")
            .id
    }

    /// A task run to success, as a worker would.
    pub async fn succeeded(&self, store: StoreId, kind: SyncKind, synced: i64) -> SyncTaskId {
        let id = self.pending(store, kind).await;
        self.claim(id).await;
        self.db().sync_tasks().succeed(id, synced, 0).await.unwrap();
        id
    }

    /// A task run to failure, as a worker would.
    pub async fn failed(
        &self,
        store: StoreId,
        kind: SyncKind,
        class: ErrorClass,
        message: &str,
    ) -> SyncTaskId {
        let id = self.pending(store, kind).await;
        self.claim(id).await;
        self.db().sync_tasks().fail(id, class, message).await.unwrap();
        id
    }

    /// Jobs waiting in the engine's queue; none is taken (no worker runs).
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

    async fn claim(&self, id: SyncTaskId) {
        let lease = chrono::Utc::now() + chrono::Duration::minutes(5);
        self.db()
            .sync_tasks()
            .claim(id, "test-worker", lease)
            .await
            .unwrap()
            .expect("a pending task");
    }
}

/// The sync engine on the test's SQLite file, its queue in the same file.
async fn engine_on(db: &Db) -> Engine {
    let pool = db.sqlite_pool().expect("an SQLite pool").clone();
    let queue = Queue::connect(Backend::Sqlite(pool), QUEUE)
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

fn rand_id() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    u128::from(NEXT.fetch_add(1, Ordering::Relaxed)) << 40 | u128::from(std::process::id())
}

pub async fn send(request: RequestBuilder) -> Page {
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    Page {
        status,
        headers,
        text,
    }
}

async fn tenant(db: &TestDb, name: &str) -> (User, String) {
    let user = db.users().create(name, false).await.expect("creating a user");
    let (_, secret) = db
        .tokens()
        .create(user.id, "tests")
        .await
        .expect("creating a token");
    (user, secret.expose_secret().to_owned())
}
