//! `TCP_NODELAY` on PostgreSQL connections, which sqlx 0.9.0 leaves off.
//!
//! sqlx 0.9.0 stopped disabling Nagle's algorithm on its TCP sockets (sqlx
//! issue 4335; fixed upstream after 0.9.0, not released yet). With Nagle on,
//! the last segment of a statement that leaves in several (a bulk load's rows)
//! waits for the server's delayed acknowledgement, up to 40 ms on Linux. In
//! the fleet bench one worker synced 100 stores in 16.6 s over loopback TCP,
//! and in 10.9 s with the option set (11.7 s over the Unix socket).
//!
//! Until sqlx sets the option again, each new connection sets it on every TCP
//! socket of this process whose peer port is the database's. The sockets are
//! reached through duplicates of their descriptors made by `pidfd_getfd`
//! (Linux 5.6), which this code then owns and closes: no descriptor it does
//! not own is touched, so it needs no `unsafe`, and only sockets are
//! duplicated (closing a duplicate of a file would drop the process's
//! `fcntl` locks on it). Where the call is refused (another OS, an older
//! kernel, Docker's default seccomp profile) it warns once and the
//! connections work as before, with Nagle on. The systemd units in
//! `docs/deploy/systemd` allow the call.

#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once `pidfd_getfd` has been refused: no later connection tries again.
#[cfg(target_os = "linux")]
static REFUSED: AtomicBool = AtomicBool::new(false);

/// Sets `TCP_NODELAY` on this process's TCP sockets to port `port`, which the
/// connection just made is one of. Never fails: the option is an
/// optimisation, and a connection is good without it.
#[cfg(target_os = "linux")]
pub(crate) fn set(port: u16) {
    if REFUSED.load(Ordering::Relaxed) {
        return;
    }
    match set_on_sockets_to(port) {
        Ok(0) => tracing::debug!(
            port,
            "no TCP socket to the database's port found; TCP_NODELAY not set"
        ),
        Ok(_) => {}
        Err(e) => {
            if !REFUSED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    error = %e,
                    "cannot set TCP_NODELAY on the PostgreSQL connections (pidfd_getfd refused): \
                     bulk statements over TCP may wait for delayed acknowledgements; \
                     see docs/deployment.md"
                );
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn set(_port: u16) {}

/// Sets the option on every TCP socket of this process whose peer port is
/// `port`; returns how many there were.
#[cfg(target_os = "linux")]
fn set_on_sockets_to(port: u16) -> std::io::Result<usize> {
    use rustix::io::Errno;
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

    let me = pidfd_open(getpid(), PidfdFlags::empty())?;
    let mut set = 0;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let entry = entry?;
        // "socket:[inode]"; a descriptor closed since the listing has none.
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.as_os_str().as_encoded_bytes().starts_with(b"socket:"));
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse().ok())
            .filter(|_| is_socket)
        else {
            continue;
        };
        // One closed (or reused) since is duplicated as whatever it is now,
        // or not at all; the peer check sorts it.
        let dup = match pidfd_getfd(&me, fd, PidfdGetfdFlags::empty()) {
            Ok(dup) => dup,
            Err(Errno::BADF) => continue,
            Err(e) => return Err(e.into()),
        };
        let socket = std::net::TcpStream::from(dup);
        if socket.peer_addr().is_ok_and(|peer| peer.port() == port) && socket.set_nodelay(true).is_ok() {
            set += 1;
        }
    }
    Ok(set)
}
