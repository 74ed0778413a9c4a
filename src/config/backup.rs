//! `[[backup]]`: a backup set on the backups tab and for `firstwatch backups`.

use super::Config;
use super::units::{ByteSize, HumanDuration};
use super::validate::Problems;
use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;
use toml::Spanned;

/// What one backup in a set is, which decides how it is verified, browsed and restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackupFormat {
    /// A plain SQLite database file.
    Sqlite,
    /// A gzip-compressed SQLite database (`.db.gz`).
    SqliteGz,
    /// A tar archive.
    Tar,
    /// A gzip-compressed tar archive.
    #[serde(alias = "tar.gz", alias = "tgz")]
    TarGz,
    /// A folder of files (e.g. `backups/20261123/`).
    Dir,
    /// Any single file, restored byte for byte.
    File,
    /// Any gzip-compressed file, restored decompressed.
    Gz,
}

impl BackupFormat {
    pub const ALL: [BackupFormat; 7] = [
        BackupFormat::Sqlite,
        BackupFormat::SqliteGz,
        BackupFormat::Tar,
        BackupFormat::TarGz,
        BackupFormat::Dir,
        BackupFormat::File,
        BackupFormat::Gz,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BackupFormat::Sqlite => "sqlite",
            BackupFormat::SqliteGz => "sqlite-gz",
            BackupFormat::Tar => "tar",
            BackupFormat::TarGz => "tar-gz",
            BackupFormat::Dir => "dir",
            BackupFormat::File => "file",
            BackupFormat::Gz => "gz",
        }
    }

    pub fn is_sqlite(self) -> bool {
        matches!(self, BackupFormat::Sqlite | BackupFormat::SqliteGz)
    }

    pub fn is_gzip(self) -> bool {
        matches!(self, BackupFormat::SqliteGz | BackupFormat::TarGz | BackupFormat::Gz)
    }

    pub fn is_archive(self) -> bool {
        matches!(self, BackupFormat::Tar | BackupFormat::TarGz)
    }

    /// Whether a backup is a folder rather than a file.
    pub fn is_dir(self) -> bool {
        self == BackupFormat::Dir
    }

    /// Whether a restore produces a folder (archives and folders) rather than one file.
    pub fn restores_a_tree(self) -> bool {
        self.is_archive() || self.is_dir()
    }
}

impl fmt::Display for BackupFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How thoroughly SQLite backups are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntegrityCheck {
    /// `PRAGMA integrity_check`: every page, index and constraint.
    #[default]
    Full,
    /// `PRAGMA quick_check`: faster, skips index contents.
    Quick,
}

/// Default `max_ratio`: how many times its compressed size a backup may unpack to.
///
/// Real backups compress 3-20x (text and config 5-10x, SQLite databases 3-20x,
/// logs up to ~30x), so 100x leaves room for the unusually compressible ones while
/// a gzip bomb (1000x and more: zeros pack at about 1000:1 per gzip member) is
/// stopped after reading a small part of it.
pub const DEFAULT_MAX_RATIO: u64 = 100;

/// The ratio rule never caps a backup below this: small backups (a nearly empty
/// database is mostly zero pages and packs 50-200x) cannot hurt a host, and
/// refusing them would only teach people to turn the guard off.
pub const RATIO_FLOOR: u64 = 64 << 20;

/// `[[backup]]`: a set of backups in one folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    pub name: Spanned<String>,
    pub dir: PathBuf,
    /// File or folder name with a date: `app_db_%Y%m%d_%H%M%S.db.gz`, `%Y%m%d/`; `*` matches anything.
    pub pattern: Spanned<String>,
    pub format: BackupFormat,
    #[serde(default)]
    pub restore_to: Option<PathBuf>,
    /// Keep backups younger than this.
    #[serde(default)]
    pub keep: Option<HumanDuration>,
    /// Keep at least this many of the newest backups.
    #[serde(default)]
    pub keep_last: Option<Spanned<u32>>,
    /// How often a new backup is expected.
    #[serde(default)]
    pub every: Option<HumanDuration>,
    /// SQLite tables whose row counts are reported on verification.
    #[serde(default)]
    pub count: Vec<Spanned<String>>,
    #[serde(default)]
    pub integrity: IntegrityCheck,
    /// Refuse to decompress more than this; set, it replaces the default cap
    /// (max_ratio times the compressed size, and the free space where it is unpacked).
    #[serde(default)]
    pub max_unpacked: Option<ByteSize>,
    /// Refuse a backup that unpacks to more than this many times its compressed size
    /// (a guard against gzip bombs); [`DEFAULT_MAX_RATIO`] when unset.
    #[serde(default)]
    pub max_ratio: Option<Spanned<u64>>,
    /// Restore an archive's setuid, setgid, sticky and world-write bits and its
    /// owners as recorded; off, they are dropped and files belong to whoever restores.
    #[serde(default)]
    pub preserve_permissions: bool,
    /// What `create` copies: the live database (or file) this set backs up.
    #[serde(default)]
    pub source: Option<Spanned<PathBuf>>,
    /// The name actions use for what this set restores (`[[action]] target`): a
    /// restore and an action on it never run at once. Default: the restore path.
    #[serde(default)]
    pub target: Option<String>,
    /// Tree sets: swap the whole folder (`replace`, the default) or write the backup's files over it (`overlay`).
    #[serde(default)]
    pub restore_mode: Option<Spanned<super::RestoreMode>>,
    /// Only backups verified good count as fresh (an unverified one is not yet a backup).
    #[serde(default)]
    pub require_verified: bool,
    /// For folder sets: the file inside each backup that lists what it must hold
    /// (see [`crate::backup::manifest`]).
    #[serde(default)]
    pub manifest: Option<Spanned<PathBuf>>,
}

