//! How the C allocator is set up before the first thread starts.

/// Malloc arenas this process may use, unless `MALLOC_ARENA_MAX` says otherwise.
///
/// glibc gives each new thread an arena of its own, up to eight per core. The
/// console's dozen threads (runtime workers, probes, the store, the input
/// reader) then each hold a few hundred KB of freed memory, and memory freed
/// on one thread and reused on another spreads in all of them: the demo's
/// private memory crept by about 2 MiB an hour across nine arenas. Two arenas
/// keep that in one place: 0.7-0.9 MiB less resident in the demo. The threads
/// rarely allocate at once, and each keeps its own cache of small blocks.
const ARENAS: i32 = 2;

/// Limits the arenas; call first thing in `main`, before any thread exists.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other thread is running yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}
