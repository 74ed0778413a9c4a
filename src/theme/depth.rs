//! Colour depth: themes are written in 24-bit colour, and terminals that cannot
//! show it (a Linux console, an old PuTTY, `TERM=xterm` without `COLORTERM`) get
//! each colour mapped to the nearest entry of the palette they do have.
//!
//! Nearest is measured in CIELAB's lightness, chroma and hue, weighted towards
//! hue (a small palette has few lightness steps, and a green that turns cyan reads
//! wrong); a coloured role stays coloured and a grey stays grey. The mapping keeps a
//! theme readable: text is never given its background's colour, body text and
//! muted text stay apart, and ok, warning and critical never collapse into one.

use super::Theme;
use ratatui::style::Color;
use serde::Deserialize;

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    TrueColor,
    Ansi256,
    Ansi16,
    None,
}

/// `settings.color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ColorSetting {
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "truecolor")]
    TrueColor,
    #[serde(rename = "256")]
    Ansi256,
    #[serde(rename = "16")]
    Ansi16,
    #[serde(rename = "none")]
    None,
}

impl ColorSetting {
    /// The depth to draw with; `auto` asks the environment.
    pub fn depth(self) -> ColorDepth {
        match self {
            ColorSetting::Auto => {
                ColorDepth::detect(std::env::var("COLORTERM").ok().as_deref(), std::env::var("TERM").ok().as_deref())
            }
            ColorSetting::TrueColor => ColorDepth::TrueColor,
            ColorSetting::Ansi256 => ColorDepth::Ansi256,
            ColorSetting::Ansi16 => ColorDepth::Ansi16,
            ColorSetting::None => ColorDepth::None,
        }
    }
}

impl ColorDepth {
    /// `COLORTERM=truecolor|24bit` means 24-bit; else a `TERM` ending in
    /// `256color` means 256; else 16 (`xterm`, `linux`, `screen`, `vt220`); a
    /// `dumb` terminal gets none. (`NO_COLOR` is handled with the theme.)
    pub fn detect(colorterm: Option<&str>, term: Option<&str>) -> ColorDepth {
        let colorterm = colorterm.unwrap_or_default().to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            return ColorDepth::TrueColor;
        }
        let term = term.unwrap_or_default().to_ascii_lowercase();
        if term == "dumb" {
            ColorDepth::None
        } else if term.ends_with("256color") || term.contains("-256") {
            ColorDepth::Ansi256
        } else if term.contains("truecolor") || term.contains("direct") {
            ColorDepth::TrueColor
        } else {
            ColorDepth::Ansi16
        }
    }
}

/// The theme with every colour the terminal cannot show replaced by the nearest one it can.
pub fn reduce(theme: &Theme, depth: ColorDepth) -> Theme {
    let palette = match depth {
        ColorDepth::TrueColor => return theme.clone(),
        ColorDepth::None => return Theme::no_color(),
        ColorDepth::Ansi256 => palette_256(),
        ColorDepth::Ansi16 => palette_16(),
    };
    let map = |color: Color, avoid: &[Color]| nearest(color, &palette, avoid);
    let mut out = theme.clone();
    // Backgrounds first: the foregrounds drawn on them must differ from them.
    out.bg = map(theme.bg, &[]);
    out.selection_bg = map(theme.selection_bg, &[]);
    out.bar_bg = map(theme.bar_bg, &[]);
    let bg = out.bg;
    if depth == ColorDepth::Ansi16 {
        // Sixteen colours are the user's own palette: its red, yellow and green are
        // what critical, warning and ok mean there, whatever shade the theme chose.
        let family = |color: Color, pair: [Color; 2]| {
            let pair: Vec<(Color, [u8; 3])> =
                palette.iter().copied().filter(|(entry, _)| pair.contains(entry) && *entry != bg).collect();
            nearest(color, &pair, &[])
        };
        out.crit = family(theme.crit, [Color::Red, Color::LightRed]);
        out.warn = family(theme.warn, [Color::Yellow, Color::LightYellow]);
        out.ok = family(theme.ok, [Color::Green, Color::LightGreen]);
    } else {
        out.crit = map(theme.crit, &[bg]);
        out.warn = map(theme.warn, &[bg, out.crit]);
        out.ok = map(theme.ok, &[bg, out.crit, out.warn]);
    }
    out.muted = map(theme.muted, &[bg]);
    out.fg = map(theme.fg, &[bg, out.muted]);
    out.accent = map(theme.accent, &[bg]);
    out.info = map(theme.info, &[bg]);
    out.border = map(theme.border, &[bg]);
    out.selection_fg = map(theme.selection_fg, &[out.selection_bg]);
    out.bar_fg = map(theme.bar_fg, &[out.bar_bg]);
    out
}