impl BackupConfig {
    /// The explicit `max_unpacked`, if the set has one.
    pub fn max_unpacked(&self) -> Option<u64> {
        self.max_unpacked.map(|size| size.0)
    }

    /// The explicit `max_ratio`, if the set has one.
    pub fn max_ratio(&self) -> Option<u64> {
        self.max_ratio.as_ref().map(|ratio| *ratio.get_ref())
    }
}

pub(super) fn validate(config: &Config, problems: &mut Problems) {
    problems.unique_names("backup", config.backups.iter().map(|b| &b.name));
    for set in &config.backups {
        let name = set.name.get_ref();
        let pattern = set.pattern.get_ref();
        if let Err(message) = crate::backup::pattern::NamePattern::parse(pattern) {
            problems.push(set.pattern.span(), format!("backup `{name}`: {message}"), Some(PATTERN_HINT));
        } else if pattern.ends_with('/') != set.format.is_dir() {
            let message = if set.format.is_dir() {
                format!("backup `{name}` has format \"dir\" but its pattern does not end in `/`")
            } else {
                format!("backup `{name}` has format \"{}\" but its pattern ends in `/` (a folder)", set.format)
            };
            problems.push(
                set.pattern.span(),
                message,
                Some("folders are matched by a pattern ending in `/` and format = \"dir\""),
            );
        }
        if !set.count.is_empty() && !set.format.is_sqlite() {
            problems.push(
                set.count[0].span(),
                format!("backup `{name}`: `count` lists SQLite tables, but the format is \"{}\"", set.format),
                Some("use format = \"sqlite\" or \"sqlite-gz\", or remove `count`"),
            );
        }
        for table in &set.count {
            if !is_plain_identifier(table.get_ref()) {
                problems.push(
                    table.span(),
                    format!("backup `{name}`: `{}` is not a plain table name", table.get_ref()),
                    Some("table names may use letters, digits and `_`"),
                );
            }
        }
        if let Some(source) = &set.source
            && (set.format.is_archive() || set.format.is_dir())
        {
            problems.push(
                source.span(),
                format!("backup `{name}`: `source` is for sqlite, sqlite-gz, file and gz sets"),
                Some("folders and archives are made by your own tooling; firstwatch lists and verifies them"),
            );
        }
        if set.source.is_some() && (pattern.contains('*') || pattern.contains('?')) {
            problems.push(
                set.pattern.span(),
                format!("backup `{name}`: a set with a `source` needs a pattern without `*` or `?`"),
                Some("new backups are named from the pattern, e.g. \"app_db_%Y%m%d_%H%M%S.db.gz\""),
            );
        }
        if let Some(ratio) = &set.max_ratio
            && *ratio.get_ref() == 0
        {
            problems.push(
                ratio.span(),
                format!("backup `{name}`: max_ratio = 0 would refuse every compressed backup"),
                Some("real backups unpack to 3-20 times their size; leave max_ratio out for the default of 100"),
            );
        }
        if set.preserve_permissions && !set.format.restores_a_tree() {
            problems.push(
                set.name.span(),
                format!("backup `{name}`: preserve_permissions is for tar, tar-gz and dir sets"),
                Some("a single-file restore keeps the permissions of the file it replaces"),
            );
        }
        if let Some(mode) = &set.restore_mode
            && !set.format.restores_a_tree()
        {
            problems.push(
                mode.span(),
                format!("backup `{name}`: restore_mode is for tar, tar-gz and dir sets"),
                Some("a single file is always replaced whole, its previous version kept beside it"),
            );
        }
        if let Some(manifest) = &set.manifest {
            if !set.format.is_dir() {
                problems.push(
                    manifest.span(),
                    format!("backup `{name}`: `manifest` is for folder sets (format = \"dir\")"),
                    Some("an archive or database is checked whole; a folder is checked against its manifest"),
                );
            } else if !crate::backup::manifest::is_inside(manifest.get_ref()) {
                problems.push(
                    manifest.span(),
                    format!("backup `{name}`: `manifest` names a file inside each backup folder"),
                    Some("a relative path without `..`, e.g. manifest = \"MANIFEST\""),
                );
            }
        }
        if let Some(keep_last) = &set.keep_last
            && *keep_last.get_ref() == 0
        {
            problems.push(
                keep_last.span(),
                format!("backup `{name}`: keep_last = 0 would prune every backup"),
                Some("keep at least 1, or leave keep_last out"),
            );
        }
    }
}

const PATTERN_HINT: &str =
    "write the name with %Y %m %d %H %M %S for the date and * for anything, e.g. \"app_db_%Y%m%d_%H%M%S.db.gz\"";

fn is_plain_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}
