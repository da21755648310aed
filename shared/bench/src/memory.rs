//! What this process has used: its peak resident memory (Linux `VmHWM`, for scenarios run in a
//! child process so each figure is the peak of that work alone) and its CPU time.

/// Peak resident set size in MiB, if the platform reports it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time (user + system) this process has used so far, over all its threads (also those that
/// have ended: the store's row builders are scoped threads).
pub fn cpu_time() -> std::time::Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    std::time::Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    #[test]
    fn the_cpu_clock_counts_this_process_working() {
        let before = super::cpu_time();
        assert!(
            before > Duration::ZERO,
            "a running process has used some CPU"
        );
        // Busy until the clock has moved 10 ms (a deadline, not a timing assertion: a clock that
        // never moves fails instead of hanging).
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut spins = 0u64;
        while super::cpu_time() < before + Duration::from_millis(10) && Instant::now() < deadline {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
        assert!(super::cpu_time() >= before + Duration::from_millis(10));
    }
}
