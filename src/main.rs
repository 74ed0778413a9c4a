//! The `firstwatch` command line: parse, dispatch, exit. Nothing else lives here.

use clap::{CommandFactory, Parser, Subcommand};
use firstwatch::app::{ConsoleOptions, run_console};
use firstwatch::cli::Global;
use firstwatch::config::{self, Config, ConfigError};
use firstwatch::{action, backup, gpu, health, incident, logs, schedule};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A keyboard-driven ops console for on-call engineers.
///
/// Without a subcommand, opens the full-screen console on your config. Every tab
/// has a headless twin below, so cron jobs and scripts share the same config.
#[derive(Parser, Debug)]
#[command(name = "firstwatch", version, propagate_version = true)]
struct Cli {
    /// Config file (default: $FIRSTWATCH_CONFIG, else firstwatch.toml in the platform config dir).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Colour theme: default-dark, light, high-contrast, solarized-dark or a themes/NAME.toml of yours.
    #[arg(long, global = true, value_name = "NAME")]
    theme: Option<String>,
    /// Hide every action, so nothing can be changed from this session.
    #[arg(long, global = true)]
    read_only: bool,
    /// Draw with ASCII only (chosen by itself when the locale is not UTF-8).
    #[arg(long, global = true)]
    ascii: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the console on a self-contained demo environment (no setup, loopback only).
    Demo {
        /// Scratch folder for the demo's files (default: a new folder under the temp dir).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Write a commented starter config.
    Init {
        /// Where to write it (default: the platform config path).
        path: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Check the config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Look after the shared SQLite store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Run the health checks once and report (the health tab, headless).
    Check(firstwatch::health::cli::CheckArgs),
    /// Print or follow logs, filtered (the logs tab, headless).
    Logs(firstwatch::logs::cli::LogsArgs),
    /// Show next runs and maintenance windows (the calendar tab, headless).
    Schedule(firstwatch::schedule::cli::ScheduleArgs),
    /// List, verify and restore backups (the backups tab, headless).
    Backups(firstwatch::backup::cli::BackupsArgs),
    /// List the alerts of every Alertmanager, worst first (the health tab's alerts, headless).
    Alerts(firstwatch::engine::alerts_cli::AlertsArgs),
    /// Show GPUs and their processes (the gpu tab, headless).
    Gpu(firstwatch::gpu::cli::GpuArgs),
    /// Open, follow and close incidents; export a post-mortem (the incident tab, headless).
    Incident(firstwatch::incident::cli::IncidentArgs),
    /// Create, list and expire Alertmanager silences (confirmed and audited like actions).
    Silence(firstwatch::silence::cli::SilenceArgs),
    /// Run a configured action after confirming it.
    Action(firstwatch::action::cli::ActionArgs),
    /// List, follow and cancel running operations (they outlive the terminal that started them).
    Ops(firstwatch::ops::cli::OpsArgs),
    /// Read the audit log.
    Audit(firstwatch::action::audit_cli::AuditArgs),
    /// List, show and check runbooks.
    Runbook(firstwatch::incident::cli::RunbookArgs),
    /// Print a shell completion script (e.g. `firstwatch completions bash > /etc/bash_completion.d/firstwatch`).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page in roff (e.g. `firstwatch man > /usr/local/share/man/man1/firstwatch.1`).
    Man,
    /// Internal: carries one operation to its end (started by firstwatch itself).
    #[command(name = "__supervise", hide = true)]
    Supervise,
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Validate the config and print a summary; exit 2 with file:line:col on errors.
    Check,
    /// Print the path the config is read from.
    Path,
}

#[derive(Subcommand, Debug)]
enum StoreCommand {
    /// Print where the store lives.
    Path,
    /// Rename a damaged store aside (it is never deleted) so a fresh one can be created.
    MoveAside,
}

fn main() -> ExitCode {
    // A supervisor reads its job from stdin and never looks at a config or terminal.
    // It lives as long as its command, so it does not start again for the allocator.
    if std::env::args_os().nth(1).is_some_and(|arg| arg == firstwatch::ops::supervisor::SUPERVISE_ARG) {
        firstwatch::util::malloc::limit_arenas();
        return firstwatch::ops::supervisor::main();
    }
    firstwatch::util::malloc::set_up();
    firstwatch::util::pipe::end_quietly_on_closed_stdout();
    let cli = Cli::parse();
    let global = Global { read_only: cli.read_only, theme: cli.theme.clone() };
    let options =
        ConsoleOptions { theme: cli.theme.clone(), read_only: cli.read_only, environment: None, ascii: cli.ascii };
    match cli.command {
        None => with_config(cli.config.as_deref(), |config| run_console(config, options)),
        Some(Command::Demo { dir }) => firstwatch::demo::run(dir, options),
        Some(Command::Init { path, force }) => init(path, force),
        Some(Command::Config(ConfigCommand::Check)) => {
            with_config(cli.config.as_deref(), |config| config_summary(config, cli.theme.as_deref()))
        }
        Some(Command::Config(ConfigCommand::Path)) => match config::resolve_config_path(cli.config.as_deref()) {
            Some(path) => {
                println!("{}", path.display());
                ExitCode::SUCCESS
            }
            None => no_config_dir(),
        },
        Some(Command::Store(command)) => with_config(cli.config.as_deref(), |config| store(command, &config)),
        Some(Command::Check(args)) => with_config(cli.config.as_deref(), |c| health::cli::run(c, args, &global)),
        Some(Command::Alerts(args)) => {
            with_config(cli.config.as_deref(), |c| firstwatch::engine::alerts_cli::run(c, args, &global))
        }
        Some(Command::Logs(args)) => with_config(cli.config.as_deref(), |c| logs::cli::run(c, args, &global)),
        // `schedule next EXPR` evaluates an expression, so it works before any config exists.
        Some(Command::Schedule(args))
            if args.config_optional()
                && config::resolve_config_path(cli.config.as_deref()).is_none_or(|path| !path.exists()) =>
        {
            schedule::cli::run(Config::default(), args, &global)
        }
        Some(Command::Schedule(args)) => with_config(cli.config.as_deref(), |c| schedule::cli::run(c, args, &global)),
        Some(Command::Backups(args)) => with_config(cli.config.as_deref(), |c| backup::cli::run(c, args, &global)),
        // Like nvidia-smi, `firstwatch gpu` works on a host that has no config yet.
        Some(Command::Gpu(args))
            if cli.config.is_none() && config::resolve_config_path(None).is_none_or(|path| !path.exists()) =>
        {
            gpu::cli::run(Config::default(), args, &global)
        }
        Some(Command::Gpu(args)) => with_config(cli.config.as_deref(), |c| gpu::cli::run(c, args, &global)),
        Some(Command::Incident(args)) => with_config(cli.config.as_deref(), |c| incident::cli::run(c, args, &global)),
        Some(Command::Silence(args)) => {
            with_config(cli.config.as_deref(), |c| firstwatch::silence::cli::run(c, args, &global))
        }
        Some(Command::Action(args)) => with_config(cli.config.as_deref(), |c| action::cli::run(c, args, &global)),
        Some(Command::Runbook(args)) => {
            with_config(cli.config.as_deref(), |c| incident::cli::run_runbook(c, args, &global))
        }
        Some(Command::Ops(args)) => with_config(cli.config.as_deref(), |c| firstwatch::ops::cli::run(c, args, &global)),
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "firstwatch", &mut script);
            print_generated(&script, "completion script")
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                Ok(()) => print_generated(&page, "man page"),
                Err(err) => {
                    eprintln!("firstwatch: cannot render the man page: {err}");
                    ExitCode::from(1)
                }
            }
        }
        Some(Command::Supervise) => firstwatch::ops::supervisor::main(),
        Some(Command::Audit(args)) => with_config(cli.config.as_deref(), |c| action::audit_cli::run(c, args, &global)),
    }
}

