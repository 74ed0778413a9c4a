//! How far a compressed backup may unpack before it is refused as a gzip bomb.
//!
//! A set's `max_unpacked` is the cap when it has one. Otherwise the cap is the
//! smaller of `max_ratio` times the backup's size (never below a floor) and,
//! where the unpacked copy is written to disk, the free space there less a
//! margin. The refusal says which rule was hit, with its numbers and the key
//! to change.

use super::human_bytes;
use super::verify::{CheckOptions, Failure};
use crate::config::{DEFAULT_MAX_RATIO, RATIO_FLOOR};
use crate::util::sanitize::sanitize_str;
use std::path::{Path, PathBuf};

impl CheckOptions {
    /// How far a backup of `compressed` bytes may unpack (a guard against gzip bombs).
    ///
    /// With `max_unpacked` set, that (and `max_ratio`, if also set). Otherwise the
    /// smaller of `max_ratio` (default [`DEFAULT_MAX_RATIO`]) times the compressed
    /// size, never below [`RATIO_FLOOR`], and the free space on the filesystem of
    /// `unpack_into` (where the unpacked copy is written, if anywhere) less a spare
    /// margin and `also_needed` (room the restore needs besides, such as the copy
    /// of the current target).
    pub fn cap(&self, compressed: u64, unpack_into: Option<&Path>, also_needed: u64) -> Cap {
        let by_ratio = |ratio: u64, explicit: bool| Cap {
            bytes: compressed.saturating_mul(ratio).max(RATIO_FLOOR),
            rule: CapRule::Ratio { ratio, compressed, explicit },
        };
        let cap = match self.max_unpacked {
            Some(bytes) => Cap { bytes, rule: CapRule::MaxUnpacked },
            None => {
                let ratio = by_ratio(self.max_ratio.unwrap_or(DEFAULT_MAX_RATIO), self.max_ratio.is_some());
                match unpack_into.and_then(|dir| free_space_cap(dir, also_needed)) {
                    Some(room) if room.bytes < ratio.bytes => room,
                    _ => ratio,
                }
            }
        };
        match self.max_ratio {
            Some(ratio) if self.max_unpacked.is_some() => {
                let by_ratio = by_ratio(ratio, true);
                if by_ratio.bytes < cap.bytes { by_ratio } else { cap }
            }
            _ => cap,
        }
    }
}

/// How far a compressed backup may unpack, and which rule set that (for the refusal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    pub bytes: u64,
    pub rule: CapRule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapRule {
    /// The set's `max_unpacked`.
    MaxUnpacked,
    /// `ratio` times the compressed size, never below [`RATIO_FLOOR`].
    Ratio { ratio: u64, compressed: u64, explicit: bool },
    /// The free space on the filesystem of `dir`, less `spare` and `copy`.
    FreeSpace { dir: PathBuf, free: u64, spare: u64, copy: u64 },
}

impl Cap {
    /// A plain byte cap, reported as the set's `max_unpacked`.
    pub fn fixed(bytes: u64) -> Cap {
        Cap { bytes, rule: CapRule::MaxUnpacked }
    }

    /// The failure for a backup that passes the cap. Running out of room says
    /// nothing about the backup, so it is not reported (or recorded) as corrupt.
    pub fn exceeded(&self) -> Failure {
        match self.rule {
            CapRule::FreeSpace { .. } => Failure::NoRoom(self.refusal()),
            _ => Failure::Corrupt(self.refusal()),
        }
    }

    /// Why a backup that passes the cap is refused: the rule, the numbers and the key to change.
    pub fn refusal(&self) -> String {
        let cap = human_bytes(self.bytes);
        match &self.rule {
            CapRule::MaxUnpacked => format!(
                "it unpacks to more than {cap}, the set's max_unpacked; \
                 if the backup is genuine, raise max_unpacked for this set"
            ),
            CapRule::Ratio { ratio, compressed, explicit } => {
                let setting =
                    if *explicit { format!("max_ratio = {ratio}") } else { format!("max_ratio, {ratio} by default") };
                format!(
                    "it unpacks to more than {cap} from a {} file (the limit is {ratio} times the file's size, \
                     and never under {}: {setting}). That is what a gzip bomb does; if the backup is genuine \
                     and just packs unusually well, raise max_ratio or set max_unpacked for this set",
                    human_bytes(*compressed),
                    human_bytes(RATIO_FLOOR)
                )
            }
            CapRule::FreeSpace { dir, free, spare, copy } => {
                let copy = if *copy > 0 {
                    format!(" and {} for the copy of the current target", human_bytes(*copy))
                } else {
                    String::new()
                };
                format!(
                    "it unpacks to more than {cap}, all the room left on the filesystem of {} ({} free, keeping {} \
                     spare{copy}); free some space there, or set max_unpacked for this set to go past this check",
                    sanitize_str(&dir.display().to_string()),
                    human_bytes(*free),
                    human_bytes(*spare)
                )
            }
        }
    }
}

