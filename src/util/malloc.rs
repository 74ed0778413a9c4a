//! How the C allocator is set up before the first thread starts.

/// Malloc arenas this process may use, unless `MALLOC_ARENA_MAX` says otherwise.
///
/// glibc gives each new thread an arena of its own, up to eight per core. The
/// console's dozen threads (runtime workers, probes, the store, the input
/// reader) then each hold a few hundred KB of freed memory, and memory freed
/// on one thread and reused on another spreads in all of them: the demo's
/// private memory crept by about 2 MiB an hour across nine arenas. Two arenas
/// keep that in one place: 0.7-0.9 MiB less resident in the demo.
const ARENAS: i32 = 2;

/// Where glibc reads its allocator settings from, once, as the process starts.
const TUNABLES: &str = "GLIBC_TUNABLES";
/// glibc's per-thread caches of freed blocks, turned off.
const NO_THREAD_CACHE: &str = "glibc.malloc.tcache_count=0";
/// Set on the second start: what GLIBC_TUNABLES held before ("-" when it was unset).
const ORIGINAL: &str = "FIRSTWATCH_GLIBC_TUNABLES";

/// Sets the allocator up; call first thing in `main`, before any thread exists.
///
/// Each thread keeps up to seven freed blocks of every small size for itself
/// (glibc's tcache), which the other threads and the arenas cannot reuse or
/// merge. Over a night the demo's private memory grew by about a megabyte as
/// those caches filled and split the heap around them; without them it is
/// 1.1 MiB smaller and levels off within a quarter of an hour. glibc takes
/// that setting only from the environment as a process starts, so the first
/// start sets it and executes the same binary again, which gives the
/// environment back as it was before anything else runs: commands started
/// later see GLIBC_TUNABLES as the user left it. A user who sets the thread
/// cache in GLIBC_TUNABLES keeps their own choice.
pub fn set_up() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if let Some(original) = std::env::var_os(ORIGINAL) {
            restore_environment(original);
        } else if !std::env::var_os(TUNABLES)
            .is_some_and(|tunables| tunables.to_string_lossy().contains("glibc.malloc.tcache_count"))
        {
            start_again_without_thread_caches();
        }
    }
    limit_arenas();
}

/// Limits the arenas to [`ARENAS`], unless `MALLOC_ARENA_MAX` says otherwise;
/// call before any thread exists.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other thread is running yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}

/// Executes this binary again with the thread caches off; returns only if that failed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn start_again_without_thread_caches() {
    use std::ffi::OsString;
    use std::os::unix::process::CommandExt;
    let original = std::env::var_os(TUNABLES);
    let mut tunables = original.clone().unwrap_or_default();
    if !tunables.is_empty() {
        tunables.push(":");
    }
    tunables.push(NO_THREAD_CACHE);
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| OsString::from("firstwatch"));
    let error = std::process::Command::new("/proc/self/exe")
        .arg0(argv0)
        .args(args)
        .env(TUNABLES, tunables)
        .env(ORIGINAL, original.map_or_else(|| OsString::from("-"), |value| prefixed("=", value)))
        .exec();
    // Not fatal: the console runs as well with the caches, in a little more memory.
    let _ = error;
}

/// `prefix` followed by `value`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn prefixed(prefix: &str, value: std::ffi::OsString) -> std::ffi::OsString {
    let mut text = std::ffi::OsString::from(prefix);
    text.push(value);
    text
}

/// Puts GLIBC_TUNABLES back as it was before the first start, now that glibc has read it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn restore_environment(original: std::ffi::OsString) {
    use std::os::unix::ffi::OsStrExt;
    let bytes = original.as_bytes();
    // SAFETY: no other thread exists yet to read the environment while it changes.
    unsafe {
        std::env::remove_var(ORIGINAL);
        match bytes.split_first() {
            Some((b'=', value)) => std::env::set_var(TUNABLES, std::ffi::OsStr::from_bytes(value)),
            _ => std::env::remove_var(TUNABLES),
        }
    }
}
