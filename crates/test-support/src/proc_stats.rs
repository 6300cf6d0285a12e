//! What benchmarks read about processes and threads from Linux's `/proc`:
//! peak resident memory and CPU seconds. Figures are `None` where `/proc`
//! does not answer (another OS), so a bench prints "n/a" instead of failing.

/// Peak resident set size of this process in KiB (`VmHWM`).
pub fn peak_rss_kb() -> Option<u64> {
    status_kb("/proc/self/status", "VmHWM:")
}

/// Peak resident set size of process `pid` in KiB (`VmHWM`): read it before
/// the process is reaped, `/proc` forgets it then.
pub fn peak_rss_kb_of(pid: u32) -> Option<u64> {
    status_kb(&format!("/proc/{pid}/status"), "VmHWM:")
}

/// Resident set size of process `pid` now, in KiB (`VmRSS`).
pub fn rss_kb_of(pid: u32) -> Option<u64> {
    status_kb(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// File descriptors process `pid` has open (entries of `/proc/<pid>/fd`;
/// another user's process answers `None`).
pub fn open_fds_of(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// CPU seconds all cores of the machine have spent `(busy, in total)` since
/// boot (`/proc/stat`); the difference of two readings says how busy the
/// machine was between them, whoever kept it busy.
pub fn machine_cpu_secs() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal (guest time is already
    // in user); idle and iowait are the idle part.
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    Some(((total - idle) as f64 / 100.0, total as f64 / 100.0))
}

/// A `kB` field of a `status` file.
fn status_kb(path: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets `VmHWM` to the current RSS (Linux 4.0+), so a phase's peak is its
/// own rather than the largest of everything before it.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU seconds (user + system) process `pid` (this one for `None`) has used.
pub fn cpu_secs(pid: Option<u32>) -> Option<f64> {
    let path = pid.map_or_else(|| "/proc/self/stat".to_owned(), |p| format!("/proc/{p}/stat"));
    stat_cpu_secs(&path)
}

/// The id of the calling thread, for [`thread_cpu_secs`] from another thread.
pub fn current_thread_id() -> Option<u32> {
    // `/proc/thread-self` links to `<pid>/task/<tid>`.
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// CPU seconds thread `tid` of this process has run, to the nanosecond
/// (`schedstat`; `stat` counts in 10 ms ticks, too coarse for one sync).
pub fn thread_cpu_secs(tid: u32) -> Option<f64> {
    schedstat_secs(&format!("/proc/self/task/{tid}/schedstat"))
}

/// CPU seconds the live threads of this process have run, to the
/// nanosecond. Threads that have exited are not counted, so measure spans in
/// which the runtime's threads stay up.
pub fn live_threads_cpu_secs() -> Option<f64> {
    let mut total = 0.0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        // A thread may exit between the listing and the read.
        total += schedstat_secs(&path.to_string_lossy()).unwrap_or(0.0);
    }
    Some(total)
}

/// The first field of a `schedstat` file: nanoseconds on a CPU.
fn schedstat_secs(path: &str) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos as f64 / 1e9)
}

/// `utime + stime` of a `stat` file; `/proc` counts in USER_HZ, which Linux
/// fixes at 100 for this interface (so figures have 10 ms resolution).
fn stat_cpu_secs(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name, which may itself contain spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_and_thread_have_figures_on_linux() {
        if !cfg!(target_os = "linux") {
            return;
        }
        assert!(peak_rss_kb().is_some_and(|kb| kb > 0));
        let me = std::process::id();
        assert_eq!(peak_rss_kb_of(me).map(|kb| kb > 0), Some(true));
        assert_eq!(rss_kb_of(me).map(|kb| kb > 0), Some(true));
        // stdin, stdout and stderr at least.
        assert!(machine_cpu_secs().is_some_and(|(busy, total)| busy > 0.0 && total >= busy));
        assert!(open_fds_of(me).is_some_and(|n| n >= 3), "{:?}", open_fds_of(me));
        assert!(cpu_secs(None).is_some());
        let tid = current_thread_id().expect("a thread id from /proc/thread-self");
        assert!(thread_cpu_secs(tid).is_some());
        assert!(live_threads_cpu_secs().is_some_and(|secs| secs > 0.0));
    }
}
