//! Config errors that point at the exact place in the file.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a config file, located by line and column (both 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// Locates `span` (byte offsets into `source`) as line:col.
    pub fn at(file: &Path, source: &str, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        let (line, column) = span.map_or((1, 1), |span| line_col(source, span.start));
        Diagnostic { file: file.to_path_buf(), line, column, message: message.into(), hint: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Converts a byte offset into a 1-based line and a 1-based column counted in characters.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Why a config could not be used. Every variant is reported before the terminal is touched.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no config file found at {path}\n  hint: run `firstwatch init` to write a starter config, or pass --config PATH"
    )]
    NotFound { path: PathBuf },
    #[error("cannot read config {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{}", render_all(.0))]
    Invalid(Vec<Diagnostic>),
}

fn render_all(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    let count = diagnostics.len();
    format!("{}\n{count} config error{}", lines.join("\n"), if count == 1 { "" } else { "s" })
}

impl ConfigError {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Invalid(list) => list,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let source = "a = 1\nnäme = 2\n";
        assert_eq!(line_col(source, 0), (1, 1));
        assert_eq!(line_col(source, 6), (2, 1));
        let offset = source.find('=').map(|_| source.rfind('=').unwrap_or(0)).unwrap_or(0);
        assert_eq!(line_col(source, offset), (2, 6));
        assert_eq!(line_col(source, 10_000), (3, 1));
    }
}