/// The palette entry closest to `color`, skipping those in `avoid`. The terminal's
/// default colour (`Reset`) is kept as it is; it never counts as a clash.
fn nearest(color: Color, palette: &[(Color, [u8; 3])], avoid: &[Color]) -> Color {
    let Some(rgb) = rgb_of(color) else { return color };
    if palette.iter().any(|(entry, _)| *entry == color) && !avoid.contains(&color) {
        return color;
    }
    let target = lab(rgb);
    let coloured = reads_coloured(target);
    let pick = |same_class_only: bool| {
        palette
            .iter()
            .filter(|(entry, _)| !avoid.contains(entry))
            .filter(|(_, rgb)| !same_class_only || reads_coloured(lab(*rgb)) == coloured)
            .min_by(|(_, a), (_, b)| distance(lab(*a), target).total_cmp(&distance(lab(*b), target)))
            .map(|(entry, _)| *entry)
    };
    pick(true).or_else(|| pick(false)).unwrap_or(color)
}

/// Below this chroma a colour reads as grey.
const GREY_CHROMA: f64 = 12.0;
/// Below this lightness a colour reads as black, whatever its hue (a dark
/// navy background must not become a cyan one).
const BLACK_LIGHTNESS: f64 = 25.0;

fn reads_coloured(lab: [f64; 3]) -> bool {
    chroma(lab) >= GREY_CHROMA && lab[0] >= BLACK_LIGHTNESS
}

fn chroma([_, a, b]: [f64; 3]) -> f64 {
    a.hypot(b)
}

/// The 16 named colours with the values xterm gives them.
fn palette_16() -> Vec<(Color, [u8; 3])> {
    SIXTEEN.iter().map(|(color, rgb)| (*color, *rgb)).collect()
}

const SIXTEEN: [(Color, [u8; 3]); 16] = [
    (Color::Black, [0, 0, 0]),
    (Color::Red, [205, 0, 0]),
    (Color::Green, [0, 205, 0]),
    (Color::Yellow, [205, 205, 0]),
    (Color::Blue, [0, 0, 238]),
    (Color::Magenta, [205, 0, 205]),
    (Color::Cyan, [0, 205, 205]),
    (Color::Gray, [229, 229, 229]),
    (Color::DarkGray, [127, 127, 127]),
    (Color::LightRed, [255, 0, 0]),
    (Color::LightGreen, [0, 255, 0]),
    (Color::LightYellow, [255, 255, 0]),
    (Color::LightBlue, [92, 92, 255]),
    (Color::LightMagenta, [255, 0, 255]),
    (Color::LightCyan, [0, 255, 255]),
    (Color::White, [255, 255, 255]),
];

/// Entries 16-255: the 6x6x6 cube and the grey ramp, whose values every terminal
/// agrees on (0-15 are the user's own palette, so they are left out).
fn palette_256() -> Vec<(Color, [u8; 3])> {
    (16..=255u8).map(|index| (Color::Indexed(index), indexed_rgb(index))).collect()
}

fn indexed_rgb(index: u8) -> [u8; 3] {
    const STEPS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match index {
        0..=15 => SIXTEEN[index as usize].1,
        16..=231 => {
            let i = index - 16;
            [STEPS[(i / 36) as usize], STEPS[(i / 6 % 6) as usize], STEPS[(i % 6) as usize]]
        }
        _ => {
            let level = 8 + 10 * (index - 232);
            [level; 3]
        }
    }
}

fn rgb_of(color: Color) -> Option<[u8; 3]> {
    match color {
        Color::Rgb(r, g, b) => Some([r, g, b]),
        Color::Indexed(index) => Some(indexed_rgb(index)),
        Color::Reset => None,
        named => SIXTEEN.iter().find(|(c, _)| *c == named).map(|(_, rgb)| *rgb),
    }
}