/// The room on `dir`'s filesystem: what is free, less 5% of the filesystem (at most
/// 1 GiB) so the services beside it can keep writing, less `also_needed`.
fn free_space_cap(dir: &Path, also_needed: u64) -> Option<Cap> {
    let stat = nix::sys::statvfs::statvfs(dir).ok()?;
    let block = stat.fragment_size() as u64;
    let free = (stat.blocks_available() as u64).saturating_mul(block);
    let spare = ((stat.blocks() as u64).saturating_mul(block) / 20).min(1 << 30);
    let bytes = free.saturating_sub(spare).saturating_sub(also_needed);
    Some(Cap { bytes, rule: CapRule::FreeSpace { dir: dir.to_path_buf(), free, spare, copy: also_needed } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IntegrityCheck;

    fn options(max_unpacked: Option<u64>, max_ratio: Option<u64>) -> CheckOptions {
        CheckOptions { count: Vec::new(), integrity: IntegrityCheck::Full, max_unpacked, max_ratio, manifest: None }
    }

    #[test]
    fn the_default_cap_is_a_ratio_with_a_floor_or_the_free_space_whichever_is_smaller() {
        let cap = options(None, None).cap(10 << 20, None, 0);
        assert_eq!(cap.bytes, 1000 << 20, "100 times 10 MiB");
        assert!(matches!(cap.rule, CapRule::Ratio { ratio: 100, explicit: false, .. }));
        assert_eq!(options(None, None).cap(1000, None, 0).bytes, RATIO_FLOOR, "small backups get the floor");
        assert_eq!(options(None, Some(7)).cap(10 << 20, None, 0).bytes, 70 << 20);

        let dir = tempfile::tempdir().unwrap();
        // No filesystem here has 100 times 1 PiB free: the free space is the smaller limit.
        let cap = options(None, None).cap(1 << 50, Some(dir.path()), 0);
        let CapRule::FreeSpace { free, spare, .. } = cap.rule.clone() else { panic!("{cap:?}") };
        assert_eq!(cap.bytes, free.saturating_sub(spare));
        assert!(spare <= 1 << 30);
        let message = cap.refusal();
        assert!(message.contains("free") && message.contains("max_unpacked"), "{message}");
        let with_copy = options(None, None).cap(1 << 50, Some(dir.path()), 1 << 20);
        let CapRule::FreeSpace { free, spare, copy, .. } = with_copy.rule.clone() else { panic!("{with_copy:?}") };
        assert_eq!((copy, with_copy.bytes), (1 << 20, free.saturating_sub(spare).saturating_sub(1 << 20)));
        assert!(with_copy.refusal().contains("copy of the current target"));
        // No room is no verdict on the backup; a ratio breach is what a bomb looks like.
        assert!(matches!(with_copy.exceeded(), Failure::NoRoom(why) if why.contains("free some space")));
        assert!(matches!(options(None, None).cap(1000, None, 0).exceeded(), Failure::Corrupt(_)));
    }

    #[test]
    fn an_explicit_max_unpacked_replaces_the_default_and_max_ratio_still_applies_when_set() {
        let dir = tempfile::tempdir().unwrap();
        let cap = options(Some(1 << 60), None).cap(1 << 50, Some(dir.path()), 0);
        assert_eq!(cap, Cap { bytes: 1 << 60, rule: CapRule::MaxUnpacked }, "no free-space rule once it is explicit");
        assert!(cap.refusal().contains("max_unpacked"));
        let both = options(Some(1 << 30), Some(2)).cap(1 << 20, None, 0);
        assert_eq!(both.bytes, RATIO_FLOOR, "the smaller of the two");
        assert!(both.refusal().contains("max_ratio = 2"), "{}", both.refusal());
    }
}
