//! Refusing archive entries that would write outside the folder they are unpacked into.

use std::path::{Component, Path, PathBuf};

/// Why an entry may not be unpacked, or `None` when it stays inside the root.
pub(crate) fn unsafe_entry(path: &Path, kind: tar::EntryType, link: Option<&Path>) -> Option<String> {
    let shown = crate::util::sanitize::sanitize_str(&path.display().to_string());
    let Some(inside) = normalise(Path::new(""), path) else {
        return Some(format!("entry `{shown}` has an absolute path or climbs out with `..`"));
    };
    if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
        return Some(format!("entry `{shown}` is a device or pipe"));
    }
    let link = link?;
    let link_shown = crate::util::sanitize::sanitize_str(&link.display().to_string());
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
    use tar::EntryType;

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
}
