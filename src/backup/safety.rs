//! Refusing archive entries that would write outside the folder they are
//! unpacked into, and links that would lead outside it.
//!
//! Entry names are checked as written: no absolute names, no climbing out with
//! `..`. Links are resolved the way the kernel will resolve them once they are
//! on disk, through the links the archive itself makes: `a -> .` followed by
//! `L -> a/a/../..` reads as the root, but on disk `L` is two levels above it.
//! Only links need remembering; any other name is a plain folder as far as
//! resolving goes, so the map stays small however many files the archive holds.

use crate::util::sanitize::sanitize_str;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use tar::EntryType;

/// How many links the kernel follows in one lookup before it gives up (ELOOP).
const MAX_HOPS: usize = 40;

/// The links an archive has made so far, to resolve each new one through them.
#[derive(Debug, Default)]
pub(crate) struct ArchiveTree {
    /// Where each symbolic link is (relative to the root) and the text it holds.
    links: HashMap<PathBuf, PathBuf>,
}

enum Escape {
    Outside,
    TooDeep,
}

impl ArchiveTree {
    /// Checks one entry, in archive order, and remembers it if it is a link.
    pub(crate) fn admit(&mut self, path: &Path, kind: EntryType, link: Option<&Path>) -> Result<(), String> {
        if let Some(reason) = unsafe_entry(path, kind, link) {
            return Err(reason);
        }
        let Some(inside) = normalise(Path::new(""), path).filter(|p| !p.as_os_str().is_empty()) else {
            // The root itself (`.` or `./`): tar writes nothing for it.
            return Ok(());
        };
        let shown = || sanitize_str(&path.display().to_string());
        // Written through a link, an entry lands wherever the link leads; tar never makes such archives.
        if let Some(through) = self.link_above(&inside) {
            let through = sanitize_str(&through.display().to_string());
            return Err(format!("entry `{}` would be written through the link `{through}`", shown()));
        }
        if kind.is_symlink() {
            self.links.insert(inside.clone(), link.map(Path::to_path_buf).unwrap_or_default());
            self.check_link(&inside)?;
        } else if kind.is_hard_link() {
            let source = link.and_then(|l| normalise(Path::new(""), l)).unwrap_or_default();
            if let Some(through) = self.link_above(&source) {
                let through = sanitize_str(&through.display().to_string());
                return Err(format!("hard link `{}` reaches its file through the link `{through}`", shown()));
            }
            // A hard link to a symbolic link is one more symbolic link with the same text, somewhere else.
            match self.links.get(&source).cloned() {
                Some(text) => {
                    self.links.insert(inside.clone(), text);
                    self.check_link(&inside)?;
                }
                None => {
                    self.links.remove(&inside);
                }
            }
        } else if !kind.is_dir() {
            // A file replaces a link of the same name (tar unlinks it first).
            self.links.remove(&inside);
        }
        Ok(())
    }

    /// Checks every link again at the end: a link may lead outside only through
    /// links the archive made after it.
    pub(crate) fn finish(&self) -> Result<(), String> {
        let mut names: Vec<&PathBuf> = self.links.keys().collect();
        names.sort();
        names.into_iter().try_for_each(|name| self.check_link(name))
    }

    /// The nearest folder above `inside` that is a link, if any.
    fn link_above<'a>(&self, inside: &'a Path) -> Option<&'a Path> {
        inside
            .ancestors()
            .skip(1)
            .take_while(|dir| !dir.as_os_str().is_empty())
            .find(|dir| self.links.contains_key(*dir))
    }

    fn check_link(&self, at: &Path) -> Result<(), String> {
        let Some(text) = self.links.get(at) else { return Ok(()) };
        let parent = at.parent().unwrap_or(Path::new(""));
        let shown = sanitize_str(&at.display().to_string());
        let text_shown = sanitize_str(&text.display().to_string());
        match self.resolve(parent, text, &mut 0) {
            Ok(_) => Ok(()),
            Err(Escape::Outside) => Err(format!(
                "link `{shown}` points outside the archive (to `{text_shown}`, followed through the archive's own links)"
            )),
            Err(Escape::TooDeep) => Err(format!(
                "link `{shown}` (to `{text_shown}`) starts a chain of links that loops or runs deeper than {MAX_HOPS}"
            )),
        }
    }

    /// Where `path` leads when read in the folder `from`, following links as the kernel would.
    fn resolve(&self, from: &Path, path: &Path, hops: &mut usize) -> Result<PathBuf, Escape> {
        let mut at = from.to_path_buf();
        for component in path.components() {
            match component {
                Component::RootDir | Component::Prefix(_) => return Err(Escape::Outside),
                Component::CurDir => {}
                Component::ParentDir => {
                    if !at.pop() {
                        return Err(Escape::Outside);
                    }
                }
                Component::Normal(part) => {
                    let next = at.join(part);
                    match self.links.get(&next) {
                        Some(text) => {
                            *hops += 1;
                            if *hops > MAX_HOPS {
                                return Err(Escape::TooDeep);
                            }
                            at = self.resolve(&at, text, hops)?;
                        }
                        None => at = next,
                    }
                }
            }
        }
        Ok(at)
    }
}