/// sRGB to CIELAB (D65).
fn lab([r, g, b]: [u8; 3]) -> [f64; 3] {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let (r, g, b) = (linear(r), linear(g), linear(b));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f64| if t > 0.008856 { t.cbrt() } else { 7.787 * t + 16.0 / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Squared distance in lightness, chroma and hue, hue weighted most.
fn distance(x: [f64; 3], y: [f64; 3]) -> f64 {
    let (cx, cy) = (chroma(x), chroma(y));
    let lightness = x[0] - y[0];
    let chroma_gap = (cx - cy) / 2.0;
    // The hue difference as a distance on the chroma plane (the standard ΔH).
    let hue_angle = (x[2].atan2(x[1]) - y[2].atan2(y[1])).abs();
    let hue_angle = hue_angle.min(std::f64::consts::TAU - hue_angle);
    let hue = 2.0 * (cx * cy).sqrt() * (hue_angle / 2.0).sin();
    lightness.powi(2) + chroma_gap.powi(2) + (1.5 * hue).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theme::BUILT_IN;

    #[test]
    fn depth_follows_colorterm_then_term() {
        let cases = [
            (Some("truecolor"), Some("xterm"), ColorDepth::TrueColor),
            (Some("24bit"), Some("linux"), ColorDepth::TrueColor),
            (None, Some("xterm-256color"), ColorDepth::Ansi256),
            (None, Some("tmux-256color"), ColorDepth::Ansi256),
            (None, Some("screen-256color"), ColorDepth::Ansi256),
            (None, Some("xterm"), ColorDepth::Ansi16),
            (None, Some("linux"), ColorDepth::Ansi16),
            (Some(""), Some("vt220"), ColorDepth::Ansi16),
            (None, Some("dumb"), ColorDepth::None),
            (None, None, ColorDepth::Ansi16),
        ];
        for (colorterm, term, want) in cases {
            assert_eq!(ColorDepth::detect(colorterm, term), want, "COLORTERM={colorterm:?} TERM={term:?}");
        }
    }

    fn roles(theme: &Theme) -> [(&'static str, Color); 13] {
        [
            ("fg", theme.fg),
            ("bg", theme.bg),
            ("muted", theme.muted),
            ("accent", theme.accent),
            ("ok", theme.ok),
            ("warn", theme.warn),
            ("crit", theme.crit),
            ("info", theme.info),
            ("border", theme.border),
            ("selection_fg", theme.selection_fg),
            ("selection_bg", theme.selection_bg),
            ("bar_fg", theme.bar_fg),
            ("bar_bg", theme.bar_bg),
        ]
    }

    #[test]
    fn reduced_themes_use_only_their_palette_and_stay_readable() {
        for (name, _) in BUILT_IN {
            let theme = Theme::built_in(name);
            for depth in [ColorDepth::Ansi256, ColorDepth::Ansi16] {
                let reduced = reduce(&theme, depth);
                for (role, color) in roles(&reduced) {
                    let allowed = match (depth, color) {
                        (_, Color::Reset) => true,
                        (ColorDepth::Ansi256, Color::Indexed(_)) => true,
                        (_, Color::Rgb(..) | Color::Indexed(_)) => false,
                        _ => true,
                    };
                    assert!(allowed, "{name} at {depth:?}: {role} = {color:?}");
                }
                let [ok, warn, crit] = [reduced.ok, reduced.warn, reduced.crit];
                assert!(ok != warn && warn != crit && ok != crit, "{name} at {depth:?}: {ok:?} {warn:?} {crit:?}");
                for (role, color) in roles(&reduced) {
                    if role != "bg" && !role.ends_with("_bg") && !role.ends_with("_fg") && reduced.bg != Color::Reset {
                        assert_ne!(color, reduced.bg, "{name} at {depth:?}: {role} drawn in its background's colour");
                    }
                }
                assert_ne!(reduced.selection_fg, reduced.selection_bg, "{name} at {depth:?}");
                assert_ne!(reduced.bar_fg, reduced.bar_bg, "{name} at {depth:?}");
            }
        }
    }

    #[test]
    fn each_theme_at_each_depth() {
        let mut table = String::new();
        for (name, _) in BUILT_IN {
            let theme = Theme::built_in(name);
            for depth in [ColorDepth::Ansi256, ColorDepth::Ansi16] {
                let reduced = reduce(&theme, depth);
                table.push_str(&format!("{name} at {depth:?}:\n"));
                for (role, color) in roles(&reduced) {
                    table.push_str(&format!("  {role:<13} {color}\n"));
                }
            }
        }
        insta::assert_snapshot!(table);
    }

    #[test]
    fn truecolor_is_untouched_and_none_is_monochrome() {
        let theme = Theme::built_in("default-dark");
        assert_eq!(reduce(&theme, ColorDepth::TrueColor), theme);
        assert!(reduce(&theme, ColorDepth::None).monochrome);
    }
}
