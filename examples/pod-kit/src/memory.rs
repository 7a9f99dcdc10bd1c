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

/// Pins glibc's mmap threshold (a no-op elsewhere); false if glibc
/// refused.
///
/// # Safety
/// `mallopt` is not thread-safe (glibc: `MT-Unsafe init`): call this
/// before any other thread exists, first thing in a synchronous `main`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) unsafe fn release_large_blocks() -> bool {
    // SAFETY: the caller guarantees no other thread runs; the option and
    // value are valid for glibc's mallopt.
    unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) == 1 }
}

/// Pins glibc's mmap threshold (a no-op elsewhere).
///
/// # Safety
/// None needed here; the same contract as on glibc for symmetry.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
#[allow(unsafe_code)]
pub(crate) unsafe fn release_large_blocks() -> bool {
    true
}