/// Why an entry may not be unpacked, judged by its names alone, or `None` when they stay inside the root.
fn unsafe_entry(path: &Path, kind: EntryType, link: Option<&Path>) -> Option<String> {
    let shown = sanitize_str(&path.display().to_string());
    let Some(inside) = normalise(Path::new(""), path) else {
        return Some(format!("entry `{shown}` has an absolute path or climbs out with `..`"));
    };
    if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
        return Some(format!("entry `{shown}` is a device or pipe"));
    }
    let link = link?;
    let link_shown = sanitize_str(&link.display().to_string());
    let resolved = if kind.is_hard_link() {
        // Hard link names are relative to the archive's root.
        normalise(Path::new(""), link)
    } else if kind.is_symlink() {
        let parent = inside.parent().unwrap_or(Path::new(""));
        normalise(parent, link)
    } else {
        Some(PathBuf::new())
    };
    match resolved {
        Some(_) => None,
        None => Some(format!("link `{shown}` points outside the archive (to `{link_shown}`)")),
    }
}

/// `base` joined with `path` and resolved lexically; `None` if it is absolute or leaves the root.
fn normalise(base: &Path, path: &Path) -> Option<PathBuf> {
    let mut out = base.to_path_buf();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused_and_inner_links_allowed() {
        assert!(unsafe_entry(Path::new("etc/app.conf"), EntryType::Regular, None).is_none());
        assert!(unsafe_entry(Path::new("../x"), EntryType::Regular, None).is_some());
        assert!(unsafe_entry(Path::new("/etc/x"), EntryType::Regular, None).is_some());
        assert!(unsafe_entry(Path::new("a/../../x"), EntryType::Regular, None).is_some());
        assert!(unsafe_entry(Path::new("a/link"), EntryType::Symlink, Some(Path::new("../b"))).is_none());
        assert!(unsafe_entry(Path::new("a/link"), EntryType::Symlink, Some(Path::new("../../etc"))).is_some());
        assert!(unsafe_entry(Path::new("link"), EntryType::Symlink, Some(Path::new("/etc/passwd"))).is_some());
        assert!(unsafe_entry(Path::new("hard"), EntryType::Link, Some(Path::new("../outside"))).is_some());
        assert!(unsafe_entry(Path::new("dev"), EntryType::Char, None).is_some());
    }

    fn admit_all(entries: &[(&str, EntryType, Option<&str>)]) -> Result<(), String> {
        let mut tree = ArchiveTree::default();
        for (path, kind, link) in entries {
            tree.admit(Path::new(path), *kind, link.map(Path::new))?;
        }
        tree.finish()
    }

    #[test]
    fn chains_are_followed_through_the_archive_s_own_links() {
        use EntryType::{Directory, Link, Regular, Symlink};
        assert!(admit_all(&[("a", Symlink, Some(".")), ("L", Symlink, Some("a/a/../.."))]).is_err());
        assert!(admit_all(&[("d/up", Symlink, Some("..")), ("x", Symlink, Some("d/up/.."))]).is_err());
        assert!(admit_all(&[("x", Symlink, Some("d/up/..")), ("d/up", Symlink, Some(".."))]).is_err(), "either order");
        assert!(admit_all(&[("loop", Symlink, Some("loop"))]).unwrap_err().contains("loops"));
        assert!(
            admit_all(&[("d/s", Symlink, Some("..")), ("h", Link, Some("d/s"))]).is_err(),
            "a hard link moves a link"
        );
        assert!(admit_all(&[("a", Symlink, Some("/etc")), ("a/passwd", Regular, None)]).is_err());
        assert!(admit_all(&[("a", Symlink, Some("sub")), ("a/x", Regular, None)]).unwrap_err().contains("through"));
        let replaced = [("a", Symlink, Some(".")), ("a", Regular, None), ("L", Symlink, Some("a/.."))];
        assert_eq!(admit_all(&replaced), Ok(()), "a file that replaces a link is no link");
        let benign = [
            ("conf", Directory, None),
            ("conf/v2/app.conf", Regular, None),
            ("conf/current", Symlink, Some("v2")),
            ("latest.conf", Symlink, Some("conf/current/app.conf")),
            ("conf/v2/root", Symlink, Some("../..")),
            ("self", Symlink, Some(".")),
            ("dangling", Symlink, Some("not/there")),
            ("copy", Link, Some("conf/v2/app.conf")),
        ];
        assert_eq!(admit_all(&benign), Ok(()));
    }
}
