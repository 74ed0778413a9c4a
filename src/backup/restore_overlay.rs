//! `restore_mode = "overlay"`: the backup's files are written over the target
//! folder, as `tar -xzf` over it would, and only the paths they replace are
//! set aside. Everything else in the target (its logs, its own backups) stays
//! where it is, untouched.
//!
//! The backup is unpacked and checked in a staging folder first, exactly as for
//! a replace, so a damaged or hostile archive changes nothing. Then each entry
//! moves in by rename, so every file is at each instant either its old or its
//! new self:
//! - a file over an existing file: the old one is first linked (or, where the
//!   filesystem refuses a link, copied) under the aside folder, then the new
//!   one is renamed over it in one step;
//! - a folder the target lacks moves in whole, in one rename;
//! - a folder where the target has a file or a link (or the other way round):
//!   the old one is renamed aside, then the new one in; only that path is
//!   empty for a moment.
//!
//! The aside folder, `<target>.before-restore-<time>` (or `-2`, `-3` ...),
//! mirrors the target's layout and holds only what was replaced; it is made
//! only when something is. Old content never passes through a staging name, so
//! the sweep of killed restores can never take it. A restore killed half way
//! leaves some files new and some old, each whole, and every replaced one kept.

use super::restore::{Outcome, Plan, RestoreError};
use super::swap;
use super::unpack::sync_dir;
use super::verify::{self, BUFFER, Limited};
use crate::config::{BackupFormat, RestoreMode};
use crate::util::sanitize::sanitize_str;
use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs::{self, Metadata};
use std::io::{self, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// What an overlay would do to the target as it is now: shown before the user confirms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlayPreview {
    /// Paths in the target, relative to it, that the backup replaces and that are set aside first.
    pub replaced: Vec<PathBuf>,
    /// Files and links the backup adds where the target has nothing.
    pub added: usize,
}

/// What an overlay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The aside folder, when anything was replaced.
    pub aside: Option<PathBuf>,
    /// What was set aside, relative to the target.
    pub replaced: Vec<PathBuf>,
    /// Entries (files, links, whole new folders) moved into the target.
    pub moved_in: usize,
}

/// Works out what an overlay restore would set aside, for the confirmation and the dry
/// run. It reads the whole backup (names only), so callers run it off the UI thread.
pub fn preview_overlay(plan: &mut Plan) {
    if plan.mode != RestoreMode::Overlay || plan.current.is_none() {
        return;
    }
    let cap = plan.check.cap(plan.backup.size_bytes, None, 0).bytes;
    plan.overlay = Some(preview(plan.format, &plan.backup.path, &plan.target, cap));
}

impl Applied {
    pub(crate) fn into_outcome(self, plan: &Plan, bytes: u64, unpacked: &str) -> Outcome {
        Outcome {
            target: plan.target.clone(),
            secured_by: self.aside.as_ref().map(|_| "replaced files kept aside".to_string()),
            aside: self.aside,
            check: format!(
                "overlay: {} entries written, {} replaced paths kept aside, everything else left as it was; {unpacked}",
                self.moved_in,
                self.replaced.len()
            ),
            replaced: self.replaced,
            mode: RestoreMode::Overlay,
            stale_side_files: Vec::new(),
            removed_debris: Vec::new(),
            bytes,
            duration: std::time::Duration::ZERO,
        }
    }
}

impl Outcome {
    /// What `aside` holds, in words that go before its path.
    pub fn kept_label(&self) -> String {
        match self.mode {
            RestoreMode::Overlay => format!("the {} paths it replaced are kept under", self.replaced.len()),
            RestoreMode::Replace => "previous target kept at".into(),
        }
    }
}

/// Where the old content went, for the audit row.
pub(crate) fn kept_words(outcome: &Outcome) -> String {
    match (&outcome.aside, outcome.mode) {
        (Some(aside), RestoreMode::Overlay) => {
            format!("overlaid; the {} paths it replaced kept under {}", outcome.replaced.len(), aside.display())
        }
        (None, RestoreMode::Overlay) => "overlaid; it replaced nothing, so nothing was set aside".into(),
        (Some(aside), RestoreMode::Replace) => format!("previous kept at {}", aside.display()),
        (None, RestoreMode::Replace) => "previous kept at (none: there was no target)".into(),
    }
}

/// What one backup entry does to the target path it lands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// A folder over a folder: nothing happens to it, its entries go in one by one.
    Descend,
    /// Nothing is there: the entry moves in (a folder with all it holds).
    MoveIn,
    /// A file or link over a file or link: the old one is kept by a link or copy, the new one renamed over it.
    Replace,
    /// The kind changes (folder for file, or the other way): the old one is renamed aside, the new one in.
    SwapKind,
}

fn step(new_is_dir: bool, existing: Option<&Metadata>) -> Step {
    // `symlink_metadata`: a link to a folder is a link, and is never written through.
    match existing {
        None => Step::MoveIn,
        Some(old) if old.is_dir() && new_is_dir => Step::Descend,
        Some(old) if old.is_dir() || new_is_dir => Step::SwapKind,
        Some(_) => Step::Replace,
    }
}

