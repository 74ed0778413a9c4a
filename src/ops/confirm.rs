//! The one way to permission for an operation that changes the world.
//!
//! Every operation (an action run, a restore, a prune, a new backup, a task
//! run now, a silence created or expired) needs a [`Confirmed`] token, and a
//! [`Job`](super::Job) can only be built from one. This module alone can make
//! a token, and only when the operator said yes the way the operation asks:
//!
//! - high risk: the name typed exactly (the target, the set, the engine, the
//!   silence's id), at a prompt, in a dialog, or as `--confirm NAME`;
//! - low risk (a task run now, a new backup, a low-risk action): `y` or `yes`;
//! - `--yes` from a script, for either;
//! - for a low-risk operation only, the command itself ([`by_command`]): a
//!   script that runs `backups create` asked for exactly that;
//! - in the console, stopping a running operation: the same key pressed a
//!   second time after the question was shown ([`by_second_press`]).
//!
//! A read-only session is refused whatever was typed. A supervisor rebuilds the
//! token its front end confirmed from the job it was handed ([`relayed`]).

use crate::action::{ActionSpec, Risk};
use crate::backup::restore::Plan;
use crate::silence::plan::{Batch, Expiry};
use std::path::PathBuf;

/// Proof that an operator confirmed `what` (or a dry run of it).
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmed<T> {
    what: T,
    dry_run: bool,
}

impl<T> Confirmed<T> {
    /// What was confirmed, exactly as the operator was shown it.
    pub fn what(&self) -> &T {
        &self.what
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// The same permission for a dry run only: it changes nothing, so any token may become one
    /// (never the other way round).
    pub fn dry(self) -> Self {
        Confirmed { dry_run: true, ..self }
    }

    /// [`dry`](Self::dry) when the operator asked for a dry run.
    pub fn dry_if(self, dry_run: bool) -> Self {
        if dry_run { self.dry() } else { self }
    }
}

/// What the operator types to confirm an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    /// High risk: this name, exactly (surrounding blanks forgiven, case not: `orders` is not `Orders`).
    Name(String),
    /// High risk, named by an id: the short form shown, or the whole id.
    Id { short: String, full: String },
    /// Low risk: `y` or `yes`, in any case.
    Yes,
}

impl Word {
    /// Whether `typed` is this word (what [`check`] grants on); a dialog may show it as it is typed.
    pub fn accepts(&self, typed: &str) -> bool {
        let typed = typed.trim();
        match self {
            Word::Name(name) => typed == name,
            Word::Id { short, full } => typed == short || typed == full,
            Word::Yes => typed.eq_ignore_ascii_case("y") || typed.eq_ignore_ascii_case("yes"),
        }
    }

    /// The word the operator is asked for.
    pub fn expected(&self) -> &str {
        match self {
            Word::Name(name) => name,
            Word::Id { short, .. } => short,
            Word::Yes => "y",
        }
    }

    pub fn is_low_risk(&self) -> bool {
        *self == Word::Yes
    }
}

/// Anything an operator confirms: it says what must be typed for it.
pub trait Confirmable: Clone {
    fn word(&self) -> Word;
}

/// Why a confirmation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("read-only session: actions are disabled (--read-only or settings.read_only)")]
    ReadOnly,
    #[error("confirmation did not match: typed `{typed}`, expected `{expected}`")]
    Mismatch { typed: String, expected: String },
    #[error("not confirmed: stdin is not a terminal; pass --yes or --confirm TARGET")]
    NoTerminal,
    /// Only a low-risk operation is confirmed by the command that asks for it.
    #[error("not confirmed: this needs `{expected}` typed, --confirm or --yes")]
    NeedsWord { expected: String },
}

