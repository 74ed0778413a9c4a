//! How `backups restore|prune|create` are confirmed on the command line. Every
//! answer goes through `ops::confirm`, the one place that grants permission:
//! restore and prune need the set's name (`--confirm SET`, `--yes`, or typed at
//! the prompt); a new backup, which only adds a file, needs `y` at a terminal,
//! and a script's `backups create SET` is its own confirmation.

use crate::ops::confirm::{self, Confirmable, Confirmed, NewBackup};
use crate::util::sanitize::sanitize_str;
use std::io::IsTerminal;

/// Why an operation was not confirmed: refused (audited as `*-refused`) or
/// cancelled by the operator at the prompt.
pub(super) enum NotConfirmed {
    Refused(String),
    Cancelled(String),
}

/// `--confirm SET`, `--yes`, or the set's name typed at the terminal.
pub(super) fn by_set_name<T: Confirmable>(
    what: &T,
    typed: Option<&str>,
    yes: bool,
    set: &str,
) -> Result<Confirmed<T>, NotConfirmed> {
    if let Some(typed) = typed {
        return confirm::check(what, typed, false).map_err(|_| {
            NotConfirmed::Refused(format!("--confirm `{}` does not match the set name `{set}`", sanitize_str(typed)))
        });
    }
    if yes {
        return confirm::by_flag(what, false).map_err(|refusal| NotConfirmed::Refused(refusal.to_string()));
    }
    if !std::io::stdin().is_terminal() {
        return Err(NotConfirmed::Refused("no confirmation: pass --confirm SET (stdin is not a terminal)".into()));
    }
    match crate::util::prompt::ask(&format!("type the set name `{set}` to confirm: ")) {
        Ok(Some(line)) => confirm::check(what, &line, false)
            .map_err(|_| NotConfirmed::Cancelled("the typed name did not match".into())),
        Ok(None) => Err(NotConfirmed::Cancelled("could not read the confirmation".into())),
        Err(why) => Err(NotConfirmed::Refused(why)),
    }
}

/// `--yes`, `y` at a terminal, or (no terminal) the command itself: a new backup is low risk.
pub(super) fn new_backup(what: &NewBackup, yes: bool) -> Result<Confirmed<NewBackup>, NotConfirmed> {
    let refused = |refusal: confirm::Refusal| NotConfirmed::Refused(refusal.to_string());
    if yes {
        return confirm::by_flag(what, false).map_err(refused);
    }
    if !std::io::stdin().is_terminal() {
        return confirm::by_command(what, false).map_err(refused);
    }
    match crate::util::prompt::ask(&format!("back up `{}` now? [y/N] ", what.set)) {
        Ok(Some(line)) => confirm::check(what, &line, false)
            .map_err(|_| NotConfirmed::Cancelled("not confirmed at the prompt".into())),
        Ok(None) => Err(NotConfirmed::Cancelled("could not read the confirmation".into())),
        Err(why) => Err(NotConfirmed::Refused(why)),
    }
}