/// Lists what overlaying `backup` onto `target` would replace, from the backup's
/// names alone (the archive is read through, nothing is written).
pub fn preview(format: BackupFormat, backup: &Path, target: &Path, cap: u64) -> Result<OverlayPreview, String> {
    let entries = backup_entries(format, backup, cap)?;
    let mut replaced = BTreeSet::new();
    let mut added = 0;
    for (relative, is_dir) in entries {
        let parts: Vec<Component> = relative.components().collect();
        let mut path = PathBuf::new();
        for (index, part) in parts.iter().enumerate() {
            path.push(part);
            let last = index + 1 == parts.len();
            let existing = fs::symlink_metadata(target.join(&path)).ok();
            match step(!last || is_dir, existing.as_ref()) {
                Step::Descend => continue,
                Step::MoveIn => added += usize::from(!is_dir),
                Step::Replace => {
                    replaced.insert(path.clone());
                }
                Step::SwapKind => {
                    replaced.insert(path.clone());
                    added += usize::from(!is_dir);
                }
            }
            break;
        }
    }
    Ok(OverlayPreview { replaced: replaced.into_iter().collect(), added })
}

/// The backup's entries as relative paths, with whether each is a folder.
fn backup_entries(format: BackupFormat, backup: &Path, cap: u64) -> Result<Vec<(PathBuf, bool)>, String> {
    if format.is_dir() {
        let mut found = Vec::new();
        walk(backup, Path::new(""), &mut |relative, metadata| found.push((relative.to_path_buf(), metadata.is_dir())))
            .map_err(|err| format!("cannot read the backup folder: {err}"))?;
        return Ok(found);
    }
    let (file, _) = verify::open(backup).map_err(|failure| failure.to_string())?;
    let reader = BufReader::with_capacity(BUFFER, file);
    if format == BackupFormat::TarGz {
        tar_entries(Limited { inner: MultiGzDecoder::new(reader), left: cap })
    } else {
        tar_entries(reader)
    }
}

fn tar_entries(reader: impl io::Read) -> Result<Vec<(PathBuf, bool)>, String> {
    let damaged = |err: io::Error| format!("the archive is damaged: {}", sanitize_str(&err.to_string()));
    let mut archive = tar::Archive::new(reader);
    let mut found = Vec::new();
    for entry in archive.entries().map_err(damaged)? {
        let entry = entry.map_err(damaged)?;
        let path = entry.path().map_err(damaged)?;
        // Only plain names: an entry that climbs out is refused by the restore itself.
        if path.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
            continue;
        }
        let relative: PathBuf = path.components().filter(|c| matches!(c, Component::Normal(_))).collect();
        if !relative.as_os_str().is_empty() {
            found.push((relative, entry.header().entry_type().is_dir()));
        }
    }
    Ok(found)
}

/// Calls `visit` for every entry under `root`, parents before their contents, in name order.
fn walk(root: &Path, relative: &Path, visit: &mut dyn FnMut(&Path, &Metadata)) -> io::Result<()> {
    let mut names: Vec<_> =
        fs::read_dir(root.join(relative))?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>()?;
    names.sort();
    for name in names {
        let child = relative.join(&name);
        let metadata = fs::symlink_metadata(root.join(&child))?;
        visit(&child, &metadata);
        if metadata.is_dir() {
            walk(root, &child, visit)?;
        }
    }
    Ok(())
}

/// Writes the checked, synced tree `staged` over `target` (see the module notes).
pub(crate) fn apply(staged: &Path, target: &Path, proposed_aside: &Path) -> Result<Applied, RestoreError> {
    if let Err(err) = check_one_filesystem(staged, target) {
        discard(staged);
        return Err(err);
    }
    let mut overlay = Overlay { staged, target, proposed_aside, applied: Applied::default(), touched: BTreeSet::new() };
    let result = overlay.entries(Path::new(""));
    for dir in &overlay.touched {
        sync_dir(dir);
    }
    let Overlay { applied, .. } = overlay;
    match result {
        Ok(()) => {
            // Only empty folders are left: the staging copy gave all its entries away.
            discard(staged);
            Ok(applied)
        }
        Err(err) => {
            discard(staged);
            Err(RestoreError::Swap(format!(
                "the overlay stopped part way ({err}). Each file in {} is whole: {} entries of the backup are in, the \
             rest of the target is as it was{}. Run the restore again to finish it",
                shown(target),
                applied.moved_in,
                match &applied.aside {
                    Some(aside) => format!(
                        ", and the {} paths replaced so far are kept under {}",
                        applied.replaced.len(),
                        shown(aside)
                    ),
                    None => String::new(),
                }
            )))
        }
    }
}

/// Removes what is left of the staging copy: only (parts of) the backup, never the old target.
fn discard(staged: &Path) {
    // What stays behind is a copy of the backup under a staging name; the next sweep clears it.
    let _ = fs::remove_dir_all(staged);
}

fn shown(path: &Path) -> String {
    sanitize_str(&path.display().to_string())
}