/// Checks what the operator typed against what `what` requires.
pub fn check<T: Confirmable>(what: &T, typed: &str, read_only: bool) -> Result<Confirmed<T>, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    let word = what.word();
    let typed = typed.trim();
    if word.accepts(typed) {
        Ok(Confirmed { what: what.clone(), dry_run: false })
    } else {
        Err(Refusal::Mismatch { typed: crate::util::sanitize::sanitize_str(typed), expected: word.expected().into() })
    }
}

/// For a script that said `--yes`: the flag is its explicit confirmation.
pub fn by_flag<T: Confirmable>(what: &T, read_only: bool) -> Result<Confirmed<T>, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    Ok(Confirmed { what: what.clone(), dry_run: false })
}

/// For a low-risk operation run without a terminal: the command that names it
/// (`firstwatch backups create SET`) is the confirmation. A high-risk one is refused.
pub fn by_command<T: Confirmable>(what: &T, read_only: bool) -> Result<Confirmed<T>, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    let word = what.word();
    if !word.is_low_risk() {
        return Err(Refusal::NeedsWord { expected: word.expected().into() });
    }
    Ok(Confirmed { what: what.clone(), dry_run: false })
}

/// For the console's stop key: pressed once it asks ("press c again to cancel
/// ..."), pressed again it confirms. Only a cancel is confirmed this way: it
/// stops something, and the question named what.
pub fn by_second_press(what: &Cancel, asked: bool, read_only: bool) -> Result<Confirmed<Cancel>, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    if !asked {
        return Err(Refusal::NeedsWord { expected: "the same key again".into() });
    }
    Ok(Confirmed { what: what.clone(), dry_run: false })
}

/// A dry run changes nothing, so it needs no word; a read-only session still refuses it
/// (it would write audit rows as though it could act).
pub fn dry_run<T: Confirmable>(what: &T, read_only: bool) -> Result<Confirmed<T>, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    Ok(Confirmed { what: what.clone(), dry_run: true })
}

/// The token for `spec` when it is `first`'s declared `on_failed_verify`.
///
/// Only a confirmed action's declared follow-up can be minted from it: the
/// operator saw the follow-up named in the confirmation of `first` (the console
/// dialog and the CLI prompt both show it), so that one confirmation covers
/// both. Any other action gets `None`.
pub fn follow_up(first: &Confirmed<ActionSpec>, spec: &ActionSpec) -> Option<Confirmed<ActionSpec>> {
    (first.what.on_failed_verify.as_deref() == Some(spec.name.as_str()))
        .then(|| Confirmed { what: spec.clone(), dry_run: first.dry_run })
}

/// The token a supervisor holds for the job its front end handed it. A job can
/// only be built from a [`Confirmed`] (see [`Job`](super::Job)), so this
/// re-creates, in the supervisor's process, a permission the operator already gave.
/// Nothing outside the supervisor may call it.
pub(in crate::ops) fn relayed<T: Clone>(what: &T) -> Confirmed<T> {
    Confirmed { what: what.clone(), dry_run: false }
}

/// A prune of exactly these backups of `set`, those the operator was shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Prune {
    pub set: String,
    pub backups: Vec<PathBuf>,
}

/// A new backup of `set`'s source.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBackup {
    pub set: String,
}

/// Stopping operation `id` before its end (SIGTERM to its supervisor).
#[derive(Debug, Clone, PartialEq)]
pub struct Cancel {
    pub id: i64,
}

/// A scheduled task run now, outside its schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRun {
    pub task: String,
}

impl Confirmable for ActionSpec {
    fn word(&self) -> Word {
        match self.risk {
            Risk::High => Word::Name(self.target.clone()),
            Risk::Low => Word::Yes,
        }
    }
}

/// A restore replaces a target: the set's name.
impl Confirmable for Plan {
    fn word(&self) -> Word {
        Word::Name(self.set.clone())
    }
}

/// A prune deletes backups: the set's name.
impl Confirmable for Prune {
    fn word(&self) -> Word {
        Word::Name(self.set.clone())
    }
}

/// A new backup only adds a file beside the others.
impl Confirmable for NewBackup {
    fn word(&self) -> Word {
        Word::Yes
    }
}

