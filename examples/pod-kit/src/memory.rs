//! Keeping a pod's resident memory at what serving needs.
//!
//! argon2id hashes every password with 19 MiB of working memory (the
//! OWASP-recommended cost), once per `create-user` and per login. glibc
//! serves a first allocation that large with `mmap` and unmaps it when
//! freed, but then raises its mmap threshold to that size, so every later
//! hash comes from a malloc arena and stays resident after it is freed: a
//! pod that checked one password would keep ~20 MiB it never uses again.
//! Pinning the threshold at its default keeps large blocks on `mmap`, so
//! they go back to the system after each hash.

/// Pins glibc's mmap threshold (a no-op elsewhere). Call once, early.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_large_blocks() {
    // SAFETY: `mallopt` only sets an allocator parameter; it is
    // thread-safe and called with a valid option and value.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Pins glibc's mmap threshold (a no-op elsewhere). Call once, early.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_large_blocks() {}