/// Refuses, before anything changes, an overlay that would need to rename across a mount
/// inside the target (a rename cannot, and a half-done overlay is worse than none).
fn check_one_filesystem(staged: &Path, target: &Path) -> Result<(), RestoreError> {
    let staged_device = fs::metadata(staged).map_err(io_step("cannot read the staged files"))?.dev();
    let mut problem = None;
    walk(staged, Path::new(""), &mut |relative, metadata| {
        if problem.is_none()
            && metadata.is_dir()
            && let Ok(existing) = fs::symlink_metadata(target.join(relative))
            && existing.is_dir()
            && existing.dev() != staged_device
        {
            problem = Some(relative.to_path_buf());
        }
    })
    .map_err(io_step("cannot read the staged files"))?;
    let root = fs::metadata(target).map_err(io_step("cannot read the target"))?;
    if root.dev() != staged_device {
        problem = Some(PathBuf::from("."));
    }
    match problem {
        Some(path) => Err(RestoreError::Target(format!(
            "{} is on another filesystem than the target's folder, so files cannot be renamed into it; \
             use restore_mode = \"replace\" or restore with --to elsewhere. The target was not changed",
            shown(&target.join(path))
        ))),
        None => Ok(()),
    }
}

fn io_step(step: &'static str) -> impl Fn(io::Error) -> RestoreError {
    move |err| RestoreError::Io { step, reason: err.to_string() }
}

struct Overlay<'a> {
    staged: &'a Path,
    target: &'a Path,
    proposed_aside: &'a Path,
    applied: Applied,
    /// Folders whose entries changed, synced at the end.
    touched: BTreeSet<PathBuf>,
}

impl Overlay<'_> {
    fn entries(&mut self, relative: &Path) -> io::Result<()> {
        let mut names: Vec<_> =
            fs::read_dir(self.staged.join(relative))?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>()?;
        names.sort();
        for name in names {
            self.entry(&relative.join(name))?;
        }
        Ok(())
    }

    fn entry(&mut self, relative: &Path) -> io::Result<()> {
        let from = self.staged.join(relative);
        let to = self.target.join(relative);
        let is_dir = fs::symlink_metadata(&from)?.is_dir();
        // Twice at most: something that appears at `to` meanwhile is then set aside like the rest.
        for _ in 0..2 {
            let existing = fs::symlink_metadata(&to).ok();
            let done = match step(is_dir, existing.as_ref()) {
                Step::Descend => return self.entries(relative),
                Step::MoveIn => swap::rename_noreplace(&from, &to),
                Step::Replace => {
                    self.keep(relative, &to)?;
                    fs::rename(&from, &to)
                }
                Step::SwapKind => {
                    let kept = self.aside_path(relative)?;
                    swap::rename_noreplace(&to, &kept)?;
                    self.note_replaced(relative, &kept);
                    swap::rename_noreplace(&from, &to)
                }
            };
            match done {
                Ok(()) => {
                    self.applied.moved_in += 1;
                    self.touch(&to);
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(err),
            }
        }
        Err(io::Error::other(format!("{} keeps changing under the restore", shown(&to))))
    }

    /// Keeps the file or link at `to` under the aside folder: a second name for the same
    /// file where the filesystem allows, else a copy.
    fn keep(&mut self, relative: &Path, to: &Path) -> io::Result<()> {
        let kept = self.aside_path(relative)?;
        // `link(2)` does not follow a symbolic link: the link itself is kept.
        if fs::hard_link(to, &kept).is_err() {
            copy_entry(to, &kept)?;
        }
        self.note_replaced(relative, &kept);
        Ok(())
    }

    /// Where `relative` is kept, with its folders made; the aside folder is reserved on first use.
    fn aside_path(&mut self, relative: &Path) -> io::Result<PathBuf> {
        let root = match &self.applied.aside {
            Some(root) => root.clone(),
            None => {
                let root = swap::reserve_dir(self.proposed_aside, mode_of(self.target))?;
                self.applied.aside = Some(root.clone());
                root
            }
        };
        let kept = root.join(relative);
        if let Some(parent) = kept.parent() {
            use std::os::unix::fs::DirBuilderExt;
            // Private: what is kept may be a config with secrets in it.
            fs::DirBuilder::new().recursive(true).mode(0o700).create(parent)?;
        }
        Ok(kept)
    }

    fn note_replaced(&mut self, relative: &Path, kept: &Path) {
        self.applied.replaced.push(relative.to_path_buf());
        self.touch(kept);
    }

    fn touch(&mut self, path: &Path) {
        if let Some(parent) = path.parent() {
            self.touched.insert(parent.to_path_buf());
        }
    }
}

/// A copy of a file (content, synced, with its mode) or of a link (its text).
fn copy_entry(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let metadata = fs::symlink_metadata(from)?;
    if metadata.file_type().is_symlink() {
        return std::os::unix::fs::symlink(fs::read_link(from)?, to);
    }
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(metadata.mode() & 0o777).open(to)?;
    io::copy(&mut fs::File::open(from)?, &mut file)?;
    file.sync_all()
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).map_or(0o700, |metadata| metadata.mode() & 0o777)
}
