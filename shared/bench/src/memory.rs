//! Peak resident memory of this process (Linux `VmHWM`), for scenarios run in a child process so
//! each figure is the peak of that work alone.

/// Peak resident set size in MiB, if the platform reports it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
