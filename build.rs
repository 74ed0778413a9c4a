//! Release binaries pack their relocations (`-z pack-relative-relocs`, DT_RELR):
//! about 0.4 MB smaller, and fewer pages read at every start.
//!
//! Only where the C library that will run the binary applies them: glibc
//! before 2.36 ignores DT_RELR, and a binary whose relocations are skipped
//! crashes. The binary runs where it was built (`cargo run`, `cargo install`),
//! so the build host's glibc is asked; a cross build is left as it was.

use std::ffi::{CStr, c_char};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let release = var("PROFILE") == "release";
    let native = var("TARGET") == var("HOST");
    if release && native && var("CARGO_CFG_TARGET_ENV") == "gnu" && glibc_applies_relr() {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
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
