//! Keeping the process's resident memory close to what it really holds.
//!
//! glibc malloc keeps freed memory for reuse instead of returning it: a run
//! frees hundreds of MB of SDK response buffers while collecting and of
//! evaluation temporaries afterwards, and by default every thread gets its
//! own arena, so memory freed on one thread cannot serve another. At
//! Organization scale that slack was a third of the peak. Measured with
//! `cargo bench --bench org_scale`.

/// Once, before any thread starts: one malloc arena for all of collect's
/// threads, so memory freed by one is reused by the others instead of each
/// keeping its own. (Collect waits on the network; the lock costs nothing.)
pub fn tune_allocator() {
    set_arena_max(1);
}

/// After collect: returns what collect freed, then lets evaluation's threads
/// (rayon, one per CPU) take an arena each where none has been handed out
/// yet. glibc fixes the limit when a thread first asks for an arena: in
/// `fleetscan impact`, which starts no thread before, evaluation gets its
/// arenas (a root-level change at 10,000 apps: 3 s instead of 10); in
/// `scan`, collect's threads fixed it at one and evaluation shares it
/// (measured: the same peak and time with and without this call).
pub fn before_evaluation() {
    release_free_memory();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    set_arena_max(threads + 1);
}

/// Between stages: hands freed pages back to the operating system, so the
/// next stage starts from what is live rather than from the last stage's peak.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory malloc considers free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How many malloc arenas threads may spread over; existing ones stay valid.
fn set_arena_max(arenas: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, i32::try_from(arenas).unwrap_or(i32::MAX));
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = arenas;
}
