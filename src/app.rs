//! Starting the console: everything between a loaded config and the runtime
//! loop. Shared by `firstwatch` and `firstwatch demo`.

use crate::config::Config;
use crate::store::Store;
use crate::theme::{self, Theme};
use crate::tui::keymap::Keymap;
use crate::tui::model::Model;
use crate::tui::runtime::{self, Exit};
use crate::tui::tabs::{Services, Tabs};
use crate::util::budget::Budget;
use crate::util::identity::{Identity, hostname};
use std::process::ExitCode;
use std::sync::Arc;

/// Options from the command line that shape the console.
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    pub theme: Option<String>,
    pub read_only: bool,
    /// A label for the tab bar, such as "demo".
    pub environment: Option<String>,
    /// Draw with ASCII only (`--ascii`); also chosen when the locale is not UTF-8.
    pub ascii: bool,
}

/// Everything is checked before the terminal is touched, so an error is a plain message.
pub fn run_console(config: Config, options: ConsoleOptions) -> ExitCode {
    let ascii = options.ascii || !locale_is_utf8();
    let (theme, keymap) = match console_settings(&config, options.theme.as_deref()) {
        Ok(settings) => settings,
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            return ExitCode::from(2);
        }
    };
    let store = match Store::for_config(&config) {
        Ok(store) => store,
        Err(err) => {
            eprintln!("firstwatch: {err}");
            return ExitCode::from(1);
        }
    };
    // Operations whose supervisor died since the last firstwatch are closed and audited now.
    let _ = crate::ops::recover(&store, &Identity::current());
    let read_only = options.read_only || config.settings.read_only;
    let tokio = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("firstwatch: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let mut model = Model::new(keymap, theme, hostname(), config.settings.zone());
    model.environment = options.environment;
    model.ascii = ascii;
    model.clipboard = config.settings.clipboard;
    model.mouse = config.settings.mouse;
    model.themes = switchable_themes(&config);
    model.read_only = read_only;
    model.operator = crate::silence::plan::created_by(&Identity::current());
    let (source_tx, source_rx) = tokio::sync::mpsc::channel(1024);
    let frame_rate = config.settings.frame_rate;
    let sync_output = config.settings.sync_output;
    let budget = Budget::new(config.settings.memory_budget.get_ref().0);
    let services = Services {
        config: Arc::new(config),
        store: Some(store),
        sources: source_tx,
        read_only,
        identity: Identity::current(),
        budget,
    };
    let runtime_options = runtime::Options {
        frame_rate,
        sync_output,
        services: services.clone(),
        panic_after_first_frame: cfg!(debug_assertions) && std::env::var_os("FIRSTWATCH_DEBUG_PANIC").is_some(),
    };
    let exit = tokio.block_on(async move {
        // Engines spawn onto this runtime, so they start inside it.
        model.tabs = Tabs::start(&services);
        runtime::run(model, source_rx, runtime_options).await
    });
    // Background tasks may be blocked on I/O; the terminal is already restored, so do not wait for them.
    tokio.shutdown_timeout(std::time::Duration::from_millis(200));
    match exit {
        Ok(Exit::Quit) => ExitCode::SUCCESS,
        Ok(Exit::Signal(name)) => {
            eprintln!("firstwatch: stopped by {name}");
            ExitCode::from(match name {
                "SIGHUP" => 129,
                "SIGINT" => 130,
                _ => 143,
            })
        }
        Ok(Exit::TerminalLost(reason)) => {
            eprintln!("firstwatch: the terminal went away ({reason})");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("firstwatch: terminal error: {err}");
            ExitCode::from(1)
        }
    }
}

/// The theme and keymap the config asks for; every problem is reported, with line:col where it has one.
pub fn console_settings(config: &Config, theme_flag: Option<&str>) -> Result<(Theme, Keymap), Vec<String>> {
    let theme = pick_theme(config, theme_flag);
    let keymap = Keymap::from_config(config);
    match (theme, keymap) {
        (Ok(theme), Ok(keymap)) => Ok((theme, keymap)),
        (theme, keymap) => {
            let mut problems: Vec<String> = theme.err().into_iter().collect();
            problems.extend(keymap.err().into_iter().flatten().map(|d| d.to_string()));
            Err(problems)
        }
    }
}

/// Every theme that loads, fitted to the terminal's colours, for the palette's
/// "theme: NAME"; under `NO_COLOR` there is nothing to switch to.
fn switchable_themes(config: &Config) -> Vec<Theme> {
    if theme::no_color_requested() {
        return Vec::new();
    }
    let user_dir = theme::user_theme_dir();
    let depth = config.settings.color.depth();
    theme::available(user_dir.as_deref())
        .iter()
        .filter_map(|name| Theme::load(name, user_dir.as_deref()).ok())
        .map(|loaded| theme::reduce(&loaded, depth))
        .collect()
}

/// The config's theme, or `--theme`, or no colour at all under `NO_COLOR`.
fn pick_theme(config: &Config, flag: Option<&str>) -> Result<Theme, String> {
    let user_dir = theme::user_theme_dir();
    let name = flag.unwrap_or(config.settings.theme.get_ref());
    let loaded = Theme::load(name, user_dir.as_deref());
    match loaded {
        Ok(_) if theme::no_color_requested() => Ok(Theme::no_color()),
        Ok(theme) => Ok(theme::reduce(&theme, config.settings.color.depth())),
        Err(err) if flag.is_some() => Err(format!("firstwatch: --theme: {err}")),
        Err(err) => Err(config.diagnostic(config.settings.theme.span(), err.to_string()).to_string()),
    }
}

/// Whether the locale lets the console draw Unicode. `LANG=C` (cron, `sudo -i`) does
/// not, and then the console draws with ASCII rather than refusing; no locale at all
/// is taken as UTF-8, as terminals are today. `FIRSTWATCH_ALLOW_NON_UTF8` forces Unicode.
pub fn locale_is_utf8() -> bool {
    let locale =
        ["LC_ALL", "LC_CTYPE", "LANG"].iter().find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    let Some(value) = locale else { return true };
    let upper = value.to_ascii_uppercase();
    upper.contains("UTF-8") || upper.contains("UTF8") || std::env::var_os("FIRSTWATCH_ALLOW_NON_UTF8").is_some()
}
