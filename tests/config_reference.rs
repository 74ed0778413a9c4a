//! The README's configuration reference names exactly the keys the loader accepts.
//!
//! The loader's keys are read from the loader itself: every section denies unknown
//! fields, and its error lists the fields it expected. So a key added to the code
//! without a line in the README (or a README line for a key that is gone) fails here.

use std::collections::BTreeSet;
use std::path::Path;

/// Each config section, and a TOML snippet that puts an unknown key into it.
const SECTIONS: &[(&str, &str)] = &[
    ("top level", "zz_unknown = 1\n"),
    ("[settings]", "[settings]\nzz_unknown = 1\n"),
    ("[[check]]", "[[check]]\nzz_unknown = 1\n"),
    ("[[task]]", "[[task]]\nzz_unknown = 1\n"),
    ("[[window]]", "[[window]]\nzz_unknown = 1\n"),
    ("[[log]]", "[[log]]\nzz_unknown = 1\n"),
    ("[[log.highlight]]", "[[log]]\nname = \"a\"\npath = \"a.log\"\n[[log.highlight]]\nzz_unknown = 1\n"),
    ("[[backup]]", "[[backup]]\nzz_unknown = 1\n"),
    ("[[action]]", "[[action]]\nzz_unknown = 1\n"),
    ("[[runbook]]", "[[runbook]]\nzz_unknown = 1\n"),
    ("[gpu]", "[gpu]\nzz_unknown = 1\n"),
    ("[[engine]]", "[[engine]]\nzz_unknown = 1\n"),
];

/// The keys the loader accepts in one section, from its "unknown field" error.
fn loader_keys(section: &str, snippet: &str) -> BTreeSet<String> {
    let err = firstwatch::config::load_str(snippet, Path::new("reference.toml"))
        .expect_err("an unknown key must be refused")
        .to_string();
    let expected = err
        .split_once("expected one of ")
        .or_else(|| err.split_once("expected "))
        .unwrap_or_else(|| panic!("{section}: no list of expected keys in: {err}"))
        .1;
    let expected = expected.lines().next().unwrap_or_default();
    let keys: BTreeSet<String> = expected.split('`').skip(1).step_by(2).map(str::to_string).collect();
    assert!(!keys.is_empty(), "{section}: no keys parsed from: {err}");
    keys
}

/// The keys the README's reference documents for one section: the first column of
/// the table under the `#### SECTION` heading of "## Configuration reference".
fn readme_keys(readme: &str, section: &str) -> BTreeSet<String> {
    let reference =
        readme.split_once("## Configuration reference").expect("README has a \"## Configuration reference\" section").1;
    let reference = reference.split("\n## ").next().unwrap_or(reference);
    let heading = format!("#### `{section}`");
    let body =
        reference.split_once(&heading).unwrap_or_else(|| panic!("README's reference has no heading {heading}")).1;
    let body = body.split("\n#### ").next().unwrap_or(body);
    body.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(key, _)| key.to_string())
        .collect()
}

#[test]
fn readme_reference_lists_every_key_the_loader_accepts_and_no_other() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut drift = Vec::new();
    for (section, snippet) in SECTIONS {
        let code = loader_keys(section, snippet);
        let documented = readme_keys(&readme, section);
        let missing: Vec<_> = code.difference(&documented).collect();
        let stale: Vec<_> = documented.difference(&code).collect();
        if !missing.is_empty() {
            drift.push(format!("{section}: accepted but not in the README: {missing:?}"));
        }
        if !stale.is_empty() {
            drift.push(format!("{section}: in the README but not accepted: {stale:?}"));
        }
    }
    assert!(drift.is_empty(), "config reference drift:\n{}", drift.join("\n"));
}

#[test]
fn the_key_list_is_read_from_the_loader_not_assumed() {
    // A guard on the reading itself: well-known keys must be in the parsed lists.
    let check = loader_keys("[[check]]", "[[check]]\nzz_unknown = 1\n");
    assert!(check.contains("http") && check.contains("depends_on"), "{check:?}");
    let settings = loader_keys("[settings]", "[settings]\nzz_unknown = 1\n");
    assert!(settings.contains("timezone"), "{settings:?}");
}
