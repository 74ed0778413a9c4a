//! The one way to get permission to run an action: the operator typed the
//! confirmation word. [`Confirmed`] can only be made here, so no code path
//! can run an action without passing through [`check`].

use super::spec::{ActionSpec, Risk};

/// Proof that an operator confirmed `spec` (or a dry run of it).
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmed {
    spec: ActionSpec,
    dry_run: bool,
}

impl Confirmed {
    pub fn spec(&self) -> &ActionSpec {
        &self.spec
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// The token for `spec` when it is `first`'s declared `on_failed_verify`.
    ///
    /// Only a confirmed action's declared follow-up can be minted from it: the
    /// operator saw the follow-up named in the confirmation of `first` (the
    /// console dialog and the CLI prompt both show it), so that one
    /// confirmation covers both. Any other action gets `None`.
    pub fn follow_up(first: &Confirmed, spec: &ActionSpec) -> Option<Confirmed> {
        (first.spec.on_failed_verify.as_deref() == Some(spec.name.as_str()))
            .then(|| Confirmed { spec: spec.clone(), dry_run: first.dry_run })
    }
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
}

/// Checks what the operator typed against the action's confirmation word.
///
/// High risk needs the target's exact name; low risk accepts `y` or `yes`.
/// Surrounding blanks are forgiven, case is not: `orders` is not `Orders`.
pub fn check(spec: &ActionSpec, typed: &str, dry_run: bool, read_only: bool) -> Result<Confirmed, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    let typed = typed.trim();
    let matches = match spec.risk {
        Risk::High => typed == spec.target,
        Risk::Low => typed.eq_ignore_ascii_case("y") || typed.eq_ignore_ascii_case("yes"),
    };
    if matches {
        Ok(Confirmed { spec: spec.clone(), dry_run })
    } else {
        Err(Refusal::Mismatch {
            typed: crate::util::sanitize::sanitize_str(typed),
            expected: spec.confirmation_word().to_string(),
        })
    }
}

/// For a script that said `--yes`: the flag is its explicit confirmation.
pub fn by_flag(spec: &ActionSpec, dry_run: bool, read_only: bool) -> Result<Confirmed, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    Ok(Confirmed { spec: spec.clone(), dry_run })
}

/// The token a supervisor holds for the job its front end handed it. A job can
/// only be built from a [`Confirmed`] (see `ops::Job`), so this re-creates, in the
/// supervisor's process, a permission the operator already gave.
pub(crate) fn relayed(spec: &ActionSpec) -> Confirmed {
    Confirmed { spec: spec.clone(), dry_run: false }
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

    #[test]
    fn high_risk_needs_the_exact_target() {
        assert!(check(&spec(Risk::High), "orders", false, false).is_ok());
        assert!(check(&spec(Risk::High), " orders ", false, false).is_ok());
        for wrong in ["", "y", "yes", "Orders", "order", "orders!"] {
            let refused = check(&spec(Risk::High), wrong, false, false).unwrap_err();
            assert!(matches!(refused, Refusal::Mismatch { .. }), "{wrong}");
        }
    }

    #[test]
    fn low_risk_takes_y_and_read_only_refuses_everything() {
        assert!(check(&spec(Risk::Low), "y", false, false).is_ok());
        assert!(check(&spec(Risk::Low), "n", false, false).is_err());
        assert_eq!(check(&spec(Risk::High), "orders", false, true).unwrap_err(), Refusal::ReadOnly);
        assert_eq!(by_flag(&spec(Risk::High), false, true).unwrap_err(), Refusal::ReadOnly);
    }

    #[test]
    fn only_the_declared_follow_up_can_be_minted_from_a_confirmation() {
        let mut first = spec(Risk::High);
        let mut rollback = spec(Risk::High);
        rollback.name = "roll back orders".into();
        let mut other = spec(Risk::Low);
        other.name = "wipe orders".into();
        let plain = check(&first, "orders", false, false).unwrap();
        assert!(Confirmed::follow_up(&plain, &rollback).is_none(), "nothing declared, nothing minted");

        first.on_failed_verify = Some("roll back orders".into());
        let confirmed = check(&first, "orders", false, false).unwrap();
        let minted = Confirmed::follow_up(&confirmed, &rollback).expect("the declared follow-up");
        assert_eq!(minted.spec(), &rollback);
        assert!(!minted.dry_run());
        assert!(Confirmed::follow_up(&confirmed, &other).is_none(), "an undeclared action is refused");
        let dry = check(&first, "orders", true, false).unwrap();
        assert!(Confirmed::follow_up(&dry, &rollback).unwrap().dry_run(), "a dry run's follow-up is a dry run");
    }
}
