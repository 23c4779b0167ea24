//! Keeping the process's resident memory close to what it really holds.
//!
//! glibc malloc keeps freed memory for reuse instead of returning it: a run
//! frees hundreds of MB of SDK response buffers while collecting and of
//! evaluation temporaries afterwards, and by default every thread gets its
//! own arena, so memory freed on one thread cannot serve another. At
//! Organization scale that slack was a third of the peak. Measured with
//! `cargo bench --bench org_scale`.

/// Once, before any thread starts: one malloc arena for all threads. Each
/// thread's cache of small chunks stays, so contention is low; memory freed by
/// the SDK's worker threads becomes reusable by evaluation's threads.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
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