/// Loads the config or reports every problem with file:line:col and exits 2.
fn with_config(explicit: Option<&Path>, then: impl FnOnce(Config) -> ExitCode) -> ExitCode {
    let Some(path) = config::resolve_config_path(explicit) else { return no_config_dir() };
    match config::load(&path) {
        Ok(config) => then(config),
        Err(err @ ConfigError::Invalid(_)) => {
            eprintln!("{err}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("firstwatch: {err}");
            ExitCode::from(2)
        }
    }
}

/// Writes a generated file to stdout; a reader that left early (`| head`) is a normal end.
fn print_generated(bytes: &[u8], what: &str) -> ExitCode {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("firstwatch: cannot write the {what}: {err}");
            ExitCode::from(1)
        }
    }
}

fn no_config_dir() -> ExitCode {
    eprintln!("firstwatch: no home directory to look for a config in; pass --config PATH");
    ExitCode::from(2)
}

fn init(path: Option<PathBuf>, force: bool) -> ExitCode {
    let Some(path) = path.or_else(config::default_config_path) else { return no_config_dir() };
    if path.exists() && !force {
        eprintln!("firstwatch: {} already exists; pass --force to overwrite it", path.display());
        return ExitCode::from(1);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(err) = std::fs::create_dir_all(parent)
    {
        eprintln!("firstwatch: cannot create {}: {err}", parent.display());
        return ExitCode::from(1);
    }
    match std::fs::write(&path, config::STARTER_CONFIG) {
        Ok(()) => {
            println!("wrote {}", path.display());
            println!("edit it, then run `firstwatch config check --config {}`", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("firstwatch: cannot write {}: {err}", path.display());
            ExitCode::from(1)
        }
    }
}

fn config_summary(config: Config, theme_flag: Option<&str>) -> ExitCode {
    if let Err(problems) = firstwatch::app::console_settings(&config, theme_flag) {
        for problem in &problems {
            eprintln!("{problem}");
        }
        return ExitCode::from(2);
    }
    let path = config.path.as_deref().map(|p| p.display().to_string()).unwrap_or_default();
    println!("{path}: ok");
    println!("  theme {}, times in {}", config.settings.theme.get_ref(), config.settings.timezone.get_ref());
    let count = |n: usize, what: &str| println!("  {n:>3} {what}{}", if n == 1 { "" } else { "s" });
    count(config.checks.len(), "check");
    count(config.tasks.len(), "task");
    count(config.windows.len(), "maintenance window");
    count(config.logs.len(), "log");
    count(config.backups.len(), "backup set");
    count(config.actions.len(), "action");
    count(config.runbooks.len(), "runbook");
    ExitCode::SUCCESS
}

fn store(command: StoreCommand, config: &Config) -> ExitCode {
    let dir = match &config.settings.data_dir {
        Some(dir) => config.resolve(dir),
        None => match firstwatch::store::default_data_dir() {
            Some(dir) => dir,
            None => return no_config_dir(),
        },
    };
    let path = dir.join(firstwatch::store::STORE_FILE);
    match command {
        StoreCommand::Path => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        StoreCommand::MoveAside => match firstwatch::store::move_aside(&path) {
            Ok(aside) => {
                println!("moved {} to {}", path.display(), aside.display());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("firstwatch: cannot move {} aside: {err}", path.display());
                ExitCode::from(1)
            }
        },
    }
}
