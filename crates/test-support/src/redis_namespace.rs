//! A Redis key prefix that exists for one test and is emptied after it.

/// A unique namespace; every key under it (and its entries in apalis'
/// global queue list) is deleted when this is dropped, even after a failed
/// assertion, so tests leave nothing behind in the shared Redis.
#[derive(Debug)]
pub struct RedisNamespace {
    url: String,
    name: String,
}

/// Where tests find Redis (`AMZSYNC_TEST_REDIS_URL` overrides).
pub fn redis_url() -> String {
    std::env::var("AMZSYNC_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

impl RedisNamespace {
    pub fn new(what: &str) -> Self {
        let name = format!(
            "amzsync-test-{what}-{}",
            ulid::Ulid::generate().to_string().to_ascii_lowercase()
        );
        RedisNamespace {
            url: redis_url(),
            name,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for RedisNamespace {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // A plain thread: Drop cannot await, and the test's runtime may be
        // shutting down.
        let cleaned = std::thread::spawn(move || -> redis::RedisResult<()> {
            let mut conn = redis::Client::open(url.as_str())?.get_connection()?;
            let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{name}:*")).query(&mut conn)?;
            if !keys.is_empty() {
                redis::cmd("DEL").arg(&keys).query::<()>(&mut conn)?;
            }
            // apalis-redis registers every queue in one global sorted set,
            // outside any prefix.
            let queues: Vec<String> = redis::cmd("ZRANGE")
                .arg("core:apalis:queues:list")
                .arg(0)
                .arg(-1)
                .query(&mut conn)?;
            let ours: Vec<&String> = queues.iter().filter(|q| q.starts_with(&name)).collect();
            if !ours.is_empty() {
                redis::cmd("ZREM")
                    .arg("core:apalis:queues:list")
                    .arg(ours)
                    .query::<()>(&mut conn)?;
            }
            Ok(())
        })
        .join();
        if !matches!(cleaned, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("cleaning the test's Redis keys failed: {cleaned:?}");
        }
    }
}
