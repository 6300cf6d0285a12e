//! PostgreSQL connections over TCP send each statement at once: Nagle's
//! algorithm is off (sqlx 0.9.0 leaves it on; `nodelay.rs` in the crate).

use amzsync_test_support::TestDb;

/// The suite's database URL is TCP (`scripts/test.sh`: 127.0.0.1), so the
/// pool's connections are TCP sockets of this process.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_postgres_connection_over_tcp_has_nagle_off() {
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

    let db = TestDb::postgres().await;
    let pool = db.postgres_pool().expect("a PostgreSQL database");
    let mut conn = pool.acquire().await.expect("a connection");
    let port: Option<i32> = sqlx::query_scalar("SELECT inet_client_port()")
        .fetch_one(&mut *conn)
        .await
        .expect("asking for the client port");
    let port = port.expect("the test database URL is TCP, not a Unix socket");

    let me = pidfd_open(getpid(), PidfdFlags::empty()).expect("a pidfd of this process");
    let sockets: Vec<std::net::TcpStream> = std::fs::read_dir("/proc/self/fd")
        .expect("listing this process's descriptors")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter_map(|fd| pidfd_getfd(&me, fd, PidfdGetfdFlags::empty()).ok())
        .map(std::net::TcpStream::from)
        .filter(|s| s.local_addr().is_ok_and(|a| i32::from(a.port()) == port))
        .collect();
    assert_eq!(sockets.len(), 1, "one socket of this process is the connection's");
    assert!(
        sockets[0].nodelay().expect("reading TCP_NODELAY"),
        "TCP_NODELAY is set"
    );
}