/// A cancel may leave a deploy half-done: the operation's id.
impl Confirmable for Cancel {
    fn word(&self) -> Word {
        Word::Name(self.id.to_string())
    }
}

/// A task runs what the schedule runs anyway.
impl Confirmable for TaskRun {
    fn word(&self) -> Word {
        Word::Yes
    }
}

/// Silences hide alerts: the engine's name.
impl Confirmable for Batch {
    fn word(&self) -> Word {
        Word::Name(self.engine().to_string())
    }
}

/// Expiring a silence: its id, whole or its first 8 characters.
impl Confirmable for Expiry {
    fn word(&self) -> Word {
        Word::Id { short: self.short_id().to_string(), full: self.id.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn spec(risk: Risk) -> ActionSpec {
        ActionSpec {
            name: "redeploy orders".into(),
            kind: "redeploy",
            target: "orders".into(),
            argv: vec!["true".into()],
            dir: ".".into(),
            env: Default::default(),
            timeout: Duration::from_secs(5),
            verify: vec![],
            watch: Duration::ZERO,
            risk,
            rollback_with: None,
            on_failed_verify: None,
            backup: None,
            allow_dash: Vec::new(),
            notify: None,
        }
    }

    fn prune() -> Prune {
        Prune { set: "app db".into(), backups: vec!["/b/1.gz".into()] }
    }

    #[test]
    fn high_risk_needs_the_exact_name() {
        assert!(check(&spec(Risk::High), "orders", false).is_ok());
        assert!(check(&spec(Risk::High), " orders ", false).is_ok());
        for wrong in ["", "y", "yes", "Orders", "order", "orders!"] {
            let refused = check(&spec(Risk::High), wrong, false).unwrap_err();
            assert!(matches!(refused, Refusal::Mismatch { .. }), "{wrong}");
        }
        assert!(check(&prune(), "app db", false).is_ok());
        for wrong in ["y", "yes", "app", "App db", "app  db"] {
            assert!(matches!(check(&prune(), wrong, false), Err(Refusal::Mismatch { .. })), "{wrong}");
        }
    }

    #[test]
    fn low_risk_takes_y_or_yes_and_nothing_else() {
        let task = TaskRun { task: "health sweep".into() };
        for yes in ["y", "Y", "yes", " YES "] {
            assert!(check(&task, yes, false).is_ok(), "{yes}");
            assert!(check(&NewBackup { set: "app db".into() }, yes, false).is_ok(), "{yes}");
        }
        for no in ["", "n", "no", "health sweep", "yy"] {
            assert_eq!(
                check(&task, no, false).unwrap_err(),
                Refusal::Mismatch { typed: no.trim().into(), expected: "y".into() }
            );
        }
        assert!(check(&spec(Risk::Low), "y", false).is_ok());
    }

    #[test]
    fn read_only_refuses_every_road() {
        assert_eq!(check(&spec(Risk::High), "orders", true).unwrap_err(), Refusal::ReadOnly);
        assert_eq!(by_flag(&prune(), true).unwrap_err(), Refusal::ReadOnly);
        assert_eq!(by_command(&NewBackup { set: "s".into() }, true).unwrap_err(), Refusal::ReadOnly);
        assert_eq!(dry_run(&spec(Risk::High), true).unwrap_err(), Refusal::ReadOnly);
    }

    #[test]
    fn only_a_low_risk_operation_is_confirmed_by_its_command() {
        let made = by_command(&NewBackup { set: "app db".into() }, false).unwrap();
        assert_eq!(made.what().set, "app db");
        assert!(!made.dry_run());
        assert!(by_command(&TaskRun { task: "t".into() }, false).is_ok());
        assert_eq!(by_command(&prune(), false).unwrap_err(), Refusal::NeedsWord { expected: "app db".into() });
        assert!(matches!(by_command(&spec(Risk::High), false), Err(Refusal::NeedsWord { .. })));
        assert!(by_command(&spec(Risk::Low), false).is_ok());
    }

    #[test]
    fn a_token_becomes_a_dry_run_and_never_back() {
        let real = by_flag(&spec(Risk::High), false).unwrap();
        assert!(!real.dry_run());
        assert!(!real.clone().dry_if(false).dry_run());
        let dry = real.dry();
        assert!(dry.dry_run());
        assert!(dry.clone().dry_if(false).dry_run(), "asking for a real run does not undo a dry one");
        assert!(dry_run(&spec(Risk::High), false).unwrap().dry_run());
    }

    #[test]
    fn only_the_declared_follow_up_can_be_minted_from_a_confirmation() {
        let mut first = spec(Risk::High);
        let mut rollback = spec(Risk::High);
        rollback.name = "roll back orders".into();
        let mut other = spec(Risk::Low);
        other.name = "wipe orders".into();
        let plain = check(&first, "orders", false).unwrap();
        assert!(follow_up(&plain, &rollback).is_none(), "nothing declared, nothing minted");

        first.on_failed_verify = Some("roll back orders".into());
        let confirmed = check(&first, "orders", false).unwrap();
        let minted = follow_up(&confirmed, &rollback).expect("the declared follow-up");
        assert_eq!(minted.what(), &rollback);
        assert!(!minted.dry_run());
        assert!(follow_up(&confirmed, &other).is_none(), "an undeclared action is refused");
        let dry = check(&first, "orders", false).unwrap().dry();
        assert!(follow_up(&dry, &rollback).unwrap().dry_run(), "a dry run's follow-up is a dry run");
    }

    fn batch() -> Batch {
        let now = chrono::Utc::now();
        let draft = crate::silence::plan::Draft {
            engine: "am".into(),
            matchers: vec![crate::engine::matcher::Matcher::parse("alertname=\"A\"").unwrap()],
            starts_at: None,
            duration: std::time::Duration::from_secs(60),
            comment: "why".into(),
            force: false,
        };
        draft.preview(Ok(&[]), now).checked("a@b", now).unwrap()
    }

    #[test]
    fn creating_silences_needs_the_engine_name_and_expiring_one_its_id() {
        assert!(check(&batch(), " am ", false).is_ok());
        for wrong in ["", "y", "yes", "AM", "am2"] {
            assert!(matches!(check(&batch(), wrong, false), Err(Refusal::Mismatch { .. })), "{wrong}");
        }
        assert_eq!(check(&batch(), "am", true).unwrap_err(), Refusal::ReadOnly);
        assert_eq!(by_flag(&batch(), true).unwrap_err(), Refusal::ReadOnly);

        let expiry = Expiry { engine: "am".into(), id: "0f9e11aa-2b3c-4d5e".into(), summary: String::new() };
        assert!(check(&expiry, "0f9e11aa", false).is_ok());
        assert!(check(&expiry, "0f9e11aa-2b3c-4d5e", false).is_ok());
        for wrong in ["0f9e11a", "0f9e", "y", "am"] {
            assert!(check(&expiry, wrong, false).is_err(), "{wrong}");
        }
        assert_eq!(by_flag(&expiry, true).unwrap_err(), Refusal::ReadOnly);
    }

    #[test]
    fn a_cancel_takes_the_operation_id_or_a_second_press_in_the_console() {
        let cancel = Cancel { id: 12 };
        assert!(check(&cancel, "12", false).is_ok());
        assert!(matches!(check(&cancel, "1", false), Err(Refusal::Mismatch { .. })));
        assert!(by_command(&cancel, false).is_err(), "the command alone does not stop an operation");
        assert!(by_second_press(&cancel, false, false).is_err(), "the first press only asks");
        assert_eq!(by_second_press(&cancel, true, false).unwrap().what(), &cancel);
        assert_eq!(by_second_press(&cancel, true, true), Err(Refusal::ReadOnly));
    }
}
