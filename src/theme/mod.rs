//! Colour themes. Views never name a colour: they ask the theme for a role
//! (`ok`, `warn`, `crit`, `muted`, `accent` ...). Built-in themes are embedded
//! from `themes/*.toml`; a file of the same name in the user's config dir
//! `themes/` folder overrides one, and `NO_COLOR` drops colour entirely.

mod depth;

pub use depth::{ColorDepth, ColorSetting, reduce};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;
use std::str::FromStr;

/// The built-in themes, by name.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("default-dark", include_str!("../../themes/default-dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("solarized-dark", include_str!("../../themes/solarized-dark.toml")),
];

/// Colour roles used by every view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    pub fg: Color,
    pub bg: Color,
    pub muted: Color,
    pub accent: Color,
    pub ok: Color,
    pub warn: Color,
    pub crit: Color,
    pub info: Color,
    pub border: Color,
    pub selection_fg: Color,
    pub selection_bg: Color,
    pub bar_fg: Color,
    pub bar_bg: Color,
    /// True when colours are off (`NO_COLOR`); views lean on bold/reverse instead.
    pub monochrome: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    fg: String,
    bg: String,
    muted: String,
    accent: String,
    ok: String,
    warn: String,
    crit: String,
    info: String,
    border: String,
    selection_fg: String,
    selection_bg: String,
    bar_fg: String,
    bar_bg: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ThemeError {
    #[error("unknown theme `{name}` (available: {available})")]
    Unknown { name: String, available: String },
    #[error("theme file {path}: {reason}")]
    Invalid { path: String, reason: String },
}

impl Theme {
    /// Parses a theme file's text.
    pub fn parse(name: &str, text: &str) -> Result<Theme, String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let color = |role: &str, value: &str| {
            Color::from_str(value).map_err(|_| format!("`{role} = \"{value}\"` is not a colour"))
        };
        Ok(Theme {
            name: name.to_string(),
            fg: color("fg", &file.fg)?,
            bg: color("bg", &file.bg)?,
            muted: color("muted", &file.muted)?,
            accent: color("accent", &file.accent)?,
            ok: color("ok", &file.ok)?,
            warn: color("warn", &file.warn)?,
            crit: color("crit", &file.crit)?,
            info: color("info", &file.info)?,
            border: color("border", &file.border)?,
            selection_fg: color("selection_fg", &file.selection_fg)?,
            selection_bg: color("selection_bg", &file.selection_bg)?,
            bar_fg: color("bar_fg", &file.bar_fg)?,
            bar_bg: color("bar_bg", &file.bar_bg)?,
            monochrome: false,
        })
    }

    /// Finds a theme by name: the user's `themes/NAME.toml` first, then the built-ins.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
        if let Some(dir) = user_dir {
            let path = dir.join(format!("{name}.toml"));
            if let Ok(text) = std::fs::read_to_string(&path) {
                return Theme::parse(name, &text)
                    .map_err(|reason| ThemeError::Invalid { path: path.display().to_string(), reason });
            }
        }
        let (_, text) = BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ThemeError::Unknown { name: name.to_string(), available: available(user_dir).join(", ") })?;
        Theme::parse(name, text).map_err(|reason| ThemeError::Invalid { path: format!("themes/{name}.toml"), reason })
    }

    /// A built-in theme; every built-in is checked by a test, so this cannot fail.
    pub fn built_in(name: &str) -> Theme {
        Theme::load(name, None).unwrap_or_else(|_| Theme::no_color())
    }

    /// No colour at all: every role is the terminal's default.
    pub fn no_color() -> Theme {
        Theme {
            name: "no-color".into(),
            fg: Color::Reset,
            bg: Color::Reset,
            muted: Color::Reset,
            accent: Color::Reset,
            ok: Color::Reset,
            warn: Color::Reset,
            crit: Color::Reset,
            info: Color::Reset,
            border: Color::Reset,
            selection_fg: Color::Reset,
            selection_bg: Color::Reset,
            bar_fg: Color::Reset,
            bar_bg: Color::Reset,
            monochrome: true,
        }
    }

    pub fn base(&self) -> Style {
        Style::new().fg(self.fg).bg(self.bg)
    }
    pub fn muted(&self) -> Style {
        if self.monochrome { Style::new().add_modifier(Modifier::DIM) } else { Style::new().fg(self.muted) }
    }
    pub fn accent(&self) -> Style {
        Style::new().fg(self.accent).add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        Style::new().fg(self.ok)
    }
    pub fn warn(&self) -> Style {
        Style::new().fg(self.warn).add_modifier(Modifier::BOLD)
    }
    pub fn crit(&self) -> Style {
        Style::new().fg(self.crit).add_modifier(Modifier::BOLD)
    }
    pub fn info(&self) -> Style {
        Style::new().fg(self.info)
    }
    pub fn border(&self) -> Style {
        Style::new().fg(self.border)
    }
    /// The selected row or tab; reversed video when there is no colour.
    pub fn selection(&self) -> Style {
        if self.monochrome {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new().fg(self.selection_fg).bg(self.selection_bg).add_modifier(Modifier::BOLD)
        }
    }
    /// The tab bar and status line.
    pub fn bar(&self) -> Style {
        if self.monochrome {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new().fg(self.bar_fg).bg(self.bar_bg)
        }
    }
}

/// Every theme name a user can pick: built-ins plus files in the user's dir.
pub fn available(user_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = BUILT_IN.iter().map(|(name, _)| name.to_string()).collect();
    if let Some(entries) = user_dir.and_then(|dir| std::fs::read_dir(dir).ok()) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && !names.iter().any(|n| n == stem)
            {
                names.push(stem.to_string());
            }
        }
    }
    names
}

/// `$XDG_CONFIG_HOME/firstwatch/themes` (or the platform equivalent).
pub fn user_theme_dir() -> Option<std::path::PathBuf> {
    directories::ProjectDirs::from("", "", "firstwatch").map(|dirs| dirs.config_dir().join("themes"))
}

/// `NO_COLOR` set to anything non-empty turns colour off (no-color.org).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_parses() {
        for (name, text) in BUILT_IN {
            let theme = Theme::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_ne!(theme.ok, theme.crit, "{name}: ok and crit must differ");
        }
    }

    #[test]
    fn user_theme_overrides_built_in_and_unknown_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let custom = BUILT_IN[0].1.replace("\nfg = \"#d0d4dc\"", "\nfg = \"#010203\"");
        std::fs::write(dir.path().join("light.toml"), custom).unwrap();
        let theme = Theme::load("light", Some(dir.path())).unwrap();
        assert_eq!(theme.fg, Color::Rgb(1, 2, 3));
        let err = Theme::load("neon", Some(dir.path())).unwrap_err();
        assert!(err.to_string().contains("unknown theme `neon`"), "{err}");
        assert!(err.to_string().contains("high-contrast"));
    }
}
