//! The demo's incident files: the runbook its config points at, and what
//! its redeploy and rollback actions need to find in the scratch folder.

use std::path::Path;

const RUNBOOK: &str = "# Orders checkout failing

The demo's orders service answers 500 since release 2.4.1 went out.

## Triage (0-5 min)
- [ ] Take the page and tell the team you have it
- [ ] Set the severity {severity}
  Checkout is down for everyone: that is a P1 at least.
- [ ] Look at the failing check {check: orders}

## Mitigate (5-15 min)
- [ ] Redeploy orders {action: redeploy orders}
  Runs the deploy again; the check should turn green within seconds.
- [ ] If it is still failing, roll back to 2.4.0 {action: roll back orders}
- [ ] Confirm checkout works again {check: orders}

## Wrap up (15-30 min)
- [ ] Write down what happened {note}
- [ ] Export the post-mortem draft (X)
";

/// Writes the runbook and makes sure the folders and release files the actions use exist.
pub fn write_files(dir: &Path) -> std::io::Result<()> {
    for sub in ["runbooks", "state", "releases"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    std::fs::write(dir.join("runbooks/orders-down.md"), RUNBOOK)?;
    let previous = dir.join("releases/2.4.0.txt");
    if !previous.exists() {
        std::fs::write(previous, "release 2.4.0 (previous, known good)\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_runbook_parses_and_links_the_demo_actions() {
        let runbook = crate::incident::runbook::parse("orders-down.md", super::RUNBOOK).unwrap();
        let actions: Vec<_> = runbook
            .steps()
            .filter_map(|(_, _, step)| match &step.kind {
                crate::incident::runbook::StepKind::Action(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(actions, ["redeploy orders", "roll back orders"]);
    }
}
