//! Link-time choices for release binaries built where they will run.
//!
//! Symbols are dropped by the linker (`--strip-all`) unless
//! FIRSTWATCH_KEEP_SYMBOLS is set, which link/record-hot-functions.sh needs.
//!
//! Relocations are packed (`-z pack-relative-relocs`, DT_RELR): about 0.4 MB
//! smaller, and fewer pages read at every start. Only where the C library that
//! will run the binary applies them: glibc before 2.36 ignores DT_RELR, and a
//! binary whose relocations are skipped crashes. The binary runs where it was
//! built (`cargo run`, `cargo install`), so the build host's glibc is asked; a
//! cross build is left as it was.
//!
//! The functions that run while the console idles and shows the demo are laid
//! out together (`link/hot-functions.txt`). The kernel maps code in 64 KiB
//! windows around every page that runs, so scattered hot functions made most of
//! the binary resident; grouped, they fill a few hundred pages. Only with LLD
//! (the linker Rust uses on x86_64 Linux since 1.90) and when no other linker
//! was asked for: a symbol missing from the binary is skipped silently, so a
//! stale list costs memory, never a build. Symbol names change with the
//! compiler, so a build by another rustc than the list's says so.

use std::ffi::{CStr, c_char};
use std::path::Path;
use std::process::Command;

const LINKER_VARS: [&str; 3] =
    ["CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER", "RUSTC_LINKER", "FIRSTWATCH_NO_CODE_ORDER"];
const KEEP_SYMBOLS: &str = "FIRSTWATCH_KEEP_SYMBOLS";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=link/hot-functions.txt");
    for name in LINKER_VARS.iter().chain([&KEEP_SYMBOLS]) {
        println!("cargo::rerun-if-env-changed={name}");
    }
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let release = var("PROFILE") == "release";
    let native = var("TARGET") == var("HOST");
    if release && var("CARGO_CFG_TARGET_OS") == "linux" && var(KEEP_SYMBOLS).is_empty() {
        println!("cargo::rustc-link-arg-bins=-Wl,--strip-all");
    }
    if !(release && native && var("CARGO_CFG_TARGET_ENV") == "gnu") {
        return;
    }
    if glibc_applies_relr() {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("link/hot-functions.txt");
    let rustc = rustc_version(&var("RUSTC"));
    if links_with_default_lld(&var, rustc.as_deref()) && order.exists() {
        println!("cargo::rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", order.display());
        println!("cargo::rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
        warn_if_recorded_by_another_rustc(&order, rustc.as_deref());
    }
}

/// The list names functions as one compiler mangles them; another one's names
/// mostly miss, and the binary keeps its old, scattered layout (about 4 MiB
/// more resident while idle).
fn warn_if_recorded_by_another_rustc(order: &Path, current: Option<&str>) {
    let recorded = std::fs::read_to_string(order).ok().and_then(|text| {
        text.lines()
            .take_while(|line| line.starts_with('#'))
            .find_map(|line| line.strip_prefix("# rustc "))
            .map(str::to_string)
    });
    let (Some(recorded), Some(current)) = (recorded, current) else { return };
    if current.strip_prefix("rustc ") != Some(recorded.as_str()) {
        println!(
            "cargo::warning=link/hot-functions.txt was recorded with rustc {recorded}, this is {current}: \
             the code keeps the compiler's layout (more memory while idle) until link/record-hot-functions.sh is run again"
        );
    }
}

/// Whether the bins are linked by the LLD that rustc ships and picks by default.
fn links_with_default_lld(var: &dyn Fn(&str) -> String, rustc_version: Option<&str>) -> bool {
    if var("TARGET") != "x86_64-unknown-linux-gnu" || LINKER_VARS.iter().any(|name| !var(name).is_empty()) {
        return false;
    }
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    if ["linker", "fuse-ld", "link-self-contained"].iter().any(|flag| flags.contains(flag)) {
        return false;
    }
    rustc_version.and_then(rustc_minor).is_some_and(|minor| minor >= 90) && ships_lld(&var("RUSTC"))
}

/// Whether the toolchain carries its own LLD: distribution builds may leave it out
/// and link with the system's linker, which knows no symbol ordering.
fn ships_lld(rustc: &str) -> bool {
    let Some(sysroot) = Command::new(rustc).args(["--print", "sysroot"]).output().ok() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&sysroot.stdout);
    Path::new(sysroot.trim()).join("lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld/ld.lld").exists()
}

/// What the compiler building this crate says of itself: `rustc 1.95.0 (59807616e 2026-04-14)`.
fn rustc_version(rustc: &str) -> Option<String> {
    let output = Command::new(rustc).arg("--version").output().ok()?;
    Some(String::from_utf8(output.stdout).ok()?.trim().to_string())
}

/// The minor version in what `rustc --version` says.
fn rustc_minor(version: &str) -> Option<u32> {
    let number = version.split_whitespace().nth(1)?;
    let mut parts = number.split('.');
    (parts.next()? == "1").then_some(())?;
    parts.next()?.parse().ok()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_applies_relr() -> bool {
    unsafe extern "C" {
        fn gnu_get_libc_version() -> *const c_char;
    }
    // SAFETY: glibc returns a pointer to its own static, NUL-terminated version string.
    let version = unsafe { CStr::from_ptr(gnu_get_libc_version()) };
    let mut parts = version.to_str().unwrap_or("").split('.').map(|part| part.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_applies_relr() -> bool {
    false
}
