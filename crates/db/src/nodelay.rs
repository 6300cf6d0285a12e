//! `TCP_NODELAY` on PostgreSQL connections, which sqlx 0.9.0 leaves off.
//!
//! sqlx 0.9.0 stopped disabling Nagle's algorithm on its TCP sockets (sqlx
//! issue 4335; fixed upstream after 0.9.0, not released yet). With Nagle on,
//! the last segment of a statement that leaves in several (a bulk insert's
//! arrays) waits for the server's delayed acknowledgement, up to 40 ms on
//! Linux. In the fleet bench one worker synced 100 stores in 16.6 s over
//! loopback TCP and in 11.7 s over the Unix socket.
//!
//! Until sqlx sets the option again, each new connection asks the server
//! which client port it sees (`inet_client_port()`), finds the socket bound to
//! it among this process's descriptors, and sets the option on it. The socket
//! is reached through a duplicate of its descriptor made by `pidfd_getfd`
//! (Linux 5.6), which this code then owns: no descriptor it does not own is
//! ever touched, so it needs no `unsafe`. Where that is not possible (another
//! OS, an older kernel, a seccomp profile that refuses the call, a pooler or
//! NAT between us and the server) the connection works as before, with Nagle
//! on; `docs/deployment.md` says to prefer the Unix socket on the database's
//! own machine either way.

use sqlx::PgConnection;

/// Sets `TCP_NODELAY` on `conn`'s socket when it is TCP; a Unix-socket
/// connection has nothing to set. Failures are logged, never returned: the
/// option is an optimisation, and the connection is good without it.
pub(crate) async fn set(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let (client_port, server_port): (Option<i32>, Option<i32>) =
        sqlx::query_as("SELECT inet_client_port(), inet_server_port()")
            .fetch_one(&mut *conn)
            .await?;
    let (Some(client), Some(server)) = (port(client_port), port(server_port)) else {
        return Ok(());
    };
    match set_on_socket(client, server) {
        Ok(0) => tracing::debug!(
            client_port = client,
            "no socket of this process matches the PostgreSQL connection (a pooler or NAT between?); TCP_NODELAY left off"
        ),
        Ok(_) => {}
        Err(e) => tracing::debug!(error = %e, "could not set TCP_NODELAY on the PostgreSQL connection"),
    }
    Ok(())
}

fn port(p: Option<i32>) -> Option<u16> {
    p.and_then(|p| u16::try_from(p).ok())
}

/// Sets `TCP_NODELAY` on every TCP socket of this process from local port
/// `local` to remote port `remote`; returns how many there were.
#[cfg(target_os = "linux")]
fn set_on_socket(local: u16, remote: u16) -> std::io::Result<usize> {
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

    let me = pidfd_open(getpid(), PidfdFlags::empty())?;
    let mut set = 0;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Some(fd) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        // A descriptor closed (or reused) since the listing is duplicated as
        // whatever it is now, or not at all; the address check below sorts it.
        let Ok(dup) = pidfd_getfd(&me, fd, PidfdGetfdFlags::empty()) else {
            continue;
        };
        let socket = std::net::TcpStream::from(dup);
        if matches(socket.local_addr(), local) && matches(socket.peer_addr(), remote) {
            socket.set_nodelay(true)?;
            set += 1;
        }
    }
    Ok(set)
}

#[cfg(not(target_os = "linux"))]
fn set_on_socket(_local: u16, _remote: u16) -> std::io::Result<usize> {
    Ok(0)
}

#[cfg(target_os = "linux")]
fn matches(addr: std::io::Result<std::net::SocketAddr>, port: u16) -> bool {
    addr.is_ok_and(|a| a.port() == port)
}
